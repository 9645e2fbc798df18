//! The `hotfix` binary: parse, run, exit. Everything else lives in the library.

fn main() {
    std::process::exit(hotfix::run(std::env::args_os()));
}
