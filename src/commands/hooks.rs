//! `hotfix hooks install|uninstall|status`: manage the hook blocks in the effective hooks
//! directory (`core.hooksPath` and worktrees honoured).

use serde_json::{Value, json};

use crate::cli::HooksCommand;
use crate::context::Context;
use crate::error::Result;
use crate::hooks;

pub fn run(ctx: &Context, cmd: HooksCommand) -> Result<Value> {
    let repo = ctx.repo()?;
    let dir = hooks::hooks_dir(&repo)?;
    let reports = match cmd {
        HooksCommand::Install => hooks::install(&dir, ctx.dry_run())?,
        HooksCommand::Uninstall => hooks::uninstall(&dir, ctx.dry_run())?,
        HooksCommand::Status => hooks::status(&dir)?,
    };
    ctx.ui.out(format!("hooks directory: {}", dir.display()));
    for r in &reports {
        ctx.ui.out(format!("  {:14} {}", r.name, r.state));
    }
    if ctx.dry_run() {
        ctx.ui.would("nothing was written (dry run)");
    }
    Ok(json!({ "dir": dir, "hooks": reports }))
}
