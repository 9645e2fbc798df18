//! `hotfix start`: cut the hotfix branch from what runs in production.
//!
//! Everything is checked before anything changes (a refusal is exit 2 with nothing touched);
//! then the state is written first and each step is recorded as it completes, so a kill at any
//! point leaves a state from which `hotfix start` (resume) or `hotfix abort` ends cleanly.

use serde_json::{Value, json};

use crate::branching::{self, Releases};
use crate::cli::StartArgs;
use crate::config::Config;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::git::{PickOutcome, Repo};
use crate::journal::{
    self, Event, Journal, Origin, Phase, Pick, PickState, RefSha, SCHEMA_VERSION, State,
};
use crate::lifecycle;

pub fn run(ctx: &Context, args: StartArgs) -> Result<Value> {
    if args.abort {
        return super::abort::run(ctx);
    }
    let repo = ctx.repo()?;
    let journal = ctx.journal(&repo);
    let existing = journal.load()?;
    if args.cont {
        let state = existing
            .filter(|s| s.phase == Phase::Starting)
            .ok_or_else(|| {
                Error::precondition("there is no interrupted `hotfix start` to continue")
                    .hint("hotfix status")
            })?;
        return resume(ctx, &repo, &journal, state);
    }
    if let Some(state) = existing {
        let same = args
            .version
            .as_deref()
            .is_none_or(|v| v.trim_start_matches('v') == state.version);
        if state.phase == Phase::Starting && same {
            ctx.ui.info(format!(
                "Resuming the interrupted start of hotfix {}",
                state.version
            ));
            return resume(ctx, &repo, &journal, state);
        }
        return Err(Error::precondition(format!(
            "another hotfix ({}, phase {}) is in progress in this repository",
            state.version,
            state.phase.as_str()
        ))
        .hint("see where it is: hotfix status")
        .hint("finish it with `hotfix ship`, or abandon it with `hotfix abort`"));
    }
    if repo.cherry_pick_in_progress() {
        return Err(
            Error::precondition("a cherry-pick is in progress in this repository").hint(
                "finish it (git cherry-pick --continue) or abort it (git cherry-pick --abort)",
            ),
        );
    }
    let dirty = repo.uncommitted_changes()?;
    if !dirty.is_empty() {
        let mut list: Vec<String> = dirty.iter().take(10).cloned().collect();
        if dirty.len() > 10 {
            list.push(format!("… and {} more", dirty.len() - 10));
        }
        return Err(Error::precondition(format!(
            "the working tree has uncommitted changes:\n  {}",
            list.join("\n  ")
        ))
        .hint("commit them, or put them aside: git stash push")
        .hint("then run hotfix start again"));
    }

    let loaded = ctx.config(Some(&repo), None)?;
    let cfg = &loaded.config;
    if let (Some(pattern), Some(incident)) = (&cfg.hooks.incident_pattern, &args.incident) {
        let re = regex::Regex::new(pattern)
            .map_err(|e| Error::config(format!("hooks.incident_pattern: {e}")))?;
        if !re.is_match(incident) {
            return Err(Error::usage(format!(
                "--incident {incident:?} does not match hooks.incident_pattern {pattern:?}"
            )));
        }
    }

    let remote = &cfg.repository.remote;
    if repo.remote_url(remote).is_none() {
        return Err(
            Error::precondition(format!("this repository has no remote {remote:?}")).hint(format!(
                "add it (git remote add {remote} <url>) or set repository.remote in .rolloutrc"
            )),
        );
    }
    if args.no_fetch {
        ctx.ui.detail(format!("not fetching {remote} (--no-fetch)"));
    } else {
        let p = ctx.ui.progress(format!("Fetching {remote}"));
        let r = repo.fetch(remote);
        p.finish();
        r?;
    }

    let rel = Releases::read(&repo, cfg)?;
    let model = branching::model(cfg.model_kind());
    let line = model.resolve(&rel, args.from.as_deref())?;
    let version = branching::hotfix_version(&rel, &line, args.version.as_deref())?;
    let branch = cfg.hotfix_branch(&version);
    let tag = cfg.tag_for(&version);

    if repo.local_branch(&branch).is_some() {
        return Err(Error::precondition(format!("the branch {branch} already exists locally"))
            .hint(format!("to work on it: git switch {branch}"))
            .hint(format!("if it is left over, delete it (git branch -D {branch}) and run hotfix start again")));
    }
    if repo.remote_branch(remote, &branch).is_some() {
        return Err(Error::precondition(format!(
            "the branch {branch} already exists on {remote}: someone may already be fixing this"
        ))
        .hint(format!("to join that work: git switch {branch}"))
        .hint("or start the next version explicitly: hotfix start <VERSION>"));
    }
    if repo.tag(&tag).is_some() {
        return Err(Error::precondition(format!("the tag {tag} already exists")));
    }
    let picks = check_picks(&repo, &args.pick, line.base)?;
    let unreleased = match &line.previous {
        Some(prev) if prev.commit != line.base => repo.commits_between(prev.commit, line.base)?,
        _ => Vec::new(),
    };

    let now = crate::ui::timestamp();
    let mut state = State {
        schema_version: SCHEMA_VERSION,
        run_id: journal::new_run_id(),
        phase: Phase::Starting,
        model: cfg.model_kind().to_string(),
        version: version.to_string(),
        tag,
        branch: branch.clone(),
        base: RefSha {
            name: line.base_ref.clone(),
            sha: line.base.to_string(),
        },
        previous: line.previous.as_ref().map(|p| RefSha {
            name: p.tag.clone(),
            sha: p.commit.to_string(),
        }),
        pr_target: line.pr_target.clone(),
        create_target_from: line.create_target_from.clone(),
        origin: Origin {
            branch: repo.current_branch(),
            sha: repo.head_oid().map(|o| o.to_string()),
        },
        incident: args.incident.clone(),
        picks,
        unreleased,
        steps: Vec::new(),
        // The repository's layer as it is now: a hotfix branch cut from an older tag may not
        // have it, and later commands then use this copy (user and environment layers still
        // apply on top).
        config: ctx
            .config_files(Some(&repo), None)?
            .into_iter()
            .find(|l| {
                l.label == crate::context::RC_FILE
                    || Some(l.label.as_str())
                        == ctx.global.config.as_deref().and_then(|p| p.to_str())
            })
            .map(|l| l.text),
        started_at: now.clone(),
        updated_at: now,
        tested_head: None,
        tests: Vec::new(),
        pushed: None,
        pr: None,
        wait_started_at: None,
        approval: None,
        approved_at: None,
        merge_sha: None,
        backport: Vec::new(),
    };

    ctx.ui.info(format!(
        "Hotfix {} on the {} model: branch {branch} from {} ({}), PR into {}",
        state.version,
        state.model,
        line.base_ref,
        short(&state.base.sha),
        line.pr_target
    ));
    for n in &line.notes {
        ctx.ui.info(format!("note: {n}"));
    }
    if !state.unreleased.is_empty() {
        ctx.ui.warn(format!(
            "{} unreleased commit(s) on {} will ship along with the fix:",
            state.unreleased.len(),
            line.base_ref
        ));
        for c in state.unreleased.iter().take(20) {
            ctx.ui.info(format!("  {} {}", short(&c.sha), c.summary));
        }
    }

    let cwd = repo.workdir().to_path_buf();
    lifecycle::run_point(
        &ctx.runner,
        "pre_start",
        &cfg.lifecycle.pre_start,
        &cwd,
        &lifecycle::hotfix_env(&state),
    )?;

    let _lock = ctx.lock(&journal, "hotfix start")?;
    journal.save(&state)?;
    journal.log(&Event::new(&state, "start", "begun").with("base", &state.base))?;
    journal::crash_point("start:state-saved");
    finish(ctx, &repo, &journal, &mut state, cfg)
}

/// Continues an interrupted or paused start from its recorded steps.
fn resume(ctx: &Context, repo: &Repo, journal: &Journal, mut state: State) -> Result<Value> {
    let loaded = ctx.config(Some(repo), Some(&state))?;
    let _lock = ctx.lock(journal, "hotfix start")?;
    finish(ctx, repo, journal, &mut state, &loaded.config)
}

fn finish(
    ctx: &Context,
    repo: &Repo,
    journal: &Journal,
    state: &mut State,
    cfg: &Config,
) -> Result<Value> {
    let base = git2::Oid::from_str(&state.base.sha)
        .map_err(|e| Error::internal(format!("bad base sha in state: {e}")))?;
    if !state.done("branch") {
        match repo.local_branch(&state.branch) {
            // Created before an interruption: only check it out.
            Some(at) if repo.is_ancestor(base, at) => {
                if repo.current_branch().as_deref() != Some(&state.branch) {
                    repo.switch(&state.branch)?;
                }
            }
            Some(_) => {
                return Err(Error::precondition(format!(
                    "the branch {} exists but does not contain the base {}",
                    state.branch, state.base.name
                ))
                .hint("hotfix abort, then start again"));
            }
            None => repo.switch_create(&state.branch, base)?,
        }
        if !ctx.dry_run() {
            ctx.ui
                .done(format!("created {} at {}", state.branch, state.base.name));
        }
        state.mark("branch");
        journal.save(state)?;
        journal::crash_point("start:branch");
    }

    if !state.done("picks") {
        pick_all(ctx, repo, journal, state)?;
        state.mark("picks");
        journal.save(state)?;
        journal::crash_point("start:picks");
    }

    if !state.done("post_start") {
        lifecycle::run_point(
            &ctx.runner,
            "post_start",
            &cfg.lifecycle.post_start,
            repo.workdir(),
            &lifecycle::hotfix_env(state),
        )?;
        state.mark("post_start");
    }
    state.phase = Phase::Started;
    journal.save(state)?;
    journal.log(&Event::new(state, "start", "ok").with("branch", &state.branch))?;
    if !ctx.dry_run() {
        crate::notify::send(
            &ctx.env,
            cfg,
            &ctx.ui,
            state,
            "started",
            &format!("started from {} on {}", state.base.name, state.branch),
        );
    }

    let next = super::next_command(state, false);
    if ctx.dry_run() {
        ctx.ui.out(format!(
            "Dry run: hotfix {} would start on {} (base {} {}). Nothing was changed.",
            state.version,
            state.branch,
            state.base.name,
            short(&state.base.sha)
        ));
    } else {
        ctx.ui.out(format!(
            "Hotfix {} started on {} (base {} {}).\nNext: commit the fix, then run `hotfix ship`.",
            state.version,
            state.branch,
            state.base.name,
            short(&state.base.sha)
        ));
    }
    Ok(json!({
        "version": state.version,
        "tag": state.tag,
        "branch": state.branch,
        "base": state.base,
        "previous": state.previous,
        "pr_target": state.pr_target,
        "unreleased_commits": state.unreleased,
        "picks": state.picks,
        "next_command": next,
        "dry_run": ctx.dry_run(),
    }))
}

/// Resolves `--pick` arguments, refusing unknown commits and merges before anything changes.
fn check_picks(repo: &Repo, picks: &[String], base: git2::Oid) -> Result<Vec<Pick>> {
    let mut out = Vec::new();
    for p in picks {
        let oid = repo.resolve_commit(p).ok_or_else(|| {
            Error::precondition(format!("--pick {p}: no such commit"))
                .hint("fetch the branch that holds it first")
        })?;
        if repo.parent_count(oid).unwrap_or(0) > 1 {
            return Err(Error::precondition(format!(
                "--pick {p}: {} is a merge commit; pick the commits it merged instead",
                short(&oid.to_string())
            ))
            .hint(format!(
                "list them: git log --oneline --no-merges {p}^1..{p}"
            )));
        }
        let state = if repo.is_ancestor(oid, base) {
            PickState::AlreadyInBase
        } else {
            PickState::Pending
        };
        out.push(Pick {
            sha: oid.to_string(),
            state,
        });
    }
    Ok(out)
}

/// Whether the hotfix branch already holds a `-x` pick of `sha` since the base.
fn picked_already(repo: &Repo, state: &State, sha: &str) -> bool {
    let (Ok(base), Some(head)) = (git2::Oid::from_str(&state.base.sha), repo.head_oid()) else {
        return false;
    };
    let trailer = format!("(cherry picked from commit {sha})");
    repo.commits_between(base, head).is_ok_and(|cs| {
        cs.iter().any(|c| {
            git2::Oid::from_str(&c.sha)
                .ok()
                .and_then(|o| repo.message(o))
                .is_some_and(|m| m.contains(&trailer))
        })
    })
}

fn pick_all(ctx: &Context, repo: &Repo, journal: &Journal, state: &mut State) -> Result<()> {
    for i in 0..state.picks.len() {
        let sha = state.picks[i].sha.clone();
        match state.picks[i].state {
            PickState::Applied => continue,
            PickState::AlreadyInBase => {
                ctx.ui
                    .info(format!("skipped {}: already in the base", short(&sha)));
                continue;
            }
            PickState::Conflict => {
                // Paused here before: the user resolved (or committed) it.
                let left = repo.conflicted_paths();
                if !left.is_empty() {
                    return Err(Error::paused(format!(
                        "the conflict picking {} is not resolved yet:\n  {}",
                        short(&sha),
                        left.join("\n  ")
                    ))
                    .hint("edit the files, `git add` them, then: hotfix start --continue")
                    .hint("or give up: hotfix start --abort"));
                }
                if repo.cherry_pick_in_progress() {
                    repo.cherry_pick_continue()?;
                }
                state.picks[i].state = PickState::Applied;
            }
            // Picked before an interruption, between the commit and the saved state: the
            // branch already has it (with its -x trailer), so it is not picked twice.
            PickState::Pending if picked_already(repo, state, &sha) => {
                state.picks[i].state = PickState::Applied;
            }
            PickState::Pending => match repo.cherry_pick(&sha)? {
                PickOutcome::Applied => {
                    journal::crash_point("start:picked-one");
                    ctx.ui.done(format!("picked {}", short(&sha)));
                    state.picks[i].state = PickState::Applied;
                }
                PickOutcome::Empty => {
                    ctx.ui.info(format!(
                        "skipped {}: its change is already there",
                        short(&sha)
                    ));
                    state.picks[i].state = PickState::AlreadyInBase;
                }
                PickOutcome::Conflict(files) => {
                    state.picks[i].state = PickState::Conflict;
                    journal.save(state)?;
                    journal.log(
                        &Event::new(state, "start:pick", "conflict")
                            .with("sha", &sha)
                            .with("files", &files),
                    )?;
                    return Err(Error::paused(format!(
                        "picking {} stopped on a conflict in:\n  {}",
                        short(&sha),
                        files.join("\n  ")
                    ))
                    .hint("resolve the files, `git add` them, then: hotfix start --continue")
                    .hint("or give up on this hotfix: hotfix start --abort"));
                }
            },
        }
        journal.save(state)?;
    }
    Ok(())
}

pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}
