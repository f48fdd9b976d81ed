#!/usr/bin/env bash
# podlab's test command: installs what the tests need on a fresh Debian machine, then
# runs every test (unit tests without root, integration tests with real namespaces as
# root). Usage: sudo scripts/test.sh [go test flags...]
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v nft >/dev/null || need+=(nftables)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v ip >/dev/null || need+=(iproute2)
command -v setpriv >/dev/null || need+=(util-linux)
command -v tmux >/dev/null || need+=(tmux)
# The cluster DNS tests ask with dig and nslookup, as the Kubernetes docs do.
command -v dig >/dev/null || need+=(bind9-dnsutils)
# The ingress and gateway tests send their requests with curl from a lab host.
command -v curl >/dev/null || need+=(curl)
# The Docker runtime's tests need an engine (Debian's docker.io) and a static busybox
# for podlab's images.
command -v dockerd >/dev/null || need+=(docker.io)
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the package from starting dockerd with its defaults, which edit the host's
  # firewall: a policy-rc.d that refuses service starts, only for this install.
  norc=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && norc=1
  fi
  rc=0
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null || rc=$?
  [ -z "$norc" ] || rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || exit "$rc"
fi
# Start a Docker engine when none answers, so that it never touches the host's
# firewall, forwarding or bridges; stop only the dockerd started here, by its PID.
dockerd_pid=
if ! timeout 10 docker info >/dev/null 2>&1; then
  dockerd --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none >/tmp/podlab-test-dockerd.log 2>&1 &
  dockerd_pid=$!
  trap 'kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 60); do timeout 5 docker info >/dev/null 2>&1 && break; sleep 0.5; done
  timeout 5 docker info >/dev/null 2>&1 || echo "warning: dockerd did not answer; the Docker runtime's tests will skip (see /tmp/podlab-test-dockerd.log)"
fi
export PATH=$PATH:/usr/local/go/bin
go version
gofmt_out=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$gofmt_out" ]; then
  echo "gofmt would change:"; echo "$gofmt_out"; exit 1
fi
go vet ./...
go test -count=1 -timeout 25m "$@" ./...
# A short fuzzing run of the DNS handlers: malformed and oversized queries must neither
# crash nor block them (the seeds and any crasher found land in testdata/fuzz).
if [ $# -eq 0 ]; then
  for target in FuzzAnswer FuzzServe FuzzAuthority; do
    if grep -q "func $target" cluster/dns/*_test.go; then
      go test -run '^$' -fuzz "^$target\$" -fuzztime 10s ./cluster/dns/
    fi
  done
fi
