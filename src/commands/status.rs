//! `hotfix status`: where the hotfix in progress is and the exact next command. Reads local
//! state and the local repository only, so it is instant and works offline.

use serde_json::{Value, json};

use super::start::short;
use crate::cli::StatusArgs;
use crate::context::Context;
use crate::error::Result;
use crate::journal::PickState;

pub fn run(ctx: &Context, args: StatusArgs) -> Result<Value> {
    let repo = ctx.repo()?;
    let journal = ctx.journal(&repo);
    let state = match journal.load()? {
        Some(s) => Some(s),
        // A machine without state (a CI runner): with --refresh, ask the remote.
        None if args.refresh => super::ship::rebuild_from_remote(ctx, &repo, &journal)?,
        None => None,
    };
    let Some(mut state) = state else {
        ctx.ui.out("No hotfix in progress.");
        return Ok(json!({ "in_progress": false }));
    };
    if args.refresh {
        state = super::ship::refresh(ctx, &repo, &journal, state)?;
    }
    let commits = match (
        git2::Oid::from_str(&state.base.sha).ok(),
        repo.local_branch(&state.branch),
    ) {
        (Some(base), Some(head)) => repo.commits_between(base, head).unwrap_or_default(),
        _ => Vec::new(),
    };
    let next = super::next_command(&state, !commits.is_empty());
    let ui = &ctx.ui;
    ui.out(format!(
        "{} {} — {}",
        ui.bold("Hotfix"),
        state.version,
        state.phase.as_str()
    ));
    ui.out(format!("  model      {}", state.model));
    ui.out(format!(
        "  branch     {} ({} commit(s) beyond the base)",
        state.branch,
        commits.len()
    ));
    ui.out(format!(
        "  base       {} ({})",
        state.base.name,
        short(&state.base.sha)
    ));
    if let Some(p) = &state.previous {
        ui.out(format!("  previous   {} ({})", p.name, short(&p.sha)));
    }
    ui.out(format!("  PR into    {}", state.pr_target));
    if let Some(i) = &state.incident {
        ui.out(format!("  incident   {i}"));
    }
    for c in &commits {
        ui.out(format!("    {} {}", short(&c.sha), c.summary));
    }
    if !state.unreleased.is_empty() {
        ui.out(format!(
            "  {} unreleased commit(s) ship along with the fix",
            state.unreleased.len()
        ));
    }
    for p in state
        .picks
        .iter()
        .filter(|p| p.state == PickState::Conflict)
    {
        ui.out(format!("  conflict   picking {}", short(&p.sha)));
    }
    let approvals: Vec<Value> = state
        .approval
        .as_ref()
        .and_then(|v| v["reviews"].as_array().cloned())
        .unwrap_or_default();
    if let Some(pr) = &state.pr {
        ui.out(format!(
            "  PR         #{} {} (head {})",
            pr.number,
            pr.url,
            short(&pr.head_sha)
        ));
        for a in &approvals {
            ui.out(format!(
                "    {} {} on {} — {}",
                if a["counts"].as_bool() == Some(true) {
                    "✓"
                } else {
                    "·"
                },
                a["login"].as_str().unwrap_or("?"),
                short(a["commit"].as_str().unwrap_or("?")),
                a["reason"].as_str().unwrap_or("")
            ));
        }
        if let Some(w) = state
            .approval
            .as_ref()
            .and_then(|v| v["waiting_for"].as_array())
            && !w.is_empty()
        {
            let w: Vec<&str> = w.iter().filter_map(|x| x.as_str()).collect();
            ui.out(format!("    waiting for {}", w.join("; ")));
        }
    }
    ui.out(format!(
        "  done       {}",
        if state.steps.is_empty() {
            "nothing yet".to_string()
        } else {
            state.steps.join(", ")
        }
    ));
    // The deploy of this hotfix's tag, as journaled.
    let deploy = journal
        .load_deploy()?
        .filter(|d| d.tag == state.tag)
        .map(|d| {
            let env = d
                .environments
                .iter()
                .rev()
                .find(|e| !e.stages.is_empty())
                .or(d.environments.first());
            json!({
                "environment": env.map(|e| e.name.clone()),
                "stages": env.map(|e| e.stages.iter().map(|(id, st)| json!({"id": id, "state": st})).collect::<Vec<_>>()).unwrap_or_default(),
                "finished": d.finished,
                "outcome": d.outcome,
            })
        });
    if let Some(d) = &deploy {
        ui.out(format!(
            "  deploy     {} {}",
            d["environment"].as_str().unwrap_or(""),
            d["outcome"].as_str().unwrap_or("in progress")
        ));
    }
    for t in &state.backport {
        let st = serde_json::to_value(t.state)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        ui.out(format!("  backport   {} ({}): {st}", t.target, t.method));
    }
    ui.out(format!("Next: {next}"));
    Ok(json!({
        "in_progress": true,
        "phase": state.phase.as_str(),
        "version": state.version,
        "tag": state.tag,
        "model": state.model,
        "base": state.base,
        "previous": state.previous,
        "branch": state.branch,
        "pr_target": state.pr_target,
        "incident": state.incident,
        "commits": commits,
        "unreleased_commits": state.unreleased,
        "steps_done": state.steps,
        "next_command": next,
        "pr": state.pr.as_ref().map(|p| json!({"number": p.number, "url": p.url, "head_sha": p.head_sha})),
        "approvals": approvals.iter().map(|a| json!({
            "login": a["login"],
            "commit": a["commit"],
            "submitted_at": a["submitted_at"],
            "counts": a["counts"],
            "reason": a["reason"],
        })).collect::<Vec<_>>(),
        "merge_sha": state.merge_sha,
        "deploy": deploy,
        "backport": state.backport.iter().map(|t| json!({
            "target": t.target,
            "state": t.state,
            "method": t.method,
            "pr": t.pr,
        })).collect::<Vec<_>>(),
    }))
}
