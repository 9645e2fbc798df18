//! What the fake remembers about one repository (the git side lives in the bare repo).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::Value;

/// One request as the fake saw it (and answered it).
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// The path as received, still percent-encoded, without the query.
    pub path: String,
    /// The raw query string ("" when none).
    pub query: String,
    pub status: u16,
    /// The request carried `If-None-Match`.
    pub conditional: bool,
    /// It counted against the rate limit (every answer but a 304 and `/rate_limit`).
    pub counted: bool,
    /// The answer came from a `fail_next` rule.
    pub injected: bool,
    /// The request body as sent ("" when none).
    pub body: String,
}

/// A pull request as a test sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct PrView {
    pub number: u64,
    /// "open" or "closed".
    pub state: String,
    pub merged: bool,
    pub head: String,
    pub base: String,
    pub head_sha: String,
    pub title: String,
    pub body: Option<String>,
    pub labels: Vec<String>,
    pub requested_reviewers: Vec<String>,
    pub requested_teams: Vec<String>,
    pub author: String,
    pub draft: bool,
    pub merge_commit_sha: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentView {
    pub id: i64,
    pub sha: String,
    /// The `ref` it was created with.
    pub git_ref: String,
    pub task: String,
    pub environment: String,
    pub payload: Value,
    pub description: Option<String>,
    pub auto_merge: bool,
    pub required_contexts: Option<Vec<String>>,
    pub transient_environment: bool,
    pub production_environment: bool,
    /// (state, description), oldest first.
    pub statuses: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReleaseView {
    pub id: i64,
    pub tag_name: String,
    pub target_commitish: String,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub email: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Review {
    pub id: i64,
    pub login: String,
    pub state: String,
    pub body: String,
    pub commit_id: String,
    pub submitted_at: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: i64,
    pub login: String,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug)]
pub struct Pr {
    pub number: u64,
    pub id: i64,
    pub title: String,
    pub body: Option<String>,
    pub head: String,
    pub base: String,
    pub draft: bool,
    pub state: String,
    pub author: String,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub merged_at: Option<String>,
    pub merge_commit_sha: Option<String>,
    pub merged_by: Option<String>,
    /// The head sha last seen (frozen once the PR is closed).
    pub head_sha: String,
    /// The base tip when the PR was merged (for its commit list after the merge).
    pub base_sha_at_merge: Option<String>,
    pub labels: Vec<String>,
    pub requested_reviewers: Vec<String>,
    pub requested_teams: Vec<String>,
    pub reviews: Vec<Review>,
    pub comments: Vec<Comment>,
    /// Set by the test: (mergeable, reason for the 405).
    pub blocked: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Label {
    pub id: i64,
    pub name: String,
    pub color: String,
}

#[derive(Clone, Debug)]
pub struct Status {
    pub id: i64,
    pub sha: String,
    pub context: String,
    pub state: String,
    pub at: String,
}

#[derive(Clone, Debug)]
pub struct CheckRun {
    pub id: i64,
    pub sha: String,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub at: String,
}

#[derive(Clone, Debug)]
pub struct DeploymentStatus {
    pub id: i64,
    pub state: String,
    pub description: String,
    pub environment: String,
    pub environment_url: String,
    pub log_url: String,
    pub creator: String,
    pub created_at: String,
}

#[derive(Clone, Debug)]
pub struct Deployment {
    pub id: i64,
    pub sha: String,
    pub git_ref: String,
    pub task: String,
    pub environment: String,
    pub original_environment: String,
    pub description: Option<String>,
    pub payload: Value,
    pub auto_merge: bool,
    pub required_contexts: Option<Vec<String>>,
    pub transient: bool,
    pub production: bool,
    pub creator: String,
    pub created_at: String,
    pub updated_at: String,
    pub statuses: Vec<DeploymentStatus>,
}

#[derive(Clone, Debug)]
pub struct Release {
    pub id: i64,
    pub tag_name: String,
    pub target_commitish: String,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub author: String,
    pub created_at: String,
    pub published_at: Option<String>,
}

#[derive(Clone, Debug)]
pub struct FailRule {
    pub method: String,
    pub path: regex::Regex,
    pub status: u16,
    pub times: u32,
    pub headers: Vec<(String, String)>,
    pub take_effect: bool,
}

/// Cached answers about a (base, head) pair of commits.
#[derive(Clone, Debug)]
pub struct PairInfo {
    pub conflict: bool,
    pub commits: i64,
    pub additions: i64,
    pub deletions: i64,
    pub changed_files: i64,
}

pub struct RepoHandle {
    pub owner: String,
    pub name: String,
    pub token: String,
    pub id: i64,
    pub bare: PathBuf,
    pub created_at: String,
    pub st: Mutex<RepoState>,
}

impl RepoHandle {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

pub struct RepoState {
    pub token_user: String,
    pub users: BTreeMap<String, User>,
    pub emails: HashMap<String, String>,
    pub teams: BTreeMap<String, (i64, Vec<String>)>,
    pub labels: BTreeMap<String, Label>,
    pub prs: Vec<Pr>,
    pub next_number: u64,
    pub statuses: Vec<Status>,
    pub check_runs: Vec<CheckRun>,
    pub deployments: Vec<Deployment>,
    pub releases: Vec<Release>,
    pub failures: Vec<FailRule>,
    pub requests: Vec<RecordedRequest>,
    pub rate_used: u64,
    pub rate_reset: u64,
    pub pair_cache: HashMap<(String, String), PairInfo>,
    /// A stand-in for a team's deployment engine: a new Deployment whose task is a key here
    /// gets a status with that state at once.
    pub engine: HashMap<String, String>,
}
