#!/usr/bin/env bash
# bench.sh runs raftlock's benchmark (scripts/bench, issue 11): a 3-node
# raftlock cluster on loopback with fsync on, and with --vs-etcd a 3-member
# etcd cluster on other loopback ports, the same workloads against both,
# alternating run by run, then a table with the raftlock/etcd ratios.
#
#   scripts/bench.sh                         full run, raftlock only
#   scripts/bench.sh --vs-etcd               full run against etcd too
#   scripts/bench.sh --vs-etcd --duration 2s --warmup 1s --runs 1 --kills 1   quick look
#   scripts/bench.sh --vs-etcd --kills 20 --held-locks 100000 --profile lock,keepalive   the baseline
#   scripts/bench.sh --worktree ...          measure the work tree, not HEAD
#
# By default it measures the committed HEAD: it exports HEAD with git
# archive into the results dir, lays this work tree's scripts/bench over it,
# and builds both the raftlock binary (go build at the root) and the
# benchmark there, so a half-edited work tree neither breaks nor skews the
# run. With --vs-etcd it installs Debian's etcd-server when etcd is missing
# (and says so). The benchmark is its own module (the etcd client stays
# out of raftlock's go.mod) that requires raftlock through a replace of
# ../..; it is built with -mod=mod so a dependency raftlock gained since its
# go.sum was last tidied is resolved instead of failing the build (in the
# exported copy; with --worktree, in scripts/bench itself). Results dir: $RAFTLOCK_BENCH_DIR, default a new temp dir;
# data dirs, node logs and profiles are kept there. Other flags go to the
# benchmark (scripts/bench -h lists them).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RESULTS="${RAFTLOCK_BENCH_DIR:-}"
if [[ -z "$RESULTS" ]]; then
  RESULTS="$(mktemp -d "${TMPDIR:-/tmp}/raftlock-bench-XXXXXX")"
fi
mkdir -p "$RESULTS"

worktree=0
vs_etcd=0
args=()
for a in "$@"; do
  case "$a" in
    --worktree) worktree=1 ;;
    --vs-etcd | --vs-etcd=true) vs_etcd=1; args+=("$a") ;;
    *) args+=("$a") ;;
  esac
done

if [[ "$worktree" == 1 ]]; then
  SRC="$ROOT"
  REV="$(git -C "$ROOT" rev-parse --short HEAD) + work tree"
else
  SRC="$RESULTS/src"
  rm -rf "$SRC"
  mkdir -p "$SRC"
  git -C "$ROOT" archive HEAD | tar -x -C "$SRC"
  rm -rf "$SRC/scripts/bench"
  cp -r "$ROOT/scripts/bench" "$SRC/scripts/bench"
  REV="$(git -C "$ROOT" rev-parse --short HEAD)"
fi

if [[ "$vs_etcd" == 1 ]] && ! command -v etcd >/dev/null; then
  echo "bench.sh: etcd not found; installing Debian's etcd-server (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
fi
if [[ "$vs_etcd" == 1 ]]; then
  echo "etcd: $(etcd --version | head -1)"
fi

echo "building raftlock $REV and the benchmark in $SRC"
(cd "$SRC" && go build -o "$RESULTS/raftlock" .)
(cd "$SRC/scripts/bench" && go build -mod=mod -o "$RESULTS/bench" .)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), nproc: $(nproc)"
exec "$RESULTS/bench" --raftlock-bin "$RESULTS/raftlock" --dir "$RESULTS/run" --rev "$REV" "${args[@]}"
