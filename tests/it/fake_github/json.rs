//! Response bodies shaped like GitHub's, with every property GitHub's OpenAPI description
//! marks as required (checked through Prism).

use serde_json::{Value, json};

use super::state::*;
use super::util::node_id;

pub const DOCS: &str = "https://docs.github.com/rest";

/// The pieces every URL is made of.
pub struct Ctx<'a> {
    pub api: &'a str,
    pub h: &'a RepoHandle,
}

impl Ctx<'_> {
    pub fn repo_url(&self) -> String {
        format!("{}/repos/{}", self.api, self.h.full_name())
    }
    pub fn html(&self) -> String {
        format!("https://github.com/{}", self.h.full_name())
    }
}

pub fn basic_error(message: &str, status: u16) -> Value {
    json!({"message": message, "documentation_url": DOCS, "status": status.to_string()})
}

pub fn validation_failed(errors: Value) -> Value {
    json!({"message": "Validation Failed", "errors": errors, "documentation_url": DOCS, "status": "422"})
}

fn user_fields(api: &str, id: i64, login: &str, kind: &str) -> Value {
    let u = format!("{api}/users/{login}");
    json!({
        "login": login,
        "id": id,
        "node_id": node_id(if kind == "Organization" { "O" } else { "U" }, id),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": u,
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{u}/followers"),
        "following_url": format!("{u}/following{{/other_user}}"),
        "gists_url": format!("{u}/gists{{/gist_id}}"),
        "starred_url": format!("{u}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{u}/subscriptions"),
        "organizations_url": format!("{u}/orgs"),
        "repos_url": format!("{u}/repos"),
        "events_url": format!("{u}/events{{/privacy}}"),
        "received_events_url": format!("{u}/received_events"),
        "type": kind,
        "user_view_type": "public",
        "site_admin": false
    })
}

/// `simple-user`.
pub fn user(c: &Ctx, u: &User) -> Value {
    user_fields(c.api, u.id, &u.login, "User")
}

/// `simple-user` for a login, `null` when unknown.
pub fn user_by_login(c: &Ctx, st: &RepoState, login: &str) -> Value {
    st.users
        .get(login)
        .map(|u| user(c, u))
        .unwrap_or(Value::Null)
}

/// `public-user` (GET /user).
pub fn public_user(c: &Ctx, u: &User, created_at: &str) -> Value {
    let mut v = user(c, u);
    let m = v.as_object_mut().unwrap();
    for (k, x) in [
        ("name", json!(u.login)),
        ("company", Value::Null),
        ("blog", json!("")),
        ("location", Value::Null),
        ("email", json!(u.email)),
        ("hireable", Value::Null),
        ("bio", Value::Null),
        ("public_repos", json!(1)),
        ("public_gists", json!(0)),
        ("followers", json!(0)),
        ("following", json!(0)),
        ("created_at", json!(created_at)),
        ("updated_at", json!(created_at)),
    ] {
        m.insert(k.into(), x);
    }
    v
}

pub fn owner(c: &Ctx) -> Value {
    user_fields(c.api, c.h.id + 1, &c.h.owner, "Organization")
}

/// `minimal-repository`.
pub fn minimal_repository(c: &Ctx) -> Value {
    let r = c.repo_url();
    let mut v = json!({
        "id": c.h.id,
        "node_id": node_id("R", c.h.id),
        "name": c.h.name,
        "full_name": c.h.full_name(),
        "owner": owner(c),
        "private": true,
        "html_url": c.html(),
        "description": Value::Null,
        "fork": false,
        "url": r,
    });
    let m = v.as_object_mut().unwrap();
    for (k, suffix) in [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("milestones_url", "/milestones{/number}"),
        (
            "notifications_url",
            "/notifications{?since,all,participating}",
        ),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("stargazers_url", "/stargazers"),
        ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
        ("trees_url", "/git/trees{/sha}"),
    ] {
        m.insert(k.into(), json!(format!("{r}{suffix}")));
    }
    v
}

/// `repository` (inside a pull request's head and base).
pub fn repository(c: &Ctx) -> Value {
    let mut v = minimal_repository(c);
    let m = v.as_object_mut().unwrap();
    let full = c.h.full_name();
    for (k, x) in [
        ("clone_url", json!(format!("https://github.com/{full}.git"))),
        ("git_url", json!(format!("git://github.com/{full}.git"))),
        ("ssh_url", json!(format!("git@github.com:{full}.git"))),
        ("svn_url", json!(c.html())),
        ("mirror_url", Value::Null),
        ("homepage", Value::Null),
        ("language", Value::Null),
        ("forks", json!(0)),
        ("forks_count", json!(0)),
        ("stargazers_count", json!(0)),
        ("watchers", json!(0)),
        ("watchers_count", json!(0)),
        ("size", json!(1)),
        ("default_branch", json!("main")),
        ("open_issues", json!(0)),
        ("open_issues_count", json!(0)),
        ("is_template", json!(false)),
        ("topics", json!([])),
        ("has_issues", json!(true)),
        ("has_projects", json!(true)),
        ("has_wiki", json!(true)),
        ("has_pages", json!(false)),
        ("has_downloads", json!(true)),
        ("has_discussions", json!(false)),
        ("archived", json!(false)),
        ("disabled", json!(false)),
        ("visibility", json!("private")),
        ("pushed_at", json!(c.h.created_at)),
        ("created_at", json!(c.h.created_at)),
        ("updated_at", json!(c.h.created_at)),
        ("allow_forking", json!(false)),
        ("web_commit_signoff_required", json!(false)),
        ("license", Value::Null),
        (
            "permissions",
            json!({"admin": false, "maintain": false, "push": true, "triage": true, "pull": true}),
        ),
    ] {
        m.insert(k.into(), x);
    }
    v
}

/// `full-repository` (GET /repos/{owner}/{repo}).
pub fn full_repository(c: &Ctx) -> Value {
    let mut v = repository(c);
    let m = v.as_object_mut().unwrap();
    m.insert("network_count".into(), json!(0));
    m.insert("subscribers_count".into(), json!(0));
    m.insert("organization".into(), owner(c));
    m.insert("allow_merge_commit".into(), json!(true));
    m.insert("allow_squash_merge".into(), json!(true));
    m.insert("allow_rebase_merge".into(), json!(true));
    m.insert("delete_branch_on_merge".into(), json!(false));
    v
}

pub fn label(c: &Ctx, l: &Label) -> Value {
    json!({
        "id": l.id,
        "node_id": node_id("LA", l.id),
        "url": format!("{}/labels/{}", c.repo_url(), l.name.replace(' ', "%20")),
        "name": l.name,
        // `label` allows null, but the label inside `pull-request-simple` must be a string.
        "description": "",
        "color": l.color,
        "default": false
    })
}

fn link(href: String) -> Value {
    json!({ "href": href })
}

pub struct PrComputed {
    pub head_sha: String,
    pub base_sha: String,
    pub info: Option<PairInfo>,
}

/// `pull-request` (full) or `pull-request-simple` (lists, requested reviewers).
pub fn pull(c: &Ctx, st: &RepoState, pr: &Pr, k: &PrComputed, full: bool) -> Value {
    let r = c.repo_url();
    let n = pr.number;
    let url = format!("{r}/pulls/{n}");
    let issue = format!("{r}/issues/{n}");
    let html = format!("{}/pull/{n}", c.html());
    let author = user_by_login(c, st, &pr.author);
    let side = |branch: &str, sha: &str| {
        json!({
            "label": format!("{}:{branch}", c.h.owner),
            "ref": branch,
            "sha": sha,
            "user": owner(c),
            "repo": repository(c),
        })
    };
    let labels: Vec<Value> = pr
        .labels
        .iter()
        .filter_map(|l| st.labels.get(l))
        .map(|l| label(c, l))
        .collect();
    let reviewers: Vec<Value> = pr
        .requested_reviewers
        .iter()
        .map(|l| user_by_login(c, st, l))
        .filter(|v| !v.is_null())
        .collect();
    let teams: Vec<Value> = pr
        .requested_teams
        .iter()
        .filter_map(|t| st.teams.get(t).map(|(id, _)| team(c, t, *id)))
        .collect();
    let links = json!({
        "self": link(url.clone()),
        "html": link(html.clone()),
        "issue": link(issue.clone()),
        "comments": link(format!("{issue}/comments")),
        "review_comments": link(format!("{url}/comments")),
        "review_comment": link(format!("{r}/pulls/comments{{/number}}")),
        "commits": link(format!("{url}/commits")),
        "statuses": link(format!("{r}/statuses/{}", k.head_sha)),
    });
    let mut v = json!({
        "url": url,
        "id": pr.id,
        "node_id": node_id("PR", pr.id),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": issue,
        "commits_url": format!("{url}/commits"),
        "review_comments_url": format!("{url}/comments"),
        "review_comment_url": format!("{r}/pulls/comments{{/number}}"),
        "comments_url": format!("{issue}/comments"),
        "statuses_url": format!("{r}/statuses/{}", k.head_sha),
        "number": n,
        "state": pr.state,
        "locked": false,
        "title": pr.title,
        "user": author,
        "body": pr.body,
        "labels": labels,
    });
    let more = json!({
        "milestone": Value::Null,
        "active_lock_reason": Value::Null,
        "created_at": pr.created_at,
        "updated_at": pr.updated_at,
        "closed_at": pr.closed_at,
        "merged_at": pr.merged_at,
        "merge_commit_sha": pr.merge_commit_sha,
        "assignee": Value::Null,
        "assignees": [],
        "requested_reviewers": reviewers,
        "requested_teams": teams,
        "head": side(&pr.head, &k.head_sha),
        "base": side(&pr.base, &k.base_sha),
        "_links": links,
        "author_association": if pr.author == st.token_user { "MEMBER" } else { "CONTRIBUTOR" },
        "auto_merge": Value::Null,
        "draft": pr.draft,
    });
    let m = v.as_object_mut().unwrap();
    for (key, x) in more.as_object().unwrap() {
        m.insert(key.clone(), x.clone());
    }
    if full {
        let m = v.as_object_mut().unwrap();
        let merged = pr.merged_at.is_some();
        let (mergeable, mergeable_state) = if pr.state != "open" {
            (Value::Null, "unknown")
        } else {
            match &k.info {
                Some(i) if i.conflict => (json!(false), "dirty"),
                Some(_) if pr.blocked.is_some() => (json!(true), "blocked"),
                Some(_) if pr.draft => (json!(true), "draft"),
                Some(_) => (json!(true), "clean"),
                None => (Value::Null, "unknown"),
            }
        };
        let info = k.info.clone().unwrap_or(PairInfo {
            conflict: false,
            commits: 0,
            additions: 0,
            deletions: 0,
            changed_files: 0,
        });
        for (key, x) in [
            ("merged", json!(merged)),
            ("mergeable", mergeable),
            ("rebaseable", json!(pr.state == "open")),
            ("mergeable_state", json!(mergeable_state)),
            (
                "merged_by",
                pr.merged_by
                    .as_ref()
                    .map(|l| user_by_login(c, st, l))
                    .unwrap_or(Value::Null),
            ),
            ("comments", json!(pr.comments.len())),
            ("review_comments", json!(0)),
            ("maintainer_can_modify", json!(false)),
            ("commits", json!(info.commits)),
            ("additions", json!(info.additions)),
            ("deletions", json!(info.deletions)),
            ("changed_files", json!(info.changed_files)),
        ] {
            m.insert(key.into(), x);
        }
    }
    v
}

/// `pull-request-review`.
pub fn review(c: &Ctx, st: &RepoState, pr: &Pr, rv: &Review) -> Value {
    let pr_url = format!("{}/pulls/{}", c.repo_url(), pr.number);
    let html = format!(
        "{}/pull/{}#pullrequestreview-{}",
        c.html(),
        pr.number,
        rv.id
    );
    let mut v = json!({
        "id": rv.id,
        "node_id": node_id("PRR", rv.id),
        "user": user_by_login(c, st, &rv.login),
        "body": rv.body,
        "state": rv.state,
        "html_url": html,
        "pull_request_url": pr_url,
        "_links": {"html": link(html.clone()), "pull_request": link(pr_url.clone())},
        "commit_id": rv.commit_id,
        "author_association": "MEMBER",
    });
    if let Some(at) = &rv.submitted_at {
        v["submitted_at"] = json!(at);
    }
    v
}

/// `issue-comment`.
pub fn comment(c: &Ctx, st: &RepoState, number: u64, cm: &Comment) -> Value {
    let r = c.repo_url();
    json!({
        "id": cm.id,
        "node_id": node_id("IC", cm.id),
        "url": format!("{r}/issues/comments/{}", cm.id),
        "html_url": format!("{}/pull/{number}#issuecomment-{}", c.html(), cm.id),
        "issue_url": format!("{r}/issues/{number}"),
        "body": cm.body,
        "user": user_by_login(c, st, &cm.login),
        "created_at": cm.created_at,
        "updated_at": cm.updated_at,
        "author_association": "MEMBER",
    })
}

fn commit_user(c: &Ctx, st: &RepoState, email: &str) -> Value {
    st.emails
        .get(email)
        .map(|l| user_by_login(c, st, l))
        .unwrap_or(Value::Null)
}

/// `commit` (a PR's commit list).
pub fn commit(c: &Ctx, st: &RepoState, ci: &super::git::CommitInfo) -> Value {
    let r = c.repo_url();
    json!({
        "url": format!("{r}/commits/{}", ci.sha),
        "sha": ci.sha,
        "node_id": node_id("C", (super::util::fnv(ci.sha.as_bytes()) >> 33) as i64),
        "html_url": format!("{}/commit/{}", c.html(), ci.sha),
        "comments_url": format!("{r}/commits/{}/comments", ci.sha),
        "commit": {
            "url": format!("{r}/git/commits/{}", ci.sha),
            "author": {"name": ci.author_name, "email": ci.author_email, "date": ci.author_date},
            "committer": {"name": ci.committer_name, "email": ci.committer_email, "date": ci.committer_date},
            "message": ci.message,
            "comment_count": 0,
            "tree": {"sha": ci.tree, "url": format!("{r}/git/trees/{}", ci.tree)},
            "verification": {"verified": false, "reason": "unsigned", "signature": Value::Null, "payload": Value::Null, "verified_at": Value::Null},
        },
        "author": commit_user(c, st, &ci.author_email),
        "committer": commit_user(c, st, &ci.committer_email),
        "parents": ci.parents.iter().map(|p| json!({
            "sha": p,
            "url": format!("{r}/commits/{p}"),
            "html_url": format!("{}/commit/{p}", c.html()),
        })).collect::<Vec<_>>(),
    })
}

pub fn team(c: &Ctx, slug: &str, id: i64) -> Value {
    let org = &c.h.owner;
    let url = format!("{}/organizations/{}/team/{id}", c.api, c.h.id + 1);
    json!({
        "id": id,
        "node_id": node_id("T", id),
        "url": url,
        "html_url": format!("https://github.com/orgs/{org}/teams/{slug}"),
        "name": slug,
        "slug": slug,
        "description": Value::Null,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": format!("{url}/members{{/member}}"),
        "repositories_url": format!("{url}/repos"),
        "type": "organization",
        "parent": Value::Null,
    })
}

/// `simple-commit-status`.
pub fn status(c: &Ctx, s: &Status) -> Value {
    json!({
        "url": format!("{}/statuses/{}", c.repo_url(), s.sha),
        "avatar_url": Value::Null,
        "id": s.id,
        "node_id": node_id("SC", s.id),
        "state": s.state,
        "description": Value::Null,
        "target_url": Value::Null,
        "context": s.context,
        "created_at": s.at,
        "updated_at": s.at,
    })
}

/// `combined-commit-status`.
pub fn combined_status(c: &Ctx, sha: &str, statuses: &[&Status]) -> Value {
    let state = if statuses.is_empty() {
        "pending"
    } else if statuses
        .iter()
        .any(|s| s.state == "failure" || s.state == "error")
    {
        "failure"
    } else if statuses.iter().any(|s| s.state == "pending") {
        "pending"
    } else {
        "success"
    };
    let r = c.repo_url();
    json!({
        "state": state,
        "statuses": statuses.iter().map(|s| status(c, s)).collect::<Vec<_>>(),
        "sha": sha,
        "total_count": statuses.len(),
        "repository": minimal_repository(c),
        "commit_url": format!("{r}/commits/{sha}"),
        "url": format!("{r}/commits/{sha}/status"),
    })
}

/// `check-run`.
pub fn check_run(c: &Ctx, cr: &CheckRun) -> Value {
    let r = c.repo_url();
    let done = cr.status == "completed";
    json!({
        "id": cr.id,
        "node_id": node_id("CR", cr.id),
        "head_sha": cr.sha,
        "external_id": "",
        "url": format!("{r}/check-runs/{}", cr.id),
        "html_url": format!("{}/runs/{}", c.html(), cr.id),
        "details_url": format!("{}/runs/{}", c.html(), cr.id),
        "status": cr.status,
        "conclusion": cr.conclusion,
        "started_at": cr.at,
        "completed_at": if done { json!(cr.at) } else { Value::Null },
        "output": {
            "title": Value::Null,
            "summary": Value::Null,
            "text": Value::Null,
            "annotations_count": 0,
            "annotations_url": format!("{r}/check-runs/{}/annotations", cr.id),
        },
        "name": cr.name,
        "check_suite": {"id": cr.id + 1},
        "app": Value::Null,
        "pull_requests": [],
    })
}

/// `deployment`.
pub fn deployment(c: &Ctx, st: &RepoState, d: &Deployment) -> Value {
    let url = format!("{}/deployments/{}", c.repo_url(), d.id);
    json!({
        "url": url,
        "id": d.id,
        "node_id": node_id("DE", d.id),
        "sha": d.sha,
        "ref": d.git_ref,
        "task": d.task,
        "payload": d.payload,
        "original_environment": d.original_environment,
        "environment": d.environment,
        "description": d.description,
        "creator": user_by_login(c, st, &d.creator),
        "created_at": d.created_at,
        "updated_at": d.updated_at,
        "statuses_url": format!("{url}/statuses"),
        "repository_url": c.repo_url(),
        "transient_environment": d.transient,
        "production_environment": d.production,
        "performed_via_github_app": Value::Null,
    })
}

/// `deployment-status`.
pub fn deployment_status(c: &Ctx, st: &RepoState, d: &Deployment, s: &DeploymentStatus) -> Value {
    let durl = format!("{}/deployments/{}", c.repo_url(), d.id);
    let mut v = json!({
        "url": format!("{durl}/statuses/{}", s.id),
        "id": s.id,
        "node_id": node_id("DES", s.id),
        "state": s.state,
        "creator": user_by_login(c, st, &s.creator),
        "description": s.description,
        "environment": s.environment,
        // GitHub sends "" for a missing URL, but its description says `format: uri`.
        "target_url": if s.log_url.is_empty() { format!("{}/deployments", c.html()) } else { s.log_url.clone() },
        "created_at": s.created_at,
        "updated_at": s.created_at,
        "deployment_url": durl,
        "repository_url": c.repo_url(),
        "performed_via_github_app": Value::Null,
    });
    for (k, u) in [
        ("log_url", &s.log_url),
        ("environment_url", &s.environment_url),
    ] {
        if !u.is_empty() {
            v[k] = json!(u);
        }
    }
    v
}

/// `release`.
pub fn release(c: &Ctx, st: &RepoState, r: &Release) -> Value {
    let url = format!("{}/releases/{}", c.repo_url(), r.id);
    let author = st
        .users
        .get(&r.author)
        .map(|u| user(c, u))
        .unwrap_or_else(|| owner(c));
    json!({
        "url": url,
        "html_url": if r.draft {
            format!("{}/releases/tag/untagged-{}", c.html(), r.id)
        } else {
            format!("{}/releases/tag/{}", c.html(), r.tag_name)
        },
        "assets_url": format!("{url}/assets"),
        "upload_url": format!("https://uploads.github.com/repos/{}/releases/{}/assets{{?name,label}}", c.h.full_name(), r.id),
        "tarball_url": format!("{}/tarball/{}", c.repo_url(), r.tag_name),
        "zipball_url": format!("{}/zipball/{}", c.repo_url(), r.tag_name),
        "id": r.id,
        "node_id": node_id("RE", r.id),
        "tag_name": r.tag_name,
        "target_commitish": r.target_commitish,
        "name": r.name,
        "body": r.body,
        "draft": r.draft,
        "prerelease": r.prerelease,
        "immutable": false,
        "created_at": r.created_at,
        "updated_at": r.published_at.clone().unwrap_or_else(|| r.created_at.clone()),
        "published_at": r.published_at,
        "author": author,
        "assets": [],
    })
}

pub fn rate_limit(limit: u64, used: u64, reset: u64) -> Value {
    let one = json!({"limit": limit, "used": used, "remaining": limit.saturating_sub(used), "reset": reset});
    let other = json!({"limit": 30, "used": 0, "remaining": 30, "reset": reset});
    json!({
        "resources": {"core": one, "search": other, "graphql": {"limit": 5000, "used": 0, "remaining": 5000, "reset": reset}},
        "rate": one,
    })
}
