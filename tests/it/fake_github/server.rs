//! The HTTP side: a small HTTP/1.1 server (a thread per connection, keep-alive), authentication, injected failures, ETags and
//! conditional requests, rate-limit headers, and the request log.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::json::{self as j, Ctx};
use super::routes::{self, Req, Resp};
use super::state::*;
use super::util::{epoch_now, fnv, parse_query, percent_decode};

pub const RATE_LIMIT: u64 = 5000;

pub struct Shared {
    /// Every repository by its owner (lower case): each repository has an owner of its own.
    pub by_owner: Mutex<HashMap<String, Arc<RepoHandle>>>,
    pub by_token: Mutex<HashMap<String, Arc<RepoHandle>>>,
    /// The base URL clients use (Prism's when it is in front), for the URLs inside bodies.
    pub public_url: Mutex<String>,
    pub seq: AtomicU64,
    pub anon_used: AtomicU64,
    /// Handler panics (answered with a 500), reported by `assert_no_schema_violations`.
    pub panics: Mutex<Vec<String>>,
}

impl Shared {
    pub fn new() -> Shared {
        Shared {
            by_owner: Mutex::new(HashMap::new()),
            by_token: Mutex::new(HashMap::new()),
            public_url: Mutex::new(String::new()),
            seq: AtomicU64::new(1),
            anon_used: AtomicU64::new(0),
            panics: Mutex::new(Vec::new()),
        }
    }
}

/// Starts the server on a free loopback port; returns its base URL.
pub fn start(shared: Arc<Shared>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake GitHub");
    let port = listener.local_addr().expect("local address").port();
    std::thread::Builder::new()
        .name("fake-github-accept".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                let _ = std::thread::Builder::new()
                    .name("fake-github-conn".into())
                    .spawn(move || serve_connection(&shared, stream));
            }
        })
        .expect("spawn fake GitHub");
    format!("http://127.0.0.1:{port}")
}

/// Requests on one connection, one after another, until the client closes it or asks to.
fn serve_connection(shared: &Shared, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = line.trim_end();
        if line.is_empty() {
            continue; // stray CRLF between requests
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target), version) = (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let http10 = version == Some("HTTP/1.0");
        let mut headers: Vec<(String, String)> = Vec::new();
        loop {
            let mut h = String::new();
            match reader.read_line(&mut h) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let get = |k: &str| {
            headers
                .iter()
                .find(|(hk, _)| hk == k)
                .map(|(_, v)| v.clone())
        };
        if get("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
            let _ = writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let body = if get("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
        {
            match read_chunked(&mut reader) {
                Some(b) => b,
                None => return,
            }
        } else {
            let n: usize = get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut b = vec![0; n];
            if reader.read_exact(&mut b).is_err() {
                return;
            }
            b
        };
        let close = match get("connection").map(|v| v.to_ascii_lowercase()) {
            Some(v) if v.contains("close") => true,
            Some(v) if v.contains("keep-alive") => false,
            _ => http10,
        };
        let inc = Incoming {
            method: method.to_ascii_uppercase(),
            url: target.to_string(),
            if_none_match: get("if-none-match"),
            token: token_of(get("authorization").as_deref()),
            body_text: String::from_utf8_lossy(&body).into_owned(),
        };
        let out = handle(shared, &inc);
        let bytes = encode(&inc.method, out, shared, close);
        if writer
            .write_all(&bytes)
            .and_then(|_| writer.flush())
            .is_err()
            || close
        {
            let _ = writer.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

fn read_chunked(r: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let mut size = String::new();
        r.read_line(&mut size).ok()?;
        let n = usize::from_str_radix(size.trim().split(';').next()?.trim(), 16).ok()?;
        if n == 0 {
            // Trailers, up to the empty line.
            loop {
                let mut t = String::new();
                if r.read_line(&mut t).ok()? == 0 || t.trim().is_empty() {
                    return Some(out);
                }
            }
        }
        let mut chunk = vec![0; n + 2];
        r.read_exact(&mut chunk).ok()?;
        out.extend_from_slice(&chunk[..n]);
    }
}

fn token_of(auth: Option<&str>) -> Option<String> {
    let a = auth?.trim();
    let (scheme, tok) = a.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then(|| tok.trim().to_string())
}

struct Incoming {
    method: String,
    url: String,
    if_none_match: Option<String>,
    token: Option<String>,
    body_text: String,
}

/// What goes back: the response, its ETag, and the rate-limit numbers for the headers.
struct Outgoing {
    resp: Resp,
    etag: Option<String>,
    limit: u64,
    used: u64,
    reset: u64,
}

/// Answers one request; a panic in a handler becomes a 500 and is remembered.
fn handle(shared: &Shared, inc: &Incoming) -> Outgoing {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| process(shared, inc))).unwrap_or_else(
        |e| {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let msg = format!("fake GitHub panicked on {} {}: {msg}", inc.method, inc.url);
            eprintln!("{msg}");
            shared
                .panics
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(msg.clone());
            Outgoing {
                resp: Resp::new(500, j::basic_error(&msg, 500)),
                etag: None,
                limit: RATE_LIMIT,
                used: 0,
                reset: epoch_now() + 3600,
            }
        },
    )
}

fn process(shared: &Shared, inc: &Incoming) -> Outgoing {
    let method = inc.method.clone();
    let (raw_path, raw_query) = inc.url.split_once('?').unwrap_or((&inc.url, ""));
    let (raw_path, raw_query) = (raw_path.to_string(), raw_query.to_string());
    let body_text = inc.body_text.clone();
    let if_none_match = inc.if_none_match.clone();
    let token = inc.token.clone();

    let segs = routes::segments(&raw_path);
    let path_owner = match segs.first().map(String::as_str) {
        Some("repos") if segs.len() >= 3 => Some((segs[1].to_ascii_lowercase(), Some(&segs[2]))),
        Some("orgs") if segs.len() >= 2 => Some((segs[1].to_ascii_lowercase(), None)),
        _ => None,
    };
    let path_repo = path_owner.as_ref().and_then(|(o, name)| {
        let h = shared.by_owner.lock().unwrap().get(o).cloned()?;
        match name {
            Some(n) if !n.eq_ignore_ascii_case(&h.name) => None,
            _ => Some(h),
        }
    });
    let token_repo = token
        .as_ref()
        .and_then(|t| shared.by_token.lock().unwrap().get(t).cloned());

    // Which repository this request belongs to (for the log and the rate limit), and whether
    // it is authorised.
    let (h, authorised) = match (&path_owner, path_repo, token_repo) {
        (Some(_), Some(p), Some(t)) => {
            let same = Arc::ptr_eq(&p, &t);
            (Some(p), if same { Ok(()) } else { Err(404) })
        }
        (Some(_), Some(p), None) => (Some(p), Err(401)),
        (Some(_), None, t) => {
            let code = if t.is_some() { 404 } else { 401 };
            (t, Err(code))
        }
        (None, _, Some(t)) => (Some(t), Ok(())),
        (None, _, None) => (None, Err(401)),
    };

    let api = shared.public_url.lock().unwrap().clone();
    let Some(h) = h else {
        // No repository to charge this to: an anonymous 401.
        let used = shared.anon_used.fetch_add(1, Ordering::Relaxed) + 1;
        return Outgoing {
            resp: Resp::new(401, bad_credentials()),
            etag: None,
            limit: 60,
            used,
            reset: epoch_now() + 3600,
        };
    };
    let mut st = h.st.lock().unwrap_or_else(|p| p.into_inner());
    let c = Ctx { api: &api, h: &h };

    let body: Value = if body_text.trim().is_empty() {
        Value::Null
    } else {
        match serde_json::from_str(&body_text) {
            Ok(v) => v,
            Err(_) => Value::String("\u{0}invalid".into()),
        }
    };

    let rule = st
        .failures
        .iter()
        .position(|f| {
            f.times > 0
                && f.method.eq_ignore_ascii_case(&method)
                && (f.path.is_match(&raw_path) || f.path.is_match(&percent_decode(&raw_path)))
        })
        .map(|i| {
            st.failures[i].times -= 1;
            st.failures[i].clone()
        });

    let user = st.token_user.clone();
    let query = parse_query(&raw_query);
    let run = |st: &mut RepoState| -> Resp {
        match authorised {
            Err(401) => return Resp::new(401, bad_credentials()),
            Err(_) => return routes::not_found(),
            Ok(()) => {}
        }
        if body == Value::String("\u{0}invalid".into()) {
            return Resp::new(400, j::basic_error("Problems parsing JSON", 400));
        }
        let is_repo = segs.first().map(String::as_str) == Some("repos");
        let rest: &[String] = if is_repo { &segs[3..] } else { &segs };
        let r = Req {
            method: &method,
            rest,
            query: &query,
            body: &body,
            user: &user,
        };
        if is_repo {
            routes::route_repo(&c, st, &r)
        } else {
            routes::route_global(&c, st, &r)
        }
    };
    let (resp, injected) = match &rule {
        Some(f) => {
            if f.take_effect {
                let _ = run(&mut st);
            }
            let mut resp = if f.status == 304 || f.status == 204 {
                Resp::empty(f.status)
            } else {
                Resp::new(f.status, j::basic_error(reason(f.status), f.status))
            };
            resp.headers = f.headers.clone();
            (resp, true)
        }
        None => (run(&mut st), false),
    };

    // Conditional requests: only where GitHub's description allows a 304.
    let mut resp = resp;
    let mut etag = None;
    if let Some(b) = resp
        .body
        .as_ref()
        .filter(|_| method == "GET" && resp.status == 200)
    {
        let e = format!("W/\"{:016x}\"", fnv(b.to_string().as_bytes()));
        let matches = if_none_match
            .as_deref()
            .is_some_and(|inm| inm.split(',').any(|x| x.trim() == e || x.trim() == "*"));
        if resp.allow_304 && matches {
            resp = Resp::empty(304);
        }
        etag = Some(e);
    }
    let is_rate_limit_call = segs.len() == 1 && segs[0] == "rate_limit";
    let counted = resp.status != 304 && !is_rate_limit_call;
    if counted {
        st.rate_used += 1;
    }
    st.requests.push(RecordedRequest {
        method: method.clone(),
        path: raw_path,
        query: raw_query,
        status: resp.status,
        conditional: if_none_match.is_some(),
        counted,
        injected,
        body: body_text,
    });
    Outgoing {
        resp,
        etag,
        limit: RATE_LIMIT,
        used: st.rate_used,
        reset: st.rate_reset,
    }
}

fn bad_credentials() -> Value {
    serde_json::json!({"message": "Bad credentials", "documentation_url": j::DOCS, "status": "401"})
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Bad credentials",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        422 => "Validation Failed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// The bytes of the answer: status line, headers, body.
fn encode(method: &str, out: Outgoing, shared: &Shared, close: bool) -> Vec<u8> {
    let Outgoing {
        resp,
        etag,
        limit,
        used,
        reset,
    } = out;
    let mut headers: Vec<(String, String)> = vec![
        ("date".into(), http_date(epoch_now())),
        ("server".into(), "fake-github".into()),
        ("x-ratelimit-limit".into(), limit.to_string()),
        (
            "x-ratelimit-remaining".into(),
            limit.saturating_sub(used).to_string(),
        ),
        ("x-ratelimit-used".into(), used.to_string()),
        ("x-ratelimit-reset".into(), reset.to_string()),
        ("x-ratelimit-resource".into(), "core".into()),
        (
            "x-github-media-type".into(),
            "github.v3; format=json".into(),
        ),
        (
            "x-github-request-id".into(),
            format!("FAKE:{:08X}", shared.seq.fetch_add(1, Ordering::Relaxed)),
        ),
        ("x-oauth-scopes".into(), "repo, read:org".into()),
        ("vary".into(), "Accept, Authorization, Cookie".into()),
    ];
    if method == "GET" && matches!(resp.status, 200 | 304) {
        headers.push((
            "cache-control".into(),
            "private, max-age=60, s-maxage=60".into(),
        ));
    }
    if let Some(e) = etag {
        headers.push(("etag".into(), e));
    }
    // Injected and handler headers win over the defaults.
    for (k, v) in resp.headers {
        headers.retain(|(hk, _)| !hk.eq_ignore_ascii_case(&k));
        headers.push((k, v));
    }
    let no_body = matches!(resp.status, 204 | 304) || method == "HEAD";
    let data = match &resp.body {
        Some(b) if !no_body => {
            headers.push((
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            ));
            serde_json::to_vec(b).unwrap()
        }
        _ => Vec::new(),
    };
    if !matches!(resp.status, 204 | 304) {
        headers.push(("content-length".into(), data.len().to_string()));
    }
    headers.push((
        "connection".into(),
        if close { "close" } else { "keep-alive" }.into(),
    ));
    let mut out = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&data);
    bytes
}

/// `Thu, 01 Jan 2026 00:00:00 GMT`.
fn http_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let iso = super::util::rfc3339(secs); // YYYY-MM-DDTHH:MM:SSZ
    let m: usize = iso[5..7].parse().unwrap();
    format!(
        "{}, {} {} {} {} GMT",
        DAYS[((secs / 86_400) % 7) as usize],
        &iso[8..10],
        MONTHS[m - 1],
        &iso[0..4],
        &iso[11..19]
    )
}
