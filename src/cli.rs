//! The command-line interface: clap definitions only, no behaviour.
//!
//! Every command and flag of SPEC section 5 is declared here, so `--help`, completions and the
//! man page are generated from one place. `commands/` receives the parsed values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
The path: hotfix start → commit the fix → hotfix test → hotfix ship → hotfix backport.
Run `hotfix status` at any time: it says where the hotfix is and the exact next command.

Exit codes: 0 done · 1 a step failed · 2 refused, nothing changed · 3 paused, resumable ·
4 approval not granted · 5 a rollback failed · 130 interrupted (rerun the same command).";

/// A safe, pre-planned path from "production is broken" to "fixed, deployed and merged back".
#[derive(Debug, Parser)]
#[command(name = "hotfix", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every command.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Run as if started in <PATH> (like `git -C`).
    #[arg(short = 'C', global = true, value_name = "PATH")]
    pub chdir: Option<PathBuf>,
    /// Use this configuration file instead of the repository's `.rolloutrc`.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Assume yes to every question; never prompt.
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// Print every step, git command, API call and configured command that would run, with its
    /// environment; run none of them and change nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Machine-readable output: one JSON object on stdout when the command ends.
    #[arg(long, global = true)]
    pub json: bool,
    /// Say more (every git command and configured command as it runs).
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Say only what went wrong.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// No colours (the NO_COLOR environment variable does the same).
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented `.rolloutrc` for this repository (model detected from its branches).
    Init(InitArgs),
    /// Cut the hotfix branch from what runs in production.
    Start(StartArgs),
    /// Show the hotfix in progress and the exact next command.
    Status(StatusArgs),
    /// Run only the tests the fix touches, plus smoke tests.
    Test(TestArgs),
    /// Push, open the PR, wait for approval, merge, tag, deploy, backport.
    Ship(ShipArgs),
    /// Bring the fix back to develop, main and other release branches.
    Backport(BackportArgs),
    /// Abandon the hotfix in progress.
    Abort,
    /// Show the deploy plan: stages in waves, gates, rollbacks.
    Plan(PlanArgs),
    /// Deploy a release tag outside `ship` (redeploy, or the contract phase).
    Deploy(DeployArgs),
    /// Roll back the last deploy.
    Rollback,
    /// The audit trail of the hotfix in progress or the last one.
    Log,
    /// Render the team's hotfix process from the configuration.
    Runbook(RunbookArgs),
    /// Install, remove or inspect the git hooks.
    #[command(subcommand)]
    Hooks(HooksCommand),
    /// Run one hook (called by the installed hook scripts).
    #[command(hide = true)]
    Hook(HookArgs),
    /// Print the effective configuration with the layer each value came from.
    Config(ConfigArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ModelKindArg {
    #[value(name = "git-flow")]
    GitFlow,
    Trunk,
    #[value(name = "release-branch")]
    ReleaseBranch,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Branching model; detected from the remote's branches when left out.
    #[arg(long, value_enum)]
    pub model: Option<ModelKindArg>,
    /// Overwrite an existing `.rolloutrc`.
    #[arg(long)]
    pub force: bool,
    /// Also install the git hooks.
    #[arg(long)]
    pub hooks: bool,
    /// Write a CI workflow that runs the path on a runner.
    #[arg(long, value_name = "github|azure")]
    pub ci: Option<String>,
    /// Append ready-made stage blocks (azure-slots, k8s-rolling, weighted).
    #[arg(long, value_name = "NAME")]
    pub stages: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// The hotfix version (default: the previous release's patch + 1, skipping taken tags).
    #[arg(id = "hotfix_version", value_name = "VERSION")]
    pub version: Option<String>,
    /// Fix this release or release line instead of the latest (a tag like v1.2.0, or release/1.2).
    #[arg(long, value_name = "REF")]
    pub from: Option<String>,
    /// The incident this fix is for (passed to commands as HOTFIX_INCIDENT).
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
    /// Bring in existing commits (cherry-picked with -x, in the order given).
    #[arg(long, value_name = "SHA", num_args = 1..)]
    pub pick: Vec<String>,
    /// Do not fetch the remote first (use what the remote-tracking refs already say).
    #[arg(long)]
    pub no_fetch: bool,
    /// Continue after resolving a `--pick` conflict.
    #[arg(long = "continue", conflicts_with = "abort")]
    pub cont: bool,
    /// Abandon a `--pick` that stopped on a conflict (same as `hotfix abort`).
    #[arg(long)]
    pub abort: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Ask GitHub for the latest state first.
    #[arg(long)]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Print the selection and why, run nothing.
    #[arg(long)]
    pub list: bool,
    /// Run the full suite and the smoke tests.
    #[arg(long)]
    pub all: bool,
    /// Compare against this ref instead of the previous release.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShipArgs {
    /// Do not wait for approval: exit 3 while it is pending.
    #[arg(long)]
    pub no_wait: bool,
    /// Deploy even though another run's Deployment is in progress (recorded in the audit log).
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Args, Default)]
pub struct BackportArgs {
    /// Target branches (default: by branching model).
    #[arg(long = "to", value_name = "BRANCH", num_args = 1..)]
    pub to: Vec<String>,
    /// Backport this finished hotfix instead of the current or last one.
    #[arg(long = "version", id = "backport_version", value_name = "V")]
    pub version: Option<String>,
    /// Continue after resolving a conflict.
    #[arg(long = "continue", conflicts_with_all = ["skip", "abort"])]
    pub cont: bool,
    /// Skip the target with the conflict.
    #[arg(long, conflicts_with = "abort")]
    pub skip: bool,
    /// Put every target back where it was before the backport.
    #[arg(long)]
    pub abort: bool,
    /// Propose the results as pull requests instead of pushing.
    #[arg(long)]
    pub pr: bool,
    /// Backport even though the deploy failed.
    #[arg(long)]
    pub allow_failed_deploy: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum PlanFormat {
    #[default]
    Text,
    Json,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The release tag to deploy (default: the tag of the hotfix in progress).
    #[arg(long, value_name = "TAG")]
    pub r#ref: Option<String>,
    /// Run only the contract-phase stages.
    #[arg(long)]
    pub contract: bool,
    /// Only these stages.
    #[arg(long, value_name = "ID", num_args = 1..)]
    pub stage: Vec<String>,
    /// Deploy even though another run's Deployment is in progress (recorded in the audit log).
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Args)]
pub struct RunbookArgs {
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Install the hooks into the effective hooks directory.
    Install,
    /// Remove only the blocks `install` added.
    Uninstall,
    /// Say which hooks are installed where.
    Status,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// pre-push, commit-msg, post-checkout or post-merge.
    pub name: String,
    /// The arguments git passed to the hook.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: Option<ConfigAction>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Validate a configuration file (default: the repository's `.rolloutrc`).
    Check {
        #[arg(long, value_name = "F")]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
