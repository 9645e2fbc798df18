//! A stateful fake of the GitHub REST API for the integration tests.
//!
//! One server per test binary (`server()`), on a free loopback port, serving many repositories
//! at once: each test makes its own with `server().new_repo(&env.origin)`, which gets a unique
//! owner (`org-<n>`), the name `app` and a token of its own. The git side is real: pull request
//! heads are read from the bare repository on every request, and a merge writes real commits
//! into it (pinned dates, committer `GitHub <noreply@github.com>`).
//!
//! Prism: with `HOTFIX_TEST_PRISM` (the `prism` executable) and `HOTFIX_TEST_OPENAPI`
//! (`@octokit/openapi`'s `generated/api.github.com.json`) set, one `prism proxy --errors`
//! runs in front of the fake for the whole binary and `api_url()` is Prism's, so every request
//! the tool sends and every answer the fake gives is validated against GitHub's OpenAPI
//! description; `FakeRepo::assert_no_schema_violations()` reports what Prism (and the table of
//! documented statuses) found for that repository. With `CI=true` both variables are required.
//! `HOTFIX_TEST_PRISM_LOG=<file>` also appends Prism's log to that file (for debugging).
//! Prism runs with `--errors`: a request or an answer that breaks the schema comes back as a
//! 500 `application/problem+json` with the details, so a test fails where it happens.
//!
//! ```ignore
//! let env = harness::released_repo(false);
//! let gh = fake_github::server().new_repo(&env.origin);
//! gh.add_user("alice", "alice@example.com");
//! gh.apply_env(&mut env);               // GH_TOKEN, GITHUB_API_URL, HOTFIX_GITHUB_REPO
//! // … run hotfix …
//! gh.review(1, "alice", "APPROVED", None, None);
//! assert!(gh.prs()[0].merged);
//! gh.assert_no_schema_violations();
//! ```
#![allow(dead_code)]

mod client;
mod git;
mod json;
mod prism;
mod routes;
mod server;
mod state;
mod util;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

#[allow(unused_imports)]
pub use client::{HttpResponse, request};
#[allow(unused_imports)]
pub use state::{DeploymentView, PrView, RecordedRequest, ReleaseView};
#[allow(unused_imports)]
pub use util::now_rfc3339;

use state::*;

pub const DEFAULT_LOGIN: &str = "hotfix-bot";

pub struct FakeServer {
    shared: Arc<server::Shared>,
    direct_url: String,
    prism: Option<prism::Prism>,
    spec: Option<PathBuf>,
    spec_ops: OnceLock<Vec<prism::SpecOp>>,
}

static SERVER: OnceLock<FakeServer> = OnceLock::new();

/// The fake, started on first use (with Prism in front when configured).
pub fn server() -> &'static FakeServer {
    SERVER.get_or_init(|| {
        let shared = Arc::new(server::Shared::new());
        let direct_url = server::start(shared.clone());
        let prism_bin = std::env::var_os("HOTFIX_TEST_PRISM").filter(|v| !v.is_empty());
        let spec = std::env::var_os("HOTFIX_TEST_OPENAPI").filter(|v| !v.is_empty());
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        let (prism, spec) = match (prism_bin, spec) {
            (Some(p), Some(s)) => {
                let spec = PathBuf::from(s);
                (
                    Some(prism::start(Path::new(&p), &spec, &direct_url)),
                    Some(spec),
                )
            }
            (p, s) if ci => panic!(
                "CI=true but the fake GitHub cannot be validated: set HOTFIX_TEST_PRISM (path to \
                 the prism executable, e.g. node_modules/.bin/prism; now {p:?}) and \
                 HOTFIX_TEST_OPENAPI (path to @octokit/openapi's generated/api.github.com.json; \
                 now {s:?})"
            ),
            _ => (None, None),
        };
        let api = prism
            .as_ref()
            .map(|p| p.url.clone())
            .unwrap_or(direct_url.clone());
        *shared.public_url.lock().unwrap() = api;
        FakeServer {
            shared,
            direct_url,
            prism,
            spec,
            spec_ops: OnceLock::new(),
        }
    })
}

impl FakeServer {
    /// The base URL clients use: Prism's when it validates, else the fake's own.
    pub fn api_url(&self) -> String {
        self.prism
            .as_ref()
            .map(|p| p.url.clone())
            .unwrap_or_else(|| self.direct_url.clone())
    }

    /// The fake itself, bypassing Prism.
    pub fn direct_url(&self) -> &str {
        &self.direct_url
    }

    pub fn prism_enabled(&self) -> bool {
        self.prism.is_some()
    }

    /// Everything Prism printed since it started (minus its start-up route listing).
    pub fn prism_log(&self) -> Vec<String> {
        self.prism
            .as_ref()
            .map(|p| p.log.lock().unwrap().clone())
            .unwrap_or_default()
    }

    /// A new repository `org-<n>/app` backed by the bare repository `bare_origin`, with a
    /// token of its own for the user `hotfix-bot`.
    pub fn new_repo(&self, bare_origin: &Path) -> FakeRepo {
        let n = self.shared.seq.fetch_add(1, Ordering::Relaxed);
        let owner = format!("org-{n}");
        let token = format!(
            "ghp_fake{n:04}{:032x}",
            util::fnv(owner.as_bytes()) as u128 * 7919
        );
        let now = util::now_rfc3339();
        let id = routes::next_id();
        let mut users = BTreeMap::new();
        users.insert(
            DEFAULT_LOGIN.to_string(),
            User {
                id: routes::next_id(),
                login: DEFAULT_LOGIN.to_string(),
                email: None,
            },
        );
        let h = Arc::new(RepoHandle {
            owner: owner.clone(),
            name: "app".into(),
            token: token.clone(),
            id,
            bare: bare_origin.to_path_buf(),
            created_at: now,
            st: Mutex::new(RepoState {
                token_user: DEFAULT_LOGIN.into(),
                users,
                emails: HashMap::new(),
                teams: BTreeMap::new(),
                labels: BTreeMap::new(),
                prs: Vec::new(),
                next_number: 1,
                statuses: Vec::new(),
                check_runs: Vec::new(),
                deployments: Vec::new(),
                releases: Vec::new(),
                failures: Vec::new(),
                requests: Vec::new(),
                rate_used: 0,
                rate_reset: util::epoch_now() + 3600,
                pair_cache: HashMap::new(),
                engine: HashMap::new(),
            }),
        });
        self.shared
            .by_owner
            .lock()
            .unwrap()
            .insert(owner.to_ascii_lowercase(), h.clone());
        self.shared
            .by_token
            .lock()
            .unwrap()
            .insert(token, h.clone());
        FakeRepo { h }
    }

    fn spec_ops(&self) -> Option<&[prism::SpecOp]> {
        let spec = self.spec.as_ref()?;
        Some(self.spec_ops.get_or_init(|| prism::load_spec(spec)))
    }
}

/// One repository on the fake, and the test's handle on it.
pub struct FakeRepo {
    h: Arc<RepoHandle>,
}

impl FakeRepo {
    fn st(&self) -> MutexGuard<'_, RepoState> {
        self.h.st.lock().unwrap()
    }

    /// `owner/name`.
    pub fn full_name(&self) -> String {
        self.h.full_name()
    }
    pub fn owner(&self) -> &str {
        &self.h.owner
    }
    pub fn name(&self) -> &str {
        &self.h.name
    }
    /// The token that authenticates as `login()`.
    pub fn token(&self) -> &str {
        &self.h.token
    }
    pub fn api_url(&self) -> String {
        server().api_url()
    }
    /// The login the token belongs to (`hotfix-bot` unless changed).
    pub fn login(&self) -> String {
        self.st().token_user.clone()
    }
    /// Makes the token belong to `login` (added as a user if new).
    pub fn set_token_user(&self, login: &str) {
        let mut st = self.st();
        routes::ensure_user(&mut st, login);
        st.token_user = login.to_string();
    }

    /// The variables that point `hotfix` at this repository: `GH_TOKEN`, `GITHUB_API_URL`,
    /// `HOTFIX_GITHUB_REPO`.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("GH_TOKEN".into(), self.token().into()),
            ("GITHUB_API_URL".into(), self.api_url()),
            ("HOTFIX_GITHUB_REPO".into(), self.full_name()),
        ]
    }
    pub fn apply_env(&self, env: &mut crate::harness::TestEnv) {
        for (k, v) in self.env() {
            env.set_env(&k, &v);
        }
    }

    /// A GitHub user with a commit email (`map_email` is implied).
    pub fn add_user(&self, login: &str, email: &str) {
        let mut st = self.st();
        routes::ensure_user(&mut st, login);
        st.users.get_mut(login).unwrap().email = Some(email.to_string());
        st.emails.insert(email.to_string(), login.to_string());
    }
    /// Commits with this author/committer email show `login` as their GitHub user
    /// (unknown emails show `null`).
    pub fn map_email(&self, email: &str, login: &str) {
        let mut st = self.st();
        routes::ensure_user(&mut st, login);
        st.emails.insert(email.to_string(), login.to_string());
    }
    /// An organisation team (its members become users).
    pub fn add_team(&self, slug: &str, logins: &[&str]) {
        let mut st = self.st();
        for l in logins {
            routes::ensure_user(&mut st, l);
        }
        let id = st
            .teams
            .get(slug)
            .map(|t| t.0)
            .unwrap_or_else(routes::next_id);
        st.teams.insert(
            slug.to_string(),
            (id, logins.iter().map(|l| l.to_string()).collect()),
        );
    }

    /// A submitted review (`APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`,
    /// `PENDING`) on `commit_id` (default: the PR's current head) at `submitted_at` (default:
    /// now). The reviewer leaves the requested reviewers, as on GitHub. Returns the review id.
    pub fn review(
        &self,
        pr: u64,
        login: &str,
        state: &str,
        commit_id: Option<&str>,
        submitted_at: Option<&str>,
    ) -> i64 {
        let mut st = self.st();
        routes::refresh(&self.h, &mut st);
        routes::ensure_user(&mut st, login);
        let now = util::now_rfc3339();
        let p = st
            .prs
            .iter_mut()
            .find(|p| p.number == pr)
            .unwrap_or_else(|| panic!("no PR #{pr}"));
        let id = routes::next_id();
        p.reviews.push(Review {
            id,
            login: login.to_string(),
            state: state.to_string(),
            body: String::new(),
            commit_id: commit_id.map(String::from).unwrap_or(p.head_sha.clone()),
            submitted_at: (state != "PENDING")
                .then(|| submitted_at.map(String::from).unwrap_or(now.clone())),
        });
        if state != "PENDING" {
            p.requested_reviewers.retain(|r| r != login);
        }
        p.updated_at = now;
        id
    }

    /// Marks a review `DISMISSED`.
    pub fn dismiss_review(&self, pr: u64, review_id: i64) {
        let mut st = self.st();
        let now = util::now_rfc3339();
        let p = st.prs.iter_mut().find(|p| p.number == pr).expect("PR");
        let r = p
            .reviews
            .iter_mut()
            .find(|r| r.id == review_id)
            .expect("review");
        r.state = "DISMISSED".into();
        p.updated_at = now;
    }

    /// A commit status (`success`, `failure`, `error`, `pending`) for `sha` (or any rev the
    /// bare repository resolves).
    pub fn set_status(&self, sha: &str, context: &str, state: &str) {
        let sha = git::resolve(&self.h.bare, sha).unwrap_or_else(|| sha.to_string());
        self.st().statuses.push(Status {
            id: routes::next_id(),
            sha,
            context: context.to_string(),
            state: state.to_string(),
            at: util::now_rfc3339(),
        });
    }

    /// A check run (status `queued`/`in_progress`/`completed`, conclusion `success`,
    /// `failure`, … when completed). A later one with the same name supersedes it.
    pub fn set_check_run(&self, sha: &str, name: &str, status: &str, conclusion: Option<&str>) {
        let sha = git::resolve(&self.h.bare, sha).unwrap_or_else(|| sha.to_string());
        self.st().check_runs.push(CheckRun {
            id: routes::next_id(),
            sha,
            name: name.to_string(),
            status: status.to_string(),
            conclusion: conclusion.map(String::from),
            at: util::now_rfc3339(),
        });
    }

    /// `mergeable = false`: the merge endpoint answers 405 with `reason` (and the PR shows
    /// `mergeable_state: "blocked"`), as with branch protection.
    pub fn set_mergeable(&self, pr: u64, mergeable: bool, reason: &str) {
        let mut st = self.st();
        let p = st.prs.iter_mut().find(|p| p.number == pr).expect("PR");
        p.blocked = (!mergeable).then(|| reason.to_string());
    }

    /// The next `times` requests with `method` whose path (raw or percent-decoded) matches
    /// `path_regex` are answered with `status` (a basic-error body; none for 204/304) and
    /// `headers` (which override the default ones, e.g. `x-ratelimit-remaining: 0`,
    /// `retry-after`). With `take_effect`, the request is carried out first and only its
    /// answer is lost.
    pub fn fail_next(
        &self,
        method: &str,
        path_regex: &str,
        status: u16,
        times: u32,
        headers: &[(&str, &str)],
        take_effect: bool,
    ) {
        self.st().failures.push(FailRule {
            method: method.to_string(),
            path: regex::Regex::new(path_regex).expect("path regex"),
            status,
            times,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            take_effect,
        });
    }

    /// Every request to this repository (and to `/user`, `/rate_limit` with its token).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.st().requests.clone()
    }

    pub fn prs(&self) -> Vec<PrView> {
        let mut st = self.st();
        routes::refresh(&self.h, &mut st);
        st.prs
            .iter()
            .map(|p| PrView {
                number: p.number,
                state: p.state.clone(),
                merged: p.merged_at.is_some(),
                head: p.head.clone(),
                base: p.base.clone(),
                head_sha: p.head_sha.clone(),
                title: p.title.clone(),
                body: p.body.clone(),
                labels: p.labels.clone(),
                requested_reviewers: p.requested_reviewers.clone(),
                requested_teams: p.requested_teams.clone(),
                author: p.author.clone(),
                draft: p.draft,
                merge_commit_sha: p.merge_commit_sha.clone(),
            })
            .collect()
    }

    #[track_caller]
    pub fn pr(&self, number: u64) -> PrView {
        self.prs()
            .into_iter()
            .find(|p| p.number == number)
            .unwrap_or_else(|| panic!("no PR #{number}"))
    }

    /// The bodies of the PR's comments, oldest first.
    pub fn comments(&self, pr: u64) -> Vec<String> {
        self.st()
            .prs
            .iter()
            .find(|p| p.number == pr)
            .map(|p| p.comments.iter().map(|c| c.body.clone()).collect())
            .unwrap_or_default()
    }

    /// Deployments, oldest first, with their statuses.
    /// Acts as the team's deployment engine: every Deployment created with `task` gets a
    /// status `state` (`success`, `failure`, `error`) right away.
    pub fn engine_answers(&self, task: &str, state: &str) {
        self.st().engine.insert(task.to_string(), state.to_string());
    }

    pub fn deployments(&self) -> Vec<DeploymentView> {
        self.st()
            .deployments
            .iter()
            .map(|d| DeploymentView {
                id: d.id,
                sha: d.sha.clone(),
                git_ref: d.git_ref.clone(),
                task: d.task.clone(),
                environment: d.environment.clone(),
                payload: d.payload.clone(),
                description: d.description.clone(),
                auto_merge: d.auto_merge,
                required_contexts: d.required_contexts.clone(),
                transient_environment: d.transient,
                production_environment: d.production,
                statuses: d
                    .statuses
                    .iter()
                    .map(|s| (s.state.clone(), s.description.clone()))
                    .collect(),
            })
            .collect()
    }

    /// Releases, oldest first.
    pub fn releases(&self) -> Vec<ReleaseView> {
        self.st()
            .releases
            .iter()
            .map(|r| ReleaseView {
                id: r.id,
                tag_name: r.tag_name.clone(),
                target_commitish: r.target_commitish.clone(),
                name: r.name.clone(),
                body: r.body.clone(),
                draft: r.draft,
                prerelease: r.prerelease,
            })
            .collect()
    }

    /// Calls the API (through Prism when enabled) as this repository's token user.
    /// `path` starts with `/`, e.g. `format!("/repos/{}/pulls", gh.full_name())`.
    pub fn api(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> HttpResponse {
        let auth = format!("Bearer {}", self.token());
        let body = body.map(|b| b.to_string());
        request(
            method,
            &format!("{}{path}", self.api_url()),
            &[("Authorization", &auth)],
            body.as_deref(),
        )
    }

    /// Panics listing every schema problem seen for this repository: Prism's errors (invalid
    /// requests, responses that break the schema, unknown routes) and validator warnings for
    /// its paths, and any answer whose status GitHub's description does not list for the
    /// operation — except the deliberate ones (`fail_next` answers and 401s). Without Prism
    /// it only checks that no handler of the fake panicked.
    #[track_caller]
    pub fn assert_no_schema_violations(&self) {
        let srv = server();
        let panics: Vec<String> = srv
            .shared
            .panics
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.contains(&format!("/{}/", self.full_name())))
            .cloned()
            .collect();
        assert!(
            panics.is_empty(),
            "the fake GitHub panicked:\n{}",
            panics.join("\n")
        );
        let Some(p) = &srv.prism else {
            return;
        };
        // Let Prism's log catch up with the last answer.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let prefixes = vec![
            format!("/repos/{}/", self.full_name()),
            format!("/repos/{} ", self.full_name()),
            format!("/orgs/{}/", self.owner()),
        ];
        let mut problems = prism::violations(&p.log.lock().unwrap(), &prefixes);
        if let Some(ops) = srv.spec_ops() {
            for r in self.requests() {
                if r.injected || r.status == 401 {
                    continue;
                }
                match prism::statuses_for(ops, &r.method, &r.path) {
                    Some(list)
                        if list
                            .iter()
                            .any(|s| *s == r.status.to_string() || s == "default") => {}
                    Some(list) => problems.push(format!(
                        "{} {} answered {}, not among the documented statuses {list:?}",
                        r.method, r.path, r.status
                    )),
                    None => problems.push(format!(
                        "{} {}: no such operation in the description",
                        r.method, r.path
                    )),
                }
            }
        }
        assert!(
            problems.is_empty(),
            "schema violations for {}:\n{}",
            self.full_name(),
            problems.join("\n")
        );
    }
}
