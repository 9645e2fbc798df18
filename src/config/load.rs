//! Reading the configuration layers and merging them, remembering where each value came from.
//!
//! Layers, later wins: built-in defaults → user file → repository `.rolloutrc` (or `--config`)
//! → `HOTFIX_*` environment overrides for scalar keys. Tables merge key by key; arrays (including
//! arrays of tables such as `[[deploy.stage]]`) are replaced whole by the later layer. Every
//! problem is reported with file:line:column where there is a file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::schema::Config;
use super::validate::{KeyPath, Seg, display_path, token_position, validate};
use crate::error::{Error, Result};

/// One configuration layer as text, with the label used in messages (`.rolloutrc`,
/// `origin/main:.rolloutrc`, `~/.config/hotfix/config.toml`).
#[derive(Debug, Clone)]
pub struct FileLayer {
    pub label: String,
    pub text: String,
}

impl FileLayer {
    pub fn read(path: &Path, label: impl Into<String>) -> Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(FileLayer {
                label: label.into(),
                text,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::config(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }
}

/// The merged configuration and the layer each value came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// The merged values as a TOML table (what `hotfix config` prints).
    pub table: Table,
    /// Dotted key → label of the layer that set it last.
    pub sources: BTreeMap<String, String>,
    /// Things the user should be told (a looser gate value that was ignored, …).
    pub notes: Vec<String>,
}

/// Where a scalar key can be overridden from the environment: `approval.min_approvals` →
/// `HOTFIX_APPROVAL_MIN_APPROVALS`.
pub fn env_var_for(dotted: &str) -> String {
    format!(
        "HOTFIX_{}",
        dotted.replace(['.', '-'], "_").to_ascii_uppercase()
    )
}

/// Scalar keys with no built-in default, which the environment may still set.
const OPTIONAL_SCALARS: [&str; 7] = [
    "model.kind",
    "tests.full",
    "github.repo",
    "github.api_url",
    "ship.merge_method",
    "deploy.record",
    "hooks.incident_pattern",
];

fn defaults_table() -> Table {
    match Value::try_from(Config::default()) {
        Ok(Value::Table(t)) => t,
        _ => Table::new(),
    }
}

/// Merges the layers. `env` is the process environment (passed in so tests stay hermetic).
pub fn load(files: &[FileLayer], env: &[(String, String)]) -> Result<Loaded> {
    let mut table = defaults_table();
    let mut sources = BTreeMap::new();
    record_sources(&table, "", "default", &mut sources);
    let mut problems = Vec::new();

    for f in files {
        match parse_file(f) {
            Ok(t) => {
                record_sources(&t, "", &f.label, &mut sources);
                merge(&mut table, t);
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    if !problems.is_empty() {
        return Err(config_error(problems));
    }

    apply_env(&mut table, env, &mut sources)?;

    let config: Config = Value::Table(table.clone())
        .try_into()
        .map_err(|e: toml::de::Error| Error::config(format!("configuration: {}", e.message())))?;

    let mut problems: Vec<String> = validate(&config)
        .into_iter()
        .map(|p| locate_problem(&p.path, &p.message, files, &sources))
        .collect();
    // In file order: by file, line, column.
    problems.sort_by_key(|p| position_key(p));
    if !problems.is_empty() {
        return Err(config_error(problems));
    }
    Ok(Loaded {
        config,
        table,
        sources,
        notes: Vec::new(),
    })
}

/// `label:line:col: …` → (label, line, col), for sorting problems in file order.
fn position_key(p: &str) -> (String, usize, usize) {
    let mut parts = p.splitn(4, ':');
    let label = parts.next().unwrap_or("").to_string();
    let line = parts
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or(usize::MAX);
    let col = parts
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or(usize::MAX);
    (label, line, col)
}

fn config_error(problems: Vec<String>) -> Error {
    let n = problems.len();
    let mut msg = if n == 1 {
        "invalid configuration:".to_string()
    } else {
        format!("invalid configuration ({n} problems):")
    };
    for p in problems {
        msg.push_str("\n  ");
        msg.push_str(&p);
    }
    Error::config(msg).hint("fix the file, then check it with `hotfix config check`")
}

/// Parses and type-checks one file. Errors carry `label:line:col`.
pub fn parse_file(f: &FileLayer) -> std::result::Result<Table, Vec<String>> {
    let mut problems = Vec::new();
    // A token anywhere in the file, even in a comment, is refused: secrets stay out of files.
    let mut offset = 0;
    while let Some(pos) = token_position(&f.text[offset..]) {
        let at = offset + pos;
        let (l, c) = line_col(&f.text, at);
        problems.push(format!(
            "{}:{l}:{c}: this looks like a GitHub token; tokens are never read from configuration \
             files (set GH_TOKEN in the environment instead, and revoke this one)",
            f.label
        ));
        offset = at + 4;
    }
    if let Err(e) = toml::from_str::<Config>(&f.text) {
        problems.push(format_de_error(&f.label, &f.text, &e));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    toml::from_str::<Table>(&f.text).map_err(|e| vec![format_de_error(&f.label, &f.text, &e)])
}

fn format_de_error(label: &str, text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let (l, c) = line_col(text, span.start);
            format!("{label}:{l}:{c}: {msg}")
        }
        None => format!("{label}: {msg}"),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn record_sources(t: &Table, prefix: &str, label: &str, out: &mut BTreeMap<String, String>) {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Table(sub) => record_sources(sub, &key, label, out),
            _ => {
                // An array replaces everything below it.
                out.retain(|existing, _| !existing.starts_with(&format!("{key}.")));
                out.insert(key, label.to_string());
            }
        }
    }
}

/// Deep-merges `over` into `base`: tables key by key, anything else replaced.
pub fn merge(base: &mut Table, over: Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn scalar_keys(t: &Table, prefix: &str, out: &mut Vec<(String, &'static str)>) {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Table(sub) => scalar_keys(sub, &key, out),
            Value::Boolean(_) => out.push((key, "bool")),
            Value::Integer(_) => out.push((key, "int")),
            Value::String(_) => out.push((key, "string")),
            _ => {}
        }
    }
}

fn apply_env(
    table: &mut Table,
    env: &[(String, String)],
    sources: &mut BTreeMap<String, String>,
) -> Result<()> {
    let mut keys = Vec::new();
    scalar_keys(&defaults_table(), "", &mut keys);
    keys.extend(OPTIONAL_SCALARS.iter().map(|k| (k.to_string(), "string")));
    let env: BTreeMap<&str, &str> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut problems = Vec::new();
    for (key, kind) in keys {
        let var = env_var_for(&key);
        let Some(raw) = env.get(var.as_str()) else {
            continue;
        };
        if token_position(raw).is_some() {
            problems.push(format!(
                "{var}: this looks like a GitHub token; configuration never holds tokens"
            ));
            continue;
        }
        let value = match kind {
            "bool" => match *raw {
                "true" | "1" | "yes" => Value::Boolean(true),
                "false" | "0" | "no" => Value::Boolean(false),
                _ => {
                    problems.push(format!("{var}={raw:?}: expected true or false"));
                    continue;
                }
            },
            "int" => match raw.parse::<i64>() {
                Ok(n) => Value::Integer(n),
                Err(_) => {
                    problems.push(format!("{var}={raw:?}: expected a whole number"));
                    continue;
                }
            },
            _ => Value::String(raw.to_string()),
        };
        // Type-check the single value through the schema so errors name the variable.
        let mut probe = Table::new();
        set_path(&mut probe, &key, value.clone());
        if let Err(e) = Value::Table(probe).try_into::<Config>() {
            problems.push(format!("{var}={raw:?}: {}", e.message().trim()));
            continue;
        }
        set_path(table, &key, value);
        sources.insert(key, format!("env {var}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(config_error(problems))
    }
}

pub fn set_path(table: &mut Table, dotted: &str, value: Value) {
    let mut parts: Vec<&str> = dotted.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    let mut t = table;
    for p in parts {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        t = match entry {
            Value::Table(t) => t,
            _ => unreachable!("just made a table"),
        };
    }
    t.insert(last.to_string(), value);
}

/// Sets one value after loading (a detected default) and records where it came from.
pub fn set_value(loaded: &mut Loaded, key: &str, value: &str, source: &str) {
    set_path(&mut loaded.table, key, Value::String(value.to_string()));
    loaded.sources.insert(key.to_string(), source.to_string());
}

/// Finds the layer that set `path` (or the array containing it) and points into that file.
fn locate_problem(
    path: &KeyPath,
    message: &str,
    files: &[FileLayer],
    sources: &BTreeMap<String, String>,
) -> String {
    let dotted_keys: Vec<String> = {
        let mut acc = Vec::new();
        let mut cur = String::new();
        for seg in path {
            if let Seg::Key(k) = seg {
                if !cur.is_empty() {
                    cur.push('.');
                }
                cur.push_str(k);
                acc.push(cur.clone());
            }
        }
        acc
    };
    // The longest recorded prefix, or any recorded key below the path (a table-level problem).
    let label = dotted_keys
        .iter()
        .rev()
        .find_map(|k| sources.get(k))
        .or_else(|| {
            let last = dotted_keys.last()?;
            sources
                .iter()
                .find(|(k, _)| k.starts_with(&format!("{last}.")))
                .map(|(_, v)| v)
        });
    if let Some(label) = label
        && let Some(file) = files.iter().find(|f| &f.label == label)
        && let Some(offset) = span_of(&file.text, path)
    {
        let (l, c) = line_col(&file.text, offset);
        return format!("{}:{l}:{c}: {message}", file.label);
    }
    match label {
        Some(l) => format!("{l} ({}): {message}", display_path(path)),
        None => format!("{}: {message}", display_path(path)),
    }
}

/// The byte offset of the value at `path` in a TOML document, using the parser's spans.
pub fn span_of(text: &str, path: &[Seg]) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).ok()?;
    let mut span = doc.span();
    let mut cur: Option<&DeValue> = None;
    let mut table: Option<&DeTable> = Some(doc.get_ref());
    for seg in path {
        let next = match (seg, table, cur) {
            (Seg::Key(k), Some(t), _) => t.get(k.as_str()),
            (Seg::Index(i), _, Some(DeValue::Array(a))) => a.get(*i),
            _ => None,
        };
        let Some(next) = next else { break };
        span = next.span();
        cur = Some(next.get_ref());
        table = match next.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    Some(span.start)
}

/// The user's configuration file: `$XDG_CONFIG_HOME/hotfix/config.toml` (or `~/.config/…`).
pub fn user_config_path(env: &[(String, String)]) -> Option<PathBuf> {
    let get = |k: &str| {
        env.iter()
            .find(|(n, v)| n == k && !v.is_empty())
            .map(|(_, v)| PathBuf::from(v))
    };
    get("XDG_CONFIG_HOME")
        .or_else(|| get("HOME").map(|h| h.join(".config")))
        .map(|d| d.join("hotfix").join("config.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(text: &str) -> FileLayer {
        FileLayer {
            label: ".rolloutrc".into(),
            text: text.into(),
        }
    }

    fn err(text: &str) -> String {
        load(&[layer(text)], &[]).unwrap_err().message
    }

    #[test]
    fn an_unknown_key_is_reported_at_its_position() {
        let m = err("[approval]\nmin_approvals = 2\nmin_aprovals = 3\n");
        assert!(m.contains(".rolloutrc:3:1:"), "{m}");
        assert!(m.contains("min_aprovals"), "{m}");
    }

    #[test]
    fn an_unknown_dependency_points_at_the_id() {
        let m = err("[[deploy.stage]]\nid = \"a\"\nrun = \"x\"\ndepends_on = [\"b\"]\n");
        assert!(m.contains(".rolloutrc:4:15:"), "{m}");
    }

    #[test]
    fn later_layers_win_and_sources_are_recorded() {
        let user = FileLayer {
            label: "user".into(),
            text: "[tests]\njobs = 3\ntimeout = \"1m\"\n".into(),
        };
        let repo = layer("[tests]\njobs = 2\n");
        let env = vec![("HOTFIX_TESTS_TIMEOUT".to_string(), "5m".to_string())];
        let l = load(&[user, repo], &env).unwrap();
        assert_eq!(l.config.tests.jobs, 2);
        assert_eq!(l.config.tests.timeout.to_string(), "5m");
        assert_eq!(l.sources["tests.jobs"], ".rolloutrc");
        assert_eq!(l.sources["tests.timeout"], "env HOTFIX_TESTS_TIMEOUT");
        assert_eq!(l.sources["approval.min_approvals"], "default");
    }

    #[test]
    fn a_bad_environment_value_names_the_variable() {
        let env = vec![("HOTFIX_TESTS_JOBS".to_string(), "many".to_string())];
        let m = load(&[], &env).unwrap_err().message;
        assert!(m.contains("HOTFIX_TESTS_JOBS"), "{m}");
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_col("a\nbé c", 6), (2, 4));
        assert_eq!(line_col("abc", 0), (1, 1));
    }
}
