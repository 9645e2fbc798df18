//! `hotfix ship` up to the tag, end to end against the fake GitHub (through Prism in CI) and a
//! real bare origin: approvals that count and ones that do not, waiting, faults, resumption.

use crate::fake_github::{self, FakeRepo};
use crate::harness::{TestEnv, released_repo};

/// A git-flow repository with a hotfix started and its fix committed, a fake GitHub bound to
/// its origin, and reviewers alice, bob, carol. `approval` is the `[approval]` table.
fn shipping(approval: &str) -> (TestEnv, FakeRepo) {
    shipping_with(approval, "")
}

/// Like [`shipping`], with more of `.rolloutrc` (deploy stages, say) after the approval table.
fn shipping_with(approval: &str, more: &str) -> (TestEnv, FakeRepo) {
    let mut env = released_repo(true);
    let gh = fake_github::server().new_repo(&env.origin);
    gh.apply_env(&mut env);
    for who in ["alice", "bob", "carol", "oncall-lead"] {
        gh.add_user(who, &format!("{who}@example.com"));
    }
    // The harness commits as author@example.com / committer@example.com.
    gh.map_email("author@example.com", "fixer");
    gh.map_email("committer@example.com", "fixer");
    let poll = if approval.contains("poll_interval") {
        ""
    } else {
        "poll_interval = \"50ms\"\n"
    };
    env.commit_file(
        ".rolloutrc",
        &format!("[ship]\nconfirm_deploy = false\nbackport = false\n\n[approval]\nreviewers = [\"alice\", \"bob\"]\n{poll}{approval}\n{more}"),
        "team policy",
    );
    env.git(&["push", "-q", "origin", "main"]);
    env.hotfix(&["start", "--incident", "INC-1"]).ok();
    env.commit_file("fix.txt", "fixed\n", "Fix the outage (INC-1)");
    (env, gh)
}

fn origin_ref(env: &TestEnv, r: &str) -> Option<String> {
    let out = env.git_output(&env.origin, &["rev-parse", "--verify", "-q", r]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Nothing was merged into main, and no release tag was made.
#[track_caller]
fn nothing_merged(env: &TestEnv, main_before: &str, gh: &FakeRepo) {
    assert_eq!(origin_ref(env, "main").as_deref(), Some(main_before));
    assert_eq!(origin_ref(env, "refs/tags/v1.3.1"), None);
    assert!(gh.prs().iter().all(|p| !p.merged));
}

#[test]
fn two_approvals_on_the_head_merge_and_tag() {
    let (env, gh) = shipping("min_approvals = 2");
    let run = env.hotfix(&["ship", "--no-wait"]);
    run.code(3);
    assert!(
        run.stderr.contains("0 of 2 required approval(s)"),
        "{}",
        run.stderr
    );
    let prs = gh.prs();
    assert_eq!(prs.len(), 1);
    let pr = &prs[0];
    assert_eq!(
        (pr.head.as_str(), pr.base.as_str()),
        ("hotfix/1.3.1", "main")
    );
    assert_eq!(pr.labels, ["hotfix"]);
    assert_eq!(pr.requested_reviewers, ["alice", "bob"]);
    assert!(
        pr.title.contains("1.3.1") && pr.title.contains("INC-1"),
        "{}",
        pr.title
    );
    let body = pr.body.clone().unwrap_or_default();
    assert!(
        body.contains("Fix the outage (INC-1)") && body.contains("fix.txt"),
        "{body}"
    );
    assert_eq!(gh.comments(pr.number).len(), 1);

    gh.review(pr.number, "alice", "APPROVED", None, None);
    gh.review(pr.number, "bob", "APPROVED", None, None);
    let run = env.hotfix(&["ship"]);
    run.ok();
    let merged = gh.pr(pr.number);
    assert!(merged.merged);
    let main = origin_ref(&env, "main").unwrap();
    assert_eq!(merged.merge_commit_sha.as_deref(), Some(main.as_str()));
    // git-flow: a merge commit on main, tagged.
    assert_eq!(
        env.git_in(&env.origin, &["rev-list", "--parents", "-n1", "main"])
            .split(' ')
            .count(),
        3
    );
    assert_eq!(
        origin_ref(&env, "refs/tags/v1.3.1^{commit}").as_deref(),
        Some(main.as_str())
    );
    assert_eq!(
        env.git_in(&env.origin, &["cat-file", "-t", "v1.3.1"]),
        "tag",
        "annotated"
    );
    let st = env.hotfix(&["status", "--json"]).json()["result"].clone();
    assert_eq!(st["phase"], "deployed");
    // One Deployment of the tag's commit with a success status, and the Release published.
    let deps = gh.deployments();
    assert_eq!(deps.len(), 1);
    assert_eq!(deps[0].sha, main);
    assert_eq!(
        deps[0].statuses.last().map(|(s, _)| s.as_str()),
        Some("success")
    );
    let releases = gh.releases();
    assert_eq!(releases.len(), 1);
    assert!(!releases[0].draft, "published after the deploy");
    assert!(
        gh.comments(pr.number)
            .iter()
            .any(|c| c.contains("is deployed to production"))
    );
    // A rerun after the work is done changes nothing.
    let again = env.hotfix(&["ship"]);
    again.ok();
    assert!(
        again.stdout.contains("deployed already"),
        "{}",
        again.stdout
    );
    assert_eq!(gh.deployments().len(), 1);
    assert_eq!(
        st["approvals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["counts"] == true)
            .count(),
        2
    );
    gh.assert_no_schema_violations();
}

#[test]
fn an_approval_on_an_older_head_does_not_count() {
    let (env, gh) = shipping("min_approvals = 1");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    // A new commit: the approval was for the previous head.
    env.commit_file("fix.txt", "fixed better\n", "Fix the fix (INC-1)");
    let main_before = origin_ref(&env, "main").unwrap();
    let run = env.hotfix(&["ship", "--no-wait"]);
    run.code(3);
    let st = env.hotfix(&["status", "--json"]).json()["result"].clone();
    let alice = &st["approvals"][0];
    assert_eq!(alice["counts"], false);
    assert!(
        alice["reason"].as_str().unwrap().contains("older commit"),
        "{alice}"
    );
    nothing_merged(&env, &main_before, &gh);
    // Approving the new head lets it through.
    gh.review(n, "alice", "APPROVED", None, None);
    env.hotfix(&["ship"]).ok();
    assert!(gh.pr(n).merged);
    gh.assert_no_schema_violations();
}

#[test]
fn changes_requested_as_the_latest_review_is_exit_4() {
    let (env, gh) = shipping("min_approvals = 1");
    let main_before = origin_ref(&env, "main").unwrap();
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    gh.review(n, "bob", "CHANGES_REQUESTED", None, None);
    let run = env.hotfix(&["ship"]);
    run.code(4);
    assert!(
        run.stderr.contains("bob requested changes"),
        "{}",
        run.stderr
    );
    nothing_merged(&env, &main_before, &gh);
    gh.assert_no_schema_violations();
}

#[test]
fn an_expired_approval_does_not_count() {
    let (mut env, gh) = shipping("min_approvals = 1\nexpires_after = \"4h\"");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    env.set_env("HOTFIX_TEST_CLOCK_OFFSET", &(5 * 3600).to_string());
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let st = env.hotfix(&["status", "--json"]).json()["result"].clone();
    assert!(
        st["approvals"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{st}"
    );
    assert!(!gh.pr(n).merged);
}

#[test]
fn the_pr_author_and_commit_authors_cannot_approve() {
    let (env, gh) = shipping("min_approvals = 1");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    let author = gh.pr(n).author;
    gh.review(n, &author, "APPROVED", None, None);
    gh.review(n, "fixer", "APPROVED", None, None);
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let st = env.hotfix(&["status", "--json"]).json()["result"].clone();
    let reasons: Vec<String> = st["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{}: {}",
                a["login"].as_str().unwrap(),
                a["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("author of the pull request")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("fixer") && r.contains("commit in the pull request")),
        "{reasons:?}"
    );
    assert!(!gh.pr(n).merged);
}

#[test]
fn a_missing_required_reviewer_keeps_waiting() {
    let (env, gh) = shipping("min_approvals = 1\nrequired_reviewers = [\"oncall-lead\"]");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    let run = env.hotfix(&["ship", "--no-wait"]);
    run.code(3);
    assert!(run.stderr.contains("oncall-lead"), "{}", run.stderr);
    gh.review(n, "oncall-lead", "APPROVED", None, None);
    env.hotfix(&["ship"]).ok();
    assert!(gh.pr(n).merged);
}

#[test]
fn a_failing_required_check_keeps_waiting() {
    let (env, gh) = shipping("min_approvals = 1\nrequired_checks = [\"ci\"]");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    let head = gh.pr(n).head_sha;
    gh.review(n, "alice", "APPROVED", None, None);
    gh.set_status(&head, "ci", "failure");
    let run = env.hotfix(&["ship", "--no-wait"]);
    run.code(3);
    assert!(run.stderr.contains("check \"ci\" failed"), "{}", run.stderr);
    gh.set_status(&head, "ci", "success");
    env.hotfix(&["ship"]).ok();
    assert!(gh.pr(n).merged);
    gh.assert_no_schema_violations();
}

#[test]
fn no_approval_before_the_timeout_is_exit_4_with_a_pr_comment() {
    let (env, gh) = shipping("min_approvals = 1\nwait_timeout = \"1s\"");
    let main_before = origin_ref(&env, "main").unwrap();
    let run = env.hotfix(&["ship"]);
    run.code(4);
    assert!(
        run.stderr.contains("no approval within 1s"),
        "{}",
        run.stderr
    );
    let n = gh.prs()[0].number;
    let comments = gh.comments(n);
    assert!(
        comments.iter().any(|c| c.contains("No approval within 1s")),
        "{comments:?}"
    );
    nothing_merged(&env, &main_before, &gh);
}

#[test]
fn killed_while_waiting_a_rerun_creates_nothing_twice() {
    let (mut env, gh) = shipping("min_approvals = 1");
    env.set_env("HOTFIX_TEST_CRASH_AT", "ship:waiting");
    assert_ne!(env.hotfix(&["ship"]).code, 0);
    env.extra_env.retain(|(k, _)| k != "HOTFIX_TEST_CRASH_AT");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let prs = gh.prs();
    assert_eq!(prs.len(), 1);
    let n = prs[0].number;
    assert_eq!(prs[0].labels, ["hotfix"]);
    assert_eq!(gh.comments(n).len(), 1);
    let posts = |suffix: &str| {
        gh.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with(suffix) && r.status < 300)
            .count()
    };
    assert_eq!(posts("/pulls"), 1);
    assert_eq!(posts("/labels"), 1);
    assert_eq!(posts("/requested_reviewers"), 1);
    assert_eq!(posts("/comments"), 1);
}

#[test]
fn bad_gateway_twice_on_pr_creation_still_makes_exactly_one_pr() {
    let (env, gh) = shipping("min_approvals = 1");
    gh.fail_next("POST", r"/pulls$", 502, 2, &[], false);
    env.hotfix(&["ship", "--no-wait"]).code(3);
    assert_eq!(gh.prs().len(), 1);
}

#[test]
fn a_lost_answer_to_pr_creation_is_checked_before_retrying() {
    let (env, gh) = shipping("min_approvals = 1");
    // The PR is created, but the answer is a 502.
    gh.fail_next("POST", r"/pulls$", 502, 1, &[], true);
    let run = env.hotfix(&["ship", "--no-wait"]);
    run.code(3);
    assert_eq!(gh.prs().len(), 1);
    let creates = gh
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/pulls"))
        .count();
    assert_eq!(creates, 1, "the POST was not sent again");
}

#[test]
fn a_secondary_rate_limit_is_waited_out_and_reported() {
    let (env, gh) = shipping("min_approvals = 1");
    gh.fail_next(
        "GET",
        r"/pulls/\d+$",
        403,
        1,
        &[("retry-after", "1")],
        false,
    );
    let run = env.hotfix(&["ship", "--no-wait"]);
    run.code(3);
    assert!(
        run.stderr.contains("secondary rate limit"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_bad_token_is_exit_2_naming_the_variable_not_the_value() {
    let (mut env, gh) = shipping("min_approvals = 1");
    let bad = "not-a-valid-token-0123456789";
    env.extra_env.retain(|(k, _)| k != "GH_TOKEN");
    env.set_env("GH_TOKEN", bad);
    let before = origin_ref(&env, "refs/heads/hotfix/1.3.1");
    let run = env.hotfix(&["ship"]);
    run.code(2);
    assert!(run.stderr.contains("GH_TOKEN"), "{}", run.stderr);
    assert!(!run.all().contains(bad), "the token value is never printed");
    assert_eq!(
        origin_ref(&env, "refs/heads/hotfix/1.3.1"),
        before,
        "nothing was pushed"
    );
    assert!(gh.prs().is_empty());
}

#[test]
fn waiting_costs_almost_no_rate_limit() {
    let (env, gh) = shipping("min_approvals = 1\npoll_interval = \"20ms\"\nwait_timeout = \"3s\"");
    env.hotfix(&["ship"]).code(4);
    let reqs = gh.requests();
    let polls = reqs
        .iter()
        .filter(|r| r.method == "GET" && r.conditional)
        .count();
    let not_modified = reqs.iter().filter(|r| r.status == 304).count();
    let first_poll = reqs
        .iter()
        .position(|r| r.conditional)
        .expect("conditional polls");
    let counted_while_waiting = reqs[first_poll..].iter().filter(|r| r.counted).count();
    assert!(polls >= 10, "expected many polls, got {polls}");
    println!(
        "RESULT approval_polls={polls} not_modified={not_modified} counted_while_waiting={counted_while_waiting}"
    );
    assert!(
        not_modified >= polls - 1,
        "{not_modified} of {polls} polls were 304"
    );
    // A safety-net read of the reviews every 25th poll, and the timeout comment.
    assert!(
        counted_while_waiting <= 3 + polls / 25,
        "{counted_while_waiting} counted requests over {polls} polls"
    );
}

/// What a whole ship costs on GitHub: every request from the first push to the published
/// Release and the Deployment's success, by method, and how many count against the rate limit.
/// `bench/run.sh` reads the `RESULT` line into its table; the bounds below catch a regression
/// (a poll that stops being conditional, a lookup repeated per step).
#[test]
fn github_requests_per_ship_stay_few() {
    let (env, gh) = shipping_with(
        "min_approvals = 1",
        "[[deploy.stage]]\nid = \"app\"\nrun = \"true\"",
    );
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    env.hotfix(&["ship"]).ok();
    assert!(gh.pr(n).merged);
    let reqs = gh.requests();
    let by = |m: &str| reqs.iter().filter(|r| r.method == m).count();
    let counted = reqs.iter().filter(|r| r.counted).count();
    let writes = reqs.iter().filter(|r| r.method != "GET").count();
    println!(
        "RESULT github_requests_per_ship={} get={} post={} patch={} put={} writes={writes} counted={counted}",
        reqs.len(),
        by("GET"),
        by("POST"),
        by("PATCH"),
        by("PUT"),
    );
    assert!(
        counted <= 40,
        "{counted} requests counted for one ship: {reqs:#?}"
    );
    assert!(writes <= 16, "{writes} writes for one ship: {reqs:#?}");
}

#[test]
fn a_head_moved_answer_goes_back_to_waiting_then_merges() {
    let (env, gh) = shipping("min_approvals = 1");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    gh.fail_next("PUT", r"/merge$", 409, 1, &[], false);
    let run = env.hotfix(&["ship"]);
    run.ok();
    assert!(run.stderr.contains("moved"), "{}", run.stderr);
    assert!(gh.pr(n).merged);
}

#[test]
fn a_not_mergeable_pr_keeps_waiting_with_the_hosts_reason() {
    let (env, gh) = shipping("min_approvals = 1");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    gh.set_mergeable(
        n,
        false,
        "Required status check \"deploy-check\" is expected.",
    );
    let run = env.hotfix(&["ship", "--no-wait"]);
    run.code(3);
    assert!(run.stderr.contains("deploy-check"), "{}", run.stderr);
    assert!(!gh.pr(n).merged);
    gh.set_mergeable(n, true, "");
    env.hotfix(&["ship"]).ok();
    assert!(gh.pr(n).merged);
}

#[test]
fn abort_closes_the_open_pr_with_a_comment() {
    let (env, gh) = shipping("min_approvals = 1");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    env.hotfix(&["abort"]).ok();
    let pr = gh.pr(n);
    assert_eq!(pr.state, "closed");
    assert!(!pr.merged);
    assert!(gh.comments(n).iter().any(|c| c.contains("hotfix abort")));
}

#[test]
fn the_token_never_reaches_output_state_or_logs() {
    let (env, gh) = shipping("min_approvals = 1");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    let run = env.hotfix(&["ship", "-v"]);
    run.ok();
    let token = gh.token().to_string();
    assert!(!run.all().contains(&token));
    for f in ["state.json", "log.jsonl"] {
        let text = std::fs::read_to_string(env.work.join(".git/hotfix").join(f)).unwrap();
        assert!(!text.contains(&token), "{f} holds the token");
    }
    // To the end of the path: every file the tool wrote (archived state, log, rendered record,
    // deploy state, test logs), every template it rendered (PR body, comments, Release notes,
    // runbook, log), whatever it printed.
    let mut outputs = vec![
        env.hotfix(&["backport", "-v"]).all(),
        env.hotfix(&["log"]).all(),
        env.hotfix(&["runbook"]).all(),
        env.hotfix(&["status", "--json"]).all(),
    ];
    let pr = gh.pr(n);
    outputs.push(pr.title.clone());
    outputs.push(pr.body.clone().unwrap_or_default());
    outputs.extend(gh.comments(n));
    outputs.extend(gh.releases().iter().map(|r| format!("{r:?}")));
    for (i, text) in outputs.iter().enumerate() {
        assert!(!text.contains(&token), "output {i} holds the token");
    }
    let mut files = 0;
    let mut dirs = vec![env.work.join(".git/hotfix")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files += 1;
                let bytes = std::fs::read(&p).unwrap();
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(&token),
                    "{} holds the token",
                    p.display()
                );
            }
        }
    }
    assert!(files >= 4, "only {files} files were checked");
}

/// Shell metacharacters in a branch prefix, an incident id, a file name and commit messages
/// reach configured commands as values (environment variables) and templates as text, and are
/// never executed.
#[test]
fn shell_metacharacters_in_names_and_messages_are_never_executed() {
    let mut env = released_repo(true);
    let gh = fake_github::server().new_repo(&env.origin);
    gh.apply_env(&mut env);
    gh.add_user("alice", "alice@example.com");
    let seen = env.root.join("seen.txt");
    env.set_env("SEEN", seen.to_str().unwrap());
    let record = "printf '%s|%s\\n' \"$HOTFIX_BRANCH\" \"$HOTFIX_INCIDENT\" >> \"$SEEN\"";
    env.commit_file(
        ".rolloutrc",
        &format!(
            "[model]\nhotfix_prefix = \"fix/$(touch${{IFS}}pwned-branch)`touch${{IFS}}pwned-tick`-\"\n\
             [ship]\nconfirm_deploy = false\nbackport = false\n\
             [approval]\npoll_interval = \"20ms\"\n\
             [lifecycle]\npost_start = [{record:?}]\npre_ship = [{record:?}]\n\
             [[deploy.stage]]\nid = \"app\"\nrun = {record:?}\n"
        ),
        "team policy",
    );
    env.git(&["push", "-q", "origin", "main"]);
    let incident = "INC-7; touch pwned-incident && $(touch pwned-incident2)";
    env.hotfix(&["start", "--incident", incident]).ok();
    let branch = env.current_branch();
    assert!(
        branch.starts_with("fix/$(touch${IFS}pwned-branch)"),
        "{branch}"
    );
    env.commit_file(
        "$(touch pwned-file);`touch pwned-file2`.txt",
        "fixed\n",
        "Fix $(touch pwned-msg) `touch pwned-msg2`; touch pwned-msg3 (INC-7)",
    );
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    env.hotfix(&["ship"]).ok();

    let mut left = vec![env.root.clone()];
    while let Some(d) = left.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(
                !name.starts_with("pwned"),
                "{} was created: something was executed",
                e.path().display()
            );
            if e.path().is_dir() && name != "objects" {
                left.push(e.path());
            }
        }
    }
    // Each configured command got the values verbatim: post_start, pre_ship, the deploy stage.
    let lines = std::fs::read_to_string(&seen).unwrap();
    let want = format!("{branch}|{incident}");
    assert_eq!(lines.lines().filter(|l| *l == want).count(), 3, "{lines}");
    let body = gh.pr(n).body.unwrap_or_default();
    assert!(
        body.contains("`touch pwned-msg2`") || body.contains("touch pwned-msg2"),
        "{body}"
    );
}

#[test]
fn a_command_that_prints_the_token_is_scrubbed() {
    let (env, gh) = shipping("min_approvals = 1");
    std::fs::write(env.root.join("leak.txt"), gh.token()).unwrap();
    // The hotfix branch predates .rolloutrc; give the command through the user's config.
    std::fs::create_dir_all(env.home.join(".config/hotfix")).unwrap();
    std::fs::write(
        env.home.join(".config/hotfix/config.toml"),
        "[lifecycle]\npre_ship = [\"cat ../leak.txt; exit 1\"]\n",
    )
    .unwrap();
    let run = env.hotfix(&["ship", "--no-wait"]);
    run.code(1);
    assert!(run.stderr.contains("[token scrubbed]"), "{}", run.stderr);
    assert!(!run.all().contains(gh.token()));
    assert!(gh.prs().is_empty(), "nothing was opened");
}

#[test]
fn status_refresh_asks_github_and_explains_each_review() {
    let (env, gh) = shipping("min_approvals = 2");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    // Plain status reads local state only: nothing new yet.
    let before = gh.requests().len();
    let st = env.hotfix(&["status", "--json"]).json()["result"].clone();
    assert_eq!(gh.requests().len(), before, "status alone makes no request");
    assert!(st["approvals"].as_array().unwrap().is_empty());
    let st = env.hotfix(&["status", "--refresh", "--json"]).json()["result"].clone();
    assert_eq!(st["pr"]["number"], n);
    assert_eq!(st["approvals"][0]["login"], "alice");
    assert_eq!(st["approvals"][0]["counts"], true);
    let human = env.hotfix(&["status"]);
    assert!(
        human
            .stdout
            .contains("waiting for 1 of 2 required approval(s)"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_primary_rate_limit_waits_for_the_reset() {
    let (env, gh) = shipping("min_approvals = 1");
    let reset = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1)
    .to_string();
    gh.fail_next(
        "GET",
        r"/pulls/\d+$",
        403,
        1,
        &[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", reset.as_str()),
        ],
        false,
    );
    let run = env.hotfix(&["ship", "--no-wait"]);
    run.code(3);
    assert!(run.stderr.contains("primary rate limit"), "{}", run.stderr);
}

/// A fresh clone of the origin, as a CI runner has it: on the hotfix branch, with no
/// `.git/hotfix` at all.
fn runner_clone(env: &TestEnv) -> std::path::PathBuf {
    env.git_in(
        &env.root,
        &["clone", "-q", env.origin.to_str().unwrap(), "runner"],
    );
    let runner = env.root.join("runner");
    env.git_in(&runner, &["switch", "-q", "hotfix/1.3.1"]);
    runner
}

/// Ships up to an approved PR (one approval by alice).
fn approved(env: &TestEnv, gh: &FakeRepo) -> u64 {
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    n
}

#[test]
fn a_failing_health_gate_after_the_merge_rolls_production_back() {
    let stages = "[[deploy.stage]]\nid = \"api\"\nrun = \"true\"\nrollback = \"touch rolled-back\"\n[deploy.stage.health]\ncommand = \"false\"\ninterval = \"10ms\"\ntimeout = \"1s\"\n";
    let (env, gh) = shipping_with("min_approvals = 1", stages);
    let n = approved(&env, &gh);
    let run = env.hotfix(&["ship"]);
    run.code(1);
    assert!(run.stderr.contains("rolled back"), "{}", run.stderr);
    assert!(
        env.work
            .join(".git/hotfix/worktrees/v1.3.1/rolled-back")
            .exists(),
        "the rollback ran in the release worktree"
    );
    let d = &gh.deployments()[0];
    assert_eq!(d.statuses.last().map(|(s, _)| s.as_str()), Some("failure"));
    assert!(
        gh.comments(n).iter().any(|c| c.contains("failed")),
        "{:?}",
        gh.comments(n)
    );
    let st = env.hotfix(&["status", "--json"]).json()["result"].clone();
    assert_eq!(st["phase"], "deploy-failed");
    assert_eq!(st["deploy"]["environment"], "production");
    assert_eq!(st["deploy"]["stages"][0]["id"], "api");
    assert_eq!(st["deploy"]["stages"][0]["state"]["state"], "rolled-back");
    assert_eq!(st["next_command"], "hotfix ship");
    assert!(
        gh.releases().iter().all(|r| r.draft),
        "the release stays a draft"
    );
}

#[test]
fn without_a_terminal_the_deploy_question_needs_yes_and_resumes() {
    let (mut env, gh) = shipping_with("min_approvals = 1", "");
    let n = approved(&env, &gh);
    // Ask before deploying (the test configuration turns the question off).
    env.set_env("HOTFIX_SHIP_CONFIRM_DEPLOY", "true");
    let run = env.hotfix(&["ship"]);
    run.code(3);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert!(gh.pr(n).merged, "merged and tagged before the question");
    assert!(
        gh.deployments().is_empty(),
        "nothing deployed without an answer"
    );
    env.hotfix(&["ship", "--yes"]).ok();
    assert_eq!(gh.deployments().len(), 1);
}

#[test]
fn an_approval_older_than_expires_after_at_deploy_time_is_exit_4() {
    let (mut env, gh) = shipping_with("min_approvals = 1\nexpires_after = \"1h\"", "");
    let n = approved(&env, &gh);
    env.set_env("HOTFIX_SHIP_CONFIRM_DEPLOY", "true");
    // Merged and tagged, then the deploy waits for a confirmation that comes two hours later.
    env.hotfix(&["ship"]).code(3);
    env.set_env("HOTFIX_TEST_CLOCK_OFFSET", &(2 * 3600).to_string());
    let run = env.hotfix(&["ship", "--yes"]);
    run.code(4);
    assert!(run.stderr.contains("fresh approval"), "{}", run.stderr);
    assert!(gh.pr(n).merged);
    assert!(gh.deployments().is_empty());
}

#[test]
fn a_ci_runner_without_local_state_rebuilds_it_from_the_remote() {
    let (env, gh) = shipping("min_approvals = 1");
    let n = approved(&env, &gh);
    let runner = runner_clone(&env);
    let run = env.run_in(&runner, &["ship", "--yes"]);
    run.ok();
    assert!(
        run.stderr.contains("rebuilt hotfix 1.3.1"),
        "{}",
        run.stderr
    );
    assert!(gh.pr(n).merged);
    assert_eq!(gh.prs().len(), 1, "no second PR");
    assert!(origin_ref(&env, "refs/tags/v1.3.1").is_some());
    assert_eq!(gh.deployments().len(), 1);
}

#[test]
fn a_tag_taken_while_waiting_moves_the_release_to_the_next_free_patch() {
    let (env, gh) = shipping("min_approvals = 1");
    let n = approved(&env, &gh);
    // Someone else releases 1.3.1 from elsewhere while the PR waits.
    env.git(&["tag", "-a", "v1.3.1", "-m", "elsewhere", "v1.3.0"]);
    env.git(&["push", "-q", "origin", "v1.3.1"]);
    env.git(&["tag", "-d", "v1.3.1"]);
    let run = env.hotfix(&["ship"]);
    run.ok();
    assert!(
        run.stderr.contains("tagging v1.3.2 instead"),
        "{}",
        run.stderr
    );
    let main = origin_ref(&env, "main").unwrap();
    assert_eq!(
        origin_ref(&env, "v1.3.2^{commit}").as_deref(),
        Some(main.as_str())
    );
    assert!(gh.pr(n).merged);
}

#[test]
fn fault_matrix_each_fault_ends_in_a_correct_clearly_reported_state() {
    /// (method, path, status, headers, take effect before failing)
    type Fault<'a> = (&'a str, &'a str, u16, &'a [(&'a str, &'a str)], bool);
    let faults: &[Fault] = &[
        ("GET", r"/pulls$", 500, &[], false),
        ("GET", r"/pulls/\d+$", 504, &[], false),
        ("GET", r"/user$", 429, &[("retry-after", "1")], false),
        ("POST", r"/pulls$", 504, &[], true),
        ("POST", r"/labels$", 500, &[], true),
        ("POST", r"/requested_reviewers$", 502, &[], true),
        ("POST", r"/comments$", 502, &[], true),
        ("GET", r"/reviews$", 500, &[], false),
    ];
    for (method, path, status, headers, take_effect) in faults {
        let (env, gh) = shipping("min_approvals = 1");
        gh.fail_next(method, path, *status, 1, headers, *take_effect);
        let run = env.hotfix(&["ship", "--no-wait"]);
        let case = format!("{method} {path} → {status}");
        run.code(3);
        let prs = gh.prs();
        assert_eq!(prs.len(), 1, "{case}");
        assert_eq!(prs[0].labels, ["hotfix"], "{case}");
        assert_eq!(
            gh.comments(prs[0].number).len(),
            1,
            "{case}: one review request comment"
        );
        let posts = gh
            .requests()
            .iter()
            .filter(|r| {
                r.method == "POST" && r.path.ends_with("/requested_reviewers") && !r.injected
            })
            .count();
        assert!(posts <= 1, "{case}: reviewers requested {posts} times");
    }
}

#[test]
fn after_a_failed_deploy_a_further_fix_is_a_new_round_with_the_next_patch() {
    let stages = "[[deploy.stage]]\nid = \"api\"\nrun = \"true\"\nrollback = \"true\"\n[deploy.stage.health]\ncommand = \"test -f ok.txt\"\ninterval = \"10ms\"\ntimeout = \"1s\"\n";
    let (env, gh) = shipping_with("min_approvals = 1", stages);
    approved(&env, &gh);
    env.hotfix(&["ship"]).code(1);
    assert_eq!(
        env.hotfix(&["status", "--json"]).json()["result"]["phase"],
        "deploy-failed"
    );
    // Rerunning without a new commit retries the deploy of the same tag.
    env.hotfix(&["ship"]).code(1);
    assert!(
        gh.deployments()
            .iter()
            .all(|d| d.sha == origin_ref(&env, "v1.3.1^{commit}").unwrap())
    );
    // A further fix: a new PR round, released as 1.3.2.
    env.commit_file("ok.txt", "ok\n", "Make the health check pass (INC-1)");
    let run = env.hotfix(&["ship", "--no-wait"]);
    run.code(3);
    assert!(
        run.stderr.contains("new PR round as v1.3.2"),
        "{}",
        run.stderr
    );
    let prs = gh.prs();
    assert_eq!(prs.len(), 2, "a second PR for the new round");
    let n2 = prs.iter().find(|p| !p.merged).unwrap().number;
    gh.review(n2, "alice", "APPROVED", None, None);
    env.hotfix(&["ship"]).ok();
    assert!(origin_ref(&env, "refs/tags/v1.3.2").is_some());
    let st = env.hotfix(&["status", "--json"]).json()["result"].clone();
    assert_eq!(st["phase"], "deployed");
    assert_eq!(st["version"], "1.3.2");
}

#[test]
fn status_refresh_on_a_fresh_clone_rebuilds_the_state_from_the_remote() {
    let (env, gh) = shipping("min_approvals = 1");
    let n = approved(&env, &gh);
    let runner = runner_clone(&env);
    let plain = env.run_in(&runner, &["status", "--json"]);
    assert_eq!(
        plain.json()["result"]["in_progress"],
        false,
        "plain status stays local and offline"
    );
    let st = env
        .run_in(&runner, &["status", "--refresh", "--json"])
        .json()["result"]
        .clone();
    assert_eq!(st["in_progress"], true);
    assert_eq!(st["pr"]["number"], n);
    assert_eq!(st["approvals"][0]["login"], "alice");
    assert_eq!(st["approvals"][0]["counts"], true);
}
