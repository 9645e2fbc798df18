//! Issue #2: finding the latest release among ~3k tags must take under 20 ms.
//!
//! Run on the repository made by `bench/gen-repo.sh`:
//!
//! ```sh
//! bench/gen-repo.sh /tmp/hotfix-bench
//! HOTFIX_BENCH_REPO=/tmp/hotfix-bench/work cargo bench --bench latest_release
//! ```
//!
//! Without `HOTFIX_BENCH_REPO` it says so and exits 0 (so `cargo bench` stays usable anywhere).
//! No bench framework: each case runs `HOTFIX_BENCH_RUNS` times (default 50) after 3 warm-ups,
//! and min / median / max are printed in milliseconds.
//!
//! Cases:
//! - `cold: open + read + latest_on`: what one `hotfix start` process does — open the
//!   repository (no object cache yet), list and parse the tags, peel them newest first until one
//!   is reachable from `origin/main`. **This is the number the criterion is checked against.**
//! - `warm: read + latest_on`: the same on an already open repository (libgit2's object cache
//!   is warm after the first run).
//! - `read only`, `latest_on only`: the two halves, on an open repository.
//! - `1 unreachable release check`: one `is_ancestor` that answers no (not in the criterion;
//!   `latest_on` pays it once per release newer than the one it finds).
//! - `status check`: `Repo::uncommitted_changes` (what `hotfix start` checks before anything),
//!   not part of the criterion; printed to explain where `hotfix start` spends its time, then
//!   taken apart with git2 directly: reading the index, HEAD's tree against the index (every
//!   tree object is read: libgit2 does not use the index's cache-tree), the index against the
//!   working tree (a readdir of every directory and an lstat of every file, on one thread).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hotfix::branching::Releases;
use hotfix::config::Config;
use hotfix::exec::Runner;
use hotfix::git::Repo;
use hotfix::ui::Ui;

const LIMIT_MS: f64 = 20.0;

fn runner() -> Runner {
    Runner::new(false, Ui::new(true, false, false, false, true))
}

fn open(path: &std::path::Path) -> Repo {
    Repo::discover(path, runner())
        .unwrap_or_else(|e| panic!("cannot open {}: {e:?}", path.display()))
}

struct Stats {
    min: f64,
    median: f64,
    max: f64,
    n: usize,
}

fn measure(runs: usize, mut f: impl FnMut()) -> Stats {
    for _ in 0..3 {
        f();
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = if runs % 2 == 1 {
        ms(times[runs / 2])
    } else {
        (ms(times[runs / 2 - 1]) + ms(times[runs / 2])) / 2.0
    };
    Stats {
        min: ms(times[0]),
        median,
        max: ms(times[runs - 1]),
        n: runs,
    }
}

fn row(name: &str, s: &Stats) {
    println!(
        "| {name:<40} | {:>8.2} | {:>9.2} | {:>8.2} | {:>4} |",
        s.min, s.median, s.max, s.n
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let Some(path) = std::env::var_os("HOTFIX_BENCH_REPO").map(PathBuf::from) else {
        println!(
            "latest_release: skipped (set HOTFIX_BENCH_REPO to a repository, e.g. one made by bench/gen-repo.sh)"
        );
        return;
    };
    let runs: usize = std::env::var("HOTFIX_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(50);
    let cfg = Config::default();
    let remote = cfg.repository.remote.clone();
    let main_branch = cfg.repository.main.clone();

    let repo = open(&path);
    let tip = repo
        .remote_branch(&remote, &main_branch)
        .unwrap_or_else(|| {
            panic!(
                "{remote}/{main_branch} does not exist in {}",
                path.display()
            )
        });
    let tags = repo.tag_names().expect("listing tags").len();
    let rel = Releases::read(&repo, &cfg).expect("reading releases");
    let releases = rel.versions().count();
    let latest = rel
        .latest_on(tip, None)
        .expect("no release is reachable from origin/main");
    assert!(
        latest.version.pre.is_empty(),
        "a pre-release was taken for a release"
    );
    drop(rel);

    println!("latest_release: {}", path.display());
    println!(
        "  {tags} tags ({releases} releases), {remote}/{main_branch} at {}, latest release {} ({})",
        &tip.to_string()[..10],
        latest.tag,
        &latest.commit.to_string()[..10]
    );
    println!();
    println!(
        "| {:<40} |   min ms | median ms |   max ms | runs |",
        "case"
    );
    println!(
        "|{}|---------:|----------:|---------:|-----:|",
        "-".repeat(42)
    );

    let cold = measure(runs, || {
        let repo = open(&path);
        let rel = Releases::read(&repo, &cfg).unwrap();
        let found = rel.latest_on(tip, None).unwrap();
        assert_eq!(found.tag, latest.tag);
    });
    row("cold: open + read + latest_on", &cold);

    let warm = measure(runs, || {
        let rel = Releases::read(&repo, &cfg).unwrap();
        let found = rel.latest_on(tip, None).unwrap();
        assert_eq!(found.tag, latest.tag);
    });
    row("warm: read + latest_on", &warm);

    let read = measure(runs, || {
        let rel = Releases::read(&repo, &cfg).unwrap();
        std::hint::black_box(rel.versions().count());
    });
    row("read only", &read);

    let rel = Releases::read(&repo, &cfg).unwrap();
    let on = measure(runs, || {
        std::hint::black_box(rel.latest_on(tip, None).unwrap());
    });
    row("latest_on only", &on);
    drop(rel);

    // Not the criterion: one release that is NOT reachable (the newest one, from origin/develop:
    // develop never merges main back in the generated history). `latest_on` pays this for every
    // release newer than the one it finds; a tip with no release behind it pays it for all of
    // them, so this row times 1 of up to ~3k such checks. Bounded to a few runs: each walks
    // the whole history.
    let develop = cfg.repository.develop.clone();
    if let Some(dev_tip) = repo.remote_branch(&remote, &develop) {
        let few = runs.min(5);
        let cold_miss = measure(few, || {
            let repo = open(&path);
            assert!(!repo.is_ancestor(latest.commit, dev_tip));
        });
        row("cold: 1 unreachable release check", &cold_miss);
        let warm_miss = measure(few, || {
            assert!(!repo.is_ancestor(latest.commit, dev_tip));
        });
        row("warm: 1 unreachable release check", &warm_miss);
    }

    let status_runs = runs.min(20);
    let status = measure(status_runs, || {
        let repo = open(&path);
        std::hint::black_box(repo.uncommitted_changes().unwrap());
    });
    row("status check (not in the criterion)", &status);

    // The same check taken apart, with git2 directly (what `statuses()` does inside).
    let git = || git2::Repository::open(&path).expect("opening with git2");
    let index_read = measure(status_runs, || {
        std::hint::black_box(git().index().unwrap().len());
    });
    row("  status part: read index", &index_read);
    let tree_to_index = measure(status_runs, || {
        let g = git();
        let index = g.index().unwrap();
        let head = g.head().unwrap().peel_to_tree().unwrap();
        let diff = g
            .diff_tree_to_index(Some(&head), Some(&index), None)
            .unwrap();
        std::hint::black_box(diff.deltas().len());
    });
    row("  status part: index, HEAD tree -> index", &tree_to_index);
    let index_to_workdir = measure(status_runs, || {
        let g = git();
        let index = g.index().unwrap();
        let diff = g.diff_index_to_workdir(Some(&index), None).unwrap();
        std::hint::black_box(diff.deltas().len());
    });
    row("  status part: index, index -> workdir", &index_to_workdir);

    println!();
    let verdict = if cold.median < LIMIT_MS {
        "PASS"
    } else {
        "FAIL"
    };
    println!(
        "RESULT latest_release_median_ms={:.2} limit_ms={LIMIT_MS} {verdict}",
        cold.median
    );
    println!("RESULT status_check_median_ms={:.2}", status.median);
}
