#!/usr/bin/env bash
# Benchmark of the ingress and gateway controller (issue 12): wrk from a lab host
# outside the cluster, through a LoadBalancer address, to the same two backend pods
# (nginx image: podlab's built-in nginx page), side by side in one lab:
#
#   gateway  podlab's Gateway (class podlab) + HTTPRoute / -> Service web:80; its proxy
#            pod is podlab's, reached at the Gateway's own pool address
#   ingress  podlab's Ingress controller, the same route as an Ingress
#   nginx    Debian's nginx as the equivalent reverse proxy: run inside a pause pod's
#            network namespace, behind its own LoadBalancer Service, proxying to the
#            same two pod endpoints with upstream keepalive (as ingress-nginx does);
#            worker_processes auto
#
# Every path crosses the same kube-proxy rules (LB address -> proxy pod) and the same
# backends. Per round and proxy: wrk -t2 -cCONNS for SECONDS with --latency; the
# proxies' order rotates each round. Prints every run, the medians over RUNS rounds
# of requests/s and p99, the ratios to nginx, and a JSON line. Goal: requests/s at
# least 0.8x nginx's, p99 no worse than 1.2x.
#
#   usage: sudo scripts/bench/ingress.sh [RUNS] [SECONDS] [CONNS]   (default 5 10 64)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
runs=${1:-5} secs=${2:-10} conns=${3:-64}
export PATH=$PATH:/usr/local/go/bin
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
[ ${#need[@]} = 0 ] || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
tmp=$(mktemp -d)
lab="ingbench-$$"
export PODLAB_STATE_DIR="$tmp/state"
ngpid=
cleanup() {
  [ -n "$ngpid" ] && kill "$ngpid" 2>/dev/null || true
  "$tmp/podlab" destroy --name "$lab" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$ROOT"
go build -o "$tmp/podlab" ./cmd/podlab
P="$tmp/podlab"

cat > "$tmp/lab.yaml" <<EOF
name: $lab
cluster:
  loadBalancerPool: [172.30.0.240/28]
nodes:
  - {name: control-plane, role: control-plane}
  - {name: worker-1}
  - {name: worker-2}
hosts:
  - name: client
pods:
  - {name: web-1, node: worker-1, image: nginx, labels: {app: web}, ports: [80]}
  - {name: web-2, node: worker-2, image: nginx, labels: {app: web}, ports: [80]}
  - {name: nginx-proxy, node: worker-1, image: registry.k8s.io/pause:3.10, labels: {app: nginx-proxy}}
manifests:
  - apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      selector: {app: web}
      ports: [{port: 80, targetPort: 80}]
  - apiVersion: v1
    kind: Service
    metadata: {name: nginx-proxy}
    spec:
      type: LoadBalancer
      selector: {app: nginx-proxy}
      ports: [{port: 80, targetPort: 80}]
  - apiVersion: gateway.networking.k8s.io/v1
    kind: Gateway
    metadata: {name: bench}
    spec:
      gatewayClassName: podlab
      listeners: [{name: http, protocol: HTTP, port: 80}]
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: web}
    spec:
      parentRefs: [{name: bench}]
      rules: [{backendRefs: [{name: web, port: 80}]}]
  - apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: web}
    spec:
      rules:
        - http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
EOF
echo "== deploy"
"$P" deploy -t "$tmp/lab.yaml" >/dev/null
jq() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
lbof() { # KIND NS NAME: the first status address
  for _ in $(seq 100); do
    a=$("$P" get --name "$lab" "$1" "$3" -n "$2" -o jsonpath="$4" 2>/dev/null || true)
    [ -n "$a" ] && { echo "$a"; return; }
    sleep 0.2
  done
  echo "no address for $1 $2/$3" >&2; exit 1
}
gw=$(lbof gateway default bench '{.status.addresses[0].value}')
ing=$(lbof ingress default web '{.status.loadBalancer.ingress[0].ip}')
ngx=$(lbof svc default nginx-proxy '{.status.loadBalancer.ingress[0].ip}')
state=$("$P" inspect --name "$lab" -o json)
hostns=$(echo "$state" | jq 'd["hosts"][0]["netns"]')
proxyns=$(echo "$state" | jq '[p["netns"] for p in d["pods"] if p["name"]=="nginx-proxy"][0]')
eps=$(echo "$state" | jq '" ".join("server %s:80;" % p["ip"] for p in d["pods"] if p["name"].startswith("web-"))')
mkdir -p "$tmp/nginx"
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx;
  proxy_temp_path $tmp/nginx;
  upstream web { $eps keepalive 64; }
  server {
    listen 80 reuseport;
    location / {
      proxy_pass http://web;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Real-IP \$remote_addr;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
EOF
ip netns exec "$proxyns" nginx -c "$tmp/nginx/nginx.conf" &
ngpid=$!
sleep 1
for target in "gateway $gw" "ingress $ing" "nginx $ngx"; do
  set -- $target
  for _ in $(seq 50); do
    code=$(ip netns exec "$hostns" curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$2/" || true)
    [ "$code" = 200 ] && break
    sleep 0.2
  done
  [ "$code" = 200 ] || { echo "$1 at $2 answers $code" >&2; exit 1; }
done
echo "gateway $gw, ingress $ing, nginx $ngx; backends: $eps"

run() { # NAME ADDR -> "rps p99ms"
  ip netns exec "$hostns" wrk -t2 -c"$conns" -d"${secs}s" --latency "http://$2/" > "$tmp/wrk.out"
  local rps p99
  rps=$(awk '/^Requests\/sec/ {print $2}' "$tmp/wrk.out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$tmp/wrk.out")
  errs=$(awk '/Non-2xx|Socket errors/ {print}' "$tmp/wrk.out")
  echo "$rps $p99"
  [ -z "$errs" ] || echo "  $1: $errs" >&2
}
declare -A rps p99
order=(gateway ingress nginx)
declare -A addr=([gateway]=$gw [ingress]=$ing [nginx]=$ngx)
for ((r = 1; r <= runs; r++)); do
  for name in "${order[@]}"; do
    read -r a b < <(run "$name" "${addr[$name]}")
    rps[$name]+="$a " p99[$name]+="$b "
    printf 'round %d %-8s %10.0f req/s  p99 %7.2f ms\n' "$r" "$name" "$a" "$b"
  done
  order=("${order[@]:1}" "${order[0]}")
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
declare -A mr mp
for name in gateway ingress nginx; do
  mr[$name]=$(echo "${rps[$name]}" | median)
  mp[$name]=$(echo "${p99[$name]}" | median)
done
echo "== medians over $runs rounds ($secs s, $conns connections, wrk -t2)"
for name in gateway ingress nginx; do
  printf '%-8s %10.0f req/s  p99 %7.2f ms  req/s ratio %.2f  p99 ratio %.2f\n' "$name" "${mr[$name]}" "${mp[$name]}" \
    "$(awk -v a="${mr[$name]}" -v b="${mr[nginx]}" 'BEGIN{print a/b}')" "$(awk -v a="${mp[$name]}" -v b="${mp[nginx]}" 'BEGIN{print a/b}')"
done
printf '{"runs":%d,"seconds":%d,"connections":%d,"gateway_rps":%s,"gateway_p99_ms":%s,"ingress_rps":%s,"ingress_p99_ms":%s,"nginx_rps":%s,"nginx_p99_ms":%s}\n' \
  "$runs" "$secs" "$conns" "${mr[gateway]}" "${mp[gateway]}" "${mr[ingress]}" "${mp[ingress]}" "${mr[nginx]}" "${mp[nginx]}"
