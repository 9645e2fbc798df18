//! `hotfix log`: the audit trail of the hotfix in progress (or the last one): every event of
//! `log.jsonl` as a timeline, and the human record rendered from `templates/record.md.j2`.

use serde_json::{Value, json};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::journal::{Journal, State};
use crate::templates;

/// The record of a hotfix: who approved which commit, tests, stages, rollbacks, timeline.
pub fn render_record(journal: &Journal, state: &State) -> Result<String> {
    render_record_with(journal, state, journal.events()?)
}

fn render_record_with(journal: &Journal, state: &State, events: Vec<Value>) -> Result<String> {
    let deploy = journal.load_deploy()?.filter(|d| d.tag == state.tag);
    let approvals = state
        .approval
        .as_ref()
        .and_then(|v| v["reviews"].as_array().cloned())
        .unwrap_or_default();
    templates::render(
        "record.md",
        json!({
            "version": state.version,
            "incident": state.incident,
            "model": state.model,
            "base": format!("{} ({})", state.base.name, &state.base.sha[..state.base.sha.len().min(10)]),
            "previous": state.previous.as_ref().map(|p| p.name.clone()),
            "branch": state.branch,
            "pr": state.pr.as_ref().map(|p| format!("#{} {}", p.number, p.url)),
            "merge_sha": state.merge_sha,
            "tag": state.tag,
            "phase": state.phase.as_str(),
            "approvals": approvals,
            "tests": state.tests,
            "environments": deploy.map(|d| d.environments).unwrap_or_default(),
            "events": events,
        }),
    )
}

pub fn run(ctx: &Context) -> Result<Value> {
    let repo = ctx.repo()?;
    let journal = ctx.journal(&repo);
    let (state, events) = match journal.load()? {
        Some(s) => (s, journal.events()?),
        None => {
            let (s, dir) = last_finished(&journal)?.ok_or_else(|| {
                Error::precondition("no hotfix in progress and none finished yet: nothing to show")
                    .hint("start one: hotfix start")
            })?;
            let events = std::fs::read_to_string(dir.join("log.jsonl"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            (s, events)
        }
    };
    for e in &events {
        ctx.ui.out(format!(
            "{}  {:<22} {}",
            e["time"].as_str().unwrap_or(""),
            e["step"].as_str().unwrap_or(""),
            e["outcome"].as_str().unwrap_or("")
        ));
    }
    let record = render_record_with(&journal, &state, events.clone())?;
    ctx.ui.out(format!("\n{record}"));
    Ok(json!({ "version": state.version, "events": events, "record": record }))
}

/// The most recently archived hotfix (`done/` or `aborted/`) and its directory.
fn last_finished(journal: &Journal) -> Result<Option<(State, std::path::PathBuf)>> {
    let mut newest: Option<(std::time::SystemTime, std::path::PathBuf)> = None;
    for kind in ["done", "aborted"] {
        let Ok(rd) = std::fs::read_dir(journal.dir().join(kind)) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path().join("state.json");
            if let Ok(m) = p.metadata().and_then(|m| m.modified())
                && newest.as_ref().is_none_or(|(t, _)| m > *t)
            {
                newest = Some((m, e.path()));
            }
        }
    }
    Ok(newest.and_then(|(_, dir)| {
        let s = std::fs::read_to_string(dir.join("state.json")).ok()?;
        Some((serde_json::from_str(&s).ok()?, dir))
    }))
}

/// The newest hotfix that reached `done`.
pub fn last_finished_done(journal: &Journal) -> Result<Option<State>> {
    let mut newest: Option<(semver::Version, State)> = None;
    let Ok(rd) = std::fs::read_dir(journal.dir().join("done")) else {
        return Ok(None);
    };
    for e in rd.flatten() {
        let Some(s) = std::fs::read_to_string(e.path().join("state.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<State>(&t).ok())
        else {
            continue;
        };
        let v = semver::Version::parse(&s.version).unwrap_or(semver::Version::new(0, 0, 0));
        if newest.as_ref().is_none_or(|(nv, _)| v > *nv) {
            newest = Some((v, s));
        }
    }
    Ok(newest.map(|(_, s)| s))
}
