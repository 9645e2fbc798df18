//! The REST endpoints. Each handler gets the repository (already authorised), its locked state
//! and the parsed request, and returns a status, a JSON body and extra headers.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::git;
use super::json::{self as j, Ctx};
use super::state::*;
use super::util::{now_rfc3339, percent_decode};

pub struct Resp {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
    /// GitHub's description lists 304 for this operation, so a matching `If-None-Match`
    /// may be answered with one.
    pub allow_304: bool,
}

impl Resp {
    pub fn new(status: u16, body: Value) -> Resp {
        Resp {
            status,
            body: Some(body),
            headers: Vec::new(),
            allow_304: false,
        }
    }
    pub fn empty(status: u16) -> Resp {
        Resp {
            status,
            body: None,
            headers: Vec::new(),
            allow_304: false,
        }
    }
    fn cacheable(mut self) -> Resp {
        self.allow_304 = true;
        self
    }
    fn header(mut self, k: &str, v: String) -> Resp {
        self.headers.push((k.to_string(), v));
        self
    }
}

pub fn not_found() -> Resp {
    Resp::new(404, j::basic_error("Not Found", 404))
}

fn message(status: u16, msg: &str) -> Resp {
    Resp::new(status, j::basic_error(msg, status))
}

fn invalid(errors: Value) -> Resp {
    Resp::new(422, j::validation_failed(errors))
}

pub struct Req<'a> {
    pub method: &'a str,
    /// Path segments after `/repos/{owner}/{repo}` (or the whole path for other routes),
    /// each percent-decoded.
    pub rest: &'a [String],
    pub query: &'a BTreeMap<String, String>,
    pub body: &'a Value,
    /// The authenticated login.
    pub user: &'a str,
}

pub fn next_id() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static ID: AtomicI64 = AtomicI64::new(1000);
    ID.fetch_add(1, Ordering::Relaxed)
}

/// Brings every open PR up to date with its head branch in the bare repository: a moved head
/// bumps `updated_at`; a deleted head branch closes the PR, as on GitHub.
pub fn refresh(h: &RepoHandle, st: &mut RepoState) -> BTreeMap<String, String> {
    let branches: BTreeMap<String, String> = git::branches(&h.bare).into_iter().collect();
    let now = now_rfc3339();
    for pr in st.prs.iter_mut().filter(|p| p.state == "open") {
        match branches.get(&pr.head) {
            Some(sha) if *sha != pr.head_sha => {
                pr.head_sha = sha.clone();
                pr.updated_at = now.clone();
            }
            Some(_) => {}
            None => {
                pr.state = "closed".into();
                pr.closed_at = Some(now.clone());
                pr.updated_at = now.clone();
            }
        }
    }
    branches
}

fn pair_info(h: &RepoHandle, st: &mut RepoState, base: &str, head: &str) -> PairInfo {
    let key = (base.to_string(), head.to_string());
    if let Some(i) = st.pair_cache.get(&key) {
        return i.clone();
    }
    let conflict = git::merge_tree(&h.bare, None, base, head).is_none();
    let commits = git::git(
        &h.bare,
        &["rev-list", "--count", &format!("{base}..{head}")],
    )
    .stdout
    .trim()
    .parse()
    .unwrap_or(0);
    let (additions, deletions, changed_files) = git::diffstat(&h.bare, base, head);
    let i = PairInfo {
        conflict,
        commits,
        additions,
        deletions,
        changed_files,
    };
    st.pair_cache.insert(key, i.clone());
    i
}

fn computed(
    h: &RepoHandle,
    st: &mut RepoState,
    idx: usize,
    branches: &BTreeMap<String, String>,
) -> j::PrComputed {
    let pr = &st.prs[idx];
    let head_sha = pr.head_sha.clone();
    let base_sha = pr
        .base_sha_at_merge
        .clone()
        .or_else(|| branches.get(&pr.base).cloned())
        .unwrap_or_default();
    let open = pr.state == "open";
    let info = (open && !base_sha.is_empty()).then(|| pair_info(h, st, &base_sha, &head_sha));
    j::PrComputed {
        head_sha,
        base_sha,
        info,
    }
}

fn pr_json(
    c: &Ctx,
    st: &mut RepoState,
    idx: usize,
    branches: &BTreeMap<String, String>,
    full: bool,
) -> Value {
    let k = computed(c.h, st, idx, branches);
    j::pull(c, st, &st.prs[idx], &k, full)
}

fn find_pr(st: &RepoState, n: &str) -> Option<usize> {
    let n: u64 = n.parse().ok()?;
    st.prs.iter().position(|p| p.number == n)
}

pub fn ensure_user(st: &mut RepoState, login: &str) {
    if !st.users.contains_key(login) {
        st.users.insert(
            login.to_string(),
            User {
                id: next_id(),
                login: login.to_string(),
                email: None,
            },
        );
    }
}

fn str_field<'a>(body: &'a Value, k: &str) -> Option<&'a str> {
    body.get(k).and_then(Value::as_str)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| {
                x.as_str()
                    .map(String::from)
                    .or_else(|| x.get("name").and_then(Value::as_str).map(String::from))
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Routes that are not under `/repos/{owner}/{repo}`.
pub fn route_global(c: &Ctx, st: &mut RepoState, r: &Req) -> Resp {
    let segs: Vec<&str> = r.rest.iter().map(String::as_str).collect();
    match (r.method, segs.as_slice()) {
        ("GET", ["user"]) => {
            let u = st.users[r.user].clone();
            Resp::new(200, j::public_user(c, &u, &c.h.created_at)).cacheable()
        }
        ("GET", ["rate_limit"]) => {
            Resp::new(200, j::rate_limit(5000, st.rate_used, st.rate_reset)).cacheable()
        }
        ("GET", ["orgs", org, "teams", slug, "members"])
            if org.eq_ignore_ascii_case(&c.h.owner) =>
        {
            match st.teams.get(*slug) {
                Some((_, members)) => {
                    let v: Vec<Value> =
                        members.iter().map(|l| j::user_by_login(c, st, l)).collect();
                    Resp::new(200, json!(v))
                }
                None => not_found(),
            }
        }
        _ => not_found(),
    }
}

/// Routes under `/repos/{owner}/{repo}/…` (`r.rest` is what follows).
pub fn route_repo(c: &Ctx, st: &mut RepoState, r: &Req) -> Resp {
    let branches = refresh(c.h, st);
    let segs: Vec<&str> = r.rest.iter().map(String::as_str).collect();
    let now = now_rfc3339();
    match (r.method, segs.as_slice()) {
        ("GET", []) => Resp::new(200, j::full_repository(c)),

        // ---- pull requests
        ("GET", ["pulls"]) => {
            let state = r.query.get("state").map(String::as_str).unwrap_or("open");
            let head = r.query.get("head").map(|h| match h.split_once(':') {
                Some((o, b)) if o.eq_ignore_ascii_case(&c.h.owner) => Some(b.to_string()),
                Some(_) => None,
                None => Some(h.clone()),
            });
            let base = r.query.get("base");
            let mut idx: Vec<usize> = (0..st.prs.len())
                .filter(|&i| {
                    let p = &st.prs[i];
                    (state == "all" || p.state == state)
                        && head.as_ref().is_none_or(|h| h.as_deref() == Some(&p.head))
                        && base.is_none_or(|b| *b == p.base)
                })
                .collect();
            let asc = r.query.get("direction").map(String::as_str) == Some("asc");
            if !asc {
                idx.reverse();
            }
            let v: Vec<Value> = idx
                .into_iter()
                .map(|i| pr_json(c, st, i, &branches, false))
                .collect();
            Resp::new(200, json!(v)).cacheable()
        }
        ("POST", ["pulls"]) => create_pull(c, st, r, &branches, &now),
        ("GET", ["pulls", n]) => match find_pr(st, n) {
            Some(i) => Resp::new(200, pr_json(c, st, i, &branches, true)).cacheable(),
            None => not_found(),
        },
        ("PATCH", ["pulls", n]) => {
            let Some(i) = find_pr(st, n) else {
                return not_found();
            };
            if let Some(t) = str_field(r.body, "title") {
                st.prs[i].title = t.to_string();
            }
            if let Some(b) = r.body.get("body") {
                st.prs[i].body = b.as_str().map(String::from);
            }
            if let Some(b) = str_field(r.body, "base") {
                if !branches.contains_key(b) {
                    return invalid(
                        json!([{"resource": "PullRequest", "field": "base", "code": "invalid"}]),
                    );
                }
                st.prs[i].base = b.to_string();
            }
            match str_field(r.body, "state") {
                Some("closed") if st.prs[i].state == "open" => {
                    st.prs[i].state = "closed".into();
                    st.prs[i].closed_at = Some(now.clone());
                }
                Some("open") if st.prs[i].state == "closed" => {
                    let pr = &st.prs[i];
                    if pr.merged_at.is_some() {
                        return invalid(
                            json!([{"resource": "PullRequest", "code": "custom", "message": "state cannot be changed. The pull request has already been merged."}]),
                        );
                    }
                    let Some(sha) = branches.get(&pr.head).cloned() else {
                        return invalid(
                            json!([{"resource": "PullRequest", "code": "custom", "message": "state cannot be changed. The head branch was deleted."}]),
                        );
                    };
                    let pr = &mut st.prs[i];
                    pr.state = "open".into();
                    pr.closed_at = None;
                    pr.head_sha = sha;
                }
                _ => {}
            }
            st.prs[i].updated_at = now.clone();
            Resp::new(200, pr_json(c, st, i, &branches, true))
        }
        ("GET", ["pulls", n, "reviews"]) => {
            let Some(i) = find_pr(st, n) else {
                return not_found();
            };
            let pr = &st.prs[i];
            let v: Vec<Value> = pr
                .reviews
                .iter()
                .filter(|rv| rv.state != "PENDING" || rv.login == r.user)
                .map(|rv| j::review(c, st, pr, rv))
                .collect();
            Resp::new(200, json!(v))
        }
        ("GET", ["pulls", n, "commits"]) => {
            let Some(i) = find_pr(st, n) else {
                return not_found();
            };
            let k = computed(c.h, st, i, &branches);
            let list = if k.base_sha.is_empty() {
                Vec::new()
            } else {
                git::log(&c.h.bare, &[&format!("{}..{}", k.base_sha, k.head_sha)])
            };
            let v: Vec<Value> = list.iter().map(|ci| j::commit(c, st, ci)).collect();
            Resp::new(200, json!(v))
        }
        ("PUT", ["pulls", n, "merge"]) => {
            let Some(i) = find_pr(st, n) else {
                return not_found();
            };
            merge(c, st, r, i, &branches, &now)
        }
        ("GET", ["pulls", n, "requested_reviewers"]) => {
            let Some(i) = find_pr(st, n) else {
                return not_found();
            };
            let pr = &st.prs[i];
            let users: Vec<Value> = pr
                .requested_reviewers
                .iter()
                .map(|l| j::user_by_login(c, st, l))
                .collect();
            let teams: Vec<Value> = pr
                .requested_teams
                .iter()
                .filter_map(|t| st.teams.get(t).map(|(id, _)| j::team(c, t, *id)))
                .collect();
            Resp::new(200, json!({"users": users, "teams": teams}))
        }
        ("POST", ["pulls", n, "requested_reviewers"]) => {
            let Some(i) = find_pr(st, n) else {
                return not_found();
            };
            let users = strings(r.body.get("reviewers"));
            let teams = strings(r.body.get("team_reviewers"));
            if users.iter().any(|u| *u == st.prs[i].author) {
                return message(422, "Review cannot be requested from pull request author.");
            }
            if users.iter().any(|u| !st.users.contains_key(u))
                || teams.iter().any(|t| !st.teams.contains_key(t))
            {
                return message(
                    422,
                    &format!(
                        "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the {} repository.",
                        c.h.full_name()
                    ),
                );
            }
            let pr = &mut st.prs[i];
            for u in users {
                if !pr.requested_reviewers.contains(&u) {
                    pr.requested_reviewers.push(u);
                }
            }
            for t in teams {
                if !pr.requested_teams.contains(&t) {
                    pr.requested_teams.push(t);
                }
            }
            pr.updated_at = now.clone();
            Resp::new(201, pr_json(c, st, i, &branches, false))
        }

        // ---- issues (pull requests are issues)
        ("POST", ["issues", n, "labels"]) => {
            let Some(i) = find_pr(st, n) else {
                return not_found();
            };
            let names = if r.body.is_array() {
                strings(Some(r.body))
            } else {
                strings(r.body.get("labels"))
            };
            for name in names {
                if !st.labels.contains_key(&name) {
                    st.labels.insert(
                        name.clone(),
                        Label {
                            id: next_id(),
                            name: name.clone(),
                            color: "ededed".into(),
                        },
                    );
                }
                let pr = &mut st.prs[i];
                if !pr.labels.contains(&name) {
                    pr.labels.push(name);
                    pr.updated_at = now.clone();
                }
            }
            let v: Vec<Value> = st.prs[i]
                .labels
                .iter()
                .filter_map(|l| st.labels.get(l))
                .map(|l| j::label(c, l))
                .collect();
            Resp::new(200, json!(v))
        }
        ("GET", ["issues", n, "comments"]) => {
            let Some(i) = find_pr(st, n) else {
                return not_found();
            };
            let pr = &st.prs[i];
            let v: Vec<Value> = pr
                .comments
                .iter()
                .map(|cm| j::comment(c, st, pr.number, cm))
                .collect();
            Resp::new(200, json!(v))
        }
        ("POST", ["issues", n, "comments"]) => {
            let Some(i) = find_pr(st, n) else {
                return not_found();
            };
            let Some(body) = str_field(r.body, "body") else {
                return invalid(
                    json!([{"resource": "IssueComment", "field": "body", "code": "missing_field"}]),
                );
            };
            let cm = Comment {
                id: next_id(),
                login: r.user.to_string(),
                body: body.to_string(),
                created_at: now.clone(),
                updated_at: now.clone(),
            };
            let pr = &mut st.prs[i];
            pr.comments.push(cm.clone());
            pr.updated_at = now.clone();
            let number = pr.number;
            let url = format!("{}/issues/comments/{}", c.repo_url(), cm.id);
            Resp::new(201, j::comment(c, st, number, &cm)).header("location", url)
        }

        // ---- commit statuses and checks
        ("GET", ["commits", rf @ .., "status"]) if !rf.is_empty() => {
            let Some(sha) = git::resolve(&c.h.bare, &rf.join("/")) else {
                return not_found();
            };
            let mut latest: Vec<&Status> = Vec::new();
            for s in st.statuses.iter().filter(|s| s.sha == sha) {
                match latest.iter_mut().find(|l| l.context == s.context) {
                    Some(l) => *l = s,
                    None => latest.push(s),
                }
            }
            Resp::new(200, j::combined_status(c, &sha, &latest))
        }
        ("GET", ["commits", rf @ .., "check-runs"]) if !rf.is_empty() => {
            let Some(sha) = git::resolve(&c.h.bare, &rf.join("/")) else {
                return not_found();
            };
            let all = r.query.get("filter").map(String::as_str) == Some("all");
            let mut runs: Vec<&CheckRun> = Vec::new();
            for cr in st.check_runs.iter().rev().filter(|x| x.sha == sha) {
                if r.query.get("check_name").is_some_and(|n| *n != cr.name)
                    || r.query.get("status").is_some_and(|s| *s != cr.status)
                {
                    continue;
                }
                if all || !runs.iter().any(|x| x.name == cr.name) {
                    runs.push(cr);
                }
            }
            let v: Vec<Value> = runs.iter().map(|cr| j::check_run(c, cr)).collect();
            Resp::new(200, json!({"total_count": v.len(), "check_runs": v}))
        }

        // ---- deployments
        ("POST", ["deployments"]) => create_deployment(c, st, r, &now),
        ("GET", ["deployments"]) => {
            let q = |k: &str| r.query.get(k).filter(|v| !v.is_empty());
            let v: Vec<Value> = st
                .deployments
                .iter()
                .rev()
                .filter(|d| {
                    q("sha").is_none_or(|x| *x == d.sha)
                        && q("ref").is_none_or(|x| *x == d.git_ref)
                        && q("task").is_none_or(|x| *x == d.task)
                        && q("environment").is_none_or(|x| *x == d.environment)
                })
                .map(|d| j::deployment(c, st, d))
                .collect();
            Resp::new(200, json!(v))
        }
        ("GET", ["deployments", id]) => {
            match st.deployments.iter().find(|d| d.id.to_string() == *id) {
                Some(d) => Resp::new(200, j::deployment(c, st, d)),
                None => not_found(),
            }
        }
        ("POST", ["deployments", id, "statuses"]) => create_deployment_status(c, st, r, id, &now),
        ("GET", ["deployments", id, "statuses"]) => {
            match st.deployments.iter().find(|d| d.id.to_string() == *id) {
                Some(d) => {
                    let v: Vec<Value> = d
                        .statuses
                        .iter()
                        .rev()
                        .map(|s| j::deployment_status(c, st, d, s))
                        .collect();
                    Resp::new(200, json!(v))
                }
                None => not_found(),
            }
        }

        // ---- releases
        ("GET", ["releases"]) => {
            let v: Vec<Value> = st
                .releases
                .iter()
                .rev()
                .map(|x| j::release(c, st, x))
                .collect();
            Resp::new(200, json!(v))
        }
        ("POST", ["releases"]) => create_release(c, st, r, &now),
        ("GET", ["releases", "tags", tag @ ..]) if !tag.is_empty() => {
            let tag = tag.join("/");
            match st.releases.iter().find(|x| x.tag_name == tag && !x.draft) {
                Some(x) => Resp::new(200, j::release(c, st, x)),
                None => not_found(),
            }
        }
        ("GET", ["releases", id]) => match st.releases.iter().find(|x| x.id.to_string() == *id) {
            Some(x) => Resp::new(200, j::release(c, st, x)),
            None => not_found(),
        },
        ("PATCH", ["releases", id]) => update_release(c, st, r, id, &now),

        // ---- refs
        ("DELETE", ["git", "refs", rf @ ..]) if !rf.is_empty() => {
            let rf = rf.join("/");
            let full = if rf.starts_with("refs/") {
                rf
            } else {
                format!("refs/{rf}")
            };
            if git::delete_ref(&c.h.bare, &full) {
                refresh(c.h, st);
                Resp::empty(204)
            } else {
                message(422, "Reference does not exist")
            }
        }

        _ => not_found(),
    }
}

fn create_pull(
    c: &Ctx,
    st: &mut RepoState,
    r: &Req,
    branches: &BTreeMap<String, String>,
    now: &str,
) -> Resp {
    let Some(title) = str_field(r.body, "title") else {
        return invalid(
            json!([{"resource": "PullRequest", "field": "title", "code": "missing_field"}]),
        );
    };
    let head_arg = str_field(r.body, "head").unwrap_or_default();
    let head = match head_arg.split_once(':') {
        Some((o, b)) if o.eq_ignore_ascii_case(&c.h.owner) => b,
        Some(_) => "",
        None => head_arg,
    };
    let base = str_field(r.body, "base").unwrap_or_default();
    let Some(head_sha) = branches.get(head).cloned() else {
        return invalid(json!([{"resource": "PullRequest", "field": "head", "code": "invalid"}]));
    };
    let Some(base_sha) = branches.get(base).cloned() else {
        return invalid(json!([{"resource": "PullRequest", "field": "base", "code": "invalid"}]));
    };
    if st
        .prs
        .iter()
        .any(|p| p.state == "open" && p.head == head && p.base == base)
    {
        return invalid(json!([{"resource": "PullRequest", "code": "custom",
            "message": format!("A pull request already exists for {}:{head}.", c.h.owner)}]));
    }
    if git::is_ancestor(&c.h.bare, &head_sha, &base_sha) {
        return invalid(json!([{"resource": "PullRequest", "code": "custom",
            "message": format!("No commits between {base} and {head}")}]));
    }
    let number = st.next_number;
    st.next_number += 1;
    st.prs.push(Pr {
        number,
        id: next_id(),
        title: title.to_string(),
        body: str_field(r.body, "body").map(String::from),
        head: head.to_string(),
        base: base.to_string(),
        draft: r
            .body
            .get("draft")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        state: "open".into(),
        author: r.user.to_string(),
        created_at: now.to_string(),
        updated_at: now.to_string(),
        closed_at: None,
        merged_at: None,
        merge_commit_sha: None,
        merged_by: None,
        head_sha,
        base_sha_at_merge: None,
        labels: Vec::new(),
        requested_reviewers: Vec::new(),
        requested_teams: Vec::new(),
        reviews: Vec::new(),
        comments: Vec::new(),
        blocked: None,
    });
    let i = st.prs.len() - 1;
    let url = format!("{}/pulls/{number}", c.repo_url());
    Resp::new(201, pr_json(c, st, i, branches, true)).header("location", url)
}

fn merge(
    c: &Ctx,
    st: &mut RepoState,
    r: &Req,
    i: usize,
    branches: &BTreeMap<String, String>,
    now: &str,
) -> Resp {
    let bare = &c.h.bare;
    let pr = st.prs[i].clone();
    if pr.state != "open" {
        return message(405, "Pull Request is not mergeable");
    }
    if str_field(r.body, "sha").is_some_and(|sha| sha != pr.head_sha) {
        return message(
            409,
            "Head branch was modified. Review and try the merge again.",
        );
    }
    if let Some(reason) = &pr.blocked {
        return message(405, reason);
    }
    if pr.draft {
        return message(405, "Pull Request is still a draft");
    }
    let method = str_field(r.body, "merge_method").unwrap_or("merge");
    let Some(base_sha) = branches.get(&pr.base).cloned() else {
        return message(405, "Base branch does not exist");
    };
    let merger = st.users[r.user].clone();
    let merger_email = merger
        .email
        .clone()
        .unwrap_or_else(|| format!("{}+{}@users.noreply.github.com", merger.id, merger.login));
    let author = git::Ident {
        name: &merger.login,
        email: &merger_email,
        date: git::PINNED_DATE,
    };
    let full_message = |default_title: String, default_body: String| {
        let t = str_field(r.body, "commit_title")
            .map(String::from)
            .unwrap_or(default_title);
        let b = str_field(r.body, "commit_message")
            .map(String::from)
            .unwrap_or(default_body);
        if b.is_empty() {
            t
        } else {
            format!("{t}\n\n{b}")
        }
    };
    let range = format!("{base_sha}..{}", pr.head_sha);
    let new_sha = match method {
        "merge" => {
            let Some(tree) = git::merge_tree(bare, None, &base_sha, &pr.head_sha) else {
                return message(405, "Pull Request is not mergeable");
            };
            let msg = full_message(
                format!(
                    "Merge pull request #{} from {}/{}",
                    pr.number, c.h.owner, pr.head
                ),
                pr.title.clone(),
            );
            git::commit_tree(
                bare,
                &tree,
                &[&base_sha, &pr.head_sha],
                &msg,
                &author,
                &git::GITHUB,
            )
        }
        "squash" => {
            let Some(tree) = git::merge_tree(bare, None, &base_sha, &pr.head_sha) else {
                return message(405, "Pull Request is not mergeable");
            };
            let list = git::log(bare, &[&range]);
            let body = list
                .iter()
                .map(|ci| format!("* {}", ci.message))
                .collect::<Vec<_>>()
                .join("\n\n");
            let msg = full_message(format!("{} (#{})", pr.title, pr.number), body);
            let pr_author = st.users.get(&pr.author).cloned().unwrap_or(merger.clone());
            let email = pr_author.email.clone().unwrap_or_else(|| {
                format!(
                    "{}+{}@users.noreply.github.com",
                    pr_author.id, pr_author.login
                )
            });
            let a = git::Ident {
                name: &pr_author.login,
                email: &email,
                date: git::PINNED_DATE,
            };
            git::commit_tree(bare, &tree, &[&base_sha], &msg, &a, &git::GITHUB)
        }
        "rebase" => {
            let mut tip = base_sha.clone();
            for ci in git::log(bare, &["--no-merges", &range]) {
                let parent = ci.parents.first().cloned().unwrap_or_default();
                let Some(tree) = git::merge_tree(bare, Some(&parent), &tip, &ci.sha) else {
                    return message(405, "This branch can't be rebased");
                };
                let a = git::Ident {
                    name: &ci.author_name,
                    email: &ci.author_email,
                    date: &ci.author_date,
                };
                tip = git::commit_tree(bare, &tree, &[&tip], &ci.message, &a, &git::GITHUB);
            }
            tip
        }
        _ => {
            return invalid(
                json!([{"resource": "PullRequest", "field": "merge_method", "code": "invalid"}]),
            );
        }
    };
    if !git::update_ref(
        bare,
        &format!("refs/heads/{}", pr.base),
        &new_sha,
        &base_sha,
    ) {
        return message(
            409,
            "Base branch was modified. Review and try the merge again.",
        );
    }
    let p = &mut st.prs[i];
    p.state = "closed".into();
    p.merged_at = Some(now.to_string());
    p.closed_at = Some(now.to_string());
    p.updated_at = now.to_string();
    p.merge_commit_sha = Some(new_sha.clone());
    p.merged_by = Some(r.user.to_string());
    p.base_sha_at_merge = Some(base_sha);
    Resp::new(
        200,
        json!({"sha": new_sha, "merged": true, "message": "Pull Request successfully merged"}),
    )
}

fn statuses_green(st: &RepoState, sha: &str, required: Option<&[String]>) -> Vec<String> {
    let mut latest: Vec<(&str, &str)> = Vec::new();
    for s in st.statuses.iter().filter(|s| s.sha == sha) {
        match latest.iter_mut().find(|(c, _)| *c == s.context) {
            Some(l) => l.1 = &s.state,
            None => latest.push((&s.context, &s.state)),
        }
    }
    match required {
        None => latest
            .iter()
            .filter(|(_, s)| *s != "success")
            .map(|(c, _)| c.to_string())
            .collect(),
        Some(req) => req
            .iter()
            .filter(|c| !latest.iter().any(|(lc, ls)| lc == c && *ls == "success"))
            .cloned()
            .collect(),
    }
}

fn create_deployment(c: &Ctx, st: &mut RepoState, r: &Req, now: &str) -> Resp {
    let Some(git_ref) = str_field(r.body, "ref") else {
        return invalid(
            json!([{"resource": "Deployment", "field": "ref", "code": "missing_field"}]),
        );
    };
    let Some(sha) = git::resolve(&c.h.bare, git_ref) else {
        return Resp::new(
            422,
            json!({"message": format!("No ref found for: {git_ref}"), "documentation_url": j::DOCS}),
        );
    };
    let required = r.body.get("required_contexts").map(|v| strings(Some(v)));
    let failing = statuses_green(st, &sha, required.as_deref());
    if !failing.is_empty() {
        return Resp::new(
            409,
            json!({"message": format!("Conflict: Commit status checks failed for {git_ref}."),
                   "errors": failing.iter().map(|c| json!({"contexts": [{"context": c, "state": "pending"}]})).collect::<Vec<_>>(),
                   "documentation_url": j::DOCS}),
        );
    }
    let environment = str_field(r.body, "environment")
        .unwrap_or("production")
        .to_string();
    let payload = match r.body.get("payload") {
        None | Some(Value::Null) => json!({}),
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(json!(s)),
        Some(v) => v.clone(),
    };
    let d = Deployment {
        id: next_id(),
        sha,
        git_ref: git_ref.to_string(),
        task: str_field(r.body, "task").unwrap_or("deploy").to_string(),
        original_environment: environment.clone(),
        production: r
            .body
            .get("production_environment")
            .and_then(Value::as_bool)
            .unwrap_or(environment == "production"),
        environment,
        description: Some(str_field(r.body, "description").unwrap_or("").to_string()),
        payload,
        auto_merge: r
            .body
            .get("auto_merge")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        required_contexts: required,
        transient: r
            .body
            .get("transient_environment")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        creator: r.user.to_string(),
        created_at: now.to_string(),
        updated_at: now.to_string(),
        statuses: Vec::new(),
    };
    let v = j::deployment(c, st, &d);
    let engine = st.engine.get(&d.task).cloned();
    let environment = d.environment.clone();
    st.deployments.push(d);
    if let Some(state) = engine
        && let Some(dep) = st.deployments.last_mut()
    {
        dep.statuses.push(DeploymentStatus {
            id: next_id(),
            state,
            description: "deployment engine".into(),
            environment,
            environment_url: String::new(),
            log_url: String::new(),
            creator: dep.creator.clone(),
            created_at: now.to_string(),
        });
    }
    Resp::new(201, v)
}

fn create_deployment_status(c: &Ctx, st: &mut RepoState, r: &Req, id: &str, now: &str) -> Resp {
    let Some(di) = st.deployments.iter().position(|d| d.id.to_string() == id) else {
        return not_found();
    };
    const STATES: [&str; 7] = [
        "error",
        "failure",
        "inactive",
        "in_progress",
        "queued",
        "pending",
        "success",
    ];
    let state = str_field(r.body, "state").unwrap_or_default();
    if !STATES.contains(&state) {
        return invalid(
            json!([{"resource": "DeploymentStatus", "field": "state", "code": "invalid"}]),
        );
    }
    let url = |k: &str| str_field(r.body, k).unwrap_or("").to_string();
    let log_url = if r.body.get("log_url").is_some() {
        url("log_url")
    } else {
        url("target_url")
    };
    if let Some(env) = str_field(r.body, "environment") {
        st.deployments[di].environment = env.to_string();
    }
    let d = &mut st.deployments[di];
    let s = DeploymentStatus {
        id: next_id(),
        state: state.to_string(),
        description: url("description"),
        environment: d.environment.clone(),
        environment_url: url("environment_url"),
        log_url,
        creator: r.user.to_string(),
        created_at: now.to_string(),
    };
    d.statuses.push(s.clone());
    d.updated_at = now.to_string();
    let auto_inactive = r
        .body
        .get("auto_inactive")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if state == "success" && auto_inactive {
        // GitHub: prior non-transient, non-production deployments of the same environment
        // whose latest status is success become inactive.
        let env = st.deployments[di].environment.clone();
        let me = st.deployments[di].id;
        for d2 in st.deployments.iter_mut() {
            if d2.id != me
                && d2.id < me
                && d2.environment == env
                && !d2.transient
                && !d2.production
                && d2.statuses.last().is_some_and(|s| s.state == "success")
            {
                d2.statuses.push(DeploymentStatus {
                    id: next_id(),
                    state: "inactive".into(),
                    description: String::new(),
                    environment: env.clone(),
                    environment_url: String::new(),
                    log_url: String::new(),
                    creator: r.user.to_string(),
                    created_at: now.to_string(),
                });
                d2.updated_at = now.to_string();
            }
        }
    }
    let d = &st.deployments[di];
    Resp::new(201, j::deployment_status(c, st, d, &s))
}

fn publish_tag(c: &Ctx, rel: &Release) -> Result<(), Resp> {
    let refname = format!("refs/tags/{}", rel.tag_name);
    if git::ref_exists(&c.h.bare, &refname) {
        return Ok(());
    }
    let Some(sha) = git::resolve(&c.h.bare, &rel.target_commitish) else {
        return Err(invalid(
            json!([{"resource": "Release", "field": "target_commitish", "code": "invalid"}]),
        ));
    };
    git::create_ref(&c.h.bare, &refname, &sha);
    Ok(())
}

fn create_release(c: &Ctx, st: &mut RepoState, r: &Req, now: &str) -> Resp {
    let Some(tag) = str_field(r.body, "tag_name") else {
        return invalid(
            json!([{"resource": "Release", "field": "tag_name", "code": "missing_field"}]),
        );
    };
    let draft = r
        .body
        .get("draft")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !draft && st.releases.iter().any(|x| x.tag_name == tag && !x.draft) {
        return invalid(
            json!([{"resource": "Release", "field": "tag_name", "code": "already_exists"}]),
        );
    }
    let rel = Release {
        id: next_id(),
        tag_name: tag.to_string(),
        target_commitish: str_field(r.body, "target_commitish")
            .unwrap_or("main")
            .to_string(),
        name: str_field(r.body, "name").map(String::from),
        body: str_field(r.body, "body").map(String::from),
        draft,
        prerelease: r
            .body
            .get("prerelease")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        author: r.user.to_string(),
        created_at: now.to_string(),
        published_at: (!draft).then(|| now.to_string()),
    };
    if let Err(e) = if draft { Ok(()) } else { publish_tag(c, &rel) } {
        return e;
    }
    let v = j::release(c, st, &rel);
    let url = format!("{}/releases/{}", c.repo_url(), rel.id);
    st.releases.push(rel);
    Resp::new(201, v).header("location", url)
}

fn update_release(c: &Ctx, st: &mut RepoState, r: &Req, id: &str, now: &str) -> Resp {
    let Some(i) = st.releases.iter().position(|x| x.id.to_string() == id) else {
        return not_found();
    };
    let mut rel = st.releases[i].clone();
    if let Some(t) = str_field(r.body, "tag_name") {
        rel.tag_name = t.to_string();
    }
    if let Some(t) = str_field(r.body, "target_commitish") {
        rel.target_commitish = t.to_string();
    }
    if let Some(v) = r.body.get("name") {
        rel.name = v.as_str().map(String::from);
    }
    if let Some(v) = r.body.get("body") {
        rel.body = v.as_str().map(String::from);
    }
    if let Some(p) = r.body.get("prerelease").and_then(Value::as_bool) {
        rel.prerelease = p;
    }
    if let Some(d) = r.body.get("draft").and_then(Value::as_bool) {
        if rel.draft && !d {
            if st
                .releases
                .iter()
                .any(|x| x.id != rel.id && x.tag_name == rel.tag_name && !x.draft)
            {
                return invalid(
                    json!([{"resource": "Release", "field": "tag_name", "code": "already_exists"}]),
                );
            }
            if let Err(e) = publish_tag(c, &rel) {
                return e;
            }
            rel.published_at = Some(now.to_string());
        }
        rel.draft = d;
    }
    st.releases[i] = rel;
    Resp::new(200, j::release(c, st, &st.releases[i]))
}

/// Path segments, each percent-decoded (so `heads%2Fx` stays one segment).
pub fn segments(path: &str) -> Vec<String> {
    path.trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect()
}
