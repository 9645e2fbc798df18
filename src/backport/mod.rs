//! Backport: bringing the fix to each target branch. Which commits are already there (and by
//! which signal: ancestor, `-x` trailer, same patch id), and applying the rest in memory — a
//! `--no-ff` merge of the tag or `-x` cherry-picks — so the working tree is touched only when
//! a conflict must be handed to the user.

use std::collections::HashSet;

use git2::Oid;

use crate::error::Result;
use crate::git::{Picked, Repo};

/// Why a commit counts as already on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Ancestor,
    Trailer,
    PatchId,
}

impl Signal {
    pub fn describe(self) -> &'static str {
        match self {
            Signal::Ancestor => "ancestor: the commit itself is there",
            Signal::Trailer => "trailer: a commit there says \"cherry picked from\" it",
            Signal::PatchId => "patch-id: the same change is there",
        }
    }
}

/// What a target already holds, read once per target.
///
/// With `M` the merge base of the target and the fix: a fix commit is on the target (ancestor)
/// exactly when it is not among the fix-only commits `M..fix`; the target's own commits `M..tip`
/// give the `-x` trailers and, computed on first need, the patch ids. Two history walks answer
/// for every commit at once, however many there are.
pub struct Detector<'r> {
    repo: &'r Repo,
    fix_only: HashSet<Oid>,
    trailers: HashSet<String>,
    /// The target's commits by the paths they touch, built on first need: a patch id is only
    /// computed for commits that touch exactly the same paths (as `git cherry` does).
    by_paths: std::cell::OnceCell<std::collections::HashMap<Vec<String>, Vec<Oid>>>,
    patch_ids: std::cell::RefCell<std::collections::HashMap<Oid, Option<Oid>>>,
    since_fork: Vec<Oid>,
}

impl<'r> Detector<'r> {
    /// `tip` is the target; `fix_tip` the newest commit of the fix (every checked commit must
    /// be one of its ancestors).
    pub fn new(repo: &'r Repo, tip: Oid, fix_tip: Oid) -> Result<Self> {
        let since_fork = repo.commits_since_fork(tip, fix_tip)?;
        let fix_only: HashSet<Oid> = repo.commits_since_fork(fix_tip, tip)?.into_iter().collect();
        let mut trailers = HashSet::new();
        for c in &since_fork {
            if let Some(msg) = repo.message(*c) {
                for line in msg.lines() {
                    if let Some(rest) = line.trim().strip_prefix("(cherry picked from commit ") {
                        trailers.insert(rest.trim_end_matches(')').to_string());
                    }
                }
            }
        }
        Ok(Detector {
            repo,
            fix_only,
            trailers,
            by_paths: std::cell::OnceCell::new(),
            patch_ids: std::cell::RefCell::new(std::collections::HashMap::new()),
            since_fork,
        })
    }

    /// Is `commit` already on the target, and by which signal?
    pub fn check(&self, commit: Oid) -> Option<Signal> {
        if !self.fix_only.contains(&commit) {
            return Some(Signal::Ancestor);
        }
        if self.trailers.contains(&commit.to_string()) {
            return Some(Signal::Trailer);
        }
        let by_paths = self.by_paths.get_or_init(|| {
            let mut m: std::collections::HashMap<Vec<String>, Vec<Oid>> =
                std::collections::HashMap::new();
            for c in &self.since_fork {
                if let Some(p) = self.repo.touched_paths(*c) {
                    m.entry(p).or_default().push(*c);
                }
            }
            m
        });
        let same_paths = by_paths.get(&self.repo.touched_paths(commit)?)?;
        let id = self.repo.patch_id(commit)?;
        let mut cache = self.patch_ids.borrow_mut();
        same_paths
            .iter()
            .any(|c| *cache.entry(*c).or_insert_with(|| self.repo.patch_id(*c)) == Some(id))
            .then_some(Signal::PatchId)
    }
}

/// The result of bringing the fix to one target in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The target's new tip (unchanged when everything was there).
    Done { result: Oid, report: Vec<String> },
    /// Stopped: `commit` does not apply cleanly onto `at`; `remaining` come after it.
    Conflict {
        at: Oid,
        commit: Oid,
        remaining: Vec<Oid>,
        report: Vec<String>,
    },
}

fn short(o: Oid) -> String {
    o.to_string()[..10].to_string()
}

/// Cherry-picks `commits` (oldest first) onto `tip`, skipping those already there.
pub fn pick_onto(repo: &Repo, target: &str, tip: Oid, commits: &[Oid]) -> Result<Applied> {
    let Some(first) = commits.first() else {
        return Ok(Applied::Done {
            result: tip,
            report: Vec::new(),
        });
    };
    let detector = Detector::new(repo, tip, *first)?;
    let mut cur = tip;
    let mut report = Vec::new();
    for (i, c) in commits.iter().enumerate() {
        if let Some(sig) = detector.check(*c) {
            report.push(format!(
                "{} already on {target} ({})",
                short(*c),
                sig.describe()
            ));
            continue;
        }
        match repo.pick_in_memory(cur, *c)? {
            Picked::Committed(new) => {
                report.push(format!(
                    "{} cherry-picked onto {target} as {}",
                    short(*c),
                    short(new)
                ));
                cur = new;
            }
            Picked::Empty => report.push(format!(
                "{} already on {target} (its change is there: the pick is empty)",
                short(*c)
            )),
            Picked::Conflict => {
                return Ok(Applied::Conflict {
                    at: cur,
                    commit: *c,
                    remaining: commits[i + 1..].to_vec(),
                    report,
                });
            }
        }
    }
    Ok(Applied::Done {
        result: cur,
        report,
    })
}

/// Merges the release (`tag` at `tag_commit`) into `tip` with a merge commit, as git-flow does.
pub fn merge_onto(
    repo: &Repo,
    target: &str,
    tip: Oid,
    tag: &str,
    tag_commit: Oid,
) -> Result<Applied> {
    if repo.is_ancestor(tag_commit, tip) {
        return Ok(Applied::Done {
            result: tip,
            report: vec![format!(
                "{tag} already on {target} ({})",
                Signal::Ancestor.describe()
            )],
        });
    }
    match repo.merge_in_memory(tip, tag_commit, &format!("Merge tag '{tag}' into {target}"))? {
        Some(new) => Ok(Applied::Done {
            result: new,
            report: vec![format!("{tag} merged into {target} as {}", short(new))],
        }),
        None => Ok(Applied::Conflict {
            at: tip,
            commit: tag_commit,
            remaining: Vec::new(),
            report: Vec::new(),
        }),
    }
}
