//! Git hooks: installing the scripts of `hooks/` into the effective hooks directory between
//! marker lines (so a team's own hooks keep working and reinstalling is a no-op), removing only
//! those blocks, and the pure checks the hooks make when git calls them.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::Repo;

/// The hooks the tool installs, with the scripts embedded from `hooks/`.
pub const HOOKS: &[(&str, &str)] = &[
    ("pre-push", include_str!("../../hooks/pre-push")),
    ("commit-msg", include_str!("../../hooks/commit-msg")),
    ("post-checkout", include_str!("../../hooks/post-checkout")),
    ("post-merge", include_str!("../../hooks/post-merge")),
];

const BEGIN_PREFIX: &str = "# >>> hotfix hook >>>";
const BEGIN_TAIL: &str = "managed by `hotfix hooks install`; `hotfix hooks uninstall` removes it";
/// Flags on the BEGIN line, so that uninstall restores the file exactly.
const CREATED: &str = "(file created by hotfix)";
const NEWLINE_ADDED: &str = "(final newline added)";
const END: &str = "# <<< hotfix hook <<<";
const SHEBANG: &str = "#!/bin/sh\n";

/// The effective hooks directory (honours `core.hooksPath` and worktrees), absolute.
pub fn hooks_dir(repo: &Repo) -> Result<PathBuf> {
    let out = repo
        .runner()
        .git_read(repo.workdir(), &["rev-parse", "--git-path", "hooks"])?;
    if !out.success() {
        return Err(Error::step(format!(
            "cannot find the hooks directory:\n{}",
            out.text()
        )));
    }
    let p = PathBuf::from(out.stdout.trim());
    Ok(if p.is_absolute() {
        p
    } else {
        repo.workdir().join(p)
    })
}

/// The body of an embedded script: everything after its shebang line.
fn body(script: &str) -> &str {
    match script.strip_prefix("#!") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, b)| b),
        None => script,
    }
}

fn block(script: &str, flags: &[&str]) -> String {
    let mut b = String::from(BEGIN_PREFIX);
    for f in flags {
        b.push(' ');
        b.push_str(f);
    }
    b.push(' ');
    b.push_str(BEGIN_TAIL);
    b.push('\n');
    b.push_str(body(script));
    if !b.ends_with('\n') {
        b.push('\n');
    }
    b.push_str(END);
    b.push('\n');
    b
}

/// The flags recorded on an installed block's BEGIN line.
fn flags_of(block_text: &str) -> Vec<&'static str> {
    let first = block_text.lines().next().unwrap_or("");
    [CREATED, NEWLINE_ADDED]
        .into_iter()
        .filter(|f| first.contains(f))
        .collect()
}

/// Where our block is in a hook file: the byte range of the lines from BEGIN to END.
fn find_block(text: &str) -> Option<std::ops::Range<usize>> {
    let start = text.find(BEGIN_PREFIX)?;
    let start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let end_rel = text[start..].find(END)?;
    let mut end = start + end_rel + END.len();
    if text[end..].starts_with('\n') {
        end += 1;
    }
    Some(start..end)
}

/// The text of `existing` with our block for `script` inserted (or refreshed).
pub fn with_block(existing: Option<&str>, script: &str) -> String {
    let Some(text) = existing else {
        return format!("{SHEBANG}{}", block(script, &[CREATED]));
    };
    if let Some(r) = find_block(text) {
        let flags = flags_of(&text[r.clone()]);
        let mut t = text.to_string();
        t.replace_range(r, &block(script, &flags));
        return t;
    }
    // Right after the shebang, so it runs before anything that may `exit`.
    let Some(first_nl) = text.starts_with("#!").then(|| text.find('\n')) else {
        return format!("{}{text}", block(script, &[]));
    };
    match first_nl {
        Some(i) => {
            let mut t = text.to_string();
            t.insert_str(i + 1, &block(script, &[]));
            t
        }
        // Only a shebang, with no newline after it.
        None => format!("{text}\n{}", block(script, &[NEWLINE_ADDED])),
    }
}

/// The text without our block, or `None` when nothing of the user's would remain (the file was
/// created by the tool).
pub fn without_block(text: &str) -> Option<String> {
    let Some(r) = find_block(text) else {
        return Some(text.to_string());
    };
    let flags = flags_of(&text[r.clone()]);
    let mut t = text.to_string();
    t.replace_range(r, "");
    if flags.contains(&CREATED) && (t.is_empty() || t == SHEBANG) {
        return None;
    }
    if flags.contains(&NEWLINE_ADDED) && t.ends_with('\n') {
        t.pop();
    }
    Some(t)
}

/// What `install`, `uninstall` or `status` found or did for one hook.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HookReport {
    pub name: String,
    pub path: PathBuf,
    pub state: String,
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perm = std::fs::metadata(path)?.permissions();
    perm.set_mode(perm.mode() | 0o111);
    std::fs::set_permissions(path, perm)?;
    Ok(())
}

pub fn install(dir: &Path, dry_run: bool) -> Result<Vec<HookReport>> {
    let mut out = Vec::new();
    if !dry_run {
        std::fs::create_dir_all(dir)?;
    }
    for (name, script) in HOOKS {
        let path = dir.join(name);
        let existing = read_optional(&path)?;
        let new = with_block(existing.as_deref(), script);
        let state = match &existing {
            Some(old) if *old == new => "already installed",
            Some(old) if find_block(old).is_some() => "updated",
            Some(_) => "added to the existing hook",
            None => "installed",
        };
        if !dry_run && existing.as_deref() != Some(new.as_str()) {
            crate::journal::write_atomic(&path, new.as_bytes())?;
            set_executable(&path)?;
        }
        out.push(HookReport {
            name: name.to_string(),
            path,
            state: state.into(),
        });
    }
    Ok(out)
}

pub fn uninstall(dir: &Path, dry_run: bool) -> Result<Vec<HookReport>> {
    let mut out = Vec::new();
    for (name, _) in HOOKS {
        let path = dir.join(name);
        let state = match read_optional(&path)? {
            None => "not installed",
            Some(text) if find_block(&text).is_none() => "not installed (your hook left alone)",
            Some(text) => match without_block(&text) {
                None => {
                    if !dry_run {
                        std::fs::remove_file(&path)?;
                    }
                    "removed"
                }
                Some(rest) => {
                    if !dry_run {
                        crate::journal::write_atomic(&path, rest.as_bytes())?;
                    }
                    "removed (your hook kept)"
                }
            },
        };
        out.push(HookReport {
            name: name.to_string(),
            path,
            state: state.into(),
        });
    }
    Ok(out)
}

pub fn status(dir: &Path) -> Result<Vec<HookReport>> {
    let mut out = Vec::new();
    for (name, script) in HOOKS {
        let path = dir.join(name);
        let state = match read_optional(&path)? {
            None => "not installed".to_string(),
            Some(text) => match find_block(&text) {
                None => "not installed (a hook of your own is there)".to_string(),
                Some(r) => {
                    let current = block(script, &flags_of(&text[r.clone()]));
                    let fresh = text[r.clone()] == current;
                    let own = without_block(&text).is_some_and(|t| t != SHEBANG && !t.is_empty());
                    format!(
                        "installed{}{}",
                        if fresh {
                            ""
                        } else {
                            " (outdated: run hotfix hooks install)"
                        },
                        if own { ", alongside your own hook" } else { "" }
                    )
                }
            },
        };
        out.push(HookReport {
            name: name.to_string(),
            path,
            state,
        });
    }
    Ok(out)
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(b) => String::from_utf8(b).map(Some).map_err(|_| {
            Error::precondition(format!(
                "{} is not a text file; not touching it",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The commit message as git will record it: comment lines and everything below the scissors
/// line dropped.
pub fn message_text(raw: &str) -> String {
    let mut out = String::new();
    for line in raw.lines() {
        if line.starts_with("# ------------------------ >8 ------------------------") {
            break;
        }
        if line.starts_with('#') {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Does a pushed ref (`refs/heads/main`) match one of the protected branch patterns?
pub fn protected_match<'a>(patterns: &'a [String], remote_ref: &str) -> Option<&'a str> {
    let branch = remote_ref.strip_prefix("refs/heads/")?;
    patterns.iter().map(String::as_str).find(|p| {
        globset::GlobBuilder::new(p)
            .literal_separator(true)
            .build()
            .map(|g| g.compile_matcher().is_match(branch))
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "#!/bin/sh\necho ours\n";

    #[test]
    fn a_new_hook_file_is_removed_again_by_uninstall() {
        let t = with_block(None, SCRIPT);
        assert!(t.starts_with(SHEBANG));
        assert!(t.contains("echo ours"));
        assert_eq!(without_block(&t), None);
    }

    #[test]
    fn an_existing_hook_is_restored_byte_for_byte() {
        let mine = "#!/bin/bash\nset -e\necho mine >> \"$1\"\n";
        let t = with_block(Some(mine), SCRIPT);
        assert!(t.starts_with("#!/bin/bash\n# >>> hotfix hook >>>"));
        assert!(t.ends_with("echo mine >> \"$1\"\n"));
        assert_eq!(with_block(Some(&t), SCRIPT), t, "reinstalling is a no-op");
        assert_eq!(without_block(&t).as_deref(), Some(mine));
    }

    #[test]
    fn a_hook_without_shebang_or_final_newline_is_kept() {
        for mine in ["echo mine", "#!/bin/sh", ""] {
            let t = with_block(Some(mine), SCRIPT);
            assert_eq!(without_block(&t).as_deref(), Some(mine), "{mine:?}");
        }
    }

    #[test]
    fn protected_patterns_match_whole_branch_names() {
        let p = vec!["main".to_string(), "release/*".to_string()];
        assert_eq!(protected_match(&p, "refs/heads/main"), Some("main"));
        assert_eq!(
            protected_match(&p, "refs/heads/release/1.2"),
            Some("release/*")
        );
        assert_eq!(protected_match(&p, "refs/heads/release/1.2/x"), None);
        assert_eq!(protected_match(&p, "refs/heads/mainline"), None);
        assert_eq!(protected_match(&p, "refs/tags/main"), None);
    }

    #[test]
    fn comments_and_the_scissors_are_not_part_of_the_message() {
        let raw = "Fix INC-1\n# INC-2 in a comment\n# ------------------------ >8 ------------------------\nINC-3 in the diff\n";
        assert_eq!(message_text(raw), "Fix INC-1\n");
    }
}
