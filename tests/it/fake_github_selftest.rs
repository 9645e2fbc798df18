//! The fake GitHub checked on its own: real git underneath, GitHub's answers on top, and (with
//! Prism configured) every exchange validated against GitHub's OpenAPI description.

use serde_json::json;

use crate::fake_github::{self, FakeRepo, HttpResponse};
use crate::harness::TestEnv;

/// `main` with two commits and a branch `hotfix/1` one commit ahead, all pushed.
fn setup() -> (TestEnv, FakeRepo) {
    let env = TestEnv::new();
    env.commit_file("app.txt", "one\n", "initial");
    env.commit_file("lib.txt", "lib\n", "library");
    env.git(&["push", "-q", "origin", "main"]);
    env.git(&["checkout", "-q", "-b", "hotfix/1"]);
    env.commit_file("app.txt", "one fixed\n", "fix the bug");
    env.git(&["push", "-q", "origin", "hotfix/1"]);
    env.git(&["checkout", "-q", "main"]);
    let gh = fake_github::server().new_repo(&env.origin);
    gh.add_user("alice", "alice@example.com");
    gh.add_user("bob", "bob@example.com");
    gh.map_email("author@example.com", "carol");
    (env, gh)
}

fn origin_rev(env: &TestEnv, rev: &str) -> String {
    env.git_in(&env.origin, &["rev-parse", rev])
}

fn open_pr(gh: &FakeRepo, head: &str, title: &str) -> HttpResponse {
    gh.api(
        "POST",
        &format!("/repos/{}/pulls", gh.full_name()),
        Some(&json!({"title": title, "body": "why", "head": format!("{}:{head}", gh.owner()), "base": "main"})),
    )
}

fn remaining(r: &HttpResponse) -> u64 {
    r.header("x-ratelimit-remaining").unwrap().parse().unwrap()
}

#[test]
fn fake_github_pr_review_conditional_get_and_merge() {
    let (env, gh) = setup();
    let repo = format!("/repos/{}", gh.full_name());

    let me = gh.api("GET", "/user", None);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["login"], "hotfix-bot");
    let r = gh.api("GET", &repo, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["default_branch"], "main");

    let created = open_pr(&gh, "hotfix/1", "Hotfix 1");
    assert_eq!(created.status, 201, "{}", created.body);
    let pr = created.json();
    assert_eq!(pr["number"], 1);
    assert_eq!(pr["user"]["login"], "hotfix-bot");
    let head1 = origin_rev(&env, "hotfix/1");
    assert_eq!(pr["head"]["sha"], head1.as_str());
    assert_eq!(pr["mergeable"], true);

    // A second PR for the same head is refused, as is a head that does not exist.
    let dup = open_pr(&gh, "hotfix/1", "again");
    assert_eq!(dup.status, 422, "{}", dup.body);
    assert!(
        dup.body.contains("A pull request already exists"),
        "{}",
        dup.body
    );
    assert_eq!(open_pr(&gh, "nope", "x").status, 422);

    let found = gh.api(
        "GET",
        &format!(
            "{repo}/pulls?state=open&head={}:hotfix/1&per_page=100",
            gh.owner()
        ),
        None,
    );
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.json().as_array().unwrap().len(), 1);
    let none = gh.api("GET", &format!("{repo}/pulls?state=closed"), None);
    assert_eq!(none.json().as_array().unwrap().len(), 0);

    // Labels, reviewers, a comment.
    let l = gh.api(
        "POST",
        &format!("{repo}/issues/1/labels"),
        Some(&json!({"labels": ["hotfix", "urgent"]})),
    );
    assert_eq!(l.status, 200, "{}", l.body);
    assert_eq!(l.json().as_array().unwrap().len(), 2);
    gh.add_team("oncall", &["alice", "dave"]);
    let rr = gh.api(
        "POST",
        &format!("{repo}/pulls/1/requested_reviewers"),
        Some(&json!({"reviewers": ["alice", "bob"], "team_reviewers": ["oncall"]})),
    );
    assert_eq!(rr.status, 201, "{}", rr.body);
    let bad = gh.api(
        "POST",
        &format!("{repo}/pulls/1/requested_reviewers"),
        Some(&json!({"reviewers": ["hotfix-bot"]})),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    let members = gh.api(
        "GET",
        &format!("/orgs/{}/teams/oncall/members", gh.owner()),
        None,
    );
    assert_eq!(members.status, 200, "{}", members.body);
    assert_eq!(members.json()[1]["login"], "dave");
    let c = gh.api(
        "POST",
        &format!("{repo}/issues/1/comments"),
        Some(&json!({"body": "please review"})),
    );
    assert_eq!(c.status, 201, "{}", c.body);
    assert_eq!(gh.comments(1), vec!["please review"]);
    let cs = gh.api("GET", &format!("{repo}/issues/1/comments"), None);
    assert_eq!(cs.json()[0]["body"], "please review");

    let view = gh.pr(1);
    assert_eq!(view.labels, vec!["hotfix", "urgent"]);
    assert_eq!(view.requested_reviewers, vec!["alice", "bob"]);
    assert_eq!(view.requested_teams, vec!["oncall"]);
    assert_eq!(view.author, "hotfix-bot");

    // A review on the current head; the reviewer leaves the requested reviewers.
    gh.review(1, "alice", "APPROVED", None, None);
    let reviews = gh.api("GET", &format!("{repo}/pulls/1/reviews?per_page=100"), None);
    assert_eq!(reviews.status, 200, "{}", reviews.body);
    assert_eq!(reviews.json()[0]["commit_id"], head1.as_str());
    assert_eq!(reviews.json()[0]["state"], "APPROVED");
    assert_eq!(gh.pr(1).requested_reviewers, vec!["bob"]);

    // The PR's commits, with GitHub users for known emails.
    let commits = gh.api("GET", &format!("{repo}/pulls/1/commits"), None);
    assert_eq!(commits.status, 200, "{}", commits.body);
    let commits = commits.json();
    assert_eq!(commits.as_array().unwrap().len(), 1);
    assert_eq!(commits[0]["sha"], head1.as_str());
    assert_eq!(commits[0]["author"]["login"], "carol");
    assert!(commits[0]["committer"].is_null());

    // Conditional GET: a 304 that costs nothing, until something changes.
    let first = gh.api("GET", &format!("{repo}/pulls/1"), None);
    assert_eq!(first.status, 200);
    let etag = first.header("etag").expect("etag").to_string();
    let auth = format!("Bearer {}", gh.token());
    let url = format!("{}{repo}/pulls/1", gh.api_url());
    let again = fake_github::request(
        "GET",
        &url,
        &[("Authorization", &auth), ("If-None-Match", &etag)],
        None,
    );
    assert_eq!(again.status, 304, "{}", again.body);
    assert_eq!(remaining(&again), remaining(&first));
    let rec = gh.requests();
    let last = rec.last().unwrap();
    assert!(
        last.conditional && !last.counted && last.status == 304,
        "{last:?}"
    );

    // A conditional GET on an endpoint without a documented 304 is always a 200.
    let list = gh.api("GET", &format!("{repo}/pulls/1/reviews"), None);
    let e2 = list.header("etag").unwrap().to_string();
    let list2 = fake_github::request(
        "GET",
        &format!("{}{repo}/pulls/1/reviews", gh.api_url()),
        &[("Authorization", &auth), ("If-None-Match", &e2)],
        None,
    );
    assert_eq!(list2.status, 200);

    // A new push moves the head: the old ETag no longer matches.
    env.git(&["checkout", "-q", "hotfix/1"]);
    env.commit_file("app.txt", "one fixed better\n", "fix the fix");
    env.git(&["push", "-q", "origin", "hotfix/1"]);
    let head2 = origin_rev(&env, "hotfix/1");
    let moved = fake_github::request(
        "GET",
        &url,
        &[("Authorization", &auth), ("If-None-Match", &etag)],
        None,
    );
    assert_eq!(moved.status, 200);
    assert_eq!(moved.json()["head"]["sha"], head2.as_str());
    assert_ne!(moved.header("etag").unwrap(), etag);

    // Merging with the approved (stale) head is refused; with the current one it merges.
    let main_before = origin_rev(&env, "main");
    let stale = gh.api(
        "PUT",
        &format!("{repo}/pulls/1/merge"),
        Some(&json!({"sha": head1, "merge_method": "merge"})),
    );
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert_eq!(
        stale.json()["message"],
        "Head branch was modified. Review and try the merge again."
    );
    assert_eq!(origin_rev(&env, "main"), main_before);
    let merged = gh.api(
        "PUT",
        &format!("{repo}/pulls/1/merge"),
        Some(&json!({"sha": head2, "merge_method": "merge"})),
    );
    assert_eq!(merged.status, 200, "{}", merged.body);
    let sha = merged.json()["sha"].as_str().unwrap().to_string();
    assert_eq!(origin_rev(&env, "main"), sha);
    let parents = env.git_in(
        &env.origin,
        &["log", "-1", "--format=%P%n%cn <%ce> %ct%n%s", &sha],
    );
    assert_eq!(
        parents,
        format!(
            "{main_before} {head2}\nGitHub <noreply@github.com> 1767225600\nMerge pull request #1 from {}/hotfix/1",
            gh.owner()
        )
    );
    let after = gh.api("GET", &format!("{repo}/pulls/1"), None).json();
    assert_eq!(after["merged"], true);
    assert_eq!(after["state"], "closed");
    assert_eq!(after["merge_commit_sha"], sha.as_str());
    assert_eq!(after["merged_by"]["login"], "hotfix-bot");
    // The merged PR still lists its two commits.
    let commits = gh
        .api("GET", &format!("{repo}/pulls/1/commits"), None)
        .json();
    assert_eq!(commits.as_array().unwrap().len(), 2);
    let again = gh.api(
        "PUT",
        &format!("{repo}/pulls/1/merge"),
        Some(&json!({"sha": head2})),
    );
    assert_eq!(again.status, 405);

    // Deleting the head branch, percent-encoded as the tool sends it.
    let del = gh.api(
        "DELETE",
        &format!("{repo}/git/refs/heads%2Fhotfix%2F1"),
        None,
    );
    assert_eq!(del.status, 204, "{}", del.body);
    assert!(
        env.git_output(
            &env.origin,
            &["rev-parse", "--verify", "-q", "refs/heads/hotfix/1"]
        )
        .stdout
        .is_empty()
    );
    assert_eq!(
        gh.api(
            "DELETE",
            &format!("{repo}/git/refs/heads%2Fhotfix%2F1"),
            None
        )
        .status,
        422
    );

    let rl = gh.api("GET", "/rate_limit", None);
    assert_eq!(rl.status, 200, "{}", rl.body);
    assert!(rl.json()["resources"]["core"]["used"].as_u64().unwrap() > 10);

    gh.assert_no_schema_violations();
}

#[test]
fn fake_github_auth_failures_and_injected_failures() {
    let (_env, gh) = setup();
    let repo = format!("/repos/{}", gh.full_name());

    let bad = fake_github::request(
        "GET",
        &format!("{}/user", gh.api_url()),
        &[("Authorization", "Bearer wrong")],
        None,
    );
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["message"], "Bad credentials");
    let missing =
        fake_github::request("GET", &format!("{}{repo}/pulls/1", gh.api_url()), &[], None);
    assert_eq!(missing.status, 401, "{}", missing.body);
    assert_eq!(gh.requests().last().unwrap().status, 401);
    // Another repository's token does not see this one.
    let other = fake_github::server().new_repo(&_env.origin);
    let foreign = other.api("GET", &repo, None);
    assert_eq!(foreign.status, 404);

    // A lost answer: the comment is made, the client sees a 502.
    gh.fail_next("POST", r"/issues/\d+/comments$", 502, 1, &[], true);
    open_pr(&gh, "hotfix/1", "Hotfix 1");
    let c = gh.api(
        "POST",
        &format!("{repo}/issues/1/comments"),
        Some(&json!({"body": "hello"})),
    );
    assert_eq!(c.status, 502);
    assert_eq!(gh.comments(1), vec!["hello"]);
    let last = gh.requests().last().unwrap().clone();
    assert!(
        last.injected && last.status == 502 && last.body.contains("hello"),
        "{last:?}"
    );
    // The rule is used up.
    let c = gh.api(
        "POST",
        &format!("{repo}/issues/1/comments"),
        Some(&json!({"body": "again"})),
    );
    assert_eq!(c.status, 201, "{}", c.body);

    // A refusal that changes nothing, with rate-limit headers of the test's choosing.
    gh.fail_next(
        "PUT",
        "pulls/1/merge",
        403,
        2,
        &[("x-ratelimit-remaining", "0"), ("retry-after", "1")],
        false,
    );
    let head = gh.pr(1).head_sha;
    for _ in 0..2 {
        let m = gh.api(
            "PUT",
            &format!("{repo}/pulls/1/merge"),
            Some(&json!({"sha": head})),
        );
        assert_eq!(m.status, 403);
        assert_eq!(m.header("x-ratelimit-remaining"), Some("0"));
        assert_eq!(m.header("retry-after"), Some("1"));
    }
    assert!(!gh.pr(1).merged);
    let m = gh.api(
        "PUT",
        &format!("{repo}/pulls/1/merge"),
        Some(&json!({"sha": head})),
    );
    assert_eq!(m.status, 200, "{}", m.body);

    gh.assert_no_schema_violations();
}

#[test]
fn fake_github_squash_rebase_conflicts_and_protection() {
    let (env, gh) = setup();
    let repo = format!("/repos/{}", gh.full_name());
    // Two more branches from main: one that conflicts with hotfix/1, one with two commits.
    env.git(&["checkout", "-q", "-b", "clash", "main"]);
    env.commit_file("app.txt", "clash\n", "clash");
    env.git(&["checkout", "-q", "-b", "two", "main"]);
    env.commit_file("a.txt", "a\n", "add a");
    env.commit_file("b.txt", "b\n", "add b");
    env.git(&["push", "-q", "origin", "clash", "two"]);

    assert_eq!(open_pr(&gh, "hotfix/1", "Squash me").status, 201);
    assert_eq!(open_pr(&gh, "clash", "Clash").status, 201);
    assert_eq!(open_pr(&gh, "two", "Rebase me").status, 201);

    gh.set_mergeable(
        1,
        false,
        "At least 1 approving review is required by reviewers with write access.",
    );
    let blocked = gh.api(
        "PUT",
        &format!("{repo}/pulls/1/merge"),
        Some(&json!({"merge_method": "squash"})),
    );
    assert_eq!(blocked.status, 405);
    assert_eq!(
        blocked.json()["message"],
        "At least 1 approving review is required by reviewers with write access."
    );
    assert_eq!(
        gh.api("GET", &format!("{repo}/pulls/1"), None).json()["mergeable_state"],
        "blocked"
    );
    gh.set_mergeable(1, true, "");

    let sq = gh.api(
        "PUT",
        &format!("{repo}/pulls/1/merge"),
        Some(&json!({"merge_method": "squash", "commit_title": "Hotfix 1 (#1)", "commit_message": "squashed"})),
    );
    assert_eq!(sq.status, 200, "{}", sq.body);
    let sha = sq.json()["sha"].as_str().unwrap().to_string();
    let info = env.git_in(&env.origin, &["log", "-1", "--format=%P|%an|%B", "main"]);
    let main_parent = env.git_in(&env.origin, &["rev-parse", "main~1"]);
    assert_eq!(
        info,
        format!("{main_parent}|hotfix-bot|Hotfix 1 (#1)\n\nsquashed")
    );
    assert_eq!(origin_rev(&env, "main"), sha);

    // clash now conflicts with main.
    let pr2 = gh.api("GET", &format!("{repo}/pulls/2"), None).json();
    assert_eq!(pr2["mergeable"], false);
    assert_eq!(pr2["mergeable_state"], "dirty");
    let c = gh.api("PUT", &format!("{repo}/pulls/2/merge"), None);
    assert_eq!(c.status, 405, "{}", c.body);
    let close = gh.api(
        "PATCH",
        &format!("{repo}/pulls/2"),
        Some(&json!({"state": "closed"})),
    );
    assert_eq!(close.status, 200);
    assert_eq!(gh.pr(2).state, "closed");

    let rb = gh.api(
        "PUT",
        &format!("{repo}/pulls/3/merge"),
        Some(&json!({"merge_method": "rebase"})),
    );
    assert_eq!(rb.status, 200, "{}", rb.body);
    let subjects = env.git_in(&env.origin, &["log", "--format=%s|%an|%cn", "-3", "main"]);
    assert_eq!(
        subjects,
        "add b|Test Author|GitHub\nadd a|Test Author|GitHub\nHotfix 1 (#1)|hotfix-bot|GitHub"
    );
    let all = gh
        .api("GET", &format!("{repo}/pulls?state=all"), None)
        .json();
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(all[0]["number"], 3);

    gh.assert_no_schema_violations();
}

#[test]
fn fake_github_statuses_checks_deployments_releases() {
    let (env, gh) = setup();
    let repo = format!("/repos/{}", gh.full_name());
    let main = origin_rev(&env, "main");

    gh.set_status(&main, "ci/test", "pending");
    gh.set_status(&main, "ci/test", "success");
    gh.set_status(&main, "ci/lint", "failure");
    let s = gh.api("GET", &format!("{repo}/commits/{main}/status"), None);
    assert_eq!(s.status, 200, "{}", s.body);
    let s = s.json();
    assert_eq!(s["state"], "failure");
    assert_eq!(s["total_count"], 2);
    gh.set_check_run("main", "build", "completed", Some("success"));
    gh.set_check_run("main", "e2e", "in_progress", None);
    let cr = gh.api("GET", &format!("{repo}/commits/main/check-runs"), None);
    assert_eq!(cr.status, 200, "{}", cr.body);
    assert_eq!(cr.json()["total_count"], 2);

    // Without required_contexts GitHub insists on every context being green.
    let refused = gh.api(
        "POST",
        &format!("{repo}/deployments"),
        Some(&json!({"ref": "main"})),
    );
    assert_eq!(refused.status, 409, "{}", refused.body);
    let d = gh.api(
        "POST",
        &format!("{repo}/deployments"),
        Some(&json!({"ref": main, "task": "deploy", "auto_merge": false, "required_contexts": [],
                     "environment": "staging", "payload": {"run": "r1"}, "description": "hotfix 1.3.1"})),
    );
    assert_eq!(d.status, 201, "{}", d.body);
    let id = d.json()["id"].as_i64().unwrap();
    for (state, desc) in [("in_progress", ""), ("success", "deployed")] {
        let st = gh.api(
            "POST",
            &format!("{repo}/deployments/{id}/statuses"),
            Some(&json!({"state": state, "description": desc, "log_url": "https://ci.example/run/1"})),
        );
        assert_eq!(st.status, 201, "{}", st.body);
    }
    // A second staging deployment makes the first one inactive (non-production environment).
    let d2 = gh.api(
        "POST",
        &format!("{repo}/deployments"),
        Some(&json!({"ref": main, "required_contexts": [], "environment": "staging"})),
    );
    let id2 = d2.json()["id"].as_i64().unwrap();
    gh.api(
        "POST",
        &format!("{repo}/deployments/{id2}/statuses"),
        Some(&json!({"state": "success"})),
    );
    let list = gh.api(
        "GET",
        &format!("{repo}/deployments?environment=staging&task=deploy&sha={main}"),
        None,
    );
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.json()[0]["id"], id2);
    let sts = gh.api("GET", &format!("{repo}/deployments/{id}/statuses"), None);
    assert_eq!(sts.status, 200, "{}", sts.body);
    assert_eq!(sts.json()[0]["state"], "inactive");
    let views = gh.deployments();
    assert_eq!(views[0].payload, json!({"run": "r1"}));
    assert_eq!(views[0].required_contexts, Some(vec![]));
    assert!(!views[0].auto_merge);
    assert_eq!(
        views[0].statuses,
        vec![
            ("in_progress".to_string(), String::new()),
            ("success".to_string(), "deployed".to_string()),
            ("inactive".to_string(), String::new())
        ]
    );

    // A draft release is not found by its tag until it is published, which creates the tag.
    let r = gh.api(
        "POST",
        &format!("{repo}/releases"),
        Some(&json!({"tag_name": "v1.0.1", "target_commitish": main, "name": "v1.0.1", "body": "notes", "draft": true})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let rid = r.json()["id"].as_i64().unwrap();
    assert_eq!(
        gh.api("GET", &format!("{repo}/releases/tags/v1.0.1"), None)
            .status,
        404
    );
    let p = gh.api(
        "PATCH",
        &format!("{repo}/releases/{rid}"),
        Some(&json!({"draft": false})),
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(origin_rev(&env, "v1.0.1"), main);
    let t = gh.api("GET", &format!("{repo}/releases/tags/v1.0.1"), None);
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.json()["draft"], false);
    assert_eq!(gh.releases().len(), 1);

    gh.assert_no_schema_violations();
}

#[test]
fn fake_github_schema_check_catches_problems() {
    if !fake_github::server().prism_enabled() {
        return;
    }
    let (_env, gh) = setup();
    // An invalid request: Prism refuses it before it reaches the fake.
    let r = gh.api(
        "POST",
        &format!("/repos/{}/pulls", gh.full_name()),
        Some(&json!({"title": 5})),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        gh.assert_no_schema_violations()
    }));
    let msg = *caught
        .expect_err("an invalid request is a violation")
        .downcast::<String>()
        .unwrap();
    assert!(msg.contains("UNPROCESSABLE_ENTITY"), "{msg}");

    // An honest 404 that GitHub's description does not list for the operation.
    let (_env2, gh2) = setup();
    let r = gh2.api(
        "GET",
        &format!("/repos/{}/pulls/99/reviews", gh2.full_name()),
        None,
    );
    assert_eq!(r.status, 404);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        gh2.assert_no_schema_violations()
    }));
    let msg = *caught
        .expect_err("an undocumented status is a violation")
        .downcast::<String>()
        .unwrap();
    assert!(msg.contains("not among the documented statuses"), "{msg}");
}
