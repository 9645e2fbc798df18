//! Checks of a parsed configuration that the types alone cannot express: stage graph (unknown
//! `depends_on` ids, duplicates, cycles), mutually exclusive keys, ranges, patterns, and
//! token-looking values. Every check runs and every problem is collected with the key path it
//! concerns, so the caller can point at file:line:column.

use std::collections::{BTreeMap, HashMap};

use super::schema::Config;

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

pub type KeyPath = Vec<Seg>;

/// Builds a key path from dotted text and indices: `key_path!["deploy", "stage", 2, "id"]`.
macro_rules! key_path {
    ($($s:expr),* $(,)?) => { vec![$(crate::config::validate::IntoSeg::into_seg($s)),*] };
}
#[allow(unused_imports)]
pub(crate) use key_path;

pub trait IntoSeg {
    fn into_seg(self) -> Seg;
}
impl IntoSeg for &str {
    fn into_seg(self) -> Seg {
        Seg::Key(self.to_string())
    }
}
impl IntoSeg for usize {
    fn into_seg(self) -> Seg {
        Seg::Index(self)
    }
}

pub fn display_path(p: &[Seg]) -> String {
    let mut s = String::new();
    for seg in p {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// A problem found in the configuration, at a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: KeyPath,
    pub message: String,
}

impl Problem {
    fn new(path: KeyPath, message: impl Into<String>) -> Self {
        Problem {
            path,
            message: message.into(),
        }
    }
}

/// Does this string look like a GitHub token (classic, fine-grained, OAuth, app, refresh)?
pub fn looks_like_token(s: &str) -> bool {
    token_position(s).is_some()
}

/// The byte offset of the first token-looking run in `s`.
pub fn token_position(s: &str) -> Option<usize> {
    const PREFIXES: [&str; 6] = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"];
    let bytes = s.as_bytes();
    PREFIXES
        .iter()
        .flat_map(|p| s.match_indices(p).map(move |(i, _)| (i, p.len())))
        .filter(|(i, _)| *i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'))
        .filter(|(i, len)| {
            s[i + len..]
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count()
                >= 20
        })
        .map(|(i, _)| i)
        .min()
}

/// Every problem in `cfg`, in file order as far as possible.
pub fn validate(cfg: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    let m = &cfg.model;
    if !m.tag_format.contains("{version}") {
        out.push(Problem::new(
            key_path!["model", "tag_format"],
            format!("tag_format {:?} must contain {{version}}", m.tag_format),
        ));
    }
    for (key, v) in [
        ("hotfix_prefix", &m.hotfix_prefix),
        ("release_prefix", &m.release_prefix),
        ("support_prefix", &m.support_prefix),
    ] {
        if v.is_empty() || git2::Branch::name_is_valid(&format!("{v}1.0")).ok() != Some(true) {
            out.push(Problem::new(
                key_path!["model", key],
                format!("{key} {v:?} does not make valid branch names"),
            ));
        }
    }
    if cfg.tests.timeout.0.is_zero() {
        out.push(Problem::new(
            key_path!["tests", "timeout"],
            "timeout must be longer than 0s",
        ));
    }
    if cfg.deploy.defaults.timeout.0.is_zero() {
        out.push(Problem::new(
            key_path!["deploy", "defaults", "timeout"],
            "timeout must be longer than 0s",
        ));
    }
    if cfg.tests.jobs == 0 {
        out.push(Problem::new(
            key_path!["tests", "jobs"],
            "jobs must be at least 1",
        ));
    }
    let mut rule_names = HashMap::new();
    for (i, r) in cfg.tests.rule.iter().enumerate() {
        if let Some(first) = rule_names.insert(r.name.as_str(), i) {
            out.push(Problem::new(
                key_path!["tests", "rule", i, "name"],
                format!(
                    "test rule {:?} is defined twice (also rule #{})",
                    r.name,
                    first + 1
                ),
            ));
        }
        if r.paths.is_empty() {
            out.push(Problem::new(
                key_path!["tests", "rule", i, "paths"],
                format!("test rule {:?} has no paths", r.name),
            ));
        }
    }
    if let Some(repo) = &cfg.github.repo {
        let ok = repo
            .split_once('/')
            .is_some_and(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'));
        if !ok {
            out.push(Problem::new(
                key_path!["github", "repo"],
                format!("repo {repo:?} must be written as \"owner/name\""),
            ));
        }
    }
    if let Some(url) = &cfg.github.api_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        out.push(Problem::new(
            key_path!["github", "api_url"],
            format!("api_url {url:?} must start with https:// or http://"),
        ));
    }
    let a = &cfg.approval;
    if a.poll_interval.0.is_zero() {
        out.push(Problem::new(
            key_path!["approval", "poll_interval"],
            "poll_interval must be longer than 0s",
        ));
    }
    if a.expires_after.0.is_zero() {
        out.push(Problem::new(
            key_path!["approval", "expires_after"],
            "expires_after must be longer than 0s",
        ));
    }
    if let Some(p) = &cfg.hooks.incident_pattern
        && let Err(e) = regex::Regex::new(p)
    {
        out.push(Problem::new(
            key_path!["hooks", "incident_pattern"],
            format!("incident_pattern is not a valid regular expression: {e}"),
        ));
    }
    if let Some(p) = &cfg.hooks.protected {
        for (i, g) in p.iter().enumerate() {
            if let Err(e) = globset::GlobBuilder::new(g).literal_separator(true).build() {
                out.push(Problem::new(
                    key_path!["hooks", "protected", i],
                    format!("invalid glob {g:?}: {}", e.kind()),
                ));
            }
        }
    }
    let d = &cfg.deploy;
    if d.environments.is_empty() {
        out.push(Problem::new(
            key_path!["deploy", "environments"],
            "at least one environment is required",
        ));
    }
    if d.max_parallel == 0 {
        out.push(Problem::new(
            key_path!["deploy", "max_parallel"],
            "max_parallel must be at least 1",
        ));
    }
    if let Some(mon) = &d.monitor
        && !mon.duration.0.is_zero()
        && mon.interval.0.is_zero()
    {
        out.push(Problem::new(
            key_path!["deploy", "monitor", "interval"],
            "interval must be longer than 0s",
        ));
    }
    validate_stages(cfg, &mut out);
    out
}

fn validate_stages(cfg: &Config, out: &mut Vec<Problem>) {
    let stages = &cfg.deploy.stage;
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in stages.iter().enumerate() {
        if s.id.is_empty() {
            out.push(Problem::new(
                key_path!["deploy", "stage", i, "id"],
                "stage id is empty",
            ));
        }
        if let Some(first) = index.insert(s.id.as_str(), i) {
            out.push(Problem::new(
                key_path!["deploy", "stage", i, "id"],
                format!(
                    "stage id {:?} is used twice (also stage #{})",
                    s.id,
                    first + 1
                ),
            ));
        }
        match (&s.run, &s.delegate) {
            (Some(_), Some(_)) => out.push(Problem::new(
                key_path!["deploy", "stage", i, "delegate"],
                format!("stage {:?} has both `run` and `delegate`; keep one", s.id),
            )),
            (None, None) => out.push(Problem::new(
                key_path!["deploy", "stage", i],
                format!("stage {:?} needs `run` (or `delegate`)", s.id),
            )),
            _ => {}
        }
        if s.timeout.is_some_and(|t| t.0.is_zero()) {
            out.push(Problem::new(
                key_path!["deploy", "stage", i, "timeout"],
                "timeout must be longer than 0s",
            ));
        }
        if s.delegate.is_some() {
            for (key, set) in [
                ("promote", s.promote.is_some()),
                ("traffic", s.traffic.is_some()),
                ("retries", s.retries.is_some()),
            ] {
                if set {
                    out.push(Problem::new(
                        key_path!["deploy", "stage", i, key],
                        format!(
                            "stage {:?} is delegated to a GitHub Deployment; `{key}` has no effect there",
                            s.id
                        ),
                    ));
                }
            }
        }
        if s.traffic.is_some() && s.health.is_none() {
            out.push(Problem::new(
                key_path!["deploy", "stage", i, "traffic"],
                format!(
                    "stage {:?} shifts traffic but has no [deploy.stage.health] to re-check at each step",
                    s.id
                ),
            ));
        }
        if s.promote.is_some() && s.traffic.is_some() {
            out.push(Problem::new(
                key_path!["deploy", "stage", i, "traffic"],
                format!(
                    "stage {:?} has `promote` and `traffic`; a stage has one or the other",
                    s.id
                ),
            ));
        }
        if s.pre_promote_health.is_some() && s.promote.is_none() {
            out.push(Problem::new(
                key_path!["deploy", "stage", i, "pre_promote_health"],
                format!("stage {:?} has `pre_promote_health` but no `promote`", s.id),
            ));
        }
        for (key, h) in [
            ("health", &s.health),
            ("pre_promote_health", &s.pre_promote_health),
        ] {
            let Some(h) = h else { continue };
            match (&h.url, &h.command) {
                (Some(_), Some(_)) => out.push(Problem::new(
                    key_path!["deploy", "stage", i, key, "command"],
                    format!(
                        "{key} of stage {:?} has both `url` and `command`; keep one",
                        s.id
                    ),
                )),
                (None, None) => out.push(Problem::new(
                    key_path!["deploy", "stage", i, key],
                    format!("{key} of stage {:?} needs `url` or `command`", s.id),
                )),
                _ => {}
            }
            if !(100..=599).contains(&h.expect_status) {
                out.push(Problem::new(
                    key_path!["deploy", "stage", i, key, "expect_status"],
                    format!("expect_status {} is not an HTTP status", h.expect_status),
                ));
            }
            if h.timeout.0.is_zero() {
                out.push(Problem::new(
                    key_path!["deploy", "stage", i, key, "timeout"],
                    "timeout must be longer than 0s",
                ));
            }
            if h.interval.0.is_zero() {
                out.push(Problem::new(
                    key_path!["deploy", "stage", i, key, "interval"],
                    "interval must be longer than 0s",
                ));
            }
            if h.consecutive_successes == 0 {
                out.push(Problem::new(
                    key_path!["deploy", "stage", i, key, "consecutive_successes"],
                    "consecutive_successes must be at least 1",
                ));
            }
        }
        if let Some(t) = &s.traffic {
            let ascending = t.steps.windows(2).all(|w| w[0] < w[1]);
            if t.steps.is_empty() || !ascending || t.steps.iter().any(|w| *w == 0 || *w > 100) {
                out.push(Problem::new(
                    key_path!["deploy", "stage", i, "traffic", "steps"],
                    "steps must be rising percentages between 1 and 100, e.g. [10, 50, 100]",
                ));
            }
        }
    }
    for (i, s) in stages.iter().enumerate() {
        for (j, dep) in s.depends_on.iter().enumerate() {
            if !index.contains_key(dep.as_str()) {
                let known: Vec<&str> = index.keys().copied().collect();
                out.push(Problem::new(
                    key_path!["deploy", "stage", i, "depends_on", j],
                    format!(
                        "stage {:?} depends on unknown stage {dep:?} (known: {})",
                        s.id,
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            } else if dep == &s.id {
                out.push(Problem::new(
                    key_path!["deploy", "stage", i, "depends_on", j],
                    format!("stage {:?} depends on itself", s.id),
                ));
            }
        }
    }
    if let Some(cycle) = find_cycle(stages.iter().map(|s| (s.id.as_str(), &s.depends_on))) {
        let first = index.get(cycle[0].as_str()).copied().unwrap_or(0);
        out.push(Problem::new(
            key_path!["deploy", "stage", first, "depends_on"],
            format!("dependency cycle: {}", cycle.join(" → ")),
        ));
    }
}

/// Finds one dependency cycle (longer than a self-loop) and returns it as `a → b → a`.
pub fn find_cycle<'a, I>(nodes: I) -> Option<Vec<String>>
where
    I: IntoIterator<Item = (&'a str, &'a Vec<String>)>,
{
    let graph: BTreeMap<&str, &Vec<String>> = nodes.into_iter().collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut mark: HashMap<&str, Mark> = graph.keys().map(|k| (*k, Mark::New)).collect();
    fn visit<'a>(
        n: &'a str,
        graph: &BTreeMap<&'a str, &'a Vec<String>>,
        mark: &mut HashMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        mark.insert(n, Mark::Active);
        stack.push(n);
        for d in graph.get(n).into_iter().flat_map(|v| v.iter()) {
            let d = d.as_str();
            if d == n {
                continue;
            }
            match mark.get(d).copied() {
                Some(Mark::Active) => {
                    let start = stack.iter().position(|x| *x == d).unwrap_or(0);
                    let mut c: Vec<String> = stack[start..].iter().map(|s| s.to_string()).collect();
                    c.push(d.to_string());
                    return Some(c);
                }
                Some(Mark::New) => {
                    if let Some(c) = visit(d, graph, mark, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        mark.insert(n, Mark::Done);
        None
    }
    let keys: Vec<&str> = graph.keys().copied().collect();
    for k in keys {
        if mark[k] == Mark::New {
            let mut stack = Vec::new();
            if let Some(c) = visit(k, &graph, &mut mark, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shapes_are_recognised_and_ordinary_words_are_not() {
        assert!(looks_like_token("ghp_0123456789abcdefghijABCDEFGHIJ012345"));
        assert!(looks_like_token(
            "x = github_pat_11AAAAAAA0123456789_abcdefghij"
        ));
        assert!(!looks_like_token("ghp_short"));
        assert!(!looks_like_token("high_availability_ghp_"));
        assert!(!looks_like_token("GH_TOKEN"));
    }

    #[test]
    fn a_two_stage_cycle_is_named() {
        let a = vec!["b".to_string()];
        let b = vec!["a".to_string()];
        let c = find_cycle([("a", &a), ("b", &b)]).unwrap();
        assert_eq!(c, ["a", "b", "a"]);
        let none: Vec<String> = vec![];
        assert!(find_cycle([("a", &none), ("b", &a)]).is_none());
    }
}
