//! The record of the last deploy: which release went to which environment, and the state of
//! every stage, written after each change so a killed deploy resumes without redeploying what
//! finished and `hotfix rollback` knows what to undo.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Journal;
use crate::deploy::execute::StageState;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployRecord {
    pub run_id: String,
    pub tag: String,
    pub sha: String,
    pub contract: bool,
    /// Environments in order, each with its stages.
    pub environments: Vec<EnvRecord>,
    pub finished: bool,
    #[serde(default)]
    pub outcome: Option<String>,
    pub started_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvRecord {
    pub name: String,
    pub stages: BTreeMap<String, StageState>,
    #[serde(default)]
    pub done: bool,
}

impl Journal {
    pub fn deploy_path(&self) -> std::path::PathBuf {
        self.dir().join("deploy.json")
    }

    pub fn load_deploy(&self) -> Result<Option<DeployRecord>> {
        let path = self.deploy_path();
        match std::fs::read_to_string(&path) {
            Ok(t) => serde_json::from_str(&t)
                .map(Some)
                .map_err(|e| Error::internal(format!("{} is unreadable: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub fn save_deploy(&self, r: &DeployRecord) -> Result<()> {
        if self.is_dry_run() {
            return Ok(());
        }
        let text = serde_json::to_string_pretty(r)
            .map_err(|e| Error::internal(format!("cannot encode the deploy record: {e}")))?;
        super::write_atomic(&self.deploy_path(), text.as_bytes())
    }
}
