//! The command line: help, exit codes, `git hotfix`, JSON envelope, completions, man page.

use crate::harness::{TestEnv, hotfix_bin, released_repo};

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

fn check_jsonschema(schema: &str, file: &std::path::Path) {
    // The Azure schema's patterns need Python's regex dialect.
    let Ok(out) = std::process::Command::new("check-jsonschema")
        .args(["--regex-variant", "python", "--builtin-schema", schema])
        .arg(file)
        .output()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install check-jsonschema"
        );
        eprintln!("skipped: check-jsonschema is not installed");
        return;
    };
    assert!(
        out.status.success(),
        "{schema} rejects {}:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn init_ci_writes_workflows_that_pass_the_published_schemas() {
    let env = released_repo(true);
    env.hotfix(&["init"]).ok();
    let rc_before = std::fs::read_to_string(env.work.join(".rolloutrc")).unwrap();
    env.hotfix(&["init", "--ci", "github"]).ok();
    env.hotfix(&["init", "--ci", "azure"]).ok();
    assert_eq!(
        std::fs::read_to_string(env.work.join(".rolloutrc")).unwrap(),
        rc_before,
        "the existing .rolloutrc is kept"
    );
    let gh = env.work.join(".github/workflows/hotfix.yml");
    let text = std::fs::read_to_string(&gh).unwrap();
    assert!(
        text.contains("hotfix ship --yes --no-wait") && text.contains("pull_request_review"),
        "{text}"
    );
    assert!(text.contains("starts no workflows"), "{text}");
    check_jsonschema("vendor.github-workflows", &gh);
    let az = env.work.join("azure-pipelines.hotfix.yml");
    assert!(
        std::fs::read_to_string(&az)
            .unwrap()
            .contains("hotfix ship --yes --no-wait")
    );
    check_jsonschema("vendor.azure-pipelines", &az);
    // Not overwritten without --force.
    env.hotfix(&["init", "--ci", "github"]).code(2);
}

#[test]
fn runbook_renders_the_process_from_the_configuration() {
    let env = released_repo(true);
    env.write(
        ".rolloutrc",
        "[approval]\nmin_approvals = 2\nrequired_reviewers = [\"oncall-lead\"]\n[[tests.rule]]\nname = \"billing\"\npaths = [\"billing/**\"]\nrun = \"make test-billing\"\n[[deploy.stage]]\nid = \"db\"\nrun = \"./migrate.sh\"\nrollback = \"./migrate.sh down\"\n[[deploy.stage]]\nid = \"api\"\nrun = \"./api.sh\"\ndepends_on = [\"db\"]\n",
    );
    let run = env.hotfix(&["runbook"]);
    run.ok();
    let text = &run.stdout;
    assert!(text.contains("At least **2** approval(s)"), "{text}");
    assert!(text.contains("oncall-lead"), "{text}");
    assert!(
        text.contains("`make test-billing` when a change touches billing/**"),
        "{text}"
    );
    assert!(
        text.contains("Wave 1") && text.contains("**db**") && text.contains("Wave 2"),
        "{text}"
    );
    assert!(
        text.contains("merged into `develop` with `--no-ff`"),
        "{text}"
    );
    env.hotfix(&["runbook", "--output", "RUNBOOK.md"]).ok();
    assert!(
        std::fs::read_to_string(env.work.join("RUNBOOK.md"))
            .unwrap()
            .contains("# Hotfix runbook")
    );
}
