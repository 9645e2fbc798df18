//! The safety gate: approval and deploy keys that the person shipping cannot loosen.
//!
//! The floor is `.rolloutrc` as it is on the remote's PR target branch (built-in defaults where
//! it has none). Every other layer may only make the gate keys stricter; a looser value is
//! replaced by the floor's and the user is told (SPEC section 2).

use toml::Value;

use super::load::{Loaded, set_path};
use super::schema::Config;
use super::types::MinApprovals;

/// The gate keys, as dotted paths.
pub const GATE_KEYS: [&str; 6] = [
    "approval.min_approvals",
    "approval.required_reviewers",
    "approval.expires_after",
    "approval.required_checks",
    "deploy.environments",
    "hooks.protected",
];

/// Applies the floor to `loaded` in place. `floor_label` names where the floor came from.
pub fn tighten(loaded: &mut Loaded, floor: &Config, floor_label: &str) {
    let mut floor = floor.clone();
    if floor.model.kind.is_none() {
        floor.model.kind = loaded.config.model.kind;
    }
    let cfg = &mut loaded.config;
    let mut changes: Vec<(&str, Value, String)> = Vec::new();

    if cfg.approval.min_approvals < floor.approval.min_approvals {
        changes.push((
            "approval.min_approvals",
            Value::Integer(floor.approval.min_approvals.0.into()),
            format!(
                "min_approvals = {} is looser than {} in {floor_label}",
                cfg.approval.min_approvals.0, floor.approval.min_approvals.0
            ),
        ));
        cfg.approval.min_approvals = MinApprovals(floor.approval.min_approvals.0);
    }
    if cfg.approval.expires_after > floor.approval.expires_after {
        changes.push((
            "approval.expires_after",
            Value::String(floor.approval.expires_after.to_string()),
            format!(
                "expires_after = \"{}\" is longer than \"{}\" in {floor_label}",
                cfg.approval.expires_after, floor.approval.expires_after
            ),
        ));
        cfg.approval.expires_after = floor.approval.expires_after;
    }
    for (key, mine, theirs) in [
        (
            "approval.required_reviewers",
            &mut cfg.approval.required_reviewers,
            &floor.approval.required_reviewers,
        ),
        (
            "approval.required_checks",
            &mut cfg.approval.required_checks,
            &floor.approval.required_checks,
        ),
        (
            "deploy.environments",
            &mut cfg.deploy.environments,
            &floor.deploy.environments,
        ),
    ] {
        let missing: Vec<String> = theirs
            .iter()
            .filter(|x| !mine.contains(x))
            .cloned()
            .collect();
        if !missing.is_empty() {
            mine.extend(missing.iter().cloned());
            changes.push((
                key,
                Value::Array(mine.iter().cloned().map(Value::String).collect()),
                format!(
                    "{key} leaves out {} required by {floor_label}; kept",
                    missing.join(", ")
                ),
            ));
        }
    }
    let mine = cfg.protected_branches();
    let theirs = floor.protected_branches();
    let missing: Vec<String> = theirs.into_iter().filter(|x| !mine.contains(x)).collect();
    if !missing.is_empty() {
        let mut all = mine;
        all.extend(missing.iter().cloned());
        cfg.hooks.protected = Some(all.clone());
        changes.push((
            "hooks.protected",
            Value::Array(all.into_iter().map(Value::String).collect()),
            format!(
                "hooks.protected leaves out {} protected by {floor_label}; kept",
                missing.join(", ")
            ),
        ));
    }

    for (key, value, note) in changes {
        set_path(&mut loaded.table, key, value);
        loaded
            .sources
            .insert(key.to_string(), format!("gate {floor_label}"));
        loaded
            .notes
            .push(format!("ignored a looser safety-gate value: {note}"));
    }
}

#[cfg(test)]
mod tests {
    use super::super::load::{FileLayer, load};
    use super::*;

    fn loaded(text: &str) -> Loaded {
        load(
            &[FileLayer {
                label: "mine".into(),
                text: text.into(),
            }],
            &[],
        )
        .unwrap()
    }

    #[test]
    fn a_looser_approval_count_is_replaced_by_the_floor_and_said() {
        let floor = loaded("[approval]\nmin_approvals = 2\nexpires_after = \"1h\"\n").config;
        let mut l = loaded("[approval]\nmin_approvals = 1\nexpires_after = \"8h\"\n");
        tighten(&mut l, &floor, "origin/main:.rolloutrc");
        assert_eq!(l.config.approval.min_approvals.0, 2);
        assert_eq!(l.config.approval.expires_after.to_string(), "1h");
        assert_eq!(l.notes.len(), 2, "{:?}", l.notes);
        assert_eq!(
            l.sources["approval.min_approvals"],
            "gate origin/main:.rolloutrc"
        );
    }

    #[test]
    fn stricter_values_are_kept_without_a_note() {
        let floor = loaded("[approval]\nrequired_reviewers = [\"lead\"]\n").config;
        let mut l = loaded(
            "[approval]\nmin_approvals = 3\nrequired_reviewers = [\"lead\", \"sre\"]\n\
             [deploy]\nenvironments = [\"hotfix\", \"production\"]\n",
        );
        tighten(&mut l, &floor, "floor");
        assert!(l.notes.is_empty(), "{:?}", l.notes);
        assert_eq!(l.config.approval.min_approvals.0, 3);
    }

    #[test]
    fn dropped_reviewers_and_environments_come_back() {
        let floor = loaded(
            "[approval]\nrequired_reviewers = [\"lead\"]\n[deploy]\nenvironments = [\"production\"]\n",
        )
        .config;
        let mut l = loaded("[deploy]\nenvironments = [\"hotfix\"]\n");
        tighten(&mut l, &floor, "floor");
        assert_eq!(l.config.approval.required_reviewers, ["lead"]);
        assert_eq!(l.config.deploy.environments, ["hotfix", "production"]);
        assert_eq!(l.notes.len(), 2);
    }
}
