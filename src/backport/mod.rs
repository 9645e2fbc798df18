//! Backport: bringing the fix to each target branch. Which commits are already there (and by
//! which signal: ancestor, `-x` trailer, same patch id), and applying the rest in memory — a
//! `--no-ff` merge of the tag or `-x` cherry-picks — so the working tree is touched only when
//! a conflict must be handed to the user.

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};

use git2::Oid;

use crate::error::Result;
use crate::git::{Change, Picked, Repo};

/// Up to this many commits to check, the target's commits are screened by the fix's paths
/// (tree lookups) rather than all diffed.
const SCREEN_MAX_COMMITS: usize = 64;

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
/// give the `-x` trailers and the patch ids. Two history walks answer ancestry for every commit
/// at once; what commits change is read in batches (one `git diff-tree` per batch), and a patch
/// id is computed only for commits that touch exactly the same paths, as `git cherry` does.
pub struct Detector<'r> {
    repo: &'r Repo,
    fix_only: HashSet<Oid>,
    trailers: HashSet<String>,
    /// The target's own non-merge commits since the fork.
    since_fork: Vec<Oid>,
    /// The target's commits by the paths they touch, built on first need.
    by_paths: OnceCell<HashMap<Vec<String>, Vec<Oid>>>,
    /// For a small fix: the paths its commits touch, and the target's commits that touch any
    /// of them (found by tree lookups). Only those can have the same patch id as a fix commit
    /// whose paths are among these; their map is `screened_by_paths`.
    screen: Option<(HashSet<String>, Vec<Oid>)>,
    screened_by_paths: OnceCell<HashMap<Vec<String>, Vec<Oid>>>,
    /// What commits change, read in batches and kept for the picks.
    changes: RefCell<HashMap<Oid, Vec<Change>>>,
    patch_ids: RefCell<HashMap<Oid, Option<Oid>>>,
}

impl<'r> Detector<'r> {
    /// `tip` is the target; `fix_tip` the newest commit of the fix (every checked commit must
    /// be one of its ancestors). What the commits in `ask` change is read by git while the
    /// history is walked, with the target's own commits, in one `git diff-tree`.
    pub fn new(repo: &'r Repo, tip: Oid, fix_tip: Oid, ask: &[Oid]) -> Result<Self> {
        // Large batches are split over the CPUs: one `git diff-tree` per chunk, all running
        // while this process walks the history.
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let parts = (ask.len() / 1000).clamp(1, cpus);
        let mut readers = Vec::new();
        for part in ask.chunks(ask.len().div_ceil(parts).max(1)) {
            let mut r = repo.change_reader()?;
            r.feed(part);
            readers.push(r);
        }
        let mut reader = match readers.pop() {
            Some(r) => r,
            None => repo.change_reader()?,
        };
        let (since_fork, fix_only) = repo.fork_sides(tip, fix_tip)?;
        let fix_only: HashSet<Oid> = fix_only.into_iter().collect();
        // One read of each target-side commit: its `-x` trailers, and whether it is a merge
        // (merges have no patch id).
        let mut trailers = HashSet::new();
        let mut singles = Vec::new();
        for c in &since_fork {
            let Some((msg, parents)) = repo.message_and_parents(*c) else {
                continue;
            };
            if parents == 1 {
                singles.push(*c);
            }
            for line in msg.lines() {
                if let Some(rest) = line.trim().strip_prefix("(cherry picked from commit ") {
                    trailers.insert(rest.trim_end_matches(')').to_string());
                }
            }
        }
        let since_fork = singles;
        let mut screen = None;
        let changes = if ask.len() <= SCREEN_MAX_COMMITS {
            // A small fix: find the target's commits that touch its paths by looking the paths
            // up, instead of diffing every commit of the target.
            let mut changes = reader.finish()?;
            let paths: HashSet<String> = ask
                .iter()
                .filter_map(|c| changes.get(c))
                .flatten()
                .map(|ch| ch.path.clone())
                .collect();
            let list: Vec<&str> = paths.iter().map(String::as_str).collect();
            let candidates: Vec<Oid> = since_fork
                .iter()
                .filter(|t| repo.touches_any(**t, &list))
                .copied()
                .collect();
            changes.extend(repo.changes(&candidates)?);
            screen = Some((paths, candidates));
            changes
        } else {
            reader.feed(&since_fork);
            let mut changes = reader.finish()?;
            for r in readers {
                changes.extend(r.finish()?);
            }
            changes
        };
        Ok(Detector {
            repo,
            fix_only,
            trailers,
            since_fork,
            screen,
            screened_by_paths: OnceCell::new(),
            by_paths: OnceCell::new(),
            changes: RefCell::new(changes),
            patch_ids: RefCell::new(HashMap::new()),
        })
    }

    /// Is `commit` already on the target, and by which signal?
    pub fn check(&self, commit: Oid) -> Result<Option<Signal>> {
        Ok(self.check_all(&[commit])?.pop().flatten())
    }

    /// [`Detector::check`] for many commits at once (one `git diff-tree` for all of them).
    pub fn check_all(&self, commits: &[Oid]) -> Result<Vec<Option<Signal>>> {
        let mut answers: Vec<Option<Signal>> = commits
            .iter()
            .map(|c| {
                if !self.fix_only.contains(c) {
                    Some(Signal::Ancestor)
                } else if self.trailers.contains(&c.to_string()) {
                    Some(Signal::Trailer)
                } else {
                    None
                }
            })
            .collect();
        let open: Vec<Oid> = commits
            .iter()
            .zip(&answers)
            .filter(|(_, a)| a.is_none())
            .map(|(c, _)| *c)
            .collect();
        if open.is_empty() {
            return Ok(answers);
        }
        self.read_changes(&open)?;
        // A commit outside the screened paths needs every target commit's paths.
        let outside = |c: &Oid| match (&self.screen, self.changes.borrow().get(c)) {
            (Some((screened, _)), Some(ch)) => ch.iter().any(|x| !screened.contains(&x.path)),
            _ => true,
        };
        let full = if open.iter().any(outside) {
            Some(self.by_paths()?)
        } else {
            None
        };
        let changes = self.changes.borrow();
        let mut ids = self.patch_ids.borrow_mut();
        let mut id_of = |c: Oid, paths: &[String]| {
            *ids.entry(c).or_insert_with(|| self.repo.patch_id(c, paths))
        };
        for (c, answer) in commits.iter().zip(answers.iter_mut()) {
            if answer.is_some() {
                continue;
            }
            let Some(paths) = changes.get(c).map(|ch| touched(ch)) else {
                continue;
            };
            if paths.is_empty() {
                continue;
            }
            let by_paths = match (&self.screen, full) {
                (Some((screened, candidates)), _) if paths.iter().all(|p| screened.contains(p)) => {
                    self.screened_by_paths
                        .get_or_init(|| self.group(&changes, candidates))
                }
                (_, Some(m)) => m,
                _ => continue,
            };
            let Some(same_paths) = by_paths.get(&paths) else {
                continue;
            };
            let Some(id) = id_of(*c, &paths) else {
                continue;
            };
            if same_paths.iter().any(|t| id_of(*t, &paths) == Some(id)) {
                *answer = Some(Signal::PatchId);
            }
        }
        Ok(answers)
    }

    /// What `commit` changes, when it was read by [`Detector::check_all`].
    pub fn changes_of(&self, commit: Oid) -> Option<Vec<Change>> {
        self.changes.borrow().get(&commit).cloned()
    }

    /// Reads what `commits` change, for those not read yet.
    fn read_changes(&self, commits: &[Oid]) -> Result<()> {
        let missing: Vec<Oid> = {
            let known = self.changes.borrow();
            commits
                .iter()
                .filter(|c| !known.contains_key(c))
                .copied()
                .collect()
        };
        let read = self.repo.changes(&missing)?;
        self.changes.borrow_mut().extend(read);
        Ok(())
    }

    fn by_paths(&self) -> Result<&HashMap<Vec<String>, Vec<Oid>>> {
        if let Some(m) = self.by_paths.get() {
            return Ok(m);
        }
        self.read_changes(&self.since_fork)?;
        let m = self.group(&self.changes.borrow(), &self.since_fork);
        Ok(self.by_paths.get_or_init(|| m))
    }

    /// `commits` by the paths they touch.
    fn group(
        &self,
        changes: &HashMap<Oid, Vec<Change>>,
        commits: &[Oid],
    ) -> HashMap<Vec<String>, Vec<Oid>> {
        let mut m: HashMap<Vec<String>, Vec<Oid>> = HashMap::new();
        for c in commits {
            match changes.get(c) {
                Some(ch) if !ch.is_empty() => m.entry(touched(ch)).or_default().push(*c),
                _ => {}
            }
        }
        m
    }
}

/// The sorted paths a change touches: equal for two commits whenever their patch ids can be.
fn touched(changes: &[Change]) -> Vec<String> {
    let mut p: Vec<String> = changes.iter().map(|c| c.path.clone()).collect();
    p.sort();
    p.dedup();
    p
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
    // The newest commit: every commit to pick is one of its ancestors.
    let Some(newest) = commits.last() else {
        return Ok(Applied::Done {
            result: tip,
            report: Vec::new(),
        });
    };
    let detector = Detector::new(repo, tip, *newest, commits)?;
    let signals = detector.check_all(commits)?;
    let mut cur = tip;
    let mut report = Vec::new();
    for (i, (c, signal)) in commits.iter().zip(signals).enumerate() {
        if let Some(sig) = signal {
            report.push(format!(
                "{} already on {target} ({})",
                short(*c),
                sig.describe()
            ));
            continue;
        }
        match repo.pick_in_memory_with(cur, *c, detector.changes_of(*c).as_deref())? {
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
