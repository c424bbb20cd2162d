#!/usr/bin/env bash
# cluster.sh runs a local 3-node raftlock cluster on loopback.
#
#   scripts/cluster.sh start        build bin, start every node not running, wait for a leader
#   scripts/cluster.sh stop         SIGTERM every node and wait for it to exit
#   scripts/cluster.sh status       pid, role, term, leader and indexes of each node
#   scripts/cluster.sh kill N       SIGKILL node N (1..3): a crash
#   scripts/cluster.sh restart N    stop node N if running (SIGTERM), then start it
#   scripts/cluster.sh join N       start node N (4 or 5) with --join: a learner, then a voter
#   scripts/cluster.sh remove N     remove member nN from the cluster, then stop it
#
# Nodes and ports (all on 127.0.0.1):
#
#   node  client (HTTP API)  peer (Raft)
#   n1    7070               7071
#   n2    7080               7081
#   n3    7090               7091
#   n4    7100               7101   (join 4)
#   n5    7110               7111   (join 5)
#
# Data, logs (nN.log) and pid files (nN.pid) live in $RAFTLOCK_CLUSTER_DIR,
# default raftlock-data/cluster under the repository (gitignored). The script
# builds the binary there first, and it only ever signals the pids in its own
# pid files, after checking that each is a `raftlock serve` of this directory.
# Other RAFTLOCK_* variables (RAFTLOCK_LOG_LEVEL, RAFTLOCK_HEARTBEAT_INTERVAL,
# RAFTLOCK_ELECTION_TIMEOUT...) pass through to every node.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${RAFTLOCK_CLUSTER_DIR:-$ROOT/raftlock-data/cluster}"
BIN="$DIR/raftlock"
NODES=(1 2 3)
ALL_NODES=(1 2 3 4 5)
CLUSTER="n1=http://127.0.0.1:7071,n2=http://127.0.0.1:7081,n3=http://127.0.0.1:7091"
WAIT_SECONDS=10

client_port() { echo $((7060 + 10 * $1)); }
peer_port() { echo $((7061 + 10 * $1)); }

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

check_node() {
  case "${1:-}" in
    1 | 2 | 3 | 4 | 5) ;;
    *) echo "cluster.sh: node must be 1 to 5, got '${1:-}'" >&2; exit 2 ;;
  esac
}

# any_client prints the client URLs of the running nodes, comma-separated.
any_client() {
  local n out=""
  for n in "${ALL_NODES[@]}"; do
    [[ -n "$(pid_of "$n")" ]] && out+="${out:+,}http://127.0.0.1:$(client_port "$n")"
  done
  echo "$out"
}

# pid_of N prints node N's pid when its pid file names a live `raftlock serve`
# of this cluster directory; it prints nothing otherwise.
pid_of() {
  local pidfile="$DIR/n$1.pid" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  [[ -r "/proc/$pid/cmdline" ]] || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "serve --id n$1 --data-dir $DIR/n$1 "; then
    echo "$pid"
  fi
}

build() {
  mkdir -p "$DIR"
  echo "building $BIN"
  (cd "$ROOT" && go build -o "$BIN" .)
}

# start_node N [JOIN_URLS] starts node N in the initial cluster, or with
# --join JOIN_URLS (nodes 4 and 5).
start_node() {
  local n="$1" join="${2:-}" pid
  local members=(--initial-cluster "$CLUSTER")
  [[ -n "$join" ]] && members=(--join "$join" --advertise-peer-url "http://127.0.0.1:$(peer_port "$n")")
  pid="$(pid_of "$n")"
  if [[ -n "$pid" ]]; then
    echo "n$n already running (pid $pid)"
    return 0
  fi
  mkdir -p "$DIR/n$n"
  # setsid: the node outlives this shell and does not get its terminal's SIGINT.
  setsid "$BIN" serve --id "n$n" --data-dir "$DIR/n$n" \
    --client-addr "127.0.0.1:$(client_port "$n")" --peer-addr "127.0.0.1:$(peer_port "$n")" \
    "${members[@]}" >>"$DIR/n$n.log" 2>&1 </dev/null &
  echo $! >"$DIR/n$n.pid"
  echo "n$n started (pid $!, client http://127.0.0.1:$(client_port "$n"), log $DIR/n$n.log)"
}

# stop_node N sends SIGTERM and waits for the exit.
stop_node() {
  local n="$1" pid i
  pid="$(pid_of "$n")"
  if [[ -z "$pid" ]]; then
    echo "n$n not running"
    rm -f "$DIR/n$n.pid"
    return 0
  fi
  kill -TERM "$pid"
  for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
    [[ -d "/proc/$pid" ]] || break
    sleep 0.1
  done
  if [[ -d "/proc/$pid" ]]; then
    echo "n$n (pid $pid) did not exit within ${WAIT_SECONDS}s of SIGTERM" >&2
    return 1
  fi
  rm -f "$DIR/n$n.pid"
  echo "n$n stopped"
}

kill_node() {
  local n="$1" pid
  pid="$(pid_of "$n")"
  if [[ -z "$pid" ]]; then
    echo "n$n not running"
    return 0
  fi
  kill -KILL "$pid"
  rm -f "$DIR/n$n.pid"
  echo "n$n killed (SIGKILL, pid $pid)"
}

cluster_json() {
  curl -fsS --max-time 1 "http://127.0.0.1:$(client_port "$1")/v1/cluster" 2>/dev/null || true
}

status() {
  local n pid js
  printf '%-4s %-8s %-14s %-6s %-7s %-8s %-8s\n' node pid role term leader commit applied
  for n in "${ALL_NODES[@]}"; do
    pid="$(pid_of "$n")"
    [[ $n -gt 3 && -z "$pid" ]] && continue
    js=""
    [[ -n "$pid" ]] && js="$(cluster_json "$n")"
    if [[ -n "$js" ]]; then
      printf '%-4s %-8s %-14s %-6s %-7s %-8s %-8s\n' "n$n" "$pid" \
        "$(jq -r .role <<<"$js")" "$(jq -r .term <<<"$js")" "$(jq -r '.leader // "-"' <<<"$js")" \
        "$(jq -r .commit_index <<<"$js")" "$(jq -r .applied_index <<<"$js")"
    else
      printf '%-4s %-8s %-14s\n' "n$n" "${pid:--}" "$([[ -n "$pid" ]] && echo unreachable || echo stopped)"
    fi
  done
}

# wait_leader polls until some node answers 200 on /v1/health/leader.
wait_leader() {
  local i n
  for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
    for n in "${NODES[@]}"; do
      if curl -fsS --max-time 1 -o /dev/null "http://127.0.0.1:$(client_port "$n")/v1/health/leader" 2>/dev/null; then
        echo "leader: n$n"
        return 0
      fi
    done
    sleep 0.1
  done
  echo "no leader within ${WAIT_SECONDS}s; see $DIR/n*.log" >&2
  return 1
}

case "${1:-}" in
  start)
    build
    for n in "${NODES[@]}"; do start_node "$n"; done
    wait_leader
    status
    ;;
  stop)
    for n in "${ALL_NODES[@]}"; do
      [[ $n -le 3 || -n "$(pid_of "$n")" ]] && stop_node "$n"
    done
    ;;
  join)
    case "${2:-}" in 4 | 5) ;; *) echo "cluster.sh: join takes 4 or 5, got '${2:-}'" >&2; exit 2 ;; esac
    [[ -x "$BIN" ]] || build
    urls="$(any_client)"
    [[ -n "$urls" ]] || { echo "cluster.sh: no node running to join" >&2; exit 1; }
    start_node "$2" "$urls"
    ;;
  remove)
    check_node "${2:-}"
    [[ -x "$BIN" ]] || build
    "$BIN" member remove "n$2" --endpoints "$(any_client)"
    stop_node "$2"
    ;;
  status)
    status
    ;;
  kill)
    check_node "${2:-}"
    kill_node "$2"
    ;;
  restart)
    check_node "${2:-}"
    [[ -x "$BIN" ]] || build
    stop_node "$2"
    if [[ $2 -gt 3 ]]; then start_node "$2" "$(any_client)"; else start_node "$2"; fi
    ;;
  *)
    usage
    ;;
esac
