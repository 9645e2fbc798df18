//! Trunk-based: hotfixes branch from the tip of `{remote}/{main}` and are merged (squashed)
//! back into it; the fix is already on trunk, so nothing is backported unless configured.
//! `--from` an older release uses a support line, as git-flow does.

use super::{BranchingModel, Line, Releases};
use crate::config::ModelKind;
use crate::error::Result;

pub struct Trunk;

impl BranchingModel for Trunk {
    fn kind(&self) -> ModelKind {
        ModelKind::Trunk
    }

    fn resolve(&self, rel: &Releases<'_>, from: Option<&str>) -> Result<Line> {
        let main = &rel.cfg.repository.main;
        let tip = rel.remote_tip(main)?;
        if let Some(from) = from {
            let r = rel.by_tag(from).ok_or_else(|| rel.no_such_base(from))?;
            let latest = rel.latest_on(tip, None);
            if latest.as_ref().is_none_or(|l| l.tag != r.tag) {
                return rel.support_line(&r);
            }
        }
        Ok(Line {
            base_ref: format!("{}/{main}", rel.remote()),
            base: tip,
            previous: rel.latest_on(tip, None),
            pr_target: main.clone(),
            create_target_from: None,
            version_ceiling: None,
            notes: Vec::new(),
        })
    }

    fn backport_targets(&self, rel: &Releases<'_>, _line: &Line) -> Result<Vec<String>> {
        Ok(rel.cfg.backport.targets.clone().unwrap_or_default())
    }
}
