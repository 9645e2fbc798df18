//! The team's own commands at fixed points (`[lifecycle]`), and the `HOTFIX_*` environment that
//! every configured command receives. Values reach commands only through the environment,
//! never by pasting them into the command line.

use std::ffi::OsString;
use std::path::Path;

use crate::error::{Error, Result};
use crate::exec::{ConfiguredCommand, Runner};
use crate::journal::State;

/// The `HOTFIX_*` variables that describe a hotfix.
pub fn hotfix_env(state: &State) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(&str, String)> = vec![
        ("HOTFIX_VERSION", state.version.clone()),
        ("HOTFIX_TAG", state.tag.clone()),
        ("HOTFIX_BRANCH", state.branch.clone()),
        ("HOTFIX_BASE", state.base.sha.clone()),
        (
            "HOTFIX_INCIDENT",
            state.incident.clone().unwrap_or_default(),
        ),
    ];
    if let Some(p) = &state.previous {
        env.push(("HOTFIX_PREVIOUS_TAG", p.name.clone()));
        env.push(("HOTFIX_PREVIOUS_SHA", p.sha.clone()));
    }
    env.into_iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect()
}

/// Runs the commands of one lifecycle point in order; the first non-zero exit stops the step
/// with the command's output shown.
pub fn run_point(
    runner: &Runner,
    point: &str,
    commands: &[String],
    cwd: &Path,
    env: &[(OsString, OsString)],
) -> Result<()> {
    for command in commands {
        runner.ui.info(format!("lifecycle.{point}: {command}"));
        let out = runner.configured(&ConfiguredCommand {
            command: command.clone(),
            cwd: cwd.to_path_buf(),
            env: env.to_vec(),
            pass_token: false,
        })?;
        if !out.success() {
            let status = out
                .status
                .map_or("was killed by a signal".to_string(), |c| {
                    format!("exited with {c}")
                });
            let text = out.text();
            return Err(Error::step(format!(
                "lifecycle.{point} command `{command}` {status}{}",
                if text.is_empty() { String::new() } else { format!(":\n{text}") }
            ))
            .hint(format!("fix what it reports, then rerun the same hotfix command (lifecycle.{point} runs again)")));
        }
        if runner.ui.verbose && !out.text().is_empty() {
            runner.ui.detail(out.text());
        }
    }
    Ok(())
}
