//! The repository lock: one process at a time changes a hotfix. A lock whose process is gone is
//! taken over (with a warning); a live one is a refusal naming the holder.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Held while a step that changes something runs; released on drop.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    /// Set when a stale lock of a dead process was taken over.
    pub took_over_from: Option<u32>,
}

fn alive(pid: u32) -> bool {
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid as i32, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

impl Lock {
    pub fn acquire(path: &Path, what: &str) -> Result<Lock> {
        let mut took_over_from = None;
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut f) => {
                    let body = format!("{}\n{what}\n", std::process::id());
                    f.write_all(body.as_bytes())?;
                    return Ok(Lock {
                        path: path.to_path_buf(),
                        took_over_from,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = fs::read_to_string(path).unwrap_or_default();
                    let mut lines = text.lines();
                    let pid: u32 = lines
                        .next()
                        .and_then(|l| l.trim().parse().ok())
                        .unwrap_or(0);
                    let holder = lines.next().unwrap_or("another hotfix command").to_string();
                    if pid != 0 && alive(pid) {
                        return Err(Error::precondition(format!(
                            "another hotfix command is running in this repository ({holder}, pid {pid})"
                        ))
                        .hint("wait for it to finish, then run your command again"));
                    }
                    // Stale: its process is gone. Take it over.
                    let _ = fs::remove_file(path);
                    took_over_from = Some(pid);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::precondition(
            "another hotfix command took the repository lock at the same moment",
        )
        .hint("run your command again"))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
