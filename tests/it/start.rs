//! `hotfix start`: base resolution per model, versions, refusals, resumption, dry-run, picks.

use crate::harness::{TestEnv, released_repo};

#[test]
fn git_flow_start_branches_from_the_latest_release_tag() {
    let env = released_repo(true);
    let v130 = env.rev("v1.3.0");
    env.hotfix(&["start"]).ok();
    assert_eq!(env.current_branch(), "hotfix/1.3.1");
    assert_eq!(env.rev("HEAD"), v130);
    let st = env.state().unwrap();
    assert_eq!(st["version"], "1.3.1");
    assert_eq!(st["phase"], "started");
    assert_eq!(st["base"]["ref"], "v1.3.0");
    assert_eq!(st["pr_target"], "main");
    assert_eq!(st["model"], "git-flow");
}

#[test]
fn a_version_tagged_elsewhere_is_skipped() {
    let env = released_repo(true);
    // Someone tagged 1.3.1 on a side branch that never reached main.
    env.git(&["switch", "-q", "-c", "side", "v1.3.0"]);
    env.commit("side fix");
    env.git(&["tag", "-a", "v1.3.1", "-m", "elsewhere"]);
    env.git(&["push", "-q", "origin", "v1.3.1"]);
    env.git(&["switch", "-q", "main"]);
    env.hotfix(&["start"]).ok();
    assert_eq!(env.current_branch(), "hotfix/1.3.2");
    assert_eq!(env.rev("HEAD"), env.rev("v1.3.0"));
}

#[test]
fn release_branch_model_picks_the_newest_release_line_by_version() {
    let env = TestEnv::new();
    env.commit_file("app.txt", "1.9\n", "initial");
    env.git(&["branch", "release/1.9"]);
    env.git(&["tag", "-a", "v1.9.0", "-m", "r"]);
    env.commit_file("app.txt", "1.10\n", "ten");
    env.git(&["switch", "-q", "-c", "release/1.10"]);
    env.git(&["tag", "-a", "v1.10.0", "-m", "r"]);
    env.commit_file("app.txt", "1.10.1\n", "fix");
    env.git(&["tag", "-a", "v1.10.1", "-m", "r"]);
    env.commit_file("app.txt", "1.10 next\n", "unreleased on the line");
    let tip = env.rev("HEAD");
    env.git(&["switch", "-q", "main"]);
    env.git(&[
        "push",
        "-q",
        "origin",
        "main",
        "release/1.9",
        "release/1.10",
        "--tags",
    ]);
    let run = env.hotfix(&["start", "--json"]);
    run.ok();
    let r = &run.json()["result"];
    assert_eq!(r["version"], "1.10.2");
    assert_eq!(r["pr_target"], "release/1.10");
    assert_eq!(r["previous"]["ref"], "v1.10.1");
    assert_eq!(r["unreleased_commits"].as_array().unwrap().len(), 1);
    assert_eq!(env.rev("HEAD"), tip);
    assert_eq!(env.state().unwrap()["model"], "release-branch");
}

#[test]
fn trunk_branches_from_the_remote_main_not_the_local_one() {
    let env = released_repo(false);
    let remote_tip = env.rev("origin/main");
    env.commit_file("local.txt", "unpushed\n", "local unpushed work");
    let run = env.hotfix(&["start", "--json"]);
    run.ok();
    assert_eq!(env.current_branch(), "hotfix/1.3.1");
    assert_eq!(env.rev("HEAD"), remote_tip);
    let r = &run.json()["result"];
    assert_eq!(r["base"]["ref"], "origin/main");
    // The commit after v1.3.0 ships along, and start says so.
    assert_eq!(r["unreleased_commits"][0]["summary"], "unreleased work");
}

#[test]
fn from_an_older_release_uses_the_support_line_in_git_flow() {
    let env = released_repo(true);
    let run = env.hotfix(&["start", "--from", "v1.2.0", "--json"]);
    run.ok();
    let r = &run.json()["result"];
    assert_eq!(r["branch"], "hotfix/1.2.1");
    assert_eq!(r["pr_target"], "support/1.2");
    assert_eq!(env.rev("HEAD"), env.rev("v1.2.0"));
    assert!(
        run.stderr.contains("support/1.2 does not exist yet"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_explicit_version_is_used_when_it_is_newer() {
    let env = released_repo(true);
    env.hotfix(&["start", "1.3.7"]).ok();
    assert_eq!(env.current_branch(), "hotfix/1.3.7");
}

/// Runs `args`, expects exit 2 with `needle` in the output, and checks nothing changed.
#[track_caller]
fn refused(env: &TestEnv, args: &[&str], needle: &str) -> String {
    let before = env.snapshot();
    let run = env.hotfix(args);
    run.code(2);
    let all = run.all();
    assert!(all.contains(needle), "expected {needle:?} in:\n{all}");
    assert!(all.contains("hint:"), "a refusal names the way out:\n{all}");
    assert_eq!(before, env.snapshot(), "a refusal changed something");
    all
}

#[test]
fn start_refuses_a_dirty_tree_and_changes_nothing() {
    let env = released_repo(true);
    env.write("app.txt", "edited\n");
    let out = refused(&env, &["start"], "uncommitted changes");
    assert!(out.contains("app.txt"));
    assert!(out.contains("git stash"));
}

#[test]
fn start_refuses_a_branch_that_exists_locally() {
    let env = released_repo(true);
    env.git(&["branch", "hotfix/1.3.1", "v1.3.0"]);
    refused(&env, &["start"], "already exists locally");
}

#[test]
fn start_refuses_a_branch_that_exists_only_on_the_remote() {
    let env = released_repo(true);
    env.git(&[
        "push",
        "-q",
        "origin",
        "v1.3.0^{commit}:refs/heads/hotfix/1.3.1",
    ]);
    // Not fetched yet: start fetches and finds it.
    refused(&env, &["start"], "already exists on origin");
}

#[test]
fn start_refuses_an_existing_tag() {
    let env = released_repo(true);
    env.git(&["switch", "-q", "-c", "side", "v1.3.0"]);
    env.commit("side");
    env.git(&["tag", "v1.3.4"]);
    env.git(&["switch", "-q", "main"]);
    refused(&env, &["start", "1.3.4"], "tag v1.3.4 already exists");
}

#[test]
fn start_refuses_a_missing_base_and_lists_the_nearest_releases() {
    let env = released_repo(true);
    let out = refused(&env, &["start", "--from", "v1.2.9"], "does not exist");
    assert!(out.contains("v1.2.0"), "{out}");
}

#[test]
fn start_refuses_a_version_that_is_not_newer() {
    let env = released_repo(true);
    refused(&env, &["start", "1.3.0"], "not newer than v1.3.0");
    refused(&env, &["start", "1.2.5"], "not newer than v1.3.0");
}

#[test]
fn start_refuses_a_second_hotfix() {
    let env = released_repo(true);
    env.hotfix(&["start"]).ok();
    refused(&env, &["start", "1.3.5"], "in progress");
}

#[test]
fn start_refuses_when_there_is_no_release_at_all() {
    let env = TestEnv::new();
    env.commit("initial");
    env.git(&["push", "-q", "origin", "main"]);
    refused(&env, &["start"], "no release tag");
}

#[test]
fn dry_run_prints_the_git_operations_and_changes_nothing() {
    let env = released_repo(true);
    let before = env.snapshot();
    let run = env.hotfix(&["start", "--dry-run"]);
    run.ok();
    assert!(run.stderr.contains("[dry-run] git fetch"), "{}", run.stderr);
    assert!(
        run.stderr.contains("[dry-run] git switch"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("would start"), "{}", run.stdout);
    assert_eq!(before, env.snapshot());
}

#[test]
fn no_fetch_uses_what_was_fetched_last() {
    let env = released_repo(true);
    // A release pushed by someone else, not fetched.
    let other = env.root.join("other");
    env.git_in(
        &env.root,
        &["clone", "-q", env.origin.to_str().unwrap(), "other"],
    );
    env.git_in(&other, &["tag", "-a", "v1.3.1", "-m", "r", "origin/main"]);
    env.git_in(&other, &["push", "-q", "origin", "v1.3.1"]);
    env.hotfix(&["start", "--no-fetch"]).ok();
    assert_eq!(env.current_branch(), "hotfix/1.3.1");
}

#[test]
fn killed_after_saving_state_rerunning_start_finishes() {
    let mut env = released_repo(true);
    env.set_env("HOTFIX_TEST_CRASH_AT", "start:state-saved");
    let run = env.hotfix(&["start"]);
    assert_ne!(run.code, 0);
    assert_eq!(env.state().unwrap()["phase"], "starting");
    assert_eq!(env.current_branch(), "main");
    env.extra_env.clear();
    env.hotfix(&["start"]).ok();
    assert_eq!(env.current_branch(), "hotfix/1.3.1");
    assert_eq!(env.state().unwrap()["phase"], "started");
}

#[test]
fn killed_after_creating_the_branch_abort_ends_cleanly() {
    let mut env = released_repo(true);
    env.set_env("HOTFIX_TEST_CRASH_AT", "start:branch");
    assert_ne!(env.hotfix(&["start"]).code, 0);
    assert_eq!(env.current_branch(), "hotfix/1.3.1");
    // The lock of the killed process is stale.
    assert!(env.work.join(".git/hotfix/lock").exists());
    env.extra_env.clear();
    let run = env.hotfix(&["abort"]);
    run.ok();
    assert!(run.stderr.contains("stale"), "{}", run.stderr);
    assert_eq!(env.current_branch(), "main");
    assert!(env.state().is_none());
    assert!(env.git(&["branch", "--list", "hotfix/*"]).is_empty());
}

#[test]
fn killed_after_creating_the_branch_rerunning_start_finishes() {
    let mut env = released_repo(true);
    env.set_env("HOTFIX_TEST_CRASH_AT", "start:branch");
    assert_ne!(env.hotfix(&["start"]).code, 0);
    env.extra_env.clear();
    env.hotfix(&["start"]).ok();
    assert_eq!(env.state().unwrap()["phase"], "started");
    assert_eq!(env.git(&["branch", "--list", "hotfix/*"]), "* hotfix/1.3.1");
}

/// `hotfix start --pick A --pick B`, killed (SIGKILL) at `crash_at` and rerun until it
/// finishes; returns what the repository holds at the end.
fn start_with_picks(crash_at: Option<&str>) -> Vec<String> {
    let mut env = released_repo(true);
    env.git(&["switch", "-q", "-c", "feature", "main"]);
    let a = env.commit_file("fix.txt", "fixed\n", "fix the outage");
    let b = env.commit_file("guard.txt", "guarded\n", "guard against it");
    env.git(&["switch", "-q", "main"]);
    let mut killed = false;
    if let Some(point) = crash_at {
        env.set_env("HOTFIX_TEST_CRASH_AT", point);
        let run = env.hotfix(&["start", "--pick", &a, "--pick", &b]);
        assert_eq!(run.code, -1, "{point} was not reached: {}", run.stderr);
        env.extra_env.retain(|(k, _)| k != "HOTFIX_TEST_CRASH_AT");
        killed = true;
    }
    let args: &[&str] = if killed {
        &["start"]
    } else {
        &["start", "--pick", &a, "--pick", &b]
    };
    env.hotfix(args).ok();
    let state = env.state().unwrap();
    vec![
        format!("branch={}", env.current_branch()),
        format!(
            "commits={}",
            env.git(&["log", "--format=%s", "v1.3.0..HEAD"])
                .replace('\n', " | ")
        ),
        format!("tree={}", env.git(&["rev-parse", "HEAD^{tree}"])),
        format!("phase={}", state["phase"]),
        format!("picks={}", state["picks"]),
        format!("steps={}", state["steps"]),
        format!("branches={}", env.git(&["branch", "--list", "hotfix/*"])),
        format!("clean={}", env.git(&["status", "--porcelain"]).is_empty()),
    ]
}

#[test]
fn a_kill_at_any_step_of_start_then_a_rerun_ends_like_an_uninterrupted_start() {
    let expected = start_with_picks(None);
    assert!(
        expected[1].contains("guard against it | fix the outage"),
        "{expected:?}"
    );
    for point in [
        "start:state-saved",
        "start:branch",
        "start:picked-one",
        "start:picks",
    ] {
        assert_eq!(start_with_picks(Some(point)), expected, "killed at {point}");
    }
}

/// Started where HEAD already is (main at the release): only refs move, exactly as `git switch
/// -c` would leave them; with a post-checkout hook, git switches so that the hook runs.
#[test]
fn starting_at_the_checked_out_commit_moves_only_refs() {
    let env = TestEnv::new();
    env.commit_file("app.txt", "one\n", "initial");
    env.git(&["tag", "-a", "v1.3.0", "-m", "release 1.3.0"]);
    env.git(&["push", "-q", "origin", "main", "--tags"]);
    env.write("untracked.txt", "mine\n");
    env.hotfix(&["start"]).ok();
    assert_eq!(env.current_branch(), "hotfix/1.3.1");
    assert_eq!(env.rev("HEAD"), env.rev("v1.3.0"));
    assert_eq!(env.git(&["status", "--porcelain"]), "?? untracked.txt");
    let reflog = env.git(&["reflog", "-1", "--format=%gs", "HEAD"]);
    assert_eq!(reflog, "checkout: moving from main to hotfix/1.3.1");
    let created = env.git(&["reflog", "-1", "--format=%gs", "hotfix/1.3.1"]);
    assert!(created.starts_with("branch: Created from"), "{created}");

    // The same with a post-checkout hook: it runs.
    env.hotfix(&["abort"]).ok();
    let hook = env.work.join(".git/hooks/post-checkout");
    std::fs::write(&hook, "#!/bin/sh\necho \"$3\" > .git/post-checkout-ran\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    env.hotfix(&["start"]).ok();
    assert_eq!(env.current_branch(), "hotfix/1.3.1");
    let ran = std::fs::read_to_string(env.work.join(".git/post-checkout-ran")).unwrap();
    assert_eq!(ran.trim(), "1", "the hook ran for a branch checkout");
}

#[test]
fn a_lock_held_by_a_live_process_is_a_refusal() {
    let env = released_repo(true);
    std::fs::create_dir_all(env.work.join(".git/hotfix")).unwrap();
    // This test process is alive.
    std::fs::write(
        env.work.join(".git/hotfix/lock"),
        format!("{}\nhotfix ship\n", std::process::id()),
    )
    .unwrap();
    let run = env.hotfix(&["start"]);
    run.code(2);
    assert!(
        run.stderr.contains("another hotfix command is running"),
        "{}",
        run.stderr
    );
    assert_eq!(env.current_branch(), "main");
}

#[test]
fn pick_brings_in_a_fix_from_a_feature_branch_with_the_x_trailer() {
    let env = released_repo(true);
    env.git(&["switch", "-q", "-c", "feature", "main"]);
    let fix = env.commit_file("fix.txt", "fixed\n", "fix the outage");
    env.git(&["switch", "-q", "main"]);
    env.hotfix(&["start", "--pick", &fix]).ok();
    let msg = env.git(&["log", "-1", "--format=%B"]);
    assert!(
        msg.contains(&format!("(cherry picked from commit {fix})")),
        "{msg}"
    );
    assert_eq!(env.rev("HEAD^"), env.rev("v1.3.0"));
}

#[test]
fn pick_refuses_a_merge_commit() {
    let env = released_repo(true);
    env.git(&["switch", "-q", "-c", "feature", "main"]);
    env.commit_file("a.txt", "a\n", "a");
    env.git(&["switch", "-q", "main"]);
    env.git(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    let merge = env.rev("HEAD");
    env.git(&["reset", "-q", "--hard", "origin/main"]);
    refused(&env, &["start", "--pick", &merge], "merge commit");
}

#[test]
fn pick_conflict_pauses_and_continue_finishes() {
    let env = released_repo(true);
    // A fix written against main's newer app.txt conflicts with v1.3.0's.
    env.git(&["switch", "-q", "-c", "feature", "main"]);
    let fix = env.commit_file("app.txt", "three, fixed\n", "fix app");
    env.git(&["switch", "-q", "main"]);
    let run = env.hotfix(&["start", "--pick", &fix]);
    run.code(3);
    assert!(run.stderr.contains("app.txt"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hotfix start --continue"),
        "{}",
        run.stderr
    );
    let st = env.hotfix(&["status", "--json"]);
    assert_eq!(
        st.json()["result"]["next_command"],
        "hotfix start --continue"
    );
    // Continuing with the conflict unresolved is refused.
    env.hotfix(&["start", "--continue"]).code(3);
    env.write("app.txt", "two, fixed\n");
    env.git(&["add", "app.txt"]);
    env.hotfix(&["start", "--continue"]).ok();
    assert_eq!(env.state().unwrap()["phase"], "started");
    assert_eq!(
        std::fs::read_to_string(env.work.join("app.txt")).unwrap(),
        "two, fixed\n"
    );
    assert!(
        env.git(&["log", "-1", "--format=%B"])
            .contains("cherry picked from commit")
    );
}

#[test]
fn pick_conflict_abort_restores_everything() {
    let env = released_repo(true);
    env.git(&["switch", "-q", "-c", "feature", "main"]);
    let fix = env.commit_file("app.txt", "three, fixed\n", "fix app");
    env.git(&["switch", "-q", "main"]);
    env.hotfix(&["start", "--pick", &fix]).code(3);
    env.hotfix(&["start", "--abort"]).ok();
    assert_eq!(env.current_branch(), "main");
    assert!(env.state().is_none());
    assert!(env.git(&["status", "--porcelain"]).is_empty());
    assert!(env.git(&["branch", "--list", "hotfix/*"]).is_empty());
}

#[test]
fn lifecycle_commands_get_values_in_the_environment_only() {
    let env = released_repo(true);
    env.commit_file(
        ".rolloutrc",
        "[lifecycle]\npre_start = [\"echo \\\"$HOTFIX_VERSION $HOTFIX_BRANCH\\\" > ../pre.txt\"]\npost_start = [\"echo \\\"$HOTFIX_INCIDENT\\\" > ../post.txt\"]\n",
        "config",
    );
    env.git(&["push", "-q", "origin", "main"]);
    env.hotfix(&["start", "--incident", "INC-1; touch pwned"])
        .ok();
    let pre = std::fs::read_to_string(env.root.join("pre.txt")).unwrap();
    assert_eq!(pre, "1.3.1 hotfix/1.3.1\n");
    let post = std::fs::read_to_string(env.root.join("post.txt")).unwrap();
    assert_eq!(post, "INC-1; touch pwned\n");
    assert!(!env.work.join("pwned").exists());
}

#[test]
fn a_failing_pre_start_command_stops_before_anything_changes() {
    let env = released_repo(true);
    env.commit_file(
        ".rolloutrc",
        "[lifecycle]\npre_start = [\"echo not today; exit 3\"]\n",
        "config",
    );
    env.git(&["push", "-q", "origin", "main"]);
    let run = env.hotfix(&["start"]);
    run.code(1);
    assert!(run.stderr.contains("not today"), "{}", run.stderr);
    assert_eq!(env.current_branch(), "main");
    assert!(env.state().is_none());
}

#[test]
fn the_saved_configuration_is_used_when_the_branch_has_no_rolloutrc() {
    let env = released_repo(true);
    // .rolloutrc is newer than v1.3.0, so the hotfix branch does not have it.
    env.commit_file(".rolloutrc", "[approval]\nmin_approvals = 2\n", "config");
    env.git(&["push", "-q", "origin", "main"]);
    env.hotfix(&["start"]).ok();
    assert!(!env.work.join(".rolloutrc").exists());
    let run = env.hotfix(&["config", "--json"]);
    run.ok();
    assert!(run.stderr.contains("saved"), "{}", run.stderr);
    assert_eq!(
        run.json()["result"]["config"]["approval"]["min_approvals"],
        2
    );
}

#[test]
fn newer_releases_on_other_lines_are_passed_over() {
    let env = released_repo(false);
    // Four newer releases that main never reached (a forked line).
    env.git(&["switch", "-q", "-c", "fork", "v1.2.0"]);
    for v in ["v2.0.0", "v2.0.1", "v2.0.2", "v2.0.3"] {
        env.commit(&format!("fork {v}"));
        env.git(&["tag", "-a", v, "-m", "r"]);
    }
    env.git(&["switch", "-q", "main"]);
    env.git(&["push", "-q", "origin", "--tags"]);
    let run = env.hotfix(&["start", "--json"]);
    run.ok();
    assert_eq!(run.json()["result"]["previous"]["ref"], "v1.3.0");
    assert_eq!(env.current_branch(), "hotfix/1.3.1");
}
