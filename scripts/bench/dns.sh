#!/usr/bin/env bash
# Benchmark of the cluster DNS (issue 10): dnsperf against podlab's DNS component,
# CoreDNS v1.15.0 and Debian's knot, one after another in each round, all serving
# the same synthetic cluster on loopback (default 10 namespaces x 100 ClusterIP
# Services with 3 named ports, 10 x 10 headless Services of 3 ready endpoints, 5
# ExternalName; scripts/bench/dnsbench makes the store, the zone files and the query
# mix). Before measuring, every distinct query is asked of the three servers and
# their answers must agree.
#
#   podlab  dnsbench serve: dns.Server run on a store, its handler on a UDP socket
#           as ServePod serves it (127.0.0.1:5301)
#   CoreDNS kubeadm's Corefile with the file plugin in place of kubernetes (which
#           needs an API server) and without forward/loop (no upstream on loopback):
#           errors, health, ready, file, prometheus, cache 30, reload, loadbalance
#           (127.0.0.2:5302); built with `go install` into the temporary directory,
#           or COREDNS=/path/to/coredns to reuse a binary
#   knot    knotd serving the same zone files (127.0.0.3:5303)
#
# Each server runs on CPU 1 and dnsperf on CPU 0 (taskset), so every server has one
# core and the client never competes with it; both at nice -10 (NICE=0 to change it)
# so that other work on a shared machine delays them less. Per round and server: a
# saturating run (-q 200 outstanding, SECONDS long) gives queries per second; a run
# at a fixed RATE with dnsperf -v (one line per answer with its latency) gives the
# latencies (dnsbench latency reads them). Many short rounds, the servers' order
# rotating, so that a noisy machine's bursts fall on every server alike. Prints
# every run, the medians over RUNS rounds of queries/s, p50 and p99, the ratios,
# and a JSON line.
#
#   usage: sudo scripts/bench/dns.sh [RUNS] [SECONDS] [RATE]   (default 10 3 5000)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
runs=${1:-10} secs=${2:-3} rate=${3:-5000} nice=${NICE:--10}
export PATH=$PATH:/usr/local/go/bin
need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v knotd >/dev/null || need+=(knot)
command -v taskset >/dev/null || need+=(util-linux)
[ ${#need[@]} = 0 ] || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$ROOT"
go build -o "$tmp/dnsbench" ./scripts/bench/dnsbench
coredns=${COREDNS:-}
if [ -z "$coredns" ]; then
  echo "== building CoreDNS v1.15.0 (go install into $tmp, a few minutes)"
  GOBIN="$tmp/bin" GOFLAGS= go install github.com/coredns/coredns@v1.15.0
  coredns="$tmp/bin/coredns"
fi
"$tmp/dnsbench" files "$tmp"

cat > "$tmp/Corefile" <<EOF
.:5302 {
    bind 127.0.0.2
    errors
    health 127.0.0.2:18080
    ready 127.0.0.2:18181
    file $tmp/db.cluster.local cluster.local
    file $tmp/db.10.in-addr.arpa 10.in-addr.arpa
    prometheus 127.0.0.2:19153
    cache 30
    reload
    loadbalance
}
EOF
mkdir "$tmp/knot"
cat > "$tmp/knot.conf" <<EOF
server:
    listen: 127.0.0.3@5303
    rundir: $tmp/knot
    user: root:root
database:
    storage: $tmp/knot
control:
    listen: $tmp/knot/knot.sock
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: $tmp
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: cluster.local
    file: db.cluster.local
  - domain: 10.in-addr.arpa
    file: db.10.in-addr.arpa
EOF

declare -A addr=([podlab]=127.0.0.1:5301 [coredns]=127.0.0.2:5302 [knot]=127.0.0.3:5303)
servers=(podlab coredns knot)
# nice and taskset exec the server: $! is its PID.
nice -n "$nice" taskset -c 1 "$tmp/dnsbench" serve "${addr[podlab]}" > "$tmp/podlab.log" 2>&1 & pids+=($!)
nice -n "$nice" taskset -c 1 "$coredns" -conf "$tmp/Corefile" > "$tmp/coredns.log" 2>&1 & pids+=($!)
nice -n "$nice" taskset -c 1 knotd -c "$tmp/knot.conf" > "$tmp/knot.log" 2>&1 & pids+=($!)
for s in "${servers[@]}"; do
  a=${addr[$s]}
  for _ in $(seq 1 100); do
    dig +short +time=1 +tries=1 -p "${a#*:}" "@${a%:*}" dns-version.cluster.local TXT 2>/dev/null | grep -q 1.1.0 && continue 2
    sleep 0.1
  done
  echo "$s did not start:" >&2; cat "$tmp/$s.log" >&2; exit 1
done
echo "== the servers' answers to every distinct query of the mix"
"$tmp/dnsbench" check "$tmp/queries" "${addr[podlab]}" "${addr[coredns]}" "${addr[knot]}"

perf() { # perf SERVER ARGS...: dnsperf on CPU 0 against SERVER's address
  local a=${addr[$1]}; shift
  nice -n "$nice" taskset -c 0 dnsperf -s "${a%:*}" -p "${a#*:}" -d "$tmp/queries" -c 4 "$@"
}
declare -A qps p50 p99
echo "== $runs rounds, the servers' order rotating: ${secs} s saturating (-q 200), then ${secs} s at $rate queries/s for latency"
for s in "${servers[@]}"; do perf "$s" -l 1 -q 200 > /dev/null; done # warm up: caches, the Go heap
for r in $(seq 1 "$runs"); do
  for i in 0 1 2; do
    s=${servers[$(((r + i) % 3))]}
    q=$(perf "$s" -l "$secs" -q 200 | sed -n 's/.*Queries per second: *\([0-9.]*\).*/\1/p')
    l=$(perf "$s" -l "$secs" -Q "$rate" -v | "$tmp/dnsbench" latency)
    qps[$s]+="$q "
    p50[$s]+="$(echo "$l" | sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p') "
    p99[$s]+="$(echo "$l" | sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p') "
    printf 'round %2d %-7s %8.0f queries/s saturated; at %d/s: %s\n' "$r" "$s" "$q" "$rate" "$l"
  done
done
median() { printf '%s\n' $@ | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
echo "== medians of $runs rounds (and the lowest p99 of a round: the machine at its quietest)"
json=""
for s in "${servers[@]}"; do
  mq=$(median "${qps[$s]}"); m50=$(median "${p50[$s]}"); m99=$(median "${p99[$s]}")
  low=$(printf '%s\n' ${p99[$s]} | sort -g | head -1)
  printf '%-7s %8.0f queries/s; at %d/s p50 %.3f ms, p99 %.3f ms (lowest %.3f ms)\n' "$s" "$mq" "$rate" "$m50" "$m99" "$low"
  declare "mq_$s=$mq" "m99_$s=$m99"
  json+="\"$s\":{\"qps\":$mq,\"p50_ms\":$m50,\"p99_ms\":$m99},"
done
awk -v a="$mq_podlab" -v b="$mq_coredns" -v c="$m99_podlab" -v d="$m99_coredns" -v k="$mq_knot" -v e="$m99_knot" 'BEGIN{
  printf "podlab/CoreDNS: queries/s ratio %.2f (goal >= 1.0), p99 ratio %.2f (goal <= 1.0)\n", a/b, c/d
  printf "podlab/knot:    queries/s ratio %.2f, p99 ratio %.2f\n", a/k, c/e }'
printf '{%s"rate":%d,"seconds":%d,"runs":%d}\n' "$json" "$rate" "$secs" "$runs"
