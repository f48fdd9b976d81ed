# Sourced by the deploy benchmarks. The kernel frees a destroyed lab's namespaces in
# the background: settle waits until the machine is idle again (over 85% idle for a
# second, at most a minute) so runs do not slow each other down.
idle_pct() {
  local a b ai bi a1 a2 a3 a4 a5 a6 a7 b1 b2 b3 b4 b5 b6 b7
  read -r _ a1 a2 a3 a4 a5 a6 a7 _ < /proc/stat; a=$((a1 + a2 + a3 + a4 + a5 + a6 + a7)); ai=$a4
  sleep 1
  read -r _ b1 b2 b3 b4 b5 b6 b7 _ < /proc/stat; b=$((b1 + b2 + b3 + b4 + b5 + b6 + b7)); bi=$b4
  echo $(( (bi - ai) * 100 / (b - a + 1) ))
}
settle() {
  for _ in $(seq 1 60); do [ "$(idle_pct)" -ge 85 ] && return; done
  echo "warning: the machine did not go idle" >&2
}
