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
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH=$PATH:/usr/local/go/bin
go version
gofmt_out=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$gofmt_out" ]; then
  echo "gofmt would change:"; echo "$gofmt_out"; exit 1
fi
go vet ./...
go test -count=1 -timeout 25m "$@" ./...
