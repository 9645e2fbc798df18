//! `git-hotfix`: the same program, so that `git hotfix …` works.

fn main() {
    std::process::exit(hotfix::run(std::env::args_os()));
}
