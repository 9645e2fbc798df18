//! Configuration: every kind of bad file is an exit-2 error with file:line:column; layers,
//! sources, environment overrides and the safety gate.

use crate::harness::{TestEnv, released_repo};

/// Writes `.rolloutrc` (uncommitted) and returns what `hotfix config check` said.
#[track_caller]
fn check(text: &str) -> String {
    let env = TestEnv::new();
    env.write(".rolloutrc", text);
    let run = env.hotfix(&["config", "check"]);
    run.code(2);
    run.stderr
}

#[track_caller]
fn assert_at(text: &str, position: &str, needle: &str) {
    let out = check(text);
    assert!(
        out.contains(&format!(".rolloutrc:{position}:")),
        "expected position {position} in:\n{out}"
    );
    assert!(out.contains(needle), "expected {needle:?} in:\n{out}");
}

#[test]
fn an_unknown_key_is_an_error_at_its_position() {
    assert_at(
        "[approval]\nmin_approvals = 2\nreviewer = [\"a\"]\n",
        "3:1",
        "unknown field `reviewer`",
    );
}

#[test]
fn an_unknown_table_is_an_error() {
    assert_at(
        "[aproval]\nmin_approvals = 2\n",
        "1:2",
        "unknown field `aproval`",
    );
}

#[test]
fn a_wrong_type_is_an_error() {
    assert_at("[tests]\njobs = \"four\"\n", "2:8", "invalid type");
}

#[test]
fn a_bad_duration_is_an_error() {
    assert_at(
        "[approval]\nexpires_after = \"4 hours-ish\"\n",
        "2:17",
        "invalid duration",
    );
}

#[test]
fn a_bad_glob_is_an_error() {
    assert_at(
        "[[tests.rule]]\nname = \"billing\"\npaths = [\"services/[billing/**\"]\nrun = \"x\"\n",
        "3:9",
        "invalid glob",
    );
}

#[test]
fn an_unknown_dependency_is_an_error_naming_it() {
    assert_at(
        "[[deploy.stage]]\nid = \"api\"\nrun = \"x\"\ndepends_on = [\"databse\"]\n",
        "4:15",
        "unknown stage \"databse\"",
    );
}

#[test]
fn a_dependency_cycle_is_an_error_naming_the_cycle() {
    let out = check(
        "[[deploy.stage]]\nid = \"a\"\nrun = \"x\"\ndepends_on = [\"b\"]\n\n[[deploy.stage]]\nid = \"b\"\nrun = \"y\"\ndepends_on = [\"a\"]\n",
    );
    assert!(out.contains("dependency cycle: a → b → a"), "{out}");
    assert!(out.contains(".rolloutrc:4:"), "{out}");
}

#[test]
fn zero_approvals_is_an_error() {
    assert_at(
        "[approval]\nmin_approvals = 0\n",
        "2:17",
        "at least one real approval",
    );
}

#[test]
fn a_token_anywhere_in_the_file_is_an_error() {
    let token = format!("ghp_{}", "A1b2C3d4E5".repeat(4));
    let out = check(&format!(
        "# my token: {token}\n[github]\nrepo = \"acme/claims\"\n"
    ));
    assert!(out.contains(".rolloutrc:1:13:"), "{out}");
    assert!(out.contains("looks like a GitHub token"), "{out}");
    assert!(
        !out.contains(&token),
        "the token itself is never printed:\n{out}"
    );
}

#[test]
fn invalid_toml_syntax_is_an_error() {
    assert_at("[approval\nmin_approvals = 2\n", "1:10", "unclosed table");
}

#[test]
fn an_unknown_model_kind_is_an_error() {
    assert_at(
        "[model]\nkind = \"gitflow\"\n",
        "2:8",
        "unknown variant `gitflow`",
    );
}

#[test]
fn a_duplicate_stage_id_is_an_error() {
    assert_at(
        "[[deploy.stage]]\nid = \"a\"\nrun = \"x\"\n\n[[deploy.stage]]\nid = \"a\"\nrun = \"y\"\n",
        "6:6",
        "used twice",
    );
}

#[test]
fn promote_and_traffic_together_are_an_error() {
    let out = check(
        "[[deploy.stage]]\nid = \"a\"\nrun = \"x\"\npromote = \"swap\"\n[deploy.stage.traffic]\nrun = \"w\"\nsteps = [10, 100]\n",
    );
    assert!(out.contains("has `promote` and `traffic`"), "{out}");
    assert!(out.contains(".rolloutrc:"), "{out}");
}

#[test]
fn a_bad_incident_pattern_is_an_error() {
    assert_at(
        "[hooks]\nincident_pattern = \"INC-[0-9+\"\n",
        "2:20",
        "not a valid regular expression",
    );
}

#[test]
fn several_problems_are_reported_together() {
    let out = check("[tests]\njobs = 0\n[deploy]\nmax_parallel = 0\n");
    assert!(out.contains("2 problems"), "{out}");
}

#[test]
fn a_bad_rolloutrc_stops_start_before_anything_changes() {
    let env = released_repo(true);
    env.commit_file(
        ".rolloutrc",
        "[approval]\nmin_approvals = 0\n",
        "bad config",
    );
    let before = env.snapshot();
    let run = env.hotfix(&["start"]);
    run.code(2);
    assert!(run.stderr.contains(".rolloutrc:2:17:"), "{}", run.stderr);
    assert_eq!(before, env.snapshot());
}

#[test]
fn the_shipped_example_documents_a_valid_configuration() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".rolloutrc.example");
    let env = TestEnv::new();
    let run = env.hotfix(&["config", "check", "--file", example.to_str().unwrap()]);
    run.ok();
    assert!(run.stdout.contains("valid"), "{}", run.stdout);
}

#[test]
fn config_prints_each_value_with_its_layer() {
    let mut env = released_repo(true);
    std::fs::create_dir_all(env.home.join(".config/hotfix")).unwrap();
    std::fs::write(
        env.home.join(".config/hotfix/config.toml"),
        "[tests]\njobs = 3\ntimeout = \"1m\"\n",
    )
    .unwrap();
    env.write(".rolloutrc", "[tests]\njobs = 2\n");
    env.set_env("HOTFIX_TESTS_TIMEOUT", "5m");
    let run = env.hotfix(&["config"]);
    run.ok();
    assert!(
        run.stdout.contains("jobs = 2  # .rolloutrc"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("timeout = \"5m\"  # env HOTFIX_TESTS_TIMEOUT"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("kind = \"git-flow\"  # detected"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("min_approvals = 1  # default"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_environment_override_changes_the_model() {
    let mut env = released_repo(true);
    env.set_env("HOTFIX_MODEL_KIND", "trunk");
    let run = env.hotfix(&["start", "--json"]);
    run.ok();
    assert_eq!(run.json()["result"]["base"]["ref"], "origin/main");
}

#[test]
fn the_safety_gate_cannot_be_loosened_by_the_working_tree_or_the_user() {
    let mut env = released_repo(true);
    env.commit_file(
        ".rolloutrc",
        "[approval]\nmin_approvals = 2\nrequired_reviewers = [\"oncall-lead\"]\nexpires_after = \"1h\"\n",
        "team policy",
    );
    env.git(&["push", "-q", "origin", "main"]);
    env.write(
        ".rolloutrc",
        "[approval]\nmin_approvals = 1\nexpires_after = \"8h\"\n",
    );
    env.set_env("HOTFIX_APPROVAL_MIN_APPROVALS", "1");
    let run = env.hotfix(&["config", "--json"]);
    run.ok();
    let cfg = &run.json()["result"]["config"]["approval"];
    assert_eq!(cfg["min_approvals"], 2);
    assert_eq!(cfg["expires_after"], "1h");
    assert_eq!(cfg["required_reviewers"][0], "oncall-lead");
    assert!(
        run.stderr.contains("ignored a looser safety-gate value"),
        "{}",
        run.stderr
    );
    // Stricter is fine.
    env.extra_env.clear();
    env.write(".rolloutrc", "[approval]\nmin_approvals = 3\nrequired_reviewers = [\"oncall-lead\"]\nexpires_after = \"30m\"\n");
    let run = env.hotfix(&["config", "--json"]);
    assert_eq!(
        run.json()["result"]["config"]["approval"]["min_approvals"],
        3
    );
    assert!(!run.stderr.contains("ignored"), "{}", run.stderr);
}

#[test]
fn several_problems_snapshot() {
    let out = check(
        "[tests]\njobs = 0\n\n[[deploy.stage]]\nid = \"api\"\nrun = \"./deploy.sh\"\ndepends_on = [\"db\"]\n\n[deploy.stage.health]\nurl = \"https://x\"\ncommand = \"./check.sh\"\n",
    );
    insta::assert_snapshot!(out);
}
