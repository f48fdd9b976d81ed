#!/usr/bin/env bash
# Idle CPU of `podlab tui`: deploys a lab of NODES x PODS_PER_NODE pods (default
# 10 x 100 = 1,000), runs the TUI on it in a 200x60 tmux session, leaves it alone
# for SECONDS (default 10) and reads its CPU time from /proc/PID/stat. Prints the
# percent of one core and the screen it showed.
#
#   usage: sudo scripts/bench/tui_idle.sh [NODES] [PODS_PER_NODE] [SECONDS]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
nodes=${1:-10} per=${2:-100} secs=${3:-10}
command -v tmux >/dev/null || { echo "tui_idle: needs tmux (apt-get install tmux)"; exit 1; }
lab="tuiidle-$$"
tmp=$(mktemp -d)
export PODLAB_STATE_DIR="$tmp/state"
sess="podlab-$lab"
cleanup() {
  tmux kill-session -t "$sess" 2>/dev/null || true
  "$tmp/podlab" destroy --name "$lab" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export PATH=$PATH:/usr/local/go/bin
(cd "$ROOT" && go build -o "$tmp/podlab" ./cmd/podlab)
"$HERE/genlab.sh" "$lab" "$nodes" "$per" > "$tmp/lab.yaml"
"$tmp/podlab" deploy -t "$tmp/lab.yaml" >/dev/null
tmux new-session -d -s "$sess" -x 200 -y 60 \
  "env PODLAB_STATE_DIR=$PODLAB_STATE_DIR TERM=xterm-256color $tmp/podlab tui --name $lab"
pid=$(tmux list-panes -t "$sess" -F '#{pane_pid}')
sleep 3 # load the state and the event history first
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); s0=$(date +%s.%N)
sleep "$secs"
t1=$(ticks); s1=$(date +%s.%N)
tmux capture-pane -p -t "$sess" | head -12
awk -v t="$((t1 - t0))" -v hz="$hz" -v a="$s0" -v b="$s1" -v n="$((nodes * per))" \
  'BEGIN { printf "idle TUI, %d pods: %.2f%% of a core over %.1fs\n", n, 100 * t / hz / (b - a), b - a }'
