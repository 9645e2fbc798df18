//! One file per command. [`run`] parses the command line, dispatches, prints the `--json`
//! envelope and turns the outcome into the process exit code (through `error::Kind` only).

mod abort;
mod backport;
mod config;
mod deploy;
mod hook;
mod hooks;
mod init;
mod log;
mod plan;
mod runbook;
mod ship;
mod start;
mod status;
mod test;

use std::ffi::OsString;
use std::io::Write;

use clap::{CommandFactory, Parser};
use serde_json::{Value, json};

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::error::Result;

/// The `--json` envelope's version; bumped when a field changes meaning.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Runs the tool with these arguments and returns the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let json_mode = cli.global.json;
    let ctx = match Context::new(cli.global.clone()) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("error: {}", e.message);
            return finish(json_mode, Err(e));
        }
    };
    let outcome = dispatch(&ctx, cli.command);
    if let Err(e) = &outcome {
        ctx.ui.error(e);
    }
    finish(json_mode, outcome)
}

fn finish(json_mode: bool, outcome: Result<Value>) -> i32 {
    let code = match &outcome {
        Ok(_) => 0,
        Err(e) => e.exit_code(),
    };
    if json_mode {
        let (error, result) = match outcome {
            Ok(v) => (Value::Null, v),
            Err(e) => (
                json!({
                    "kind": e.kind,
                    "message": e.message,
                    "hint": if e.hints.is_empty() { Value::Null } else { Value::String(e.hints.join("\n")) },
                }),
                Value::Null,
            ),
        };
        let envelope = json!({
            "schema_version": JSON_SCHEMA_VERSION,
            "exit_code": code,
            "error": error,
            "result": result,
        });
        let mut out = std::io::stdout().lock();
        // A closed pipe (`| head`) is not an error.
        let _ = writeln!(out, "{envelope}");
    }
    code
}

fn dispatch(ctx: &Context, command: Command) -> Result<Value> {
    match command {
        Command::Init(a) => init::run(ctx, a),
        Command::Start(a) => start::run(ctx, a),
        Command::Status(a) => status::run(ctx, a),
        Command::Abort => abort::run(ctx),
        Command::Config(a) => config::run(ctx, a),
        Command::Completions(a) => {
            let mut cmd = Cli::command();
            clap_complete::generate(a.shell, &mut cmd, "hotfix", &mut std::io::stdout());
            Ok(Value::Null)
        }
        Command::Man => {
            let man = clap_mangen::Man::new(Cli::command());
            let mut buf = Vec::new();
            man.render(&mut buf)?;
            let _ = std::io::stdout().write_all(&buf);
            Ok(Value::Null)
        }
        Command::Test(a) => test::run(ctx, a),
        Command::Hooks(c) => hooks::run(ctx, c),
        Command::Hook(a) => hook::run(ctx, a),
        Command::Ship(a) => ship::run(ctx, a),
        Command::Backport(a) => backport::run(ctx, a),
        Command::Plan(a) => plan::run(ctx, a, false),
        Command::Deploy(a) => deploy::run(ctx, a),
        Command::Rollback => deploy::rollback(ctx),
        Command::Log => log::run(ctx),
        Command::Runbook(a) => runbook::run(ctx, a),
    }
}

/// The next command for a hotfix in the given state, as the user should type it.
pub fn next_command(state: &crate::journal::State, has_commits: bool) -> String {
    use crate::journal::Phase;
    match state.phase {
        Phase::Starting => {
            if state
                .picks
                .iter()
                .any(|p| p.state == crate::journal::PickState::Conflict)
            {
                "hotfix start --continue".into()
            } else {
                "hotfix start".into()
            }
        }
        Phase::Started | Phase::Tested if !has_commits => "git commit".into(),
        Phase::Started | Phase::Tested | Phase::Approved | Phase::Merged | Phase::Tagged => {
            "hotfix ship".into()
        }
        Phase::DeployFailed => "hotfix ship".into(),
        // Backported or done but still in progress: the backport's closing steps (delete the
        // branch, post_backport, archive) were interrupted; rerunning it finishes them.
        Phase::Deployed | Phase::BackportPending | Phase::Backported | Phase::Done => {
            "hotfix backport".into()
        }
    }
}
