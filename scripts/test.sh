#!/usr/bin/env bash
# The whole test suite, with everything it needs installed first (idempotent):
#  - the pre-commit framework and check-jsonschema (PyPI), for .pre-commit-hooks.yaml and the
#    CI workflows `hotfix init --ci` writes;
#  - git-flow AVH (Debian), to compare `hotfix`'s git-flow graph with `git flow hotfix finish`;
#  - Prism and GitHub's official OpenAPI description (npm), so that every request the tool
#    sends to the fake GitHub, and every answer of the fake, is validated against GitHub's schema.
# Usage: scripts/test.sh [cargo test arguments…]
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }

if ! need pre-commit; then
  echo "== installing pre-commit (PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check pre-commit
  need pyenv && pyenv rehash || true
  export PATH="$(python3 -m site --user-base)/bin:$PATH"
fi
need pre-commit || { echo "pre-commit did not install" >&2; exit 1; }
if ! need check-jsonschema; then
  echo "== installing check-jsonschema (PyPI), for the CI workflow schema tests"
  python3 -m pip install --quiet --disable-pip-version-check check-jsonschema
  need pyenv && pyenv rehash || true
fi
need check-jsonschema || { echo "check-jsonschema did not install" >&2; exit 1; }

if ! need git-flow; then
  echo "== installing git-flow (AVH, Debian package), for the graph comparison test"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq git-flow >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq git-flow >/dev/null
  fi
fi
need git-flow || { echo "git-flow did not install" >&2; exit 1; }

node_dir=${HOTFIX_NODE_DIR:-$PWD/target/ci-node}
prism="$node_dir/node_modules/.bin/prism"
spec="$node_dir/node_modules/@octokit/openapi/generated/api.github.com.json"
if [ ! -x "$prism" ] || [ ! -f "$spec" ]; then
  need npm || { echo "npm is required to install Prism" >&2; exit 1; }
  echo "== installing Prism and @octokit/openapi (npm) into $node_dir"
  mkdir -p "$node_dir"
  npm install --prefix "$node_dir" --no-audit --no-fund --silent \
    @stoplight/prism-cli@5.16.0 @octokit/openapi@23.0.2
fi
export HOTFIX_TEST_PRISM="$prism" HOTFIX_TEST_OPENAPI="$spec"

echo "== cargo test --locked $*"
exec cargo test --locked "$@"
