//! Benchmark of issue #3: test selection over 10,000 changed files and 500 rules must take
//! under 50 ms.
//!
//! `cargo bench --bench selection` (harness = false: a plain `main`, no bench crate).
//!
//! Builds a deterministic `[tests]` table of 500 rules with 2–3 globs each, in the shapes real
//! configurations use (`services/svcN/**`, `libs/libN/src/**/*.rs`, `proto/svcN/*.proto`, …),
//! and 10,000 changed paths, about 85 % covered by some rule and 15 % by none (docs, CI files,
//! top-level files). Then it times `hotfix::testsel::select` — which compiles the glob set and
//! matches every path — RUNS times, and, to show what dominates, the pieces separately:
//! `Matcher::new` (compiling the glob set), `Matcher::partition` (matching) on a fresh matcher
//! and on a reused one, and the matching of each group of changed files by extension.
//!
//! Environment: SELECTION_RUNS (default 30), SELECTION_RULES (500), SELECTION_FILES (10000),
//! SELECTION_BREAKDOWN=0 to skip the per-extension breakdown, SELECTION_FIXTURE=rust for the
//! worst case instead (a Rust monorepo: every glob ends in `*.rs`, see `rust_rules`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use hotfix::config::{Glob, TestRule, Tests, Unmatched};
use hotfix::testsel::{Matcher, select};

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn rules(n: usize) -> Vec<TestRule> {
    (0..n)
        .map(|i| {
            let paths: Vec<String> = match i % 5 {
                // A service: everything under its directory, plus its protobuf definitions.
                0 | 1 => vec![
                    format!("services/svc{i}/**"),
                    format!("proto/svc{i}/*.proto"),
                ],
                // A Rust library: its sources and tests, and its manifest.
                2 => vec![
                    format!("libs/lib{i}/src/**/*.rs"),
                    format!("libs/lib{i}/tests/**"),
                    format!("libs/lib{i}/Cargo.toml"),
                ],
                // A frontend package: TypeScript sources and its package.json.
                3 => vec![
                    format!("web/pkg{i}/src/**/*.{{ts,tsx}}"),
                    format!("web/pkg{i}/package.json"),
                ],
                // A Python package, with a test file next to each module.
                _ => vec![
                    format!("py/mod{i}/**/*.py"),
                    format!("py/mod{i}/pyproject.toml"),
                    format!("py/mod{i}/**/test_*.py"),
                ],
            };
            TestRule {
                name: format!("rule-{i}"),
                paths: paths.into_iter().map(Glob).collect(),
                run: format!("make test-{i}"),
            }
        })
        .collect()
}

fn changed_files(n: usize, n_rules: usize, rng: &mut Rng) -> Vec<String> {
    let dirs = ["a", "b", "core", "internal/x", "handlers/v2", "util"];
    (0..n)
        .map(|k| {
            let d = dirs[rng.below(dirs.len())];
            let f = rng.below(1000);
            // ~15 % of the files are covered by no rule.
            if rng.below(100) < 15 {
                return match rng.below(5) {
                    0 => format!("docs/{d}/page{f}.md"),
                    1 => format!(".github/workflows/ci{f}.yml"),
                    2 => format!("scripts/{d}/tool{f}.sh"),
                    // Near misses: a library's non-Rust file, a service outside `services/`.
                    3 => format!("libs/lib{}/README{f}.md", rng.below(n_rules)),
                    _ => format!("svc{}/file{f}.go", rng.below(n_rules)),
                };
            }
            let i = rng.below(n_rules);
            match i % 5 {
                0 | 1 => {
                    if k % 7 == 0 {
                        format!("proto/svc{i}/api{f}.proto")
                    } else {
                        format!("services/svc{i}/{d}/file{f}.go")
                    }
                }
                2 => match k % 6 {
                    0 => format!("libs/lib{i}/tests/it{f}.rs"),
                    1 => format!("libs/lib{i}/Cargo.toml"),
                    _ => format!("libs/lib{i}/src/{d}/m{f}.rs"),
                },
                3 => {
                    if k % 9 == 0 {
                        format!("web/pkg{i}/package.json")
                    } else {
                        format!("web/pkg{i}/src/{d}/c{f}.tsx")
                    }
                }
                _ => format!("py/mod{i}/{d}/test_m{f}.py"),
            }
        })
        .collect()
}

/// SELECTION_FIXTURE=rust: a Rust monorepo, the worst shape for globset: every rule's globs
/// end in `*.rs`, so every changed `.rs` file is tried against the regex of every such glob one
/// after the other (globset's "required extension" strategy).
fn rust_rules(n: usize) -> Vec<TestRule> {
    (0..n)
        .map(|i| TestRule {
            name: format!("crate-{i}"),
            paths: vec![
                Glob(format!("crates/c{i}/src/**/*.rs")),
                Glob(format!("crates/c{i}/tests/**/*.rs")),
                Glob(format!("crates/c{i}/Cargo.toml")),
            ],
            run: format!("cargo test -p c{i}"),
        })
        .collect()
}

fn rust_changed_files(n: usize, n_rules: usize, rng: &mut Rng) -> Vec<String> {
    (0..n)
        .map(|k| {
            let i = rng.below(n_rules);
            let f = rng.below(1000);
            match k % 20 {
                0 => format!("docs/page{f}.md"),
                1 => format!("crates/c{i}/Cargo.toml"),
                2 | 3 => format!("crates/c{i}/tests/it{f}.rs"),
                _ => format!("crates/c{i}/src/m{}/f{f}.rs", rng.below(20)),
            }
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// CPU time of this thread: unlike wall-clock time, it does not grow while the thread waits for
/// a CPU, so it stays meaningful on a busy machine.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// One timed run: wall-clock and thread CPU time.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Duration,
}

struct Stamp(Instant, Duration);

impl Stamp {
    fn now() -> Stamp {
        Stamp(Instant::now(), thread_cpu())
    }
    fn elapsed(&self) -> Sample {
        Sample {
            wall: self.0.elapsed(),
            cpu: thread_cpu() - self.1,
        }
    }
}

fn median(v: &[Duration]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        ms(v[n / 2])
    } else {
        (ms(v[n / 2 - 1]) + ms(v[n / 2])) / 2.0
    }
}

fn summary(label: &str, v: Vec<Sample>) {
    let mut wall: Vec<Duration> = v.iter().map(|s| s.wall).collect();
    let mut cpu: Vec<Duration> = v.iter().map(|s| s.cpu).collect();
    wall.sort();
    cpu.sort();
    let n = wall.len();
    println!(
        "{label:<30} wall: min {:>7.3}  median {:>7.3}  max {:>7.3} ms | CPU: median {:>7.3} ms  ({n} runs)",
        ms(wall[0]),
        median(&wall),
        ms(wall[n - 1]),
        median(&cpu),
    );
}

/// Times `f` `runs` times after one uncounted warm-up run. Dropping the result is not timed.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Vec<Sample> {
    drop(black_box(f()));
    (0..runs)
        .map(|_| {
            let t = Stamp::now();
            let r = black_box(f());
            let s = t.elapsed();
            drop(r);
            s
        })
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing special. Either way
    // there is nothing to filter.
    let runs = env_usize("SELECTION_RUNS", 30).max(1);
    let n_rules = env_usize("SELECTION_RULES", 500).max(1);
    let n_files = env_usize("SELECTION_FILES", 10_000);

    let rust = match std::env::var("SELECTION_FIXTURE").as_deref() {
        Err(_) | Ok("") | Ok("mixed") => false,
        Ok("rust") => true,
        Ok(other) => panic!("SELECTION_FIXTURE={other:?}: expected \"mixed\" or \"rust\""),
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let tests = Tests {
        smoke: vec!["make smoke".into()],
        full: Some("make test".into()),
        unmatched: Unmatched::Full,
        rule: if rust {
            rust_rules(n_rules)
        } else {
            rules(n_rules)
        },
        ..Tests::default()
    };
    let changed = if rust {
        rust_changed_files(n_files, n_rules, &mut rng)
    } else {
        changed_files(n_files, n_rules, &mut rng)
    };
    let n_globs: usize = tests.rule.iter().map(|r| r.paths.len()).sum();

    // Sanity: the selection is what the fixture intends.
    let sel = select(&tests, &changed, false).expect("selection");
    let full_files = sel
        .selected
        .iter()
        .find(|s| s.rule == "full")
        .map_or(0, |s| s.files.len());
    println!(
        "selection ({} fixture): {n_rules} rules, {n_globs} globs, {} changed files → {} rules selected (incl. full), {full_files} files matched no rule",
        if rust { "rust" } else { "mixed" },
        changed.len(),
        sel.selected.len(),
    );

    let whole = time(runs, || select(&tests, &changed, false).expect("selection"));
    let mut walls: Vec<Duration> = whole.iter().map(|s| s.wall).collect();
    walls.sort();
    println!(
        "RESULT selection_{}_median_ms={:.2}",
        if rust { "rust" } else { "mixed" },
        median(&walls)
    );
    summary("select (compile + match)", whole);
    summary(
        "  Matcher::new (compile)",
        time(runs, || Matcher::new(&tests).expect("compile")),
    );
    // `select` builds a new matcher every time, so its regexes start with empty caches (the
    // lazy DFAs are built while matching): that is the first measurement below. The second
    // reuses one matcher, caches warm: the pure matching cost.
    let mut fresh = Vec::with_capacity(runs + 1);
    for _ in 0..=runs {
        let m = Matcher::new(&tests).expect("compile");
        let t = Stamp::now();
        let r = black_box(m.partition(tests.rule.len(), &changed));
        fresh.push(t.elapsed());
        drop(r);
    }
    fresh.remove(0);
    summary("  Matcher::partition, fresh", fresh);
    let matcher = Matcher::new(&tests).expect("compile");
    summary(
        "  Matcher::partition, reused",
        time(runs, || matcher.partition(tests.rule.len(), &changed)),
    );

    // Where the matching time goes: the changed files grouped by extension, each group matched
    // on its own (SELECTION_BREAKDOWN=0 turns this off).
    if std::env::var("SELECTION_BREAKDOWN").as_deref() != Ok("0") {
        let mut groups: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for f in &changed {
            let ext = f.rsplit_once('.').map_or("", |(_, e)| e);
            groups.entry(format!(".{ext}")).or_default().push(f.clone());
        }
        println!("partition by extension of the changed file (same matcher):");
        for (ext, files) in &groups {
            summary(
                &format!("  {ext:<8} {:>5} files", files.len()),
                time(runs, || matcher.partition(tests.rule.len(), files)),
            );
        }
    }
}
