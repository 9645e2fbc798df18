//! The state of the hotfix in progress: its phase, what it is based on, and the steps done.

use serde::{Deserialize, Serialize};

/// Where a hotfix is on its path (SPEC section 3). `Starting` is `start` itself, interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Starting,
    Started,
    Tested,
    Approved,
    Merged,
    Tagged,
    Deployed,
    DeployFailed,
    Backported,
    BackportPending,
    Done,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Started => "started",
            Phase::Tested => "tested",
            Phase::Approved => "approved",
            Phase::Merged => "merged",
            Phase::Tagged => "tagged",
            Phase::Deployed => "deployed",
            Phase::DeployFailed => "deploy-failed",
            Phase::Backported => "backported",
            Phase::BackportPending => "backport-pending",
            Phase::Done => "done",
        }
    }

    /// Has the fix been merged into its target (so aborting cannot take it back)?
    pub fn is_merged(self) -> bool {
        self >= Phase::Merged
    }
}

/// A git object as recorded: how it was named and the sha it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefSha {
    #[serde(rename = "ref")]
    pub name: String,
    pub sha: String,
}

/// A commit brought in with `start --pick`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    pub sha: String,
    pub state: PickState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PickState {
    Pending,
    Applied,
    /// Already in the base: nothing to do.
    AlreadyInBase,
    Conflict,
}

/// Where the user was before `start`, to go back on `abort`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The branch that was checked out, or `None` when HEAD was detached.
    pub branch: Option<String>,
    pub sha: Option<String>,
}

/// The state of one hotfix. Fields added by later phases default when absent, so an older
/// state file still loads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub schema_version: u32,
    /// Identifies this hotfix run (in the audit log and in Deployment payloads).
    pub run_id: String,
    pub phase: Phase,
    pub model: String,
    pub version: String,
    pub tag: String,
    pub branch: String,
    pub base: RefSha,
    #[serde(default)]
    pub previous: Option<RefSha>,
    pub pr_target: String,
    /// Create the PR target from this tag on `ship` (a new support line).
    #[serde(default)]
    pub create_target_from: Option<String>,
    pub origin: Origin,
    #[serde(default)]
    pub incident: Option<String>,
    #[serde(default)]
    pub picks: Vec<Pick>,
    /// Commits on the line not yet released, which ship along with the fix.
    #[serde(default)]
    pub unreleased: Vec<crate::git::CommitInfo>,
    /// Steps completed, in order (`branch`, `picks`, `post_start`, …).
    #[serde(default)]
    pub steps: Vec<String>,
    /// The repository's `.rolloutrc` (or `--config` file) as it was when the hotfix started,
    /// used when the working tree has none.
    #[serde(default)]
    pub config: Option<String>,
    pub started_at: String,
    pub updated_at: String,
    /// The head that passed `hotfix test` / ship's tests last.
    #[serde(default)]
    pub tested_head: Option<String>,
    /// The tests of that run, for the PR body and the record.
    #[serde(default)]
    pub tests: Vec<TestRecord>,
    /// What `ship` pushed, and when (approvals must come after the head was pushed).
    #[serde(default)]
    pub pushed: Option<Pushed>,
    #[serde(default)]
    pub pr: Option<PrRecord>,
    /// When waiting for approval began (the `wait_timeout` clock survives a restart).
    #[serde(default)]
    pub wait_started_at: Option<String>,
    /// The last approval verdict, for `status`.
    #[serde(default)]
    pub approval: Option<serde_json::Value>,
    /// When the newest counted approval was submitted.
    #[serde(default)]
    pub approved_at: Option<String>,
    #[serde(default)]
    pub merge_sha: Option<String>,
    /// The merge-back, target by target.
    #[serde(default)]
    pub backport: Vec<BackportTarget>,
}

/// One merge-back target and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackportTarget {
    pub target: String,
    /// `merge` (the tag, `--no-ff`) or `cherry-pick` (the hotfix commits, `-x`).
    pub method: String,
    pub state: BackportState,
    /// The remote target's commit before the backport began (for `--abort`).
    #[serde(default)]
    pub before: Option<String>,
    /// The commit the target should get.
    #[serde(default)]
    pub result: Option<String>,
    /// Commits not applied yet (a conflict stopped the picks).
    #[serde(default)]
    pub remaining: Vec<String>,
    /// What happened to each commit ("abc1234 already on develop (ancestor)").
    #[serde(default)]
    pub report: Vec<String>,
    /// The pull request proposing it, in `pr` mode.
    #[serde(default)]
    pub pr: Option<u64>,
    /// The branch the user was on before a conflict was handed over.
    #[serde(default)]
    pub return_to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackportState {
    Pending,
    /// Stopped on a conflict on the temporary branch.
    Conflict,
    /// Applied in memory, not yet pushed or proposed.
    Ready,
    /// Everything was there already.
    AlreadyThere,
    Pushed,
    PrOpen,
    Merged,
    Skipped,
    /// No such branch on the remote.
    Missing,
}

/// One test command's outcome as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestRecord {
    pub name: String,
    pub command: String,
    pub outcome: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pushed {
    pub sha: String,
    pub at: String,
    /// The head first seen on the PR that the tool did not push itself, and when.
    #[serde(default)]
    pub foreign_head: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrRecord {
    pub number: u64,
    pub url: String,
    pub head_sha: String,
    #[serde(default)]
    pub etag: Option<String>,
}

impl State {
    pub fn done(&self, step: &str) -> bool {
        self.steps.iter().any(|s| s == step)
    }

    pub fn mark(&mut self, step: &str) {
        if !self.done(step) {
            self.steps.push(step.to_string());
        }
        self.updated_at = crate::ui::timestamp();
    }
}

pub const SCHEMA_VERSION: u32 = 1;

/// A new run id: time and process, unique enough for one repository.
pub fn new_run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{:x}-{:x}", now.as_millis(), std::process::id())
}
