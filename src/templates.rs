//! The templates the binary embeds from `templates/` and the one place that renders them
//! (minijinja). Templates are parsed by a unit test, so a broken one fails the build's tests
//! rather than a user's incident.

use minijinja::Environment;
use serde::Serialize;

use crate::error::{Error, Result};

/// Every embedded template, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "rolloutrc.toml",
        include_str!("../templates/rolloutrc.toml.j2"),
    ),
    ("pr_title", include_str!("../templates/pr_title.j2")),
    ("pr_body.md", include_str!("../templates/pr_body.md.j2")),
    (
        "review_request.md",
        include_str!("../templates/review_request.md.j2"),
    ),
    ("timeout.md", include_str!("../templates/timeout.md.j2")),
    (
        "release_notes.md",
        include_str!("../templates/release_notes.md.j2"),
    ),
    ("record.md", include_str!("../templates/record.md.j2")),
    ("runbook.md", include_str!("../templates/runbook.md.j2")),
    (
        "ci/github.yml",
        include_str!("../templates/ci/github.yml.j2"),
    ),
    ("ci/azure.yml", include_str!("../templates/ci/azure.yml.j2")),
];

/// Ready-made `[[deploy.stage]]` blocks that `hotfix init --stages NAME` appends.
pub const STAGES: &[(&str, &str)] = &[
    (
        "azure-slots",
        include_str!("../templates/stages/azure-slots.toml"),
    ),
    (
        "k8s-rolling",
        include_str!("../templates/stages/k8s-rolling.toml"),
    ),
    (
        "weighted",
        include_str!("../templates/stages/weighted.toml"),
    ),
];

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        // Checked by the unit test below; a broken template cannot ship.
        let _ = env.add_template(name, source);
    }
    env
}

/// Renders the template `name` with `ctx`.
pub fn render(name: &str, ctx: impl Serialize) -> Result<String> {
    let env = environment();
    let t = env
        .get_template(name)
        .map_err(|e| Error::internal(format!("template {name}: {e}")))?;
    let mut text = t
        .render(minijinja::Value::from(minijinja::value::Serde(ctx)))
        .map_err(|e| Error::internal(format!("rendering template {name}: {e}")))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_block_is_a_valid_configuration() {
        for (name, text) in STAGES {
            let layer = crate::config::FileLayer {
                label: name.to_string(),
                text: text.to_string(),
            };
            crate::config::load(&[layer], &[]).unwrap_or_else(|e| panic!("{name}: {}", e.message));
        }
    }

    #[test]
    fn every_template_parses() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
