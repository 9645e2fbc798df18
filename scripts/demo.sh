#!/usr/bin/env bash
# A guided tour on a throw-away repository: a bare origin with two releases, then
# `hotfix init`, `hotfix start`, a fix, `hotfix status`, and `hotfix abort`.
# Usage: scripts/demo.sh [DIR]   (default: a new temp dir). Needs `hotfix` on PATH.
set -euo pipefail
dir=${1:-$(mktemp -d)}
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=Demo GIT_AUTHOR_EMAIL=demo@example.com \
  GIT_COMMITTER_NAME=Demo GIT_COMMITTER_EMAIL=demo@example.com
hotfix=${HOTFIX:-hotfix}
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
cd "$dir"
git init -q --bare -b main origin.git
git init -q -b main work
cd work
git remote add origin ../origin.git
echo "v1" > app.txt && git add app.txt && git commit -qm "first release"
git tag -a v1.2.0 -m "release 1.2.0"
echo "v2" > app.txt && git commit -qam "second release"
git tag -a v1.3.0 -m "release 1.3.0"
echo "v3" > app.txt && git commit -qam "work in progress on main"
git branch develop
git push -q origin main develop --tags
echo "Example repository in $dir/work (git-flow: main, develop, tags v1.2.0 and v1.3.0)"
say hotfix init;              "$hotfix" init
git add .rolloutrc && git commit -qm "Add .rolloutrc" && git push -q origin main
say hotfix start --incident INC-7; "$hotfix" start --incident INC-7
echo "fixed" > app.txt && git commit -qam "Fix the outage (INC-7)"
say hotfix status;            "$hotfix" status
say hotfix config check;      "$hotfix" config check
say hotfix abort;             "$hotfix" abort
echo
echo "Done. Explore further in $dir/work (try: hotfix start --from v1.2.0, hotfix --help)."
