#!/usr/bin/env bash
# Benchmarks of the Services issue, in one run (as root):
#  1. kube-proxy sync of 10,000 Services x 3 endpoints and of one change with 10,000
#     present: the proxier's Go benchmarks, plus the same into the real nft.
#  2. TCP connect latency from a pod through a ClusterIP with 10 Services loaded,
#     then with 10,000 (the verdict maps make the lookup O(1): ratio goal < 1.1).
#  3. iperf3 throughput pod -> ClusterIP -> pod on another node against pod -> pod
#     direct (goal: at least 0.9).
#   usage: sudo scripts/bench/services.sh [SERVICES]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
many=${1:-10000}
export PATH=$PATH:/usr/local/go/bin
command -v iperf3 >/dev/null || { apt-get update -qq && apt-get install -y -qq iperf3 >/dev/null; }
tmp=$(mktemp -d)
lab="svcbench-$$"
cleanup() {
  [ -f "$tmp/iperf.pid" ] && kill "$(cat "$tmp/iperf.pid")" 2>/dev/null || true
  "$tmp/podlab" destroy --name "$lab" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$ROOT"
go build -o "$tmp/podlab" ./cmd/podlab
go build -o "$tmp/connlat" ./scripts/bench/connlat
P="$tmp/podlab"

echo "== kube-proxy sync benchmarks (Go, the proxier's own cost)"
go test -run '^$' -bench 'FullSync10k|OneChange10k' -benchtime 3x ./cluster/proxy | grep -E '^Benchmark'
echo "== the same into the real nft of a namespace"
PODLAB_BENCH=1 go test -run 'TestKernelFullSync10k' -v -timeout 10m ./cluster/proxy 2>&1 | grep -vE '^=== ' | head -8 || true

cat > "$tmp/lab.yaml" <<LAB
name: $lab
nodes:
  - {name: worker-1}
  - {name: worker-2}
pods:
  - {name: client, node: worker-1}
  - {name: web, node: worker-2, labels: {app: web}, ports: [8080]}
  - {name: iperf, node: worker-2, labels: {app: iperf}}
manifests:
  - apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
  - apiVersion: v1
    kind: Service
    metadata: {name: iperf}
    spec: {selector: {app: iperf}, ports: [{port: 5201, targetPort: 5201}]}
LAB
"$P" deploy -t "$tmp/lab.yaml" >/dev/null
svcip() { "$P" get --name "$lab" svc "$1" -o json | sed -n 's/.*"clusterIP": "\(.*\)".*/\1/p' | head -1; }
podip() { "$P" get --name "$lab" pod "$1" -o json | sed -n 's/.*"podIP": "\(.*\)".*/\1/p' | head -1; }
webip=$(svcip web); iperfip=$(svcip iperf); iperfpod=$(podip iperf)
clientns=/run/netns/podlab_${lab}_pod_default_client

gen() { # gen FIRST LAST: Services selecting the web pod
  for ((i = $1; i <= $2; i++)); do
    printf 'apiVersion: v1\nkind: Service\nmetadata: {name: s-%d}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n---\n' "$i"
  done
}
gen 1 8 > "$tmp/few.yaml"; "$P" apply --name "$lab" -f "$tmp/few.yaml" >/dev/null
echo "== connect latency through a ClusterIP"
few=$("$tmp/connlat" "$clientns" "$webip:80" 3000)
echo "10 Services:     $few"
gen 9 $((many - 2)) > "$tmp/many.yaml"
t0=$(date +%s.%N)
"$P" apply --name "$lab" -f "$tmp/many.yaml" >/dev/null
t1=$(date +%s.%N)
printf 'applying %d more Services until every node is programmed: %.1f s\n' $((many - 10)) "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"
lots=$("$tmp/connlat" "$clientns" "$webip:80" 3000)
echo "$many Services: $lots"
m1=$(echo "$few" | sed -n 's/.*"mean_us":\([0-9.]*\).*/\1/p'); m2=$(echo "$lots" | sed -n 's/.*"mean_us":\([0-9.]*\).*/\1/p')
awk -v a="$m1" -v b="$m2" -v n="$many" 'BEGIN{printf "connect latency ratio %d/10 Services: %.3f (goal < 1.1)\n", n, b/a}'

echo "== iperf3 throughput, worker-1 -> worker-2"
"$P" exec --name "$lab" iperf -- iperf3 -s -D -I "$tmp/iperf.pid" >/dev/null
sleep 0.5
bps() { "$P" exec --name "$lab" client -- iperf3 -c "$1" -t 5 -J | sed -n 's/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' | tail -1; }
direct=$(bps "$iperfpod"); viasvc=$(bps "$iperfip")
awk -v d="$direct" -v s="$viasvc" 'BEGIN{printf "pod -> pod %.2f Gbit/s, pod -> ClusterIP -> pod %.2f Gbit/s, ratio %.3f (goal >= 0.9)\n", d/1e9, s/1e9, s/d}'
