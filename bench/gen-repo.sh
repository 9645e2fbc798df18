#!/usr/bin/env bash
# Generates the benchmark repository of issue #2 with `git fast-import`:
#
#   DIR/origin.git   bare "remote": branches main, develop, release/N.0; annotated tags
#   DIR/work         a clone of it (origin/* fetched), main checked out, develop tracking
#   DIR/home         an empty HOME for every git/hotfix process of the benchmark
#   DIR/bench.env    facts for bench/run.sh (latest release, next hotfix version, …)
#
# Shape (defaults; override with BENCH_COMMITS, BENCH_FILES, BENCH_TAGS for a quick try):
#   - the first commit adds BENCH_FILES files (default 50,000) in 1,000 directories, plus a
#     `.rolloutrc` that selects the git-flow model;
#   - develop gets one commit after another, each changing 1–3 files of one directory;
#   - every ~32 develop commits a release: a --no-ff merge of develop into main, tagged with an
#     annotated tag vX.Y.Z (BENCH_TAGS releases, default 3,000: v1.0.0 … v30.19.4);
#   - a few pre-release tags (vX.Y.Z-rc.N) before some releases and on release/N.0;
#   - ~1,000 develop commits after the last release (unreleased work), and release/N.0 with 3
#     commits on top of develop;
#   - BENCH_COMMITS commits in all (default 100,000), merges included.
# Dates, names and contents are pinned: the same parameters give the same object ids.
#
# Idempotent: when DIR/.generated holds the same parameters, nothing is done.
set -euo pipefail

DIR=${1:?usage: bench/gen-repo.sh DIR}
COMMITS=${BENCH_COMMITS:-100000}
FILES=${BENCH_FILES:-50000}
TAGS=${BENCH_TAGS:-3000}
GEN_VERSION=1
SIG="gen=$GEN_VERSION commits=$COMMITS files=$FILES tags=$TAGS"

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [[ -f $DIR/.generated && $(cat "$DIR/.generated") == "$SIG" && -d $DIR/work/.git ]]; then
    echo "gen-repo: $DIR already generated ($SIG); skipping" >&2
    exit 0
fi

if (( COMMITS < TAGS * 3 + 10 )); then
    echo "gen-repo: BENCH_COMMITS must be at least 3 * BENCH_TAGS + 10" >&2
    exit 2
fi

# A clean, reproducible git: no system or user configuration, pinned identity.
export GIT_CONFIG_NOSYSTEM=1
export HOME=$DIR/home
export XDG_CONFIG_HOME=$HOME/.config
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
export GIT_AUTHOR_NAME="Bench" GIT_AUTHOR_EMAIL="bench@example.com"
export GIT_COMMITTER_NAME="Bench" GIT_COMMITTER_EMAIL="bench@example.com"
export GIT_AUTHOR_DATE="1600000000 +0000" GIT_COMMITTER_DATE="1600000000 +0000"

start=$(date +%s.%N)
rm -rf "${DIR:?}/origin.git" "${DIR:?}/work" "${DIR:?}/home" "${DIR:?}/.generated" "${DIR:?}/bench.env"
mkdir -p "$HOME"

git init --quiet --bare --initial-branch=main "$DIR/origin.git"

# The fast-import stream, written by perl (a dependency of git itself: no extra tool).
# Prints "key=value" facts on stderr's fd 3 for bench.env.
exec 3>"$DIR/bench.env.tmp"
perl -e '
use strict; use warnings; use integer;
my ($commits, $nfiles, $ntags) = @ARGV;
binmode STDOUT;
my $buf = "";
sub out { $buf .= $_[0]; if (length($buf) > 1 << 20) { print $buf; $buf = ""; } }
sub data { my $d = shift; out("data " . length($d) . "\n" . $d . "\n"); }

my $seed = 20240601;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed >> 8; }

my $ndirs = 1000;
my @paths;
for my $i (0 .. $nfiles - 1) {
    my $d = $i % $ndirs;
    push @paths, sprintf("src/mod%02d/sub%02d/file_%05d.rs", $d % 50, $d / 50, $i);
}
sub content {
    my ($i, $rev) = @_;
    return "// $paths[$i]\n// revision $rev\npub fn value_$i() -> u64 {\n    $rev\n}\n"
        . ("// a filler line, so that files have a realistic size\n" x 3);
}

my $t = 1600000000;
my $mark = 0;
sub who { $t += 97; return "Bench <bench\@example.com> $t +0000"; }

my $rolloutrc = "# hotfix configuration (generated for the benchmark)\n[model]\nkind = \"git-flow\"\n";

# Root commit on develop: every file.
out("feature done\n");
my $root = ++$mark;
out("commit refs/heads/develop\nmark :$root\nauthor " . who() . "\ncommitter Bench <bench\@example.com> $t +0000\n");
data("Initial import: $nfiles files\n");
out("M 100644 inline .rolloutrc\n"); data($rolloutrc);
out("M 100644 inline README.md\n"); data("# bench project\n");
for my $i (0 .. $nfiles - 1) { out("M 100644 inline $paths[$i]\n"); data(content($i, 0)); }
out("reset refs/heads/main\nfrom :$root\n\n");
my $ncommits = 1;

my $release_extra = 3;
my $dev = $commits - 1 - $ntags - $release_extra;   # develop commits after the root
my $per = $dev / ($ntags + 1);                      # develop commits between releases
my %changed;                                        # path index -> blob mark, since last release
my %rev;
my $dev_tip = $root;
my $main_tip = $root;
my $nrc = 0;

sub version { my $j = shift; my $i = $j - 1;
    return (1 + $i / 100, ($i / 5) % 20, $i % 5); }

sub dev_commit {
    my ($branch, $n) = @_;
    my $dirn = rnd() % $ndirs;
    my $k = 1 + rnd() % 3;
    my @files;
    my %seen;
    for (1 .. $k) {
        my $per_dir = $nfiles / $ndirs;
        my $i = $dirn + $ndirs * (rnd() % ($per_dir > 0 ? $per_dir : 1));
        $i = rnd() % $nfiles if $i >= $nfiles;
        next if $seen{$i}++;
        my $r = ++$rev{$i};
        my $m = ++$mark;
        out("blob\nmark :$m\n"); data(content($i, $r));
        push @files, [$i, $m];
    }
    my $c = ++$mark;
    out("commit refs/heads/$branch\nmark :$c\nauthor " . who() . "\ncommitter Bench <bench\@example.com> $t +0000\n");
    data("Change $n: update " . join(", ", map { $paths[$_->[0]] } @files) . "\n");
    for my $f (@files) { out("M 100644 :$f->[1] $paths[$f->[0]]\n"); $changed{$f->[0]} = $f->[1]; }
    out("\n");
    $ncommits++;
    return $c;
}

sub tag {
    my ($name, $target, $msg) = @_;
    out("tag $name\nfrom :$target\ntagger " . who() . "\n"); data($msg);
}

my $next_release = 1;
my ($last_tag, $last_commit_mark);
for my $n (1 .. $dev) {
    $dev_tip = dev_commit("develop", $n);
    # Pre-releases of a few releases, a few commits before them.
    if ($next_release <= $ntags && $next_release % 500 == 0 && $n == $per * $next_release - 4) {
        my ($ma, $mi, $pa) = version($next_release);
        tag("v$ma.$mi.$pa-rc.1", $dev_tip, "Release candidate\n"); $nrc++;
    }
    if ($next_release <= $ntags && $n == $per * $next_release) {
        my ($ma, $mi, $pa) = version($next_release);
        my $m = ++$mark;
        out("commit refs/heads/main\nmark :$m\nauthor " . who() . "\ncommitter Bench <bench\@example.com> $t +0000\n");
        data("Merge branch develop into main for v$ma.$mi.$pa\n");
        out("merge :$dev_tip\n");
        for my $i (sort { $a <=> $b } keys %changed) { out("M 100644 :$changed{$i} $paths[$i]\n"); }
        out("\n");
        %changed = ();
        $ncommits++;
        $main_tip = $m;
        tag("v$ma.$mi.$pa", $m, "Release v$ma.$mi.$pa\n");
        $last_tag = "v$ma.$mi.$pa";
        $next_release++;
    }
}
# The next release, being stabilised: release/N.0 with pre-release tags.
my ($lma) = version($ntags);
my $next_major = $lma + 1;
out("reset refs/heads/release/$next_major.0\nfrom :$dev_tip\n\n");
for my $k (1 .. $release_extra) {
    my $c = dev_commit("release/$next_major.0", "release-$k");
    tag("v$next_major.0.0-rc.$k", $c, "Release candidate $k\n"); $nrc++;
}
out("done\n");
print $buf;
my ($ma, $mi, $pa) = version($ntags);
printf STDERR "latest_tag=%s\nnext_version=%d.%d.%d\nhotfix_branch=hotfix/%d.%d.%d\ncommits=%d\nrelease_tags=%d\nprerelease_tags=%d\nfiles=%d\nrelease_branch=release/%d.0\n",
    $last_tag, $ma, $mi, $pa + 1, $ma, $mi, $pa + 1, $ncommits, $next_release - 1, $nrc, $nfiles + 2, $next_major;
' "$COMMITS" "$FILES" "$TAGS" 2>&3 | git -C "$DIR/origin.git" fast-import --quiet --done
exec 3>&-
mv "$DIR/bench.env.tmp" "$DIR/bench.env"
t_import=$(date +%s.%N)

# The working clone: objects hard-linked, origin/* fetched, main checked out.
git clone --quiet "$DIR/origin.git" "$DIR/work"
git -C "$DIR/work" config user.name Bench
git -C "$DIR/work" config user.email bench@example.com
git -C "$DIR/work" branch --quiet --track develop origin/develop
# Let the index become older than every checked-out file, then refresh it, so that no entry
# is "racily clean" (which would make the first status re-hash files).
sleep 1.1
git -C "$DIR/work" status --porcelain >/dev/null
git -C "$DIR/work" status --porcelain >/dev/null

end=$(date +%s.%N)
{
    echo "repo=$DIR/work"
    echo "origin=$DIR/origin.git"
} >>"$DIR/bench.env"
echo "$SIG" >"$DIR/.generated"

awk -v s="$start" -v i="$t_import" -v e="$end" 'BEGIN {
    printf "gen-repo: generated in %.1f s (fast-import %.1f s, clone + checkout %.1f s)\n", e - s, i - s, e - i }' >&2
sed 's/^/gen-repo:   /' "$DIR/bench.env" >&2
du -sh "$DIR/origin.git" "$DIR/work/.git" 2>/dev/null | sed 's/^/gen-repo:   /' >&2
