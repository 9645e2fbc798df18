//! Deploying a release: the plan (pure: DAG, waves, skips, rollback order) apart from the
//! executor (processes, health gates, rollbacks) and the journal of what ran.

pub mod execute;
pub mod health;
pub mod plan;

pub use plan::{Plan, Scope, StagePlan, plan};
