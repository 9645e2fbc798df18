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

/// Replaces the values of the token variables in text the tool relays (a configured command
/// that printed a token it found elsewhere must not leak it through us).
pub fn scrub(text: &str) -> String {
    let mut out = text.to_string();
    for var in TOKEN_VARS {
        if let Ok(v) = std::env::var(var)
            && v.len() >= 8
        {
            out = out.replace(&v, "[token scrubbed]");
        }
    }
    out
}

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
    /// stdout and stderr together, trimmed, with any token scrubbed, for messages.
    pub fn text(&self) -> String {
        scrub(&self.raw_text())
    }

    fn raw_text(&self) -> String {
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
        run_git(cwd, args, (INTERNAL_ENV, "1"))
    }

    /// Runs a read-only `git` command, also in dry-run mode (it changes nothing).
    pub fn git_read(&self, cwd: &Path, args: &[&str]) -> Result<Output> {
        // A read never takes optional locks (no opportunistic index refresh): it changes
        // nothing, not even the index file's bytes.
        run_git(cwd, args, ("GIT_OPTIONAL_LOCKS", "0"))
    }

    /// Starts a read-only `git` command that reads its standard input as it comes: feed it
    /// with [`GitStream::feed`] while doing other work, then [`GitStream::finish`]. Its output
    /// is drained from another thread, so neither side can block the other.
    pub fn git_stream(&self, cwd: &Path, args: &[&str]) -> Result<GitStream> {
        let mut child = Command::new("git")
            .args(args)
            .current_dir(cwd)
            .env("GIT_OPTIONAL_LOCKS", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::step(format!("cannot run git: {e}")).hint("is git installed?"))?;
        let drain = |mut r: Box<dyn std::io::Read + Send>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = r.read_to_end(&mut buf);
                buf
            })
        };
        let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
        let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
        let mut stdin = child.stdin.take().expect("piped stdin");
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            for chunk in rx {
                if stdin.write_all(&chunk).is_err() {
                    break;
                }
            }
            // Dropping stdin here closes git's input.
        });
        Ok(GitStream {
            child,
            input: Some(tx),
            writer,
            stdout,
            stderr,
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

/// Spawns `git args…` in `cwd` with one extra environment variable, capturing its output.
fn run_git(cwd: &Path, args: &[&str], env: (&str, &str)) -> Result<Output> {
    let out = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .env(env.0, env.1)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::step(format!("cannot run git: {e}")).hint("is git installed?"))?;
    Ok(Output {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// A running `git` fed through its standard input (see [`Runner::git_stream`]). Input goes
/// through a writer thread, so feeding never waits for git to read it.
pub struct GitStream {
    child: std::process::Child,
    input: Option<std::sync::mpsc::Sender<Vec<u8>>>,
    writer: std::thread::JoinHandle<()>,
    stdout: std::thread::JoinHandle<Vec<u8>>,
    stderr: std::thread::JoinHandle<Vec<u8>>,
}

impl GitStream {
    /// Queues `input` for the command's standard input. If git stopped reading, the input is
    /// dropped; [`GitStream::finish`] reports why git stopped.
    pub fn feed(&mut self, input: Vec<u8>) {
        if let Some(tx) = &self.input
            && tx.send(input).is_err()
        {
            self.input = None;
        }
    }

    /// Closes the input and waits for the command's output.
    pub fn finish(mut self) -> Result<Output> {
        drop(self.input.take());
        let _ = self.writer.join();
        let status = self
            .child
            .wait()
            .map_err(|e| Error::step(format!("cannot run git: {e}")))?;
        let stdout = self.stdout.join().unwrap_or_default();
        let stderr = self.stderr.join().unwrap_or_default();
        Ok(Output {
            status: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
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

/// A configured command to run to completion with a time limit, its output in a log file.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub cmd: ConfiguredCommand,
    pub timeout: std::time::Duration,
    pub log: PathBuf,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum JobOutcome {
    Passed,
    Failed(i32),
    TimedOut,
    Signalled(i32),
    Interrupted,
    NotStarted(String),
}

impl JobOutcome {
    pub fn passed(&self) -> bool {
        *self == JobOutcome::Passed
    }
    pub fn describe(&self) -> String {
        match self {
            JobOutcome::Passed => "passed".into(),
            JobOutcome::Failed(c) => format!("failed (exit {c})"),
            JobOutcome::TimedOut => "timed out (killed)".into(),
            JobOutcome::Signalled(s) => format!("killed by signal {s}"),
            JobOutcome::Interrupted => "interrupted".into(),
            JobOutcome::NotStarted(why) => format!("not started: {why}"),
        }
    }
}

fn kill_group(pid: u32, signal: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: signalling the process group the child leads (it was spawned with
        // process_group(0), so its pgid is its pid).
        unsafe {
            libc::killpg(pid, signal);
        }
    }
}

impl Runner {
    /// Runs a job in its own process group, output (stdout and stderr) to its log file. At the
    /// timeout, or when `interrupt` is raised, the whole group is killed.
    pub fn run_job(&self, job: &Job, interrupt: &std::sync::atomic::AtomicBool) -> JobOutcome {
        use std::os::unix::process::ExitStatusExt;
        use std::sync::atomic::Ordering;
        if self.dry_run {
            self.ui.would(format!(
                "sh -c {:?}  (in {}, timeout {}, log {})",
                job.cmd.command,
                job.cmd.cwd.display(),
                humantime::format_duration(job.timeout),
                job.log.display()
            ));
            return JobOutcome::Passed;
        }
        let log = match std::fs::create_dir_all(job.log.parent().unwrap_or(Path::new(".")))
            .and_then(|_| std::fs::File::create(&job.log))
        {
            Ok(f) => f,
            Err(e) => {
                return JobOutcome::NotStarted(format!("cannot write {}: {e}", job.log.display()));
            }
        };
        let err = match log.try_clone() {
            Ok(f) => f,
            Err(e) => return JobOutcome::NotStarted(e.to_string()),
        };
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(&job.cmd.command)
            .current_dir(&job.cmd.cwd)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .process_group(0);
        if !job.cmd.pass_token {
            for v in TOKEN_VARS {
                c.env_remove(v);
            }
        }
        c.envs(job.cmd.env.iter().map(|(k, v)| (k, v)));
        let mut child = match c.spawn() {
            Ok(ch) => ch,
            Err(e) => return JobOutcome::NotStarted(e.to_string()),
        };
        let start = std::time::Instant::now();
        let pid = child.id();
        let mut stopping: Option<JobOutcome> = None;
        let mut poll = std::time::Duration::from_micros(500);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    // Whatever the leader did, leave no stragglers in its group.
                    kill_group(pid, libc::SIGKILL);
                    if let Some(o) = stopping {
                        return o;
                    }
                    return match (status.code(), status.signal()) {
                        (Some(0), _) => JobOutcome::Passed,
                        (Some(c), _) => JobOutcome::Failed(c),
                        (None, Some(s)) => JobOutcome::Signalled(s),
                        (None, None) => JobOutcome::Signalled(0),
                    };
                }
                Ok(None) => {}
                Err(e) => return JobOutcome::NotStarted(e.to_string()),
            }
            if stopping.is_none() {
                if start.elapsed() >= job.timeout {
                    kill_group(pid, libc::SIGKILL);
                    stopping = Some(JobOutcome::TimedOut);
                } else if interrupt.load(Ordering::SeqCst) {
                    kill_group(pid, libc::SIGTERM);
                    stopping = Some(JobOutcome::Interrupted);
                }
            } else if stopping == Some(JobOutcome::Interrupted) && start.elapsed() >= job.timeout {
                kill_group(pid, libc::SIGKILL);
            }
            // Quick commands are noticed quickly; long ones cost little polling.
            std::thread::sleep(poll);
            poll = (poll * 2).min(std::time::Duration::from_millis(20));
        }
    }
}

/// The process-wide interrupt flag, raised by SIGINT or SIGTERM once a long-running command
/// has asked for it. Commands check it between steps and stop starting new work.
pub fn interrupt_flag() -> &'static std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::{Arc, OnceLock, atomic::AtomicBool};
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
        }
        flag
    })
}

/// How many times SIGINT or SIGTERM arrived since the first call (the deploy engine tells a
/// first Ctrl-C, "finish what runs", from a second, "kill and roll back").
pub fn interrupt_count() -> &'static std::sync::atomic::AtomicUsize {
    use std::sync::OnceLock;
    use std::sync::atomic::AtomicUsize;
    static COUNT: OnceLock<&'static AtomicUsize> = OnceLock::new();
    COUNT.get_or_init(|| {
        let count: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
        // Also raise the plain flag, so code that only checks it stops too.
        let _ = interrupt_flag();
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // SAFETY: the action only increments an atomic, which is async-signal-safe.
            let _ = unsafe {
                signal_hook::low_level::register(sig, move || {
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                })
            };
        }
        count
    })
}
