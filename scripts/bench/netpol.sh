#!/usr/bin/env bash
# Benchmarks of the NetworkPolicy issue, in one run (as root), on a lab of NODES x
# PODS_PER_NODE pods (default 10 x 100) in 10 namespaces, each pod selected by one of
# as many NetworkPolicies (each: ingress on TCP 80 from its namespace's pods of one
# team, OR from role=client pods of namespace "clients"):
#  1. `podlab apply -f` of the file of all policies, wall clock of the command (it
#     returns once every node enforces them), then a probe showing the last policy
#     enforced (allowed from clients/client, blocked from clients/other); the same for
#     the whole file again with one policy changed, and for that policy alone (median
#     of ROUNDS each, alternating the change). Goal: under 1 s.
#  2. iperf3 TCP throughput clients/client (worker-1) -> the last pod (the last node),
#     allowed by its policy, with every policy loaded vs none, interleaved. Goal: >= 0.9.
#  3. `podlab probe --matrix` of x, y, z x a, b, c (9x9) on TCP 80, all allowed and with a
#     deny-all ingress in the three namespaces. Goal: under 1 s.
# First, the model's Compile of the same policies without a lab (netpolcompile).
#   usage: sudo scripts/bench/netpol.sh [NODES] [PODS_PER_NODE] [ROUNDS]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
nodes=${1:-10} per=${2:-100} rounds=${3:-5}
pods=$((nodes * per))
export PATH=$PATH:/usr/local/go/bin
command -v iperf3 >/dev/null || { apt-get update -qq && apt-get install -y -qq iperf3 >/dev/null; }
tmp=$(mktemp -d)
lab="npbench-$$" estlab="npbench-est-$$"
export PODLAB_STATE_DIR="$tmp/state"
cleanup() {
  "$tmp/podlab" destroy --name "$lab" >/dev/null 2>&1 || true
  "$tmp/podlab" destroy --name "$estlab" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$ROOT"
go build -o "$tmp/podlab" ./cmd/podlab
P="$tmp/podlab"
echo "== the model's Compile alone, the pure-Go share of every change (scripts/bench/netpolcompile)"
go run ./scripts/bench/netpolcompile "$nodes" "$per" 10
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.0f", (b-a)*1000}'; } # ms
load() { cut -d' ' -f1-3 /proc/loadavg; }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

# The lab: pod i (p-<node>-<k>) is in namespace ns-<i%10>, labels app=<name>,
# team=t<i%7>; clients/client (role=client) and clients/other (role=other) on worker-1;
# the upstream netpol model's x, y, z x a, b, c on workers 1-3.
{
  echo "name: $lab"
  echo "nodes:"
  for ((n = 1; n <= nodes; n++)); do echo "  - name: worker-$n"; done
  echo "pods:"
  echo '  - {name: client, namespace: clients, node: worker-1, labels: {role: client}}'
  echo '  - {name: other, namespace: clients, node: worker-1, labels: {role: other}}'
  w=1
  for ns in x y z; do
    for p in a b c; do
      echo "  - {name: $p, namespace: \"$ns\", node: worker-$w, labels: {pod: $p}, ports: [80]}"
      w=$((w % 3 + 1))
    done
  done
  i=0
  for ((n = 1; n <= nodes; n++)); do
    for ((k = 1; k <= per; k++)); do
      echo "  - {name: p-$n-$k, namespace: ns-$((i % 10)), node: worker-$n, labels: {app: p-$n-$k, team: t$((i % 7))}, ports: [80]}"
      i=$((i + 1))
    done
  done
} > "$tmp/lab.yaml"

# policy I NAME NS [EXTRA]: the policy selecting pod NAME; EXTRA adds a peer (the change)
# and the last one also allows iperf3's 5201.
policy() {
  local i=$1 name=$2 ns=$3 extra=${4:-} ports="[{protocol: TCP, port: 80}]"
  [ "$name" = "p-$nodes-$per" ] && ports="[{protocol: TCP, port: 80}, {protocol: TCP, port: 5201}]"
  cat <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-$name, namespace: ns-$ns}
spec:
  podSelector: {matchLabels: {app: $name}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector: {matchLabels: {team: t$(((i + 1) % 7))}}
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: clients}}
          podSelector: {matchLabels: {role: client}}$extra
      ports: $ports
---
EOF
}
gen() { # gen EXTRA_FOR_LAST
  local i=0
  for ((n = 1; n <= nodes; n++)); do
    for ((k = 1; k <= per; k++)); do
      if [ "$i" = $((pods - 1)) ]; then policy "$i" "p-$n-$k" $((i % 10)) "$1"; else policy "$i" "p-$n-$k" $((i % 10)); fi
      i=$((i + 1))
    done
  done
}
other=$'\n        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: clients}}\n          podSelector: {matchLabels: {role: other}}'
gen "" > "$tmp/all.yaml"
gen "$other" > "$tmp/all-changed.yaml"
last="p-$nodes-$per" lastns="ns-$(((pods - 1) % 10))"
policy $((pods - 1)) "$last" $(((pods - 1) % 10)) > "$tmp/last.yaml"
policy $((pods - 1)) "$last" $(((pods - 1) % 10)) "$other" > "$tmp/last-changed.yaml"
echo "$(grep -c '^kind: NetworkPolicy' "$tmp/all.yaml") policies over $((pods + 11)) pods on $nodes nodes; load $(load)"

t0=$(now)
"$P" deploy -t "$tmp/lab.yaml" >/dev/null
echo "deploy: $(since "$t0") ms"
lastip=$("$P" get --name "$lab" -n "$lastns" pod "$last" -o json | sed -n 's/.*"podIP": "\(.*\)".*/\1/p' | head -1)
# verdict FROM [PORT]: allowed | blocked, one probe to the last pod.
verdict() {
  "$P" probe --name "$lab" --from "clients/$1" --to "$lastns/$last" --port "${2:-80}" 2>&1 | grep -oE 'allowed|timed out|refused' | head -1 | sed 's/timed out/blocked/'
}
expect() { # expect FROM WANT WHAT
  local got; got=$(verdict "$1")
  [ "$got" = "$2" ] && echo "  probe clients/$1 -> $lastns/$last:80: $got, as $3" || { echo "  probe clients/$1 -> $lastns/$last:80: $got, want $2 ($3): FAILED"; exit 1; }
}

echo "== 9x9 matrix, podlab probe --matrix --namespaces x,y,z --port 80 (goal < 1 s)"
matrix() {
  local t; t=$(now)
  "$P" probe --name "$lab" --matrix --namespaces x,y,z --port 80 >"$tmp/matrix.txt" 2>&1
  local ms; ms=$(since "$t")
  echo "  $1: wall $ms ms ($(grep -oiE '[0-9.]+ ?m?s' "$tmp/matrix.txt" | tail -1) by its own clock), $(awk '$1 ~ /^[xyz]\// {for (i = 2; i <= NF; i++) n += ($i == ".")} END{print n+0}' "$tmp/matrix.txt") of 81 cells allowed"
}
for r in 1 2 3; do matrix "all allowed, run $r"; done
for ns in x y z; do printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all, namespace: "%s"}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n---\n' "$ns"; done > "$tmp/deny.yaml"
"$P" apply --name "$lab" -f "$tmp/deny.yaml" >/dev/null
for r in 1 2 3; do matrix "deny-all in x, y, z, run $r"; done
cat "$tmp/matrix.txt"
"$P" delete --name "$lab" -f "$tmp/deny.yaml" >/dev/null

echo "== iperf3 clients/client (worker-1) -> $lastns/$last ($lastip, worker-$nodes), 5 s each, interleaved (goal ratio >= 0.9)"
"$P" exec --name "$lab" -n "$lastns" "$last" -- iperf3 -s -D >/dev/null
sleep 0.5
bps() { "$P" exec --name "$lab" -n clients client -- iperf3 -c "$lastip" -t 5 -J | sed -n 's/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' | tail -1; }
applied=() none=() loaded=()
for r in 1 2 3; do
  none+=("$(bps)"); echo "  no policy:        $(awk -v b="${none[-1]}" 'BEGIN{printf "%.2f", b/1e9}') Gbit/s  (load $(load))"
  t0=$(now); "$P" apply --name "$lab" -f "$tmp/all.yaml" >/dev/null; applied+=("$(since "$t0")")
  echo "  apply -f of $pods policies: ${applied[-1]} ms"
  expect client allowed "its policy allows role=client of namespace clients"
  expect other blocked "the last policy is enforced"
  loaded+=("$(bps)"); echo "  $pods policies:    $(awk -v b="${loaded[-1]}" 'BEGIN{printf "%.2f", b/1e9}') Gbit/s  (load $(load))"
  t0=$(now); "$P" delete --name "$lab" -f "$tmp/all.yaml" >/dev/null
  echo "  delete -f of $pods policies: $(since "$t0") ms"
done
n=$(printf '%s\n' "${none[@]}" | median); l=$(printf '%s\n' "${loaded[@]}" | median)
awk -v n="$n" -v l="$l" 'BEGIN{printf "throughput: none %.2f Gbit/s, with the policies %.2f Gbit/s, ratio %.3f (goal >= 0.9)\n", n/1e9, l/1e9, l/n}'

echo "== apply of the $pods policies, then one changed among them (goal < 1 s)"
t0=$(now); "$P" apply --name "$lab" -f "$tmp/all.yaml" >/dev/null; applied+=("$(since "$t0")")
echo "  apply -f of $pods policies: ${applied[-1]} ms; median of ${#applied[@]}: $(printf '%s\n' "${applied[@]}" | median) ms"
expect other blocked "the last policy is enforced"
whole=() single=()
for ((r = 1; r <= rounds; r++)); do
  t0=$(now); "$P" apply --name "$lab" -f "$tmp/all-changed.yaml" >/dev/null; whole+=("$(since "$t0")")
  expect other allowed "the changed policy allows role=other (whole file, ${whole[-1]} ms)"
  t0=$(now); "$P" apply --name "$lab" -f "$tmp/all.yaml" >/dev/null; whole+=("$(since "$t0")")
  expect other blocked "the change is undone (whole file, ${whole[-1]} ms)"
  t0=$(now); "$P" apply --name "$lab" -f "$tmp/last-changed.yaml" >/dev/null; single+=("$(since "$t0")")
  expect other allowed "the changed policy alone (${single[-1]} ms)"
  t0=$(now); "$P" apply --name "$lab" -f "$tmp/last.yaml" >/dev/null; single+=("$(since "$t0")")
  expect other blocked "undone alone (${single[-1]} ms)"
done
echo "one policy changed among $pods: apply -f of the whole file median $(printf '%s\n' "${whole[@]}" | median) ms (runs ${whole[*]}); of that policy alone median $(printf '%s\n' "${single[@]}" | median) ms (runs ${single[*]})"
echo "load at the end: $(load)"
"$P" destroy --name "$lab" >/dev/null

echo "== with cluster.networkPolicy.enforceEstablished: true every client packet runs the policy: iperf3 again, on a lab of 2 nodes"
est() { # the cost of the setting, on its own small lab
  local lab=$estlab
  cat > "$tmp/est.yaml" <<LAB
name: $lab
cluster: {networkPolicy: {enforceEstablished: true}}
nodes: [{name: worker-1}, {name: worker-2}]
pods:
  - {name: client, namespace: clients, node: worker-1, labels: {role: client}}
  - {name: server, namespace: ns-0, node: worker-2, labels: {app: server}, ports: [80]}
LAB
  sed -e 's/^  podSelector: {matchLabels: {app: p-[0-9-]*}}/  podSelector: {matchLabels: {app: server}}/' -e 's/namespace: ns-[0-9]*}/namespace: ns-0}/' "$tmp/last.yaml" > "$tmp/est-policy.yaml"
  "$P" deploy -t "$tmp/est.yaml" >/dev/null
  local ip; ip=$("$P" get --name "$lab" -n ns-0 pod server -o json | sed -n 's/.*"podIP": "\(.*\)".*/\1/p' | head -1)
  "$P" exec --name "$lab" -n ns-0 server -- iperf3 -s -D >/dev/null
  sleep 0.5
  local none=() pol=() r
  ebps() { "$P" exec --name "$lab" -n clients client -- iperf3 -c "$ip" -t 5 -J | sed -n 's/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' | tail -1; }
  for r in 1 2 3; do
    none+=("$(ebps)")
    "$P" apply --name "$lab" -f "$tmp/est-policy.yaml" >/dev/null
    pol+=("$(ebps)")
    "$P" delete --name "$lab" -f "$tmp/est-policy.yaml" >/dev/null
    echo "  no policy $(awk -v b="${none[-1]}" 'BEGIN{printf "%.2f", b/1e9}') Gbit/s, server isolated (every client packet judged) $(awk -v b="${pol[-1]}" 'BEGIN{printf "%.2f", b/1e9}') Gbit/s (load $(load))"
  done
  local n l; n=$(printf '%s\n' "${none[@]}" | median); l=$(printf '%s\n' "${pol[@]}" | median)
  awk -v n="$n" -v l="$l" 'BEGIN{printf "enforceEstablished: none %.2f Gbit/s, with the policy %.2f Gbit/s, ratio %.3f\n", n/1e9, l/1e9, l/n}'
  "$P" destroy --name "$lab" >/dev/null
}
est
