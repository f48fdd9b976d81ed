#!/usr/bin/env bash
# genlab.sh NAME NODES PODS_PER_NODE [SERVICES]: prints a lab file with NODES workers
# and NODES*PODS_PER_NODE pods serving HTTP on port 80; with SERVICES, the pods are
# labelled app=<their name> and the lab has that many ClusterIP Services, the i-th
# selecting the i-th pod.
set -euo pipefail
name=$1 nodes=$2 per=$3 svcs=${4:-0}
echo "name: $name"
echo "nodes:"
for ((n = 1; n <= nodes; n++)); do echo "  - name: worker-$n"; done
echo "pods:"
for ((n = 1; n <= nodes; n++)); do
  for ((p = 1; p <= per; p++)); do
    if [ "$svcs" -gt 0 ]; then
      echo "  - {name: p-$n-$p, node: worker-$n, labels: {app: p-$n-$p}, ports: [80]}"
    else
      echo "  - {name: p-$n-$p, node: worker-$n, ports: [80]}"
    fi
  done
done
[ "$svcs" -gt 0 ] || exit 0
echo "manifests:"
i=0
for ((n = 1; n <= nodes; n++)); do
  for ((p = 1; p <= per; p++)); do
    [ "$i" -lt "$svcs" ] || break 2
    echo "  - {apiVersion: v1, kind: Service, metadata: {name: s-$n-$p}, spec: {selector: {app: p-$n-$p}, ports: [{port: 80}]}}"
    i=$((i + 1))
  done
done
