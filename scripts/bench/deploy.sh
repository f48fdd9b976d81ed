#!/usr/bin/env bash
# Benchmark of the Foundation issue: deploy and destroy 10 nodes x 100 pods = 1,000
# pods, "ready" meaning every pod answered its HTTP readiness check, against Mininet
# building and starting 1,000 hosts in the same run.
#
#   usage: sudo scripts/bench/deploy.sh [NODES] [PODS_PER_NODE] [RUNS] [--no-mininet]
#
# Prints one line per run and a summary with medians and the ratio to Mininet, plus a
# JSON line. Runs wait for the kernel to finish tearing down the previous run's
# namespaces (it does that in the background after destroy) so runs do not slow
# each other down.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
nodes=${1:-10} per=${2:-100} runs=${3:-3}
mininet=1
for a in "$@"; do [ "$a" = --no-mininet ] && mininet=0; done
pods=$((nodes * per))
lab="bench-$$"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PATH=$PATH:/usr/local/go/bin
(cd "$ROOT" && go build -o "$tmp/podlab" ./cmd/podlab)
"$HERE/genlab.sh" "$lab" "$nodes" "$per" > "$tmp/lab.yaml"

# The kernel tears namespaces down in the background after destroy; wait until the
# machine is idle again (over 85% idle for a second) so runs do not slow each other.
. "$HERE/settle.sh"
now() { date +%s.%N; }
dep=() des=()
for i in $(seq 1 "$runs"); do
  settle
  t0=$(now)
  "$tmp/podlab" deploy -t "$tmp/lab.yaml" -o json > "$tmp/state.json" 2> "$tmp/deploy.err" || { cat "$tmp/deploy.err"; "$tmp/podlab" destroy --name "$lab"; exit 1; }
  t1=$(now)
  ready=$(grep -o '"ready": true' "$tmp/state.json" | wc -l)
  total=$(grep -o '"ready": ' "$tmp/state.json" | wc -l) # the lab's pods and kube-system's (cluster DNS)
  "$tmp/podlab" destroy --name "$lab" 2> "$tmp/destroy.err"
  t2=$(now)
  d1=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}'); d2=$(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.3f", b-a}')
  dep+=("$d1"); des+=("$d2")
  printf 'run %d: deploy %d/%d pods ready (%d of the lab file) in %.2f s, destroy %.2f s\n' "$i" "$ready" "$total" "$pods" "$d1" "$d2"
  [ "$ready" -eq "$total" ] && [ "$total" -ge "$pods" ] || { echo "not every pod was ready"; exit 1; }
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
md=$(median "${dep[@]}"); mx=$(median "${des[@]}")
printf 'podlab %d nodes x %d pods: deploy to ready %.2f s (goal 3 s), destroy %.2f s (goal 2 s), median of %d\n' "$nodes" "$per" "$md" "$mx" "$runs"
mn="null"
if [ "$mininet" = 1 ]; then
  settle
  line=$("$HERE/mininet.sh" "$pods" --no-ping | tail -1)
  echo "$line"
  mn=$(echo "$line" | sed -n 's/.*"build_start_s": *\([0-9.]*\).*/\1/p')
  printf 'mininet %d hosts: build+start %.2f s; podlab is %.1fx faster\n' "$pods" "$mn" "$(awk -v a="$mn" -v b="$md" 'BEGIN{print a/b}')"
fi
printf '{"pods":%d,"deploy_s":%s,"destroy_s":%s,"mininet_s":%s}\n' "$pods" "$md" "$mx" "$mn"
