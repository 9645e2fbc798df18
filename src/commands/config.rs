//! `hotfix config`: the effective configuration with the layer each value came from, and
//! `hotfix config check`: validate a file (exit 2 with file:line:column on any problem).

use std::fmt::Write as _;

use serde_json::{Value, json};
use toml::Table;

use crate::cli::{ConfigAction, ConfigArgs};
use crate::config::{self, FileLayer};
use crate::context::{Context, RC_FILE};
use crate::error::{Error, Result};

pub fn run(ctx: &Context, args: ConfigArgs) -> Result<Value> {
    match args.action {
        Some(ConfigAction::Check { file }) => check(ctx, file),
        None => show(ctx),
    }
}

fn check(ctx: &Context, file: Option<std::path::PathBuf>) -> Result<Value> {
    let explicit = file.or_else(|| ctx.global.config.clone());
    let layer = match &explicit {
        Some(f) => FileLayer::read(&ctx.cwd.join(f), f.display().to_string())?,
        None => {
            let repo = ctx.repo()?;
            match FileLayer::read(&repo.workdir().join(RC_FILE), RC_FILE)? {
                Some(l) => Some(l),
                // A hotfix branch cut from a tag older than .rolloutrc: check the saved copy.
                None => ctx
                    .journal(&repo)
                    .load()?
                    .and_then(|s| s.config)
                    .map(|text| FileLayer {
                        label: "saved copy (hotfix state)".into(),
                        text,
                    }),
            }
        }
    };
    let layer = layer.ok_or_else(|| {
        let label = explicit.map_or(RC_FILE.to_string(), |f| f.display().to_string());
        Error::usage(format!("{label}: no such file")).hint("create one with: hotfix init")
    })?;
    let label = layer.label.clone();
    let loaded = config::load(&[layer], &ctx.env)?;
    ctx.ui.out(format!(
        "{label}: valid ({} model, {} stage(s), {} test rule(s))",
        loaded
            .config
            .model
            .kind
            .map_or("detected".into(), |k| k.to_string()),
        loaded.config.deploy.stage.len(),
        loaded.config.tests.rule.len()
    ));
    Ok(json!({ "file": label, "valid": true }))
}

fn show(ctx: &Context) -> Result<Value> {
    let repo = ctx.repo().ok();
    let state = match &repo {
        Some(r) => ctx.journal(r).load()?,
        None => None,
    };
    let loaded = ctx.config(repo.as_ref(), state.as_ref())?;
    let mut out = String::new();
    render(&loaded.table, "", &loaded.sources, &mut out);
    ctx.ui.out(out.trim_end());
    Ok(json!({
        "config": toml_to_json(&loaded.table),
        "sources": loaded.sources,
        "gate_keys": config::GATE_KEYS,
        "notes": loaded.notes,
    }))
}

fn source_of<'a>(sources: &'a std::collections::BTreeMap<String, String>, key: &str) -> &'a str {
    sources.get(key).map_or("default", String::as_str)
}

/// Prints a table as TOML with `# source` comments, scalars before sub-tables.
fn render(
    table: &Table,
    prefix: &str,
    sources: &std::collections::BTreeMap<String, String>,
    out: &mut String,
) {
    let key_of = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    let mut wrote_header = prefix.is_empty();
    for (k, v) in table {
        let is_table = v.is_table();
        let is_table_array =
            matches!(v, toml::Value::Array(a) if !a.is_empty() && a.iter().all(|x| x.is_table()));
        if is_table || is_table_array {
            continue;
        }
        if !wrote_header {
            let _ = writeln!(out, "\n[{prefix}]");
            wrote_header = true;
        }
        let full = key_of(k);
        let _ = writeln!(out, "{k} = {v}  # {}", source_of(sources, &full));
    }
    for (k, v) in table {
        let full = key_of(k);
        match v {
            toml::Value::Table(t) => render(t, &full, sources, out),
            toml::Value::Array(a) if !a.is_empty() && a.iter().all(|x| x.is_table()) => {
                for item in a {
                    let _ = writeln!(out, "\n[[{full}]]  # {}", source_of(sources, &full));
                    if let toml::Value::Table(t) = item {
                        let mut s = toml::to_string(t).unwrap_or_default();
                        // Nested tables of an array item print with their full path.
                        s = s.replace("\n[", &format!("\n[{full}."));
                        if s.starts_with('[') {
                            s = format!("[{full}.{}", &s[1..]);
                        }
                        out.push_str(&s);
                    }
                }
            }
            _ => {}
        }
    }
}

fn toml_to_json(t: &Table) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}
