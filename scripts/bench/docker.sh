#!/usr/bin/env bash
# Benchmark of the Docker runtime (issue 5): deploy NODES x PODS_PER_NODE pods with
# runtime docker until every pod answered its HTTP readiness check, against the
# engine's own floor measured in the same run: as many `docker run -d --network none`
# of the same image, with the same capabilities and the same parallelism; then
# podlab destroy against `docker rm -f` of those containers, same parallelism.
#
#   usage: sudo scripts/bench/docker.sh [NODES] [PODS_PER_NODE] [RUNS]
#
# Needs a running Docker engine and the docker CLI. Prints one line per run, medians,
# the ratios to the floor (goal: 1.2x) and a JSON line.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
nodes=${1:-5} per=${2:-20} runs=${3:-1}
par=${PODLAB_PARALLEL:-8}
export PODLAB_PARALLEL=$par
pods=$((nodes * per))
lab="dbench-$$"
tmp=$(mktemp -d)
export PODLAB_STATE_DIR="$tmp/state"
floor_label="podlab.bench=$lab"
cleanup() {
  "$tmp/podlab" destroy --name "$lab" >/dev/null 2>&1 || true
  docker ps -aq --filter "label=$floor_label" | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
docker version --format '{{.Server.Version}}' >/dev/null || { echo "no Docker engine answers; start one (see README)" >&2; exit 1; }
export PATH=$PATH:/usr/local/go/bin
(cd "$ROOT" && go build -o "$tmp/podlab" ./cmd/podlab)
{ echo "runtime: docker"; "$HERE/genlab.sh" "$lab" "$nodes" "$per"; } > "$tmp/lab.yaml"
image=$("$tmp/podlab" image build 2>&1 | sed -n 's/^built .* and \(podlab\/pod:[^ ]*\)$/\1/p')
[ -n "$image" ] || { echo "podlab image build failed" >&2; exit 1; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b-a}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
dep=() des=() fdep=() fdes=()
for i in $(seq 1 "$runs"); do
  t0=$(now)
  "$tmp/podlab" deploy -t "$tmp/lab.yaml" -o json > "$tmp/state.json" 2> "$tmp/deploy.err" || { cat "$tmp/deploy.err"; exit 1; }
  d1=$(since "$t0")
  ready=$(grep -o '"ready": true' "$tmp/state.json" | wc -l)
  n=$(docker ps -q --filter "label=podlab.lab=$lab" | wc -l)
  t0=$(now)
  "$tmp/podlab" destroy --name "$lab" 2> "$tmp/destroy.err"
  d2=$(since "$t0")
  total=$(grep -o '"ready": ' "$tmp/state.json" | wc -l) # the lab's pods and kube-system's (cluster DNS)
  [ "$ready" -eq "$total" ] && [ "$total" -ge "$pods" ] || { echo "run $i: only $ready of $total pods were ready"; exit 1; }

  t0=$(now)
  seq 1 "$n" | xargs -P "$par" -I{} docker run -d -q --network none --cap-add NET_ADMIN --cap-add NET_RAW --cap-add SYS_ADMIN \
    --label "$floor_label" --name "$lab-floor-{}" --entrypoint /bin/sleep "$image" infinity > /dev/null
  f1=$(since "$t0")
  t0=$(now)
  docker ps -aq --filter "label=$floor_label" | xargs -P "$par" -n 1 docker rm -f > /dev/null
  f2=$(since "$t0")
  dep+=("$d1") des+=("$d2") fdep+=("$f1") fdes+=("$f2")
  printf 'run %d: %d containers; podlab deploy to %d/%d pods ready %.2f s, docker run -d floor %.2f s; podlab destroy %.2f s, docker rm -f %.2f s\n' \
    "$i" "$n" "$ready" "$pods" "$d1" "$f1" "$d2" "$f2"
done
md=$(median "${dep[@]}") mx=$(median "${des[@]}") fd=$(median "${fdep[@]}") fx=$(median "${fdes[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
printf 'podlab runtime docker, %d nodes x %d pods (%d containers, parallel %d), median of %d:\n' "$nodes" "$per" "$n" "$par" "$runs"
printf '  deploy to ready %.2f s vs docker run -d %.2f s: %sx the floor (goal 1.2x)\n' "$md" "$fd" "$(ratio "$md" "$fd")"
printf '  destroy         %.2f s vs docker rm -f  %.2f s: %sx the floor (goal 1.2x)\n' "$mx" "$fx" "$(ratio "$mx" "$fx")"
printf '{"containers":%d,"parallel":%d,"deploy_s":%s,"docker_run_s":%s,"destroy_s":%s,"docker_rm_s":%s}\n' "$n" "$par" "$md" "$fd" "$mx" "$fx"
