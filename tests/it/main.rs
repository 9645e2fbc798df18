//! The one integration-test binary: real repositories, real git, the real `hotfix` binary.

mod cli;
mod config;
mod harness;
mod hooks;
mod start;
mod status_abort;
mod testsel;
