#!/usr/bin/env bash
# shellcheck disable=SC2154 # latest_tag, next_version, repo, … come from bench.env (sourced)
# Every benchmark of the project in one run, ending in one comparison table:
#   1. cargo build --release
#   2. bench/gen-repo.sh "$BENCH_DIR" (skipped when already generated): 100k commits, 50k
#      files, 3k tags, release branches
#   3. hyperfine: `hotfix start --no-fetch` against `git switch -c hotfix/X vY` and against
#      `git flow hotfix start` (git-flow AVH, Debian), from main and from develop; the parts of
#      hotfix start
#   4. cargo bench --bench latest_release (the latest release among the 3k tags)
#   5. cargo bench --bench backport: 20 picks against `git cherry-pick -x`, already-applied
#      detection over ~10k commits against `git cherry` (same answers checked)
#   6. bench/hooks.sh: hook overhead against no hook (its own throw-away repositories)
#   7. cargo bench --bench orchestration and --bench selection
#   8. the GitHub costs, counted on the fake GitHub of the test suite: requests of one whole
#      ship, and rate-limit points spent while waiting for approval
#   9. a markdown report: the comparison table first, then the details, with the machine; also
#      saved to "$BENCH_DIR/results.md"
#
# Environment: BENCH_DIR (default /tmp/hotfix-bench), BENCH_RUNS (default 20),
# BENCH_WARMUP (default 3), BENCH_REV (label of the hotfix build in the report; default: the
# repository's HEAD); BENCH_COMMITS / BENCH_FILES / BENCH_TAGS go to gen-repo.sh;
# BENCH_HOOK_RUNS (default 100) goes to hooks.sh as BENCH_RUNS.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/hotfix-bench}
RUNS=${BENCH_RUNS:-20}
WARMUP=${BENCH_WARMUP:-3}

say() { printf '\n== %s\n' "$*" >&2; }

say "building (cargo build --release)"
(cd "$ROOT" && cargo build --release --quiet)
HOTFIX=$ROOT/target/release/hotfix

say "generating the repository in $BENCH_DIR"
"$ROOT/bench/gen-repo.sh" "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
# shellcheck disable=SC1091 # bench.env is made by gen-repo.sh
source "$BENCH_DIR/bench.env"   # latest_tag, next_version, hotfix_branch, repo, …
WORK=$repo

if ! command -v hyperfine >/dev/null; then
    say "installing hyperfine (Debian package)"
    if [[ $(id -u) -eq 0 ]]; then
        apt-get install -y hyperfine >/dev/null 2>&1 ||
            { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; }
    else
        sudo apt-get install -y hyperfine >/dev/null 2>&1 ||
            { sudo apt-get update >/dev/null && sudo apt-get install -y hyperfine >/dev/null; }
    fi
fi

# Every git and hotfix process of the benchmark sees the same clean configuration.
ORIG_HOME=$HOME
export GIT_CONFIG_NOSYSTEM=1
export HOME=$BENCH_DIR/home
export XDG_CONFIG_HOME=$HOME/.config
export NO_COLOR=1
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
cd "$WORK"

B=$hotfix_branch
T=$latest_tag
H=$HOTFIX
# Puts the clone back as it was: no hotfix in progress, on branch $1, no hotfix branch.
reset_to() {
    echo "{ $H -q abort >/dev/null 2>&1 || true; }; git switch -q $1 && { git branch -q -D $B 2>/dev/null || true; }"
}
eval "$(reset_to main)"
if [[ -n $(git status --porcelain -uno) ]]; then
    echo "run.sh: $WORK has uncommitted changes; delete $BENCH_DIR/.generated to regenerate" >&2
    exit 1
fi

RESULTS=$BENCH_DIR/results
mkdir -p "$RESULTS"
# Other work on the machine skews every number: the load is recorded in the report.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
hf() { # hf NAME [hyperfine args…]: one comparison, exported as JSON
    local name=$1
    shift
    say "hyperfine: $name"
    hyperfine --style basic --warmup "$WARMUP" --runs "$RUNS" \
        --export-json "$RESULTS/$name.json" "$@" >&2
}

# git-flow AVH (Debian's git-flow), the tool teams use today, for a side-by-side. Its base
# must be a branch: main, which is at the latest release tag in this repository.
if ! command -v git-flow >/dev/null; then
    say "installing git-flow (Debian package)"
    if [[ $(id -u) == 0 ]]; then apt-get install -y git-flow >/dev/null 2>&1 ||
        { apt-get update >/dev/null && apt-get install -y git-flow >/dev/null; }
    else sudo apt-get install -y git-flow >/dev/null 2>&1 ||
        { sudo apt-get update >/dev/null && sudo apt-get install -y git-flow >/dev/null; }
    fi
fi
git flow init -d >/dev/null 2>&1 || true

# The same branch from the same tag, checked out, from the same starting branch. hyperfine's
# --prepare runs (untimed) before every run, so each run starts from the same state.
for from in main develop; do
    hf "switch-from-$from" \
        --prepare "$(reset_to $from)" --command-name "git switch -c $B $T (from $from)" \
        "git switch -q -c $B $T" \
        --prepare "$(reset_to $from)" --command-name "hotfix start --no-fetch (from $from)" \
        "$H -q start --no-fetch" \
        --prepare "$(reset_to $from)" --command-name "git flow hotfix start (AVH, from $from)" \
        "git flow hotfix start $next_version >/dev/null"
done
# The whole round trip: cut the branch, then abandon it.
hf "round-trip" \
    --prepare "$(reset_to main)" --command-name "git switch -c + switch back + branch -D" \
    "git switch -q -c $B $T && git switch -q main && git branch -q -D $B" \
    --prepare "$(reset_to main)" --command-name "hotfix start --no-fetch + hotfix abort" \
    "$H -q start --no-fetch && $H -q abort"
# The parts of hotfix start: everything but the switch, and the check git itself does.
hf "parts" \
    --prepare "$(reset_to main)" --command-name "hotfix start --dry-run --no-fetch (no switch)" \
    "$H -q start --dry-run --no-fetch" \
    --prepare "$(reset_to main)" --command-name "git status --porcelain -uno" \
    "git status --porcelain -uno" \
    --prepare "$(reset_to main)" --command-name "hotfix status (nothing in progress)" \
    "$H -q status || true"
eval "$(reset_to main)"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

say "cargo bench --bench latest_release"
BENCH_OUT=$RESULTS/latest_release.txt
(cd "$ROOT" && HOME=$ORIG_HOME \
    HOTFIX_BENCH_REPO=$WORK cargo bench --quiet --bench latest_release) | tee "$BENCH_OUT" >&2

say "cargo bench --bench backport"
BACKPORT_OUT=$RESULTS/backport.txt
(cd "$ROOT" && HOME=$ORIG_HOME \
    HOTFIX_BENCH_REPO=$WORK cargo bench --quiet --bench backport) | tee "$BACKPORT_OUT" >&2

say "bench/hooks.sh (hook overhead against no hook)"
HOOKS_OUT=$RESULTS/hooks.md
(cd "$ROOT" && HOME=$ORIG_HOME NO_BUILD=1 BENCH_RUNS=${BENCH_HOOK_RUNS:-100} \
    bench/hooks.sh) | tee "$HOOKS_OUT" >&2

say "cargo bench --bench orchestration, --bench selection"
ORCH_OUT=$RESULTS/orchestration.txt
SEL_OUT=$RESULTS/selection.txt
(cd "$ROOT" && HOME=$ORIG_HOME cargo bench --quiet --bench orchestration) | tee "$ORCH_OUT" >&2
(cd "$ROOT" && HOME=$ORIG_HOME SELECTION_BREAKDOWN=0 cargo bench --quiet --bench selection) |
    tee "$SEL_OUT" >&2

say "GitHub costs (the fake GitHub of the test suite)"
GH_OUT=$RESULTS/github.txt
(cd "$ROOT" && HOME=$ORIG_HOME cargo test --quiet --test it -- --exact --nocapture --test-threads=1 \
    ship::github_requests_per_ship_stay_few ship::waiting_costs_almost_no_rate_limit) |
    tee "$GH_OUT" >&2

# ----- the report -----
result() { # result FILE KEY: the value of KEY=… on a RESULT line of FILE
    grep -oE "RESULT.* $2=[^ ]*" "$1" | head -1 | sed "s/.* $2=//"
}
hook_row() { # hook_row PATTERN: "plain|hooked|added" from hooks.sh's table
    awk -F'|' -v p="$1" 'index($2, p) { gsub(/[ *]/, "", $3); gsub(/[ *]/, "", $4); gsub(/[ *]/, "", $5); print $3 "|" $4 "|" $5; exit }' "$HOOKS_OUT"
}
crit() { awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN { print (a / b <= c ? "PASS" : "FAIL") " (<= " c "x)" }'; }

median_ms() { # median_ms FILE INDEX: hyperfine's median of command INDEX, in ms
    perl -MJSON::PP -e 'local $/; my $r = decode_json(<STDIN>)->{results}[$ARGV[0]];
        printf "%.1f", $r->{median} * 1000' "$2" <"$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a / b <= 1.5 ? "PASS (<= 1.5x)" : "FAIL (> 1.5x)") }'; }

sm=$(median_ms "$RESULTS/switch-from-main.json" 0)
hm=$(median_ms "$RESULTS/switch-from-main.json" 1)
fm=$(median_ms "$RESULTS/switch-from-main.json" 2)
fd=$(median_ms "$RESULTS/switch-from-develop.json" 2)
sd=$(median_ms "$RESULTS/switch-from-develop.json" 0)
hd=$(median_ms "$RESULTS/switch-from-develop.json" 1)
rg=$(median_ms "$RESULTS/round-trip.json" 0)
rh=$(median_ms "$RESULTS/round-trip.json" 1)
pd=$(median_ms "$RESULTS/parts.json" 0)
pg=$(median_ms "$RESULTS/parts.json" 1)
ps=$(median_ms "$RESULTS/parts.json" 2)
lr=$(sed -n 's/^RESULT latest_release_median_ms=\([0-9.]*\).*/\1/p' "$BENCH_OUT")
lv=$(sed -n 's/^RESULT latest_release_median_ms=.* \(PASS\|FAIL\)$/\1/p' "$BENCH_OUT")
st=$(sed -n 's/^RESULT status_check_median_ms=\([0-9.]*\).*/\1/p' "$BENCH_OUT")

bp=$(result "$BACKPORT_OUT" backport_ms)
bc=$(result "$BACKPORT_OUT" cherry_pick_ms)
bo=$(result "$BACKPORT_OUT" picks_only_ms)
dm=$(result "$BACKPORT_OUT" detection_ms)
dg=$(result "$BACKPORT_OUT" git_cherry_ms)
dn=$(result "$BACKPORT_OUT" commits)
ds=$(result "$BACKPORT_OUT" same_answers)
IFS='|' read -r hc_plain hc_hooked hc_added <<<"$(hook_row 'git commit')"
IFS='|' read -r hk_plain hk_hooked hk_added <<<"$(hook_row 'git checkout')"
orch=$(result "$ORCH_OUT" orchestration_overhead_ms)
sel=$(result "$SEL_OUT" selection_mixed_median_ms)
ghr=$(result "$GH_OUT" github_requests_per_ship)
ghc=$(result "$GH_OUT" counted)
ghw=$(result "$GH_OUT" writes)
polls=$(result "$GH_OUT" approval_polls)
p304=$(result "$GH_OUT" not_modified)
pcnt=$(result "$GH_OUT" counted_while_waiting)

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
rev=${BENCH_REV:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}
[[ -z ${BENCH_REV:-} && -n $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] && rev="$rev (uncommitted changes)"
{
    echo "### $(date -u +%Y-%m-%d) — $(nproc) cores, ${cpu:-unknown CPU}"
    echo
    echo "Machine: $(nproc) cores, ${cpu:-unknown CPU}, $(free -g | awk '/^Mem:/ { print $2 " GiB" }') RAM," \
        "Linux $(uname -r), $(git --version), $(hyperfine --version). hotfix $rev."
    echo "Repository: $commits commits, $files files, $release_tags release tags + $prerelease_tags" \
        "pre-release tags; hotfix $next_version from $latest_tag. hyperfine: $WARMUP warm-ups, $RUNS runs, medians."
    echo "Load average (1/5/15 min) before the hyperfine runs: $load_before; after: $load_after."
    echo
    echo "#### The comparison, one run"
    echo
    echo "| what | hotfix | today's tool | ratio | criterion |"
    echo "|---|---:|---:|---:|---|"
    echo "| start a hotfix, from develop: \`hotfix start\` vs \`git switch -c\` | $hd ms | $sd ms | $(ratio "$hd" "$sd") | $(crit "$hd" "$sd" 1.5) |"
    echo "| the same from main (nothing to check out) | $hm ms | $sm ms | $(ratio "$hm" "$sm") | $(crit "$hm" "$sm" 1.5) |"
    echo "| start a hotfix, from develop: \`hotfix start\` vs \`git flow hotfix start\` (AVH) | $hd ms | $fd ms | $(ratio "$hd" "$fd") | |"
    echo "| the same from main | $hm ms | $fm ms | $(ratio "$hm" "$fm") | |"
    echo "| latest release among ${release_tags} tags | $lr ms | | | ${lv:-?} (< 20 ms) |"
    echo "| backport 20 commits (with already-applied detection) vs \`git cherry-pick -x\` | $bp ms | $bc ms | $(ratio "$bp" "$bc") | $(crit "$bp" "$bc" 0.2) |"
    echo "| the 20 picks alone (no detection, as \`git cherry-pick\`) | $bo ms | $bc ms | $(ratio "$bo" "$bc") | |"
    echo "| already-applied detection over $dn commits vs \`git cherry\` (same answers: $ds) | $dm ms | $dg ms | $(ratio "$dm" "$dg") | $(crit "$dm" "$dg" 0.1) |"
    echo "| \`git commit\` with the hooks installed vs without | $hc_hooked ms | $hc_plain ms | +$hc_added ms | $(awk -v d="$hc_added" 'BEGIN { print (d < 10 ? "PASS" : "FAIL") }') (< 10 ms added) |"
    echo "| \`git checkout\` with the hooks installed vs without | $hk_hooked ms | $hk_plain ms | +$hk_added ms | $(awk -v d="$hk_added" 'BEGIN { print (d < 10 ? "PASS" : "FAIL") }') (< 10 ms added) |"
    echo "| deploy orchestration overhead, 20 no-op stages in 5 waves | $orch ms | | | $(awk -v d="$orch" 'BEGIN { print (d < 100 ? "PASS" : "FAIL") }') (< 100 ms) |"
    echo "| test selection, 10k changed files × 500 rules | $sel ms | | | $(awk -v d="$sel" 'BEGIN { print (d < 50 ? "PASS" : "FAIL") }') (< 50 ms) |"
    echo "| GitHub requests of one whole ship (push → PR → approval → merge → tag → Release → Deployment) | $ghr requests ($ghw writes), $ghc counted | | | |"
    echo "| rate limit spent while waiting for approval | $pcnt counted over $polls polls ($p304 answered 304) | | | |"
    echo
    echo "#### \`hotfix start\` in detail"
    echo
    echo "| what | median | ratio | criterion |"
    echo "|---|---:|---:|---|"
    echo "| \`git switch -c $B $T\`, from main | $sm ms | 1.00x | |"
    echo "| \`hotfix start --no-fetch\`, from main | $hm ms | $(ratio "$hm" "$sm") | $(verdict "$hm" "$sm") |"
    echo "| \`git flow hotfix start\` (AVH), from main | $fm ms | $(ratio "$fm" "$sm") | |"
    echo "| \`git switch -c $B $T\`, from develop | $sd ms | 1.00x | |"
    echo "| \`hotfix start --no-fetch\`, from develop | $hd ms | $(ratio "$hd" "$sd") | $(verdict "$hd" "$sd") |"
    echo "| \`git flow hotfix start\` (AVH), from develop | $fd ms | $(ratio "$fd" "$sd") | |"
    echo "| round trip: \`git switch -c\` + \`git switch main\` + \`git branch -D\` | $rg ms | 1.00x | |"
    echo "| round trip: \`hotfix start --no-fetch\` + \`hotfix abort\` | $rh ms | $(ratio "$rh" "$rg") | |"
    echo "| latest release among ${release_tags} tags (\`Releases::read\` + \`latest_on\`, fresh repo) | $lr ms | | ${lv:-?} (< 20 ms) |"
    echo
    echo "Where \`hotfix start\` spends its time (from main):"
    echo
    echo "| part | median |"
    echo "|---|---:|"
    echo "| \`hotfix start --dry-run --no-fetch\` (every check, no switch) | $pd ms |"
    echo "| of which the clean-tree check \`Repo::uncommitted_changes\` (\`git status\`) | $st ms |"
    echo "| \`git status --porcelain -uno\` (the same check by git) | $pg ms |"
    echo "| \`hotfix status\`, nothing in progress (process start, open repo, config) | $ps ms |"
    echo
    echo "#### Hook overhead in detail (bench/hooks.sh)"
    sed -n '/^hyperfine/,$p' "$HOOKS_OUT"
} >"$BENCH_DIR/results.md"

say "results (also in $BENCH_DIR/results.md)"
cat "$BENCH_DIR/results.md"
