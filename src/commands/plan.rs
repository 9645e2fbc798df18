//! `hotfix plan`: the deploy plan in waves, with gates, rollbacks and skipped stages (text, json
//! or mermaid). Changes nothing and runs nothing.

use serde_json::{Value, json};

use crate::cli::{PlanArgs, PlanFormat};
use crate::config::Health;
use crate::context::Context;
use crate::deploy::{self, Scope};
use crate::error::Result;

fn gate(h: &Option<Health>) -> String {
    match h {
        None => "none".into(),
        Some(h) => {
            let what = h
                .url
                .as_deref()
                .map(|u| format!("GET {u} → {}", h.expect_status))
                .or_else(|| h.command.as_deref().map(|c| format!("`{c}`")))
                .unwrap_or_default();
            format!(
                "{what}, {} in a row, at most {} failure(s), within {}",
                h.consecutive_successes, h.failure_limit, h.timeout
            )
        }
    }
}

pub fn run(ctx: &Context, args: PlanArgs, contract: bool) -> Result<Value> {
    let repo = ctx.repo()?;
    let journal = ctx.journal(&repo);
    let state = journal.load()?;
    let loaded = ctx.config(Some(&repo), state.as_ref())?;
    let cfg = &loaded.config;
    // With a hotfix in progress, `paths` filters apply to what changed since production.
    let changed = match &state {
        Some(st) => {
            let (_, base) = super::test::resolve_base(&repo, cfg, Some(st), None)?;
            let head = repo.local_branch(&st.branch).or_else(|| repo.head_oid());
            match head {
                Some(h) => Some(repo.changed_paths(base, h)?),
                None => None,
            }
        }
        None => None,
    };
    let plan = deploy::plan(
        &cfg.deploy,
        &Scope {
            changed: changed.as_deref(),
            contract,
            only: &[],
        },
    )?;
    let value = json!({
        "environments": cfg.deploy.environments,
        "max_parallel": cfg.deploy.max_parallel,
        "waves": plan.waves,
        "stages": plan.stages,
        "skipped": plan.skipped,
        "rollback_order": plan.rollback_waves(&plan.stages.iter().map(|s| s.id.clone()).collect()),
        "changed_files_known": changed.is_some(),
    });
    match args.format {
        PlanFormat::Json => {
            if !ctx.global.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                );
            }
        }
        PlanFormat::Mermaid => ctx.ui.out(deploy::plan::mermaid(&plan)),
        PlanFormat::Text => {
            let ui = &ctx.ui;
            ui.out(format!(
                "Deploy plan for {} (up to {} stage(s) at once){}",
                cfg.deploy.environments.join(" → "),
                cfg.deploy.max_parallel,
                if changed.is_some() {
                    ""
                } else {
                    "; no hotfix in progress, so `paths` filters do not apply"
                }
            ));
            if plan.stages.is_empty() {
                ui.out("  no stage runs");
            }
            for (i, w) in plan.waves.iter().enumerate() {
                ui.out(format!("wave {}: {}", i + 1, w.join(", ")));
                for id in w {
                    let Some(s) = plan.stage(id) else { continue };
                    let run = if s.delegated {
                        "delegated to a GitHub Deployment".to_string()
                    } else {
                        format!("run `{}`", s.run.as_deref().unwrap_or(""))
                    };
                    ui.out(format!(
                        "  {id}: {run}; timeout {}; retries {}",
                        crate::config::Dur(s.timeout),
                        s.retries
                    ));
                    if let Some(p) = &s.promote {
                        ui.out(format!(
                            "    staging gate: {}; then promote `{p}`",
                            gate(&s.pre_promote_health)
                        ));
                    }
                    if let Some(t) = &s.traffic {
                        ui.out(format!(
                            "    traffic steps {:?} via `{}`, pause {}",
                            t.steps, t.run, t.pause
                        ));
                    }
                    ui.out(format!("    gate: {}", gate(&s.health)));
                    ui.out(format!(
                        "    rollback: {}",
                        s.rollback
                            .as_deref()
                            .map_or("none (not rolled back)".to_string(), |r| format!("`{r}`"))
                    ));
                }
            }
            for s in &plan.skipped {
                ui.out(format!("skipped: {} — {}", s.id, s.reason));
            }
            let rb = plan.rollback_waves(&plan.stages.iter().map(|s| s.id.clone()).collect());
            if !rb.is_empty() {
                ui.out(format!(
                    "on failure, roll back: {}",
                    rb.iter()
                        .map(|w| w.join(" + "))
                        .collect::<Vec<_>>()
                        .join(" → ")
                ));
            }
        }
    }
    Ok(value)
}
