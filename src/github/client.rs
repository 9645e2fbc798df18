//! The octocrab implementation of [`GitHub`](super::GitHub).
//!
//! octocrab carries every request (base URL, authentication, connection handling); this file
//! adds what a release tool needs on top: conditional requests, rate limits waited out and
//! shown, transient failures of reads retried with backoff, and mutating calls that check
//! whether a failed attempt took effect before trying again.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, Method};
use serde_json::{Value, json};

use super::remote::{RepoId, Token};
use super::{Comment, Deployment, Fetched, GitHub, MergeOutcome, Pr, PrCommit, parse_time};
use crate::approval::{CheckState, Review};
use crate::error::{Error, Result};
use crate::ui::Ui;

/// How many times a read is retried on a transient failure, and a mutation re-attempted after
/// checking that the failed attempt did not take effect.
const ATTEMPTS: u32 = 4;
/// The longest rate-limit wait the tool sits through before giving up.
const MAX_RATE_WAIT: Duration = Duration::from_secs(3600);

pub struct Client {
    octo: octocrab::Octocrab,
    rt: tokio::runtime::Runtime,
    repo: RepoId,
    token_source: String,
    ui: Ui,
}

/// One HTTP answer.
struct Resp {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    fn message(&self) -> String {
        let v = self.json();
        let mut m = v["message"].as_str().unwrap_or("").to_string();
        if let Some(errs) = v["errors"].as_array() {
            for e in errs {
                if let Some(s) = e["message"].as_str() {
                    m.push_str(": ");
                    m.push_str(s);
                }
            }
        }
        if m.is_empty() {
            m = self.body.chars().take(200).collect();
        }
        m
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why a single attempt did not give an answer worth returning.
enum Failure {
    /// 5xx, timeout, connection error: the request may or may not have taken effect.
    Transient(String),
    /// Anything else: final.
    Fatal(Error),
}

fn transient(r: &Resp) -> bool {
    r.status >= 500
}

impl Client {
    pub fn new(api_url: &str, repo: RepoId, token: Token, ui: Ui) -> Result<Client> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::internal(format!("cannot start the HTTP runtime: {e}")))?;
        let octo = {
            let _guard = rt.enter();
            octocrab::Octocrab::builder()
                .base_uri(api_url)
                .map_err(|e| {
                    Error::config(format!("github.api_url {api_url:?} is not a URL: {e}"))
                })?
                .personal_token(token.value.clone())
                .set_connect_timeout(Some(Duration::from_secs(10)))
                .set_read_timeout(Some(Duration::from_secs(30)))
                .build()
                .map_err(|e| Error::internal(format!("cannot set up the GitHub client: {e}")))?
        };
        Ok(Client {
            octo,
            rt,
            repo,
            token_source: token.source,
            ui,
        })
    }

    fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.repo.owner, self.repo.name)
    }

    /// One attempt, no retries.
    fn attempt(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        etag: Option<&str>,
    ) -> std::result::Result<Resp, Failure> {
        let mut headers = HeaderMap::new();
        headers.insert(
            "accept",
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static("2022-11-28"),
        );
        if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(t).ok()) {
            headers.insert("if-none-match", tag);
        }
        self.ui.detail(format!("GitHub: {method} {path}"));
        let octo = &self.octo;
        let fut = async {
            let mut builder = http::Request::builder().method(method.clone()).uri(path);
            for (k, v) in headers.iter() {
                builder = builder.header(k, v);
            }
            let req = octo.build_request(builder, body)?;
            let resp = octo.execute(req).await?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = octo.body_to_string(resp).await?;
            Ok::<Resp, octocrab::Error>(Resp {
                status,
                headers,
                body,
            })
        };
        match self.rt.block_on(fut) {
            Ok(r) => Ok(r),
            Err(e) => Err(Failure::Transient(format!(
                "{method} {path}: {}",
                short_error(&e)
            ))),
        }
    }

    /// An attempt with rate limits waited out and authentication failures made final.
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        etag: Option<&str>,
    ) -> std::result::Result<Resp, Failure> {
        let mut waits = 0;
        loop {
            let r = self.attempt(method.clone(), path, body, etag)?;
            if let Some(wait) = rate_limit_wait(&r) {
                waits += 1;
                if waits > 5 || wait > MAX_RATE_WAIT {
                    return Err(Failure::Fatal(
                        Error::step(format!(
                            "GitHub's rate limit stays exhausted ({})",
                            r.message()
                        ))
                        .hint("wait for the limit to reset, then run the same command again"),
                    ));
                }
                let kind = if r.header("retry-after").is_some() {
                    "secondary"
                } else {
                    "primary"
                };
                self.ui.warn(format!(
                    "GitHub {kind} rate limit reached; waiting {} before retrying {method} {path}",
                    humantime::format_duration(wait)
                ));
                std::thread::sleep(wait);
                continue;
            }
            if r.status == 401 {
                return Err(Failure::Fatal(
                    Error::precondition(format!(
                        "GitHub rejected the token from {} (401: {})",
                        self.token_source,
                        r.message()
                    ))
                    .hint(format!(
                        "check or renew the token in {}; it needs repo scope",
                        self.token_source
                    )),
                ));
            }
            if r.status == 403 {
                return Err(Failure::Fatal(
                    Error::precondition(format!(
                        "GitHub refused {method} {path} with the token from {} (403: {})",
                        self.token_source,
                        r.message()
                    ))
                    .hint(
                        "the token needs write access to the repository (contents, pull requests)",
                    ),
                ));
            }
            return Ok(r);
        }
    }

    /// A read: transient failures are retried with backoff.
    fn read(&self, path: &str, etag: Option<&str>) -> Result<Resp> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(backoff(attempt));
            }
            match self.call(Method::GET, path, None, etag) {
                Ok(r) if transient(&r) => {
                    last = format!("GET {path}: {} {}", r.status, r.message())
                }
                Ok(r) => return Ok(r),
                Err(Failure::Transient(m)) => last = m,
                Err(Failure::Fatal(e)) => return Err(e),
            }
        }
        Err(Error::step(format!("GitHub did not answer: {last}"))
            .hint("run the same command again; nothing was changed by this read"))
    }

    fn read_ok(&self, path: &str) -> Result<Value> {
        let r = self.read(path, None)?;
        if r.status != 200 {
            return Err(Error::step(format!(
                "GET {path}: {} {}",
                r.status,
                r.message()
            )));
        }
        Ok(r.json())
    }

    /// A mutation: sent once; on a transient failure `took_effect` is asked before it is sent
    /// again, so nothing is ever done twice.
    fn mutate<T>(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        accept: impl Fn(&Resp) -> Option<Result<T>>,
        took_effect: impl Fn() -> Result<Option<T>>,
    ) -> Result<T> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(backoff(attempt));
                if let Some(done) = took_effect()? {
                    self.ui.info(format!(
                        "GitHub: the earlier {method} {path} had taken effect"
                    ));
                    return Ok(done);
                }
            }
            match self.call(method.clone(), path, Some(body), None) {
                Ok(r) if transient(&r) => last = format!("{} {}", r.status, r.message()),
                Ok(r) => match accept(&r) {
                    Some(result) => return result,
                    None => {
                        return Err(Error::step(format!(
                            "GitHub refused {method} {path}: {} {}",
                            r.status,
                            r.message()
                        )));
                    }
                },
                Err(Failure::Transient(m)) => last = m,
                Err(Failure::Fatal(e)) => return Err(e),
            }
        }
        if let Some(done) = took_effect()? {
            return Ok(done);
        }
        Err(Error::step(format!("GitHub did not accept {method} {path}: {last}"))
            .hint("run the same command again: it checks what already exists before creating anything"))
    }
}

fn short_error(e: &octocrab::Error) -> String {
    let s = e.to_string();
    s.lines().next().unwrap_or("").chars().take(200).collect()
}

fn backoff(attempt: u32) -> Duration {
    // 0.5 s, 1 s, 2 s, … with a little jitter from the clock.
    let base = Duration::from_millis(500) * 2u32.pow(attempt.saturating_sub(1).min(6));
    let jitter = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_millis() as u64 % 100)
        .unwrap_or(0);
    base + Duration::from_millis(jitter)
}

/// How long to wait when an answer is a rate-limit refusal.
fn rate_limit_wait(r: &Resp) -> Option<Duration> {
    if r.status != 403 && r.status != 429 {
        return None;
    }
    if let Some(s) = r
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(s.max(1)));
    }
    if r.header("x-ratelimit-remaining") == Some("0") {
        let reset = r.header("x-ratelimit-reset")?.trim().parse::<u64>().ok()?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        return Some(Duration::from_secs(reset.saturating_sub(now) + 1));
    }
    if r.status == 429 {
        return Some(Duration::from_secs(60));
    }
    None
}

fn pr_from(v: &Value) -> Pr {
    let s = |p: &Value| p.as_str().unwrap_or("").to_string();
    Pr {
        number: v["number"].as_u64().unwrap_or(0),
        url: s(&v["html_url"]),
        state: s(&v["state"]),
        merged: v["merged"].as_bool().unwrap_or(false) || !v["merged_at"].is_null(),
        title: s(&v["title"]),
        author: s(&v["user"]["login"]),
        head_ref: s(&v["head"]["ref"]),
        head_sha: s(&v["head"]["sha"]),
        base_ref: s(&v["base"]["ref"]),
        merge_commit_sha: v["merge_commit_sha"].as_str().map(str::to_string),
    }
}

impl GitHub for Client {
    fn whoami(&self) -> Result<String> {
        Ok(self.read_ok("/user")?["login"]
            .as_str()
            .unwrap_or("")
            .to_string())
    }

    fn find_pr(&self, head: &str, base: &str, any_state: bool) -> Result<Option<Pr>> {
        let state = if any_state { "all" } else { "open" };
        let path = self.repo_path(&format!(
            "/pulls?state={state}&head={}:{}&base={}&per_page=100",
            self.repo.owner,
            enc(head),
            enc(base)
        ));
        let v = self.read_ok(&path)?;
        let mut prs: Vec<Pr> = v
            .as_array()
            .map(|a| a.iter().map(pr_from).collect())
            .unwrap_or_default();
        // Open first, then the newest.
        prs.sort_by_key(|p| (p.state != "open", std::cmp::Reverse(p.number)));
        Ok(prs
            .into_iter()
            .find(|p| p.head_ref == head && p.base_ref == base))
    }

    fn find_pr_for_head(&self, head: &str) -> Result<Option<Pr>> {
        let path = self.repo_path(&format!(
            "/pulls?state=all&head={}:{}&per_page=100",
            self.repo.owner,
            enc(head)
        ));
        let v = self.read_ok(&path)?;
        let mut prs: Vec<Pr> = v
            .as_array()
            .map(|a| a.iter().map(pr_from).collect())
            .unwrap_or_default();
        prs.retain(|p| p.head_ref == head);
        prs.sort_by_key(|p| (p.state != "open", std::cmp::Reverse(p.number)));
        Ok(prs.into_iter().next())
    }

    fn create_pr(&self, title: &str, body: &str, head: &str, base: &str) -> Result<Pr> {
        let payload =
            json!({ "title": title, "body": body, "head": head, "base": base, "draft": false });
        self.mutate(
            Method::POST,
            &self.repo_path("/pulls"),
            &payload,
            |r| match r.status {
                201 => Some(Ok(pr_from(&r.json()))),
                422 if r.message().contains("already exists") => None,
                _ => None,
            },
            || self.find_pr(head, base, false),
        )
        .or_else(|e| match self.find_pr(head, base, false)? {
            Some(pr) => Ok(pr),
            None => Err(e),
        })
    }

    fn get_pr(&self, number: u64, etag: Option<&str>) -> Result<Fetched<Pr>> {
        let r = self.read(&self.repo_path(&format!("/pulls/{number}")), etag)?;
        match r.status {
            304 => Ok(Fetched::NotModified),
            200 => Ok(Fetched::Fresh(
                pr_from(&r.json()),
                r.header("etag").map(str::to_string),
            )),
            s => Err(Error::step(format!(
                "reading PR #{number}: {s} {}",
                r.message()
            ))),
        }
    }

    fn close_pr(&self, number: u64) -> Result<()> {
        self.mutate(
            Method::PATCH,
            &self.repo_path(&format!("/pulls/{number}")),
            &json!({ "state": "closed" }),
            |r| (r.status == 200).then_some(Ok(())),
            || match self.get_pr(number, None)? {
                Fetched::Fresh(pr, _) if pr.state == "closed" => Ok(Some(())),
                _ => Ok(None),
            },
        )
    }

    fn reviews(&self, number: u64) -> Result<Vec<Review>> {
        let v = self.read_ok(&self.repo_path(&format!("/pulls/{number}/reviews?per_page=100")))?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .map(|r| Review {
                        id: r["id"].as_u64().unwrap_or(0),
                        login: r["user"]["login"].as_str().unwrap_or("").to_string(),
                        state: r["state"].as_str().unwrap_or("").to_string(),
                        commit_id: r["commit_id"].as_str().map(str::to_string),
                        submitted_at: r["submitted_at"].as_str().and_then(parse_time),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn pr_commits(&self, number: u64) -> Result<Vec<PrCommit>> {
        let v = self.read_ok(&self.repo_path(&format!("/pulls/{number}/commits?per_page=100")))?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .map(|c| PrCommit {
                        sha: c["sha"].as_str().unwrap_or("").to_string(),
                        author: c["author"]["login"].as_str().map(str::to_string),
                        committer: c["committer"]["login"].as_str().map(str::to_string),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn labels(&self, number: u64) -> Result<Vec<String>> {
        // The PR carries its labels; no second endpoint needed.
        let v = self.read_ok(&self.repo_path(&format!("/pulls/{number}")))?;
        Ok(names(&v["labels"], "name"))
    }

    fn add_labels(&self, number: u64, labels: &[String]) -> Result<()> {
        if labels.is_empty() {
            return Ok(());
        }
        self.mutate(
            Method::POST,
            &self.repo_path(&format!("/issues/{number}/labels")),
            &json!({ "labels": labels }),
            |r| (r.status == 200).then_some(Ok(())),
            || {
                let have = self.labels(number)?;
                Ok(labels.iter().all(|l| have.contains(l)).then_some(()))
            },
        )
    }

    fn requested_reviewers(&self, number: u64) -> Result<(Vec<String>, Vec<String>)> {
        let v = self.read_ok(&self.repo_path(&format!("/pulls/{number}/requested_reviewers")))?;
        Ok((names(&v["users"], "login"), names(&v["teams"], "slug")))
    }

    fn request_reviewers(&self, number: u64, users: &[String], teams: &[String]) -> Result<()> {
        if users.is_empty() && teams.is_empty() {
            return Ok(());
        }
        self.mutate(
            Method::POST,
            &self.repo_path(&format!("/pulls/{number}/requested_reviewers")),
            &json!({ "reviewers": users, "team_reviewers": teams }),
            |r| (r.status == 201).then_some(Ok(())),
            || {
                let (u, t) = self.requested_reviewers(number)?;
                Ok(
                    (users.iter().all(|x| u.contains(x)) && teams.iter().all(|x| t.contains(x)))
                        .then_some(()),
                )
            },
        )
    }

    fn comments(&self, number: u64) -> Result<Vec<Comment>> {
        let v =
            self.read_ok(&self.repo_path(&format!("/issues/{number}/comments?per_page=100")))?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .map(|c| Comment {
                        id: c["id"].as_u64().unwrap_or(0),
                        author: c["user"]["login"].as_str().unwrap_or("").to_string(),
                        body: c["body"].as_str().unwrap_or("").to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn comment(&self, number: u64, body: &str) -> Result<()> {
        self.mutate(
            Method::POST,
            &self.repo_path(&format!("/issues/{number}/comments")),
            &json!({ "body": body }),
            |r| (r.status == 201).then_some(Ok(())),
            || {
                Ok(self
                    .comments(number)?
                    .iter()
                    .any(|c| c.body == body)
                    .then_some(()))
            },
        )
    }

    fn team_members(&self, org: &str, team: &str) -> Result<Vec<String>> {
        let v = self.read_ok(&format!(
            "/orgs/{}/teams/{}/members?per_page=100",
            enc(org),
            enc(team)
        ))?;
        Ok(names(&v, "login"))
    }

    fn checks(&self, sha: &str) -> Result<Vec<(String, CheckState)>> {
        let mut out = Vec::new();
        let st = self.read_ok(&self.repo_path(&format!("/commits/{sha}/status")))?;
        for s in st["statuses"].as_array().into_iter().flatten() {
            let state = match s["state"].as_str() {
                Some("success") => CheckState::Success,
                Some("pending") => CheckState::Pending,
                _ => CheckState::Failure,
            };
            out.push((s["context"].as_str().unwrap_or("").to_string(), state));
        }
        let runs =
            self.read_ok(&self.repo_path(&format!("/commits/{sha}/check-runs?per_page=100")))?;
        for c in runs["check_runs"].as_array().into_iter().flatten() {
            let state = match (c["status"].as_str(), c["conclusion"].as_str()) {
                (Some("completed"), Some("success" | "neutral" | "skipped")) => CheckState::Success,
                (Some("completed"), _) => CheckState::Failure,
                _ => CheckState::Pending,
            };
            out.push((c["name"].as_str().unwrap_or("").to_string(), state));
        }
        Ok(out)
    }

    fn deployments(
        &self,
        environment: &str,
        task: &str,
        sha: Option<&str>,
    ) -> Result<Vec<Deployment>> {
        let mut q = format!(
            "/deployments?environment={}&task={}&per_page=100",
            enc(environment),
            enc(task)
        );
        if let Some(sha) = sha {
            q.push_str(&format!("&sha={sha}"));
        }
        let v = self.read_ok(&self.repo_path(&q))?;
        let mut out: Vec<Deployment> = v
            .as_array()
            .map(|a| a.iter().map(deployment_from).collect())
            .unwrap_or_default();
        out.sort_by_key(|d| std::cmp::Reverse(d.id));
        Ok(out)
    }

    fn deployment_states(&self, id: u64) -> Result<Vec<String>> {
        let v =
            self.read_ok(&self.repo_path(&format!("/deployments/{id}/statuses?per_page=100")))?;
        let mut list: Vec<(u64, String)> = v
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        (
                            s["id"].as_u64().unwrap_or(0),
                            s["state"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        list.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
        Ok(list.into_iter().map(|(_, s)| s).collect())
    }

    fn create_deployment(
        &self,
        sha: &str,
        environment: &str,
        task: &str,
        payload: &Value,
        description: &str,
    ) -> Result<Deployment> {
        let run_id = payload["run_id"].clone();
        let find = || -> Result<Option<Deployment>> {
            Ok(self
                .deployments(environment, task, Some(sha))?
                .into_iter()
                .find(|d| d.payload["run_id"] == run_id))
        };
        if let Some(existing) = find()? {
            return Ok(existing);
        }
        let body = json!({
            "ref": sha,
            "task": task,
            "auto_merge": false,
            "required_contexts": [],
            "payload": payload,
            "environment": environment,
            "description": description.chars().take(140).collect::<String>(),
            "production_environment": environment == "production",
        });
        self.mutate(
            Method::POST,
            &self.repo_path("/deployments"),
            &body,
            |r| (r.status == 201).then(|| Ok(deployment_from(&r.json()))),
            find,
        )
    }

    fn release_for_tag(&self, tag: &str) -> Result<Option<(u64, bool)>> {
        // Drafts are not found by `releases/tags/{tag}`: list them.
        let v = self.read_ok(&self.repo_path("/releases?per_page=100"))?;
        Ok(v.as_array().and_then(|a| {
            a.iter()
                .find(|r| r["tag_name"].as_str() == Some(tag))
                .map(|r| {
                    (
                        r["id"].as_u64().unwrap_or(0),
                        r["draft"].as_bool().unwrap_or(false),
                    )
                })
        }))
    }

    fn create_release(&self, tag: &str, name: &str, body: &str, draft: bool) -> Result<u64> {
        if let Some((id, _)) = self.release_for_tag(tag)? {
            return Ok(id);
        }
        let payload = json!({ "tag_name": tag, "name": name, "body": body, "draft": draft, "prerelease": false });
        self.mutate(
            Method::POST,
            &self.repo_path("/releases"),
            &payload,
            |r| (r.status == 201).then(|| Ok(r.json()["id"].as_u64().unwrap_or(0))),
            || Ok(self.release_for_tag(tag)?.map(|(id, _)| id)),
        )
    }

    fn publish_release(&self, id: u64) -> Result<()> {
        self.mutate(
            Method::PATCH,
            &self.repo_path(&format!("/releases/{id}")),
            &json!({ "draft": false }),
            |r| (r.status == 200).then_some(Ok(())),
            || Ok(None),
        )
    }

    fn set_deployment_state(
        &self,
        id: u64,
        state: &str,
        description: &str,
        environment: &str,
        auto_inactive: bool,
    ) -> Result<()> {
        let body = json!({
            "state": state,
            "description": description.chars().take(140).collect::<String>(),
            "environment": environment,
            "auto_inactive": auto_inactive,
        });
        self.mutate(
            Method::POST,
            &self.repo_path(&format!("/deployments/{id}/statuses")),
            &body,
            |r| (r.status == 201).then_some(Ok(())),
            || {
                Ok(self
                    .deployment_states(id)?
                    .first()
                    .is_some_and(|s| s == state)
                    .then_some(()))
            },
        )
    }

    fn merge(&self, number: u64, sha: &str, method: &str, title: &str) -> Result<MergeOutcome> {
        let body = json!({ "sha": sha, "merge_method": method, "commit_title": title });
        self.mutate(
            Method::PUT,
            &self.repo_path(&format!("/pulls/{number}/merge")),
            &body,
            |r| match r.status {
                200 => Some(Ok(MergeOutcome::Merged {
                    sha: r.json()["sha"].as_str().unwrap_or("").to_string(),
                })),
                409 => Some(Ok(MergeOutcome::HeadMoved(r.message()))),
                405 | 422 => Some(Ok(MergeOutcome::NotMergeable(r.message()))),
                _ => None,
            },
            || match self.get_pr(number, None)? {
                Fetched::Fresh(pr, _) if pr.merged => Ok(Some(MergeOutcome::Merged {
                    sha: pr.merge_commit_sha.unwrap_or_default(),
                })),
                _ => Ok(None),
            },
        )
    }
}

fn deployment_from(v: &Value) -> Deployment {
    Deployment {
        id: v["id"].as_u64().unwrap_or(0),
        sha: v["sha"].as_str().unwrap_or("").to_string(),
        environment: v["environment"].as_str().unwrap_or("").to_string(),
        task: v["task"].as_str().unwrap_or("").to_string(),
        payload: v["payload"].clone(),
        created_at: v["created_at"].as_str().and_then(parse_time),
    }
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x[key].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Percent-encodes a path segment or query value (`/` included, so refs stay one segment).
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
