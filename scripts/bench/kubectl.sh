#!/usr/bin/env bash
# Benchmark of the lab's Kubernetes API (issue 15), one run, as root:
#  1. `kubectl get pods -A` on a lab of NODES x PODS_PER_NODE pods (default 10 x 100)
#     against `podlab get pods -A`, wall clock of each command, ROUNDS each,
#     interleaved; kubectl is the installed dispatcher (/usr/bin/kubectl, which picks
#     the kubectl matching the server's version) and, for reference, kubectl.1.32 itself.
#  2. `kubectl apply -f` of one new Service against `podlab apply -f` of another, ROUNDS
#     each, interleaved (each returns once the Service is programmed).
#  3. The supervisor's memory (VmRSS and VmHWM) after the same commands with the API
#     on, and on a second deploy of the lab with PODLAB_KUBEAPI=off (the podlab
#     commands only). Goals: within 1.5x of podlab's CLI; under 50 MB more memory.
#   usage: sudo scripts/bench/kubectl.sh [NODES] [PODS_PER_NODE] [ROUNDS]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
nodes=${1:-10} per=${2:-100} rounds=${3:-10}
export PATH=$PATH:/usr/local/go/bin
tmp=$(mktemp -d)
lab="kcbench-$$"
export PODLAB_STATE_DIR="$tmp/state"
cleanup() {
  "$tmp/podlab" destroy --name "$lab" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$ROOT"
go build -o "$tmp/podlab" ./cmd/podlab
P="$tmp/podlab"
"$HERE/genlab.sh" "$lab" "$nodes" "$per" > "$tmp/lab.yaml"
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.0f", (b-a)*1000}'; }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
rss() { awk '/^VmRSS|^VmHWM/ {printf "%s %d MB  ", $1, $2/1024}' "/proc/$(cat "$PODLAB_STATE_DIR/$lab/supervisor.pid")/status"; echo; }
svc() { printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec:\n  selector: {app: x}\n  ports: [{port: 80}]\n' "$1" > "$tmp/$1.yaml"; echo "$tmp/$1.yaml"; }
k132=$(ls /usr/lib/google-cloud-sdk/bin/kubectl.1.32 2>/dev/null || true)

run() { # MODE: on|off
  PODLAB_KUBEAPI=$1 "$P" deploy -t "$tmp/lab.yaml" >/dev/null 2>&1
  echo "== API $1: supervisor after deploy: $(rss)"
  local kc="$tmp/kubeconfig"
  [ "$1" = on ] && "$P" kubeconfig --name "$lab" > "$kc"
  local g_p=() g_k=() g_k132=() a_p=() a_k=()
  for ((r = 1; r <= rounds; r++)); do
    t0=$(now); "$P" get pods -A --name "$lab" > /dev/null; t1=$(now); g_p+=("$(ms "$t0" "$t1")")
    if [ "$1" = on ]; then
      t0=$(now); kubectl --kubeconfig "$kc" get pods -A > /dev/null; t1=$(now); g_k+=("$(ms "$t0" "$t1")")
      if [ -n "$k132" ]; then t0=$(now); "$k132" --kubeconfig "$kc" get pods -A > /dev/null; t1=$(now); g_k132+=("$(ms "$t0" "$t1")"); fi
    fi
    f=$(svc "p$r"); t0=$(now); "$P" apply --name "$lab" -f "$f" > /dev/null; t1=$(now); a_p+=("$(ms "$t0" "$t1")")
    if [ "$1" = on ]; then
      f=$(svc "k$r"); t0=$(now); kubectl --kubeconfig "$kc" apply -f "$f" > /dev/null; t1=$(now); a_k+=("$(ms "$t0" "$t1")")
    fi
  done
  echo "   supervisor after the commands: $(rss)"
  if [ "$1" = on ]; then
    gp=$(printf '%s\n' "${g_p[@]}" | median) gk=$(printf '%s\n' "${g_k[@]}" | median)
    ap=$(printf '%s\n' "${a_p[@]}" | median) ak=$(printf '%s\n' "${a_k[@]}" | median)
    echo "get pods -A ($((nodes * per)) pods): podlab ${gp} ms, kubectl ${gk} ms (ratio $(awk -v a="$gk" -v b="$gp" 'BEGIN{printf "%.2f", a/b}'))"
    [ -n "$k132" ] && echo "   kubectl.1.32 without the dispatcher: $(printf '%s\n' "${g_k132[@]}" | median) ms"
    echo "apply -f one Service: podlab ${ap} ms, kubectl ${ak} ms (ratio $(awk -v a="$ak" -v b="$ap" 'BEGIN{printf "%.2f", a/b}'))"
    echo "   runs: get podlab ${g_p[*]}; kubectl ${g_k[*]}; apply podlab ${a_p[*]}; kubectl ${a_k[*]}"
  fi
  "$P" destroy --name "$lab" >/dev/null
}
run on
run off
