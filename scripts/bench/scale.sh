#!/usr/bin/env bash
# The scale issue's figures in one run (as root), each beside its peer:
#  1. kube-proxy, 10,000 Services x 3 endpoints on one node, into the real kernel:
#     the full sync (goal < 1 s) and one change (goal < 20 ms; upstream kube-proxy
#     about 141 ms per sync, kubernetes #126013), with podlab's large-table layout
#     (endpoints picked by rules) and with upstream's (a numgen map per Service) in
#     the same minutes;
#  2. scripts/bench/services.sh: one Service changed with 10,000 present, from
#     `podlab apply` to programmed on both nodes; TCP connect latency through a
#     ClusterIP with 10,000 Services vs 10 (goal ratio < 1.1);
#  3. scripts/bench/deploy.sh: 1,000 pods on 10 nodes deploy-to-ready (goal < 3 s),
#     Mininet's 1,000 hosts in the same run for the ratio;
#  4. scripts/bench/deploycurve.sh: 5,000 pods on 50 nodes, once (reported).
# Prints each part's own output and a summary at the end.
#   usage: sudo scripts/bench/scale.sh [--no-mininet]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export PATH=$PATH:/usr/local/go/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$ROOT"

echo "== 1. kube-proxy into the kernel, 10,000 Services x 3 endpoints (TestKernelFullSync10k)"
go test -c -o "$tmp/proxy.test" ./cluster/proxy
kernel() { # kernel LABEL [ENV...]: one run of the test, its two log lines
  (cd cluster/proxy && env PODLAB_BENCH=1 "${@:2}" "$tmp/proxy.test" -test.run TestKernelFullSync10k -test.v 2>&1) |
    sed -n 's/.*kernel_test.go:[0-9]*: /'"$1"': /p' | tee -a "$tmp/kernel.txt"
}
for r in 1 2 3; do kernel "rules (podlab, > 1,000 Services)"; done
kernel "upstream layout" PODLAB_BENCH_RULECHOICE=20000

echo "== 2. scripts/bench/services.sh"
"$HERE/services.sh" | tee "$tmp/services.txt"

echo "== 3. scripts/bench/deploy.sh 10 100 3 $*"
"$HERE/deploy.sh" 10 100 3 "$@" | tee "$tmp/deploy.txt"

echo "== 4. scripts/bench/deploycurve.sh 1 5000"
"$HERE/deploycurve.sh" 1 5000 | tee "$tmp/curve.txt"

echo
echo "== summary (one run, $(date -u +%Y-%m-%dT%H:%MZ), load at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
grep -h 'rules (podlab' "$tmp/kernel.txt" | sed -n 's/.*full sync.*: \([0-9.]*m*s\) (.*/\1/p' | tr '\n' ' ' | sed 's/^/full sync, rules layout (3 runs): /; s/$/\n/'
grep -h 'upstream layout' "$tmp/kernel.txt" | sed -n 's/.*full sync.*: \([0-9.]*m*s\) (.*/full sync, upstream layout: \1\n/p'
grep -h 'rules (podlab' "$tmp/kernel.txt" | sed -n 's/.*one change.*: median \([0-9.]*m*s\) (\([0-9.]*m*s\) of it.*/\1 (kernel \2)/p' | tr '\n' ' ' | sed 's/^/one change, the whole sync (3 runs): /; s/$/; upstream kube-proxy about 141 ms\n/'
grep -h 'upstream layout' "$tmp/kernel.txt" | sed -n 's/.*one change.*: median \([0-9.]*m*s\) (\([0-9.]*m*s\) of it.*/one change, upstream layout: \1 (kernel \2)\n/p'
grep -h '^changed (API write' "$tmp/services.txt" || true
grep -h '^median of the rounds\|^ratio within each pair' "$tmp/services.txt" || true
grep -h '^podlab 10 nodes\|^mininet ' "$tmp/deploy.txt" || true
grep -hv '^\s*$' "$tmp/curve.txt" | tail -3 || true
