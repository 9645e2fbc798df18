//! The whole path for each model — start → commit → ship → deploy → backport — and the
//! backport's conflict hand-over (`--continue`, `--skip`, `--abort`), reruns and PR mode.

use crate::fake_github::{self, FakeRepo};
use crate::harness::{TestEnv, released_repo};

fn origin_ref(env: &TestEnv, r: &str) -> Option<String> {
    let out = env.git_output(&env.origin, &["rev-parse", "--verify", "-q", r]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Binds a fake GitHub to `env`, commits `.rolloutrc` (with `rc`) to main, pushes.
fn with_github(env: &mut TestEnv, rc: &str) -> FakeRepo {
    let gh = fake_github::server().new_repo(&env.origin);
    gh.apply_env(env);
    gh.add_user("alice", "alice@example.com");
    gh.add_user("bob", "bob@example.com");
    env.commit_file(
        ".rolloutrc",
        &format!("[ship]\nconfirm_deploy = false\nbackport = false\n[approval]\npoll_interval = \"20ms\"\n{rc}"),
        "team policy",
    );
    env.git(&["push", "-q", "origin", "HEAD"]);
    gh
}

/// Starts, commits the fix to `file`, ships with two approvals; returns the PR number.
fn ship_fix(env: &TestEnv, gh: &FakeRepo, file: &str) -> u64 {
    env.hotfix(&["start"]).ok();
    env.commit_file(file, "fixed\n", "Fix the outage");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    gh.review(n, "bob", "APPROVED", None, None);
    env.hotfix(&["ship"]).ok();
    n
}

fn file_at(env: &TestEnv, rev: &str, path: &str) -> Option<String> {
    let out = env.git_output(&env.origin, &["show", &format!("{rev}:{path}")]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[track_caller]
fn nothing_in_progress(env: &TestEnv) {
    let st = env.hotfix(&["status", "--json"]).json()["result"].clone();
    assert_eq!(st["in_progress"], false, "{st}");
}

#[test]
fn git_flow_end_to_end_leaves_every_branch_with_the_fix() {
    let mut env = released_repo(true);
    let gh = with_github(&mut env, "");
    // develop must carry .rolloutrc too (a real git-flow repository would).
    env.git(&["push", "-q", "origin", "main:develop", "--force"]);
    let develop_before = origin_ref(&env, "develop").unwrap();
    let n = ship_fix(&env, &gh, "fix.txt");
    let run = env.hotfix(&["backport"]);
    run.ok();
    // One PR merged; the tag on the merge commit on main; develop has the tag merged --no-ff.
    assert!(gh.pr(n).merged);
    assert_eq!(gh.prs().len(), 1);
    let main = origin_ref(&env, "main").unwrap();
    assert_eq!(
        origin_ref(&env, "v1.3.1^{commit}").as_deref(),
        Some(main.as_str())
    );
    let develop = origin_ref(&env, "develop").unwrap();
    let parents = env.git_in(&env.origin, &["rev-list", "--parents", "-n1", "develop"]);
    let parents: Vec<&str> = parents.split(' ').skip(1).collect();
    assert_eq!(
        parents,
        [develop_before.as_str(), main.as_str()],
        "a --no-ff merge of the tag into develop"
    );
    assert_eq!(
        env.git_in(&env.origin, &["log", "-1", "--format=%s", &develop]),
        "Merge tag 'v1.3.1' into develop"
    );
    assert_eq!(
        file_at(&env, "develop", "fix.txt").as_deref(),
        Some("fixed\n")
    );
    // The hotfix branch is gone here and there, one Deployment succeeded, nothing in progress.
    assert!(origin_ref(&env, "refs/heads/hotfix/1.3.1").is_none());
    assert!(env.git(&["branch", "--list", "hotfix/1.3.1"]).is_empty());
    let deps = gh.deployments();
    assert_eq!(deps.len(), 1);
    assert_eq!(
        deps[0].statuses.last().map(|(s, _)| s.as_str()),
        Some("success")
    );
    nothing_in_progress(&env);
    let record =
        std::fs::read_to_string(env.work.join(".git/hotfix/done/1.3.1/record.md")).unwrap();
    assert!(
        record.contains("alice") && record.contains("bob"),
        "{record}"
    );
    assert!(record.contains("backport"), "{record}");
    gh.assert_no_schema_violations();

    // A rerun changes nothing and says why for each commit.
    let again = env.hotfix(&["backport"]);
    again.ok();
    assert!(
        again.stdout.contains("already on develop (ancestor"),
        "{}",
        again.stdout
    );
    assert_eq!(
        origin_ref(&env, "develop").as_deref(),
        Some(develop.as_str())
    );
}

/// Releases 1.3 and 1.4, each with its `release/X.Y` line, pushed with the tags.
fn release_lines(env: &TestEnv) {
    env.commit_file("app.txt", "1.3\n", "initial");
    env.git(&["tag", "-a", "v1.3.0", "-m", "r"]);
    env.git(&["branch", "release/1.3"]);
    env.commit_file("app.txt", "1.4\n", "1.4 work");
    env.git(&["tag", "-a", "v1.4.0", "-m", "r"]);
    env.git(&["branch", "release/1.4"]);
    env.git(&[
        "push",
        "-q",
        "origin",
        "main",
        "release/1.3",
        "release/1.4",
        "--tags",
    ]);
}

#[test]
fn release_branch_end_to_end_cherry_picks_to_main_and_newer_lines() {
    let mut env = TestEnv::new();
    release_lines(&env);
    let gh = with_github(&mut env, "");
    // .rolloutrc went to main; put it on the release lines too.
    for b in ["release/1.3", "release/1.4"] {
        env.git(&["push", "-q", "origin", &format!("main:{b}"), "--force"]);
    }
    env.git(&["fetch", "-q", "origin"]);
    env.hotfix(&["start", "--from", "release/1.3", "1.3.1"])
        .ok();
    env.commit_file("fix.txt", "fixed\n", "Fix the outage");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    assert_eq!(gh.pr(n).base, "release/1.3");
    gh.review(n, "alice", "APPROVED", None, None);
    env.hotfix(&["ship"]).ok();
    env.hotfix(&["backport"]).ok();
    for b in ["main", "release/1.4"] {
        assert_eq!(
            file_at(&env, b, "fix.txt").as_deref(),
            Some("fixed\n"),
            "{b}"
        );
        let msg = env.git_in(&env.origin, &["log", "-1", "--format=%B", b]);
        assert!(msg.contains("(cherry picked from commit"), "{b}: {msg}");
    }
    assert!(origin_ref(&env, "refs/tags/v1.3.1").is_some());
    nothing_in_progress(&env);
}

/// A hotfix of three commits (a new directory, a mode change, a deletion that empties a
/// directory) picked in memory onto two targets gives, on each, exactly the tree and the
/// trailers that `git cherry-pick -x` of the same commits gives.
#[test]
fn a_three_commit_fix_lands_like_git_cherry_pick_x() {
    let mut env = TestEnv::new();
    env.write("shared/a.txt", "a\n");
    env.write("shared/b.txt", "b\n");
    release_lines(&env);
    env.commit_file("app.txt", "1.5 in progress\n", "main moves on");
    env.git(&["push", "-q", "origin", "main"]);
    let gh = with_github(&mut env, "");
    for b in ["release/1.3", "release/1.4"] {
        env.git(&["switch", "-q", b]);
        env.git(&["checkout", "-q", "main", "--", ".rolloutrc"]);
        env.git(&["commit", "-q", "-m", "team policy"]);
        env.git(&["push", "-q", "origin", b]);
    }
    env.git(&["switch", "-q", "main"]);
    env.git(&["fetch", "-q", "origin"]);
    env.hotfix(&["start", "--from", "release/1.3", "1.3.1"])
        .ok();
    env.write("shared/a.txt", "a, fixed\n");
    env.write("newdir/x.txt", "x\n");
    env.git(&["add", "."]);
    env.git(&["commit", "-q", "-m", "Fix a, add x"]);
    {
        use std::os::unix::fs::PermissionsExt;
        let a = env.work.join("shared/a.txt");
        std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    env.git(&["add", "shared/a.txt"]);
    env.git(&["rm", "-q", "shared/b.txt"]);
    env.git(&["commit", "-q", "-m", "Make a executable, drop b"]);
    env.git(&["rm", "-q", "newdir/x.txt"]);
    env.write("shared/c.txt", "c\n");
    env.git(&["add", "shared/c.txt"]);
    env.git(&["commit", "-q", "-m", "Drop x again, add c"]);
    let fix: Vec<String> = env
        .git(&["rev-list", "--reverse", "origin/release/1.3..HEAD"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(fix.len(), 3);
    let before: Vec<String> = ["main", "release/1.4"]
        .iter()
        .map(|b| origin_ref(&env, b).unwrap())
        .collect();
    env.hotfix(&["ship", "--no-wait"]).code(3);
    let n = gh.prs()[0].number;
    gh.review(n, "alice", "APPROVED", None, None);
    env.hotfix(&["ship"]).ok();
    env.hotfix(&["backport"]).ok();

    for (b, old) in ["main", "release/1.4"].iter().zip(&before) {
        // What git itself makes of the same picks, in a scratch worktree.
        let wt = env.root.join(format!("reference-{}", b.replace('/', "-")));
        env.git(&[
            "worktree",
            "add",
            "-q",
            "--detach",
            wt.to_str().unwrap(),
            old,
        ]);
        let mut args = vec!["cherry-pick", "-x"];
        args.extend(fix.iter().map(String::as_str));
        env.git_in(&wt, &args);
        let expected_tree = env.git_in(&wt, &["rev-parse", "HEAD^{tree}"]);
        let got_tree = env.git_in(&env.origin, &["rev-parse", &format!("{b}^{{tree}}")]);
        assert_eq!(
            got_tree, expected_tree,
            "{b}: same tree as git cherry-pick -x"
        );
        let log = env.git_in(&env.origin, &["log", "--format=%B", &format!("{old}..{b}")]);
        for sha in &fix {
            assert!(
                log.contains(&format!("(cherry picked from commit {sha})")),
                "{b}: {sha} picked with -x\n{log}"
            );
        }
        let count = env.git_in(
            &env.origin,
            &["rev-list", "--count", &format!("{old}..{b}")],
        );
        assert_eq!(count, "3", "{b}: one commit per pick");
    }
    nothing_in_progress(&env);
}

#[test]
fn trunk_end_to_end_needs_no_backport() {
    let mut env = released_repo(false);
    let gh = with_github(&mut env, "");
    let n = ship_fix(&env, &gh, "fix.txt");
    assert!(gh.pr(n).merged);
    env.hotfix(&["backport"]).ok();
    assert_eq!(file_at(&env, "main", "fix.txt").as_deref(), Some("fixed\n"));
    assert!(origin_ref(&env, "refs/heads/hotfix/1.3.1").is_none());
    nothing_in_progress(&env);
}

/// git-flow with develop and two open release branches; release/1.4 already has a different
/// `fix.txt`, so cherry-picking the fix there conflicts (the second of three targets).
fn three_targets() -> (TestEnv, FakeRepo) {
    let mut env = released_repo(true);
    let gh = with_github(&mut env, "");
    env.git(&["push", "-q", "origin", "main:develop", "--force"]);
    env.git(&["switch", "-q", "-c", "release/1.4", "main"]);
    env.commit_file("fix.txt", "a different fix\n", "1.4 work");
    env.git(&["switch", "-q", "-c", "release/1.5", "main"]);
    env.commit_file("other.txt", "1.5\n", "1.5 work");
    env.git(&["switch", "-q", "main"]);
    env.git(&["push", "-q", "origin", "release/1.4", "release/1.5"]);
    env.git(&["fetch", "-q", "origin"]);
    ship_fix(&env, &gh, "fix.txt");
    (env, gh)
}

#[test]
fn a_conflict_on_the_second_target_continues_after_resolution() {
    let (env, _gh) = three_targets();
    let run = env.hotfix(&["backport"]);
    run.code(3);
    assert!(run.stderr.contains("release/1.4"), "{}", run.stderr);
    assert!(run.stderr.contains("fix.txt"), "{}", run.stderr);
    assert!(
        run.stderr.contains("--continue")
            && run.stderr.contains("--skip")
            && run.stderr.contains("--abort")
    );
    assert_eq!(env.current_branch(), "hotfix-backport/release/1.4");
    // Nothing was pushed yet.
    assert_eq!(
        file_at(&env, "release/1.4", "fix.txt").as_deref(),
        Some("a different fix\n")
    );
    // Continuing with the conflict unresolved is refused.
    env.hotfix(&["backport", "--continue"]).code(3);
    env.write("fix.txt", "both fixes\n");
    env.git(&["add", "fix.txt"]);
    env.hotfix(&["backport", "--continue"]).ok();
    assert_eq!(
        file_at(&env, "release/1.4", "fix.txt").as_deref(),
        Some("both fixes\n")
    );
    assert_eq!(
        file_at(&env, "release/1.5", "fix.txt").as_deref(),
        Some("fixed\n")
    );
    assert_eq!(
        file_at(&env, "develop", "fix.txt").as_deref(),
        Some("fixed\n")
    );
    assert!(
        env.git(&["branch", "--list", "hotfix-backport/*"])
            .is_empty()
    );
    nothing_in_progress(&env);
}

#[test]
fn a_resolution_committed_by_hand_is_accepted() {
    let (env, _gh) = three_targets();
    env.hotfix(&["backport"]).code(3);
    env.write("fix.txt", "resolved by hand\n");
    env.git(&["add", "fix.txt"]);
    env.git(&["-c", "core.editor=true", "cherry-pick", "--continue"]);
    env.hotfix(&["backport", "--continue"]).ok();
    assert_eq!(
        file_at(&env, "release/1.4", "fix.txt").as_deref(),
        Some("resolved by hand\n")
    );
}

#[test]
fn skip_leaves_that_target_untouched_and_reports_it() {
    let (env, _gh) = three_targets();
    let before = origin_ref(&env, "release/1.4").unwrap();
    env.hotfix(&["backport"]).code(3);
    let run = env.hotfix(&["backport", "--skip"]);
    run.ok();
    assert_eq!(
        origin_ref(&env, "release/1.4").as_deref(),
        Some(before.as_str())
    );
    assert!(
        run.stdout.contains("release/1.4 does NOT have the fix"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("kept"),
        "the hotfix branch is kept: {}",
        run.stderr
    );
    assert_eq!(
        file_at(&env, "release/1.5", "fix.txt").as_deref(),
        Some("fixed\n")
    );
    assert!(origin_ref(&env, "refs/heads/hotfix/1.3.1").is_some());
}

#[test]
fn abort_puts_all_three_targets_back() {
    let (env, _gh) = three_targets();
    let before: Vec<Option<String>> = ["develop", "release/1.4", "release/1.5"]
        .iter()
        .map(|b| origin_ref(&env, b))
        .collect();
    let branch_before = env.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    env.hotfix(&["backport"]).code(3);
    env.hotfix(&["backport", "--abort"]).ok();
    let after: Vec<Option<String>> = ["develop", "release/1.4", "release/1.5"]
        .iter()
        .map(|b| origin_ref(&env, b))
        .collect();
    assert_eq!(before, after);
    assert_eq!(
        env.git(&["rev-parse", "--abbrev-ref", "HEAD"]),
        branch_before
    );
    assert!(env.git(&["status", "--porcelain"]).is_empty());
    assert!(
        env.git(&["branch", "--list", "hotfix-backport/*"])
            .is_empty()
    );
    // The hotfix is still there to backport later.
    let st = env.hotfix(&["status", "--json"]).json()["result"].clone();
    assert_eq!(st["phase"], "deployed");
}

#[test]
fn unpushed_local_commits_on_a_target_never_travel_along() {
    let mut env = released_repo(true);
    let gh = with_github(&mut env, "");
    env.git(&["push", "-q", "origin", "main:develop", "--force"]);
    env.git(&["fetch", "-q", "origin"]);
    env.git(&["branch", "-f", "develop", "origin/develop"]);
    env.git(&["switch", "-q", "develop"]);
    env.commit_file("local.txt", "unpushed\n", "local only");
    env.git(&["switch", "-q", "main"]);
    ship_fix(&env, &gh, "fix.txt");
    env.hotfix(&["backport"]).ok();
    assert!(file_at(&env, "develop", "local.txt").is_none());
    // The local develop is not rewritten (it has a commit the remote lacks).
    assert!(
        env.git(&["log", "-1", "--format=%s", "develop"])
            .contains("local only")
    );
}

#[test]
fn pr_mode_proposes_one_pull_request_per_target() {
    let (env, gh) = three_targets();
    let run = env.hotfix(&["backport", "--to", "release/1.5", "--pr"]);
    run.ok();
    let prs = gh.prs();
    let bp: Vec<_> = prs
        .iter()
        .filter(|p| p.head.starts_with("backport/"))
        .collect();
    assert_eq!(bp.len(), 1);
    assert_eq!(
        (bp[0].head.as_str(), bp[0].base.as_str()),
        ("backport/1.3.1-to-release-1.5", "release/1.5")
    );
    assert!(
        bp[0]
            .body
            .as_deref()
            .unwrap_or("")
            .contains("Backport of hotfix 1.3.1")
    );
    let st = env.hotfix(&["status", "--json"]).json()["result"].clone();
    assert_eq!(st["phase"], "backport-pending");
    assert_eq!(st["backport"][0]["target"], "release/1.5");
    assert_eq!(st["backport"][0]["state"], "pr-open");
    assert_eq!(st["next_command"], "hotfix backport");
}

#[test]
fn ship_brings_the_fix_back_itself_when_ship_backport_is_true() {
    let mut env = released_repo(true);
    let gh = with_github(&mut env, "");
    env.commit_file(
        ".rolloutrc",
        "[ship]\nconfirm_deploy = false\n[approval]\npoll_interval = \"20ms\"\n",
        "policy: backport on ship",
    );
    env.git(&["push", "-q", "origin", "HEAD"]);
    env.git(&["push", "-q", "origin", "main:develop", "--force"]);
    ship_fix(&env, &gh, "fix.txt");
    assert_eq!(
        file_at(&env, "develop", "fix.txt").as_deref(),
        Some("fixed\n")
    );
    nothing_in_progress(&env);
    // Shipping again after it is done prints the summary and succeeds.
    let again = env.hotfix(&["ship"]);
    again.ok();
    assert!(again.stdout.contains("is done"), "{}", again.stdout);
}

/// The shape of history at `rev` in `dir`: a commit's subject, or for a merge
/// `merge(<first parent>, <second parent>)`, recursively.
fn shape(env: &TestEnv, dir: &std::path::Path, rev: &str) -> String {
    let parents = env.git_in(dir, &["rev-list", "--parents", "-n1", rev]);
    let parents: Vec<String> = parents.split(' ').skip(1).map(String::from).collect();
    if parents.len() > 1 {
        let inner: Vec<String> = parents.iter().map(|p| shape(env, dir, p)).collect();
        format!("merge({})", inner.join(", "))
    } else {
        env.git_in(dir, &["log", "-1", "--format=%s", rev])
    }
}

/// A git-flow repository whose main is exactly at v1.3.0 and whose develop has moved on.
fn git_flow_history() -> TestEnv {
    let env = TestEnv::new();
    env.commit_file("app.txt", "1.2\n", "release 1.2");
    env.git(&["tag", "-a", "v1.2.0", "-m", "r"]);
    env.commit_file("app.txt", "1.3\n", "release 1.3");
    env.git(&["tag", "-a", "v1.3.0", "-m", "r"]);
    env.git(&["switch", "-q", "-c", "develop"]);
    env.commit_file("next.txt", "next\n", "work for 1.4");
    env.git(&["switch", "-q", "main"]);
    env.git(&["push", "-q", "origin", "main", "develop", "--tags"]);
    env.git(&["fetch", "-q", "origin"]);
    env
}

#[test]
fn git_flow_graph_matches_git_flow_avh_hotfix_finish() {
    if std::process::Command::new("git-flow")
        .arg("version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install git-flow (Debian package git-flow)"
        );
        eprintln!("skipped: git-flow (AVH) is not installed");
        return;
    }
    // git-flow AVH, by hand.
    let avh = git_flow_history();
    avh.git(&["branch", "-f", "develop", "origin/develop"]);
    avh.git(&["flow", "init", "-d"]);
    avh.git(&["config", "gitflow.prefix.versiontag", "v"]);
    avh.git(&["flow", "hotfix", "start", "1.3.1"]);
    avh.commit_file("fix.txt", "fixed\n", "Fix the outage");
    avh.git(&["flow", "hotfix", "finish", "-m", "Hotfix 1.3.1", "1.3.1"]);

    // hotfix, through the fake GitHub (no .rolloutrc: the environment configures it).
    let mut env = git_flow_history();
    let gh = fake_github::server().new_repo(&env.origin);
    gh.apply_env(&mut env);
    gh.add_user("alice", "alice@example.com");
    env.set_env("HOTFIX_SHIP_CONFIRM_DEPLOY", "false");
    env.set_env("HOTFIX_APPROVAL_POLL_INTERVAL", "20ms");
    env.hotfix(&["start"]).ok();
    env.commit_file("fix.txt", "fixed\n", "Fix the outage");
    env.hotfix(&["ship", "--no-wait"]).code(3);
    gh.review(gh.prs()[0].number, "alice", "APPROVED", None, None);
    env.hotfix(&["ship"]).ok();

    for rev in ["main", "develop", "v1.3.1^{commit}"] {
        assert_eq!(
            shape(&env, &env.origin, rev),
            shape(&avh, &avh.work, rev),
            "{rev}"
        );
    }
    assert_eq!(
        shape(&env, &env.origin, "develop"),
        "merge(work for 1.4, merge(release 1.3, Fix the outage))"
    );
    let subject =
        |e: &TestEnv, d: &std::path::Path| e.git_in(d, &["log", "-1", "--format=%s", "develop"]);
    assert_eq!(
        subject(&env, &env.origin),
        subject(&avh, &avh.work),
        "the same back-merge message"
    );
    assert_eq!(
        env.git_in(&env.origin, &["cat-file", "-t", "v1.3.1"]),
        avh.git(&["cat-file", "-t", "v1.3.1"])
    );
}

#[test]
fn a_change_already_made_by_hand_is_found_by_patch_id() {
    let (env, _gh) = three_targets();
    // release/1.5 got the very same change by hand, without any trailer.
    env.git(&["switch", "-q", "release/1.5"]);
    env.commit_file("fix.txt", "fixed\n", "Same fix, typed again");
    env.git(&["push", "-q", "origin", "release/1.5"]);
    env.git(&["switch", "-q", "main"]);
    let before = origin_ref(&env, "release/1.5").unwrap();
    let run = env.hotfix(&["backport", "--to", "release/1.5"]);
    run.ok();
    assert!(
        run.stdout.contains("already on release/1.5 (patch-id"),
        "{}",
        run.stdout
    );
    assert_eq!(
        origin_ref(&env, "release/1.5").as_deref(),
        Some(before.as_str()),
        "nothing pushed"
    );
}

/// A target commit that makes the same change to the fix's file but also touches another file
/// has another patch id (as `git cherry` sees it): it is not taken for the fix, and the pick,
/// finding the change there already, is empty.
#[test]
fn a_larger_commit_with_the_same_hunk_is_not_a_patch_id_match() {
    let (env, _gh) = three_targets();
    env.git(&["switch", "-q", "release/1.5"]);
    env.write("fix.txt", "fixed\n");
    env.write("more.txt", "more\n");
    env.git(&["add", "fix.txt", "more.txt"]);
    env.git(&["commit", "-q", "-m", "Same fix and more"]);
    env.git(&["push", "-q", "origin", "release/1.5"]);
    env.git(&["switch", "-q", "main"]);
    let target = origin_ref(&env, "release/1.5").unwrap();
    let fix = env.git(&["rev-parse", "hotfix/1.3.1"]);
    let cherry = env.git(&["cherry", &target, &fix]);
    assert!(cherry.starts_with("+ "), "git cherry: {cherry}");
    let run = env.hotfix(&["backport", "--to", "release/1.5"]);
    run.ok();
    assert!(!run.stdout.contains("(patch-id"), "{}", run.stdout);
    assert!(run.stdout.contains("the pick is empty"), "{}", run.stdout);
}

#[test]
fn log_shows_the_timeline_and_record_of_the_last_finished_hotfix() {
    let mut env = released_repo(false);
    let gh = with_github(&mut env, "");
    ship_fix(&env, &gh, "fix.txt");
    env.hotfix(&["backport"]).ok();
    let run = env.hotfix(&["log", "--json"]);
    run.ok();
    let r = &run.json()["result"];
    let steps: Vec<&str> = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["step"].as_str())
        .collect();
    for s in [
        "start",
        "ship:push",
        "ship:approval",
        "ship:merge",
        "ship:tag",
        "deploy",
        "backport",
    ] {
        assert!(steps.contains(&s), "{s} missing from {steps:?}");
    }
    assert!(r["record"].as_str().unwrap().contains("# Hotfix 1.3.1"));
}

/// Runs the whole path (ship with ship.backport = true) and kills the process with SIGKILL at
/// `crash_at`, then reruns until done. Returns what the remote and GitHub hold at the end.
fn whole_path(crash_at: Option<&str>) -> (Vec<String>, usize) {
    let mut env = released_repo(true);
    let gh = with_github(&mut env, "");
    env.commit_file(
        ".rolloutrc",
        "[ship]\nconfirm_deploy = false\n[approval]\npoll_interval = \"20ms\"\n",
        "policy",
    );
    env.git(&["push", "-q", "origin", "HEAD"]);
    env.git(&["push", "-q", "origin", "main:develop", "--force"]);
    env.hotfix(&["start"]).ok();
    env.commit_file("fix.txt", "fixed\n", "Fix the outage");
    let mut crashed = crash_at.is_none();
    let mut reviewed = false;
    for _ in 0..8 {
        if !crashed {
            env.set_env("HOTFIX_TEST_CRASH_AT", crash_at.unwrap());
        }
        let run = env.hotfix(&["ship", "--yes", "--no-wait"]);
        env.extra_env.retain(|(k, _)| k != "HOTFIX_TEST_CRASH_AT");
        if run.code == -1 {
            crashed = true;
            continue;
        }
        if !reviewed && !gh.prs().is_empty() {
            gh.review(gh.prs()[0].number, "alice", "APPROVED", None, None);
            reviewed = true;
            continue;
        }
        if run.code == 0 && crashed {
            break;
        }
        assert!(
            run.code == 3 || run.code == 0,
            "{crash_at:?}: unexpected exit {}\n{}",
            run.code,
            run.stderr
        );
    }
    assert!(crashed, "{crash_at:?} was never reached");
    let prs = gh.prs();
    let n = prs[0].number;
    let facts = vec![
        format!(
            "prs={} merged={}",
            prs.len(),
            prs.iter().filter(|p| p.merged).count()
        ),
        format!(
            "tag-on-main={}",
            origin_ref(&env, "v1.3.1^{commit}") == origin_ref(&env, "main")
        ),
        format!(
            "develop-has-fix={}",
            file_at(&env, "develop", "fix.txt").as_deref() == Some("fixed\n")
        ),
        format!(
            "hotfix-branch-gone={}",
            origin_ref(&env, "refs/heads/hotfix/1.3.1").is_none()
        ),
        format!(
            "deployments={:?}",
            gh.deployments()
                .iter()
                .map(|d| d.statuses.last().map(|(s, _)| s.clone()))
                .collect::<Vec<_>>()
        ),
        format!(
            "releases={:?}",
            gh.releases()
                .iter()
                .map(|r| (r.tag_name.clone(), r.draft))
                .collect::<Vec<_>>()
        ),
        format!("labels={:?}", gh.pr(n).labels),
        format!(
            "in-progress={}",
            env.hotfix(&["status", "--json"]).json()["result"]["in_progress"]
        ),
    ];
    (facts, gh.comments(n).len())
}

#[test]
fn a_kill_at_any_step_of_the_path_then_a_rerun_ends_like_an_uninterrupted_run() {
    let (expected, comments) = whole_path(None);
    assert!(
        expected.contains(&"prs=1 merged=1".to_string()),
        "{expected:?}"
    );
    for point in [
        "ship:tested",
        "ship:pushed",
        "ship:pr",
        "ship:waiting",
        "ship:merged",
        "ship:tagged",
        "deploy:before-stages",
        "ship:deployed",
        "ship:commented-deployed",
        "ship:released",
        "ship:finished",
        "backport:begun",
        "backport:target-applied",
        "backport:pushed",
        "backport:backported",
        "backport:branch-deleted",
        "backport:done",
    ] {
        let (facts, n) = whole_path(Some(point));
        assert_eq!(facts, expected, "killed at {point}");
        assert_eq!(n, comments, "killed at {point}: no duplicated comment");
    }
}
