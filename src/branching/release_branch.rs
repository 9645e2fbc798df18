//! Release branches: each `release/X.Y` is a line of its own. A hotfix branches from the tip of
//! the newest one (or the one `--from` names), is merged into it and tagged there, then
//! cherry-picked into `main` and every newer release branch.

use super::{BranchingModel, Line, Releases, sort_release_branches};
use crate::config::ModelKind;
use crate::error::{Error, Result};
use semver::Version;

pub struct ReleaseBranch;

impl ReleaseBranch {
    /// `release/1.3`, `1.3` or a tag `v1.3.2` → `release/1.3`.
    fn branch_for(rel: &Releases<'_>, from: &str) -> String {
        let prefix = &rel.cfg.model.release_prefix;
        if from.starts_with(prefix.as_str()) {
            return from.to_string();
        }
        if let Some(v) = rel.cfg.version_of_tag(from) {
            return format!("{prefix}{}.{}", v.major, v.minor);
        }
        format!("{prefix}{from}")
    }
}

impl BranchingModel for ReleaseBranch {
    fn kind(&self) -> ModelKind {
        ModelKind::ReleaseBranch
    }

    fn resolve(&self, rel: &Releases<'_>, from: Option<&str>) -> Result<Line> {
        let prefix = &rel.cfg.model.release_prefix;
        let branches =
            sort_release_branches(prefix, rel.repo.remote_branches(rel.remote(), prefix)?);
        let (line_version, branch) = match from {
            None => branches.last().cloned().ok_or_else(|| {
                Error::precondition(format!(
                    "there is no {prefix}X.Y branch on {}",
                    rel.remote()
                ))
                .hint("push the release branch, or name the line: hotfix start --from release/1.2")
            })?,
            Some(from) => {
                let b = Self::branch_for(rel, from);
                match branches.iter().find(|(_, n)| *n == b) {
                    Some(found) => found.clone(),
                    None => {
                        let known: Vec<&str> = branches
                            .iter()
                            .rev()
                            .take(5)
                            .map(|(_, n)| n.as_str())
                            .collect();
                        let mut e = Error::precondition(format!(
                            "the release line {b} does not exist on {}",
                            rel.remote()
                        ));
                        if !known.is_empty() {
                            e = e.hint(format!("newest release branches: {}", known.join(", ")));
                        }
                        return Err(e);
                    }
                }
            }
        };
        let tip = rel.remote_tip(&branch)?;
        let ceiling = Version::new(line_version.major, line_version.minor + 1, 0);
        Ok(Line {
            base_ref: format!("{}/{branch}", rel.remote()),
            base: tip,
            previous: rel.latest_on(tip, Some(&ceiling)),
            pr_target: branch,
            create_target_from: None,
            version_ceiling: Some(ceiling),
            notes: Vec::new(),
        })
    }

    fn backport_targets(&self, rel: &Releases<'_>, line: &Line) -> Result<Vec<String>> {
        let prefix = &rel.cfg.model.release_prefix;
        let mine = sort_release_branches(prefix, vec![line.pr_target.clone()]);
        let all = sort_release_branches(prefix, rel.repo.remote_branches(rel.remote(), prefix)?);
        let mut targets = vec![rel.cfg.repository.main.clone()];
        if let Some((v, _)) = mine.first() {
            targets.extend(all.into_iter().filter(|(o, _)| o > v).map(|(_, n)| n));
        }
        Ok(targets)
    }
}
