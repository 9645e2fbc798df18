//! `hotfix runbook`: the team's hotfix process rendered from the configuration, so the
//! expedited path is documented before anyone needs it and never drifts from what the tool does.

use serde_json::{Value, json};

use crate::cli::RunbookArgs;
use crate::config::{ModelKind, Unmatched};
use crate::context::Context;
use crate::deploy::{self, Scope};
use crate::error::Result;
use crate::templates;

pub fn run(ctx: &Context, args: RunbookArgs) -> Result<Value> {
    let repo = ctx.repo()?;
    let state = ctx.journal(&repo).load()?;
    let loaded = ctx.config(Some(&repo), state.as_ref())?;
    let cfg = &loaded.config;
    let kind = cfg.model_kind();
    let plan = deploy::plan(&cfg.deploy, &Scope::default())?;
    let gate = |h: &Option<crate::config::Health>| match h {
        None => "none".to_string(),
        Some(h) => format!(
            "{} ({} in a row within {})",
            h.url.clone().or(h.command.clone()).unwrap_or_default(),
            h.consecutive_successes,
            h.timeout
        ),
    };
    let waves: Vec<Vec<Value>> = plan
        .waves
        .iter()
        .map(|w| {
            w.iter()
                .filter_map(|id| plan.stage(id))
                .map(|s| {
                    json!({
                        "id": s.id, "run": s.run, "delegated": s.delegated, "promote": s.promote,
                        "rollback": s.rollback, "gate": gate(&s.health),
                    })
                })
                .collect()
        })
        .collect();
    let (line, start_from, pr_target, backport) = match kind {
        ModelKind::GitFlow => (
            cfg.repository.main.clone(),
            format!("the latest release tag on `{}`", cfg.repository.main),
            cfg.repository.main.clone(),
            format!(
                "The tag is merged into `{}` with `--no-ff`; open `{}*` branches get the hotfix commits by `cherry-pick -x`.",
                cfg.repository.develop, cfg.model.release_prefix
            ),
        ),
        ModelKind::Trunk => (
            cfg.repository.main.clone(),
            format!("the tip of `{}`", cfg.repository.main),
            cfg.repository.main.clone(),
            match &cfg.backport.targets {
                Some(t) if !t.is_empty() => format!(
                    "The fix is on trunk already; also cherry-picked to {}.",
                    t.join(", ")
                ),
                _ => "The fix is on trunk already: nothing to merge back.".to_string(),
            },
        ),
        ModelKind::ReleaseBranch => (
            format!("{}X.Y", cfg.model.release_prefix),
            format!("the tip of the newest `{}X.Y`", cfg.model.release_prefix),
            format!("{}X.Y", cfg.model.release_prefix),
            format!(
                "Cherry-picked (`-x`) to `{}` and every newer `{}*` branch, in version order.",
                cfg.repository.main, cfg.model.release_prefix
            ),
        ),
    };
    let a = &cfg.approval;
    let text = templates::render(
        "runbook.md",
        json!({
            "model": kind.as_str(),
            "tag_format": cfg.model.tag_format,
            "remote": cfg.repository.remote,
            "line": line,
            "start_from": start_from,
            "hotfix_prefix": cfg.model.hotfix_prefix,
            "support_prefix": cfg.model.support_prefix,
            "pr_target": pr_target,
            "merge_method": cfg.merge_method().as_str(),
            "rules": cfg.tests.rule.iter().map(|r| json!({"name": r.name, "run": r.run, "paths": r.paths.iter().map(|g| g.0.clone()).collect::<Vec<_>>()})).collect::<Vec<_>>(),
            "smoke": cfg.tests.smoke,
            "unmatched": match cfg.tests.unmatched { Unmatched::Full => "the full suite", Unmatched::Smoke => "smoke tests only", Unmatched::Fail => "refused" },
            "full": cfg.tests.full,
            "test_timeout": cfg.tests.timeout.to_string(),
            "jobs": cfg.tests.jobs,
            "min_approvals": a.min_approvals.0,
            "required_reviewers": a.required_reviewers,
            "required_checks": a.required_checks,
            "reviewers": a.reviewers,
            "team_reviewers": a.team_reviewers,
            "expires_after": a.expires_after.to_string(),
            "wait_timeout": a.wait_timeout.to_string(),
            "environments": cfg.deploy.environments,
            "confirm": cfg.ship.confirm_deploy,
            "max_parallel": cfg.deploy.max_parallel,
            "waves": waves,
            "held_back": plan.skipped,
            "monitor": cfg.deploy.monitor.as_ref().filter(|m| !m.duration.0.is_zero()).map(|m| m.duration.to_string()),
            "on_failure": cfg.deploy.monitor.as_ref().map(|m| if m.on_failure == crate::config::OnFailure::Rollback { "rolls the environment back" } else { "alerts without rolling back" }),
            "backport": backport,
            "backport_on_ship": cfg.ship.backport,
        }),
    )?;
    match &args.output {
        Some(path) => {
            let path = ctx.cwd.join(path);
            if ctx.dry_run() {
                ctx.ui.would(format!("write {}", path.display()));
            } else {
                crate::journal::write_atomic(&path, text.as_bytes())?;
            }
            ctx.ui
                .out(format!("Wrote the runbook to {}", path.display()));
        }
        None => ctx.ui.out(text.trim_end()),
    }
    Ok(json!({ "runbook": text }))
}
