#!/usr/bin/env bash
# Benchmarks of the control-loop issue, in one run (as root), on a lab of NODES x
# PODS_PER_NODE pods with one Service per pod (default 10 x 100 = 1,000 pods and 1,000
# Services):
#  1. apply of one Service, from the API call to "programmed on every node" (the call
#     returns then): new Services and changes, median of N (goal under 50 ms);
#  2. the supervisor killed with SIGKILL, then the lab re-adopted by the next command
#     and serving again (goal under 1 s).
# The deploy figure itself is scripts/bench/deploy.sh.
#   usage: sudo scripts/bench/controlloop.sh [NODES] [PODS_PER_NODE] [N]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
nodes=${1:-10} per=${2:-100} n=${3:-20}
pods=$((nodes * per))
export PATH=$PATH:/usr/local/go/bin
tmp=$(mktemp -d)
lab="loopbench-$$"
root="$tmp/state"
export PODLAB_STATE_DIR="$root"
cleanup() {
  "$tmp/podlab" destroy --name "$lab" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$ROOT"
go build -o "$tmp/podlab" ./cmd/podlab
go build -o "$tmp/controlloop" ./scripts/bench/controlloop
"$HERE/genlab.sh" "$lab" "$nodes" "$per" "$pods" > "$tmp/lab.yaml"
t0=$(date +%s.%N)
"$tmp/podlab" deploy -t "$tmp/lab.yaml" -o json > "$tmp/state.json"
t1=$(date +%s.%N)
printf 'deploy of %d pods and %d Services: %.2f s\n' "$pods" "$pods" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"
# Wait until kube-proxy has every Service on every node.
until "$tmp/podlab" get --name "$lab" ep s-1-1 >/dev/null 2>&1 && [ "$(curl -s --unix-socket "$root/$lab/supervisor.sock" http://x/v1/ready | grep -c '"settled":true')" = 1 ]; do sleep 0.2; done
echo "== apply of one Service with $pods pods and $pods Services present (goal < 50 ms)"
"$tmp/controlloop" apply "$tmp/podlab" "$root" "$lab" "$n"
vip=$("$tmp/podlab" get --name "$lab" svc s-1-1 -o json | sed -n 's/.*"clusterIP": "\([0-9.]*\)".*/\1/p' | head -1)
echo "== supervisor killed -> lab of $pods pods re-adopted and serving (goal < 1 s)"
"$tmp/controlloop" adopt "$tmp/podlab" "$root" "$lab" "/run/netns/podlab_${lab}_pod_default_p-2-1" "$vip:80"
