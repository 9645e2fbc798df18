//! The executor: runs a plan's stages as soon as their dependencies succeeded and passed their
//! gates, up to `max_parallel` at once; on a failure starts nothing new, lets running stages
//! finish, then rolls back every started stage that has a `rollback`, dependants first.
//!
//! Interrupts: the first Ctrl-C starts nothing new and lets running commands finish (the deploy
//! resumes later); the second kills them and rolls back.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::health::{self, GateResult, Probe};
use super::plan::{Plan, StagePlan};
use crate::exec::{self, ConfiguredCommand, Job, JobOutcome, Runner};
use crate::ui::ProgressGroup;

/// Where a stage is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "detail")]
pub enum StageState {
    Pending,
    Running,
    Succeeded,
    Failed(String),
    /// Never started (a failure elsewhere stopped the deploy).
    Skipped,
    RolledBack,
    RollbackFailed(String),
    /// Started, but has no `rollback` command.
    NoRollback,
}

/// What the stages run with in one environment.
pub struct Target {
    pub environment: String,
    /// The clean worktree of the release.
    pub worktree: PathBuf,
    /// `HOTFIX_*` values for this deploy.
    pub vars: Vec<(OsString, OsString)>,
    pub log_dir: PathBuf,
    pub max_parallel: usize,
    /// Hands a `delegate = "github-deployment"` stage to the team's deployment engine and waits
    /// for its verdict (None: delegation is not available, the stage fails).
    pub delegate: Option<Delegate<'static>>,
}

/// What runs a delegated stage: `Err` carries the reason it failed.
pub type Delegate<'a> =
    Box<dyn Fn(&StagePlan, &AtomicBool) -> Result<(), String> + Send + Sync + 'a>;

/// How the deploy of one environment ended.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub stages: BTreeMap<String, StageState>,
    pub failed: Option<String>,
    pub rollback_failed: bool,
    /// Stopped by a first Ctrl-C: nothing rolled back, resumable.
    pub interrupted: bool,
    pub gates: BTreeMap<String, GateResult>,
}

/// Receives every stage state change (the caller journals it).
pub trait Observer: Sync {
    fn changed(&self, id: &str, state: &StageState);
}

enum Msg {
    Done(
        String,
        Result<Option<GateResult>, (String, Option<GateResult>)>,
    ),
    RolledBack(String, Result<(), String>),
}

/// Runs `plan` in `target`. Stages in `already_done` (a resumed deploy) are not run again but
/// count as started, so a later failure still rolls them back.
pub fn execute(
    runner: &Runner,
    plan: &Plan,
    target: &Target,
    already_done: &BTreeSet<String>,
    observer: &dyn Observer,
    group: &ProgressGroup,
) -> Outcome {
    let interrupts = exec::interrupt_count();
    let base = interrupts.load(Ordering::SeqCst);
    let kill = AtomicBool::new(false);
    let mut states: BTreeMap<String, StageState> = plan
        .stages
        .iter()
        .map(|s| {
            let st = if already_done.contains(&s.id) {
                StageState::Succeeded
            } else {
                StageState::Pending
            };
            (s.id.clone(), st)
        })
        .collect();
    let mut gates = BTreeMap::new();
    let mut done: BTreeSet<String> = already_done.clone();
    let mut started: BTreeSet<String> = already_done.clone();
    let mut failed: Option<String> = None;
    let mut interrupted = false;
    let (tx, rx) = mpsc::channel::<Msg>();

    std::thread::scope(|scope| {
        let mut running = 0usize;
        loop {
            let n = interrupts.load(Ordering::SeqCst) - base;
            if n >= 1 {
                interrupted = true;
            }
            if n >= 2 {
                kill.store(true, Ordering::SeqCst);
            }
            if failed.is_none() && !interrupted {
                for s in plan.ready(&done, &started) {
                    if running >= target.max_parallel.max(1) {
                        break;
                    }
                    started.insert(s.id.clone());
                    states.insert(s.id.clone(), StageState::Running);
                    observer.changed(&s.id, &StageState::Running);
                    running += 1;
                    let tx = tx.clone();
                    let kill = &kill;
                    let p = group.start(format!("{}: {}", target.environment, s.id));
                    scope.spawn(move || {
                        let r = run_stage(runner, s, target, kill);
                        p.finish();
                        let _ = tx.send(Msg::Done(s.id.clone(), r));
                    });
                }
            }
            if running == 0 {
                break;
            }
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(Msg::Done(id, r)) => {
                    running -= 1;
                    match r {
                        Ok(gate) => {
                            group.println(format!("✓ {}: {id} deployed", target.environment));
                            if let Some(g) = gate {
                                gates.insert(id.clone(), g);
                            }
                            done.insert(id.clone());
                            states.insert(id.clone(), StageState::Succeeded);
                            observer.changed(&id, &StageState::Succeeded);
                        }
                        Err((why, gate)) => {
                            group.println(format!("✗ {}: {id} failed: {why}", target.environment));
                            if let Some(g) = gate {
                                gates.insert(id.clone(), g);
                            }
                            failed.get_or_insert_with(|| format!("{id}: {why}"));
                            let st = StageState::Failed(why);
                            observer.changed(&id, &st);
                            states.insert(id, st);
                        }
                    }
                }
                Ok(Msg::RolledBack(..)) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    });

    for s in &plan.stages {
        if states.get(&s.id) == Some(&StageState::Pending) {
            states.insert(s.id.clone(), StageState::Skipped);
            observer.changed(&s.id, &StageState::Skipped);
        }
    }
    let second = interrupts.load(Ordering::SeqCst) - base >= 2;
    let mut rollback_failed = false;
    if failed.is_some() || second {
        interrupted = false;
        rollback_failed = roll_back(runner, plan, target, &started, &mut states, observer, group);
    }
    Outcome {
        stages: states,
        failed: failed.or_else(|| second.then(|| "interrupted twice: rolled back".to_string())),
        rollback_failed,
        interrupted,
        gates,
    }
}

/// Rolls back the `started` stages, dependants before what they depend on, independent ones in
/// parallel. Returns true when any rollback failed.
pub fn roll_back(
    runner: &Runner,
    plan: &Plan,
    target: &Target,
    started: &BTreeSet<String>,
    states: &mut BTreeMap<String, StageState>,
    observer: &dyn Observer,
    group: &ProgressGroup,
) -> bool {
    let never = AtomicBool::new(false);
    let mut any_failed = false;
    for wave in plan.rollback_waves(started) {
        let (tx, rx) = mpsc::channel::<Msg>();
        std::thread::scope(|scope| {
            for id in &wave {
                let Some(s) = plan.stage(id) else { continue };
                let Some(cmd) = s.rollback.clone() else {
                    states.insert(id.clone(), StageState::NoRollback);
                    observer.changed(id, &StageState::NoRollback);
                    continue;
                };
                let tx = tx.clone();
                let never = &never;
                let p = group.start(format!("{}: rolling back {id}", target.environment));
                scope.spawn(move || {
                    let job = job_for(s, target, &cmd, "rollback", &[]);
                    let r = runner.run_job(&job, never);
                    p.finish();
                    let r = if r.passed() {
                        Ok(())
                    } else {
                        Err(r.describe())
                    };
                    let _ = tx.send(Msg::RolledBack(s.id.clone(), r));
                });
            }
            drop(tx);
            for msg in rx {
                if let Msg::RolledBack(id, r) = msg {
                    let st = match r {
                        Ok(()) => {
                            group.println(format!("↩ {}: {id} rolled back", target.environment));
                            StageState::RolledBack
                        }
                        Err(e) => {
                            any_failed = true;
                            group.println(format!(
                                "✗ {}: rollback of {id} failed: {e}",
                                target.environment
                            ));
                            StageState::RollbackFailed(e)
                        }
                    };
                    observer.changed(&id, &st);
                    states.insert(id, st);
                }
            }
        });
    }
    any_failed
}

fn job_for(
    s: &StagePlan,
    target: &Target,
    command: &str,
    what: &str,
    extra: &[(&str, String)],
) -> Job {
    let mut env = target.vars.clone();
    env.push(("HOTFIX_STAGE".into(), s.id.clone().into()));
    env.push((
        "HOTFIX_ENVIRONMENT".into(),
        target.environment.clone().into(),
    ));
    for (k, v) in extra {
        env.push(((*k).into(), v.into()));
    }
    Job {
        name: format!("{}:{what}", s.id),
        cmd: ConfiguredCommand {
            command: command.to_string(),
            cwd: target.worktree.clone(),
            env,
            pass_token: s.pass_token,
        },
        timeout: s.timeout,
        log: target
            .log_dir
            .join(format!("{}-{}-{what}.log", target.environment, s.id)),
    }
}

fn gate(
    runner: &Runner,
    s: &StagePlan,
    target: &Target,
    h: &crate::config::Health,
    what: &str,
    kill: &AtomicBool,
) -> GateResult {
    let job = job_for(s, target, "", what, &[]);
    let probe = Probe {
        runner,
        environment: &target.environment,
        cmd: job.cmd,
        log: job.log,
    };
    health::run_gate(h, &probe, kill)
}

type StageResult = Result<Option<GateResult>, (String, Option<GateResult>)>;

/// One stage: `run` with its retries, then promote / traffic / the health gate.
fn run_stage(runner: &Runner, s: &StagePlan, target: &Target, kill: &AtomicBool) -> StageResult {
    let run = s.run.clone().unwrap_or_default();
    let start = Instant::now();
    let mut attempt = 0;
    if s.delegated {
        match &target.delegate {
            Some(d) => d(s, kill).map_err(|e| (e, None))?,
            None => {
                return Err((
                    "delegate = \"github-deployment\" needs deploy.record = \"github\" and a GitHub repository".into(),
                    None,
                ));
            }
        }
    }
    if !s.delegated {
        loop {
            let mut job = job_for(s, target, &run, "run", &[]);
            job.timeout = s.timeout.saturating_sub(start.elapsed());
            let outcome = runner.run_job(&job, kill);
            if outcome.passed() {
                break;
            }
            let left = s.timeout.saturating_sub(start.elapsed());
            let wait = backoff(s.backoff, attempt);
            if attempt >= s.retries
                || outcome == JobOutcome::TimedOut
                || left <= wait
                || kill.load(Ordering::SeqCst)
            {
                let tries = if attempt > 0 {
                    format!(" after {} attempt(s)", attempt + 1)
                } else {
                    String::new()
                };
                return Err((
                    format!(
                        "`{run}` {}{tries} (log: {})",
                        outcome.describe(),
                        job.log.display()
                    ),
                    None,
                ));
            }
            attempt += 1;
            runner.ui.info(format!(
                "{}: `{run}` {}; retry {attempt} of {} in {:.1}s",
                s.id,
                outcome.describe(),
                s.retries,
                wait.as_secs_f64()
            ));
            if health::wait_until(Instant::now() + wait, Instant::now() + left, kill) {
                return Err(("interrupted".into(), None));
            }
        }
    }
    if let Some(promote) = &s.promote {
        if let Some(h) = &s.pre_promote_health {
            let g = gate(runner, s, target, h, "pre-promote-health", kill);
            if !g.passed {
                return Err((
                    format!("staging gate failed: {}; last: {}", g.reason, g.last),
                    Some(g),
                ));
            }
        }
        let job = job_for(s, target, promote, "promote", &[]);
        let o = runner.run_job(&job, kill);
        if !o.passed() {
            return Err((format!("promote `{promote}` {}", o.describe()), None));
        }
    }
    if let Some(t) = &s.traffic {
        for w in &t.steps {
            let job = job_for(
                s,
                target,
                &t.run,
                &format!("weight-{w}"),
                &[("HOTFIX_WEIGHT", w.to_string())],
            );
            let o = runner.run_job(&job, kill);
            let failure = if !o.passed() {
                Some((
                    format!("setting weight {w}% with `{}` {}", t.run, o.describe()),
                    None,
                ))
            } else if let Some(h) = &s.health {
                // The pause is spent re-checking health.
                let mut h = h.clone();
                h.timeout = crate::config::Dur(h.timeout.0.max(t.pause.0));
                let g = gate(runner, s, target, &h, &format!("health-{w}"), kill);
                (!g.passed).then(|| {
                    (
                        format!("unhealthy at weight {w}%: {}; last: {}", g.reason, g.last),
                        Some(g),
                    )
                })
            } else {
                None
            };
            if let Some(f) = failure {
                // Traffic back to 0 before the rollback.
                let zero = job_for(
                    s,
                    target,
                    &t.run,
                    "weight-0",
                    &[("HOTFIX_WEIGHT", "0".into())],
                );
                let _ = runner.run_job(&zero, &AtomicBool::new(false));
                return Err(f);
            }
        }
        return Ok(None);
    }
    if let Some(h) = &s.health {
        let g = gate(runner, s, target, h, "health", kill);
        if !g.passed {
            return Err((
                format!("health gate failed: {}; last: {}", g.reason, g.last),
                Some(g),
            ));
        }
        return Ok(Some(g));
    }
    Ok(None)
}

/// Exponential backoff with jitter: `base`, `2·base`, `4·base`, … plus up to 25 %.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let b = base * 2u32.pow(attempt.min(10));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    b + b.mul_f64((nanos % 1000) as f64 / 4000.0)
}
