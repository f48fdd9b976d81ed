#!/usr/bin/env bash
# genlab.sh NAME NODES PODS_PER_NODE: prints a lab file with NODES workers and
# NODES*PODS_PER_NODE pods serving HTTP on port 80.
set -euo pipefail
name=$1 nodes=$2 per=$3
echo "name: $name"
echo "nodes:"
for ((n = 1; n <= nodes; n++)); do echo "  - name: worker-$n"; done
echo "pods:"
for ((n = 1; n <= nodes; n++)); do
  for ((p = 1; p <= per; p++)); do echo "  - {name: p-$n-$p, node: worker-$n, ports: [80]}"; done
done
