//! Prism (Stoplight) in proxy mode in front of the fake, validating every request and response
//! against GitHub's OpenAPI description; plus a table of the response statuses that
//! description lists per operation, to catch statuses Prism only warns about.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Prism {
    pub url: String,
    pub log: Arc<Mutex<Vec<String>>>,
}

/// One operation of the OpenAPI description: method, path template split on '/', statuses.
pub struct SpecOp {
    pub method: String,
    pub template: Vec<String>,
    pub statuses: Vec<String>,
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            if it.peek() == Some(&'[') {
                it.next();
                for d in it.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

/// Starts `prism proxy --errors` for the fake at `upstream`; returns once it listens.
/// The process gets SIGTERM when this test binary exits (PR_SET_PDEATHSIG, tied to a
/// thread that lives as long as Prism does).
pub fn start(prism: &Path, spec: &Path, upstream: &str) -> Prism {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
    let (prism, spec, upstream) = (
        prism.to_path_buf(),
        spec.to_path_buf(),
        upstream.to_string(),
    );
    let log2 = log.clone();
    std::thread::Builder::new()
        .name("prism".into())
        .spawn(move || {
            let mut cmd = Command::new(&prism);
            cmd.args([
                "proxy",
                "--errors",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .arg(&spec)
            .arg(&upstream)
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                use std::os::unix::process::CommandExt;
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                    Ok(())
                });
            }
            let mut child = match cmd.spawn() {
                Ok(c) => c,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("cannot run {}: {e}", prism.display())));
                    return;
                }
            };
            let pump = |r: Box<dyn Read + Send>,
                        tx: mpsc::Sender<Result<(), String>>,
                        log: Arc<Mutex<Vec<String>>>| {
                for line in BufReader::new(r).lines() {
                    let Ok(line) = line else { break };
                    let line = strip_ansi(&line);
                    if line.contains("Prism is listening") {
                        let _ = tx.send(Ok(()));
                    }
                    // The start-up listing of every route is noise.
                    if line.contains("[CLI]") && line.contains("info") {
                        continue;
                    }
                    if let Some(f) = std::env::var_os("HOTFIX_TEST_PRISM_LOG") {
                        use std::io::Write;
                        if let Ok(mut f) = std::fs::OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(f)
                        {
                            let _ = writeln!(f, "{line}");
                        }
                    }
                    log.lock().unwrap().push(line);
                }
            };
            let err = child.stderr.take().unwrap();
            let (tx2, log3) = (ready_tx.clone(), log2.clone());
            std::thread::spawn(move || pump(Box::new(err), tx2, log3));
            let out = child.stdout.take().unwrap();
            pump(Box::new(out), ready_tx.clone(), log2.clone());
            let status = child.wait();
            let _ = ready_tx.send(Err(format!("prism exited: {status:?}")));
            // Stay alive: the parent-death signal is tied to this thread.
            loop {
                std::thread::park();
            }
        })
        .expect("spawn prism thread");
    match ready_rx.recv_timeout(Duration::from_secs(180)) {
        Ok(Ok(())) => Prism { url, log },
        other => panic!(
            "Prism did not start ({other:?}); its output:\n{}",
            log.lock().unwrap().join("\n")
        ),
    }
}

/// The operations and their documented response statuses.
pub fn load_spec(spec: &Path) -> Vec<SpecOp> {
    let text = std::fs::read_to_string(spec)
        .unwrap_or_else(|e| panic!("read OpenAPI description {}: {e}", spec.display()));
    let v: serde_json::Value = serde_json::from_str(&text).expect("OpenAPI description is JSON");
    let mut ops = Vec::new();
    for (path, item) in v["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            let Some(responses) = op.get("responses").and_then(|r| r.as_object()) else {
                continue;
            };
            ops.push(SpecOp {
                method: method.to_ascii_uppercase(),
                template: path
                    .trim_start_matches('/')
                    .split('/')
                    .map(String::from)
                    .collect(),
                statuses: responses.keys().cloned().collect(),
            });
        }
    }
    ops
}

/// The documented statuses of the operation that `method raw_path` resolves to (literal
/// segments beat parameters), or `None` when no operation matches.
pub fn statuses_for<'a>(ops: &'a [SpecOp], method: &str, raw_path: &str) -> Option<&'a [String]> {
    let segs: Vec<&str> = raw_path.trim_start_matches('/').split('/').collect();
    ops.iter()
        .filter(|o| o.method == method && o.template.len() == segs.len())
        .filter(|o| {
            o.template
                .iter()
                .zip(&segs)
                .all(|(t, s)| t.starts_with('{') || t == s)
        })
        .max_by_key(|o| o.template.iter().filter(|t| !t.starts_with('{')).count())
        .map(|o| o.statuses.as_slice())
}

/// Prism's complaints about requests to paths under any of `prefixes`: its error lines name
/// the path; validator lines follow the upstream line that names it. Warnings about an
/// undocumented status are left to the caller (see `statuses_for`).
pub fn violations(log: &[String], prefixes: &[String]) -> Vec<String> {
    let mine = |l: &str| prefixes.iter().any(|p| l.contains(p.as_str()));
    let mut out = Vec::new();
    let mut last_upstream_mine = false;
    for l in log {
        if l.contains("The upstream call to") {
            last_upstream_mine = mine(l);
        }
        let is_error =
            l.contains('✖') || l.contains(" error ") || l.contains("Request terminated with error");
        let server_error = l.contains("[HTTP SERVER]") && is_error && mine(l);
        let validator = l.contains("[VALIDATOR]")
            && last_upstream_mine
            && !l.contains("Unable to match the returned status code");
        if server_error || validator {
            out.push(l.clone());
        }
    }
    out
}
