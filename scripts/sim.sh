#!/usr/bin/env bash
# scripts/sim.sh runs the Raft simulator (consensus/sim_test.go) over many seeds.
#
#   scripts/sim.sh [-seeds N] [-first F] [-nodes K] [-steps S] [-profile P] [-bug B] [-race]
#
#   -seeds N    seeds to run (default 200: a quick set of a few seconds)
#   -first F    the first seed (default 1), to split a long campaign into ranges
#   -nodes K    cluster size 3, 5 or 7 (default: by seed, 3/5/7 in turn)
#   -steps S    steps of each run's fault phase (default: the test's, 3000)
#   -profile P  force a fault profile: mixed, churn, storm or steady (default: by seed)
#   -bug B      turn on a test-only bug (figure8, uptodate, forgetvote): runs should fail
#   -race       build with the race detector (about 20x slower)
#
# It prints the summary lines (runs, steps, steps per second) and, for every
# failing seed, the violation, the command that replays it and its last events.
# The exit status is go test's.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=200 first=1 nodes=0 steps=0 profile="" bug="" race=()
while [ $# -gt 0 ]; do
  case "$1" in
    -seeds) seeds="$2"; shift 2 ;;
    -first) first="$2"; shift 2 ;;
    -nodes) nodes="$2"; shift 2 ;;
    -steps) steps="$2"; shift 2 ;;
    -profile) profile="$2"; shift 2 ;;
    -bug) bug="$2"; shift 2 ;;
    -race) race=(-race); shift ;;
    -h|-help|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "sim.sh: unknown argument $1 (try -help)" >&2; exit 2 ;;
  esac
done

echo "sim.sh: seeds $first..$((first + seeds - 1)), nodes ${nodes/#0/by seed}, steps ${steps/#0/default}${profile:+, profile $profile}${bug:+, bug $bug}"
# -v shows the summary lines; the filter drops the per-subtest chatter.
set +e
go test "${race[@]}" -tags raftlock_invariants -count=1 -timeout 0 ./consensus -run '^TestSimulator$' -v \
  -sim.seeds="$seeds" -sim.firstseed="$first" -sim.nodes="$nodes" -sim.steps="$steps" \
  -sim.profile="$profile" -sim.bug="$bug" |
  grep -vE '^(=== (RUN|PAUSE|CONT|NAME)|\s*--- PASS)'
exit "${PIPESTATUS[0]}"
