//! The real git side of the fake: every question about branches and commits is answered from
//! the bare repository, and a merge really writes commits into it with plumbing.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use super::util::git_date_to_github;

/// Merge and squash commits are dated like everything else in the test suite.
pub const PINNED_DATE: &str = "2026-01-01T00:00:00Z";

pub struct Ident<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub date: &'a str,
}

pub const GITHUB: Ident<'static> = Ident {
    name: "GitHub",
    email: "noreply@github.com",
    date: PINNED_DATE,
};

fn cmd(bare: &Path) -> Command {
    let mut c = Command::new("git");
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", bare)
        .env("LANG", "C")
        .env("TZ", "UTC")
        .arg("--git-dir")
        .arg(bare);
    c
}

pub struct Out {
    pub ok: bool,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

fn run(mut c: Command) -> Out {
    let o = c.output().expect("run git");
    Out {
        ok: o.status.success(),
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub fn git(bare: &Path, args: &[&str]) -> Out {
    let mut c = cmd(bare);
    c.args(args);
    run(c)
}

/// Every branch and its tip.
pub fn branches(bare: &Path) -> HashMap<String, String> {
    let o = git(
        bare,
        &[
            "for-each-ref",
            "--format=%(refname:lstrip=2) %(objectname)",
            "refs/heads/",
        ],
    );
    o.stdout
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(b, s)| (b.to_string(), s.to_string()))
        .collect()
}

/// A branch, tag or sha → the commit it names.
pub fn resolve(bare: &Path, rev: &str) -> Option<String> {
    if rev.is_empty() || rev.starts_with('-') {
        return None;
    }
    let o = git(
        bare,
        &["rev-parse", "--verify", "-q", &format!("{rev}^{{commit}}")],
    );
    o.ok.then(|| o.stdout.trim().to_string())
}

pub fn ref_exists(bare: &Path, refname: &str) -> bool {
    git(bare, &["show-ref", "--verify", "-q", refname]).ok
}

pub fn is_ancestor(bare: &Path, a: &str, b: &str) -> bool {
    git(bare, &["merge-base", "--is-ancestor", a, b]).ok
}

pub fn merge_base(bare: &Path, a: &str, b: &str) -> Option<String> {
    let o = git(bare, &["merge-base", a, b]);
    o.ok.then(|| o.stdout.trim().to_string())
}

/// The tree of merging `theirs` into `ours` (optionally with an explicit merge base), or
/// `None` on a conflict.
pub fn merge_tree(
    bare: &Path,
    merge_base: Option<&str>,
    ours: &str,
    theirs: &str,
) -> Option<String> {
    let mb;
    let mut args = vec!["merge-tree", "--write-tree", "--no-messages"];
    if let Some(b) = merge_base {
        mb = format!("--merge-base={b}");
        args.push(&mb);
    }
    args.push(ours);
    args.push(theirs);
    let o = git(bare, &args);
    if o.ok {
        Some(
            o.stdout
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
        )
    } else if o.code == 1 {
        None
    } else {
        panic!("git merge-tree failed: {}", o.stderr)
    }
}

pub fn commit_tree(
    bare: &Path,
    tree: &str,
    parents: &[&str],
    message: &str,
    author: &Ident,
    committer: &Ident,
) -> String {
    let mut c = cmd(bare);
    c.arg("commit-tree").arg(tree);
    for p in parents {
        c.arg("-p").arg(p);
    }
    c.arg("-m")
        .arg(message)
        .env("GIT_AUTHOR_NAME", author.name)
        .env("GIT_AUTHOR_EMAIL", author.email)
        .env("GIT_AUTHOR_DATE", author.date)
        .env("GIT_COMMITTER_NAME", committer.name)
        .env("GIT_COMMITTER_EMAIL", committer.email)
        .env("GIT_COMMITTER_DATE", committer.date);
    let o = run(c);
    assert!(o.ok, "git commit-tree failed: {}", o.stderr);
    o.stdout.trim().to_string()
}

/// Compare-and-swap of a ref; false when it no longer has `old`.
pub fn update_ref(bare: &Path, refname: &str, new: &str, old: &str) -> bool {
    git(bare, &["update-ref", refname, new, old]).ok
}

pub fn create_ref(bare: &Path, refname: &str, sha: &str) -> bool {
    // The all-zero old value means "must not exist yet".
    git(bare, &["update-ref", refname, sha, &"0".repeat(40)]).ok
}

pub fn delete_ref(bare: &Path, refname: &str) -> bool {
    ref_exists(bare, refname) && git(bare, &["update-ref", "-d", refname]).ok
}

#[derive(Clone, Debug)]
pub struct CommitInfo {
    pub sha: String,
    pub tree: String,
    pub parents: Vec<String>,
    pub author_name: String,
    pub author_email: String,
    pub author_date: String,
    pub committer_name: String,
    pub committer_email: String,
    pub committer_date: String,
    pub message: String,
}

/// Commits of `git log --reverse <range…>`, oldest first.
pub fn log(bare: &Path, range: &[&str]) -> Vec<CommitInfo> {
    let mut args = vec![
        "log",
        "--reverse",
        "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B%x1e",
    ];
    args.extend_from_slice(range);
    args.push("--");
    let o = git(bare, &args);
    if !o.ok {
        return Vec::new();
    }
    o.stdout
        .split('\x1e')
        .map(|r| r.trim_start_matches('\n'))
        .filter(|r| !r.is_empty())
        .map(|r| {
            let f: Vec<&str> = r.splitn(10, '\0').collect();
            CommitInfo {
                sha: f[0].to_string(),
                tree: f[1].to_string(),
                parents: f[2].split_whitespace().map(String::from).collect(),
                author_name: f[3].to_string(),
                author_email: f[4].to_string(),
                author_date: git_date_to_github(f[5]),
                committer_name: f[6].to_string(),
                committer_email: f[7].to_string(),
                committer_date: git_date_to_github(f[8]),
                message: f.get(9).unwrap_or(&"").trim_end_matches('\n').to_string(),
            }
        })
        .collect()
}

/// (additions, deletions, changed files) of `base...head`.
pub fn diffstat(bare: &Path, base: &str, head: &str) -> (i64, i64, i64) {
    let o = git(bare, &["diff", "--numstat", &format!("{base}...{head}")]);
    let (mut a, mut d, mut n) = (0, 0, 0);
    for l in o.stdout.lines() {
        let mut it = l.split('\t');
        a += it.next().and_then(|x| x.parse::<i64>().ok()).unwrap_or(0);
        d += it.next().and_then(|x| x.parse::<i64>().ok()).unwrap_or(0);
        n += 1;
    }
    (a, d, n)
}
