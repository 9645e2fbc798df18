//! `hotfix test`: run only the tests the fix touches, plus smoke tests.
//!
//! "Changed" is everything between what runs in production (the previous release) and `HEAD`.
//! Each command runs with `sh -c` in the repository root, values in `HOTFIX_*` variables, in its
//! own process group with a timeout, its output in a log file whose path is printed.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde::Serialize;
use serde_json::{Value, json};

use crate::branching::{self, Releases};
use crate::cli::TestArgs;
use crate::config::Config;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::exec::{self, ConfiguredCommand, Job, JobOutcome};
use crate::git::Repo;
use crate::journal::{Event, Journal, Phase, State};
use crate::lifecycle;
use crate::testsel::{self, Selection};

/// One command's result, as reported and recorded.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub name: String,
    pub command: String,
    pub outcome: JobOutcome,
    pub seconds: f64,
    pub log: PathBuf,
}

pub fn run(ctx: &Context, args: TestArgs) -> Result<Value> {
    let repo = ctx.repo()?;
    let journal = ctx.journal(&repo);
    let state = journal.load()?;
    let loaded = ctx.config(Some(&repo), state.as_ref())?;
    let cfg = &loaded.config;
    let (base_name, base) = resolve_base(&repo, cfg, state.as_ref(), args.base.as_deref())?;
    let head = repo
        .head_oid()
        .ok_or_else(|| Error::precondition("HEAD has no commit yet"))?;
    let changed = repo.changed_paths(base, head)?;
    let selection = testsel::select(&cfg.tests, &changed, args.all)?;

    if args.list {
        print_selection(ctx, &selection, &base_name, changed.len());
        return Ok(serde_json::to_value(&selection).unwrap_or(Value::Null));
    }
    warn_untested(ctx, cfg, &selection);
    ctx.ui.info(format!(
        "{} changed file(s) since {base_name}; running {} command(s)",
        changed.len(),
        selection.selected.len() + selection.smoke.len()
    ));
    let results = run_selection(
        ctx,
        &repo,
        &journal,
        cfg,
        state.as_ref(),
        &selection,
        &changed,
        base,
        head,
    )?;
    let failed = results.iter().filter(|r| !r.outcome.passed()).count();

    if let Some(mut st) = state
        && !ctx.dry_run()
    {
        let _lock = ctx.lock(&journal, "hotfix test")?;
        let outcome = if failed == 0 { "passed" } else { "failed" };
        journal.log(
            &Event::new(&st, "test", outcome)
                .with("head", head.to_string())
                .with("results", &results),
        )?;
        if failed == 0 {
            record_tests(&mut st, head, &results);
            if st.phase == Phase::Started {
                st.phase = Phase::Tested;
            }
            st.mark("test");
            journal.save(&st)?;
        }
    }
    let value = json!({
        "selected": selection.selected,
        "smoke": selection.smoke,
        "unmatched_files": selection.unmatched_files,
        "results": results,
    });
    if failed > 0 {
        return Err(Error::step(format!(
            "{failed} of {} test command(s) failed",
            results.len()
        ))
        .hint("read the log named in the summary, fix, commit, then run hotfix test again"));
    }
    Ok(value)
}

/// Says when changed files are covered by no test at all (no rule, and no `tests.full`).
pub fn warn_untested(ctx: &Context, cfg: &Config, selection: &Selection) {
    if !selection.unmatched_files.is_empty()
        && cfg.tests.full.is_none()
        && cfg.tests.unmatched == crate::config::Unmatched::Full
    {
        ctx.ui.warn(format!(
            "{} changed file(s) match no test rule and no tests.full is configured, so no test covers them (first: {}); set tests.full, or tests.unmatched = \"fail\" to refuse this",
            selection.unmatched_files.len(),
            selection.unmatched_files[0]
        ));
    }
}

/// Records a passing run in the state: which head passed, and what ran.
pub fn record_tests(st: &mut State, head: git2::Oid, results: &[TestResult]) {
    st.tested_head = Some(head.to_string());
    st.tests = results
        .iter()
        .map(|r| crate::journal::TestRecord {
            name: r.name.clone(),
            command: r.command.clone(),
            outcome: r.outcome.describe(),
            seconds: (r.seconds * 10.0).round() / 10.0,
        })
        .collect();
}

/// The commit tests compare with: `--base`, else the previous release of the hotfix in
/// progress (or its base), else the previous release on the configured line.
pub fn resolve_base(
    repo: &Repo,
    cfg: &Config,
    state: Option<&State>,
    explicit: Option<&str>,
) -> Result<(String, git2::Oid)> {
    if let Some(r) = explicit {
        let oid = repo.resolve_commit(r).ok_or_else(|| {
            Error::usage(format!("--base {r}: no such commit")).hint("name a tag, branch or sha")
        })?;
        return Ok((r.to_string(), oid));
    }
    if let Some(st) = state {
        let pick = st.previous.as_ref().unwrap_or(&st.base);
        let oid = git2::Oid::from_str(&pick.sha)
            .map_err(|e| Error::internal(format!("bad sha in state: {e}")))?;
        return Ok((pick.name.clone(), oid));
    }
    let rel = Releases::read(repo, cfg)?;
    let line = branching::model(cfg.model_kind()).resolve(&rel, None)?;
    match line.previous {
        Some(p) => Ok((p.tag, p.commit)),
        None => Err(Error::precondition("no previous release to compare with")
            .hint("name the base: hotfix test --base <tag-or-sha>")),
    }
}

fn print_selection(ctx: &Context, s: &Selection, base: &str, n_changed: usize) {
    let ui = &ctx.ui;
    ui.out(format!("{n_changed} changed file(s) since {base}."));
    if s.selected.is_empty() {
        ui.out("No test rule selected.");
    }
    for sel in &s.selected {
        ui.out(format!("{}  `{}`", ui.bold(&sel.rule), sel.command));
        for f in sel.files.iter().take(10) {
            ui.out(format!("    selected by {f}"));
        }
        if sel.files.len() > 10 {
            ui.out(format!("    … and {} more file(s)", sel.files.len() - 10));
        }
    }
    for cmd in &s.smoke {
        ui.out(format!("{}  `{cmd}` (always)", ui.bold("smoke")));
    }
    if !s.unmatched_files.is_empty() {
        ui.out(format!(
            "{} file(s) match no rule: {}",
            s.unmatched_files.len(),
            s.unmatched_files
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

/// Runs the selection (rules, then smoke) with `tests.jobs` at once, and prints the summary.
#[allow(clippy::too_many_arguments)]
pub fn run_selection(
    ctx: &Context,
    repo: &Repo,
    journal: &Journal,
    cfg: &Config,
    state: Option<&State>,
    selection: &Selection,
    changed: &[String],
    base: git2::Oid,
    head: git2::Oid,
) -> Result<Vec<TestResult>> {
    let stamp = crate::ui::timestamp().replace(':', "");
    let log_dir = journal.dir().join("logs").join(format!("test-{stamp}"));
    let changed_file = journal.dir().join("changed-files.txt");
    if !ctx.dry_run() {
        std::fs::create_dir_all(journal.dir())?;
        crate::journal::write_atomic(&changed_file, (changed.join("\n") + "\n").as_bytes())?;
    }
    let mut env: Vec<(OsString, OsString)> = state.map(lifecycle::hotfix_env).unwrap_or_default();
    env.retain(|(k, _)| k != "HOTFIX_BASE");
    env.push(("HOTFIX_SHA".into(), head.to_string().into()));
    env.push(("HOTFIX_BASE".into(), base.to_string().into()));
    env.push(("HOTFIX_CHANGED_FILES".into(), changed_file.clone().into()));

    let mut jobs: Vec<Job> = Vec::new();
    let named = selection
        .selected
        .iter()
        .map(|s| (s.rule.clone(), s.command.clone()))
        .chain(
            selection
                .smoke
                .iter()
                .map(|c| ("smoke".to_string(), c.clone())),
        );
    for (i, (name, command)) in named.enumerate() {
        let slug: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        jobs.push(Job {
            name,
            cmd: ConfiguredCommand {
                command,
                cwd: repo.workdir().to_path_buf(),
                env: env.clone(),
                pass_token: false,
            },
            timeout: cfg.tests.timeout.0,
            log: log_dir.join(format!("{:02}-{slug}.log", i + 1)),
        });
    }

    let interrupt = exec::interrupt_flag();
    let group = ctx.ui.group();
    let queue = Mutex::new(
        jobs.iter()
            .enumerate()
            .collect::<std::collections::VecDeque<_>>(),
    );
    let results: Mutex<Vec<Option<TestResult>>> = Mutex::new(vec![None; jobs.len()]);
    let workers = (cfg.tests.jobs.max(1) as usize).min(jobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    if interrupt.load(Ordering::SeqCst) {
                        break;
                    }
                    let Some((i, job)) = queue.lock().map(|mut q| q.pop_front()).ok().flatten()
                    else {
                        break;
                    };
                    let p = group.start(format!("{}: {}", job.name, job.cmd.command));
                    let t = Instant::now();
                    let outcome = ctx.runner.run_job(job, interrupt);
                    p.finish();
                    let seconds = t.elapsed().as_secs_f64();
                    group.println(format!(
                        "{} {} ({:.1}s) — {}",
                        if outcome.passed() { "✓" } else { "✗" },
                        job.name,
                        seconds,
                        outcome.describe()
                    ));
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(TestResult {
                            name: job.name.clone(),
                            command: job.cmd.command.clone(),
                            outcome,
                            seconds,
                            log: job.log.clone(),
                        });
                    }
                }
            });
        }
    });
    let results: Vec<TestResult> = results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .zip(&jobs)
        .map(|(r, job)| {
            r.unwrap_or_else(|| TestResult {
                name: job.name.clone(),
                command: job.cmd.command.clone(),
                outcome: JobOutcome::NotStarted("interrupted before it started".into()),
                seconds: 0.0,
                log: job.log.clone(),
            })
        })
        .collect();

    if !results.is_empty() {
        let w = results
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        ctx.ui.out(format!(
            "{:w$}  {:>7}  {:20}  log",
            "test", "time", "result"
        ));
        for r in &results {
            ctx.ui.out(format!(
                "{:w$}  {:>6.1}s  {:20}  {}",
                r.name,
                r.seconds,
                r.outcome.describe(),
                r.log.display()
            ));
        }
    }
    if interrupt.load(Ordering::SeqCst) {
        return Err(Error::new(
            Kind::Interrupted,
            "interrupted: the running test commands were stopped",
        )
        .hint("run the same command again"));
    }
    Ok(results)
}
