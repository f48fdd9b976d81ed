#!/usr/bin/env bash
# Peer benchmark: Mininet builds and starts N hosts (default 1000) on one Linux
# bridge (`lxbr`, mininet.nodelib.LinuxBridge), no controller, and stops them.
# Prints one JSON line on stdout:
#   {"peer":"mininet","hosts":N,"build_start_s":X,"stop_s":Y,"ping_ok":true,...}
#
#   usage: scripts/bench/mininet.sh [N] [--no-ping] [--verbose] [--dump-neigh]   (as root)
#   env:   MININET_BENCH_TIMEOUT  seconds before the run is killed (default 900)
#          MININET_BENCH_NEIGH    auto (default) | off: raise the global neighbour
#                                 table limits for the run (see below)
#
# Safety:
#  * Everything Mininet does runs inside `unshare --net --mount --pid --fork
#    --kill-child --mount-proc`: its bridge and switch-side veths live in a
#    private network namespace, each host in a network namespace of its own
#    held only by its shell, and all its processes in a private PID namespace
#    whose PID 1 is the Python script. When that ends (also on timeout:
#    --kill-child SIGKILLs it) the kernel kills every process of the run, and
#    with them all its namespaces, links and the bridge go. Nothing is made in
#    the root network namespace (no `ip netns add`, no bind mounts).
#  * mininet_hosts.py replaces Mininet's machine-wide cleanup (mn -c: killall /
#    pkill by name, rm /tmp/*.log, ...) and its global sysctl tweaks with no-ops.
#    Never run `mn -c` on this machine.
#  * openvswitch is neither installed nor started (apt --no-install-recommends).
#  * The only change to the machine outside the namespaces is the global
#    neighbour-table limits (net.ipv{4,6}.neigh.default.gc_thresh{1,2,3} are
#    shared by all network namespaces). They are raised only when N hosts
#    would overflow them, printed, and restored on exit.
#  * The root namespace's `ip netns list` / `ip link` are compared before and
#    after; any difference is printed as a warning.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
N=1000
PYARGS=()
for a in "$@"; do
  case "$a" in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    --*) PYARGS+=("$a") ;;
    *) N="$a" ;;
  esac
done
[[ "$N" =~ ^[0-9]+$ ]] && (( N >= 1 && N <= 4000 )) || { echo "mininet.sh: N must be 1..4000" >&2; exit 2; }
TIMEOUT="${MININET_BENCH_TIMEOUT:-900}"
NEIGH="${MININET_BENCH_NEIGH:-auto}"
PY=/usr/bin/python3   # Debian's python: the mininet package lives in its dist-packages

log() { echo "[mininet.sh] $*" >&2; }
[[ $(id -u) == 0 ]] || { echo "mininet.sh: must run as root" >&2; exit 2; }

# --- 1. dependencies (no openvswitch) ----------------------------------------
need_install() {
  ! "$PY" -c 'import mininet.net, mininet.nodelib' 2>/dev/null ||
  ! command -v mnexec >/dev/null || ! command -v brctl >/dev/null ||
  ! command -v ping >/dev/null || ! command -v ifconfig >/dev/null ||
  ! command -v ip >/dev/null || ! command -v unshare >/dev/null
}
if need_install; then
  log "installing mininet bridge-utils iputils-ping (no recommends, so no openvswitch)"
  pkgs=(mininet bridge-utils iputils-ping iproute2 net-tools util-linux)
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2 ||
    { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2; }
  need_install && { echo "mininet.sh: dependencies still missing" >&2; exit 1; }
fi

# --- 2. snapshot of the root namespace ---------------------------------------
snapshot() {
  echo "## netns"; ip netns list 2>/dev/null | awk '{print $1}' | sort
  echo "## links"; ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort
}
BEFORE="$(snapshot)"

# --- 3. global neighbour-table limits ----------------------------------------
# The kernel's neighbour tables are global (shared by every network namespace,
# and the limits are writable only from the root one). Past gc_thresh3, when
# garbage collection cannot free enough, new entries fail ("neighbour table
# overflow") -- machine-wide, for everyone. Mininet's own fixLimits() raises
# the IPv4 ones to 4096/8192/16384 and never restores them; here we raise only
# what N needs, print it, and restore the originals at exit (unless someone
# else changed them meanwhile).
declare -A ORIG=() SETTO=()
restore_neigh() {
  local k cur
  for k in "${!SETTO[@]}"; do
    cur="$(sysctl -n "$k")"
    if [[ "$cur" == "${SETTO[$k]}" ]]; then
      sysctl -q -w "$k=${ORIG[$k]}" && log "restored $k=${ORIG[$k]}"
    else
      log "WARNING: $k is now $cur (not our ${SETTO[$k]}): someone else changed it; left as is"
    fi
  done
}
# Sampling of the global neighbour tables (readable from the root namespace
# only) while the run goes: peak entries and "table full" events.
neigh_read() {  # $1 = /proc/net/stat/{arp,ndisc}_cache -> "entries table_fulls"
  local -a cols; local first=1 idx=0 i e="" f=0
  while read -r -a cols; do
    if (( first )); then
      for i in "${!cols[@]}"; do [[ ${cols[$i]} == table_fulls ]] && idx=$i; done
      first=0; continue
    fi
    [[ -z "$e" ]] && e=$(( 16#${cols[0]} ))
    f=$(( f + 16#${cols[$idx]} ))
  done < "$1"
  echo "$e $f"
}
neigh_now() { echo "$(neigh_read /proc/net/stat/arp_cache) $(neigh_read /proc/net/stat/ndisc_cache)"; }
NEIGH_LOG="$(mktemp)"
SAMPLER=""
neigh_report() {  # JSON fields from the samples: peaks and table-full deltas
  awk 'NR==1{a0=$1; af0=$2; n0=$3; nf0=$4}
       {if ($1>am) am=$1; if ($3>nm) nm=$3; af=$2; nf=$4}
       END{printf "\"arp_entries_start_peak\":[%d,%d],\"nd_entries_start_peak\":[%d,%d],\"arp_table_fulls\":%d,\"nd_table_fulls\":%d",
                  a0, am, n0, nm, af-af0, nf-nf0}' "$NEIGH_LOG"
}
# Policy, from measurements here: each Mininet host adds ~6 IPv6 ND entries
# (NOARP entries for ff02::16 MLD reports, ff02::2 router solicitations and
# ff02::1:ffXX:XXXX DAD, in its own namespace and on its bridge port; at
# N=1000 the table peaked at ~6,100 entries) but no ARP entries: the only IPv4
# traffic is the ping sample. So for N=1000 the IPv6 table (default 1024) would
# overflow and the ARP table would not. Raise a family's gc_thresh3 (and
# gc_thresh2 to half of it) only when the entries in use now plus the run's
# estimate would pass it.
plan_neigh() {  # $1 family, $2 entries in use now, $3 entries the run adds
  local fam=$1 need=$(( $2 + $3 + 256 )) k2 k3 cur2 cur3 to3
  k2="net.$fam.neigh.default.gc_thresh2"; k3="net.$fam.neigh.default.gc_thresh3"
  cur2="$(sysctl -n "$k2")"; cur3="$(sysctl -n "$k3")"
  if (( need > cur3 )); then
    to3=$(( (need + 1023) / 1024 * 1024 ))
    ORIG[$k3]="$cur3"; SETTO[$k3]="$to3"
    if (( cur2 < to3 / 2 )); then ORIG[$k2]="$cur2"; SETTO[$k2]=$(( to3 / 2 )); fi
  else
    log "$fam neighbour table: ~$2 entries in use + ~$3 for the run fits gc_thresh3=$cur3: unchanged"
  fi
}
if [[ "$NEIGH" == auto ]]; then
  read -r arp_now _ nd_now _ <<<"$(neigh_now)"
  plan_neigh ipv4 "$arp_now" 16
  plan_neigh ipv6 "$nd_now" $(( 7 * N ))
fi
SUMMARY=""
cleanup() {
  local rc=$?
  set +e
  if [[ -n "$SAMPLER" ]]; then kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; fi
  neigh_now >>"$NEIGH_LOG"
  if [[ -n "$SUMMARY" ]]; then
    local extra; extra="$(neigh_report)"
    SUMMARY="${SUMMARY%\}},$extra}"
    if [[ "$extra" =~ \"arp_table_fulls\":([0-9]+),\"nd_table_fulls\":([0-9]+) ]] &&
       (( BASH_REMATCH[1] + BASH_REMATCH[2] > 0 )); then
      log "WARNING: a global neighbour table was full during the run (arp ${BASH_REMATCH[1]}, nd ${BASH_REMATCH[2]} times; may include other activity)"
    fi
  fi
  rm -f "$NEIGH_LOG"
  restore_neigh
  local after d ours; after="$(snapshot)"
  if [[ "$after" != "$BEFORE" ]]; then
    d="$(diff <(echo "$BEFORE") <(echo "$after") | grep '^[<>]')"
    ours="$(grep -E '^> (s1|s1-eth[0-9]+|h[0-9]+-eth[0-9]+)$' <<<"$d")"
    if [[ -n "$ours" ]]; then
      log "WARNING: root namespace has Mininet-named links after the run:"; echo "$ours" >&2
    fi
    log "WARNING: root namespace differs after the run ('<' gone, '>' new; names other than s1, s1-ethN, hN-ethN are not Mininet's: other activity on the machine):"
    echo "$d" >&2
  else
    log "root namespace unchanged (ip netns list, ip link)"
  fi
  [[ -n "$SUMMARY" ]] && echo "$SUMMARY"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for k in "${!SETTO[@]}"; do
  sysctl -q -w "$k=${SETTO[$k]}" && log "raised $k ${ORIG[$k]} -> ${SETTO[$k]} for the run"
done

# --- 4. run inside private net/mount/pid namespaces ---------------------------
MININET_BENCH_ROOT_NETNS="$(readlink /proc/self/ns/net)"
MININET_BENCH_ROOT_MNTNS="$(readlink /proc/self/ns/mnt)"
export MININET_BENCH_ROOT_NETNS MININET_BENCH_ROOT_MNTNS
log "N=$N timeout=${TIMEOUT}s"
neigh_now >>"$NEIGH_LOG"
( while sleep 1; do neigh_now >>"$NEIGH_LOG"; done ) &
SAMPLER=$!
OUT="$(mktemp)"
set +e
# Prelude inside the namespaces: in the new mount namespace (propagation
# private) a sysfs of our own network namespace, so /sys/class/net shows our
# devices; and, in our network namespace only (these sysctls are per
# namespace), no iptables on bridged traffic, as Mininet's LinuxBridge asks.
PRELUDE='set -e; mount -t sysfs sysfs /sys; ip link set lo up
  for f in /proc/sys/net/bridge/bridge-nf-call-arptables \
           /proc/sys/net/bridge/bridge-nf-call-iptables \
           /proc/sys/net/bridge/bridge-nf-call-ip6tables; do
    if [ -w "$f" ]; then echo 0 > "$f"; fi
  done
  exec "$0" "$@"'
timeout -k 30 "$TIMEOUT" \
  unshare --net --mount --pid --fork --kill-child --mount-proc --propagation private \
  /bin/sh -c "$PRELUDE" \
  "$PY" "$HERE/mininet_hosts.py" "$N" "${PYARGS[@]}" >"$OUT"
RC=$?
set -e
SUMMARY="$(grep '^{' "$OUT" | tail -n 1 || true)"
rm -f "$OUT"
if (( RC == 124 || RC == 137 )); then
  log "ERROR: timed out after ${TIMEOUT}s"
  SUMMARY="{\"peer\":\"mininet\",\"hosts\":$N,\"error\":\"timeout after ${TIMEOUT}s\"}"
elif [[ -z "$SUMMARY" ]]; then
  log "ERROR: no result (exit $RC)"
  SUMMARY="{\"peer\":\"mininet\",\"hosts\":$N,\"error\":\"exit $RC, no result\"}"
fi
exit "$RC"
