//! The only module that touches git2 or spawns git: a thin typed wrapper.
//!
//! Reads go through git2 (fast, no process). Operations a user expects to behave exactly like
//! their own git — fetch, push, switch, cherry-pick — shell out to `git` through the
//! [`Runner`](crate::exec::Runner), so credentials, hooks and the working tree behave as usual.
//! "Not found" is an `Option`, failures are errors that name the operation and the object.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{BranchType, ErrorCode, Oid, Repository};

use crate::error::{Error, Result};
use crate::exec::{Output, Runner};

/// A commit as the tool shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct CommitInfo {
    pub sha: String,
    pub summary: String,
    pub author: String,
    pub author_email: String,
    pub committer_email: String,
}

/// An open repository with a working tree.
pub struct Repo {
    inner: Repository,
    workdir: PathBuf,
    runner: Runner,
}

fn git_err(what: impl std::fmt::Display, e: git2::Error) -> Error {
    Error::step(format!("{what}: {}", e.message()))
}

impl Repo {
    /// Opens the repository containing `path`.
    pub fn discover(path: &Path, runner: Runner) -> Result<Repo> {
        let inner = Repository::discover(path).map_err(|e| {
            Error::precondition(format!("{} is not inside a git repository", path.display())).hint(
                format!(
                    "run hotfix inside your project's checkout ({})",
                    e.message()
                ),
            )
        })?;
        let workdir = inner
            .workdir()
            .ok_or_else(|| {
                Error::precondition("this is a bare repository; hotfix needs a working tree")
            })?
            .to_path_buf();
        Ok(Repo {
            inner,
            workdir,
            runner,
        })
    }

    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The repository's common git dir (shared by all worktrees).
    pub fn common_dir(&self) -> PathBuf {
        self.inner.commondir().to_path_buf()
    }

    /// The repository's own git dir (per worktree).
    pub fn git_dir(&self) -> PathBuf {
        self.inner.path().to_path_buf()
    }

    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    pub fn git2(&self) -> &Repository {
        &self.inner
    }

    /// The checked-out branch's short name, or `None` when HEAD is detached or unborn.
    pub fn current_branch(&self) -> Option<String> {
        let head = self.inner.head().ok()?;
        if !head.is_branch() {
            return None;
        }
        head.shorthand().ok().map(str::to_string)
    }

    /// The commit HEAD points at.
    pub fn head_oid(&self) -> Option<Oid> {
        self.inner
            .head()
            .ok()?
            .peel_to_commit()
            .ok()
            .map(|c| c.id())
    }

    /// Paths with uncommitted changes to tracked files (staged or not) and conflicts.
    /// Untracked files do not count: they travel with no branch switch and are never lost.
    ///
    /// This asks `git status`, which uses the index's cached trees, the untracked cache and any
    /// fsmonitor the user set up: on a 50k-file repository it is several times faster than
    /// libgit2's status, and it is exactly the user's own notion of "clean".
    pub fn uncommitted_changes(&self) -> Result<Vec<String>> {
        let out = self.runner.git_read(
            &self.workdir,
            &[
                "status",
                "--porcelain=v1",
                "-z",
                "--untracked-files=no",
                "--ignore-submodules=dirty",
            ],
        )?;
        if !out.success() {
            return Err(Error::step(format!(
                "reading the working tree status failed:\n{}",
                out.text()
            )));
        }
        let mut paths = Vec::new();
        let mut entries = out.stdout.split('\0');
        while let Some(e) = entries.next() {
            if e.len() < 4 {
                continue;
            }
            let (xy, path) = e.split_at(3);
            paths.push(path.to_string());
            // A rename or copy is followed by its original path.
            if xy.starts_with('R') || xy.starts_with('C') {
                entries.next();
            }
        }
        Ok(paths)
    }

    /// Resolves a revision (sha, tag, branch, `origin/main`) to a commit.
    pub fn resolve_commit(&self, spec: &str) -> Option<Oid> {
        let obj = self.inner.revparse_single(spec).ok()?;
        obj.peel_to_commit().ok().map(|c| c.id())
    }

    /// The commit a full ref name points at (`refs/remotes/origin/main`).
    pub fn ref_commit(&self, name: &str) -> Option<Oid> {
        let r = self.inner.find_reference(name).ok()?;
        r.peel_to_commit().ok().map(|c| c.id())
    }

    pub fn local_branch(&self, name: &str) -> Option<Oid> {
        self.ref_commit(&format!("refs/heads/{name}"))
    }

    pub fn remote_branch(&self, remote: &str, name: &str) -> Option<Oid> {
        self.ref_commit(&format!("refs/remotes/{remote}/{name}"))
    }

    pub fn tag(&self, name: &str) -> Option<Oid> {
        self.ref_commit(&format!("refs/tags/{name}"))
    }

    /// Names of all tags (without `refs/tags/`); cheap: no object is read.
    pub fn tag_names(&self) -> Result<Vec<String>> {
        let names = self
            .inner
            .tag_names(None)
            .map_err(|e| git_err("listing tags", e))?;
        Ok(names
            .iter()
            .flatten()
            .flatten()
            .map(str::to_string)
            .collect())
    }

    /// Short names of the remote's branches that start with `prefix` (`release/`).
    pub fn remote_branches(&self, remote: &str, prefix: &str) -> Result<Vec<String>> {
        let glob = format!("refs/remotes/{remote}/{prefix}*");
        let refs = self
            .inner
            .references_glob(&glob)
            .map_err(|e| git_err(format!("listing {glob}"), e))?;
        let strip = format!("refs/remotes/{remote}/");
        Ok(refs
            .flatten()
            .filter_map(|r| {
                r.name()
                    .ok()
                    .and_then(|n| n.strip_prefix(&strip))
                    .map(str::to_string)
            })
            .collect())
    }

    /// Short names of local branches.
    pub fn local_branches(&self) -> Result<Vec<String>> {
        let bs = self
            .inner
            .branches(Some(BranchType::Local))
            .map_err(|e| git_err("listing branches", e))?;
        Ok(bs
            .flatten()
            .filter_map(|(b, _)| b.name().ok().flatten().map(str::to_string))
            .collect())
    }

    /// Is `ancestor` reachable from `descendant` (or the same commit)?
    pub fn is_ancestor(&self, ancestor: Oid, descendant: Oid) -> bool {
        ancestor == descendant
            || self
                .inner
                .graph_descendant_of(descendant, ancestor)
                .unwrap_or(false)
    }

    /// Which of `wanted` are reachable from `tip`: one walk of its history.
    pub fn reachable_among(
        &self,
        tip: Oid,
        wanted: impl IntoIterator<Item = Oid>,
    ) -> Option<std::collections::HashSet<Oid>> {
        let mut left: std::collections::HashSet<Oid> = wanted.into_iter().collect();
        let mut found = std::collections::HashSet::new();
        let mut walk = self.inner.revwalk().ok()?;
        walk.push(tip).ok()?;
        for oid in walk.flatten() {
            if left.remove(&oid) {
                found.insert(oid);
                if left.is_empty() {
                    break;
                }
            }
        }
        Some(found)
    }

    /// Commits reachable from `head` but not from `base`, oldest first.
    pub fn commits_between(&self, base: Oid, head: Oid) -> Result<Vec<CommitInfo>> {
        let mut walk = self
            .inner
            .revwalk()
            .map_err(|e| git_err("walking history", e))?;
        walk.push(head)
            .and_then(|_| walk.hide(base))
            .and_then(|_| walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE))
            .map_err(|e| git_err(format!("walking {base}..{head}"), e))?;
        let mut out = Vec::new();
        for oid in walk {
            let oid = oid.map_err(|e| git_err("walking history", e))?;
            out.push(self.commit_info(oid)?);
        }
        Ok(out)
    }

    pub fn commit_info(&self, oid: Oid) -> Result<CommitInfo> {
        let c = self
            .inner
            .find_commit(oid)
            .map_err(|e| git_err(format!("reading commit {oid}"), e))?;
        Ok(CommitInfo {
            sha: oid.to_string(),
            summary: c.summary().ok().flatten().unwrap_or("").to_string(),
            author: c.author().name().unwrap_or("").to_string(),
            author_email: c.author().email().unwrap_or("").to_string(),
            committer_email: c.committer().email().unwrap_or("").to_string(),
        })
    }

    /// Paths that differ between two commits: added, modified, deleted (old path), and both
    /// sides of a rename. Sorted, each once.
    pub fn changed_paths(&self, base: Oid, head: Oid) -> Result<Vec<String>> {
        let tree = |oid: Oid| {
            self.inner
                .find_commit(oid)
                .and_then(|c| c.tree())
                .map_err(|e| git_err(format!("reading the tree of {oid}"), e))
        };
        let (a, b) = (tree(base)?, tree(head)?);
        let mut diff = self
            .inner
            .diff_tree_to_tree(Some(&a), Some(&b), None)
            .map_err(|e| git_err(format!("diffing {base}..{head}"), e))?;
        let mut find = git2::DiffFindOptions::new();
        find.renames(true);
        diff.find_similar(Some(&mut find))
            .map_err(|e| git_err("detecting renames", e))?;
        let mut out = std::collections::BTreeSet::new();
        for d in diff.deltas() {
            for f in [d.old_file(), d.new_file()] {
                if f.exists()
                    && let Some(p) = f.path()
                {
                    out.insert(p.to_string_lossy().into_owned());
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The number of parents of a commit (merge commits have two or more).
    pub fn parent_count(&self, oid: Oid) -> Option<usize> {
        self.inner.find_commit(oid).ok().map(|c| c.parent_count())
    }

    /// The text of `path` in the tree of `rev`, if both exist.
    pub fn file_at(&self, rev: &str, path: &str) -> Option<String> {
        let commit = self
            .inner
            .revparse_single(rev)
            .ok()?
            .peel_to_commit()
            .ok()?;
        let entry = commit.tree().ok()?.get_path(Path::new(path)).ok()?;
        let blob = entry.to_object(&self.inner).ok()?.peel_to_blob().ok()?;
        String::from_utf8(blob.content().to_vec()).ok()
    }

    /// The URL of a remote.
    pub fn remote_url(&self, remote: &str) -> Option<String> {
        self.inner
            .find_remote(remote)
            .ok()
            .and_then(|r| r.url().ok().map(str::to_string))
    }

    /// The remote's default branch, from `refs/remotes/{remote}/HEAD`.
    pub fn remote_head(&self, remote: &str) -> Option<String> {
        let r = self
            .inner
            .find_reference(&format!("refs/remotes/{remote}/HEAD"))
            .ok()?;
        let target = r.symbolic_target().ok()??;
        target
            .strip_prefix(&format!("refs/remotes/{remote}/"))
            .map(str::to_string)
    }

    /// Is a cherry-pick stopped on a conflict?
    pub fn cherry_pick_in_progress(&self) -> bool {
        self.git_dir().join("CHERRY_PICK_HEAD").exists()
    }

    /// Paths with unresolved conflicts in the index.
    pub fn conflicted_paths(&self) -> Vec<String> {
        let Ok(mut index) = self.inner.index() else {
            return Vec::new();
        };
        // git2 caches the index; another process (git cherry-pick) just wrote it.
        if index.read(true).is_err() {
            return Vec::new();
        }
        let Ok(conflicts) = index.conflicts() else {
            return Vec::new();
        };
        conflicts
            .flatten()
            .filter_map(|c| c.our.or(c.their).or(c.ancestor))
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .collect()
    }

    // ----- in-memory history edits (no working tree): backports -----

    /// The signature for commits the tool makes: the user's identity; `GIT_COMMITTER_DATE` is
    /// honoured (as git does), so pinned-date environments stay reproducible.
    fn committer(&self) -> Result<git2::Signature<'static>> {
        // As git does: GIT_COMMITTER_* first, then user.name / user.email.
        let cfg = self.inner.config().ok();
        let from_cfg = |k: &str| cfg.as_ref().and_then(|c| c.get_string(k).ok());
        let name = std::env::var("GIT_COMMITTER_NAME")
            .ok()
            .or_else(|| from_cfg("user.name"));
        let email = std::env::var("GIT_COMMITTER_EMAIL")
            .ok()
            .or_else(|| from_cfg("user.email"));
        let (Some(name), Some(email)) = (name, email) else {
            return Err(Error::precondition("git does not know who you are (user.name / user.email)")
                .hint("git config --global user.name \"Your Name\"; git config --global user.email you@example.com"));
        };
        let when = std::env::var("GIT_COMMITTER_DATE")
            .ok()
            .and_then(|d| humantime::parse_rfc3339_weak(d.trim_end_matches('Z')).ok());
        let sig = match when {
            Some(t) => {
                let secs = t
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0);
                git2::Signature::new(&name, &email, &git2::Time::new(secs, 0))
            }
            None => git2::Signature::now(&name, &email),
        };
        sig.map_err(|e| git_err("making a signature", e))
    }

    /// Cherry-picks `commit` onto `onto` without touching the working tree, adding the `-x`
    /// trailer. The author is kept; the committer is the user.
    pub fn pick_in_memory(&self, onto: Oid, commit: Oid) -> Result<Picked> {
        self.pick_in_memory_with(onto, commit, None)
    }

    /// [`Repo::pick_in_memory`], given what the commit changes (from [`Repo::changes`]) when
    /// known. When the target holds every touched path exactly as the commit's parent had it,
    /// the pick is a tree edit of those paths alone, which is what a three-way merge gives in
    /// that case, at the cost of a few tree lookups; anything else is merged by git.
    pub fn pick_in_memory_with(
        &self,
        onto: Oid,
        commit: Oid,
        changes: Option<&[Change]>,
    ) -> Result<Picked> {
        let r = &self.inner;
        let what = |e| git_err(format!("cherry-picking {commit} onto {onto}"), e);
        let c = r.find_commit(commit).map_err(what)?;
        let base = r.find_commit(onto).map_err(what)?;
        let edited = match changes {
            Some(ch) if c.parent_count() == 1 && !ch.is_empty() => {
                let tree = base.tree().map_err(what)?;
                let parent = c.parent(0).and_then(|p| p.tree()).map_err(what)?;
                self.edit_tree(&tree, &parent, ch).map_err(what)?
            }
            _ => None,
        };
        let merged = match edited {
            Some(tree) => Some(Some(tree)),
            None => self.merge_tree(c.parent_id(0).ok(), onto, commit)?,
        };
        let tree_id = match merged {
            Some(Some(tree)) => tree,
            Some(None) => return Ok(Picked::Conflict),
            // An older git: libgit2 does the three-way merge.
            None => {
                let mut index = r.cherrypick_commit(&c, &base, 0, None).map_err(what)?;
                if index.has_conflicts() {
                    return Ok(Picked::Conflict);
                }
                index.write_tree_to(r).map_err(what)?
            }
        };
        if tree_id == base.tree_id() {
            return Ok(Picked::Empty);
        }
        let tree = r.find_tree(tree_id).map_err(what)?;
        let msg = with_pick_trailer(c.message().unwrap_or(""), &commit.to_string());
        let new = r
            .commit(None, &c.author(), &self.committer()?, &msg, &tree, &[&base])
            .map_err(what)?;
        Ok(Picked::Committed(new))
    }

    /// A three-way tree merge by git itself (`git merge-tree --write-tree`, the ort strategy,
    /// which skips identical subtrees: far faster than libgit2 on large trees). `Some(Some(tree))`
    /// when clean, `Some(None)` on a conflict, `None` when this git cannot do it (older than 2.40).
    fn merge_tree(&self, base: Option<Oid>, ours: Oid, theirs: Oid) -> Result<Option<Option<Oid>>> {
        let Some(base) = base else { return Ok(None) };
        let (b, o, t) = (base.to_string(), ours.to_string(), theirs.to_string());
        let out = self.runner.git_read(
            &self.workdir,
            &[
                "merge-tree",
                "--write-tree",
                "--no-messages",
                "--merge-base",
                &b,
                &o,
                &t,
            ],
        )?;
        match out.status {
            Some(0) => Ok(out
                .stdout
                .lines()
                .next()
                .and_then(|l| Oid::from_str(l.trim()).ok())
                .map(Some)),
            Some(1) => Ok(Some(None)),
            _ => Ok(None),
        }
    }

    /// Merges `theirs` into `ours` without touching the working tree: a merge commit with both
    /// parents (`--no-ff`), or `None` on a conflict.
    pub fn merge_in_memory(&self, ours: Oid, theirs: Oid, message: &str) -> Result<Option<Oid>> {
        let r = &self.inner;
        let what = |e| git_err(format!("merging {theirs} into {ours}"), e);
        let a = r.find_commit(ours).map_err(what)?;
        let b = r.find_commit(theirs).map_err(what)?;
        let base = r.merge_base(ours, theirs).ok();
        let tree_id = match self.merge_tree(base, ours, theirs)? {
            Some(Some(tree)) => tree,
            Some(None) => return Ok(None),
            None => {
                let mut index = r.merge_commits(&a, &b, None).map_err(what)?;
                if index.has_conflicts() {
                    return Ok(None);
                }
                index.write_tree_to(r).map_err(what)?
            }
        };
        let tree = r.find_tree(tree_id).map_err(what)?;
        let sig = self.committer()?;
        r.commit(None, &sig, &sig, message, &tree, &[&a, &b])
            .map(Some)
            .map_err(what)
    }

    /// Whether a (non-merge) commit changes any of `paths`: a few tree lookups per path, with
    /// no diff of the whole trees.
    pub fn touches_any(&self, commit: Oid, paths: &[&str]) -> bool {
        let Ok(c) = self.inner.find_commit(commit) else {
            return false;
        };
        let (Ok(tree), Some(parent)) = (c.tree(), c.parent(0).ok().and_then(|p| p.tree().ok()))
        else {
            return false;
        };
        if tree.id() == parent.id() {
            return false;
        }
        let entry = |t: &git2::Tree<'_>, p: &str| {
            t.get_path(Path::new(p))
                .ok()
                .map(|e| (e.filemode(), e.id()))
        };
        paths.iter().any(|p| entry(&tree, p) != entry(&parent, p))
    }

    /// The patch id of a (non-merge) commit known to touch exactly `paths` (equal for the same
    /// change wherever it was applied). The diff is limited to those paths, so only the trees
    /// along them are read.
    pub fn patch_id(&self, commit: Oid, paths: &[String]) -> Option<Oid> {
        let c = self.inner.find_commit(commit).ok()?;
        if c.parent_count() != 1 || paths.is_empty() {
            return None;
        }
        let parent = c.parent(0).ok()?.tree().ok()?;
        let mut opts = git2::DiffOptions::new();
        opts.disable_pathspec_match(true);
        for p in paths {
            opts.pathspec(p);
        }
        self.inner
            .diff_tree_to_tree(Some(&parent), Some(&c.tree().ok()?), Some(&mut opts))
            .ok()?
            .patchid(None)
            .ok()
    }

    /// What each of `commits` changes against its parent, for all of them with one
    /// `git diff-tree --stdin` (git's tree diff skips identical subtrees, where libgit2's walks
    /// whole trees). A merge commit maps to an empty list, as does a commit that changes nothing.
    pub fn changes(&self, commits: &[Oid]) -> Result<HashMap<Oid, Vec<Change>>> {
        if commits.is_empty() {
            return Ok(HashMap::new());
        }
        let mut reader = self.change_reader()?;
        reader.feed(commits);
        reader.finish()
    }

    /// [`Repo::changes`] for commits given as they become known: one `git diff-tree` reads
    /// them while this process goes on (walking history, say).
    pub fn change_reader(&self) -> Result<ChangeReader> {
        Ok(ChangeReader(self.runner.git_stream(
            &self.workdir,
            &[
                "diff-tree",
                "--stdin",
                "-r",
                "--raw",
                "-z",
                "--no-renames",
                "--root",
                "--always",
                "--no-ext-diff",
            ],
        )?))
    }

    /// `tree` with `changes` applied, when every touched path is in `tree` exactly as the
    /// change's "before" side has it (and a new file's directory already exists). `None` when
    /// that does not hold: then the pick needs a real three-way merge.
    fn edit_tree(
        &self,
        tree: &git2::Tree<'_>,
        parent: &git2::Tree<'_>,
        changes: &[Change],
    ) -> std::result::Result<Option<Oid>, git2::Error> {
        const GITLINK: u32 = 0o160000;
        let mut update = git2::build::TreeUpdateBuilder::new();
        for ch in changes {
            if ch.old.is_some_and(|(m, _)| m == GITLINK)
                || ch.new.is_some_and(|(m, _)| m == GITLINK)
            {
                return Ok(None);
            }
            let path = Path::new(&ch.path);
            let present = match tree.get_path(path) {
                Ok(e) => Some((e.filemode() as u32, e.id())),
                Err(e) if e.code() == ErrorCode::NotFound => None,
                Err(e) => return Err(e),
            };
            if present != ch.old {
                return Ok(None);
            }
            match ch.new {
                Some((mode, id)) => {
                    let new_dir = path.parent().filter(|d| !d.as_os_str().is_empty());
                    if let Some(dir) = new_dir.filter(|_| ch.old.is_none())
                        && !new_file_fits(tree, parent, dir)?
                    {
                        return Ok(None);
                    }
                    let mode = match mode {
                        0o100755 => git2::FileMode::BlobExecutable,
                        0o120000 => git2::FileMode::Link,
                        0o100644 => git2::FileMode::Blob,
                        _ => return Ok(None),
                    };
                    update.upsert(path, id, mode);
                }
                None => {
                    update.remove(path);
                }
            }
        }
        update.create_updated(&self.inner, tree).map(Some)
    }

    /// The commits of each side since `a` and `b` forked: (`b..a`, `a..b`).
    pub fn fork_sides(&self, a: Oid, b: Oid) -> Result<(Vec<Oid>, Vec<Oid>)> {
        let side = |tip: Oid, other: Oid| -> Result<Vec<Oid>> {
            let mut walk = self
                .inner
                .revwalk()
                .map_err(|e| git_err("walking history", e))?;
            walk.push(tip)
                .and_then(|_| walk.hide(other))
                .map_err(|e| git_err("walking history", e))?;
            walk.map(|o| o.map_err(|e| git_err("walking history", e)))
                .collect()
        };
        Ok((side(a, b)?, side(b, a)?))
    }

    /// The full message of a commit and its number of parents, in one read.
    pub fn message_and_parents(&self, commit: Oid) -> Option<(String, usize)> {
        let c = self.inner.find_commit(commit).ok()?;
        Some((
            String::from_utf8_lossy(c.message_bytes()).into_owned(),
            c.parent_count(),
        ))
    }

    /// The full message of a commit.
    pub fn message(&self, commit: Oid) -> Option<String> {
        self.inner
            .find_commit(commit)
            .ok()
            .and_then(|c| c.message().ok().map(str::to_string))
    }

    /// Moves a local branch to `new` if it is a fast-forward (never rewrites it). Returns
    /// whether it moved. The checked-out branch is left alone.
    pub fn fast_forward_local(&self, branch: &str, new: Oid) -> Result<bool> {
        let Some(old) = self.local_branch(branch) else {
            return Ok(false);
        };
        if old == new
            || !self.is_ancestor(old, new)
            || self.current_branch().as_deref() == Some(branch)
        {
            return Ok(false);
        }
        if self.runner.dry_run {
            self.runner
                .ui
                .would(format!("git branch -f {branch} {new}  (fast-forward)"));
            return Ok(true);
        }
        self.inner
            .reference(
                &format!("refs/heads/{branch}"),
                new,
                true,
                &format!("hotfix: fast-forward {branch}"),
            )
            .map_err(|e| git_err(format!("fast-forwarding {branch}"), e))?;
        Ok(true)
    }

    // ----- operations that change something: always through the runner or `mutate` -----

    fn run_git(&self, what: &str, args: &[&str]) -> Result<Output> {
        let out = self.runner.git(&self.workdir, args)?;
        if !out.success() {
            return Err(Error::step(format!("{what} failed:\n{}", out.text()))
                .hint(format!("the command was: git {}", args.join(" "))));
        }
        Ok(out)
    }

    /// `git fetch --prune --tags {remote}`.
    pub fn fetch(&self, remote: &str) -> Result<()> {
        self.run_git(
            &format!("fetching {remote}"),
            &["fetch", "--prune", "--tags", "--quiet", remote],
        )
        .map(|_| ())
        .map_err(|e| e.hint("or run with --no-fetch to use what was fetched last"))
    }

    /// `git push --atomic {remote} refspecs…` (several refs move together or not at all).
    pub fn push(&self, remote: &str, refspecs: &[String]) -> Result<()> {
        let mut args = vec!["push", "--atomic", "--quiet", remote];
        args.extend(refspecs.iter().map(String::as_str));
        self.run_git(&format!("pushing to {remote}"), &args)
            .map(|_| ())
            .map_err(|e| {
                e.hint("check your access to the remote, then run the same hotfix command again")
            })
    }

    /// An annotated tag (signed with the user's git signing setup when `sign`).
    pub fn create_tag(&self, name: &str, sha: &str, message: &str, sign: bool) -> Result<()> {
        let flag = if sign { "-s" } else { "-a" };
        self.run_git(
            &format!("tagging {name}"),
            &["tag", flag, name, "-m", message, sha],
        )
        .map(|_| ())
    }

    /// A clean, detached worktree of `sha` at `path`, owned by the tool: reused when it is
    /// already there at that commit, recreated otherwise.
    pub fn ensure_worktree(&self, path: &Path, sha: &str) -> Result<()> {
        if path.join(".git").exists() {
            let out = self.runner.git_read(path, &["rev-parse", "HEAD"])?;
            let clean = self
                .runner
                .git_read(path, &["status", "--porcelain", "--untracked-files=no"])?;
            if out.stdout.trim() == sha && clean.success() && clean.stdout.trim().is_empty() {
                return Ok(());
            }
            let p = path.to_string_lossy().into_owned();
            self.run_git(
                "removing an old deploy worktree",
                &["worktree", "remove", "--force", &p],
            )?;
        }
        let _ = self.runner.git(&self.workdir, &["worktree", "prune"]);
        let p = path.to_string_lossy().into_owned();
        self.run_git(
            &format!("checking out {sha} for the deploy"),
            &["worktree", "add", "--force", "--detach", &p, sha],
        )
        .map(|_| ())
    }

    /// Is `commit` reachable from `{remote}/{branch}` for any branch named by `branches`?
    pub fn reachable_from_remote(
        &self,
        remote: &str,
        commit: Oid,
        branches: &[String],
    ) -> Option<String> {
        branches.iter().find_map(|b| {
            let tip = self.remote_branch(remote, b)?;
            self.is_ancestor(commit, tip)
                .then(|| format!("{remote}/{b}"))
        })
    }

    /// Creates `branch` at `at` and checks it out (`git switch -c`).
    pub fn switch_create(&self, branch: &str, at: Oid) -> Result<()> {
        if !self.runner.dry_run
            && self.head_oid() == Some(at)
            && !self.has_hook("post-checkout")
            && self.local_branch(branch).is_none()
        {
            // HEAD is already at that commit: `git switch -c` would change no file and only
            // move refs (and re-stat every file). Only the refs move here, with the same reflog
            // entries; with a post-checkout hook, git does it, so that the hook runs.
            let what = |e| git_err(format!("creating branch {branch}"), e);
            let from = self.current_branch().unwrap_or_else(|| at.to_string());
            let commit = self.inner.find_commit(at).map_err(what)?;
            self.inner.branch(branch, &commit, false).map_err(what)?;
            let full = format!("refs/heads/{branch}");
            self.inner
                .reference_symbolic(
                    "HEAD",
                    &full,
                    true,
                    &format!("checkout: moving from {from} to {branch}"),
                )
                .map_err(what)?;
            return Ok(());
        }
        let at = at.to_string();
        self.run_git(
            &format!("creating branch {branch}"),
            &["switch", "--quiet", "--no-guess", "-c", branch, &at],
        )
        .map(|_| ())
    }

    /// Whether an executable `name` hook exists in the effective hooks directory
    /// (`core.hooksPath`, else the common git dir's `hooks/`). When unsure: yes.
    fn has_hook(&self, name: &str) -> bool {
        use std::os::unix::fs::PermissionsExt;
        let dir = match self
            .inner
            .config()
            .and_then(|c| c.get_path("core.hooksPath"))
        {
            Ok(p) if p.is_absolute() => p,
            Ok(p) => self.workdir.join(p),
            Err(e) if e.code() == ErrorCode::NotFound => self.common_dir().join("hooks"),
            Err(_) => return true,
        };
        match std::fs::metadata(dir.join(name)) {
            Ok(m) => m.is_file() && m.permissions().mode() & 0o111 != 0,
            Err(e) => e.kind() != std::io::ErrorKind::NotFound,
        }
    }

    /// Checks out an existing branch (`git switch`).
    pub fn switch(&self, branch: &str) -> Result<()> {
        self.run_git(
            &format!("switching to {branch}"),
            &["switch", "--quiet", "--no-guess", branch],
        )
        .map(|_| ())
    }

    /// Detaches HEAD at a commit (`git switch --detach`).
    pub fn switch_detach(&self, at: &str) -> Result<()> {
        self.run_git(
            &format!("switching to {at}"),
            &["switch", "--quiet", "--detach", at],
        )
        .map(|_| ())
    }

    /// Deletes a local branch (not the checked-out one).
    pub fn delete_local_branch(&self, name: &str) -> Result<()> {
        if self.runner.dry_run {
            self.runner.ui.would(format!("git branch -D {name}"));
            return Ok(());
        }
        match self.inner.find_branch(name, BranchType::Local) {
            Ok(mut b) => b
                .delete()
                .map_err(|e| git_err(format!("deleting branch {name}"), e)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(()),
            Err(e) => Err(git_err(format!("deleting branch {name}"), e)),
        }
    }

    /// `git cherry-pick -x <sha>`; `Ok(false)` when it stopped on a conflict.
    pub fn cherry_pick(&self, sha: &str) -> Result<PickOutcome> {
        let out = self
            .runner
            .git(&self.workdir, &["cherry-pick", "-x", sha])?;
        if out.success() {
            return Ok(PickOutcome::Applied);
        }
        if !self.conflicted_paths().is_empty() {
            return Ok(PickOutcome::Conflict(self.conflicted_paths()));
        }
        if self.cherry_pick_in_progress() {
            // Nothing left to commit: the change is already there.
            self.run_git("skipping an empty cherry-pick", &["cherry-pick", "--skip"])?;
            return Ok(PickOutcome::Empty);
        }
        Err(Error::step(format!(
            "cherry-picking {sha} failed:\n{}",
            out.text()
        )))
    }

    /// Creates (or resets) `branch` at `at` and checks it out (`git switch -C`).
    pub fn switch_reset(&self, branch: &str, at: Oid) -> Result<()> {
        let at = at.to_string();
        self.run_git(
            &format!("switching to {branch}"),
            &["switch", "--quiet", "--no-guess", "-C", branch, &at],
        )
        .map(|_| ())
    }

    /// Is a merge stopped on a conflict?
    pub fn merge_in_progress(&self) -> bool {
        self.git_dir().join("MERGE_HEAD").exists()
    }

    /// Starts `git merge --no-ff` of `rev` in the working tree; `false` when it stopped on a
    /// conflict.
    pub fn merge_no_ff(&self, rev: &str, message: &str) -> Result<bool> {
        let out = self.runner.git(
            &self.workdir,
            &["merge", "--no-ff", "--no-edit", "-m", message, rev],
        )?;
        Ok(out.success())
    }

    /// Finishes a resolved merge or cherry-pick (no editor).
    pub fn conclude(&self) -> Result<()> {
        if self.cherry_pick_in_progress() {
            return self.cherry_pick_continue();
        }
        if self.merge_in_progress() {
            self.run_git(
                "committing the merge",
                &["-c", "core.editor=true", "commit", "--no-edit"],
            )?;
        }
        Ok(())
    }

    /// Abandons a stopped merge or cherry-pick.
    pub fn abandon_operation(&self) -> Result<()> {
        self.cherry_pick_abort()?;
        if self.merge_in_progress() {
            self.run_git("aborting the merge", &["merge", "--abort"])?;
        }
        Ok(())
    }

    /// Deletes a branch on the remote (`git push --delete`); a branch already gone is fine.
    pub fn delete_remote_branch(&self, remote: &str, branch: &str) -> Result<()> {
        if self.remote_branch(remote, branch).is_none() {
            return Ok(());
        }
        self.run_git(
            &format!("deleting {branch} on {remote}"),
            &["push", "--quiet", remote, "--delete", branch],
        )
        .map(|_| ())
    }

    /// `git push --atomic --force-with-lease` of several `(sha, branch, expected)` at once.
    pub fn push_with_lease(
        &self,
        remote: &str,
        moves: &[(String, String, String)],
    ) -> Result<Output> {
        let mut args: Vec<String> = vec!["push".into(), "--atomic".into(), "--porcelain".into()];
        for (_, branch, expected) in moves {
            args.push(format!("--force-with-lease=refs/heads/{branch}:{expected}"));
        }
        args.push(remote.into());
        for (sha, branch, _) in moves {
            args.push(format!("{sha}:refs/heads/{branch}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.runner.git(&self.workdir, &args)
    }

    /// `git cherry-pick --continue` (with the message git prepared, no editor).
    pub fn cherry_pick_continue(&self) -> Result<()> {
        let out = self.runner.git(
            &self.workdir,
            &["-c", "core.editor=true", "cherry-pick", "--continue"],
        )?;
        if out.success() || !self.cherry_pick_in_progress() {
            return Ok(());
        }
        Err(Error::step(format!(
            "git cherry-pick --continue failed:\n{}",
            out.text()
        )))
    }

    pub fn cherry_pick_abort(&self) -> Result<()> {
        if self.cherry_pick_in_progress() {
            self.run_git("aborting the cherry-pick", &["cherry-pick", "--abort"])?;
        }
        Ok(())
    }
}

/// A `git diff-tree --stdin` reading what commits change (see [`Repo::change_reader`]).
pub struct ChangeReader(crate::exec::GitStream);

impl ChangeReader {
    pub fn feed(&mut self, commits: &[Oid]) {
        let mut input = String::with_capacity(commits.len() * 41);
        for c in commits {
            input.push_str(&c.to_string());
            input.push('\n');
        }
        self.0.feed(input.into_bytes());
    }

    /// What each fed commit changes; a merge, or a commit that changes nothing, maps to an
    /// empty list.
    pub fn finish(self) -> Result<HashMap<Oid, Vec<Change>>> {
        let res = self.0.finish()?;
        if !res.success() {
            return Err(Error::step(format!("git diff-tree failed: {}", res.text())));
        }
        let mut out: HashMap<Oid, Vec<Change>> = HashMap::new();
        let mut tokens = res.stdout.split('\0');
        let mut current: Option<Oid> = None;
        while let Some(tok) = tokens.next() {
            if let Some(raw) = tok.strip_prefix(':') {
                let path = tokens.next().unwrap_or_default().to_string();
                let f: Vec<&str> = raw.split(' ').collect();
                let (Some(cur), [om, nm, oid, nid, ..]) = (current, f.as_slice()) else {
                    continue;
                };
                let side = |mode: &str, id: &str| {
                    let m = u32::from_str_radix(mode, 8).ok()?;
                    let o = Oid::from_str(id).ok()?;
                    (m != 0).then_some((m, o))
                };
                out.entry(cur).or_default().push(Change {
                    path,
                    old: side(om, oid),
                    new: side(nm, nid),
                });
            } else if let Ok(o) = Oid::from_str(tok.trim()) {
                current = Some(o);
                out.entry(o).or_default();
            }
        }
        Ok(out)
    }
}

/// Whether a file the pick adds under `dir` can simply be added to `tree` (the target): the
/// directory is there, or it is new with the pick (absent from the pick's `parent` too, so no
/// directory rename can apply) and no part of its path is a file in the target.
fn new_file_fits(
    tree: &git2::Tree<'_>,
    parent: &git2::Tree<'_>,
    dir: &Path,
) -> std::result::Result<bool, git2::Error> {
    let kind = |t: &git2::Tree<'_>, p: &Path| match t.get_path(p) {
        Ok(e) => Ok(Some(e.kind())),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    };
    match kind(tree, dir)? {
        Some(Some(git2::ObjectType::Tree)) => Ok(true),
        Some(_) => Ok(false),
        None => {
            if kind(parent, dir)?.is_some() {
                return Ok(false);
            }
            for a in dir
                .ancestors()
                .skip(1)
                .filter(|a| !a.as_os_str().is_empty())
            {
                match kind(tree, a)? {
                    None | Some(Some(git2::ObjectType::Tree)) => {}
                    Some(_) => return Ok(false),
                }
            }
            Ok(true)
        }
    }
}

/// One path a commit changes: its `(mode, blob)` before and after, `None` where absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub old: Option<(u32, Oid)>,
    pub new: Option<(u32, Oid)>,
}

/// What an in-memory cherry-pick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picked {
    Committed(Oid),
    /// The change is already there: nothing to commit.
    Empty,
    Conflict,
}

/// Appends `(cherry picked from commit …)` as `git cherry-pick -x` does.
pub fn with_pick_trailer(message: &str, sha: &str) -> String {
    let msg = message.trim_end();
    let last_para = msg.rsplit("\n\n").next().unwrap_or("");
    let is_trailers = !last_para.is_empty()
        && msg.contains("\n\n")
        && last_para.lines().all(|l| {
            l.split_once(": ")
                .is_some_and(|(k, _)| !k.is_empty() && !k.contains(' '))
                || l.starts_with("(cherry picked from commit")
        });
    let sep = if is_trailers { "\n" } else { "\n\n" };
    format!("{msg}{sep}(cherry picked from commit {sha})\n")
}

/// What a cherry-pick did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickOutcome {
    Applied,
    /// The change was already present; nothing was committed.
    Empty,
    /// Stopped with these paths in conflict.
    Conflict(Vec<String>),
}

pub use git2::Oid as ObjectId;
