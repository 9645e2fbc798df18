//! The single place that spawns processes: `git` for the operations that must behave exactly as
//! the user's git does (fetch, push, switch, cherry-pick: credentials, hooks, sparse checkouts),
//! and the team's configured commands (`sh -c`, values only in `HOTFIX_*` environment
//! variables). `--dry-run` is decided once, here: nothing is spawned, the command and its
//! environment are printed instead.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::ui::Ui;

/// Variables that carry the GitHub token; configured commands never see them unless the stage
/// says `pass_token = true`.
pub const TOKEN_VARS: [&str; 2] = ["GH_TOKEN", "GITHUB_TOKEN"];

/// Set on every git process the tool spawns, so that its own hooks can tell the tool's pushes
/// from a user's.
pub const INTERNAL_ENV: &str = "HOTFIX_INTERNAL";

/// What a finished process said.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }
    /// stdout and stderr together, trimmed, for error messages.
    pub fn text(&self) -> String {
        let mut s = self.stdout.trim_end().to_string();
        if !self.stderr.trim().is_empty() {
            if !s.is_empty() {
                s.push('\n');
            }
            s.push_str(self.stderr.trim_end());
        }
        s
    }
}

/// Spawns processes, or in dry-run mode says what it would spawn.
#[derive(Debug, Clone)]
pub struct Runner {
    pub dry_run: bool,
    pub ui: Ui,
}

impl Runner {
    pub fn new(dry_run: bool, ui: Ui) -> Self {
        Runner { dry_run, ui }
    }

    /// Runs `git args…` in `cwd`, capturing its output. In dry-run mode prints it and returns
    /// an empty success.
    pub fn git(&self, cwd: &Path, args: &[&str]) -> Result<Output> {
        let shown = format!("git {}", args.join(" "));
        if self.dry_run {
            self.ui.would(&shown);
            return Ok(Output {
                status: Some(0),
                stdout: String::new(),
                stderr: String::new(),
            });
        }
        self.ui.detail(format!("$ {shown}"));
        let out = Command::new("git")
            .args(args)
            .current_dir(cwd)
            .env(INTERNAL_ENV, "1")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::step(format!("cannot run git: {e}")).hint("is git installed?"))?;
        Ok(Output {
            status: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs a configured command with `sh -c` in `cwd`, in its own process group, with `env`
    /// added and the token variables removed (unless `pass_token`). Output is captured.
    pub fn configured(&self, cmd: &ConfiguredCommand) -> Result<Output> {
        if self.dry_run {
            let env: Vec<String> = cmd
                .env
                .iter()
                .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
                .collect();
            self.ui.would(format!(
                "sh -c {:?}  (in {}, env: {})",
                cmd.command,
                cmd.cwd.display(),
                if env.is_empty() {
                    "none".into()
                } else {
                    env.join(" ")
                }
            ));
            return Ok(Output {
                status: Some(0),
                stdout: String::new(),
                stderr: String::new(),
            });
        }
        self.ui.detail(format!("$ sh -c {:?}", cmd.command));
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(&cmd.command)
            .current_dir(&cmd.cwd)
            .stdin(Stdio::null())
            .process_group(0);
        if !cmd.pass_token {
            for v in TOKEN_VARS {
                c.env_remove(v);
            }
        }
        c.envs(cmd.env.iter().map(|(k, v)| (k, v)));
        let out = c
            .output()
            .map_err(|e| Error::step(format!("cannot run `{}`: {e}", cmd.command)))?;
        Ok(Output {
            status: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// A command from the configuration, with the values it may see.
#[derive(Debug, Clone)]
pub struct ConfiguredCommand {
    pub command: String,
    pub cwd: PathBuf,
    pub env: Vec<(OsString, OsString)>,
    pub pass_token: bool,
}
