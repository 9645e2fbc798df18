//! Branching models (SPEC section 4): where a hotfix branches from, which version it gets, where
//! its PR goes and where the fix is merged back. One model per file behind [`BranchingModel`];
//! the release and version rules every model shares live here.
//!
//! The base is always resolved from the remote-tracking refs (after a fetch), never from local
//! branches, so a user's unpushed commits are never shipped.

mod gitflow;
mod release_branch;
mod trunk;

use git2::Oid;
use semver::Version;

use crate::config::{Config, ModelKind};
use crate::error::{Error, Result};
use crate::git::Repo;

/// A release: a tag that follows `tag_format` and is not a pre-release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub version: Version,
    pub tag: String,
    pub commit: Oid,
}

/// The line a hotfix fixes: where it branches from, what it is compared with, where it goes.
#[derive(Debug, Clone)]
pub struct Line {
    /// How the base is named to the user: a tag (`v1.3.0`) or a branch (`origin/main`).
    pub base_ref: String,
    pub base: Oid,
    /// The newest release on this line (what runs in production).
    pub previous: Option<Release>,
    /// The branch the PR targets (`main`, `release/1.3`, `support/1.2`).
    pub pr_target: String,
    /// The target branch does not exist yet on the remote: `ship` creates it from this tag.
    pub create_target_from: Option<String>,
    /// Versions on this line must stay below this one (support lines: the next minor).
    pub version_ceiling: Option<Version>,
    /// Notes for the user (which support line was chosen, and why).
    pub notes: Vec<String>,
}

/// What differs between models.
pub trait BranchingModel {
    fn kind(&self) -> ModelKind;
    /// Resolves the line to fix: the latest by default, or the one `from` names.
    fn resolve(&self, ctx: &Releases<'_>, from: Option<&str>) -> Result<Line>;
    /// Default merge-back targets (branch names on the remote), in order.
    fn backport_targets(&self, ctx: &Releases<'_>, line: &Line) -> Result<Vec<String>>;
}

/// The model for a configured kind.
pub fn model(kind: ModelKind) -> Box<dyn BranchingModel> {
    match kind {
        ModelKind::GitFlow => Box::new(gitflow::GitFlow),
        ModelKind::Trunk => Box::new(trunk::Trunk),
        ModelKind::ReleaseBranch => Box::new(release_branch::ReleaseBranch),
    }
}

/// Guesses the model from the remote's branches: a `develop` branch means git-flow, `release/*`
/// branches mean release-branch, anything else trunk. Local branches count when the remote
/// has none (a repository that was never pushed).
pub fn detect(repo: &Repo, cfg: &Config) -> ModelKind {
    let remote = &cfg.repository.remote;
    let has_remote = !repo
        .remote_branches(remote, "")
        .unwrap_or_default()
        .is_empty();
    let (develop, releases) = if has_remote {
        (
            repo.remote_branch(remote, &cfg.repository.develop)
                .is_some(),
            !repo
                .remote_branches(remote, &cfg.model.release_prefix)
                .unwrap_or_default()
                .is_empty(),
        )
    } else {
        let local = repo.local_branches().unwrap_or_default();
        (
            local.iter().any(|b| b == &cfg.repository.develop),
            local
                .iter()
                .any(|b| b.starts_with(&cfg.model.release_prefix)),
        )
    };
    if develop {
        ModelKind::GitFlow
    } else if releases {
        ModelKind::ReleaseBranch
    } else {
        ModelKind::Trunk
    }
}

/// The repository's releases, read once: all tag names parsed, objects peeled only on demand.
pub struct Releases<'r> {
    pub repo: &'r Repo,
    pub cfg: &'r Config,
    /// (version, tag name), newest first.
    sorted: Vec<(Version, String)>,
}

impl<'r> Releases<'r> {
    pub fn read(repo: &'r Repo, cfg: &'r Config) -> Result<Self> {
        let mut sorted: Vec<(Version, String)> = repo
            .tag_names()?
            .into_iter()
            .filter_map(|t| cfg.version_of_tag(&t).map(|v| (v, t)))
            .collect();
        sorted.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        Ok(Releases { repo, cfg, sorted })
    }

    pub fn remote(&self) -> &str {
        &self.cfg.repository.remote
    }

    /// All release versions, newest first.
    pub fn versions(&self) -> impl Iterator<Item = &Version> {
        self.sorted.iter().map(|(v, _)| v)
    }

    fn release(&self, v: &Version, tag: &str) -> Option<Release> {
        Some(Release {
            version: v.clone(),
            tag: tag.to_string(),
            commit: self.repo.tag(tag)?,
        })
    }

    /// The release with exactly this tag name.
    pub fn by_tag(&self, tag: &str) -> Option<Release> {
        let v = self.cfg.version_of_tag(tag)?;
        self.release(&v, tag)
    }

    /// The newest release reachable from `tip` (optionally below `ceiling`).
    ///
    /// The newest few candidates are checked one by one (usually the first one is it); past
    /// that, one walk of `tip`'s history answers for all of them at once, because every "not
    /// reachable" answer of a single check walks the whole history.
    pub fn latest_on(&self, tip: Oid, ceiling: Option<&Version>) -> Option<Release> {
        let mut candidates = self
            .sorted
            .iter()
            .filter(|(v, _)| ceiling.is_none_or(|c| v < c))
            .filter_map(|(v, t)| self.release(v, t));
        for r in candidates.by_ref().take(3) {
            if self.repo.is_ancestor(r.commit, tip) {
                return Some(r);
            }
        }
        let rest: Vec<Release> = candidates.collect();
        if rest.is_empty() {
            return None;
        }
        let reachable = self
            .repo
            .reachable_among(tip, rest.iter().map(|r| r.commit))?;
        rest.into_iter().find(|r| reachable.contains(&r.commit))
    }

    /// Is a version already taken by a tag (local, or remote as last fetched)?
    pub fn tag_taken(&self, v: &Version) -> bool {
        self.repo.tag(&self.cfg.tag_for(v)).is_some()
    }

    /// The next free patch after `prev`: patch + 1, skipping every version whose tag exists.
    pub fn next_free_patch(&self, prev: &Version) -> Version {
        let mut v = Version::new(prev.major, prev.minor, prev.patch + 1);
        while self.tag_taken(&v) {
            v.patch += 1;
        }
        v
    }

    /// Up to `n` releases closest to `wanted`, for "no such release" messages.
    pub fn nearest(&self, wanted: Option<&Version>, n: usize) -> Vec<String> {
        let mut all: Vec<&(Version, String)> = self.sorted.iter().collect();
        if let Some(w) = wanted {
            let key = |v: &Version| -> (u64, u64, u64) {
                (
                    v.major.abs_diff(w.major),
                    v.minor.abs_diff(w.minor),
                    v.patch.abs_diff(w.patch),
                )
            };
            all.sort_by_key(|(v, _)| key(v));
        }
        all.into_iter().take(n).map(|(_, t)| t.clone()).collect()
    }

    /// The tip of `{remote}/{branch}`, or a refusal that says how to get it.
    pub fn remote_tip(&self, branch: &str) -> Result<Oid> {
        self.repo
            .remote_branch(self.remote(), branch)
            .ok_or_else(|| {
                Error::precondition(format!(
                "{}/{branch} does not exist (hotfix branches only from the remote)",
                self.remote()
            ))
            .hint(format!(
                "push it first, or fetch: git fetch {} (hotfix start fetches unless --no-fetch)",
                self.remote()
            ))
            })
    }

    /// A refusal for a base that does not exist, listing the nearest releases.
    pub fn no_such_base(&self, from: &str) -> Error {
        let wanted = self
            .cfg
            .version_of_tag(from)
            .or_else(|| Version::parse(from.trim_start_matches('v')).ok());
        let near = self.nearest(wanted.as_ref(), 5);
        let e = Error::precondition(format!("the base {from:?} does not exist"));
        if near.is_empty() {
            e.hint("there are no release tags yet: give the version and the base, e.g. `hotfix start 1.0.1 --from <tag-or-branch>`")
        } else {
            e.hint(format!("nearest releases: {}", near.join(", ")))
                .hint(format!("for example: hotfix start --from {}", near[0]))
        }
    }

    /// Resolves `--from` when it names a release tag older than `latest` on a line that has
    /// moved on: git-flow's support line `{support_prefix}MAJOR.MINOR`.
    pub fn support_line(&self, from: &Release) -> Result<Line> {
        let name = format!(
            "{}{}.{}",
            self.cfg.model.support_prefix, from.version.major, from.version.minor
        );
        let ceiling = Version::new(from.version.major, from.version.minor + 1, 0);
        let mut notes = Vec::new();
        let (base_release, create_from) = match self.repo.remote_branch(self.remote(), &name) {
            Some(tip) => {
                let latest = self.latest_on(tip, Some(&ceiling)).unwrap_or(from.clone());
                if latest.version > from.version {
                    notes.push(format!(
                        "{name} already carries {}; branching from it instead of {}",
                        latest.tag, from.tag
                    ));
                }
                (latest, None)
            }
            None => {
                notes.push(format!(
                    "{name} does not exist yet: `hotfix ship` creates it from {}",
                    from.tag
                ));
                (from.clone(), Some(from.tag.clone()))
            }
        };
        Ok(Line {
            base_ref: base_release.tag.clone(),
            base: base_release.commit,
            previous: Some(base_release),
            pr_target: name,
            create_target_from: create_from,
            version_ceiling: Some(ceiling),
            notes,
        })
    }
}

/// Branch names `release/X.Y` sorted by version, oldest first; others are ignored.
pub fn sort_release_branches(prefix: &str, names: Vec<String>) -> Vec<(Version, String)> {
    let mut v: Vec<(Version, String)> = names
        .into_iter()
        .filter_map(|n| {
            let rest = n.strip_prefix(prefix)?;
            let mut parts = rest.split('.');
            let major = parts.next()?.parse().ok()?;
            let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
            if parts.next().is_some() {
                return None;
            }
            Some((Version::new(major, minor, 0), n))
        })
        .collect();
    v.sort();
    v
}

/// Decides the hotfix version on a line: the explicit one (checked) or the next free patch.
pub fn hotfix_version(rel: &Releases<'_>, line: &Line, explicit: Option<&str>) -> Result<Version> {
    match explicit {
        Some(text) => {
            let v = Version::parse(text.trim_start_matches('v')).map_err(|e| {
                Error::usage(format!("{text:?} is not a version: {e}"))
                    .hint("write it as MAJOR.MINOR.PATCH, e.g. 1.4.2")
            })?;
            if !v.pre.is_empty() {
                return Err(Error::usage(format!(
                    "{v} is a pre-release; a hotfix version is a release"
                )));
            }
            if let Some(prev) = &line.previous
                && v <= prev.version
            {
                return Err(Error::precondition(format!(
                    "{v} is not newer than {}, the previous release on this line",
                    prev.tag
                ))
                .hint(format!(
                    "leave the version out to get the next free one ({})",
                    rel.next_free_patch(&prev.version)
                )));
            }
            if let Some(c) = &line.version_ceiling
                && v >= *c
            {
                return Err(Error::precondition(format!(
                    "{v} does not belong to this line (it must stay below {c})"
                )));
            }
            if rel.tag_taken(&v) {
                return Err(Error::precondition(format!(
                    "the tag {} already exists",
                    rel.cfg.tag_for(&v)
                ))
                .hint("leave the version out to get the next free one"));
            }
            Ok(v)
        }
        None => match &line.previous {
            Some(prev) => Ok(rel.next_free_patch(&prev.version)),
            None => Err(Error::precondition(format!(
                "there is no release tag (format {:?}) on {}",
                rel.cfg.model.tag_format, line.base_ref
            ))
            .hint("give the version and the base: hotfix start 1.0.1 --from <tag-or-branch>")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_branches_sort_by_version_not_by_text() {
        let names = ["release/1.10", "release/1.9", "release/2.0", "release/x"]
            .map(String::from)
            .to_vec();
        let sorted: Vec<String> = sort_release_branches("release/", names)
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(sorted, ["release/1.9", "release/1.10", "release/2.0"]);
    }
}
