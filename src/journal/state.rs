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
    /// The effective configuration when the hotfix started (TOML), used when the working
    /// tree has no `.rolloutrc`.
    #[serde(default)]
    pub config: Option<String>,
    pub started_at: String,
    pub updated_at: String,
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
