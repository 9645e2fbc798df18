//! `hotfix test`: selection with reasons, execution with timeouts, hostile file names.

use crate::harness::TestEnv;

const RC: &str = r#"
[model]
kind = "trunk"

[tests]
smoke = ["echo smoke"]
full = "echo full suite"
unmatched = "full"

[[tests.rule]]
name = "billing"
paths = ["services/billing/**", "shared/money/**"]
run = "echo billing"

[[tests.rule]]
name = "api"
paths = ["api/**"]
run = "echo api"

[[tests.rule]]
name = "lib"
paths = ["lib/**"]
run = "echo lib"

[[tests.rule]]
name = "web"
paths = ["web/**"]
run = "echo web"

[[tests.rule]]
name = "docs"
paths = ["docs/**"]
run = "echo docs"
"#;

/// A released trunk repository with `.rolloutrc` and some areas, and a hotfix started on it.
fn started(rc: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write(".rolloutrc", rc);
    env.write("services/billing/invoice.rs", "fn invoice() {}\n");
    env.write("api/handler.rs", "fn handle() {}\n");
    env.write(
        "lib/old_name.rs",
        "pub fn helper() -> u32 { 42 }\n// a file long enough to be seen as renamed\n",
    );
    env.write("docs/guide.md", "guide\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "initial"]);
    env.git(&["tag", "-a", "v1.0.0", "-m", "release"]);
    env.git(&["push", "-q", "origin", "main", "--tags"]);
    env.hotfix(&["start"]).ok();
    env
}

#[test]
fn list_json_selects_exactly_the_rules_the_fix_touches_with_reasons() {
    let env = started(RC);
    env.write("services/billing/invoice.rs", "fn invoice() { fixed() }\n");
    env.write("api/handler.rs", "fn handle() { fixed() }\n");
    std::fs::create_dir_all(env.work.join("web")).unwrap();
    env.git(&["mv", "lib/old_name.rs", "web/new_name.rs"]);
    env.write("notes.txt", "no rule covers me\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "the fix"]);

    let run = env.hotfix(&["test", "--list", "--json"]);
    run.ok();
    let r = &run.json()["result"];
    let selected: Vec<(String, Vec<String>)> = r["selected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["rule"].as_str().unwrap().to_string(),
                s["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let expect = |rule: &str, files: &[&str]| {
        (
            rule.to_string(),
            files.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        selected,
        vec![
            expect("billing", &["services/billing/invoice.rs"]),
            expect("api", &["api/handler.rs"]),
            expect("lib", &["lib/old_name.rs"]),
            expect("web", &["web/new_name.rs"]),
            expect("full", &["notes.txt"]),
        ]
    );
    assert_eq!(r["smoke"], serde_json::json!(["echo smoke"]));
    assert_eq!(r["unmatched_files"], serde_json::json!(["notes.txt"]));
    assert_eq!(r["selected"][0]["command"], "echo billing");

    // The human listing gives the same reasons, and nothing ran.
    let human = env.hotfix(&["test", "--list"]);
    assert!(
        human.stdout.contains("selected by web/new_name.rs"),
        "{}",
        human.stdout
    );
    assert!(!env.work.join(".git/hotfix/logs").exists());
}

#[test]
fn unmatched_fail_exits_2_naming_the_file() {
    let mut env = started(RC);
    env.commit_file("notes.txt", "no rule\n", "the fix");
    env.set_env("HOTFIX_TESTS_UNMATCHED", "fail");
    let run = env.hotfix(&["test", "--list"]);
    run.code(2);
    assert!(run.stderr.contains("notes.txt"), "{}", run.stderr);
}

#[test]
fn a_failing_a_hanging_and_a_passing_command_are_each_reported() {
    let rc = r#"
[model]
kind = "trunk"
[tests]
unmatched = "smoke"
timeout = "1s"
jobs = 3
[[tests.rule]]
name = "passes"
paths = ["a/**"]
run = "true"
[[tests.rule]]
name = "fails"
paths = ["a/**"]
run = "echo broken; exit 3"
[[tests.rule]]
name = "hangs"
paths = ["a/**"]
run = "sleep 60 & echo $! > ../child.pid; wait"
"#;
    let env = started(rc);
    env.commit_file("a/x.txt", "x\n", "the fix");
    let run = env.hotfix(&["test"]);
    run.code(1);
    let out = &run.stdout;
    let line = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {out}"))
            .to_string()
    };
    assert!(line("passes").contains("passed"), "{out}");
    assert!(line("fails").contains("failed (exit 3)"), "{out}");
    assert!(line("hangs").contains("timed out"), "{out}");
    // The log of the failing command holds its output, and its path was printed.
    let log = line("fails").split_whitespace().last().unwrap().to_string();
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "broken\n");
    // The hanging command's child was killed with its process group.
    let pid = std::fs::read_to_string(env.root.join("child.pid")).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "child still running: {stat}"
    );
    // A failed run does not move the hotfix to `tested`.
    assert_eq!(env.state().unwrap()["phase"], "started");
}

#[test]
fn passing_tests_move_the_hotfix_to_tested_and_see_the_hotfix_environment() {
    let rc = r#"
[model]
kind = "trunk"
[tests]
smoke = ["echo \"$HOTFIX_VERSION $HOTFIX_BRANCH\" > ../env.txt; cat \"$HOTFIX_CHANGED_FILES\" >> ../env.txt"]
unmatched = "smoke"
"#;
    let env = started(rc);
    env.commit_file("a.txt", "a\n", "the fix");
    env.hotfix(&["test"]).ok();
    assert_eq!(env.state().unwrap()["phase"], "tested");
    let seen = std::fs::read_to_string(env.root.join("env.txt")).unwrap();
    assert_eq!(seen, "1.0.1 hotfix/1.0.1\na.txt\n");
}

#[test]
fn changed_file_names_are_never_executed() {
    let rc = r#"
[model]
kind = "trunk"
[tests]
smoke = ["cat \"$HOTFIX_CHANGED_FILES\" > ../seen.txt"]
unmatched = "smoke"
"#;
    let env = started(rc);
    std::fs::create_dir_all(env.work.join("x")).unwrap();
    env.write("x/keep.txt", "keep\n");
    env.write("$(touch pwned)", "a\n");
    env.write("; rm -rf x", "b\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "hostile names"]);
    env.hotfix(&["test"]).ok();
    let seen = std::fs::read_to_string(env.root.join("seen.txt")).unwrap();
    assert!(seen.contains("$(touch pwned)"), "{seen}");
    assert!(seen.contains("; rm -rf x"), "{seen}");
    assert!(!env.work.join("pwned").exists());
    assert!(!env.root.join("pwned").exists());
    assert!(env.work.join("x/keep.txt").exists());
}

#[test]
fn all_runs_the_full_suite_and_smoke() {
    let rc = "[model]\nkind = \"trunk\"\n[tests]\nsmoke = [\"echo s > ../smoke.txt\"]\nfull = \"echo f > ../full.txt\"\n";
    let env = started(rc);
    let run = env.hotfix(&["test", "--all", "--json"]);
    run.ok();
    assert!(env.root.join("smoke.txt").exists());
    assert!(env.root.join("full.txt").exists());
    assert_eq!(run.json()["result"]["results"].as_array().unwrap().len(), 2);
}

#[test]
fn test_without_a_hotfix_compares_with_the_previous_release_or_base() {
    let env = started(RC);
    env.hotfix(&["abort"]).ok();
    env.commit_file("api/more.rs", "x\n", "api work");
    let run = env.hotfix(&["test", "--list", "--json", "--base", "v1.0.0"]);
    run.ok();
    assert_eq!(run.json()["result"]["selected"][0]["rule"], "api");
}

#[test]
fn ctrl_c_stops_the_running_commands_and_exits_130() {
    let fifo_home = TestEnv::new();
    let fifo = fifo_home.fifo("started");
    let rc = format!(
        "[model]\nkind = \"trunk\"\n[tests]\nunmatched = \"smoke\"\nsmoke = [\"echo started > '{}'; sleep 60\"]\n",
        fifo.display()
    );
    let env = started(&rc);
    let mut child = env.spawn(&["test"]);
    // Blocks until the test command has started (no sleeping).
    let started = std::fs::read_to_string(&fifo).unwrap();
    assert_eq!(started, "started\n");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
}
