//! Deploy orchestration overhead: a 20-stage DAG of no-op stages (5 waves of 4, each stage
//! depending on the whole previous wave), run by the real executor. Overhead is the wall time
//! minus the critical path of the commands themselves (5 × one `sh -c true`).
//!
//! Run: `cargo bench --bench orchestration`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use hotfix::config::Config;
use hotfix::deploy::execute::{Observer, StageState, Target, execute};
use hotfix::deploy::{Scope, plan};
use hotfix::exec::Runner;
use hotfix::ui::Ui;

struct Nobody;
impl Observer for Nobody {
    fn changed(&self, _: &str, _: &StageState) {}
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut toml = String::from("[deploy]\nmax_parallel = 4\n");
    for wave in 0..5 {
        for i in 0..4 {
            toml.push_str(&format!(
                "[[deploy.stage]]\nid = \"s{wave}{i}\"\nrun = \"true\"\n"
            ));
            if wave > 0 {
                let deps: Vec<String> = (0..4).map(|j| format!("\"s{}{j}\"", wave - 1)).collect();
                toml.push_str(&format!("depends_on = [{}]\n", deps.join(", ")));
            }
        }
    }
    let cfg: Config = toml::from_str(&toml).expect("config");
    let p = plan(&cfg.deploy, &Scope::default()).expect("plan");
    assert_eq!(p.waves.len(), 5);
    let ui = Ui::new(true, false, false, true, true);
    let runner = Runner::new(false, ui.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let target = Target {
        environment: "bench".into(),
        worktree: dir.path().to_path_buf(),
        vars: Vec::new(),
        log_dir: dir.path().join("logs"),
        max_parallel: 4,
        delegate: None,
    };
    // One no-op command, as the executor runs it.
    let job = hotfix::exec::Job {
        name: "one".into(),
        cmd: hotfix::exec::ConfiguredCommand {
            command: "true".into(),
            cwd: dir.path().to_path_buf(),
            env: Vec::new(),
            pass_token: false,
        },
        timeout: Duration::from_secs(10),
        log: dir.path().join("one.log"),
    };
    let never = std::sync::atomic::AtomicBool::new(false);
    let one: Vec<Duration> = (0..30)
        .map(|_| {
            let t = Instant::now();
            runner.run_job(&job, &never);
            t.elapsed()
        })
        .collect();
    let one = median(one);
    let group = ui.group();
    let runs: Vec<Duration> = (0..15)
        .map(|_| {
            let t = Instant::now();
            let o = execute(&runner, &p, &target, &BTreeSet::new(), &Nobody, &group);
            assert!(o.failed.is_none());
            t.elapsed()
        })
        .collect();
    let total = median(runs);
    let critical = one * 5;
    println!(
        "one no-op stage command (median of 30): {:.1} ms",
        one.as_secs_f64() * 1e3
    );
    println!(
        "20-stage DAG, 5 waves (median of 15):   {:.1} ms",
        total.as_secs_f64() * 1e3
    );
    println!(
        "critical path of the commands (5 × one): {:.1} ms",
        critical.as_secs_f64() * 1e3
    );
    println!(
        "orchestration overhead:                 {:.1} ms (target < 100 ms)",
        total.saturating_sub(critical).as_secs_f64() * 1e3
    );
    println!(
        "RESULT orchestration_overhead_ms={:.2}",
        total.saturating_sub(critical).as_secs_f64() * 1e3
    );
}
