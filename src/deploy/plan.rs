//! The deploy plan, pure: which stages run, in which waves, what is skipped and why, and the
//! order of rollbacks. No process is started here.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use globset::{GlobBuilder, GlobSetBuilder};
use serde::Serialize;

use crate::config::{Deploy, Health, Phase, Traffic, validate::find_cycle};
use crate::error::{Error, Result};

/// One stage as it will run, with the defaults of `[deploy.defaults]` applied.
#[derive(Debug, Clone, Serialize)]
pub struct StagePlan {
    pub id: String,
    /// Dependencies that run in this plan (skipped ones are dropped: they count as satisfied).
    pub depends_on: Vec<String>,
    pub run: Option<String>,
    pub delegated: bool,
    pub promote: Option<String>,
    pub rollback: Option<String>,
    #[serde(with = "secs")]
    pub timeout: Duration,
    pub retries: u32,
    #[serde(with = "secs")]
    pub backoff: Duration,
    pub pass_token: bool,
    pub pre_promote_health: Option<Health>,
    pub health: Option<Health>,
    pub traffic: Option<Traffic>,
    pub phase: Phase,
}

mod secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::config::Dur(*d).to_string())
    }
}

/// A stage that does not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The stages that run, in configuration order.
    pub stages: Vec<StagePlan>,
    /// Stages that run at the same time, wave after wave.
    pub waves: Vec<Vec<String>>,
    pub skipped: Vec<Skipped>,
}

/// What to plan for.
#[derive(Debug, Clone, Default)]
pub struct Scope<'a> {
    /// The changed files; `None` means "unknown": `paths` filters do not apply.
    pub changed: Option<&'a [String]>,
    /// Plan the contract phase instead of the expand phase.
    pub contract: bool,
    /// Only these stage ids (empty: all).
    pub only: &'a [String],
}

impl Plan {
    pub fn stage(&self, id: &str) -> Option<&StagePlan> {
        self.stages.iter().find(|s| s.id == id)
    }

    /// Stages whose dependencies (in this plan) are all in `done`, and which are not in
    /// `started`.
    pub fn ready<'a>(
        &'a self,
        done: &BTreeSet<String>,
        started: &BTreeSet<String>,
    ) -> Vec<&'a StagePlan> {
        self.stages
            .iter()
            .filter(|s| !started.contains(&s.id) && s.depends_on.iter().all(|d| done.contains(d)))
            .collect()
    }

    /// The order to roll back `started` stages: dependants before what they depend on; each
    /// inner list may run in parallel.
    pub fn rollback_waves(&self, started: &BTreeSet<String>) -> Vec<Vec<String>> {
        let mut waves: Vec<Vec<String>> = self
            .waves
            .iter()
            .map(|w| {
                w.iter()
                    .filter(|id| started.contains(*id))
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .filter(|w| !w.is_empty())
            .collect();
        waves.reverse();
        waves
    }
}

/// Builds the plan for `deploy` within `scope`.
pub fn plan(deploy: &Deploy, scope: &Scope<'_>) -> Result<Plan> {
    let ids: BTreeSet<&str> = deploy.stage.iter().map(|s| s.id.as_str()).collect();
    for s in &deploy.stage {
        for d in &s.depends_on {
            if !ids.contains(d.as_str()) {
                return Err(Error::config(format!(
                    "stage {:?} depends on unknown stage {d:?}",
                    s.id
                )));
            }
        }
    }
    if let Some(c) = find_cycle(deploy.stage.iter().map(|s| (s.id.as_str(), &s.depends_on))) {
        return Err(
            Error::config(format!("dependency cycle: {}", c.join(" → ")))
                .hint("break the cycle in [[deploy.stage]] depends_on"),
        );
    }
    for o in scope.only {
        if !ids.contains(o.as_str()) {
            return Err(
                Error::usage(format!("--stage {o}: no such stage")).hint(format!(
                    "stages: {}",
                    ids.iter().copied().collect::<Vec<_>>().join(", ")
                )),
            );
        }
    }

    let want_phase = if scope.contract {
        Phase::Contract
    } else {
        Phase::Expand
    };
    let mut skipped = Vec::new();
    let mut running: BTreeSet<String> = BTreeSet::new();
    for s in &deploy.stage {
        let reason = if s.phase != want_phase {
            Some(if s.phase == Phase::Contract {
                "contract phase: held back until `hotfix deploy --contract`".to_string()
            } else {
                "expand phase: not part of `--contract`".to_string()
            })
        } else if !scope.only.is_empty() && !scope.only.contains(&s.id) {
            Some("not selected with --stage".to_string())
        } else if let (Some(changed), false) = (scope.changed, s.paths.is_empty()) {
            let mut b = GlobSetBuilder::new();
            for g in &s.paths {
                let glob = GlobBuilder::new(&g.0)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| Error::config(format!("stage {:?} paths: {e}", s.id)))?;
                b.add(glob);
            }
            let set = b
                .build()
                .map_err(|e| Error::config(format!("stage {:?} paths: {e}", s.id)))?;
            (!changed.iter().any(|f| set.is_match(f))).then(|| {
                format!(
                    "no changed file matches its paths ({})",
                    s.paths
                        .iter()
                        .map(|g| g.0.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        } else {
            None
        };
        match reason {
            Some(reason) => skipped.push(Skipped {
                id: s.id.clone(),
                reason,
            }),
            None => {
                running.insert(s.id.clone());
            }
        }
    }

    let d = &deploy.defaults;
    let stages: Vec<StagePlan> = deploy
        .stage
        .iter()
        .filter(|s| running.contains(&s.id))
        .map(|s| StagePlan {
            id: s.id.clone(),
            depends_on: s
                .depends_on
                .iter()
                .filter(|x| running.contains(*x))
                .cloned()
                .collect(),
            run: s.run.clone(),
            delegated: s.delegate.is_some(),
            promote: s.promote.clone(),
            rollback: s.rollback.clone(),
            timeout: s.timeout.unwrap_or(d.timeout).0,
            retries: s.retries.unwrap_or(d.retries),
            backoff: s.backoff.unwrap_or(d.backoff).0,
            pass_token: s.pass_token.unwrap_or(d.pass_token),
            pre_promote_health: s.pre_promote_health.clone(),
            health: s.health.clone(),
            traffic: s.traffic.clone(),
            phase: s.phase,
        })
        .collect();

    // Waves: a stage's wave is one more than the latest wave among its dependencies.
    let mut level: BTreeMap<&str, usize> = BTreeMap::new();
    let mut remaining: Vec<&StagePlan> = stages.iter().collect();
    while !remaining.is_empty() {
        let before = remaining.len();
        remaining.retain(|s| {
            if s.depends_on.iter().all(|d| level.contains_key(d.as_str())) {
                let l = s
                    .depends_on
                    .iter()
                    .map(|d| level[d.as_str()] + 1)
                    .max()
                    .unwrap_or(0);
                level.insert(s.id.as_str(), l);
                false
            } else {
                true
            }
        });
        if remaining.len() == before {
            return Err(Error::internal("the stage graph could not be ordered"));
        }
    }
    let depth = level.values().copied().max().map_or(0, |m| m + 1);
    let mut waves = vec![Vec::new(); depth];
    for s in &stages {
        waves[level[s.id.as_str()]].push(s.id.clone());
    }
    Ok(Plan {
        stages,
        waves,
        skipped,
    })
}

/// The plan as a mermaid flowchart.
pub fn mermaid(plan: &Plan) -> String {
    let mut out = String::from("flowchart LR\n");
    let node = |id: &str| id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
    for s in &plan.stages {
        let gate = if s.health.is_some() { " ✓gate" } else { "" };
        out.push_str(&format!("  {}[\"{}{gate}\"]\n", node(&s.id), s.id));
    }
    for s in &plan.skipped {
        out.push_str(&format!(
            "  {}[\"{} (skipped)\"]:::skipped\n",
            node(&s.id),
            s.id
        ));
    }
    for s in &plan.stages {
        for d in &s.depends_on {
            out.push_str(&format!("  {} --> {}\n", node(d), node(&s.id)));
        }
    }
    out.push_str("  classDef skipped stroke-dasharray: 5 5\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn deploy(toml: &str) -> Deploy {
        let cfg: Config = toml::from_str(toml).unwrap();
        cfg.deploy
    }

    const SEED: &str = r#"
[[deploy.stage]]
id = "database"
run = "db"
paths = ["migrations/**"]
[[deploy.stage]]
id = "notifications"
run = "n"
depends_on = ["database"]
[[deploy.stage]]
id = "claims-api"
run = "c"
depends_on = ["database"]
paths = ["api/**"]
[[deploy.stage]]
id = "portal"
run = "p"
depends_on = ["notifications", "claims-api"]
[[deploy.stage]]
id = "database-contract"
run = "dc"
phase = "contract"
depends_on = ["database"]
"#;

    #[test]
    fn independent_stages_share_a_wave() {
        let p = plan(&deploy(SEED), &Scope::default()).unwrap();
        assert_eq!(
            p.waves,
            vec![
                vec!["database"],
                vec!["notifications", "claims-api"],
                vec!["portal"]
            ]
        );
        assert_eq!(p.skipped[0].id, "database-contract");
        assert!(p.skipped[0].reason.contains("contract"));
    }

    #[test]
    fn a_stage_whose_paths_match_nothing_is_skipped_but_not_its_dependants() {
        let changed = vec!["api/handler.rs".to_string()];
        let p = plan(
            &deploy(SEED),
            &Scope {
                changed: Some(&changed),
                ..Scope::default()
            },
        )
        .unwrap();
        assert!(
            p.skipped
                .iter()
                .any(|s| s.id == "database" && s.reason.contains("migrations/**"))
        );
        assert_eq!(
            p.waves,
            vec![vec!["notifications", "claims-api"], vec!["portal"]]
        );
        assert!(p.stage("notifications").unwrap().depends_on.is_empty());
    }

    #[test]
    fn contract_plans_only_the_contract_stages() {
        let p = plan(
            &deploy(SEED),
            &Scope {
                contract: true,
                ..Scope::default()
            },
        )
        .unwrap();
        assert_eq!(p.waves, vec![vec!["database-contract"]]);
    }

    #[test]
    fn rollback_goes_from_dependants_to_what_they_depend_on() {
        let p = plan(&deploy(SEED), &Scope::default()).unwrap();
        let started: BTreeSet<String> = ["database", "notifications", "claims-api"]
            .map(String::from)
            .into();
        assert_eq!(
            p.rollback_waves(&started),
            vec![vec!["notifications", "claims-api"], vec!["database"]]
        );
    }

    #[test]
    fn a_cycle_is_refused_naming_both() {
        let d = deploy(
            "[[deploy.stage]]\nid = \"a\"\nrun = \"x\"\ndepends_on = [\"b\"]\n[[deploy.stage]]\nid = \"b\"\nrun = \"y\"\ndepends_on = [\"a\"]\n",
        );
        let e = plan(&d, &Scope::default()).unwrap_err();
        assert!(e.message.contains("a → b → a"), "{}", e.message);
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn stage_defaults_are_inherited() {
        let d = deploy(
            "[deploy.defaults]\ntimeout = \"1m\"\nretries = 2\n[[deploy.stage]]\nid = \"a\"\nrun = \"x\"\nretries = 0\n",
        );
        let p = plan(&d, &Scope::default()).unwrap();
        assert_eq!(p.stages[0].timeout, Duration::from_secs(60));
        assert_eq!(p.stages[0].retries, 0);
    }

    #[test]
    fn mermaid_draws_edges_and_skipped_stages() {
        let p = plan(&deploy(SEED), &Scope::default()).unwrap();
        let m = mermaid(&p);
        assert!(m.contains("database --> claims_api"), "{m}");
        assert!(
            m.contains("database_contract[\"database-contract (skipped)\"]"),
            "{m}"
        );
    }
}
