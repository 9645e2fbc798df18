//! Small helpers: wall-clock timestamps, percent-decoding, query strings, hashing.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn epoch_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The current UTC time as GitHub writes it: `2026-01-01T00:00:00Z` (one-second resolution).
pub fn now_rfc3339() -> String {
    rfc3339(epoch_now())
}

pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u64;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i64 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Normalises a git ISO-8601 date (`2026-01-01T00:00:00+00:00`) to GitHub's `...Z` form.
pub fn git_date_to_github(d: &str) -> String {
    d.strip_suffix("+00:00")
        .map(|s| format!("{s}Z"))
        .unwrap_or_else(|| d.to_string())
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=1&b=x%2Fy` → {a: 1, b: x/y}; `+` means a space, as in forms.
pub fn parse_query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// FNV-1a, for ETags.
pub fn fnv(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for x in b {
        h ^= *x as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// A GraphQL-looking node id, stable for a kind and a database id.
pub fn node_id(kind: &str, id: i64) -> String {
    format!("{kind}_kwDO{id:08}")
}

#[test]
fn fake_github_util_dates_and_decoding() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
    assert_eq!(rfc3339(951_827_696), "2000-02-29T12:34:56Z");
    assert_eq!(
        percent_decode("heads%2Fhotfix%2F1.3.1"),
        "heads/hotfix/1.3.1"
    );
    assert_eq!(percent_decode("a%2"), "a%2");
    assert_eq!(parse_query("head=org%3Ax&state=all")["head"], "org:x");
    assert_eq!(
        git_date_to_github("2026-01-01T00:00:00+00:00"),
        "2026-01-01T00:00:00Z"
    );
}
