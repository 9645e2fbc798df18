//! `hotfix backport`: bring the fix to every target branch, always starting from
//! `{remote}/{target}` so a user's unpushed commits never travel along. Picks and merges are
//! made in memory; only a conflict is handed to the working tree, on a temporary branch
//! `hotfix-backport/{target}`, with `--continue`, `--skip` and `--abort` as the ways on.
//! Results are pushed together (`--atomic --force-with-lease`) or proposed as one PR per target.

use std::path::PathBuf;

use git2::Oid;
use serde_json::{Value, json};

use crate::backport::{self, Applied};
use crate::branching;
use crate::cli::BackportArgs;
use crate::config::{BackportMethod, BackportMode, Config, ModelKind};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::github::GitHub;
use crate::journal::{BackportState, BackportTarget, Event, Journal, Phase, State, write_atomic};

const TEMP_PREFIX: &str = "hotfix-backport/";

/// Where the state being worked on lives: the hotfix in progress, or an archived one.
enum Home {
    InProgress,
    Archived(PathBuf),
}

struct Backport<'a> {
    ctx: &'a Context,
    repo: &'a Repo,
    journal: &'a Journal,
    cfg: &'a Config,
    state: State,
    home: Home,
}

pub fn run(ctx: &Context, args: BackportArgs) -> Result<Value> {
    let repo = ctx.repo()?;
    let journal = ctx.journal(&repo);
    let (state, home) = match journal.load()? {
        Some(s)
            if args
                .version
                .as_deref()
                .is_none_or(|v| v.trim_start_matches('v') == s.version) =>
        {
            (s, Home::InProgress)
        }
        _ => {
            let (s, path) = archived(&journal, args.version.as_deref())?.ok_or_else(|| {
                Error::precondition(match &args.version {
                    Some(v) => format!("no finished hotfix {v} is recorded in this repository"),
                    None => "no hotfix is in progress and none has finished yet".into(),
                })
                .hint("hotfix status")
            })?;
            (s, Home::Archived(path))
        }
    };
    let loaded = ctx.config(Some(&repo), Some(&state))?;
    let mut b = Backport {
        ctx,
        repo: &repo,
        journal: &journal,
        cfg: &loaded.config,
        state,
        home,
    };
    let _lock = ctx.lock(&journal, "hotfix backport")?;
    if args.abort {
        return b.abort();
    }
    if args.skip {
        b.skip()?;
    } else if args.cont {
        b.resume_conflict()?;
    } else {
        b.begin(&args)?;
    }
    b.process()?;
    b.publish(args.pr)?;
    b.finish()
}

/// The newest archived (finished) hotfix, or the one of `version`.
fn archived(journal: &Journal, version: Option<&str>) -> Result<Option<(State, PathBuf)>> {
    let dir = journal.dir().join("done");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Ok(None);
    };
    let mut best: Option<(semver::Version, State, PathBuf)> = None;
    for e in rd.flatten() {
        let p = e.path().join("state.json");
        let Some(s) = std::fs::read_to_string(&p)
            .ok()
            .and_then(|t| serde_json::from_str::<State>(&t).ok())
        else {
            continue;
        };
        if version.is_some_and(|v| v.trim_start_matches('v') != s.version) {
            continue;
        }
        let v = semver::Version::parse(&s.version).unwrap_or(semver::Version::new(0, 0, 0));
        if best.as_ref().is_none_or(|(bv, _, _)| v > *bv) {
            best = Some((v, s, p));
        }
    }
    Ok(best.map(|(_, s, p)| (s, p)))
}

fn short(o: &str) -> &str {
    &o[..o.len().min(10)]
}

fn oid(s: &str) -> Result<Oid> {
    Oid::from_str(s).map_err(|e| Error::internal(format!("bad sha {s:?}: {e}")))
}

impl Backport<'_> {
    fn save(&mut self) -> Result<()> {
        self.state.updated_at = crate::ui::timestamp();
        match &self.home {
            Home::InProgress => self.journal.save(&self.state),
            Home::Archived(path) => {
                if self.ctx.dry_run() {
                    return Ok(());
                }
                let text = serde_json::to_string_pretty(&self.state)
                    .map_err(|e| Error::internal(format!("cannot encode state: {e}")))?;
                write_atomic(path, text.as_bytes())
            }
        }
    }

    fn remote(&self) -> &str {
        &self.cfg.repository.remote
    }

    /// The hotfix's own commits (oldest first, merges left out): what cherry-picks bring over.
    fn fix_commits(&self) -> Result<Vec<Oid>> {
        let base = oid(&self.state.base.sha)?;
        let head = match (&self.state.pr, &self.state.pushed) {
            (Some(pr), _) if !pr.head_sha.is_empty() => oid(&pr.head_sha)?,
            (_, Some(p)) => oid(&p.sha)?,
            _ => self.repo.local_branch(&self.state.branch).ok_or_else(|| {
                Error::precondition(format!("cannot find the commits of {}", self.state.branch))
            })?,
        };
        Ok(self
            .repo
            .commits_between(base, head)?
            .into_iter()
            .filter_map(|c| oid(&c.sha).ok())
            .filter(|c| self.repo.parent_count(*c) == Some(1))
            .collect())
    }

    /// Targets and methods for a fresh backport: `--to`, `backport.targets`, or by model.
    fn begin(&mut self, args: &BackportArgs) -> Result<()> {
        if self
            .state
            .backport
            .iter()
            .any(|t| t.state == BackportState::Conflict)
        {
            let t = self
                .state
                .backport
                .iter()
                .find(|t| t.state == BackportState::Conflict)
                .map(|t| t.target.clone())
                .unwrap_or_default();
            return Err(Error::paused(format!("the backport to {t} is stopped on a conflict"))
                .hint("resolve it, then: hotfix backport --continue")
                .hint("or: hotfix backport --skip (leave it without the fix) / --abort (undo every target)"));
        }
        let phase = self.state.phase;
        let deployed_ok = phase >= Phase::Deployed && phase != Phase::DeployFailed;
        let allowed = deployed_ok || (args.allow_failed_deploy && phase >= Phase::Merged);
        if !allowed {
            return Err(Error::precondition(format!(
                "hotfix {} is {}: backport brings back what production runs",
                self.state.version,
                phase.as_str()
            ))
            .hint("ship it first: hotfix ship")
            .hint("or, after a failed deploy, on purpose: hotfix backport --allow-failed-deploy"));
        }
        let dirty = self.repo.uncommitted_changes()?;
        if !dirty.is_empty() {
            return Err(Error::precondition(format!(
                "the working tree has uncommitted changes ({}): a conflict could not be handed over",
                dirty.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            ))
            .hint("commit or stash them, then run hotfix backport again"));
        }
        let pending_prs = self
            .state
            .backport
            .iter()
            .any(|t| t.state == BackportState::PrOpen);
        if pending_prs && args.to.is_empty() {
            return Ok(());
        }
        self.repo.fetch(self.remote())?;
        let targets = if !args.to.is_empty() {
            args.to.clone()
        } else if let Some(t) = &self.cfg.backport.targets {
            t.clone()
        } else {
            let rel = branching::Releases::read(self.repo, self.cfg)?;
            let line = branching::Line {
                base_ref: self.state.base.name.clone(),
                base: oid(&self.state.base.sha)?,
                previous: None,
                pr_target: self.state.pr_target.clone(),
                create_target_from: None,
                version_ceiling: None,
                notes: Vec::new(),
            };
            branching::model(self.cfg.model_kind()).backport_targets(&rel, &line)?
        };
        let kind = self.cfg.model_kind();
        let support = self
            .state
            .pr_target
            .starts_with(&self.cfg.model.support_prefix);
        self.state.backport = targets
            .into_iter()
            .filter(|t| *t != self.state.pr_target)
            .map(|target| {
                let method = match self.cfg.backport.method {
                    BackportMethod::Merge => "merge",
                    BackportMethod::CherryPick => "cherry-pick",
                    BackportMethod::Auto => {
                        if kind == ModelKind::GitFlow
                            && !support
                            && target == self.cfg.repository.develop
                        {
                            "merge"
                        } else {
                            "cherry-pick"
                        }
                    }
                };
                BackportTarget {
                    target,
                    method: method.into(),
                    state: BackportState::Pending,
                    before: None,
                    result: None,
                    remaining: Vec::new(),
                    report: Vec::new(),
                    pr: None,
                    return_to: None,
                }
            })
            .collect();
        self.save()?;
        crate::journal::crash_point("backport:begun");
        if let Home::InProgress = self.home {
            self.journal.log(
                &Event::new(&self.state, "backport", "begun").with(
                    "targets",
                    self.state
                        .backport
                        .iter()
                        .map(|t| t.target.clone())
                        .collect::<Vec<_>>(),
                ),
            )?;
        }
        Ok(())
    }

    /// Applies the fix to every pending target, in order; stops on a conflict (exit 3).
    fn process(&mut self) -> Result<()> {
        let fix = self.fix_commits()?;
        for i in 0..self.state.backport.len() {
            if self.state.backport[i].state != BackportState::Pending {
                continue;
            }
            let target = self.state.backport[i].target.clone();
            let Some(tip) = self.repo.remote_branch(self.remote(), &target) else {
                self.state.backport[i].state = BackportState::Missing;
                let note = format!("{}/{target} does not exist; skipped", self.remote());
                self.state.backport[i].report.push(note);
                self.save()?;
                continue;
            };
            let from = match &self.state.backport[i].result {
                Some(r) => oid(r)?,
                None => tip,
            };
            if self.state.backport[i].before.is_none() {
                self.state.backport[i].before = Some(tip.to_string());
            }
            let applied = if self.state.backport[i].method == "merge" {
                let tag = self.state.tag.clone();
                let tag_commit = self.repo.tag(&tag).ok_or_else(|| {
                    Error::precondition(format!("the tag {tag} is missing here"))
                        .hint("git fetch --tags")
                })?;
                backport::merge_onto(self.repo, &target, from, &tag, tag_commit)?
            } else {
                let todo: Vec<Oid> = if self.state.backport[i].remaining.is_empty() {
                    fix.clone()
                } else {
                    self.state.backport[i]
                        .remaining
                        .iter()
                        .filter_map(|s| oid(s).ok())
                        .collect()
                };
                backport::pick_onto(self.repo, &target, from, &todo)?
            };
            match applied {
                Applied::Done { result, report } => {
                    let t = &mut self.state.backport[i];
                    t.report.extend(report);
                    t.remaining.clear();
                    t.state = if Some(result.to_string()) == t.before {
                        BackportState::AlreadyThere
                    } else {
                        BackportState::Ready
                    };
                    t.result = Some(result.to_string());
                    self.save()?;
                    crate::journal::crash_point("backport:target-applied");
                }
                Applied::Conflict {
                    at,
                    commit,
                    remaining,
                    report,
                } => {
                    return self.hand_over(i, at, commit, remaining, report);
                }
            }
        }
        Ok(())
    }

    /// Puts the conflict in the working tree on `hotfix-backport/{target}` and stops (exit 3).
    fn hand_over(
        &mut self,
        i: usize,
        at: Oid,
        commit: Oid,
        remaining: Vec<Oid>,
        report: Vec<String>,
    ) -> Result<()> {
        let target = self.state.backport[i].target.clone();
        let temp = format!("{TEMP_PREFIX}{target}");
        let return_to = self
            .repo
            .current_branch()
            .filter(|b| !b.starts_with(TEMP_PREFIX));
        {
            let t = &mut self.state.backport[i];
            t.report.extend(report);
            t.state = BackportState::Conflict;
            t.result = Some(at.to_string());
            t.remaining = remaining.iter().map(|o| o.to_string()).collect();
            if return_to.is_some() {
                t.return_to = return_to;
            }
        }
        self.save()?;
        self.repo.switch_reset(&temp, at)?;
        let clean = if self.state.backport[i].method == "merge" {
            self.repo.merge_no_ff(
                &self.state.tag,
                &format!("Merge tag '{}' into {target}", self.state.tag),
            )?
        } else {
            matches!(
                self.repo.cherry_pick(&commit.to_string())?,
                crate::git::PickOutcome::Applied | crate::git::PickOutcome::Empty
            )
        };
        if clean {
            // git resolved what the in-memory merge could not (rename detection): go on.
            return self.resume_conflict().and_then(|_| self.process());
        }
        let files = self.repo.conflicted_paths();
        if let Home::InProgress = self.home {
            self.journal.log(
                &Event::new(&self.state, "backport", "conflict")
                    .with("target", &target)
                    .with("files", &files),
            )?;
        }
        Err(Error::paused(format!(
            "the backport to {target} stopped on a conflict ({} {}) in:\n  {}\nThe working tree is on {temp}, made from {}/{target}.",
            if self.state.backport[i].method == "merge" { "merging" } else { "cherry-picking" },
            short(&commit.to_string()),
            files.join("\n  "),
            self.remote()
        ))
        .hint("resolve the files and `git add` them (or commit the resolution yourself), then: hotfix backport --continue")
        .hint(format!("leave {target} without the fix for now: hotfix backport --skip"))
        .hint("undo the whole backport: hotfix backport --abort"))
    }

    fn conflicted(&self) -> Result<usize> {
        self.state
            .backport
            .iter()
            .position(|t| t.state == BackportState::Conflict)
            .ok_or_else(|| {
                Error::precondition("no backport is stopped on a conflict").hint("hotfix status")
            })
    }

    /// Leaves the temporary branch: back to where the user was, the branch deleted.
    fn leave_temp(&mut self, i: usize) -> Result<()> {
        let temp = format!("{TEMP_PREFIX}{}", self.state.backport[i].target);
        if self.repo.current_branch().as_deref() == Some(temp.as_str()) {
            match self.state.backport[i].return_to.clone() {
                Some(b) if self.repo.local_branch(&b).is_some() => self.repo.switch(&b)?,
                _ => {
                    let main = format!("{}/{}", self.remote(), self.cfg.repository.main);
                    self.repo.switch_detach(&main)?;
                }
            }
        }
        self.repo.delete_local_branch(&temp)
    }

    /// `--continue`: the conflict is resolved (staged, or committed by hand).
    fn resume_conflict(&mut self) -> Result<()> {
        let i = self.conflicted()?;
        let target = self.state.backport[i].target.clone();
        let temp = format!("{TEMP_PREFIX}{target}");
        if self.repo.current_branch().as_deref() != Some(temp.as_str()) {
            return Err(
                Error::precondition(format!("the resolution is expected on {temp}")).hint(format!(
                    "git switch {temp}, then hotfix backport --continue"
                )),
            );
        }
        let left = self.repo.conflicted_paths();
        if !left.is_empty() {
            return Err(
                Error::paused(format!("conflicts remain in:\n  {}", left.join("\n  ")))
                    .hint("edit them, `git add` them, then: hotfix backport --continue"),
            );
        }
        self.repo.conclude()?;
        let head = self
            .repo
            .head_oid()
            .ok_or_else(|| Error::internal("no HEAD"))?;
        let at = oid(self.state.backport[i].result.as_deref().unwrap_or(""))?;
        if head == at || !self.repo.is_ancestor(at, head) {
            return Err(Error::precondition(format!(
                "{temp} has no resolution committed on top of {}",
                short(&at.to_string())
            ))
            .hint(
                "resolve, `git add`, then: hotfix backport --continue; or: hotfix backport --skip",
            ));
        }
        {
            let t = &mut self.state.backport[i];
            t.report.push(format!(
                "conflict resolved by hand on {temp} ({})",
                short(&head.to_string())
            ));
            t.result = Some(head.to_string());
            t.state = if t.method == "merge" || t.remaining.is_empty() {
                BackportState::Ready
            } else {
                BackportState::Pending
            };
        }
        self.save()?;
        self.leave_temp(i)
    }

    /// `--skip`: leave the target with the conflict without the fix (reported at the end).
    fn skip(&mut self) -> Result<()> {
        let i = self.conflicted()?;
        self.repo.abandon_operation()?;
        self.leave_temp(i)?;
        let t = &mut self.state.backport[i];
        t.state = BackportState::Skipped;
        t.report.push(format!(
            "skipped with --skip: {} does NOT have the fix",
            t.target
        ));
        t.result = t.before.clone();
        self.save()
    }

    /// `--abort`: every target, local and remote, back to where it was before the backport.
    fn abort(&mut self) -> Result<Value> {
        if let Ok(i) = self.conflicted() {
            self.repo.abandon_operation()?;
            self.leave_temp(i)?;
        }
        let mut moves = Vec::new();
        for t in &self.state.backport {
            if t.state == BackportState::Pushed
                && let (Some(before), Some(result)) = (&t.before, &t.result)
            {
                moves.push((before.clone(), t.target.clone(), result.clone()));
            }
        }
        if !moves.is_empty() {
            let out = self
                .repo
                .push_with_lease(&self.cfg.repository.remote, &moves)?;
            if !out.success() {
                return Err(Error::step(format!(
                    "putting the targets back failed:\n{}",
                    out.text()
                )));
            }
            for (before, target, _) in &moves {
                if let (Some(local), Ok(b)) = (self.repo.local_branch(target), oid(before))
                    && local != b
                {
                    self.ctx.ui.warn(format!("your local {target} still has the backport; reset it yourself if you want: git branch -f {target} {}", short(before)));
                }
            }
        }
        let targets: Vec<String> = self
            .state
            .backport
            .iter()
            .map(|t| t.target.clone())
            .collect();
        self.state.backport.clear();
        self.save()?;
        self.ctx.ui.out(format!(
            "Backport aborted; {} back where they were.",
            if targets.is_empty() {
                "nothing was".to_string()
            } else {
                targets.join(", ")
            }
        ));
        Ok(json!({ "aborted": true, "targets": targets }))
    }

    /// Pushes the ready targets together, or proposes them as PRs.
    fn publish(&mut self, force_pr: bool) -> Result<()> {
        let mode = if force_pr {
            BackportMode::Pr
        } else {
            self.cfg.backport.mode
        };
        let ready: Vec<usize> = (0..self.state.backport.len())
            .filter(|i| self.state.backport[*i].state == BackportState::Ready)
            .collect();
        if ready.is_empty() {
            return self.check_prs();
        }
        let mut propose = Vec::new();
        if mode == BackportMode::Pr {
            propose = ready.clone();
        } else {
            let moves: Vec<(String, String, String)> = ready
                .iter()
                .map(|i| {
                    let t = &self.state.backport[*i];
                    (
                        t.result.clone().unwrap_or_default(),
                        t.target.clone(),
                        t.before.clone().unwrap_or_default(),
                    )
                })
                .collect();
            let out = self
                .repo
                .push_with_lease(&self.cfg.repository.remote, &moves)?;
            if out.success() {
                for i in &ready {
                    self.state.backport[*i].state = BackportState::Pushed;
                }
                self.save()?;
                crate::journal::crash_point("backport:pushed");
                for (sha, target, _) in &moves {
                    if self.repo.fast_forward_local(target, oid(sha)?)? {
                        self.ctx
                            .ui
                            .info(format!("fast-forwarded your local {target}"));
                    }
                }
            } else if mode == BackportMode::Auto {
                self.ctx.ui.warn(format!(
                    "the push was refused; proposing pull requests instead:\n{}",
                    out.text()
                ));
                propose = ready.clone();
            } else {
                return Err(Error::step(format!(
                    "pushing the backports was refused:\n{}",
                    out.text()
                ))
                .hint("propose them as pull requests instead: hotfix backport --pr")
                .hint("nothing was pushed (the push is atomic); rerun after fixing access"));
            }
        }
        if !propose.is_empty() {
            let gh =
                crate::github::connect(self.repo, self.cfg, &self.ctx.env, self.ctx.ui.clone())?;
            for i in propose {
                let t = self.state.backport[i].clone();
                let branch = format!(
                    "backport/{}-to-{}",
                    self.state.version,
                    t.target.replace('/', "-")
                );
                self.repo.push(
                    &self.cfg.repository.remote,
                    &[format!(
                        "{}:refs/heads/{branch}",
                        t.result.clone().unwrap_or_default()
                    )],
                )?;
                let pr = match gh.find_pr(&branch, &t.target, false)? {
                    Some(pr) => pr,
                    None => {
                        let body = format!(
                            "Backport of hotfix {} ({}) to `{}`, made by `hotfix backport`.\n\n{}\n\nOriginal pull request: {}\n",
                            self.state.version,
                            self.state.tag,
                            t.target,
                            t.report
                                .iter()
                                .map(|r| format!("- {r}"))
                                .collect::<Vec<_>>()
                                .join("\n"),
                            self.state
                                .pr
                                .as_ref()
                                .map(|p| p.url.clone())
                                .unwrap_or_else(|| "none".into())
                        );
                        gh.create_pr(
                            &format!("Backport hotfix {} to {}", self.state.version, t.target),
                            &body,
                            &branch,
                            &t.target,
                        )?
                    }
                };
                self.state.backport[i].pr = Some(pr.number);
                self.state.backport[i].state = BackportState::PrOpen;
                self.state.backport[i]
                    .report
                    .push(format!("proposed in PR #{} {}", pr.number, pr.url));
                self.save()?;
            }
        }
        Ok(())
    }

    /// Open backport PRs that were merged since are done.
    fn check_prs(&mut self) -> Result<()> {
        if !self
            .state
            .backport
            .iter()
            .any(|t| t.state == BackportState::PrOpen)
        {
            return Ok(());
        }
        let gh = crate::github::connect(self.repo, self.cfg, &self.ctx.env, self.ctx.ui.clone())?;
        for t in self
            .state
            .backport
            .iter_mut()
            .filter(|t| t.state == BackportState::PrOpen)
        {
            if let Some(n) = t.pr
                && let crate::github::Fetched::Fresh(pr, _) = gh.get_pr(n, None)?
                && pr.merged
            {
                t.state = BackportState::Merged;
            }
        }
        self.save()
    }

    /// Reports every target, deletes the hotfix branch once every target has the fix, and
    /// closes the hotfix (`done`) or leaves it `backport-pending` while PRs are open.
    fn finish(&mut self) -> Result<Value> {
        let ui = &self.ctx.ui;
        for t in &self.state.backport {
            let state = serde_json::to_value(t.state)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            ui.out(format!("{} ({}): {state}", t.target, t.method));
            for r in &t.report {
                ui.out(format!("  {r}"));
            }
        }
        let open = self
            .state
            .backport
            .iter()
            .any(|t| t.state == BackportState::PrOpen);
        let skipped: Vec<String> = self
            .state
            .backport
            .iter()
            .filter(|t| matches!(t.state, BackportState::Skipped))
            .map(|t| t.target.clone())
            .collect();
        let value = json!({
            "version": self.state.version,
            "targets": self.state.backport.iter().map(|t| json!({
                "target": t.target, "method": t.method, "state": t.state, "pr": t.pr, "report": t.report,
            })).collect::<Vec<_>>(),
        });
        if let Home::Archived(_) = self.home {
            ui.out(format!(
                "Hotfix {} was finished already; nothing else to do.",
                self.state.version
            ));
            return Ok(value);
        }
        if open {
            self.state.phase = Phase::BackportPending;
            self.save()?;
            ui.out("Waiting for the backport pull requests to be merged; run hotfix backport again to check.");
            return Ok(value);
        }
        // Each closing step is marked done, so a rerun after a kill anywhere here goes on from
        // the next one.
        if self.state.phase < Phase::Backported {
            self.state.phase = Phase::Backported;
            self.save()?;
        }
        crate::journal::crash_point("backport:backported");
        if !self.state.done("branch-closed") {
            if skipped.is_empty() && self.cfg.backport.delete_branch {
                self.delete_hotfix_branch()?;
                crate::journal::crash_point("backport:branch-deleted");
            } else if !skipped.is_empty() {
                ui.warn(format!(
                    "{} do(es) not have the fix (skipped); the branch {} is kept",
                    skipped.join(", "),
                    self.state.branch
                ));
            }
            self.state.mark("branch-closed");
            self.save()?;
        }
        if !self.state.done("post_backport") {
            crate::lifecycle::run_point(
                &self.ctx.runner,
                "post_backport",
                &self.cfg.lifecycle.post_backport,
                self.repo.workdir(),
                &crate::lifecycle::hotfix_env(&self.state),
            )?;
            self.state.mark("post_backport");
            self.save()?;
        }
        self.state.phase = Phase::Done;
        self.save()?;
        crate::journal::crash_point("backport:done");
        self.journal
            .log(&Event::new(&self.state, "backport", "done"))?;
        crate::notify::send(
            &self.ctx.env,
            self.cfg,
            &self.ctx.ui,
            &self.state,
            "backported",
            &format!(
                "merged back to {}",
                self.state
                    .backport
                    .iter()
                    .map(|t| t.target.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        let record = super::log::render_record(self.journal, &self.state)?;
        if !self.ctx.dry_run() {
            write_atomic(&self.journal.dir().join("record.md"), record.as_bytes())?;
        }
        let dest = self.journal.archive("done", &self.state.version)?;
        if !self.ctx.dry_run() {
            let rec = self.journal.dir().join("record.md");
            if rec.exists() {
                std::fs::rename(&rec, dest.join("record.md"))?;
            }
        }
        ui.out(format!(
            "Hotfix {} is done: deployed and merged back. The record is in {}.",
            self.state.version,
            dest.display()
        ));
        Ok(value)
    }

    fn delete_hotfix_branch(&mut self) -> Result<()> {
        let branch = self.state.branch.clone();
        if self.repo.current_branch().as_deref() == Some(branch.as_str()) {
            match self.state.origin.branch.clone() {
                Some(b) if self.repo.local_branch(&b).is_some() && b != branch => {
                    self.repo.switch(&b)?
                }
                _ => {
                    let main = format!("{}/{}", self.remote(), self.cfg.repository.main);
                    self.repo.switch_detach(&main)?;
                }
            }
        }
        self.repo.delete_local_branch(&branch)?;
        self.repo.delete_remote_branch(self.remote(), &branch)?;
        self.ctx
            .ui
            .done(format!("deleted {branch} here and on {}", self.remote()));
        Ok(())
    }
}
