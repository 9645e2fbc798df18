//! Git hooks with real git: installing beside a team's own hooks, core.hooksPath, protected
//! branches on a real push, the commit-msg check and trailer, reminders, pre-commit framework.

use std::path::Path;

use crate::harness::{TestEnv, released_repo};

const APPENDING_HOOK: &str = "#!/bin/sh\necho \"Reviewed-by: the team hook\" >> \"$1\"\n";

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Installs next to an existing commit-msg hook in `hooks_dir` and checks both run, that a
/// second install is a no-op and that uninstall restores the original byte for byte.
fn install_beside_existing_hook(env: &TestEnv, hooks_dir: &Path) {
    std::fs::create_dir_all(hooks_dir).unwrap();
    let mine = hooks_dir.join("commit-msg");
    std::fs::write(&mine, APPENDING_HOOK).unwrap();
    make_executable(&mine);

    let run = env.hotfix(&["hooks", "install"]);
    run.ok();
    assert!(
        run.stdout
            .contains(hooks_dir.file_name().unwrap().to_str().unwrap()),
        "{}",
        run.stdout
    );
    let installed = read(&mine);
    env.hotfix(&["hooks", "install"]).ok();
    assert_eq!(read(&mine), installed, "a second install changes nothing");

    env.hotfix(&["start"]).ok();
    env.write("fix.txt", "fix\n");
    env.git(&["add", "fix.txt"]);
    env.git(&["commit", "-q", "-m", "Fix the outage"]);
    let msg = env.git(&["log", "-1", "--format=%B"]);
    assert!(msg.contains("Hotfix: 1.3.1"), "our hook ran:\n{msg}");
    assert!(
        msg.contains("Reviewed-by: the team hook"),
        "the team's hook ran:\n{msg}"
    );

    let status = env.hotfix(&["hooks", "status"]);
    assert!(
        status.stdout.contains("alongside your own hook"),
        "{}",
        status.stdout
    );

    env.hotfix(&["hooks", "uninstall"]).ok();
    assert_eq!(
        read(&mine),
        APPENDING_HOOK,
        "uninstall restores the original byte for byte"
    );
    assert!(
        !hooks_dir.join("pre-push").exists(),
        "hooks we created are removed"
    );
}

#[test]
fn an_existing_commit_msg_hook_keeps_running_and_is_restored() {
    let env = released_repo(true);
    install_beside_existing_hook(&env, &env.work.join(".git/hooks"));
}

#[test]
fn core_hooks_path_is_honoured() {
    let env = released_repo(true);
    env.git(&["config", "core.hooksPath", ".githooks"]);
    install_beside_existing_hook(&env, &env.work.join(".githooks"));
    assert!(!env.work.join(".git/hooks/pre-push").exists());
}

#[test]
fn the_trailer_is_added_once_even_on_amend() {
    let env = released_repo(true);
    env.hotfix(&["hooks", "install"]).ok();
    env.hotfix(&["start"]).ok();
    env.commit_file("fix.txt", "fix\n", "Fix it");
    env.git(&["commit", "-q", "--amend", "--no-edit"]);
    env.git(&[
        "commit",
        "-q",
        "--amend",
        "-m",
        "Fix it properly\n\nHotfix: 1.3.1",
    ]);
    let msg = env.git(&["log", "-1", "--format=%B"]);
    assert_eq!(msg.matches("Hotfix: 1.3.1").count(), 1, "{msg}");
}

#[test]
fn commit_without_an_incident_is_refused_on_a_hotfix_branch() {
    let env = released_repo(true);
    env.commit_file(
        ".rolloutrc",
        "[hooks]\nincident_pattern = \"INC-[0-9]+\"\n",
        "policy",
    );
    env.git(&["push", "-q", "origin", "main"]);
    env.hotfix(&["hooks", "install"]).ok();
    env.hotfix(&["start", "--incident", "INC-77"]).ok();
    env.write("fix.txt", "fix\n");
    env.git(&["add", "fix.txt"]);
    let out = env.git_output(&env.work, &["commit", "-q", "-m", "Fix the outage"]);
    assert!(!out.status.success(), "the commit must be refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("names no incident"), "{err}");
    assert!(
        err.contains("INC-77"),
        "the hint names this hotfix's incident: {err}"
    );
    env.git(&["commit", "-q", "-m", "Fix the outage (INC-77)"]);
    let msg = env.git(&["log", "-1", "--format=%B"]);
    assert!(msg.contains("Hotfix: 1.3.1"), "{msg}");
    // Other branches are not checked.
    env.git(&["switch", "-q", "develop"]);
    env.commit_file("other.txt", "x\n", "Ordinary work");
    assert!(!env.git(&["log", "-1", "--format=%B"]).contains("Hotfix:"));
}

#[test]
fn a_real_push_to_main_is_refused_naming_the_hotfix_command() {
    let env = released_repo(true);
    env.hotfix(&["hooks", "install"]).ok();
    env.commit_file("direct.txt", "x\n", "direct change");
    let before = env.git_in(&env.origin, &["rev-parse", "main"]);
    let out = env.git_output(&env.work, &["push", "origin", "main"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("direct pushes to main are refused"), "{err}");
    assert!(err.contains("hotfix ship"), "{err}");
    assert_eq!(env.git_in(&env.origin, &["rev-parse", "main"]), before);
    // A feature branch pushes fine, and the tool's own pushes pass.
    env.git(&["push", "-q", "origin", "main:refs/heads/feature/x"]);
    let out = std::process::Command::new("git")
        .args(["push", "-q", "origin", "main"])
        .current_dir(&env.work)
        .env("HOME", &env.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOTFIX_INTERNAL", "1")
        .env("PATH", std::env::var("PATH").unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn pushing_a_hotfix_branch_runs_the_targeted_tests() {
    let env = released_repo(true);
    env.commit_file(
        ".rolloutrc",
        "[tests]\nunmatched = \"smoke\"\nsmoke = [\"test ! -e broken.txt\"]\n",
        "policy",
    );
    // The hotfix branch is cut from v1.3.0, which predates .rolloutrc: the saved copy applies.
    env.git(&["push", "-q", "origin", "main"]);
    env.hotfix(&["hooks", "install"]).ok();
    env.hotfix(&["start"]).ok();
    env.commit_file("broken.txt", "x\n", "a broken fix");
    let out = env.git_output(&env.work, &["push", "origin", "hotfix/1.3.1"]);
    assert!(!out.status.success(), "failing tests refuse the push");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("targeted test command(s) failed"), "{err}");
    assert!(
        env.git_output(
            &env.origin,
            &["rev-parse", "--verify", "-q", "hotfix/1.3.1"]
        )
        .stdout
        .is_empty()
    );
    env.git(&["rm", "-q", "broken.txt"]);
    env.git(&["commit", "-q", "-m", "a good fix"]);
    env.git(&["push", "-q", "origin", "hotfix/1.3.1"]);
    assert_eq!(
        env.git_in(&env.origin, &["rev-parse", "hotfix/1.3.1"]),
        env.rev("HEAD")
    );
}

#[test]
fn checkout_reminds_of_a_deployed_hotfix_not_yet_merged_back() {
    let env = released_repo(true);
    env.hotfix(&["hooks", "install"]).ok();
    env.hotfix(&["start"]).ok();
    // Quiet while the hotfix is only started.
    let out = env.git_output(&env.work, &["switch", "develop"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hotfix 1.3.1"));
    let path = env.work.join(".git/hotfix/state.json");
    let state = read(&path).replace("\"phase\": \"started\"", "\"phase\": \"deployed\"");
    std::fs::write(&path, state).unwrap();
    let out = env.git_output(&env.work, &["switch", "main"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("hotfix 1.3.1 is deployed but not merged back yet"),
        "{err}"
    );
    assert!(err.contains("hotfix backport"), "{err}");
}

#[test]
fn hooks_with_nothing_to_do_stay_silent() {
    let env = released_repo(true);
    env.hotfix(&["hooks", "install"]).ok();
    let out = env.git_output(&env.work, &["switch", "-c", "feature"]);
    assert!(out.status.success());
    let out = env.git_output(&env.work, &["commit", "-q", "--allow-empty", "-m", "work"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).trim().is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!env.git(&["log", "-1", "--format=%B"]).contains("Hotfix:"));
}

#[test]
fn the_pre_commit_framework_runs_the_published_commit_msg_hook() {
    let Ok(pre_commit) = which("pre-commit") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install pre-commit (pip install pre-commit)"
        );
        eprintln!("skipped: pre-commit is not installed");
        return;
    };
    let env = released_repo(true);
    env.commit_file(
        ".rolloutrc",
        "[hooks]\nincident_pattern = \"INC-[0-9]+\"\n",
        "policy",
    );
    env.git(&["push", "-q", "origin", "main"]);
    env.hotfix(&["start"]).ok();
    let project = env!("CARGO_MANIFEST_DIR");
    let msg = env.root.join("msg.txt");
    let try_repo = |text: &str| {
        std::fs::write(&msg, text).unwrap();
        let mut cmd = std::process::Command::new(&pre_commit);
        cmd.args([
            "try-repo",
            project,
            "hotfix-commit-msg-system",
            "--hook-stage",
            "commit-msg",
            "--commit-msg-filename",
        ])
        .arg(&msg)
        .current_dir(&env.work)
        .env("HOME", &env.home)
        .env("PRE_COMMIT_HOME", env.root.join("pre-commit-cache"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env(
            "PATH",
            std::env::join_paths(
                std::iter::once(crate::harness::hotfix_bin().parent().unwrap().to_path_buf())
                    .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
            )
            .unwrap(),
        );
        cmd.output().unwrap()
    };
    let out = try_repo("Fix the outage\n");
    assert!(
        !out.status.success(),
        "no incident: refused\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("names no incident"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = try_repo("Fix the outage (INC-9)\n");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(read(&msg).contains("Hotfix: 1.3.1"), "{}", read(&msg));
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::split_paths(&std::env::var_os("PATH").ok_or(())?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}
