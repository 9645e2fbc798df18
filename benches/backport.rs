//! Backport costs on the generated repository of `bench/gen-repo.sh` (issue #6):
//!
//! 1. backporting 20 commits to a target: `hotfix`'s in-memory picks (`backport::pick_onto`)
//!    against `git cherry-pick -x` of the same commits in a worktree of the target;
//! 2. already-applied detection over ~10k commits: `backport::Detector` against `git cherry`,
//!    with the same answers.
//!
//! Run: `HOTFIX_BENCH_REPO=/tmp/hotfix-bench/work cargo bench --bench backport`
//! (without `HOTFIX_BENCH_REPO` it says so and exits 0).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use git2::Oid;
use hotfix::backport::{Detector, Signal, pick_onto};
use hotfix::exec::Runner;
use hotfix::git::{Picked, Repo};
use hotfix::ui::Ui;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let Ok(path) = std::env::var("HOTFIX_BENCH_REPO") else {
        println!("backport bench skipped: set HOTFIX_BENCH_REPO to bench/gen-repo.sh's work dir");
        return;
    };
    let dir = Path::new(&path);
    // SAFETY: single-threaded bench set-up.
    unsafe {
        std::env::set_var("GIT_COMMITTER_NAME", "bench");
        std::env::set_var("GIT_COMMITTER_EMAIL", "bench@example.com");
        std::env::set_var("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z");
    }
    let ui = Ui::new(true, false, false, true, true);
    let repo = Repo::discover(dir, Runner::new(false, ui)).expect("repo");

    // The upstream is develop; the target the release about 10k develop commits back.
    let upstream = repo
        .resolve_commit("origin/develop")
        .expect("origin/develop");
    let tags = git(dir, &["tag", "--list", "v*", "--sort=-v:refname"]);
    // ~10k commits back (HOTFIX_BENCH_RANGE), or the oldest release on a smaller repository.
    let want: usize = std::env::var("HOTFIX_BENCH_RANGE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let releases: Vec<&str> = tags.lines().filter(|t| !t.contains('-')).collect();
    let behind = |t: &str| {
        git(
            dir,
            &[
                "rev-list",
                "--count",
                "--no-merges",
                &format!("{t}..origin/develop"),
            ],
        )
        .parse::<usize>()
        .unwrap_or(0)
    };
    let target_tag = releases
        .iter()
        .copied()
        .find(|t| behind(t) >= want)
        .or(releases.last().copied())
        .expect("a release");
    let release = repo.resolve_commit(target_tag).expect("tag");
    let range: Vec<Oid> = git(
        dir,
        &[
            "rev-list",
            "--reverse",
            "--no-merges",
            &format!("{target_tag}..origin/develop"),
        ],
    )
    .lines()
    .map(|l| Oid::from_str(l).expect("sha"))
    .collect();
    println!(
        "target {target_tag}; {} commits on origin/develop since it",
        range.len()
    );

    // Make the target carry 100 of those changes already (cherry-picked, -x), so both tools
    // have something to find.
    let mut target = release;
    for c in range.iter().step_by((range.len() / 100).max(1)).take(100) {
        if let Picked::Committed(n) = repo.pick_in_memory(target, *c).expect("pick") {
            target = n;
        }
    }
    git(
        dir,
        &["update-ref", "refs/bench/target", &target.to_string()],
    );

    // 2. Detection over the whole range, against `git cherry`.
    let runs: usize = std::env::var("HOTFIX_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let mut ours = Vec::new();
    let mut answers = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let d = Detector::new(&repo, target, upstream, &range).expect("detector");
        answers = range
            .iter()
            .zip(d.check_all(&range).expect("check"))
            .map(|(c, s)| (*c, matches!(s, Some(Signal::PatchId | Signal::Trailer))))
            .collect::<Vec<_>>();
        ours.push(t.elapsed());
    }
    let mut theirs = Vec::new();
    let mut cherry = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        cherry = git(dir, &["cherry", "refs/bench/target", "origin/develop"]);
        theirs.push(t.elapsed());
    }
    let git_applied: std::collections::HashSet<String> = cherry
        .lines()
        .filter_map(|l| l.strip_prefix("- ").map(str::to_string))
        .collect();
    let ours_applied: std::collections::HashSet<String> = answers
        .iter()
        .filter(|(_, a)| *a)
        .map(|(c, _)| c.to_string())
        .collect();
    let same = git_applied == ours_applied;
    let (o, g) = (median(ours), median(theirs));
    println!(
        "RESULT detection_ms={:.1} git_cherry_ms={:.1} commits={} applied={} same_answers={same}",
        ms(o),
        ms(g),
        range.len(),
        ours_applied.len()
    );
    println!(
        "detection over {} commits: hotfix {:.1} ms, git cherry {:.1} ms, ratio {:.3} (target <= 0.1); {} found applied by both; same answers: {same}",
        range.len(),
        ms(o),
        ms(g),
        o.as_secs_f64() / g.as_secs_f64(),
        ours_applied.len()
    );

    // 1. Backporting 20 commits: in memory, against `git cherry-pick -x` in a worktree.
    // Right after the release (so they apply cleanly), and not among the 100 picked above.
    let step = (range.len() / 100).max(1);
    let twenty: Vec<Oid> = range
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step != 0)
        .map(|(_, c)| *c)
        .take(20)
        .collect();
    let mut ours = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let applied = pick_onto(&repo, "bench", target, &twenty).expect("pick_onto");
        ours.push(t.elapsed());
        assert!(
            matches!(applied, hotfix::backport::Applied::Done { .. }),
            "{applied:?}"
        );
    }
    // The same 20 picks without the already-applied detection (which `git cherry-pick` does
    // not do): read what they change (one `git diff-tree`), apply each in memory.
    let mut picks_only = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let changes = repo.changes(&twenty).expect("changes");
        let mut cur = target;
        for c in &twenty {
            match repo
                .pick_in_memory_with(cur, *c, changes.get(c).map(Vec::as_slice))
                .expect("pick")
            {
                Picked::Committed(n) => cur = n,
                other => panic!("{c}: {other:?}"),
            }
        }
        picks_only.push(t.elapsed());
    }
    let wt = std::env::temp_dir().join("hotfix-bench-backport-wt");
    let _ = Command::new("git")
        .args(["worktree", "remove", "--force", wt.to_str().unwrap()])
        .current_dir(dir)
        .output();
    git(
        dir,
        &[
            "worktree",
            "add",
            "--detach",
            "--force",
            wt.to_str().unwrap(),
            &target.to_string(),
        ],
    );
    let shas: Vec<String> = twenty.iter().map(|c| c.to_string()).collect();
    let mut theirs = Vec::new();
    for _ in 0..runs {
        git(&wt, &["reset", "-q", "--hard", &target.to_string()]);
        let mut args = vec![
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
            "cherry-pick",
            "-x",
        ];
        args.extend(shas.iter().map(String::as_str));
        let t = Instant::now();
        git(&wt, &args);
        theirs.push(t.elapsed());
    }
    let _ = Command::new("git")
        .args(["worktree", "remove", "--force", wt.to_str().unwrap()])
        .current_dir(dir)
        .output();
    let (o, g) = (median(ours), median(theirs));
    println!(
        "RESULT backport_ms={:.1} cherry_pick_ms={:.1} picks_only_ms={:.1}",
        ms(o),
        ms(g),
        ms(median(picks_only.clone()))
    );
    println!(
        "backport of 20 commits: hotfix (in memory, with detection) {:.1} ms, git cherry-pick -x {:.1} ms, ratio {:.3} (target <= 0.2); the picks alone {:.1} ms, ratio {:.3}",
        ms(o),
        ms(g),
        o.as_secs_f64() / g.as_secs_f64(),
        ms(median(picks_only.clone())),
        median(picks_only.clone()).as_secs_f64() / g.as_secs_f64()
    );
}
