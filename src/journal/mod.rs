//! The memory that makes every command resumable: the state of the hotfix in progress, the
//! repository lock, and the append-only audit log, all under `<git-common-dir>/hotfix/`.
//!
//! State is written atomically (temp file + rename) after every step, so a kill at any instant
//! leaves either the old or the new state. The state is a cache of the truth on the remote; the
//! audit log is never rewritten.

mod deploy;
mod lock;
mod state;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub use deploy::{DeployRecord, EnvRecord};
pub use lock::Lock;
pub use state::*;

use crate::error::{Error, Result};

/// The `hotfix/` directory of one repository.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
    dry_run: bool,
}

impl Journal {
    pub fn new(common_dir: &Path, dry_run: bool) -> Self {
        Journal {
            dir: common_dir.join("hotfix"),
            dry_run,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("log.jsonl")
    }

    /// The hotfix in progress, if any.
    pub fn load(&self) -> Result<Option<State>> {
        let path = self.state_path();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::internal(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            Error::internal(format!(
                "the hotfix state {} is unreadable: {e}",
                path.display()
            ))
            .hint("`hotfix abort` clears it; the remote still holds the branch, PR and tags")
        })
    }

    /// Writes the state atomically. Does nothing in dry-run mode.
    pub fn save(&self, state: &State) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        let text = serde_json::to_string_pretty(state)
            .map_err(|e| Error::internal(format!("cannot encode state: {e}")))?;
        write_atomic(&self.state_path(), text.as_bytes())
    }

    /// Removes the state (the hotfix is no longer in progress). The log stays.
    pub fn clear(&self) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        match fs::remove_file(self.state_path()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Moves the state and log of a finished (or abandoned) hotfix to `<kind>/<version>/`.
    pub fn archive(&self, kind: &str, version: &str) -> Result<PathBuf> {
        let mut dest = self.dir.join(kind).join(version);
        if self.dry_run {
            return Ok(dest);
        }
        let mut n = 1;
        while dest.exists() {
            n += 1;
            dest = self.dir.join(kind).join(format!("{version}.{n}"));
        }
        fs::create_dir_all(&dest)?;
        for name in ["state.json", "log.jsonl"] {
            let from = self.dir.join(name);
            if from.exists() {
                fs::rename(&from, dest.join(name))?;
            }
        }
        Ok(dest)
    }

    /// Appends one event to `log.jsonl` (one JSON object per line). Never rewrites it.
    pub fn log(&self, event: &Event) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        fs::create_dir_all(&self.dir)?;
        let mut line = serde_json::to_string(event)
            .map_err(|e| Error::internal(format!("cannot encode event: {e}")))?;
        line.push('\n');
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        f.write_all(line.as_bytes())?;
        Ok(())
    }

    /// Reads the events of the hotfix in progress.
    pub fn events(&self) -> Result<Vec<serde_json::Value>> {
        read_events(&self.log_path())
    }

    /// Takes the repository lock for a step that changes something.
    pub fn lock(&self, what: &str) -> Result<Option<Lock>> {
        if self.dry_run {
            return Ok(None);
        }
        fs::create_dir_all(&self.dir)?;
        Lock::acquire(&self.dir.join("lock"), what).map(Some)
    }
}

fn read_events(path: &Path) -> Result<Vec<serde_json::Value>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// Writes `bytes` to `path` so that readers see either the old or the new content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| Error::internal(format!("cannot write {}: {}", path.display(), e.error)))?;
    Ok(())
}

/// One line of the audit log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    pub time: String,
    pub run_id: String,
    pub step: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Event {
    pub fn new(state: &State, step: &str, outcome: &str) -> Self {
        Event {
            time: crate::ui::timestamp(),
            run_id: state.run_id.clone(),
            step: step.to_string(),
            outcome: outcome.to_string(),
            version: Some(state.version.clone()),
            details: serde_json::Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl serde::Serialize) -> Self {
        if let Ok(v) = serde_json::to_value(value) {
            self.details.insert(key.to_string(), v);
        }
        self
    }
}

/// The current time. Debug builds honour `HOTFIX_TEST_CLOCK_OFFSET` (seconds to add), so tests
/// can look hours ahead without waiting; release builds ignore it.
pub fn now() -> std::time::SystemTime {
    let now = std::time::SystemTime::now();
    if cfg!(debug_assertions)
        && let Some(secs) = std::env::var("HOTFIX_TEST_CLOCK_OFFSET")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
    {
        return now + std::time::Duration::from_secs(secs);
    }
    now
}

/// Test-only fault injection: when `HOTFIX_TEST_CRASH_AT` names this point, the process dies
/// at once (as with SIGKILL) so that resumption can be tested at every step boundary. Compiled
/// out of release builds.
pub fn crash_point(name: &str) {
    if cfg!(debug_assertions) && std::env::var("HOTFIX_TEST_CRASH_AT").is_ok_and(|v| v == name) {
        // SAFETY: raising a signal on our own process.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}
