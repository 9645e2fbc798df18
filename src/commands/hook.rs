//! `hotfix hook <name>`: what each installed hook does when git calls it.
//!
//! A hook with nothing to do must return in a few milliseconds, so each one reads only what it
//! needs: the post-checkout/post-merge reminders look at the state file and nothing else; the
//! commit-msg check reads the configuration only on a hotfix branch.

use std::io::Read;

use serde_json::{Value, json};

use super::test::{resolve_base, run_selection};
use crate::cli::HookArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::exec::INTERNAL_ENV;
use crate::git::Repo;
use crate::hooks;
use crate::journal::{Phase, State};
use crate::testsel;

pub fn run(ctx: &Context, args: HookArgs) -> Result<Value> {
    match args.name.as_str() {
        "commit-msg" => commit_msg(ctx, &args.args),
        "pre-push" => pre_push(ctx, &args.args),
        "post-checkout" | "post-merge" => remind(ctx, &args.name, &args.args),
        other => Err(Error::usage(format!("unknown hook {other:?}"))
            .hint("hooks: pre-push, commit-msg, post-checkout, post-merge")),
    }
}

/// The hotfix version of `branch`, if it is a hotfix branch: the one in progress, or any branch
/// named `{hotfix_prefix}X.Y.Z`.
fn hotfix_version_of(
    ctx: &Context,
    repo: &Repo,
    state: Option<&State>,
    branch: &str,
) -> Result<Option<(String, crate::config::Config)>> {
    let cfg = ctx.config_local(repo, state)?;
    if let Some(st) = state
        && st.branch == branch
    {
        return Ok(Some((st.version.clone(), cfg)));
    }
    let v = branch
        .strip_prefix(cfg.model.hotfix_prefix.as_str())
        .and_then(|v| semver::Version::parse(v).ok())
        .map(|v| v.to_string());
    Ok(v.map(|v| (v, cfg)))
}

fn commit_msg(ctx: &Context, args: &[String]) -> Result<Value> {
    let file = args
        .first()
        .ok_or_else(|| Error::usage("commit-msg needs the message file (git passes it)"))?;
    let repo = ctx.repo()?;
    let Some(branch) = repo.current_branch() else {
        return Ok(Value::Null);
    };
    let state = ctx.journal(&repo).load()?;
    let Some((version, cfg)) = hotfix_version_of(ctx, &repo, state.as_ref(), &branch)? else {
        return Ok(Value::Null);
    };
    let path = ctx.cwd.join(file);
    let raw = std::fs::read_to_string(&path)
        .map_err(|e| Error::step(format!("cannot read {}: {e}", path.display())))?;
    if let Some(pattern) = &cfg.hooks.incident_pattern {
        let re = regex::Regex::new(pattern)
            .map_err(|e| Error::config(format!("hooks.incident_pattern: {e}")))?;
        if !re.is_match(&hooks::message_text(&raw)) {
            let mut e = Error::precondition(format!(
                "this commit is on the hotfix branch {branch}, and its message names no incident \
                 (hooks.incident_pattern = {pattern:?})"
            ));
            if let Some(inc) = state.as_ref().and_then(|s| s.incident.clone()) {
                e = e.hint(format!("this hotfix is for {inc}: add it to the message"));
            } else {
                e = e.hint(
                    "add the incident id to the message, e.g. \"Fix the timeout (INC-1234)\"",
                );
            }
            return Err(
                e.hint("your message is kept in .git/COMMIT_EDITMSG; commit again with the id")
            );
        }
    }
    let trailer = format!("Hotfix: {version}");
    let out = ctx.runner.git_read(
        repo.workdir(),
        &[
            "interpret-trailers",
            "--in-place",
            "--if-exists",
            "addIfDifferent",
            "--trailer",
            &trailer,
            path.to_str().unwrap_or(file),
        ],
    )?;
    if !out.success() {
        return Err(Error::step(format!(
            "adding the {trailer:?} trailer failed:\n{}",
            out.text()
        )));
    }
    Ok(json!({ "trailer": trailer }))
}

fn pre_push(ctx: &Context, _args: &[String]) -> Result<Value> {
    // The tool's own pushes (ship, backport) have passed every gate already.
    if std::env::var_os(INTERNAL_ENV).is_some() {
        return Ok(Value::Null);
    }
    let mut input = String::new();
    // Under the pre-commit framework the refs come in environment variables, not on stdin.
    let from_env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(local), Some(to), Some(remote), Some(from)) = (
        from_env("PRE_COMMIT_LOCAL_BRANCH"),
        from_env("PRE_COMMIT_TO_REF"),
        from_env("PRE_COMMIT_REMOTE_BRANCH"),
        from_env("PRE_COMMIT_FROM_REF"),
    ) {
        input = format!("{local} {to} {remote} {from}\n");
    } else {
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| Error::internal(format!("reading the refs to push: {e}")))?;
    }
    let updates: Vec<[&str; 4]> = input
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some([it.next()?, it.next()?, it.next()?, it.next()?])
        })
        .collect();
    if updates.is_empty() {
        return Ok(Value::Null);
    }
    let repo = ctx.repo()?;
    let journal = ctx.journal(&repo);
    let state = journal.load()?;
    let loaded = ctx.config(Some(&repo), state.as_ref())?;
    let cfg = &loaded.config;
    let protected = cfg.protected_branches();
    for [_, _, remote_ref, _] in &updates {
        if let Some(pattern) = hooks::protected_match(&protected, remote_ref) {
            let branch = remote_ref.trim_start_matches("refs/heads/");
            return Err(Error::precondition(format!(
                "direct pushes to {branch} are refused: it is a protected branch (hooks.protected: {pattern:?})"
            ))
            .hint("a fix for production goes through the hotfix path: hotfix start → commit → hotfix ship (PR, approval, merge)")
            .hint("any other change: push a branch of your own and open a pull request"));
        }
    }
    if !cfg.hooks.pre_push_tests {
        return Ok(Value::Null);
    }
    let zero = "0000000000000000000000000000000000000000";
    for [local_ref, local_sha, _, _] in &updates {
        let Some(branch) = local_ref.strip_prefix("refs/heads/") else {
            continue;
        };
        if *local_sha == zero || !branch.starts_with(cfg.model.hotfix_prefix.as_str()) {
            continue;
        }
        let head = git2::Oid::from_str(local_sha)
            .map_err(|e| Error::internal(format!("bad sha from git: {e}")))?;
        let st = state.as_ref().filter(|s| s.branch == branch);
        let (base_name, base) = resolve_base(&repo, cfg, st, None)?;
        if repo.head_oid() != Some(head) {
            ctx.ui.warn(format!(
                "{branch} is not checked out; the tests run on the working tree, not on what is pushed"
            ));
        }
        let changed = repo.changed_paths(base, head)?;
        let selection = testsel::select(&cfg.tests, &changed, false)?;
        ctx.ui.info(format!(
            "hotfix: testing {branch} before the push ({} changed file(s) since {base_name})",
            changed.len()
        ));
        let results = run_selection(
            ctx, &repo, &journal, cfg, st, &selection, &changed, base, head,
        )?;
        let failed = results.iter().filter(|r| !r.outcome.passed()).count();
        if failed > 0 {
            return Err(Error::step(format!(
                "{failed} targeted test command(s) failed: the push of {branch} is refused"
            ))
            .hint("read the log named above, fix, commit, and push again"));
        }
    }
    Ok(Value::Null)
}

fn remind(ctx: &Context, name: &str, args: &[String]) -> Result<Value> {
    // post-checkout's third argument is 0 for a file checkout: nothing to say.
    if name == "post-checkout" && args.get(2).is_some_and(|f| f == "0") {
        return Ok(Value::Null);
    }
    let repo = ctx.repo()?;
    let Some(state) = ctx.journal(&repo).load()? else {
        return Ok(Value::Null);
    };
    let pending = match state.phase {
        Phase::Deployed => Some("is deployed but not merged back yet"),
        Phase::BackportPending => Some("has backport pull requests still open"),
        Phase::DeployFailed => Some("failed to deploy and is still open"),
        _ => None,
    };
    if let Some(what) = pending {
        let next = super::next_command(&state, true);
        ctx.ui
            .warn(format!("hotfix {} {what}: run `{next}`", state.version));
    }
    Ok(Value::Null)
}
