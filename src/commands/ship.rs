//! `hotfix ship`: preflight → pre_ship and targeted tests → push and PR → wait for approval →
//! merge with the approved head as a guard → tag. Each step is recorded before the next
//! starts, so rerunning `hotfix ship` resumes at the first unfinished one and never creates a
//! second PR, label, review request, comment, merge or tag.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::start::short;
use super::test::{record_tests, resolve_base, run_selection};
use crate::approval::{self, Facts, Policy, Verdict};
use crate::cli::ShipArgs;
use crate::config::Config;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::exec;
use crate::git::Repo;
use crate::github::{self, Client, Fetched, GitHub, MergeOutcome, Pr};
use crate::journal::{Event, Journal, Phase, PrRecord, Pushed, State};
use crate::{lifecycle, templates, testsel};

/// Everything the steps share.
struct Ship<'a> {
    ctx: &'a Context,
    repo: &'a Repo,
    journal: &'a Journal,
    cfg: &'a Config,
    state: State,
    /// Something already changed in this run (turns refusals into exit 3, auth errors into 1).
    changed: bool,
}

pub fn run(ctx: &Context, args: ShipArgs) -> Result<Value> {
    let repo = ctx.repo()?;
    let journal = ctx.journal(&repo);
    let state = match journal.load()? {
        Some(s) => Some(s),
        None => rebuild_from_remote(ctx, &repo, &journal)?,
    };
    let Some(state) = state else {
        // The work is done already: say so, like any rerun of a finished command.
        if let Some(last) = super::log::last_finished_done(&journal)? {
            ctx.ui.out(format!(
                "Nothing to ship: hotfix {} is done (tag {}, merged into {}).",
                last.version, last.tag, last.pr_target
            ));
            return Ok(
                json!({ "version": last.version, "phase": last.phase.as_str(), "tag": last.tag }),
            );
        }
        return Err(Error::precondition("no hotfix is in progress")
            .hint("start one: hotfix start")
            .hint("see the last one: hotfix status"));
    };
    if state.phase == Phase::Starting {
        return Err(
            Error::precondition("the start of this hotfix did not finish")
                .hint(super::next_command(&state, false)),
        );
    }
    let loaded = ctx.config(Some(&repo), Some(&state))?;
    let mut s = Ship {
        ctx,
        repo: &repo,
        journal: &journal,
        cfg: &loaded.config,
        state,
        changed: false,
    };
    let result = s.run(&args);
    result.map_err(|e| {
        if s.changed && e.kind == Kind::Precondition {
            // Something changed already: an auth failure now is a failed step, not a refusal.
            Error {
                kind: Kind::StepFailed,
                ..e
            }
        } else {
            e
        }
    })
}

/// On a machine with no state (a CI runner) but on a hotfix branch: rebuild the state from the
/// remote — the branch, its PR, the tag — so `ship` goes on from where the truth is. The state
/// is a cache of the remote, never the only copy.
pub fn rebuild_from_remote(ctx: &Context, repo: &Repo, journal: &Journal) -> Result<Option<State>> {
    use crate::journal::{Origin, RefSha, SCHEMA_VERSION};
    let Some(branch) = repo.current_branch() else {
        return Ok(None);
    };
    let loaded = ctx.config(Some(repo), None)?;
    let cfg = &loaded.config;
    let Some(version) = branch
        .strip_prefix(cfg.model.hotfix_prefix.as_str())
        .and_then(|v| semver::Version::parse(v).ok())
    else {
        return Ok(None);
    };
    let gh = github::connect(repo, cfg, &ctx.env, ctx.ui.clone())?;
    let Some(pr) = gh.find_pr_for_head(&branch)? else {
        return Ok(None);
    };
    let remote = cfg.repository.remote.clone();
    if !ctx.dry_run() {
        repo.fetch(&remote)?;
    }
    let head = repo
        .head_oid()
        .ok_or_else(|| Error::precondition("HEAD has no commit"))?;
    let pr_head = git2::Oid::from_str(&pr.head_sha).unwrap_or(head);
    let target_tip = repo
        .remote_branch(&remote, &pr.base_ref)
        .ok_or_else(|| Error::precondition(format!("{remote}/{} does not exist", pr.base_ref)))?;
    let base = repo
        .git2()
        .merge_base(pr_head, target_tip)
        .map_err(|e| Error::step(format!("finding where {branch} forked: {}", e.message())))?;
    let rel = crate::branching::Releases::read(repo, cfg)?;
    let previous = rel.latest_on(base, Some(&version));
    let now = crate::ui::timestamp();
    // When the head was pushed is not on GitHub: its commit date stands in (documented).
    let pushed_at = repo
        .git2()
        .find_commit(pr_head)
        .ok()
        .map(|c| {
            let t = std::time::UNIX_EPOCH
                + std::time::Duration::from_secs(c.committer().when().seconds().max(0) as u64);
            humantime::format_rfc3339_seconds(t).to_string()
        })
        .unwrap_or_else(|| now.clone());
    let mut phase = Phase::Started;
    let mut merge_sha = None;
    if pr.merged {
        phase = Phase::Merged;
        merge_sha = pr.merge_commit_sha.clone();
        let tag = cfg.tag_for(&version);
        if repo.tag(&tag).is_some() {
            phase = Phase::Tagged;
        }
    }
    let state = State {
        schema_version: SCHEMA_VERSION,
        run_id: crate::journal::new_run_id(),
        phase,
        model: cfg.model_kind().to_string(),
        version: version.to_string(),
        tag: cfg.tag_for(&version),
        branch: branch.clone(),
        base: RefSha {
            name: previous
                .as_ref()
                .filter(|p| p.commit == base)
                .map(|p| p.tag.clone())
                .unwrap_or_else(|| format!("{remote}/{}", pr.base_ref)),
            sha: base.to_string(),
        },
        previous: previous.map(|p| RefSha {
            name: p.tag,
            sha: p.commit.to_string(),
        }),
        pr_target: pr.base_ref.clone(),
        create_target_from: None,
        origin: Origin {
            branch: None,
            sha: None,
        },
        incident: None,
        picks: Vec::new(),
        unreleased: Vec::new(),
        steps: vec!["branch".into(), "picks".into(), "post_start".into()],
        config: None,
        started_at: now.clone(),
        updated_at: now,
        tested_head: None,
        tests: Vec::new(),
        pushed: Some(Pushed {
            sha: pr.head_sha.clone(),
            at: pushed_at,
            foreign_head: None,
        }),
        pr: Some(PrRecord {
            number: pr.number,
            url: pr.url.clone(),
            head_sha: pr.head_sha.clone(),
            etag: None,
        }),
        wait_started_at: None,
        approval: None,
        approved_at: None,
        merge_sha,
        backport: Vec::new(),
    };
    ctx.ui.info(format!(
        "No local state: rebuilt hotfix {} from {remote} (PR #{}, phase {})",
        state.version,
        pr.number,
        state.phase.as_str()
    ));
    journal.save(&state)?;
    journal.log(&Event::new(&state, "state", "rebuilt-from-remote").with("pr", pr.number))?;
    Ok(Some(state))
}

/// `status --refresh`: asks GitHub for the PR and its reviews and records the verdict. Does
/// not take the lock (status never blocks) and changes nothing on GitHub.
pub fn refresh(ctx: &Context, repo: &Repo, journal: &Journal, state: State) -> Result<State> {
    let loaded = ctx.config(Some(repo), Some(&state))?;
    let mut s = Ship {
        ctx,
        repo,
        journal,
        cfg: &loaded.config,
        state,
        changed: false,
    };
    let Some(number) = s.state.pr.as_ref().map(|p| p.number) else {
        return Ok(s.state);
    };
    let gh = s.github()?;
    if let Fetched::Fresh(pr, _) = gh.get_pr(number, None)? {
        let me = gh.whoami()?;
        let verdict = s.evaluate(&gh, &pr, &me, &mut BTreeMap::new(), &mut None)?;
        if let Some(rec) = s.state.pr.as_mut() {
            rec.head_sha = pr.head_sha.clone();
        }
        s.state.approval = serde_json::to_value(&verdict).ok();
        s.save()?;
    }
    Ok(s.state)
}

impl Ship<'_> {
    fn save(&mut self) -> Result<()> {
        self.state.updated_at = crate::ui::timestamp();
        self.journal.save(&self.state)
    }

    fn notify(&self, event: &str, text: &str) {
        crate::notify::send(
            &self.ctx.env,
            self.cfg,
            &self.ctx.ui,
            &self.state,
            event,
            text,
        );
    }

    fn log(&self, step: &str, outcome: &str, details: &[(&str, Value)]) -> Result<()> {
        let mut e = Event::new(&self.state, step, outcome);
        for (k, v) in details {
            e = e.with(k, v);
        }
        self.journal.log(&e)
    }

    fn github(&self) -> Result<Client> {
        github::connect(self.repo, self.cfg, &self.ctx.env, self.ctx.ui.clone())
    }

    fn run(&mut self, args: &ShipArgs) -> Result<Value> {
        let ui = &self.ctx.ui;
        if self.state.phase == Phase::Deployed
            && !self.state.done("ship-finished")
            && !self.ctx.dry_run()
        {
            // Killed after the deploy: finish the last step (release, post_deploy, backport).
            let gh = self.github()?;
            self.finish(&gh)?;
            return Ok(self.summary());
        }
        if matches!(
            self.state.phase,
            Phase::Deployed | Phase::BackportPending | Phase::Backported | Phase::Done
        ) && self.cfg.ship.backport
            && !self.ctx.dry_run()
        {
            // Killed during the backport that ship runs: go on with it.
            self.ctx
                .ui
                .info("Resuming the backport (ship.backport = true)");
            return super::backport::run(self.ctx, crate::cli::BackportArgs::default());
        }
        if self.state.phase >= Phase::Deployed && self.state.phase != Phase::DeployFailed {
            ui.out(format!(
                "Hotfix {} is {} already (tag {}).",
                self.state.version,
                self.state.phase.as_str(),
                self.state.tag
            ));
            return Ok(self.summary());
        }
        if self.ctx.dry_run() {
            return self.dry_run();
        }
        let gh = self.github()?;
        if self.state.phase == Phase::DeployFailed {
            self.maybe_new_round()?;
        }
        if self.state.phase < Phase::Approved {
            self.preflight()?;
            // The token is checked before anything leaves the machine (exit 2, nothing changed).
            gh.whoami()?;
            self.test()?;
            self.publish(&gh)?;
            self.wait(&gh, args)?;
        }
        if self.state.phase < Phase::Merged {
            self.merge(&gh, args)?;
        }
        if self.state.phase < Phase::Tagged {
            self.tag()?;
        }
        self.changed = true;
        self.draft_release(&gh)?;
        self.deploy(&gh, args)?;
        self.finish(&gh)?;
        Ok(self.summary())
    }

    /// After a failed deploy, a further fix committed on the hotfix branch starts a new PR round
    /// with the next free patch version (the failed release stays as it is).
    fn maybe_new_round(&mut self) -> Result<()> {
        let (Some(head), Some(merged)) = (
            self.repo.local_branch(&self.state.branch),
            self.state
                .merge_sha
                .as_deref()
                .and_then(|m| git2::Oid::from_str(m).ok()),
        ) else {
            return Ok(());
        };
        if self.repo.is_ancestor(head, merged) {
            return Ok(());
        }
        let current = semver::Version::parse(&self.state.version)
            .map_err(|e| Error::internal(format!("bad version in state: {e}")))?;
        let rel = crate::branching::Releases::read(self.repo, self.cfg)?;
        let next = rel.next_free_patch(&current);
        let old_tag = self.state.tag.clone();
        self.ctx.ui.info(format!(
            "a further fix after the failed deploy of {old_tag}: new PR round as {}",
            self.cfg.tag_for(&next)
        ));
        let st = &mut self.state;
        st.version = next.to_string();
        st.tag = self.cfg.tag_for(&next);
        st.phase = Phase::Started;
        st.pr = None;
        st.pushed = None;
        st.approval = None;
        st.approved_at = None;
        st.wait_started_at = None;
        st.merge_sha = None;
        st.tested_head = None;
        st.steps
            .retain(|s| matches!(s.as_str(), "branch" | "picks" | "post_start"));
        self.save()?;
        self.log(
            "ship:new-round",
            "ok",
            &[
                ("after", json!(old_tag)),
                ("version", json!(self.state.version)),
            ],
        )
    }

    /// Step 6 (end): the GitHub Release, as a draft until the deploy succeeded.
    fn draft_release(&mut self, gh: &Client) -> Result<()> {
        if !self.cfg.ship.release || self.state.done("release-draft") {
            return Ok(());
        }
        let base = oid(&self.state.base.sha)?;
        let merged = oid(self.state.merge_sha.as_deref().unwrap_or(""))?;
        let commits = self.repo.commits_between(base, merged).unwrap_or_default();
        let approvers: Vec<String> = self
            .state
            .approval
            .as_ref()
            .map(|v| {
                v["counted"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        let body = templates::render(
            "release_notes.md",
            json!({
                "version": self.state.version,
                "incident": self.state.incident,
                "commits": commits.iter().filter(|c| !c.summary.starts_with("Merge")).collect::<Vec<_>>(),
                "pr_url": self.state.pr.as_ref().map(|p| p.url.clone()).unwrap_or_default(),
                "approvers": approvers,
                "unreleased": self.state.unreleased,
                "base_ref": self.state.base.name,
                "previous": self.state.previous.as_ref().map(|p| p.name.clone()),
            }),
        )?;
        gh.create_release(
            &self.state.tag,
            &format!("Hotfix {}", self.state.version),
            &body,
            true,
        )?;
        self.state.mark("release-draft");
        self.save()
    }

    /// Steps 7–8: deploy the tag to each environment (within `expires_after` of the last
    /// counted approval, after the `confirm_deploy` question), then the monitor window.
    fn deploy(&mut self, gh: &Client, args: &ShipArgs) -> Result<()> {
        let expires = self.cfg.approval.expires_after.0;
        if let Some(at) = self
            .state
            .approved_at
            .as_deref()
            .and_then(github::parse_time)
            && crate::journal::now() > at + expires
        {
            return Err(Error::new(
                Kind::NotApproved,
                format!(
                    "the last approval is older than {}: the deploy needs a fresh approval",
                    self.cfg.approval.expires_after
                ),
            )
            .hint(format!(
                "ask a reviewer to approve PR #{} again, then run hotfix ship",
                self.state.pr.as_ref().map_or(0, |p| p.number)
            )));
        }
        let envs = self.cfg.deploy.environments.join(" → ");
        if self.cfg.ship.confirm_deploy
            && !self
                .ctx
                .ui
                .confirm(&format!("Deploy {} to {envs}?", self.state.tag), "--yes")
                .map_err(|e| e.after_change(true))?
        {
            return Err(
                Error::paused("the deploy was not confirmed; nothing was deployed")
                    .hint("run hotfix ship again when ready"),
            );
        }
        let release = super::deploy::resolve_release(self.repo, self.cfg, Some(&self.state), None)?;
        let _lock = self.ctx.lock(self.journal, "hotfix ship")?;
        self.notify(
            "deploying",
            &format!("deploying {} to {envs}", self.state.tag),
        );
        self.pr_comment(
            gh,
            "deploying",
            &format!(":rocket: Deploying {} to {envs}.", self.state.tag),
        )?;
        let result = super::deploy::deploy_release(
            self.ctx,
            self.repo,
            self.journal,
            self.cfg,
            Some(&self.state),
            &release,
            &super::deploy::Options {
                contract: false,
                only: &[],
                force_unlock: args.force_unlock,
            },
        );
        match result {
            Ok(_) => {
                self.state.phase = Phase::Deployed;
                self.save()?;
                exec_crash("ship:deployed");
                Ok(())
            }
            Err(e) if e.kind == Kind::Interrupted || e.kind == Kind::Paused => Err(e),
            Err(e) => {
                self.state.phase = Phase::DeployFailed;
                self.save()?;
                self.notify(
                    "rolled-back",
                    &format!(
                        "the deploy of {} failed and was rolled back",
                        self.state.tag
                    ),
                );
                self.log("ship:deploy", "failed", &[("error", json!(e.message))])?;
                let first = e.message.lines().next().unwrap_or("").to_string();
                self.pr_comment(
                    gh,
                    &format!("deploy-failed-{}", crate::journal::new_run_id()),
                    &format!(
                        ":x: The deploy of {} failed: {first}

Next: fix and run `hotfix ship` again, or `hotfix abort`.",
                        self.state.tag
                    ),
                )?;
                Err(e.hint("then run hotfix ship again: it retries the deploy of the same tag"))
            }
        }
    }

    /// Step 9: publish the Release, `lifecycle.post_deploy`, the audit record.
    fn finish(&mut self, gh: &Client) -> Result<()> {
        // Milestones first: after a kill right after the deploy they are sent on the rerun.
        let envs = self.cfg.deploy.environments.join(" → ");
        if !self.state.done("announced-deployed") {
            self.notify(
                "deployed",
                &format!("{} is deployed to {envs} and healthy", self.state.tag),
            );
            self.state.mark("announced-deployed");
            self.save()?;
        }
        self.pr_comment(
            gh,
            "deployed",
            &format!(
                ":white_check_mark: {} is deployed to {envs} and healthy.",
                self.state.tag
            ),
        )?;
        exec_crash("ship:commented-deployed");
        if self.cfg.ship.release
            && let Some((id, true)) = gh.release_for_tag(&self.state.tag)?
        {
            gh.publish_release(id)?;
            exec_crash("ship:released");
        }
        if !self.state.done("post_deploy") {
            lifecycle::run_point(
                &self.ctx.runner,
                "post_deploy",
                &self.cfg.lifecycle.post_deploy,
                self.repo.workdir(),
                &lifecycle::hotfix_env(&self.state),
            )?;
            self.state.mark("post_deploy");
            self.save()?;
        }
        self.log("ship", "deployed", &[("tag", json!(self.state.tag))])?;
        let record = super::log::render_record(self.journal, &self.state)?;
        crate::journal::write_atomic(&self.journal.dir().join("record.md"), record.as_bytes())?;
        self.ctx.ui.out(format!(
            "Hotfix {} is merged into {}, tagged {} and deployed to {}.",
            self.state.version,
            self.state.pr_target,
            self.state.tag,
            self.cfg.deploy.environments.join(", ")
        ));
        self.state.mark("ship-finished");
        self.save()?;
        exec_crash("ship:finished");
        if self.cfg.ship.backport {
            self.ctx
                .ui
                .info("Bringing the fix back to the other branches (ship.backport = true)");
            super::backport::run(self.ctx, crate::cli::BackportArgs::default())?;
        } else {
            self.ctx
                .ui
                .out("Next: bring the fix back to the other branches: hotfix backport");
        }
        Ok(())
    }

    /// A PR comment at a milestone, posted once (a marker in the body says which).
    fn pr_comment(&self, gh: &Client, milestone: &str, text: &str) -> Result<()> {
        let Some(pr) = &self.state.pr else {
            return Ok(());
        };
        let marker = format!("<!-- hotfix:{milestone} {} -->", self.state.version);
        if gh
            .comments(pr.number)?
            .iter()
            .any(|c| c.body.contains(&marker))
        {
            return Ok(());
        }
        gh.comment(pr.number, &format!("{marker}\n{text}"))
    }

    fn summary(&self) -> Value {
        json!({
            "version": self.state.version,
            "phase": self.state.phase.as_str(),
            "tag": self.state.tag,
            "pr": self.state.pr,
            "merge_sha": self.state.merge_sha,
            "approval": self.state.approval,
        })
    }

    fn dry_run(&mut self) -> Result<Value> {
        let ui = &self.ctx.ui;
        let remote = &self.cfg.repository.remote;
        ui.would("preflight: on the hotfix branch, clean tree, commits beyond the base, token");
        ui.would(format!(
            "lifecycle.pre_ship: {:?}",
            self.cfg.lifecycle.pre_ship
        ));
        ui.would("run the targeted tests (hotfix test)");
        ui.would(format!(
            "git push {remote} refs/heads/{b}:refs/heads/{b}",
            b = self.state.branch
        ));
        ui.would(format!(
            "GitHub: find or create the PR {} → {}; labels {:?}; reviewers {:?} {:?}; one expedite comment",
            self.state.branch,
            self.state.pr_target,
            self.cfg.approval.labels,
            self.cfg.approval.reviewers,
            self.cfg.approval.team_reviewers
        ));
        ui.would("wait for approval (conditional requests), merge with the approved head as guard");
        ui.would(format!(
            "git tag -a {} <merge commit>; git push {remote} refs/tags/{}",
            self.state.tag, self.state.tag
        ));
        ui.out("Dry run: nothing was changed.");
        Ok(json!({ "dry_run": true }))
    }

    /// Step 1: everything that must hold before anything leaves the machine.
    fn preflight(&mut self) -> Result<()> {
        let repo = self.repo;
        if repo.current_branch().as_deref() != Some(self.state.branch.as_str()) {
            return Err(Error::precondition(format!(
                "ship runs on the hotfix branch {}, not on {}",
                self.state.branch,
                repo.current_branch()
                    .unwrap_or_else(|| "a detached HEAD".into())
            ))
            .hint(format!("git switch {}", self.state.branch)));
        }
        let dirty = repo.uncommitted_changes()?;
        if !dirty.is_empty() {
            return Err(Error::precondition(format!(
                "the working tree has uncommitted changes:\n  {}",
                dirty
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ))
            .hint(
                "commit them (they are part of the fix?) or stash them, then run hotfix ship again",
            ));
        }
        let base = oid(&self.state.base.sha)?;
        let head = repo
            .head_oid()
            .ok_or_else(|| Error::precondition("HEAD has no commit"))?;
        if repo.commits_between(base, head)?.is_empty() {
            return Err(Error::precondition(format!(
                "{} has no commits beyond its base {}: there is nothing to ship",
                self.state.branch, self.state.base.name
            ))
            .hint("commit the fix, then run hotfix ship"));
        }
        Ok(())
    }

    /// Step 2: `lifecycle.pre_ship`, then the targeted tests (skipped only when this exact head
    /// already passed them).
    fn test(&mut self) -> Result<()> {
        let head = self
            .repo
            .head_oid()
            .ok_or_else(|| Error::precondition("HEAD has no commit"))?;
        if self.state.tested_head.as_deref() == Some(head.to_string().as_str())
            && self.state.done("pre_ship")
        {
            self.ctx.ui.info(format!(
                "tests already passed on {}",
                short(&head.to_string())
            ));
            return Ok(());
        }
        lifecycle::run_point(
            &self.ctx.runner,
            "pre_ship",
            &self.cfg.lifecycle.pre_ship,
            self.repo.workdir(),
            &lifecycle::hotfix_env(&self.state),
        )?;
        self.state.mark("pre_ship");
        let (base_name, base) = resolve_base(self.repo, self.cfg, Some(&self.state), None)?;
        let changed = self.repo.changed_paths(base, head)?;
        let selection = testsel::select(&self.cfg.tests, &changed, false)?;
        super::test::warn_untested(self.ctx, self.cfg, &selection);
        self.ctx.ui.info(format!(
            "Running the targeted tests ({} changed file(s) since {base_name})",
            changed.len()
        ));
        let results = run_selection(
            self.ctx,
            self.repo,
            self.journal,
            self.cfg,
            Some(&self.state),
            &selection,
            &changed,
            base,
            head,
        )?;
        let failed = results.iter().filter(|r| !r.outcome.passed()).count();
        if failed > 0 {
            self.log("ship:test", "failed", &[("head", json!(head.to_string()))])?;
            return Err(Error::step(format!(
                "{failed} targeted test command(s) failed; nothing was pushed"
            ))
            .hint("fix, commit, then run hotfix ship again"));
        }
        record_tests(&mut self.state, head, &results);
        if self.state.phase < Phase::Tested {
            self.state.phase = Phase::Tested;
        }
        self.save()?;
        exec_crash("ship:tested");
        self.log("ship:test", "passed", &[("head", json!(head.to_string()))])
    }

    /// Step 3: push the branch, find or open the PR, labels, reviewers, one comment.
    fn publish(&mut self, gh: &Client) -> Result<()> {
        let _lock = self.ctx.lock(self.journal, "hotfix ship")?;
        let remote = self.cfg.repository.remote.clone();
        let head = self
            .repo
            .head_oid()
            .ok_or_else(|| Error::precondition("HEAD has no commit"))?
            .to_string();
        // A support line that does not exist yet is created from its tag.
        if let Some(tag) = self.state.create_target_from.clone()
            && self
                .repo
                .remote_branch(&remote, &self.state.pr_target)
                .is_none()
        {
            self.repo.push(
                &remote,
                &[format!(
                    "refs/tags/{tag}^{{commit}}:refs/heads/{}",
                    self.state.pr_target
                )],
            )?;
            self.repo.fetch(&remote)?;
            self.ctx
                .ui
                .done(format!("created {} from {tag}", self.state.pr_target));
        }
        let already = self.state.pushed.as_ref().is_some_and(|p| p.sha == head)
            && self
                .repo
                .remote_branch(&remote, &self.state.branch)
                .map(|o| o.to_string())
                == Some(head.clone());
        if !already {
            self.repo.push(
                &remote,
                &[format!(
                    "refs/heads/{b}:refs/heads/{b}",
                    b = self.state.branch
                )],
            )?;
            self.changed = true;
            self.state.pushed = Some(Pushed {
                sha: head.clone(),
                at: crate::ui::timestamp(),
                foreign_head: None,
            });
            self.save()?;
            self.log("ship:push", "ok", &[("sha", json!(head))])?;
            self.ctx
                .ui
                .done(format!("pushed {} ({})", self.state.branch, short(&head)));
        }
        exec_crash("ship:pushed");

        let pr = match gh.find_pr(&self.state.branch, &self.state.pr_target, false)? {
            Some(pr) => pr,
            None => {
                let (title, body) = self.pr_text(&head)?;
                let pr = gh.create_pr(&title, &body, &self.state.branch, &self.state.pr_target)?;
                self.changed = true;
                self.log("ship:pr", "opened", &[("pr", json!(pr.number))])?;
                self.ctx
                    .ui
                    .done(format!("opened PR #{} {}", pr.number, pr.url));
                pr
            }
        };
        if self.state.pr.as_ref().map(|p| p.number) != Some(pr.number) {
            self.state.pr = Some(PrRecord {
                number: pr.number,
                url: pr.url.clone(),
                head_sha: pr.head_sha.clone(),
                etag: None,
            });
            self.save()?;
        }
        exec_crash("ship:pr");
        let n = pr.number;
        if !self.state.done("labels") {
            let have = gh.labels(n)?;
            let missing: Vec<String> = self
                .cfg
                .approval
                .labels
                .iter()
                .filter(|l| !have.contains(l))
                .cloned()
                .collect();
            gh.add_labels(n, &missing)?;
            self.state.mark("labels");
            self.save()?;
        }
        if !self.state.done("reviewers") {
            let (users, teams) = gh.requested_reviewers(n)?;
            let reviewed: BTreeSet<String> = gh
                .reviews(n)?
                .into_iter()
                .map(|r| r.login.to_ascii_lowercase())
                .collect();
            let want_users: Vec<String> = self
                .cfg
                .approval
                .reviewers
                .iter()
                .filter(|u| !users.contains(u) && !reviewed.contains(&u.to_ascii_lowercase()))
                .cloned()
                .collect();
            let want_teams: Vec<String> = self
                .cfg
                .approval
                .team_reviewers
                .iter()
                .filter(|t| !teams.contains(t))
                .cloned()
                .collect();
            gh.request_reviewers(n, &want_users, &want_teams)?;
            self.state.mark("reviewers");
            self.save()?;
        }
        if !self.state.done("comment") {
            let marker = "<!-- hotfix:expedite -->";
            if !gh.comments(n)?.iter().any(|c| c.body.contains(marker)) {
                let mut who: Vec<String> = self
                    .cfg
                    .approval
                    .reviewers
                    .iter()
                    .map(|u| format!("@{u}"))
                    .collect();
                who.extend(
                    self.cfg
                        .approval
                        .team_reviewers
                        .iter()
                        .map(|t| format!("@{}/{t}", gh_owner(self.cfg))),
                );
                let body = templates::render(
                    "review_request.md",
                    json!({
                        "version": self.state.version,
                        "incident": self.state.incident,
                        "reviewers": who,
                        "head": head,
                        "policy": self.policy_view(),
                    }),
                )?;
                gh.comment(n, &body)?;
            }
            self.state.mark("comment");
            self.save()?;
            self.log("ship:request-review", "ok", &[("pr", json!(n))])?;
            self.notify(
                "approval-requested",
                &format!("expedited review requested on PR #{n}"),
            );
        }
        Ok(())
    }

    fn policy(&self) -> Policy {
        let a = &self.cfg.approval;
        Policy {
            min_approvals: a.min_approvals.0,
            required_reviewers: a.required_reviewers.clone(),
            expires_after: a.expires_after.0,
            required_checks: a.required_checks.clone(),
        }
    }

    fn policy_view(&self) -> Value {
        let a = &self.cfg.approval;
        json!({
            "min_approvals": a.min_approvals.0,
            "required_reviewers": a.required_reviewers,
            "required_checks": a.required_checks,
            "expires_after": a.expires_after.to_string(),
        })
    }

    fn pr_text(&self, head: &str) -> Result<(String, String)> {
        let base = oid(&self.state.base.sha)?;
        let head_oid = oid(head)?;
        let commits = self.repo.commits_between(base, head_oid)?;
        let (_, prev) = resolve_base(self.repo, self.cfg, Some(&self.state), None)?;
        let changed = self.repo.changed_paths(prev, head_oid)?;
        let summary = commits
            .last()
            .map(|c| c.summary.clone())
            .unwrap_or_default();
        let ctx = json!({
            "version": self.state.version,
            "incident": self.state.incident,
            "summary": summary,
            "base_ref": self.state.base.name,
            "base_sha": self.state.base.sha,
            "previous": self.state.previous.as_ref().map(|p| p.name.clone()),
            "target": self.state.pr_target,
            "commits": commits,
            "unreleased": self.state.unreleased,
            "changed": changed,
            "tests": self.state.tests,
            "policy": self.policy_view(),
        });
        Ok((
            templates::render("pr_title", &ctx)?.trim().to_string(),
            templates::render("pr_body.md", &ctx)?,
        ))
    }

    /// Step 4: wait for approval. Unchanged polls are conditional requests (304, free).
    fn wait(&mut self, gh: &Client, args: &ShipArgs) -> Result<()> {
        let n = self
            .state
            .pr
            .as_ref()
            .map(|p| p.number)
            .ok_or_else(|| Error::internal("no PR recorded"))?;
        let interval = self.cfg.approval.poll_interval.0;
        let timeout = self.cfg.approval.wait_timeout.0;
        if self.state.wait_started_at.is_none() {
            self.state.wait_started_at = Some(crate::ui::timestamp());
            self.save()?;
        }
        let started = self
            .state
            .wait_started_at
            .as_deref()
            .and_then(github::parse_time)
            .unwrap_or_else(SystemTime::now);
        let deadline = started + timeout;
        let me = gh.whoami()?;
        let interrupt = exec::interrupt_flag();
        exec_crash("ship:waiting");
        let mut etag = self.state.pr.as_ref().and_then(|p| p.etag.clone());
        let mut cached: Option<Pr> = None;
        let mut polls: u64 = 0;
        let mut last_verdict: Option<Verdict> = None;
        let mut teams: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        // The people who wrote the commits, per head: re-read only when the head changes.
        let mut people: Option<(String, BTreeSet<String>)> = None;
        let progress = self
            .ctx
            .ui
            .progress(format!("Waiting for approval of PR #{n}"));
        let outcome = loop {
            let fresh = match gh.get_pr(
                n,
                if cached.is_some() {
                    etag.as_deref()
                } else {
                    None
                },
            )? {
                Fetched::Fresh(pr, tag) => {
                    etag = tag;
                    cached = Some(pr);
                    true
                }
                Fetched::NotModified => false,
            };
            let pr = cached
                .clone()
                .ok_or_else(|| Error::internal("no PR data"))?;
            if pr.merged {
                self.ctx.ui.warn(format!(
                    "PR #{n} was merged outside hotfix; taking it from there"
                ));
                break Ok(Some(pr));
            }
            if pr.state != "open" {
                break Err(
                    Error::precondition(format!("PR #{n} was closed without merging")).hint(
                        format!(
                            "reopen it ({}) and run hotfix ship again, or abandon: hotfix abort",
                            pr.url
                        ),
                    ),
                );
            }
            // Reviews and checks are read only when the PR changed, and every 25th poll as a
            // safety net; the commits only when the head changed.
            if fresh || polls.is_multiple_of(25) || last_verdict.is_none() {
                let verdict = self.evaluate(gh, &pr, &me, &mut teams, &mut people)?;
                if let Some(pr_rec) = self.state.pr.as_mut() {
                    pr_rec.head_sha = pr.head_sha.clone();
                    pr_rec.etag = etag.clone();
                }
                self.state.approval = serde_json::to_value(&verdict).ok();
                self.save()?;
                last_verdict = Some(verdict);
            }
            let verdict = last_verdict.clone().unwrap_or_else(unreachable_verdict);
            if let Some(why) = &verdict.changes_requested {
                break Err(Error::new(Kind::NotApproved, format!("not approved: {why}"))
                    .hint("address the review, push a new commit to the hotfix branch, then run hotfix ship again"));
            }
            if verdict.approved {
                break Ok(Some(pr));
            }
            let waiting = verdict.waiting_for.join("; ");
            if args.no_wait {
                break Err(
                    Error::paused(format!("waiting for approval of PR #{n}: {waiting}")).hint(
                        "run hotfix ship again (or hotfix status) to check; nothing was merged",
                    ),
                );
            }
            let now = SystemTime::now();
            if now >= deadline {
                let body = templates::render(
                    "timeout.md",
                    json!({ "wait_timeout": self.cfg.approval.wait_timeout.to_string(), "waiting_for": verdict.waiting_for }),
                )?;
                if !gh
                    .comments(n)?
                    .iter()
                    .any(|c| c.body.contains("<!-- hotfix:timeout -->"))
                {
                    gh.comment(n, &body)?;
                }
                self.log(
                    "ship:approval",
                    "timed-out",
                    &[("waiting_for", json!(verdict.waiting_for))],
                )?;
                break Err(Error::new(
                    Kind::NotApproved,
                    format!(
                        "no approval within {}: {waiting}",
                        self.cfg.approval.wait_timeout
                    ),
                )
                .hint("nothing was merged; run hotfix ship again to keep waiting"));
            }
            let left = deadline.duration_since(now).unwrap_or_default();
            self.ctx.ui.detail(format!(
                "waiting for {waiting} ({} left)",
                humantime::format_duration(Duration::from_secs(left.as_secs()))
            ));
            polls += 1;
            if sleep_interruptibly(interval.min(left), interrupt) {
                break Err(
                    Error::new(Kind::Interrupted, "interrupted while waiting for approval").hint(
                        "run hotfix ship again: it resumes waiting (no new PR, no new comment)",
                    ),
                );
            }
        };
        progress.finish();
        if let Some(pr_rec) = self.state.pr.as_mut() {
            pr_rec.etag = etag;
        }
        self.save()?;
        let pr = outcome?;
        if let (Some(pr), Some(v)) = (pr, &last_verdict) {
            self.state.phase = if pr.merged {
                Phase::Merged
            } else {
                Phase::Approved
            };
            if pr.merged {
                self.state.merge_sha = pr.merge_commit_sha.clone();
            }
            self.state.approved_at = v
                .last_counted_at
                .map(|t| humantime::format_rfc3339_seconds(t).to_string());
            self.save()?;
            self.log(
                "ship:approval",
                "approved",
                &[
                    ("approvers", json!(v.counted)),
                    ("head", json!(pr.head_sha)),
                    ("reviews", json!(v.reviews)),
                ],
            )?;
            self.ctx.ui.done(format!(
                "approved by {} on {}",
                v.counted.join(", "),
                short(&pr.head_sha)
            ));
            self.notify("approved", &format!("approved by {}", v.counted.join(", ")));
        }
        Ok(())
    }

    fn evaluate(
        &mut self,
        gh: &Client,
        pr: &Pr,
        me: &str,
        teams: &mut BTreeMap<String, BTreeSet<String>>,
        people_cache: &mut Option<(String, BTreeSet<String>)>,
    ) -> Result<Verdict> {
        let reviews = gh.reviews(pr.number)?;
        if people_cache
            .as_ref()
            .is_none_or(|(head, _)| *head != pr.head_sha)
        {
            let mut people = BTreeSet::new();
            for c in gh.pr_commits(pr.number)? {
                people.extend(c.author);
                people.extend(c.committer);
            }
            *people_cache = Some((pr.head_sha.clone(), people));
        }
        let people = people_cache
            .as_ref()
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        // When was the head pushed? Ours: when we pushed it. Someone else's: when first seen.
        let (pushed_at, pusher) = match &mut self.state.pushed {
            Some(p) if p.sha == pr.head_sha => (github::parse_time(&p.at), Some(me.to_string())),
            Some(p) => {
                if p.foreign_head
                    .as_ref()
                    .is_none_or(|(sha, _)| *sha != pr.head_sha)
                {
                    p.foreign_head = Some((pr.head_sha.clone(), crate::ui::timestamp()));
                }
                (
                    p.foreign_head
                        .as_ref()
                        .and_then(|(_, at)| github::parse_time(at)),
                    None,
                )
            }
            None => (None, None),
        };
        for req in &self.cfg.approval.required_reviewers {
            if let Some((org, team)) = req.split_once('/')
                && !teams.contains_key(req)
            {
                let members = gh.team_members(org, team)?;
                teams.insert(req.clone(), members.into_iter().collect());
            }
        }
        let mut facts = Facts {
            head_sha: pr.head_sha.clone(),
            head_pushed_at: pushed_at.unwrap_or_else(SystemTime::now),
            now: crate::journal::now(),
            pr_author: pr.author.clone(),
            commit_people: people,
            pusher,
            reviews,
            teams: teams.clone(),
            checks: BTreeMap::new(),
        };
        let policy = self.policy();
        let mut verdict = approval::evaluate(&policy, &facts);
        // Checks cost requests: read them only once the reviews are enough.
        if !policy.required_checks.is_empty()
            && verdict.counted.len() as u32 >= policy.min_approvals
        {
            facts.checks = gh.checks(&pr.head_sha)?.into_iter().collect();
            verdict = approval::evaluate(&policy, &facts);
        }
        Ok(verdict)
    }

    /// Step 5: merge with the approved head sha as a guard.
    fn merge(&mut self, gh: &Client, args: &ShipArgs) -> Result<()> {
        loop {
            let _lock = self.ctx.lock(self.journal, "hotfix ship")?;
            let pr = self
                .state
                .pr
                .clone()
                .ok_or_else(|| Error::internal("no PR recorded"))?;
            let method = self.cfg.merge_method();
            let title = format!("Hotfix {} (#{})", self.state.version, pr.number);
            match gh.merge(pr.number, &pr.head_sha, method.as_str(), &title)? {
                MergeOutcome::Merged { sha } => {
                    self.changed = true;
                    self.state.merge_sha = Some(sha.clone());
                    self.state.phase = Phase::Merged;
                    self.save()?;
                    exec_crash("ship:merged");
                    self.log(
                        "ship:merge",
                        "merged",
                        &[("sha", json!(sha)), ("method", json!(method.as_str()))],
                    )?;
                    self.ctx.ui.done(format!(
                        "merged PR #{} into {} ({})",
                        pr.number,
                        self.state.pr_target,
                        short(&sha)
                    ));
                    return Ok(());
                }
                MergeOutcome::HeadMoved(msg) => {
                    self.ctx.ui.warn(format!(
                        "the head of PR #{} moved ({msg}); waiting for approval of the new head",
                        pr.number
                    ));
                    self.state.phase = Phase::Tested;
                    self.save()?;
                }
                MergeOutcome::NotMergeable(msg) => {
                    self.ctx.ui.warn(format!(
                        "GitHub will not merge PR #{} yet: {msg}",
                        pr.number
                    ));
                    if args.no_wait {
                        return Err(Error::paused(format!(
                            "PR #{} is approved but not mergeable: {msg}",
                            pr.number
                        ))
                        .hint("run hotfix ship again once the host allows the merge"));
                    }
                    drop(_lock);
                    if sleep_interruptibly(
                        self.cfg.approval.poll_interval.0,
                        exec::interrupt_flag(),
                    ) {
                        return Err(Error::new(
                            Kind::Interrupted,
                            "interrupted while waiting to merge",
                        )
                        .hint("run hotfix ship again"));
                    }
                    continue;
                }
            }
            drop(_lock);
            self.wait(gh, args)?;
            if self.state.phase >= Phase::Merged {
                return Ok(());
            }
        }
    }

    /// Step 6: tag the merged commit (annotated; signed when configured) and push the tag. If
    /// someone else took the tag meanwhile, the next free patch is used and said.
    fn tag(&mut self) -> Result<()> {
        let _lock = self.ctx.lock(self.journal, "hotfix ship")?;
        let remote = self.cfg.repository.remote.clone();
        self.repo.fetch(&remote)?;
        let sha = self
            .state
            .merge_sha
            .clone()
            .ok_or_else(|| Error::internal("no merge commit recorded"))?;
        let merged = oid(&sha)?;
        loop {
            match self.repo.tag(&self.state.tag) {
                Some(at) if at == merged => break,
                Some(_) => {
                    let v = semver::Version::parse(&self.state.version)
                        .map_err(|e| Error::internal(format!("bad version in state: {e}")))?;
                    let rel = crate::branching::Releases::read(self.repo, self.cfg)?;
                    let next = rel.next_free_patch(&v);
                    self.ctx.ui.warn(format!(
                        "the tag {} was taken by someone else meanwhile; tagging {} instead",
                        self.state.tag,
                        self.cfg.tag_for(&next)
                    ));
                    self.state.version = next.to_string();
                    self.state.tag = self.cfg.tag_for(&next);
                    self.save()?;
                }
                None => {
                    self.repo.create_tag(
                        &self.state.tag,
                        &sha,
                        &format!(
                            "Hotfix {}{}",
                            self.state.version,
                            self.state
                                .incident
                                .as_ref()
                                .map(|i| format!(" ({i})"))
                                .unwrap_or_default()
                        ),
                        self.cfg.ship.sign_tag,
                    )?;
                    break;
                }
            }
        }
        self.repo.push(
            &remote,
            &[format!("refs/tags/{t}:refs/tags/{t}", t = self.state.tag)],
        )?;
        self.state.phase = Phase::Tagged;
        self.save()?;
        exec_crash("ship:tagged");
        self.log(
            "ship:tag",
            "ok",
            &[("tag", json!(self.state.tag)), ("sha", json!(sha))],
        )?;
        self.ctx
            .ui
            .done(format!("tagged {} and pushed it", self.state.tag));
        Ok(())
    }
}

fn unreachable_verdict() -> Verdict {
    Verdict {
        approved: false,
        changes_requested: None,
        reviews: Vec::new(),
        counted: Vec::new(),
        waiting_for: vec!["reviews".into()],
        last_counted_at: None,
    }
}

fn gh_owner(cfg: &Config) -> String {
    cfg.github
        .repo
        .as_deref()
        .and_then(|r| r.split_once('/'))
        .map(|(o, _)| o.to_string())
        .unwrap_or_default()
}

fn oid(s: &str) -> Result<git2::Oid> {
    git2::Oid::from_str(s).map_err(|e| Error::internal(format!("bad sha {s:?}: {e}")))
}

fn exec_crash(point: &str) {
    crate::journal::crash_point(point);
}

/// Sleeps up to `d`, waking early (and returning true) when interrupted.
fn sleep_interruptibly(d: Duration, flag: &std::sync::atomic::AtomicBool) -> bool {
    let end = std::time::Instant::now() + d;
    while std::time::Instant::now() < end {
        if flag.load(Ordering::SeqCst) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50).min(end - std::time::Instant::now()));
    }
    flag.load(Ordering::SeqCst)
}
