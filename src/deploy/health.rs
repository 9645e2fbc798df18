//! Health gates: an HTTP GET (`url`, `expect_status`, `expect_body`) or a `command`, measured
//! every `interval` after `initial_delay`, passing after `consecutive_successes` in a row and
//! failing after more than `failure_limit` failed measurements, or at `timeout`. A connection
//! error is a failed measurement. The reason and the last response are reported.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::config::Health;
use crate::exec::{ConfiguredCommand, Job, Runner};

/// How a gate ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GateResult {
    pub passed: bool,
    pub measurements: u32,
    pub failures: u32,
    pub reason: String,
    /// The last response (status and the start of the body) or command outcome.
    pub last: String,
}

/// What a gate measures against.
pub struct Probe<'a> {
    pub runner: &'a Runner,
    pub environment: &'a str,
    /// For `command` gates: where and with what values they run.
    pub cmd: ConfiguredCommand,
    pub log: std::path::PathBuf,
}

/// One measurement: `(healthy, what was seen)`.
pub fn measure(h: &Health, p: &Probe<'_>, kill: &AtomicBool) -> (bool, String) {
    if let Some(url) = &h.url {
        let url = url.replace("{environment}", p.environment);
        let per_request = h
            .interval
            .0
            .max(Duration::from_secs(1))
            .min(Duration::from_secs(30));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(per_request))
            .http_status_as_error(false)
            .build()
            .into();
        return match agent.get(&url).call() {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_string()
                    .unwrap_or_default();
                let body_ok = h.expect_body.as_deref().is_none_or(|b| body.contains(b));
                let shown: String = body.chars().take(120).collect();
                let ok = status == h.expect_status && body_ok;
                let why = if status != h.expect_status {
                    format!("status {status}, expected {}", h.expect_status)
                } else if !body_ok {
                    format!("body lacks {:?}", h.expect_body.as_deref().unwrap_or(""))
                } else {
                    format!("status {status}")
                };
                (ok, format!("GET {url}: {why}; body: {}", shown.trim()))
            }
            Err(e) => (false, format!("GET {url}: {e}")),
        };
    }
    if let Some(command) = &h.command {
        let mut cmd = p.cmd.clone();
        cmd.command = command.clone();
        let job = Job {
            name: "health".into(),
            cmd,
            timeout: h.interval.0.max(Duration::from_secs(1)) * 6,
            log: p.log.clone(),
        };
        let outcome = p.runner.run_job(&job, kill);
        return (
            outcome.passed(),
            format!("`{command}`: {}", outcome.describe()),
        );
    }
    (true, "no check configured".into())
}

/// Runs a gate to its end. `kill` stops it early (counts as failed).
pub fn run_gate(h: &Health, p: &Probe<'_>, kill: &AtomicBool) -> GateResult {
    let start = Instant::now();
    let deadline = start + h.timeout.0;
    let mut r = GateResult {
        passed: false,
        measurements: 0,
        failures: 0,
        reason: String::new(),
        last: String::new(),
    };
    if p.runner.dry_run {
        p.runner.ui.would(format!(
            "health gate: {} ({} in a row within {})",
            h.url.as_deref().or(h.command.as_deref()).unwrap_or(""),
            h.consecutive_successes,
            h.timeout
        ));
        r.passed = true;
        r.reason = "dry run".into();
        return r;
    }
    // Warm-up: nothing is measured before initial_delay.
    if wait_until(start + h.initial_delay.0, deadline, kill) {
        r.reason = "interrupted".into();
        return r;
    }
    let mut in_a_row = 0;
    loop {
        if Instant::now() >= deadline {
            r.reason = format!(
                "not healthy within {} ({} of {} successes in a row)",
                h.timeout, in_a_row, h.consecutive_successes
            );
            return r;
        }
        let (ok, seen) = measure(h, p, kill);
        r.measurements += 1;
        r.last = seen;
        if ok {
            in_a_row += 1;
            if in_a_row >= h.consecutive_successes {
                r.passed = true;
                r.reason = format!("{in_a_row} healthy measurement(s) in a row");
                return r;
            }
        } else {
            in_a_row = 0;
            r.failures += 1;
            if r.failures > h.failure_limit {
                r.reason = format!(
                    "{} failed measurement(s), more than failure_limit = {}",
                    r.failures, h.failure_limit
                );
                return r;
            }
        }
        if wait_until(Instant::now() + h.interval.0, deadline, kill) {
            r.reason = "interrupted".into();
            return r;
        }
    }
}

/// Sleeps until `t` (or `deadline`, whichever is first); true when `kill` was raised.
pub fn wait_until(t: Instant, deadline: Instant, kill: &AtomicBool) -> bool {
    let t = t.min(deadline);
    while Instant::now() < t {
        if kill.load(Ordering::SeqCst) {
            return true;
        }
        std::thread::sleep((t - Instant::now()).min(Duration::from_millis(20)));
    }
    kill.load(Ordering::SeqCst)
}
