//! `hotfix deploy`, `hotfix rollback`, `hotfix plan`: dependency order, parallel waves, failure
//! and rollback order, health gates, retries, timeouts, resumption, release-only refs.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::harness::TestEnv;

/// A released trunk repository whose `.rolloutrc` (committed before the tag) is `rc`; the
/// release `v1.0.0` is on origin/main.
///
/// Stage commands run in a worktree the tool owns, so they write their markers to `$T`, the
/// test's root directory (`../` in `rc` is rewritten to `$T/`).
fn released_with(rc: &str) -> TestEnv {
    let mut env = TestEnv::new();
    let root = env.root.to_str().unwrap().to_string();
    env.set_env("T", &root);
    let rc = rc.replace("../", "$T/");
    env.write(
        ".rolloutrc",
        &format!("[model]\nkind = \"trunk\"\n[deploy]\nenvironments = [\"production\"]\n{rc}"),
    );
    env.write("api/handler.rs", "fn handle() {}\n");
    env.write("migrations/001.sql", "create table x;\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "release"]);
    env.git(&["tag", "-a", "v1.0.0", "-m", "release"]);
    env.git(&["push", "-q", "origin", "main", "--tags"]);
    env.git(&["fetch", "-q", "origin"]);
    env
}

/// A stage command that records its start and end (seconds since the epoch) in `../<id>.log`
/// and sleeps `secs`.
fn timed(id: &str, secs: &str) -> String {
    format!(
        "echo start $(date +%s.%N) >> ../{id}.log; sleep {secs}; echo end $(date +%s.%N) >> ../{id}.log"
    )
}

fn read(env: &TestEnv, name: &str) -> String {
    std::fs::read_to_string(env.root.join(name)).unwrap_or_default()
}

fn times(env: &TestEnv, id: &str) -> (f64, f64) {
    let log = read(env, &format!("{id}.log"));
    let get = |k: &str| {
        log.lines()
            .find_map(|l| l.strip_prefix(k).map(|v| v.trim().parse::<f64>().unwrap()))
            .unwrap_or_else(|| panic!("{id} has no {k} in {log:?}"))
    };
    (get("start"), get("end"))
}

fn seed(claims_run: &str) -> String {
    format!(
        r#"
[[deploy.stage]]
id = "database"
run = "{db}"
rollback = "echo database >> ../rollbacks.log"
[[deploy.stage]]
id = "notifications"
run = "{n}"
depends_on = ["database"]
rollback = "echo notifications >> ../rollbacks.log"
[[deploy.stage]]
id = "claims-api"
run = "{claims_run}"
depends_on = ["database"]
rollback = "echo claims-api >> ../rollbacks.log"
[[deploy.stage]]
id = "portal"
run = "{p}"
depends_on = ["notifications", "claims-api"]
rollback = "echo portal >> ../rollbacks.log"
"#,
        db = timed("database", "0.3"),
        n = timed("notifications", "0.6"),
        p = timed("portal", "0.3"),
    )
}

#[test]
fn stages_run_in_dependency_order_and_independent_ones_at_the_same_time() {
    let env = released_with(&seed(&timed("claims-api", "0.6")));
    let run = env.hotfix(&["deploy", "--ref", "v1.0.0"]);
    run.ok();
    let db = times(&env, "database");
    let n = times(&env, "notifications");
    let c = times(&env, "claims-api");
    let p = times(&env, "portal");
    assert!(
        db.1 <= n.0 && db.1 <= c.0,
        "database first: {db:?} {n:?} {c:?}"
    );
    assert!(
        n.0 < c.1 && c.0 < n.1,
        "the middle stages overlap: {n:?} {c:?}"
    );
    assert!(p.0 >= n.1 && p.0 >= c.1, "portal after both: {p:?}");
    assert!(read(&env, "rollbacks.log").is_empty());
    // The commands ran in a clean worktree of the tag, not in the user's checkout.
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.work.join(".git/hotfix/deploy.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["finished"], true);
    assert_eq!(
        record["environments"][0]["stages"]["portal"]["state"],
        "succeeded"
    );
}

#[test]
fn a_failed_stage_stops_new_ones_and_rolls_back_in_reverse_order() {
    let env = released_with(&seed("sleep 0.1; exit 7"));
    let run = env.hotfix(&["deploy", "--ref", "v1.0.0"]);
    run.code(1);
    assert!(run.stderr.contains("claims-api"), "{}", run.stderr);
    assert!(run.stderr.contains("portal: skipped"), "{}", run.stderr);
    assert!(read(&env, "portal.log").is_empty(), "portal never started");
    // notifications finished before the rollback began.
    let (_, n_end) = times(&env, "notifications");
    assert!(n_end > 0.0);
    let order: Vec<String> = read(&env, "rollbacks.log")
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(order.len(), 3, "{order:?}");
    assert_eq!(
        order[2], "database",
        "database is rolled back last: {order:?}"
    );
    assert!(
        order[..2].contains(&"notifications".to_string())
            && order[..2].contains(&"claims-api".to_string())
    );
}

#[test]
fn a_failed_rollback_is_exit_5_listing_every_stage() {
    let rc = r#"
[[deploy.stage]]
id = "database"
run = "true"
rollback = "exit 1"
[[deploy.stage]]
id = "api"
run = "exit 1"
depends_on = ["database"]
rollback = "true"
"#;
    let env = released_with(rc);
    let run = env.hotfix(&["deploy", "--ref", "v1.0.0"]);
    run.code(5);
    assert!(run.stderr.contains("mix of versions"), "{}", run.stderr);
    assert!(
        run.stderr.contains("database: ROLLBACK FAILED"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("api: rolled back"), "{}", run.stderr);
}

#[test]
fn a_cycle_is_refused_before_anything_runs_naming_both() {
    let rc = "[[deploy.stage]]\nid = \"a\"\nrun = \"touch ../ran\"\ndepends_on = [\"b\"]\n[[deploy.stage]]\nid = \"b\"\nrun = \"touch ../ran\"\ndepends_on = [\"a\"]\n";
    let env = released_with(rc);
    let run = env.hotfix(&["deploy", "--ref", "v1.0.0"]);
    run.code(2);
    assert!(run.stderr.contains("a → b → a"), "{}", run.stderr);
    assert!(!env.root.join("ran").exists());
    env.hotfix(&["plan"]).code(2);
}

#[test]
fn a_run_that_fails_once_passes_with_one_retry() {
    let rc = r#"
[[deploy.stage]]
id = "flaky"
run = "echo x >> ../attempts; [ $(wc -l < ../attempts) -ge 2 ]"
retries = 1
backoff = "10ms"
"#;
    let env = released_with(rc);
    env.hotfix(&["deploy", "--ref", "v1.0.0"]).ok();
    assert_eq!(read(&env, "attempts").lines().count(), 2);
}

#[test]
fn a_hanging_run_is_killed_at_its_timeout_with_its_children() {
    let rc = r#"
[[deploy.stage]]
id = "hangs"
run = "sleep 60 & echo $! > ../child.pid; wait"
timeout = "1s"
"#;
    let env = released_with(rc);
    let run = env.hotfix(&["deploy", "--ref", "v1.0.0"]);
    run.code(1);
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    let pid = read(&env, "child.pid");
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "child still running: {stat}"
    );
}

#[test]
fn only_release_tags_on_the_remote_can_be_deployed() {
    let env = released_with("[[deploy.stage]]\nid = \"a\"\nrun = \"touch ../ran\"\n");
    for bad in ["main", "HEAD", &env.rev("HEAD")[..12]] {
        let run = env.hotfix(&["deploy", "--ref", bad]);
        run.code(2);
        assert!(
            run.stderr.contains("not a release tag"),
            "{bad}: {}",
            run.stderr
        );
    }
    // A release tag that never reached the remote's main.
    env.commit("unreleased work");
    env.git(&["tag", "-a", "v1.0.1", "-m", "local only"]);
    let run = env.hotfix(&["deploy", "--ref", "v1.0.1"]);
    run.code(2);
    assert!(run.stderr.contains("never merged"), "{}", run.stderr);
    // Without a hotfix in progress, a ref is required.
    env.hotfix(&["deploy"]).code(2);
    assert!(!env.root.join("ran").exists());
}

#[test]
fn killed_during_a_deploy_a_rerun_does_not_redeploy_finished_stages() {
    let rc = r#"
[[deploy.stage]]
id = "first"
run = "echo ran >> ../first.count"
[[deploy.stage]]
id = "second"
run = "[ -f ../killed ] || { touch ../killed; kill -9 $PPID; sleep 5; }; echo ran >> ../second.count"
depends_on = ["first"]
"#;
    let env = released_with(rc);
    let run = env.hotfix(&["deploy", "--ref", "v1.0.0"]);
    assert_ne!(run.code, 0);
    assert!(env.root.join("killed").exists());
    env.hotfix(&["deploy", "--ref", "v1.0.0"]).ok();
    assert_eq!(
        read(&env, "first.count").lines().count(),
        1,
        "first was not redeployed"
    );
    assert_eq!(read(&env, "second.count").lines().count(), 1);
}

#[test]
fn rollback_reruns_the_rollback_of_the_last_deploy() {
    let rc =
        "[[deploy.stage]]\nid = \"a\"\nrun = \"true\"\nrollback = \"echo a >> ../rollbacks.log\"\n";
    let env = released_with(rc);
    env.hotfix(&["deploy", "--ref", "v1.0.0"]).ok();
    env.hotfix(&["rollback"]).ok();
    assert_eq!(read(&env, "rollbacks.log"), "a\n");
}

#[test]
fn traffic_steps_set_weights_in_order_and_back_to_zero_on_failure() {
    let rc = r#"
[[deploy.stage]]
id = "web"
run = "true"
rollback = "echo rollback >> ../weights.log"
[deploy.stage.traffic]
run = "echo $HOTFIX_WEIGHT >> ../weights.log"
steps = [10, 50, 100]
pause = "10ms"
[deploy.stage.health]
command = "[ $(grep -c . ../weights.log) -lt 2 ]"
interval = "10ms"
timeout = "1s"
"#;
    let env = released_with(rc);
    env.hotfix(&["deploy", "--ref", "v1.0.0"]).code(1);
    // 10 % was healthy, 50 % was not: back to 0, then the rollback.
    assert_eq!(read(&env, "weights.log"), "10\n50\n0\nrollback\n");
}

#[test]
fn a_failing_staging_gate_never_swaps_and_rolls_back() {
    let rc = r#"
[[deploy.stage]]
id = "api"
run = "echo run >> ../slots.log"
promote = "echo swap >> ../slots.log"
rollback = "echo swap-back >> ../slots.log"
[deploy.stage.pre_promote_health]
command = "false"
interval = "10ms"
timeout = "1s"
"#;
    let env = released_with(rc);
    env.hotfix(&["deploy", "--ref", "v1.0.0"]).code(1);
    assert_eq!(read(&env, "slots.log"), "run\nswap-back\n");
}

/// A local HTTP endpoint answering 503 until `healthy_after` has passed since it started (or
/// never), 200 "ok" afterwards; after `good_answers` healthy answers it turns back to 503.
fn endpoint(healthy_after: Option<Duration>, good_answers: Option<usize>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let start = Instant::now();
    std::thread::spawn(move || {
        let mut good = 0;
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            let t = start.elapsed();
            let healthy =
                healthy_after.is_some_and(|h| t >= h) && good_answers.is_none_or(|n| good < n);
            if healthy {
                good += 1;
            }
            let (status, body) = if healthy {
                ("200 OK", "ok")
            } else {
                ("503 Service Unavailable", "starting")
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}/health")
}

fn gated(url: &str, extra: &str) -> String {
    format!(
        r#"
[[deploy.stage]]
id = "api"
run = "true"
rollback = "echo api >> ../rollbacks.log"
[deploy.stage.health]
url = "{url}"
expect_body = "ok"
interval = "100ms"
timeout = "10s"
{extra}
"#
    )
}

#[test]
fn a_health_gate_waits_out_the_warm_up() {
    let url = endpoint(Some(Duration::from_millis(1000)), None);
    let env = released_with(&gated(&url, "initial_delay = \"1500ms\""));
    env.hotfix(&["deploy", "--ref", "v1.0.0"]).ok();
    assert!(read(&env, "rollbacks.log").is_empty());
}

#[test]
fn a_never_healthy_endpoint_fails_at_the_failure_limit_and_rolls_back() {
    let url = endpoint(None, None);
    let env = released_with(&gated(&url, "failure_limit = 2"));
    let run = env.hotfix(&["deploy", "--ref", "v1.0.0"]);
    run.code(1);
    assert!(
        run.stderr
            .contains("3 failed measurement(s), more than failure_limit = 2"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("status 503"),
        "the last response is reported: {}",
        run.stderr
    );
    assert_eq!(read(&env, "rollbacks.log"), "api\n");
}

#[test]
fn an_endpoint_that_goes_bad_during_the_monitor_window_triggers_rollback() {
    // Healthy for the deploy's gate and the first monitor check, then down.
    let url = endpoint(Some(Duration::ZERO), Some(2));
    let rc = format!(
        "{}\n[deploy.monitor]\nduration = \"5s\"\ninterval = \"100ms\"\n",
        gated(&url, "")
    );
    let env = released_with(&rc);
    let run = env.hotfix(&["deploy", "--ref", "v1.0.0"]);
    run.code(1);
    assert!(run.stderr.contains("monitor window"), "{}", run.stderr);
    assert_eq!(read(&env, "rollbacks.log"), "api\n");
}

#[test]
fn plan_says_why_a_stage_is_skipped_for_a_fix_touching_only_the_api() {
    let rc = r#"
[[deploy.stage]]
id = "database"
run = "true"
paths = ["migrations/**"]
[[deploy.stage]]
id = "api"
run = "true"
paths = ["api/**"]
depends_on = ["database"]
"#;
    let env = released_with(rc);
    env.hotfix(&["start"]).ok();
    env.commit_file("api/handler.rs", "fn handle() { fixed() }\n", "fix the api");
    let run = env.hotfix(&["plan"]);
    run.ok();
    assert!(
        run.stdout
            .contains("skipped: database — no changed file matches its paths (migrations/**)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("wave 1: api"), "{}", run.stdout);
    let j = env.hotfix(&["plan", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["waves"], serde_json::json!([["api"]]));
    let m = env.hotfix(&["plan", "--format", "mermaid"]);
    assert!(m.stdout.starts_with("flowchart"), "{}", m.stdout);
}

#[test]
fn stage_commands_get_hotfix_values_but_never_the_token_unless_asked() {
    let rc = r#"
[[deploy.stage]]
id = "plain"
run = "env | grep -E '^(HOTFIX_|GH_TOKEN)' | sort > ../plain.env; pwd > ../plain.pwd"
[[deploy.stage]]
id = "trusted"
run = "env | grep -E '^GH_TOKEN' > ../trusted.env"
pass_token = true
"#;
    let mut env = released_with(rc);
    env.set_env("GH_TOKEN", "secret-token-value-123");
    env.hotfix(&["deploy", "--ref", "v1.0.0"]).ok();
    let plain = read(&env, "plain.env");
    assert!(plain.contains("HOTFIX_TAG=v1.0.0"), "{plain}");
    assert!(plain.contains("HOTFIX_STAGE=plain"), "{plain}");
    assert!(plain.contains("HOTFIX_ENVIRONMENT=production"), "{plain}");
    assert!(
        plain.contains(&format!("HOTFIX_SHA={}", env.rev("v1.0.0"))),
        "{plain}"
    );
    assert!(!plain.contains("GH_TOKEN"), "{plain}");
    assert_eq!(
        read(&env, "trusted.env"),
        "GH_TOKEN=secret-token-value-123\n"
    );
    let pwd = read(&env, "plain.pwd");
    assert!(
        pwd.contains(".git/hotfix/worktrees/v1.0.0"),
        "runs in the tool's worktree: {pwd}"
    );
}

mod recorded_on_github {
    use super::*;
    use crate::fake_github::{self, FakeRepo};

    fn with_github(rc: &str) -> (TestEnv, FakeRepo) {
        let mut env = released_with(&format!("[approval]\npoll_interval = \"20ms\"\n{rc}"));
        let gh = fake_github::server().new_repo(&env.origin);
        gh.apply_env(&mut env);
        env.set_env("HOTFIX_DEPLOY_RECORD", "github");
        (env, gh)
    }

    #[test]
    fn a_deploy_is_one_deployment_with_in_progress_then_success() {
        let (env, gh) = with_github("[[deploy.stage]]\nid = \"a\"\nrun = \"true\"\n");
        env.hotfix(&["deploy", "--ref", "v1.0.0"]).ok();
        let deps = gh.deployments();
        assert_eq!(deps.len(), 1);
        let d = &deps[0];
        assert_eq!(
            (d.task.as_str(), d.environment.as_str()),
            ("deploy", "production")
        );
        assert_eq!(d.sha, env.rev("v1.0.0"));
        assert!(!d.auto_merge);
        assert_eq!(d.required_contexts.as_deref(), Some(&[][..]));
        let states: Vec<&str> = d.statuses.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(states, ["in_progress", "success"]);
        gh.assert_no_schema_violations();
    }

    #[test]
    fn a_failed_deploy_marks_the_deployment_failed_saying_it_was_rolled_back() {
        let (env, gh) =
            with_github("[[deploy.stage]]\nid = \"a\"\nrun = \"exit 1\"\nrollback = \"true\"\n");
        env.hotfix(&["deploy", "--ref", "v1.0.0"]).code(1);
        let d = &gh.deployments()[0];
        let (state, description) = d.statuses.last().unwrap();
        assert_eq!(state, "failure");
        assert!(description.contains("rolled back"), "{description}");
    }

    #[test]
    fn a_live_deployment_of_another_run_blocks_unless_forced() {
        let (env, gh) =
            with_github("[[deploy.stage]]\nid = \"a\"\nrun = \"echo ran >> ../ran.log\"\n");
        let sha = env.rev("v1.0.0");
        let d = gh.api(
            "POST",
            &format!("/repos/{}/deployments", gh.full_name()),
            Some(&serde_json::json!({"ref": sha, "task": "deploy", "environment": "production",
                "auto_merge": false, "required_contexts": [], "payload": {"run_id": "someone-else"}})),
        );
        let id = d.json()["id"].as_u64().unwrap();
        gh.api(
            "POST",
            &format!("/repos/{}/deployments/{id}/statuses", gh.full_name()),
            Some(&serde_json::json!({"state": "in_progress"})),
        );
        let run = env.hotfix(&["deploy", "--ref", "v1.0.0"]);
        run.code(2);
        assert!(
            run.stderr.contains("being deployed by another run"),
            "{}",
            run.stderr
        );
        assert!(read(&env, "ran.log").is_empty());
        let run = env.hotfix(&["deploy", "--ref", "v1.0.0", "--force-unlock"]);
        run.ok();
        assert_eq!(read(&env, "ran.log"), "ran\n");
    }

    #[test]
    fn the_previous_release_comes_from_the_last_successful_deployment() {
        let (env, gh) = with_github(
            "[[deploy.stage]]\nid = \"a\"\nrun = \"echo $HOTFIX_PREVIOUS_TAG $HOTFIX_TAG >> ../prev.log\"\n",
        );
        env.hotfix(&["deploy", "--ref", "v1.0.0"]).ok();
        env.commit_file("b.txt", "b\n", "next");
        env.git(&["tag", "-a", "v1.0.1", "-m", "r"]);
        env.git(&["push", "-q", "origin", "main", "--tags"]);
        env.git(&["fetch", "-q", "origin"]);
        env.hotfix(&["deploy", "--ref", "v1.0.1"]).ok();
        let lines: Vec<String> = read(&env, "prev.log").lines().map(String::from).collect();
        assert_eq!(lines[1], "v1.0.0 v1.0.1", "{lines:?}");
        assert_eq!(gh.deployments().len(), 2);
    }

    #[test]
    fn a_delegated_stage_waits_for_the_deployment_engine() {
        let rc = "[[deploy.stage]]\nid = \"cluster\"\ndelegate = \"github-deployment\"\nrollback = \"echo cluster >> ../rollbacks.log\"\n";
        let (env, gh) = with_github(rc);
        gh.engine_answers("deploy:cluster", "success");
        env.hotfix(&["deploy", "--ref", "v1.0.0"]).ok();
        let tasks: Vec<String> = gh.deployments().iter().map(|d| d.task.clone()).collect();
        assert!(tasks.contains(&"deploy:cluster".to_string()), "{tasks:?}");
        gh.engine_answers("deploy:cluster", "failure");
        env.commit_file("c.txt", "c\n", "next");
        env.git(&["tag", "-a", "v1.0.1", "-m", "r"]);
        env.git(&["push", "-q", "origin", "main", "--tags"]);
        env.git(&["fetch", "-q", "origin"]);
        let run = env.hotfix(&["deploy", "--ref", "v1.0.1"]);
        run.code(1);
        assert!(
            run.stderr.contains("deployment engine reported failure"),
            "{}",
            run.stderr
        );
        assert_eq!(read(&env, "rollbacks.log"), "cluster\n");
        gh.assert_no_schema_violations();
    }
}

#[test]
fn a_first_ctrl_c_lets_running_stages_finish_and_the_deploy_resumes() {
    let fifo_home = TestEnv::new();
    let fifo = fifo_home.fifo("started");
    let rc = format!(
        r#"
[[deploy.stage]]
id = "slow"
run = "echo started > '{}'; sleep 1; echo done >> ../slow.log"
[[deploy.stage]]
id = "after"
run = "echo ran >> ../after.log"
depends_on = ["slow"]
"#,
        fifo.display()
    );
    let env = released_with(&rc);
    let mut child = env.spawn(&["deploy", "--ref", "v1.0.0"]);
    assert_eq!(std::fs::read_to_string(&fifo).unwrap(), "started\n");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert_eq!(
        read(&env, "slow.log"),
        "done\n",
        "the running stage finished"
    );
    assert!(read(&env, "after.log").is_empty(), "nothing new started");
    // Rerun: the finished stage is not run again (slow.log would grow), the rest runs.
    std::fs::remove_file(&fifo).unwrap();
    env.hotfix(&["deploy", "--ref", "v1.0.0"]).ok();
    assert_eq!(read(&env, "slow.log"), "done\n");
    assert_eq!(read(&env, "after.log"), "ran\n");
}
