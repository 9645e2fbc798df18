//! What every command receives: the user interface, the process runner (which owns dry-run),
//! the global flags, the environment, and the ways to open the repository, its journal and the
//! effective configuration.

use std::path::PathBuf;

use crate::branching;
use crate::cli::GlobalArgs;
use crate::config::{self, FileLayer, Loaded};
use crate::error::{Error, Result};
use crate::exec::Runner;
use crate::git::Repo;
use crate::journal::{Journal, Lock, State};
use crate::ui::Ui;

/// The label of the repository's configuration file in messages.
pub const RC_FILE: &str = ".rolloutrc";

pub struct Context {
    pub ui: Ui,
    pub runner: Runner,
    pub global: GlobalArgs,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Context {
    pub fn new(global: GlobalArgs) -> Result<Context> {
        let ui = Ui::new(
            global.quiet,
            global.verbose,
            global.json,
            global.yes,
            global.no_color,
        );
        let base = std::env::current_dir()
            .map_err(|e| Error::internal(format!("cannot read the current directory: {e}")))?;
        let cwd = match &global.chdir {
            Some(p) => base.join(p),
            None => base,
        };
        if !cwd.is_dir() {
            return Err(Error::usage(format!(
                "-C {}: no such directory",
                cwd.display()
            )));
        }
        let runner = Runner::new(global.dry_run, ui.clone());
        Ok(Context {
            ui,
            runner,
            global,
            cwd,
            env: std::env::vars().collect(),
        })
    }

    pub fn dry_run(&self) -> bool {
        self.global.dry_run
    }

    pub fn repo(&self) -> Result<Repo> {
        Repo::discover(&self.cwd, self.runner.clone())
    }

    pub fn journal(&self, repo: &Repo) -> Journal {
        Journal::new(&repo.common_dir(), self.dry_run())
    }

    /// Takes the repository lock, saying so when a stale lock of a dead process is taken over.
    pub fn lock(&self, journal: &Journal, what: &str) -> Result<Option<Lock>> {
        let lock = journal.lock(what)?;
        if let Some(pid) = lock.as_ref().and_then(|l| l.took_over_from) {
            self.ui.warn(format!(
                "took over a stale lock left by process {pid}, which is no longer running"
            ));
        }
        Ok(lock)
    }

    /// The configuration layers that are files: the user's file, then `--config` or the
    /// repository's `.rolloutrc` (or, when the working tree has none, the copy saved in the
    /// state of the hotfix in progress).
    pub fn config_files(
        &self,
        repo: Option<&Repo>,
        state: Option<&State>,
    ) -> Result<Vec<FileLayer>> {
        let mut files = Vec::new();
        if let Some(user) = config::user_config_path(&self.env)
            && let Some(l) = FileLayer::read(&user, user.display().to_string())?
        {
            files.push(l);
        }
        if let Some(explicit) = &self.global.config {
            let path = self.cwd.join(explicit);
            match FileLayer::read(&path, explicit.display().to_string())? {
                Some(l) => files.push(l),
                None => {
                    return Err(Error::usage(format!(
                        "--config {}: no such file",
                        explicit.display()
                    )));
                }
            }
        } else if let Some(repo) = repo {
            match FileLayer::read(&repo.workdir().join(RC_FILE), RC_FILE)? {
                Some(l) => files.push(l),
                None => {
                    if let Some(saved) = state.and_then(|s| s.config.clone()) {
                        self.ui.info(format!(
                            "note: no {RC_FILE} in the working tree; using the configuration saved when the hotfix started"
                        ));
                        files.push(FileLayer {
                            label: "saved copy (hotfix state)".into(),
                            text: saved,
                        });
                    }
                }
            }
        }
        Ok(files)
    }

    /// The configuration from the files and the environment only: no model detection, no
    /// safety-gate floor. For hooks that must stay fast and need no gate key.
    pub fn config_local(&self, repo: &Repo, state: Option<&State>) -> Result<config::Config> {
        let files = self.config_files(Some(repo), state)?;
        Ok(config::load(&files, &self.env)?.config)
    }

    /// The effective configuration: layers merged, model detected if unset, and the safety
    /// gate applied from `.rolloutrc` on the remote's PR target branch.
    pub fn config(&self, repo: Option<&Repo>, state: Option<&State>) -> Result<Loaded> {
        let files = self.config_files(repo, state)?;
        let mut loaded = config::load(&files, &self.env)?;
        if let Some(repo) = repo {
            if loaded.config.model.kind.is_none() {
                let kind = branching::detect(repo, &loaded.config);
                loaded.config.model.kind = Some(kind);
                config::set_value(&mut loaded, "model.kind", kind.as_str(), "detected");
            }
            let remote = loaded.config.repository.remote.clone();
            let target = state
                .map(|s| s.pr_target.clone())
                .unwrap_or_else(|| loaded.config.repository.main.clone());
            let rev = format!("refs/remotes/{remote}/{target}");
            let (floor, label) = match repo.file_at(&rev, RC_FILE) {
                Some(text) => {
                    let label = format!("{remote}/{target}:{RC_FILE}");
                    let layer = FileLayer {
                        label: label.clone(),
                        text,
                    };
                    (config::load(&[layer], &[])?.config, label)
                }
                None => (config::Config::default(), "built-in defaults".to_string()),
            };
            config::tighten(&mut loaded, &floor, &label);
            for n in &loaded.notes {
                self.ui.warn(n);
            }
        }
        Ok(loaded)
    }
}
