#!/usr/bin/env bash
# scripts/sim.sh runs the Raft simulator (consensus/sim_test.go) over many seeds.
#
#   scripts/sim.sh [-seeds N] [-first F] [-nodes K] [-steps S] [-profile P] [-bug B] [-members] [-race]
#
#   -seeds N    seeds to run (default 200: a quick set of a few seconds)
#   -first F    the first seed (default 1), to split a long campaign into ranges
#   -nodes K    initial cluster size 3, 5 or 7 (default: by seed, 3/5/7 in turn;
#               grow starts from 3 and shrink from 5)
#   -steps S    steps of each run's fault phase (default: the test's, 3000)
#   -profile P  force a fault profile (mixed, churn, storm, steady), a membership
#               profile (fixed, members, grow, shrink, replace, removeleader), or
#               one of each comma-separated, e.g. churn,grow (default: by seed)
#                 fixed        the initial voters throughout
#                 members      random changes: add learner, promote, remove a voter
#                              (the leader too) or a learner, transfer leadership
#                 grow         3 -> 5 voters, back to 3, and again
#                 shrink       5 -> 3 voters, back to 5, and again
#                 replace      add a learner, promote it, remove the old leader
#                 removeleader the leader removes itself, a fresh node is added back
#   -members    run the campaign once per membership profile above but fixed
#               (each with -seeds seeds); the exit status is the worst
#   -bug B      turn on a test-only bug (figure8, uptodate, forgetvote, wipeearly,
#               reuseid): runs should fail
#   -race       build with the race detector (about 20x slower)
#
# It prints the summary lines (runs, steps, steps per second, membership
# changes) and, for every failing seed, the violation, the command that
# replays it and its last events. The exit status is go test's.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=200 first=1 nodes=0 steps=0 profile="" bug="" race=() members=0
while [ $# -gt 0 ]; do
  case "$1" in
    -seeds) seeds="$2"; shift 2 ;;
    -first) first="$2"; shift 2 ;;
    -nodes) nodes="$2"; shift 2 ;;
    -steps) steps="$2"; shift 2 ;;
    -profile) profile="$2"; shift 2 ;;
    -bug) bug="$2"; shift 2 ;;
    -members) members=1; shift ;;
    -race) race=(-race); shift ;;
    -h|-help|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "sim.sh: unknown argument $1 (try -help)" >&2; exit 2 ;;
  esac
done

# run P runs the seeds with -sim.profile=P and returns go test's status.
run() {
  local p="$1"
  echo "sim.sh: seeds $first..$((first + seeds - 1)), nodes ${nodes/#0/by seed}, steps ${steps/#0/default}${p:+, profile $p}${bug:+, bug $bug}"
  # -v shows the summary lines; the filter drops the per-subtest chatter.
  set +e
  go test "${race[@]}" -tags raftlock_invariants -count=1 -timeout 0 ./consensus -run '^TestSimulator$' -v \
    -sim.seeds="$seeds" -sim.firstseed="$first" -sim.nodes="$nodes" -sim.steps="$steps" \
    -sim.profile="$p" -sim.bug="$bug" |
    grep -vE '^(=== (RUN|PAUSE|CONT|NAME)|\s*--- PASS)'
  local rc="${PIPESTATUS[0]}"
  set -e
  return "$rc"
}

if [ "$members" = 0 ]; then
  run "$profile"
  exit $?
fi
worst=0
for p in grow shrink replace removeleader members; do
  run "${profile:+$profile,}$p" || worst=$?
done
exit "$worst"
