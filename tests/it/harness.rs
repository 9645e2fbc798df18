//! The test environment: real repositories in a temp dir (a bare `origin` beside a working
//! clone), real `git`, the real `hotfix` binary, a cleared environment with a temp HOME and
//! pinned author/committer dates. Snapshots of the repository state let refusal tests assert
//! that nothing changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

pub const DATE: &str = "2026-01-01T00:00:00Z";

pub struct TestEnv {
    _dir: TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub origin: PathBuf,
    pub work: PathBuf,
    pub extra_env: Vec<(String, String)>,
}

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

pub fn hotfix_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hotfix"))
}

fn base_env(cmd: &mut Command, home: &Path) {
    // The binary under test comes first, so installed hooks find `hotfix`.
    let bin_dir = hotfix_bin().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    cmd.env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env("GIT_AUTHOR_DATE", DATE)
        .env("GIT_COMMITTER_DATE", DATE)
        .env("LANG", "C")
        .env("NO_COLOR", "1");
}

impl TestEnv {
    /// An empty `origin.git` (default branch `main`) and a clone of it in `work`.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let env = TestEnv {
            origin: root.join("origin.git"),
            work: root.join("work"),
            home,
            root,
            _dir: dir,
            extra_env: Vec::new(),
        };
        env.git_in(
            &env.root,
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        );
        env.git_in(&env.root, &["init", "-q", "-b", "main", "work"]);
        env.git(&["remote", "add", "origin", env.origin.to_str().unwrap()]);
        env
    }

    pub fn set_env(&mut self, k: &str, v: &str) {
        self.extra_env.push((k.to_string(), v.to_string()));
    }

    pub fn git_output(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new("git");
        base_env(&mut cmd, &self.home);
        cmd.args(args).current_dir(dir).output().expect("run git")
    }

    /// Runs git in `dir`; panics on failure; returns trimmed stdout.
    #[track_caller]
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_output(dir, args);
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.work, args)
    }

    pub fn write(&self, path: &str, content: &str) {
        let p = self.work.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// Writes a file and commits it; returns the new commit's sha.
    pub fn commit_file(&self, path: &str, content: &str, msg: &str) -> String {
        self.write(path, content);
        self.git(&["add", path]);
        self.git(&["commit", "-q", "-m", msg]);
        self.rev("HEAD")
    }

    pub fn commit(&self, msg: &str) -> String {
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.rev("HEAD")
    }

    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", &format!("{rev}^{{commit}}")])
    }

    pub fn current_branch(&self) -> String {
        self.git(&["rev-parse", "--abbrev-ref", "HEAD"])
    }

    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = Command::new(hotfix_bin());
        base_env(&mut cmd, &self.home);
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        let out = cmd
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run hotfix");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Starts `hotfix args…` in the working clone without waiting for it.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        let mut cmd = Command::new(hotfix_bin());
        base_env(&mut cmd, &self.home);
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd.args(args)
            .current_dir(&self.work)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn hotfix")
    }

    /// Runs `hotfix args…` in the working clone.
    pub fn hotfix(&self, args: &[&str]) -> Run {
        self.run_in(&self.work, args)
    }

    /// A named pipe in the test's root: a command writing to it blocks until the test reads,
    /// so the test knows the command has started without sleeping.
    pub fn fifo(&self, name: &str) -> PathBuf {
        let path = self.root.join(name);
        let ok = Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo")
            .success();
        assert!(ok, "mkfifo {}", path.display());
        path
    }

    pub fn state(&self) -> Option<serde_json::Value> {
        let p = self.work.join(".git/hotfix/state.json");
        std::fs::read_to_string(p)
            .ok()
            .map(|t| serde_json::from_str(&t).unwrap())
    }

    /// Everything a refusal must leave untouched: refs (local and origin), HEAD, index,
    /// working tree files, and the hotfix state directory.
    pub fn snapshot(&self) -> BTreeMap<String, String> {
        let mut s = BTreeMap::new();
        s.insert(
            "refs".into(),
            self.git(&["for-each-ref", "--format=%(refname) %(objectname)"]),
        );
        s.insert(
            "origin-refs".into(),
            self.git_in(
                &self.origin,
                &["for-each-ref", "--format=%(refname) %(objectname)"],
            ),
        );
        s.insert(
            "HEAD".into(),
            std::fs::read_to_string(self.work.join(".git/HEAD")).unwrap(),
        );
        s.insert(
            "index".into(),
            std::fs::read(self.work.join(".git/index"))
                .map(|b| format!("{:x}", fxhash(&b)))
                .unwrap_or_default(),
        );
        let mut files = Vec::new();
        collect_files(&self.work, &self.work, &mut files);
        for (rel, content) in files {
            s.insert(format!("file:{rel}"), content);
        }
        s
    }
}

fn fxhash(b: &[u8]) -> u64 {
    // FNV-1a: enough to notice any change.
    let mut h: u64 = 0xcbf29ce484222325;
    for x in b {
        h ^= *x as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        if rel == ".git" {
            // Only the tool's own directory inside .git matters beyond refs/HEAD/index.
            collect_files(root, &p.join("hotfix"), out);
            continue;
        }
        if p.is_dir() {
            collect_files(root, &p, out);
        } else {
            let content = std::fs::read(&p).unwrap_or_default();
            out.push((rel, String::from_utf8_lossy(&content).into_owned()));
        }
    }
}

/// A repository with tags `v1.2.0`, `v1.3.0`, `v1.3.1-rc.1` and `main` ahead of `v1.3.0`,
/// all pushed; with a `develop` branch when `git_flow`.
pub fn released_repo(git_flow: bool) -> TestEnv {
    let env = TestEnv::new();
    env.commit_file("app.txt", "one\n", "initial");
    env.git(&["tag", "-a", "v1.2.0", "-m", "release 1.2.0"]);
    env.commit_file("app.txt", "two\n", "feature for 1.3");
    env.git(&["tag", "-a", "v1.3.0", "-m", "release 1.3.0"]);
    env.commit_file("app.txt", "three\n", "unreleased work");
    env.git(&["tag", "v1.3.1-rc.1"]);
    if git_flow {
        env.git(&["branch", "develop"]);
        env.git(&["push", "-q", "origin", "main", "develop", "--tags"]);
    } else {
        env.git(&["push", "-q", "origin", "main", "--tags"]);
    }
    env.git(&["fetch", "-q", "origin"]);
    env
}
