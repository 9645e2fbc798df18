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
    let ci = match args.ci.as_deref() {
        None => None,
        Some("github") => Some(("ci/github.yml", ".github/workflows/hotfix.yml")),
        Some("azure") => Some(("ci/azure.yml", "azure-pipelines.hotfix.yml")),
        Some(other) => {
            return Err(Error::usage(format!(
                "--ci {other}: choose github or azure"
            )));
        }
    };
    for name in &args.stages {
        if !templates::STAGES.iter().any(|(n, _)| n == name) {
            return Err(
                Error::usage(format!("--stages {name}: no such stage template")).hint(format!(
                    "templates: {}",
                    templates::STAGES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
    }
    let repo = ctx.repo()?;
    let path = repo.workdir().join(RC_FILE);
    if path.exists() && !args.force && !args.stages.is_empty() {
        // Only appending stage blocks to the team's existing file.
        let existing = std::fs::read_to_string(&path)?;
        let text = with_stages(existing, &args.stages);
        validate_generated(&text)?;
        if ctx.dry_run() {
            ctx.ui.would(format!(
                "append {} to {}",
                args.stages.join(", "),
                path.display()
            ));
        } else {
            write_atomic(&path, text.as_bytes())?;
        }
        ctx.ui.out(format!(
            "Appended {} to {RC_FILE}. Adjust the commands and URLs, then: hotfix plan",
            args.stages.join(", ")
        ));
        return Ok(json!({ "path": path, "stages": args.stages }));
    }
    // An existing .rolloutrc is kept when only a workflow or the hooks are asked for.
    let write_rc = !path.exists() || args.force;
    if !write_rc && ci.is_none() && !args.hooks {
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
    let text = with_stages(text, &args.stages);
    validate_generated(&text)?;
    if !write_rc {
        ctx.ui.info(format!("keeping the existing {RC_FILE}"));
    } else if ctx.dry_run() {
        ctx.ui
            .would(format!("write {} ({} bytes)", path.display(), text.len()));
    } else {
        write_atomic(&path, text.as_bytes())?;
    }
    let mut workflow = None;
    if let Some((template, rel)) = ci {
        let path = repo.workdir().join(rel);
        if path.exists() && !args.force {
            return Err(Error::precondition(format!("{rel} already exists"))
                .hint("overwrite it: hotfix init --ci … --force"));
        }
        let text = templates::render(
            template,
            json!({ "hotfix_prefix": defaults.model.hotfix_prefix, "main": main }),
        )?;
        if ctx.dry_run() {
            ctx.ui.would(format!("write {}", path.display()));
        } else {
            write_atomic(&path, text.as_bytes())?;
        }
        ctx.ui.info(format!(
            "wrote {rel}: set the secret HOTFIX_TOKEN (see the comment at its top)"
        ));
        workflow = Some(path);
    }
    let mut hooks_dir = None;
    if args.hooks {
        let dir = crate::hooks::hooks_dir(&repo)?;
        for r in crate::hooks::install(&dir, ctx.dry_run())? {
            ctx.ui.info(format!("hook {}: {}", r.name, r.state));
        }
        hooks_dir = Some(dir);
    }
    if write_rc {
        ctx.ui.out(format!(
            "Wrote {RC_FILE} ({reason}).\nReview it, commit it to {main}, then check it: hotfix config check"
        ));
    } else {
        ctx.ui.out(format!("Kept the existing {RC_FILE}."));
    }
    Ok(
        json!({ "path": path, "model": kind.as_str(), "main": main, "hooks_dir": hooks_dir, "workflow": workflow }),
    )
}

fn with_stages(mut text: String, stages: &[String]) -> String {
    for name in stages {
        if let Some((_, block)) = templates::STAGES.iter().find(|(n, _)| n == name) {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(block);
        }
    }
    text
}

/// What init writes must itself be valid (a stage template appended twice is not).
fn validate_generated(text: &str) -> Result<()> {
    config::load(
        &[FileLayer {
            label: RC_FILE.into(),
            text: text.to_string(),
        }],
        &[],
    )
    .map(|_| ())
    .map_err(|e| e.context("the configuration would be invalid"))
}
