#!/usr/bin/env bash
# chaos.sh runs raftlock's fault-injection harness (scripts/chaos): N real
# `raftlock serve` processes on loopback behind per-link proxies, C concurrent
# clients, faults on a seeded schedule, then the verdicts (README.md, "Fault
# injection").
#
#   scripts/chaos.sh [--duration 60s] [--nodes 3] [--clients 8] [--seed N] [flags of scripts/chaos]
#   scripts/chaos.sh --duration 10m --nodes 5 --clients 32
#
# It builds the raftlock binary and the harness into the results dir
# ($RAFTLOCK_CHAOS_DIR, default a new temp dir), then runs the harness there.
# Exit status: 0 every verdict holds, 1 a violation (the seed and the replay
# command are printed), 2 bad flags, 3 the harness failed, 4 the
# linearizability check ran out of time.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
RESULTS="${RAFTLOCK_CHAOS_DIR:-}"
if [[ -z "$RESULTS" ]]; then
  RESULTS="$(mktemp -d "${TMPDIR:-/tmp}/raftlock-chaos-XXXXXX")"
fi
mkdir -p "$RESULTS"
go build -o "$RESULTS/raftlock" .
go build -o "$RESULTS/chaos" ./scripts/chaos
exec "$RESULTS/chaos" --bin "$RESULTS/raftlock" --results "$RESULTS" "$@"
