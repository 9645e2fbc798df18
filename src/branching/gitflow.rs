//! git-flow: hotfixes branch from the latest release tag on `main`, merge back into `main`
//! (tagged there) and `develop`; an older release is fixed on a `support/X.Y` line.

use super::{BranchingModel, Line, Releases, sort_release_branches};
use crate::config::ModelKind;
use crate::error::{Error, Result};

pub struct GitFlow;

impl BranchingModel for GitFlow {
    fn kind(&self) -> ModelKind {
        ModelKind::GitFlow
    }

    fn resolve(&self, rel: &Releases<'_>, from: Option<&str>) -> Result<Line> {
        let main = &rel.cfg.repository.main;
        let tip = rel.remote_tip(main)?;
        let latest = rel.latest_on(tip, None);
        match from {
            None => {
                let latest = latest.ok_or_else(|| {
                    Error::precondition(format!(
                        "there is no release tag on {}/{main}",
                        rel.remote()
                    ))
                    .hint("give the version and the base: hotfix start 1.0.1 --from <tag>")
                })?;
                Ok(Line {
                    base_ref: latest.tag.clone(),
                    base: latest.commit,
                    previous: Some(latest),
                    pr_target: main.clone(),
                    create_target_from: None,
                    version_ceiling: None,
                    notes: Vec::new(),
                })
            }
            Some(from) => {
                let support = &rel.cfg.model.support_prefix;
                if let Some(line) = from.strip_prefix(support) {
                    // `--from support/1.2`: that line's latest release.
                    let tip = rel.remote_tip(from)?;
                    let r = rel
                        .latest_on(tip, None)
                        .ok_or_else(|| rel.no_such_base(line))?;
                    return rel.support_line(&r);
                }
                let r = rel.by_tag(from).ok_or_else(|| rel.no_such_base(from))?;
                if latest.as_ref().is_some_and(|l| l.tag == r.tag) {
                    return self.resolve(rel, None);
                }
                rel.support_line(&r)
            }
        }
    }

    fn backport_targets(&self, rel: &Releases<'_>, line: &Line) -> Result<Vec<String>> {
        let mut targets = Vec::new();
        if line.pr_target.starts_with(&rel.cfg.model.support_prefix) {
            // A fix to an older release goes forward to main and develop.
            targets.push(rel.cfg.repository.main.clone());
        }
        targets.push(rel.cfg.repository.develop.clone());
        let prefix = &rel.cfg.model.release_prefix;
        let open = rel.repo.remote_branches(rel.remote(), prefix)?;
        targets.extend(
            sort_release_branches(prefix, open)
                .into_iter()
                .map(|(_, n)| n),
        );
        Ok(targets)
    }
}
