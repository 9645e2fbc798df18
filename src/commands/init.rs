//! `hotfix init`: write a commented `.rolloutrc` for this repository, with the branching model
//! detected from the remote's branches (or given with `--model`).

use serde_json::{Value, json};

use crate::branching;
use crate::cli::{InitArgs, ModelKindArg};
use crate::config::{self, Config, FileLayer, ModelKind};
use crate::context::{Context, RC_FILE};
use crate::error::{Error, Result};
use crate::journal::write_atomic;
use crate::templates;

pub fn run(ctx: &Context, args: InitArgs) -> Result<Value> {
    if args.ci.is_some() {
        return Err(Error::not_yet_available("init --ci", "issue #6"));
    }
    if !args.stages.is_empty() {
        return Err(Error::not_yet_available("init --stages", "issue #5"));
    }
    let repo = ctx.repo()?;
    let path = repo.workdir().join(RC_FILE);
    if path.exists() && !args.force {
        return Err(Error::precondition(format!("{RC_FILE} already exists"))
            .hint("see what it says: hotfix config")
            .hint("overwrite it: hotfix init --force"));
    }
    let defaults = Config::default();
    let remote = defaults.repository.remote.clone();
    let main = repo
        .remote_head(&remote)
        .or_else(|| {
            ["main", "master"]
                .into_iter()
                .find(|b| {
                    repo.remote_branch(&remote, b).is_some() || repo.local_branch(b).is_some()
                })
                .map(str::to_string)
        })
        .unwrap_or_else(|| defaults.repository.main.clone());
    let mut probe = defaults.clone();
    probe.repository.main = main.clone();
    let (kind, reason) = match args.model {
        Some(m) => (
            match m {
                ModelKindArg::GitFlow => ModelKind::GitFlow,
                ModelKindArg::Trunk => ModelKind::Trunk,
                ModelKindArg::ReleaseBranch => ModelKind::ReleaseBranch,
            },
            "model given with --model".to_string(),
        ),
        None => {
            let k = branching::detect(&repo, &probe);
            let why = match k {
                ModelKind::GitFlow => "a develop branch exists, so git-flow",
                ModelKind::ReleaseBranch => "release branches exist, so release-branch",
                ModelKind::Trunk => "no develop or release branches, so trunk",
            };
            (k, format!("model detected: {why}"))
        }
    };
    let text = templates::render(
        "rolloutrc.toml",
        json!({
            "model": kind.as_str(),
            "remote": remote,
            "main": main,
            "develop": defaults.repository.develop,
            "reason": reason,
        }),
    )?;
    // What init writes must itself be valid.
    config::load(
        &[FileLayer {
            label: RC_FILE.into(),
            text: text.clone(),
        }],
        &[],
    )
    .map_err(|e| e.context("internal error: the generated configuration is invalid"))?;
    if ctx.dry_run() {
        ctx.ui
            .would(format!("write {} ({} bytes)", path.display(), text.len()));
    } else {
        write_atomic(&path, text.as_bytes())?;
    }
    let mut hooks_dir = None;
    if args.hooks {
        let dir = crate::hooks::hooks_dir(&repo)?;
        for r in crate::hooks::install(&dir, ctx.dry_run())? {
            ctx.ui.info(format!("hook {}: {}", r.name, r.state));
        }
        hooks_dir = Some(dir);
    }
    ctx.ui.out(format!(
        "Wrote {RC_FILE} ({reason}).\nReview it, commit it to {main}, then check it: hotfix config check"
    ));
    Ok(json!({ "path": path, "model": kind.as_str(), "main": main, "hooks_dir": hooks_dir }))
}
