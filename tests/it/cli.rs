//! The command line: help, exit codes, `git hotfix`, JSON envelope, completions, man page.

use crate::harness::{TestEnv, hotfix_bin, released_repo};

#[test]
fn commands_not_built_yet_exit_2_and_say_so() {
    let env = TestEnv::new();
    for cmd in [
        &["backport"][..],
        &["plan"],
        &["deploy"],
        &["rollback"],
        &["log"],
        &["runbook"],
    ] {
        let run = env.hotfix(cmd);
        run.code(2);
        assert!(
            run.stderr.contains("not yet available"),
            "{cmd:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn bad_usage_exits_2() {
    let env = TestEnv::new();
    env.hotfix(&["start", "--frm", "x"]).code(2);
    env.hotfix(&["frobnicate"]).code(2);
}

#[test]
fn help_teaches_the_path_and_the_exit_codes() {
    let env = TestEnv::new();
    let run = env.hotfix(&["--help"]);
    run.ok();
    assert!(run.stdout.contains("hotfix start"), "{}", run.stdout);
    assert!(run.stdout.contains("Exit codes"), "{}", run.stdout);
    env.hotfix(&["start", "--help"]).ok();
}

#[test]
fn a_refusal_in_json_mode_is_one_object_with_the_error() {
    let env = released_repo(true);
    env.write("app.txt", "dirty\n");
    let run = env.hotfix(&["start", "--json"]);
    run.code(2);
    let j = run.json();
    assert_eq!(j["exit_code"], 2);
    assert_eq!(j["error"]["kind"], "precondition");
    assert!(j["error"]["hint"].as_str().unwrap().contains("git stash"));
    assert!(j["result"].is_null());
}

#[test]
fn outside_a_repository_is_a_clear_refusal() {
    let env = TestEnv::new();
    let run = env.run_in(&env.home, &["status"]);
    run.code(2);
    assert!(
        run.stderr.contains("not inside a git repository"),
        "{}",
        run.stderr
    );
}

#[test]
fn dash_c_runs_as_if_started_there() {
    let env = released_repo(true);
    let run = env.run_in(&env.root, &["-C", "work", "status", "--json"]);
    run.ok();
    assert_eq!(run.json()["result"]["in_progress"], false);
}

#[test]
fn git_hotfix_is_the_same_program() {
    let env = released_repo(true);
    let dir = hotfix_bin().parent().unwrap().to_path_buf();
    assert!(dir.join("git-hotfix").exists());
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("git")
        .args(["hotfix", "status", "--json"])
        .current_dir(&env.work)
        .env("PATH", path)
        .env("HOME", &env.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"in_progress\":false"));
}

#[test]
fn completions_and_man_page_are_generated() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish"] {
        let run = env.hotfix(&["completions", shell]);
        run.ok();
        assert!(run.stdout.contains("hotfix"), "{shell}");
    }
    let man = env.hotfix(&["man"]);
    man.ok();
    assert!(
        man.stdout.contains(".TH hotfix"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
}

#[test]
fn init_detects_the_model_and_writes_a_valid_rolloutrc() {
    let env = released_repo(true);
    let run = env.hotfix(&["init"]);
    run.ok();
    let text = std::fs::read_to_string(env.work.join(".rolloutrc")).unwrap();
    assert!(text.contains("kind = \"git-flow\""), "{text}");
    assert!(text.contains("duration = \"10m\""), "{text}");
    env.hotfix(&["config", "check"]).ok();
    // A second init refuses to overwrite, --force does.
    env.hotfix(&["init"]).code(2);
    env.hotfix(&["init", "--force", "--model", "trunk"]).ok();
    let text = std::fs::read_to_string(env.work.join(".rolloutrc")).unwrap();
    assert!(text.contains("kind = \"trunk\""), "{text}");
}

#[test]
fn init_detects_trunk_and_release_branch() {
    let env = released_repo(false);
    env.hotfix(&["init"]).ok();
    assert!(
        std::fs::read_to_string(env.work.join(".rolloutrc"))
            .unwrap()
            .contains("kind = \"trunk\"")
    );
    let env = released_repo(false);
    env.git(&["push", "-q", "origin", "main:refs/heads/release/1.3"]);
    env.git(&["fetch", "-q", "origin"]);
    env.hotfix(&["init"]).ok();
    assert!(
        std::fs::read_to_string(env.work.join(".rolloutrc"))
            .unwrap()
            .contains("kind = \"release-branch\"")
    );
}

#[test]
fn init_stages_appends_ready_made_blocks_that_plan_understands() {
    let env = released_repo(true);
    env.hotfix(&["init", "--stages", "azure-slots", "--stages", "k8s-rolling"])
        .ok();
    let text = std::fs::read_to_string(env.work.join(".rolloutrc")).unwrap();
    assert!(text.contains("az webapp deployment slot swap"), "{text}");
    assert!(text.contains("kubectl -n"), "{text}");
    let plan = env.hotfix(&["plan"]);
    plan.ok();
    assert!(
        plan.stdout.contains("webapp") && plan.stdout.contains("k8s-api"),
        "{}",
        plan.stdout
    );
    // Appending to the existing file works; appending the same block twice is refused.
    env.hotfix(&["init", "--stages", "weighted"]).ok();
    let before = std::fs::read_to_string(env.work.join(".rolloutrc")).unwrap();
    let run = env.hotfix(&["init", "--stages", "weighted"]);
    run.code(2);
    assert!(run.stderr.contains("used twice"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(env.work.join(".rolloutrc")).unwrap(),
        before
    );
    env.hotfix(&["init", "--stages", "nope"]).code(2);
}
