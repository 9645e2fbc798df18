//! `hotfix status` and `hotfix abort`.

use crate::harness::released_repo;

#[test]
fn status_with_nothing_in_progress_says_so() {
    let env = released_repo(true);
    let run = env.hotfix(&["status", "--json"]);
    run.ok();
    let j = run.json();
    assert_eq!(j["schema_version"], 1);
    assert_eq!(j["exit_code"], 0);
    assert!(j["error"].is_null());
    assert_eq!(j["result"]["in_progress"], false);
}

#[test]
fn status_json_after_start_reports_version_base_branch_and_next_command() {
    let env = released_repo(true);
    env.hotfix(&["start", "--incident", "INC-42"]).ok();
    let r = env.hotfix(&["status", "--json"]).json()["result"].clone();
    assert_eq!(r["in_progress"], true);
    assert_eq!(r["phase"], "started");
    assert_eq!(r["version"], "1.3.1");
    assert_eq!(r["branch"], "hotfix/1.3.1");
    assert_eq!(r["base"]["ref"], "v1.3.0");
    assert_eq!(r["base"]["sha"], env.rev("v1.3.0"));
    assert_eq!(r["incident"], "INC-42");
    assert_eq!(r["next_command"], "git commit");
    env.commit_file("fix.txt", "fix\n", "the fix");
    let r = env.hotfix(&["status", "--json"]).json()["result"].clone();
    assert_eq!(r["next_command"], "hotfix ship");
    assert_eq!(r["commits"][0]["summary"], "the fix");
    let human = env.hotfix(&["status"]);
    assert!(
        human.stdout.contains("Next: hotfix ship"),
        "{}",
        human.stdout
    );
}

#[test]
fn abort_restores_the_original_branch_and_deletes_an_empty_hotfix_branch() {
    let env = released_repo(true);
    env.git(&["switch", "-q", "develop"]);
    env.hotfix(&["start"]).ok();
    let run = env.hotfix(&["abort"]);
    run.ok();
    assert_eq!(env.current_branch(), "develop");
    assert!(env.state().is_none());
    assert!(env.git(&["branch", "--list", "hotfix/*"]).is_empty());
    assert!(run.stdout.contains("deleted"), "{}", run.stdout);
    env.hotfix(&["status", "--json"]).ok();
    // A new hotfix can start again.
    env.hotfix(&["start"]).ok();
}

#[test]
fn abort_keeps_a_hotfix_branch_that_has_commits() {
    let env = released_repo(true);
    env.hotfix(&["start"]).ok();
    let fix = env.commit_file("fix.txt", "fix\n", "the fix");
    let run = env.hotfix(&["abort"]);
    run.ok();
    assert!(run.stdout.contains("is kept"), "{}", run.stdout);
    assert_eq!(env.current_branch(), "main");
    assert_eq!(env.rev("hotfix/1.3.1"), fix);
}

#[test]
fn abort_refuses_a_dirty_tree() {
    let env = released_repo(true);
    env.hotfix(&["start"]).ok();
    env.write("app.txt", "wip\n");
    let before = env.snapshot();
    env.hotfix(&["abort"]).code(2);
    assert_eq!(before, env.snapshot());
}

#[test]
fn abort_with_nothing_in_progress_is_a_refusal() {
    let env = released_repo(true);
    env.hotfix(&["abort"]).code(2);
}

#[test]
fn the_audit_log_records_start_and_abort() {
    let env = released_repo(true);
    env.hotfix(&["start"]).ok();
    let log = std::fs::read_to_string(env.work.join(".git/hotfix/log.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["step"], "start");
    assert_eq!(events.last().unwrap()["outcome"], "ok");
    env.hotfix(&["abort"]).ok();
    let archived = env.work.join(".git/hotfix/aborted/1.3.1/log.jsonl");
    let log = std::fs::read_to_string(archived).unwrap();
    assert!(log.lines().last().unwrap().contains("\"abort\""));
}

#[test]
fn status_output_snapshot() {
    let env = released_repo(true);
    env.hotfix(&["start", "--incident", "INC-42"]).ok();
    env.commit_file("fix.txt", "fix\n", "Fix the outage (INC-42)");
    let out = env.hotfix(&["status"]).stdout;
    // Shas depend on nothing but the pinned dates and contents, so they are stable.
    insta::assert_snapshot!(out);
}

/// A local webhook receiver: collects the bodies of the POSTs it gets.
fn receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/services/T000/B000/very-secret-path",
        listener.local_addr().unwrap()
    );
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut len = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            sink.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (url, got)
}

#[test]
fn milestones_are_sent_to_the_configured_webhooks() {
    let mut env = released_repo(true);
    let (url, got) = receiver();
    env.set_env("TEAM_WEBHOOK", &url);
    env.write(
        ".rolloutrc",
        "[notify]\nwebhooks_env = [\"TEAM_WEBHOOK\"]\n",
    );
    env.git(&["add", ".rolloutrc"]);
    env.git(&["commit", "-q", "-m", "notify"]);
    env.hotfix(&["start", "--incident", "INC-9"]).ok();
    let events = got.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    let e: serde_json::Value = serde_json::from_str(&events[0]).unwrap();
    assert_eq!(e["event"], "started");
    assert_eq!(e["incident"], "INC-9");
    assert!(
        e["text"].as_str().unwrap().starts_with("[hotfix 1.3.1]"),
        "{e}"
    );
}

#[test]
fn a_dead_webhook_never_blocks_and_its_path_stays_secret() {
    let mut env = released_repo(true);
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.set_env(
        "TEAM_WEBHOOK",
        &format!("http://127.0.0.1:{port}/services/very-secret-path"),
    );
    env.write(
        ".rolloutrc",
        "[notify]\nwebhooks_env = [\"TEAM_WEBHOOK\", \"UNSET_WEBHOOK\"]\n",
    );
    env.git(&["add", ".rolloutrc"]);
    env.git(&["commit", "-q", "-m", "notify"]);
    let run = env.hotfix(&["start"]);
    run.ok();
    assert!(
        run.stderr.contains("could not be delivered"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("UNSET_WEBHOOK is not set"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains("very-secret-path"), "{}", run.stderr);
}
