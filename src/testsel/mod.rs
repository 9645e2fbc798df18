//! Test selection: changed paths → the test commands that cover them.
//!
//! All `tests.rule` globs are compiled into one glob set, so each changed file is matched once
//! against every rule at the same time. `smoke` always runs; `unmatched` decides what a file no
//! rule covers brings in (`full`, `smoke` only, or a refusal).

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::config::{Tests, Unmatched};
use crate::error::{Error, Result};

/// A rule that will run, and the changed files that selected it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selected {
    pub rule: String,
    pub command: String,
    pub files: Vec<String>,
}

/// What will run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    pub selected: Vec<Selected>,
    pub smoke: Vec<String>,
    pub unmatched_files: Vec<String>,
}

/// The compiled rules of a `[tests]` table.
///
/// Globs are grouped by their literal leading directories (`services/billing/` for
/// `services/billing/**/*.rs`), each group compiled into one glob set; a changed file is only
/// matched against the groups of its own ancestor directories (and the globs with no literal
/// prefix). With hundreds of rules that all end in `*.rs`, this keeps matching proportional to
/// the rules that could apply rather than to all of them.
pub struct Matcher {
    /// Literal directory prefix ("" for none) → (compiled globs, the rule of each glob).
    groups: std::collections::HashMap<String, (GlobSet, Vec<usize>)>,
    /// The longest prefix depth in use, to bound the ancestor walk.
    max_depth: usize,
}

/// The literal leading directories of a glob: `a/b/` for `a/b/**/*.rs`, "" for `**/x`.
fn literal_prefix(glob: &str) -> String {
    let mut prefix = String::new();
    let mut parts = glob.split('/').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none()
            || part
                .chars()
                .any(|c| matches!(c, '*' | '?' | '[' | '{' | '\\'))
        {
            break;
        }
        prefix.push_str(part);
        prefix.push('/');
    }
    prefix
}

impl Matcher {
    pub fn new(tests: &Tests) -> Result<Matcher> {
        let mut builders: std::collections::HashMap<String, (GlobSetBuilder, Vec<usize>)> =
            std::collections::HashMap::new();
        for (i, rule) in tests.rule.iter().enumerate() {
            for g in &rule.paths {
                let glob = GlobBuilder::new(&g.0)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        Error::config(format!(
                            "tests.rule {:?}: invalid glob {:?}: {e}",
                            rule.name, g.0
                        ))
                    })?;
                let entry = builders
                    .entry(literal_prefix(&g.0))
                    .or_insert_with(|| (GlobSetBuilder::new(), Vec::new()));
                entry.0.add(glob);
                entry.1.push(i);
            }
        }
        let mut groups = std::collections::HashMap::new();
        let mut max_depth = 0;
        for (prefix, (b, owner)) in builders {
            max_depth = max_depth.max(prefix.matches('/').count());
            let set = b
                .build()
                .map_err(|e| Error::config(format!("tests.rule globs: {e}")))?;
            groups.insert(prefix, (set, owner));
        }
        Ok(Matcher { groups, max_depth })
    }

    /// For each rule, the changed files it matches; and the files no rule matches.
    pub fn partition(&self, n_rules: usize, changed: &[String]) -> (Vec<Vec<String>>, Vec<String>) {
        let mut by_rule: Vec<Vec<String>> = vec![Vec::new(); n_rules];
        let mut unmatched = Vec::new();
        let mut hits = Vec::new();
        let mut seen = vec![usize::MAX; n_rules];
        for (fi, file) in changed.iter().enumerate() {
            let mut matched = false;
            // "" and every ancestor directory of the file, up to the deepest prefix in use.
            let mut ends: Vec<usize> = vec![0];
            ends.extend(
                file.match_indices('/')
                    .map(|(i, _)| i + 1)
                    .take(self.max_depth),
            );
            for end in ends {
                let Some((set, owner)) = self.groups.get(&file[..end]) else {
                    continue;
                };
                set.matches_into(file, &mut hits);
                for &g in &hits {
                    matched = true;
                    let r = owner[g];
                    // A file matched by several globs of one rule is listed once.
                    if seen[r] != fi {
                        seen[r] = fi;
                        by_rule[r].push(file.clone());
                    }
                }
            }
            if !matched {
                unmatched.push(file.clone());
            }
        }
        // Rules list their files in the order the files were given.
        (by_rule, unmatched)
    }
}

/// Selects the commands for `changed`. `all` runs `full` and `smoke` whatever changed.
pub fn select(tests: &Tests, changed: &[String], all: bool) -> Result<Selection> {
    let smoke = tests.smoke.clone();
    if all {
        let full = tests.full.clone().ok_or_else(|| {
            Error::config("--all needs tests.full, the command of the whole suite")
                .hint("set it in .rolloutrc, e.g. [tests] full = \"cargo test --workspace\"")
        })?;
        return Ok(Selection {
            selected: vec![Selected {
                rule: "full".into(),
                command: full,
                files: Vec::new(),
            }],
            smoke,
            unmatched_files: Vec::new(),
        });
    }
    let matcher = Matcher::new(tests)?;
    let (by_rule, unmatched) = matcher.partition(tests.rule.len(), changed);
    let mut selected: Vec<Selected> = tests
        .rule
        .iter()
        .zip(by_rule)
        .filter(|(_, files)| !files.is_empty())
        .map(|(r, files)| Selected {
            rule: r.name.clone(),
            command: r.run.clone(),
            files,
        })
        .collect();
    if !unmatched.is_empty() {
        match tests.unmatched {
            Unmatched::Fail => {
                let mut shown: Vec<String> = unmatched.iter().take(20).cloned().collect();
                if unmatched.len() > 20 {
                    shown.push(format!("… and {} more", unmatched.len() - 20));
                }
                return Err(Error::config(format!(
                    "no test rule covers these changed files (tests.unmatched = \"fail\"):\n  {}",
                    shown.join("\n  ")
                ))
                .hint("add a [[tests.rule]] whose paths cover them, or set tests.unmatched = \"full\""));
            }
            Unmatched::Smoke => {}
            // With no full suite configured nothing more can run; the caller warns that these
            // files are covered by no test.
            Unmatched::Full => {
                if let Some(full) = &tests.full {
                    selected.push(Selected {
                        rule: "full".into(),
                        command: full.clone(),
                        files: unmatched.clone(),
                    });
                }
            }
        }
    }
    Ok(Selection {
        selected,
        smoke,
        unmatched_files: unmatched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Glob, TestRule};

    fn tests(unmatched: Unmatched) -> Tests {
        Tests {
            smoke: vec!["./smoke.sh".into()],
            full: Some("make test".into()),
            unmatched,
            rule: vec![
                TestRule {
                    name: "billing".into(),
                    paths: vec![
                        Glob("services/billing/**".into()),
                        Glob("shared/money/**".into()),
                    ],
                    run: "test billing".into(),
                },
                TestRule {
                    name: "api".into(),
                    paths: vec![Glob("api/*.rs".into())],
                    run: "test api".into(),
                },
            ],
            ..Tests::default()
        }
    }

    fn files(f: &[&str]) -> Vec<String> {
        f.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_rule_lists_the_files_that_selected_it() {
        let s = select(
            &tests(Unmatched::Smoke),
            &files(&[
                "services/billing/a.rs",
                "shared/money/b.rs",
                "api/x.rs",
                "README.md",
            ]),
            false,
        )
        .unwrap();
        assert_eq!(s.selected.len(), 2);
        assert_eq!(
            s.selected[0].files,
            ["services/billing/a.rs", "shared/money/b.rs"]
        );
        assert_eq!(s.selected[1].rule, "api");
        assert_eq!(s.unmatched_files, ["README.md"]);
        assert_eq!(s.smoke, ["./smoke.sh"]);
    }

    #[test]
    fn a_single_star_does_not_cross_directories() {
        let s = select(&tests(Unmatched::Smoke), &files(&["api/v2/x.rs"]), false).unwrap();
        assert!(s.selected.is_empty());
    }

    #[test]
    fn unmatched_full_brings_in_the_whole_suite() {
        let s = select(&tests(Unmatched::Full), &files(&["README.md"]), false).unwrap();
        assert_eq!(s.selected[0].rule, "full");
        assert_eq!(s.selected[0].files, ["README.md"]);
    }

    #[test]
    fn unmatched_fail_names_the_file() {
        let e = select(&tests(Unmatched::Fail), &files(&["README.md"]), false).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.message.contains("README.md"));
    }

    #[test]
    fn literal_prefixes_stop_at_the_first_pattern() {
        assert_eq!(literal_prefix("services/billing/**"), "services/billing/");
        assert_eq!(literal_prefix("libs/a/src/**/*.rs"), "libs/a/src/");
        assert_eq!(literal_prefix("**/*.rs"), "");
        assert_eq!(literal_prefix("README.md"), "");
        assert_eq!(literal_prefix("api/*.rs"), "api/");
        assert_eq!(literal_prefix("a{b,c}/x"), "");
    }

    #[test]
    fn rules_with_and_without_prefixes_match_together() {
        let mut t = tests(Unmatched::Smoke);
        t.rule.push(TestRule {
            name: "rust".into(),
            paths: vec![Glob("**/*.rs".into())],
            run: "cargo test".into(),
        });
        let s = select(
            &t,
            &files(&["services/billing/a.rs", "x/y.rs", "README.md"]),
            false,
        )
        .unwrap();
        let names: Vec<&str> = s.selected.iter().map(|x| x.rule.as_str()).collect();
        assert_eq!(names, ["billing", "rust"]);
        assert_eq!(s.selected[1].files, ["services/billing/a.rs", "x/y.rs"]);
    }

    #[test]
    fn all_runs_full_and_smoke() {
        let s = select(&tests(Unmatched::Fail), &files(&[]), true).unwrap();
        assert_eq!(s.selected[0].command, "make test");
    }
}
