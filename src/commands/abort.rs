//! `hotfix abort`: abandon the hotfix in progress. Before the merge the user goes back to the
//! branch they were on, and the hotfix branch is kept if it holds commits; after the merge the
//! hotfix is closed and the user is told plainly that the target branch still holds the fix.

use serde_json::{Value, json};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::journal::Event;

pub fn run(ctx: &Context) -> Result<Value> {
    let repo = ctx.repo()?;
    let journal = ctx.journal(&repo);
    let Some(state) = journal.load()? else {
        return Err(
            Error::precondition("no hotfix is in progress; nothing to abort").hint("hotfix status"),
        );
    };
    let _lock = ctx.lock(&journal, "hotfix abort")?;

    if state.phase.is_merged() {
        journal.log(&Event::new(&state, "abort", "closed-after-merge"))?;
        let dest = journal.archive("aborted", &state.version)?;
        ctx.ui.out(format!(
            "Closed hotfix {}. {} still holds the fix: nothing was reverted.\n\
             To take it out of production: hotfix rollback, or start a new hotfix that reverts it.\n\
             The record is in {}.",
            state.version,
            state.pr_target,
            dest.display()
        ));
        return Ok(json!({ "aborted": state.version, "merged": true }));
    }

    // An open PR is closed with a comment saying why.
    if let Some(pr) = &state.pr {
        let loaded = ctx.config(Some(&repo), Some(&state))?;
        let closed = crate::github::connect(&repo, &loaded.config, &ctx.env, ctx.ui.clone()).and_then(|gh| {
            use crate::github::GitHub;
            let note = "<!-- hotfix:abort -->\nThis hotfix was abandoned with `hotfix abort`; closing the pull request. Nothing was merged.";
            if !gh.comments(pr.number)?.iter().any(|c| c.body.contains("<!-- hotfix:abort -->")) {
                gh.comment(pr.number, note)?;
            }
            gh.close_pr(pr.number)
        });
        match closed {
            Ok(()) => ctx.ui.done(format!("closed PR #{}", pr.number)),
            Err(e) => ctx.ui.warn(format!(
                "could not close PR #{} ({}): close it by hand at {}",
                pr.number, e.message, pr.url
            )),
        }
    }

    // A pick stopped on a conflict is abandoned first; it is part of this hotfix.
    let picking =
        repo.cherry_pick_in_progress() && repo.current_branch().as_deref() == Some(&state.branch);
    if picking {
        repo.cherry_pick_abort()?;
    }
    let dirty = repo.uncommitted_changes()?;
    if !dirty.is_empty() {
        return Err(Error::precondition(format!(
            "the working tree has uncommitted changes:\n  {}",
            dirty.iter().take(10).cloned().collect::<Vec<_>>().join("\n  ")
        ))
        .hint("commit them on the hotfix branch, or put them aside (git stash push), then run hotfix abort again"));
    }

    let on_branch = repo.current_branch().as_deref() == Some(&state.branch);
    if on_branch {
        match (&state.origin.branch, &state.origin.sha) {
            (Some(b), _) if repo.local_branch(b).is_some() => repo.switch(b)?,
            (_, Some(sha)) => repo.switch_detach(sha)?,
            _ => {
                return Err(Error::precondition(
                    "cannot tell which branch you were on before the hotfix started",
                )
                .hint(
                    "switch to a branch yourself (git switch main), then run hotfix abort again",
                ));
            }
        }
    }

    let base = git2::Oid::from_str(&state.base.sha).ok();
    let kept = match (base, repo.local_branch(&state.branch)) {
        (Some(base), Some(head)) => {
            let commits = repo.commits_between(base, head)?;
            if commits.is_empty() {
                repo.delete_local_branch(&state.branch)?;
                None
            } else {
                Some(commits.len())
            }
        }
        _ => None,
    };
    journal.log(&Event::new(&state, "abort", "ok").with("branch_kept", kept.is_some()))?;
    journal.archive("aborted", &state.version)?;
    journal.clear()?;

    let back = state
        .origin
        .branch
        .clone()
        .unwrap_or_else(|| "the commit you were on".into());
    let mut msg = format!("Aborted hotfix {}; back on {back}.", state.version);
    match kept {
        Some(n) => msg.push_str(&format!(
            "\nThe branch {} is kept: it has {n} commit(s). Delete it when you no longer need it: git branch -D {}",
            state.branch, state.branch
        )),
        None => msg.push_str(&format!("\nThe branch {} had no commits and was deleted.", state.branch)),
    }
    ctx.ui.out(msg);
    Ok(json!({
        "aborted": state.version,
        "merged": false,
        "branch": state.branch,
        "branch_kept": kept.is_some(),
        "back_on": state.origin.branch,
    }))
}
