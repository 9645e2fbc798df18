//! `hotfix deploy [--ref TAG] [--contract] [--stage ID…]` and `hotfix rollback`.
//!
//! Only a release tag reachable from the remote's main, release or support branches can be
//! deployed, so this is no way around the approval gate. Commands run in a clean worktree of
//! the tag that the tool owns. Each environment is deployed in order, then watched for the
//! monitor window; a failure rolls that environment back. Every stage change is journaled: a
//! killed deploy, rerun, does not redeploy what finished and can still roll it back.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::start::short;
use crate::cli::DeployArgs;
use crate::config::{Config, OnFailure};
use crate::context::Context;
use crate::deploy::execute::{self, Observer, Outcome, StageState, Target};
use crate::deploy::{self, Plan, Scope, health};
use crate::error::{Error, Kind, Result};
use crate::git::Repo;
use crate::github::GitHub;
use crate::journal::{DeployRecord, EnvRecord, Event, Journal, State};

/// The release to deploy: its tag, commit, and what ran before it.
pub(crate) struct Release {
    tag: String,
    sha: git2::Oid,
    version: semver::Version,
    previous: Option<(String, git2::Oid)>,
}

pub(crate) fn resolve_release(
    repo: &Repo,
    cfg: &Config,
    state: Option<&State>,
    tag: Option<&str>,
) -> Result<Release> {
    let tag = match (tag, state) {
        (Some(t), _) => t.to_string(),
        (None, Some(st)) if st.phase >= crate::journal::Phase::Tagged => st.tag.clone(),
        (None, Some(st)) => {
            return Err(Error::precondition(format!(
                "hotfix {} is not tagged yet (phase {}): there is no release to deploy",
                st.version,
                st.phase.as_str()
            ))
            .hint("ship it first: hotfix ship (the approval gate comes before any deploy)"));
        }
        (None, None) => {
            return Err(
                Error::usage("no hotfix in progress: name the release to deploy")
                    .hint("hotfix deploy --ref v1.2.3"),
            );
        }
    };
    let Some(version) = cfg.version_of_tag(&tag) else {
        return Err(Error::precondition(format!(
            "{tag:?} is not a release tag (tag_format {:?}, no pre-release): only releases can be deployed",
            cfg.model.tag_format
        ))
        .hint("a branch, a sha or an unreleased HEAD never deploys: ship it to get a release tag"));
    };
    let sha = repo.tag(&tag).ok_or_else(|| {
        Error::precondition(format!("the tag {tag} does not exist here")).hint(format!(
            "fetch it: git fetch {} --tags",
            cfg.repository.remote
        ))
    })?;
    let remote = &cfg.repository.remote;
    let mut lines = vec![cfg.repository.main.clone()];
    lines.extend(repo.remote_branches(remote, &cfg.model.release_prefix)?);
    lines.extend(repo.remote_branches(remote, &cfg.model.support_prefix)?);
    if repo.reachable_from_remote(remote, sha, &lines).is_none() {
        return Err(Error::precondition(format!(
            "{tag} is not on {remote}/{} or any {remote}/{}* / {}* branch: it was never merged",
            cfg.repository.main, cfg.model.release_prefix, cfg.model.support_prefix
        ))
        .hint("deploy only what went through the approval gate: hotfix ship"));
    }
    // What runs before: the newest release below this one on its history.
    let rel = crate::branching::Releases::read(repo, cfg)?;
    let previous = rel
        .latest_on(sha, Some(&version))
        .map(|r| (r.tag, r.commit));
    Ok(Release {
        tag,
        sha,
        version,
        previous,
    })
}

/// Journals stage changes into the deploy record.
struct Recorder<'a> {
    journal: &'a Journal,
    record: Mutex<DeployRecord>,
    env_index: usize,
}

impl Observer for Recorder<'_> {
    fn changed(&self, id: &str, state: &StageState) {
        if let Ok(mut r) = self.record.lock() {
            if let Some(env) = r.environments.get_mut(self.env_index) {
                env.stages.insert(id.to_string(), state.clone());
            }
            r.updated_at = crate::ui::timestamp();
            let _ = self.journal.save_deploy(&r);
        }
    }
}

pub fn run(ctx: &Context, args: DeployArgs) -> Result<Value> {
    let repo = ctx.repo()?;
    let journal = ctx.journal(&repo);
    let state = journal.load()?;
    let loaded = ctx.config(Some(&repo), state.as_ref())?;
    let cfg = &loaded.config;
    let release = resolve_release(&repo, cfg, state.as_ref(), args.r#ref.as_deref())?;
    let _lock = ctx.lock(&journal, "hotfix deploy")?;
    deploy_release(
        ctx,
        &repo,
        &journal,
        cfg,
        state.as_ref(),
        &release,
        &Options {
            contract: args.contract,
            only: &args.stage,
            force_unlock: args.force_unlock,
        },
    )
}

/// How `deploy_release` was asked to run.
pub struct Options<'a> {
    pub contract: bool,
    pub only: &'a [String],
    pub force_unlock: bool,
}

/// Does this deploy record GitHub Deployments? `deploy.record`, else "when a GitHub repository
/// is known".
fn records_on_github(repo: &Repo, cfg: &Config) -> bool {
    match cfg.deploy.record {
        Some(crate::config::Record::Github) => true,
        Some(crate::config::Record::None) => false,
        None => {
            cfg.github.repo.is_some()
                || repo
                    .remote_url(&cfg.repository.remote)
                    .and_then(|u| crate::github::remote::parse_remote_url(&u))
                    .is_some()
        }
    }
}

/// The longest a live deploy can take: after this, an `in_progress` Deployment of another run
/// is stale.
fn deploy_budget(cfg: &Config, plan: &Plan) -> Duration {
    let mut total = Duration::ZERO;
    for s in &plan.stages {
        total += s.timeout * (s.retries + 1);
        for h in [&s.health, &s.pre_promote_health].into_iter().flatten() {
            total += h.initial_delay.0 + h.timeout.0;
        }
    }
    total
        + cfg
            .deploy
            .monitor
            .as_ref()
            .map_or(Duration::ZERO, |m| m.duration.0)
}

pub(crate) fn deploy_release(
    ctx: &Context,
    repo: &Repo,
    journal: &Journal,
    cfg: &Config,
    state: Option<&State>,
    release: &Release,
    opts: &Options<'_>,
) -> Result<Value> {
    let (contract, only) = (opts.contract, opts.only);
    let changed = match &release.previous {
        Some((_, prev)) => Some(repo.changed_paths(*prev, release.sha)?),
        None => None,
    };
    let plan = deploy::plan(
        &cfg.deploy,
        &Scope {
            changed: changed.as_deref(),
            contract,
            only,
        },
    )?;
    let sha = release.sha.to_string();

    // Resume an unfinished deploy of the same release; otherwise start a new record.
    let previous_record = journal.load_deploy()?;
    let mut record = match previous_record {
        Some(r) if !r.finished && r.sha == sha && r.contract == contract => {
            ctx.ui
                .info(format!("Resuming the interrupted deploy of {}", r.tag));
            r
        }
        _ => DeployRecord {
            run_id: state
                .map(|s| s.run_id.clone())
                .unwrap_or_else(crate::journal::new_run_id),
            tag: release.tag.clone(),
            sha: sha.clone(),
            contract,
            environments: cfg
                .deploy
                .environments
                .iter()
                .map(|e| EnvRecord {
                    name: e.clone(),
                    stages: BTreeMap::new(),
                    done: false,
                })
                .collect(),
            finished: false,
            outcome: None,
            started_at: crate::ui::timestamp(),
            updated_at: crate::ui::timestamp(),
        },
    };
    journal.save_deploy(&record)?;

    let gh: Option<std::sync::Arc<crate::github::Client>> =
        if records_on_github(repo, cfg) && !ctx.dry_run() {
            Some(std::sync::Arc::new(crate::github::connect(
                repo,
                cfg,
                &ctx.env,
                ctx.ui.clone(),
            )?))
        } else {
            None
        };
    let worktree = journal.dir().join("worktrees").join(&release.tag);
    repo.ensure_worktree(&worktree, &sha)?;
    let changed_file = journal.dir().join("deploy-changed-files.txt");
    if !ctx.dry_run() {
        crate::journal::write_atomic(
            &changed_file,
            (changed.clone().unwrap_or_default().join("\n") + "\n").as_bytes(),
        )?;
    }
    let mut vars: Vec<(OsString, OsString)> = vec![
        ("HOTFIX_VERSION".into(), release.version.to_string().into()),
        ("HOTFIX_TAG".into(), release.tag.clone().into()),
        ("HOTFIX_SHA".into(), sha.clone().into()),
        ("HOTFIX_CHANGED_FILES".into(), changed_file.into()),
    ];
    if let Some((t, s)) = &release.previous {
        vars.push(("HOTFIX_PREVIOUS_TAG".into(), t.clone().into()));
        vars.push(("HOTFIX_PREVIOUS_SHA".into(), s.to_string().into()));
    }
    if let Some(st) = state {
        vars.push(("HOTFIX_BRANCH".into(), st.branch.clone().into()));
        vars.push(("HOTFIX_BASE".into(), st.base.sha.clone().into()));
        vars.push((
            "HOTFIX_INCIDENT".into(),
            st.incident.clone().unwrap_or_default().into(),
        ));
    }
    let log_dir = journal.dir().join("logs").join(format!(
        "deploy-{}",
        crate::ui::timestamp().replace(':', "")
    ));
    let group = ctx.ui.group();
    let mut results = Vec::new();
    for i in 0..record.environments.len() {
        let env_name = record.environments[i].name.clone();
        if record.environments[i].done {
            continue;
        }
        let already: BTreeSet<String> = record.environments[i]
            .stages
            .iter()
            .filter(|(_, s)| **s == StageState::Succeeded)
            .map(|(id, _)| id.clone())
            .collect();
        if i > 0
            && !ctx
                .ui
                .confirm(&format!("Deploy {} to {env_name}?", release.tag), "--yes")?
        {
            return Err(Error::new(
                Kind::Paused,
                format!("stopped before deploying to {env_name}"),
            )
            .hint("run the same command again to continue"));
        }
        let mut env_vars = vars.clone();
        let deployment = match &gh {
            Some(gh) => Some(begin_deployment(
                ctx,
                journal,
                gh,
                &record,
                &env_name,
                release,
                &mut env_vars,
                deploy_budget(cfg, &plan),
                opts.force_unlock,
            )?),
            None => None,
        };
        ctx.ui.info(format!(
            "Deploying {} ({}) to {env_name}: {} stage(s) in {} wave(s)",
            release.tag,
            short(&sha),
            plan.stages.len(),
            plan.waves.len()
        ));
        for s in &plan.skipped {
            ctx.ui.info(format!("  skipped {}: {}", s.id, s.reason));
        }
        let target = Target {
            environment: env_name.clone(),
            worktree: worktree.clone(),
            vars: env_vars,
            log_dir: log_dir.clone(),
            max_parallel: cfg.deploy.max_parallel as usize,
            delegate: gh.as_ref().map(|gh| {
                delegate_to_github(
                    gh.clone(),
                    sha.clone(),
                    env_name.clone(),
                    record.run_id.clone(),
                    release.tag.clone(),
                    cfg.approval.poll_interval.0,
                )
            }),
        };
        let recorder = Recorder {
            journal,
            record: Mutex::new(record.clone()),
            env_index: i,
        };
        crate::journal::crash_point("deploy:before-stages");
        let mut outcome =
            execute::execute(&ctx.runner, &plan, &target, &already, &recorder, &group);
        record = recorder.record.into_inner().unwrap_or(record);
        if outcome.failed.is_none() && !outcome.interrupted {
            outcome = monitor(ctx, cfg, &plan, &target, outcome, &group);
            for (id, st) in &outcome.stages {
                record.environments[i].stages.insert(id.clone(), st.clone());
            }
        }
        let summary =
            json!({ "environment": env_name, "stages": outcome.stages, "failed": outcome.failed });
        results.push(summary);
        if outcome.interrupted {
            journal.save_deploy(&record)?;
            return Err(Error::new(
                Kind::Interrupted,
                format!("deploy of {env_name} interrupted; finished stages are recorded"),
            )
            .hint("run the same command again: completed stages are not redeployed"));
        }
        if let (Some(gh), Some(id)) = (&gh, deployment) {
            let (state, description) = match &outcome.failed {
                None => (
                    "success".to_string(),
                    format!("{} deployed by hotfix", release.tag),
                ),
                Some(why) if outcome.rollback_failed => (
                    "failure".to_string(),
                    format!("failed, and a rollback failed: {why}"),
                ),
                Some(why) => ("failure".to_string(), format!("rolled back: {why}")),
            };
            gh.set_deployment_state(id, &state, &description, &env_name, true)?;
        }
        if let Some(why) = &outcome.failed {
            record.finished = true;
            record.outcome = Some(format!("failed in {env_name}: {why}"));
            journal.save_deploy(&record)?;
            if let Some(st) = state {
                journal.log(
                    &Event::new(st, "deploy", "failed")
                        .with("environment", &env_name)
                        .with("stages", &outcome.stages),
                )?;
            }
            return Err(failure_error(&env_name, why, &outcome));
        }
        record.environments[i].done = true;
        journal.save_deploy(&record)?;
        ctx.ui
            .done(format!("{} is healthy in {env_name}", release.tag));
    }
    record.finished = true;
    record.outcome = Some("deployed".into());
    journal.save_deploy(&record)?;
    if let Some(st) = state {
        journal.log(
            &Event::new(st, "deploy", "ok")
                .with("tag", &release.tag)
                .with("environments", &cfg.deploy.environments),
        )?;
    }
    ctx.ui.out(format!(
        "Deployed {} to {}.",
        release.tag,
        cfg.deploy.environments.join(", ")
    ));
    Ok(json!({ "tag": release.tag, "sha": sha, "environments": results }))
}

fn failure_error(env: &str, why: &str, outcome: &Outcome) -> Error {
    let mut lines = Vec::new();
    for (id, st) in &outcome.stages {
        let s = match st {
            StageState::Failed(w) => format!("failed: {w}"),
            StageState::RollbackFailed(w) => format!("ROLLBACK FAILED: {w}"),
            StageState::RolledBack => "rolled back".into(),
            StageState::NoRollback => "deployed, no rollback command (left as is)".into(),
            StageState::Skipped => "skipped (never started)".into(),
            other => format!("{other:?}").to_lowercase(),
        };
        lines.push(format!("  {id}: {s}"));
    }
    if outcome.rollback_failed {
        Error::new(
            Kind::RollbackFailed,
            format!("deploy to {env} failed ({why}) and a rollback failed: production may run a mix of versions:\n{}", lines.join("\n")),
        )
        .hint("fix the failed rollback by hand, then: hotfix rollback")
    } else {
        Error::step(format!(
            "deploy to {env} failed and was rolled back: {why}\n{}",
            lines.join("\n")
        ))
        .hint("fix, commit and run hotfix ship again (new PR round), or redeploy: hotfix deploy")
    }
}

/// The monitor window: every stage's health gate (and the monitor command) is re-checked every
/// `interval` for `duration`; a failure rolls the environment back, or only alerts.
fn monitor(
    ctx: &Context,
    cfg: &Config,
    plan: &Plan,
    target: &Target,
    mut outcome: Outcome,
    group: &crate::ui::ProgressGroup,
) -> Outcome {
    let Some(m) = &cfg.deploy.monitor else {
        return outcome;
    };
    if m.duration.0.is_zero() || ctx.dry_run() {
        return outcome;
    }
    let p = group.start(format!(
        "{}: watching for {}",
        target.environment, m.duration
    ));
    let end = Instant::now() + m.duration.0;
    let never = AtomicBool::new(false);
    let mut failures: BTreeMap<String, u32> = BTreeMap::new();
    let mut failed: Option<String> = None;
    'watch: while Instant::now() < end {
        for s in &plan.stages {
            let Some(h) = &s.health else { continue };
            let probe = health::Probe {
                runner: &ctx.runner,
                environment: &target.environment,
                cmd: crate::exec::ConfiguredCommand {
                    command: String::new(),
                    cwd: target.worktree.clone(),
                    env: target.vars.clone(),
                    pass_token: s.pass_token,
                },
                log: target
                    .log_dir
                    .join(format!("{}-{}-monitor.log", target.environment, s.id)),
            };
            let (ok, seen) = health::measure(h, &probe, &never);
            if !ok {
                let n = failures.entry(s.id.clone()).or_default();
                *n += 1;
                if *n > h.failure_limit {
                    failed = Some(format!(
                        "{} unhealthy during the monitor window: {seen}",
                        s.id
                    ));
                    break 'watch;
                }
            }
        }
        if !m.command.is_empty() {
            let job = crate::exec::Job {
                name: "monitor".into(),
                cmd: crate::exec::ConfiguredCommand {
                    command: m.command.clone(),
                    cwd: target.worktree.clone(),
                    env: target.vars.clone(),
                    pass_token: false,
                },
                timeout: m.interval.0.max(Duration::from_secs(1)) * 4,
                log: target
                    .log_dir
                    .join(format!("{}-monitor-command.log", target.environment)),
            };
            let o = ctx.runner.run_job(&job, &never);
            if !o.passed() {
                failed = Some(format!("monitor command `{}` {}", m.command, o.describe()));
                break;
            }
        }
        if health::wait_until(Instant::now() + m.interval.0, end, &never) {
            break;
        }
    }
    p.finish();
    let Some(why) = failed else { return outcome };
    ctx.ui.warn(format!("{}: {why}", target.environment));
    outcome.failed = Some(why);
    if m.on_failure == OnFailure::Rollback {
        let started: BTreeSet<String> = plan.stages.iter().map(|s| s.id.clone()).collect();
        struct Quiet;
        impl Observer for Quiet {
            fn changed(&self, _: &str, _: &StageState) {}
        }
        outcome.rollback_failed = execute::roll_back(
            &ctx.runner,
            plan,
            target,
            &started,
            &mut outcome.stages,
            &Quiet,
            group,
        );
    }
    outcome
}

/// `hotfix rollback`: reruns the rollback of the last deploy's most recent environment.
pub fn rollback(ctx: &Context) -> Result<Value> {
    let repo = ctx.repo()?;
    let journal = ctx.journal(&repo);
    let state = journal.load()?;
    let loaded = ctx.config(Some(&repo), state.as_ref())?;
    let cfg = &loaded.config;
    let Some(mut record) = journal.load_deploy()? else {
        return Err(Error::precondition("there is no deploy to roll back").hint("hotfix status"));
    };
    let _lock = ctx.lock(&journal, "hotfix rollback")?;
    let Some(i) = record
        .environments
        .iter()
        .rposition(|e| !e.stages.is_empty())
    else {
        return Err(Error::precondition(format!(
            "the deploy of {} started no stage",
            record.tag
        )));
    };
    let env = record.environments[i].clone();
    let started: BTreeSet<String> = env
        .stages
        .iter()
        .filter(|(_, s)| !matches!(s, StageState::Skipped | StageState::Pending))
        .map(|(id, _)| id.clone())
        .collect();
    let plan = deploy::plan(
        &cfg.deploy,
        &Scope {
            changed: None,
            contract: record.contract,
            only: &[],
        },
    )?;
    let worktree = journal.dir().join("worktrees").join(&record.tag);
    repo.ensure_worktree(&worktree, &record.sha)?;
    let target = Target {
        environment: env.name.clone(),
        worktree,
        vars: vec![
            ("HOTFIX_TAG".into(), record.tag.clone().into()),
            ("HOTFIX_SHA".into(), record.sha.clone().into()),
        ],
        log_dir: journal.dir().join("logs").join(format!(
            "rollback-{}",
            crate::ui::timestamp().replace(':', "")
        )),
        max_parallel: cfg.deploy.max_parallel as usize,
        delegate: None,
    };
    let mut states = env.stages.clone();
    let recorder = Recorder {
        journal: &journal,
        record: Mutex::new(record.clone()),
        env_index: i,
    };
    let failed = execute::roll_back(
        &ctx.runner,
        &plan,
        &target,
        &started,
        &mut states,
        &recorder,
        &ctx.ui.group(),
    );
    record = recorder.record.into_inner().unwrap_or(record);
    record.finished = true;
    record.outcome = Some(if failed {
        "rollback failed".into()
    } else {
        "rolled back".into()
    });
    journal.save_deploy(&record)?;
    if failed {
        return Err(Error::new(
            Kind::RollbackFailed,
            format!(
                "a rollback in {} failed: production may run a mix of versions",
                env.name
            ),
        ));
    }
    ctx.ui
        .out(format!("Rolled back {} in {}.", record.tag, env.name));
    Ok(json!({ "tag": record.tag, "environment": env.name, "stages": states }))
}

/// Before deploying an environment: refuse when another run's Deployment is live there (unless
/// `--force-unlock`), take `HOTFIX_PREVIOUS_*` from the newest successful one, and create (or
/// find again, after a crash) this run's Deployment, marked `in_progress`.
#[allow(clippy::too_many_arguments)]
fn begin_deployment(
    ctx: &Context,
    journal: &Journal,
    gh: &crate::github::Client,
    record: &DeployRecord,
    env: &str,
    release: &Release,
    vars: &mut Vec<(OsString, OsString)>,
    budget: Duration,
    force_unlock: bool,
) -> Result<u64> {
    let ours = serde_json::Value::String(record.run_id.clone());
    let existing = gh.deployments(env, "deploy", None)?;
    let mut previous: Option<(String, String)> = None;
    for d in existing.iter().take(20) {
        let states = gh.deployment_states(d.id)?;
        let latest = states.first().map(String::as_str).unwrap_or("");
        if d.payload["run_id"] == ours {
            continue;
        }
        let live = matches!(latest, "in_progress" | "queued" | "pending")
            && d.created_at
                .is_some_and(|t| t + budget > std::time::SystemTime::now());
        if live {
            if !force_unlock {
                return Err(Error::precondition(format!(
                    "{env} is being deployed by another run (Deployment #{} of {}, {latest})",
                    d.id,
                    short(&d.sha)
                ))
                .hint("wait for it to finish; if that run is dead: hotfix deploy --force-unlock"));
            }
            ctx.ui.warn(format!(
                "--force-unlock: ignoring the live Deployment #{} in {env}",
                d.id
            ));
            if let Some(st) = journal.load()? {
                journal.log(
                    &Event::new(&st, "deploy:force-unlock", "ok")
                        .with("deployment", d.id)
                        .with("environment", env),
                )?;
            }
        }
        if previous.is_none() && latest == "success" {
            let tag = d.payload["tag"].as_str().unwrap_or("").to_string();
            previous = Some((tag, d.sha.clone()));
        }
    }
    if let Some((tag, sha)) = previous {
        vars.retain(|(k, _)| k != "HOTFIX_PREVIOUS_TAG" && k != "HOTFIX_PREVIOUS_SHA");
        vars.push(("HOTFIX_PREVIOUS_TAG".into(), tag.into()));
        vars.push(("HOTFIX_PREVIOUS_SHA".into(), sha.into()));
    }
    let payload = serde_json::json!({ "run_id": record.run_id, "tag": release.tag });
    let d = gh.create_deployment(
        &record.sha,
        env,
        "deploy",
        &payload,
        &format!("hotfix deploy of {}", release.tag),
    )?;
    gh.set_deployment_state(
        d.id,
        "in_progress",
        &format!("deploying {}", release.tag),
        env,
        true,
    )?;
    Ok(d.id)
}

/// A delegated stage: a Deployment with task `deploy:{id}` for the team's deployment engine,
/// then wait (within the stage's timeout) for the engine's `success`, `failure` or `error`.
fn delegate_to_github(
    gh: std::sync::Arc<crate::github::Client>,
    sha: String,
    env: String,
    run_id: String,
    tag: String,
    poll: Duration,
) -> crate::deploy::execute::Delegate<'static> {
    Box::new(move |s: &crate::deploy::StagePlan, kill: &AtomicBool| {
        let task = format!("deploy:{}", s.id);
        let payload = serde_json::json!({ "run_id": run_id, "tag": tag, "stage": s.id });
        let d = gh
            .create_deployment(
                &sha,
                &env,
                &task,
                &payload,
                &format!("hotfix: {} of {tag}", s.id),
            )
            .map_err(|e| e.message)?;
        let end = Instant::now() + s.timeout;
        loop {
            let states = gh.deployment_states(d.id).map_err(|e| e.message)?;
            match states.first().map(String::as_str) {
                Some("success") => return Ok(()),
                Some(st @ ("failure" | "error")) => {
                    return Err(format!(
                        "the deployment engine reported {st} for Deployment #{}",
                        d.id
                    ));
                }
                _ => {}
            }
            if health::wait_until(Instant::now() + poll, end, kill) || Instant::now() >= end {
                return Err(format!(
                    "no verdict from the deployment engine on Deployment #{} within {}",
                    d.id,
                    crate::config::Dur(s.timeout)
                ));
            }
        }
    })
}
