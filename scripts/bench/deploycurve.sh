#!/usr/bin/env bash
# The deploy's cost curve: deploys labs of 100 pods per node (1, 10 and 50 nodes by
# default: 100, 1,000 and 5,000 pods), each RUNS times after an idle machine, and
# prints a table of the median deploy-to-ready time, the time per pod, the destroy
# time and the supervisor's peak memory (VmHWM, read just before destroy).
#
#   usage: sudo scripts/bench/deploycurve.sh [RUNS] [PODS...]   (default: 3 100 1000 5000)
#   env:   PER_NODE pods per node (default 100)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
runs=${1:-3}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000)
per=${PER_NODE:-100}
lab="curve-$$"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PATH=$PATH:/usr/local/go/bin
(cd "$ROOT" && go build -o "$tmp/podlab" ./cmd/podlab)
state=${PODLAB_STATE_DIR:-/run/podlab}

# The kernel frees a destroyed lab's namespaces in the background: wait until the
# machine is idle again (over 85% idle for a second) before each run.
. "$HERE/settle.sh"
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

printf '%-6s %-6s %-10s %-12s %-10s %-14s %s\n' pods nodes deploy_s ms_per_pod destroy_s supervisor_MB runs
for pods in "${sizes[@]}"; do
  nodes=$(( (pods + per - 1) / per ))
  "$HERE/genlab.sh" "$lab" "$nodes" $((pods / nodes)) > "$tmp/lab.yaml"
  dep=() des=() hwm=()
  for _ in $(seq 1 "$runs"); do
    settle
    t0=$(now)
    "$tmp/podlab" deploy -t "$tmp/lab.yaml" --timeout 5m -o json > "$tmp/state.json" 2> "$tmp/deploy.err" ||
      { cat "$tmp/deploy.err" >&2; "$tmp/podlab" destroy --name "$lab" >&2; exit 1; }
    t1=$(now)
    ready=$(grep -o '"ready": true' "$tmp/state.json" | wc -l)
    total=$(grep -o '"ready": ' "$tmp/state.json" | wc -l)
    [ "$ready" -eq "$total" ] || { echo "only $ready of $total pods ready" >&2; exit 1; }
    pid=$(cat "$state/$lab/supervisor.pid")
    hwm+=("$(awk '/^VmHWM/{printf "%.0f", $2 / 1024}' "/proc/$pid/status")")
    t2=$(now)
    "$tmp/podlab" destroy --name "$lab" 2> "$tmp/destroy.err"
    t3=$(now)
    dep+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')")
    des+=("$(awk -v a="$t2" -v b="$t3" 'BEGIN{printf "%.3f", b-a}')")
  done
  md=$(median "${dep[@]}")
  printf '%-6d %-6d %-10.2f %-12.2f %-10.2f %-14s %s\n' "$pods" "$nodes" "$md" \
    "$(awk -v t="$md" -v n="$pods" 'BEGIN{print t * 1000 / n}')" "$(median "${des[@]}")" \
    "$(median "${hwm[@]}")" "${dep[*]}"
done
