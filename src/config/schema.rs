//! The `.rolloutrc` schema: every key of SPEC section 2, with its built-in default.
//!
//! Every struct rejects unknown keys and fills missing ones from `Default`, so the same types
//! validate a single file layer and hold the merged, effective configuration. Keys whose default
//! depends on the repository (model kind, merge method, record, protected branches, GitHub
//! repository and API URL) are `Option`s resolved by the accessors at the bottom.

use serde::{Deserialize, Serialize};

use super::types::*;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub repository: Repository,
    pub model: Model,
    pub tests: Tests,
    pub github: Github,
    pub approval: Approval,
    pub ship: Ship,
    pub deploy: Deploy,
    pub notify: Notify,
    pub backport: Backport,
    pub hooks: Hooks,
    pub lifecycle: Lifecycle,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Repository {
    pub remote: String,
    pub main: String,
    pub develop: String,
}

impl Default for Repository {
    fn default() -> Self {
        Repository {
            remote: "origin".into(),
            main: "main".into(),
            develop: "develop".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Model {
    /// Detected from the remote's branches when no layer sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<ModelKind>,
    pub hotfix_prefix: String,
    pub release_prefix: String,
    pub tag_format: String,
    pub support_prefix: String,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            kind: None,
            hotfix_prefix: "hotfix/".into(),
            release_prefix: "release/".into(),
            tag_format: "v{version}".into(),
            support_prefix: "support/".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tests {
    pub smoke: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full: Option<String>,
    pub unmatched: Unmatched,
    pub timeout: Dur,
    pub jobs: u32,
    pub rule: Vec<TestRule>,
}

impl Default for Tests {
    fn default() -> Self {
        Tests {
            smoke: Vec::new(),
            full: None,
            unmatched: Unmatched::Full,
            timeout: Dur::secs(20 * 60),
            jobs: 1,
            rule: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestRule {
    pub name: String,
    pub paths: Vec<Glob>,
    pub run: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Github {
    /// `owner/name`; parsed from the remote's URL when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// `$GITHUB_API_URL`, else derived from the remote host, when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Approval {
    pub min_approvals: MinApprovals,
    pub required_reviewers: Vec<String>,
    pub reviewers: Vec<String>,
    pub team_reviewers: Vec<String>,
    pub expires_after: Dur,
    pub wait_timeout: Dur,
    pub poll_interval: Dur,
    pub labels: Vec<String>,
    pub required_checks: Vec<String>,
}

impl Default for Approval {
    fn default() -> Self {
        Approval {
            min_approvals: MinApprovals(1),
            required_reviewers: Vec::new(),
            reviewers: Vec::new(),
            team_reviewers: Vec::new(),
            expires_after: Dur::secs(4 * 3600),
            wait_timeout: Dur::secs(3600),
            poll_interval: Dur::secs(30),
            labels: vec!["hotfix".into()],
            required_checks: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ship {
    /// Default by model: git-flow merge, trunk squash, release-branch merge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_method: Option<MergeMethod>,
    pub confirm_deploy: bool,
    pub sign_tag: bool,
    pub release: bool,
    pub backport: bool,
}

impl Default for Ship {
    fn default() -> Self {
        Ship {
            merge_method: None,
            confirm_deploy: true,
            sign_tag: false,
            release: true,
            backport: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Deploy {
    pub environments: Vec<String>,
    pub max_parallel: u32,
    /// `github` when a GitHub repository is known, else `none`, when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<Record>,
    pub defaults: StageDefaults,
    pub stage: Vec<Stage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor: Option<Monitor>,
}

impl Default for Deploy {
    fn default() -> Self {
        Deploy {
            environments: vec!["production".into()],
            max_parallel: 4,
            record: None,
            defaults: StageDefaults::default(),
            stage: Vec::new(),
            monitor: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StageDefaults {
    pub timeout: Dur,
    pub retries: u32,
    pub backoff: Dur,
    pub pass_token: bool,
}

impl Default for StageDefaults {
    fn default() -> Self {
        StageDefaults {
            timeout: Dur::secs(600),
            retries: 0,
            backoff: Dur::secs(2),
            pass_token: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegate: Option<Delegate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<Glob>,
    #[serde(default = "default_phase")]
    pub phase: Phase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promote: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_token: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_promote_health: Option<Health>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<Traffic>,
}

fn default_phase() -> Phase {
    Phase::Expand
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Health {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    pub expect_status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_body: Option<String>,
    pub initial_delay: Dur,
    pub interval: Dur,
    pub consecutive_successes: u32,
    pub failure_limit: u32,
    pub timeout: Dur,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            url: None,
            command: None,
            expect_status: 200,
            expect_body: None,
            initial_delay: Dur::secs(0),
            interval: Dur::secs(5),
            consecutive_successes: 1,
            failure_limit: 0,
            timeout: Dur::secs(120),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    pub run: String,
    pub steps: Vec<u32>,
    #[serde(default = "default_pause")]
    pub pause: Dur,
}

fn default_pause() -> Dur {
    Dur::secs(60)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Monitor {
    pub duration: Dur,
    pub interval: Dur,
    pub on_failure: OnFailure,
    pub command: String,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor {
            duration: Dur::secs(0),
            interval: Dur::secs(30),
            on_failure: OnFailure::Rollback,
            command: String::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Notify {
    pub webhooks_env: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Backport {
    /// Default by model (SPEC section 4) when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
    pub method: BackportMethod,
    pub mode: BackportMode,
    pub delete_branch: bool,
}

impl Default for Backport {
    fn default() -> Self {
        Backport {
            targets: None,
            method: BackportMethod::Auto,
            mode: BackportMode::Push,
            delete_branch: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hooks {
    /// Default: main, develop (git-flow), release/* and support/*.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protected: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_pattern: Option<String>,
    pub pre_push_tests: bool,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            protected: None,
            incident_pattern: None,
            pre_push_tests: true,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lifecycle {
    pub pre_start: Vec<String>,
    pub post_start: Vec<String>,
    pub pre_ship: Vec<String>,
    pub post_deploy: Vec<String>,
    pub post_backport: Vec<String>,
}

impl Config {
    /// The model kind; `detected` is what the repository's branches suggest (see `init`).
    pub fn model_kind(&self) -> ModelKind {
        self.model.kind.unwrap_or(ModelKind::Trunk)
    }

    pub fn merge_method(&self) -> MergeMethod {
        self.ship.merge_method.unwrap_or(match self.model_kind() {
            ModelKind::Trunk => MergeMethod::Squash,
            ModelKind::GitFlow | ModelKind::ReleaseBranch => MergeMethod::Merge,
        })
    }

    /// Protected branch patterns: configured, or main, develop (git-flow), release/*, support/*.
    pub fn protected_branches(&self) -> Vec<String> {
        if let Some(p) = &self.hooks.protected {
            return p.clone();
        }
        let mut v = vec![self.repository.main.clone()];
        if self.model_kind() == ModelKind::GitFlow {
            v.push(self.repository.develop.clone());
        }
        v.push(format!("{}*", self.model.release_prefix));
        v.push(format!("{}*", self.model.support_prefix));
        v
    }

    /// The tag name for a version, by `model.tag_format`.
    pub fn tag_for(&self, version: &semver::Version) -> String {
        self.model
            .tag_format
            .replace("{version}", &version.to_string())
    }

    /// The version a tag name stands for, if it follows `model.tag_format` and is a release
    /// (pre-releases are never releases).
    pub fn version_of_tag(&self, tag: &str) -> Option<semver::Version> {
        let (prefix, suffix) = self.model.tag_format.split_once("{version}")?;
        let v = tag.strip_prefix(prefix)?.strip_suffix(suffix)?;
        let v = semver::Version::parse(v).ok()?;
        v.pre.is_empty().then_some(v)
    }

    pub fn hotfix_branch(&self, version: &semver::Version) -> String {
        format!("{}{}", self.model.hotfix_prefix, version)
    }
}
