//! The one integration-test binary: real repositories, real git, the real `hotfix` binary.

mod backport;
mod cli;
mod config;
mod deploy;
mod fake_github;
mod fake_github_selftest;
mod harness;
mod hooks;
mod ship;
mod start;
mod status_abort;
mod testsel;
