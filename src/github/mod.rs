//! GitHub: a small trait the rest of the tool uses, and its octocrab implementation.
//!
//! Every call goes through octocrab with the configured base URL, so GitHub Enterprise and the
//! test suite's fake server work the same way. Reads are retried on transient failures;
//! mutating calls are never retried blindly (the caller checks whether the first attempt took
//! effect); rate limits are waited out and shown; polling uses conditional requests.

mod client;
pub mod remote;

use std::time::SystemTime;

use serde::Serialize;

pub use client::Client;
pub use remote::{RepoId, Token};

use crate::error::Result;

/// A pull request, as much of it as the tool uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pr {
    pub number: u64,
    pub url: String,
    pub state: String,
    pub merged: bool,
    pub title: String,
    pub author: String,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    pub merge_commit_sha: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrCommit {
    pub sha: String,
    pub author: Option<String>,
    pub committer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    pub author: String,
    pub body: String,
}

/// The answer to a conditional GET.
#[derive(Debug, Clone)]
pub enum Fetched<T> {
    /// Changed (or first fetch): the value and its ETag.
    Fresh(T, Option<String>),
    /// 304: unchanged since the ETag given; cost no rate limit.
    NotModified,
}

/// What a merge attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    Merged {
        sha: String,
    },
    /// 409: the head moved since it was approved.
    HeadMoved(String),
    /// 405: not mergeable now (branch protection, checks, conflicts), with the host's reason.
    NotMergeable(String),
}

/// A GitHub Deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    pub id: u64,
    pub sha: String,
    pub environment: String,
    pub task: String,
    pub payload: serde_json::Value,
    pub created_at: Option<SystemTime>,
}

/// The operations the tool needs from GitHub.
pub trait GitHub {
    /// The login the token belongs to.
    fn whoami(&self) -> Result<String>;
    /// The open (or, with `any_state`, any) PR from `head` into `base`.
    fn find_pr(&self, head: &str, base: &str, any_state: bool) -> Result<Option<Pr>>;
    /// The newest PR from `head` into any base (open ones first).
    fn find_pr_for_head(&self, head: &str) -> Result<Option<Pr>>;
    fn create_pr(&self, title: &str, body: &str, head: &str, base: &str) -> Result<Pr>;
    fn get_pr(&self, number: u64, etag: Option<&str>) -> Result<Fetched<Pr>>;
    fn close_pr(&self, number: u64) -> Result<()>;
    fn reviews(&self, number: u64) -> Result<Vec<crate::approval::Review>>;
    fn pr_commits(&self, number: u64) -> Result<Vec<PrCommit>>;
    fn labels(&self, number: u64) -> Result<Vec<String>>;
    fn add_labels(&self, number: u64, labels: &[String]) -> Result<()>;
    fn requested_reviewers(&self, number: u64) -> Result<(Vec<String>, Vec<String>)>;
    fn request_reviewers(&self, number: u64, users: &[String], teams: &[String]) -> Result<()>;
    fn comments(&self, number: u64) -> Result<Vec<Comment>>;
    fn comment(&self, number: u64, body: &str) -> Result<()>;
    fn team_members(&self, org: &str, team: &str) -> Result<Vec<String>>;
    /// Commit statuses and check runs on `sha`, by context / check name.
    fn checks(&self, sha: &str) -> Result<Vec<(String, crate::approval::CheckState)>>;
    fn merge(&self, number: u64, sha: &str, method: &str, title: &str) -> Result<MergeOutcome>;
    /// Deployments of `environment` and `task` (optionally of one sha), newest first.
    fn deployments(
        &self,
        environment: &str,
        task: &str,
        sha: Option<&str>,
    ) -> Result<Vec<Deployment>>;
    /// The states of a deployment's statuses, newest first.
    fn deployment_states(&self, id: u64) -> Result<Vec<String>>;
    /// Creates a deployment, or finds the one this run (`payload.run_id`) created already.
    fn create_deployment(
        &self,
        sha: &str,
        environment: &str,
        task: &str,
        payload: &serde_json::Value,
        description: &str,
    ) -> Result<Deployment>;
    /// The release (draft or published) for a tag: `(id, draft)`.
    fn release_for_tag(&self, tag: &str) -> Result<Option<(u64, bool)>>;
    /// Creates the release for `tag` unless it exists; returns its id.
    fn create_release(&self, tag: &str, name: &str, body: &str, draft: bool) -> Result<u64>;
    fn publish_release(&self, id: u64) -> Result<()>;
    fn set_deployment_state(
        &self,
        id: u64,
        state: &str,
        description: &str,
        environment: &str,
        auto_inactive: bool,
    ) -> Result<()>;
}

/// Connects to the repository's GitHub: `github.repo` or the remote URL, the API URL rules
/// of SPEC section 2, and the token from the environment or `gh`.
pub fn connect(
    repo: &crate::git::Repo,
    cfg: &crate::config::Config,
    env: &[(String, String)],
    ui: crate::ui::Ui,
) -> Result<Client> {
    use crate::error::Error;
    let remote_url = repo.remote_url(&cfg.repository.remote).unwrap_or_default();
    let parsed = remote::parse_remote_url(&remote_url);
    let id = match &cfg.github.repo {
        Some(full) => {
            let (owner, name) = full.split_once('/').unwrap_or((full, ""));
            RepoId {
                host: parsed.as_ref().and_then(|p| p.host.clone()),
                owner: owner.into(),
                name: name.into(),
            }
        }
        None => parsed.clone().ok_or_else(|| {
            Error::config(format!(
                "cannot tell the GitHub repository from the remote URL {remote_url:?}"
            ))
            .hint("set it in .rolloutrc: [github] repo = \"owner/name\"")
        })?,
    };
    let env_api = env
        .iter()
        .find(|(k, _)| k == "GITHUB_API_URL")
        .map(|(_, v)| v.as_str());
    let api = remote::api_url(cfg.github.api_url.as_deref(), env_api, id.host.as_deref());
    let token = remote::find_token(env, id.host.as_deref())?;
    Client::new(&api, id, token, ui)
}

/// Parses GitHub's timestamps (`2026-01-01T00:00:00Z`).
pub fn parse_time(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(s.trim_end_matches('Z')).ok()
}
