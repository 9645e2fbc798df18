//! `hotfix`: a safe, pre-planned path from "production is broken" to "fixed, deployed, and
//! merged back everywhere".
//!
//! `main.rs` only parses the command line and hands it to [`run`]; the commands in
//! [`commands`] use the domain modules (config, branching, journal), which use the adapters
//! (git, ui). Arrows point down.

pub mod approval;
pub mod backport;
pub mod branching;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod deploy;
pub mod error;
pub mod exec;
pub mod git;
pub mod github;
pub mod hooks;
pub mod journal;
pub mod lifecycle;
pub mod notify;
pub mod templates;
pub mod testsel;
pub mod ui;

pub use commands::run;
