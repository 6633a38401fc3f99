#!/usr/bin/env bash
# Builds the Cloudflare Worker into build/ with worker-build 0.8.7: build/index.js (the
# entry module, wrangler's `main`) and build/index_bg.wasm.
#
#   bash scripts/lib-worker.sh build     # what wrangler.toml's [build] command runs
#   bash scripts/lib-worker.sh size      # the wasm's size, raw and gzip
#   bash scripts/lib-worker.sh size-gate # fails when the built wasm is over 400 KiB gzip
#   bash scripts/lib-worker.sh size-report [N] [regexp]
#                                        # where the wasm's code goes, per crate and
#                                        # the N largest functions (names matching
#                                        # regexp): a release build that keeps its
#                                        # names, in target/size-report/
#   bash scripts/lib-worker.sh build-example  # examples/workers-rs (a workers-rs Worker
#                                        # using edgefs as libraries) into
#                                        # target/example-workers-rs/
#   bash scripts/lib-worker.sh build-tests  # the test build (feature `workerd-tests`:
#                                        # the storage conformance route) into
#                                        # target/workerd-tests/, never into build/
#   source scripts/lib-worker.sh         # then: edgefs_build_worker
#                                        # (or edgefs_build_test_worker)
#
# worker-build downloads wasm-bindgen, wasm-opt and esbuild from GitHub unless told
# where they are (TOOLCHAIN.md), so this points it at the pinned ones: the wasm-bindgen
# CLI at exactly Cargo.lock's version (~/.cargo/bin) and npm's binaryen and esbuild.
# worker-build also insists on the `worker` crate in Cargo.lock: the workspace's
# workers-rs example (examples/workers-rs) depends on it for real; the edgefs Worker
# itself is bound with plain wasm-bindgen and never compiles it.
#
# Environment: EDGEFS_WORKER_PROFILE=dev builds without optimizations.

# shellcheck source=scripts/lib-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-env.sh"

WORKER_BUILD_VERSION=0.8.7

edgefs_build_worker() {
  local target
  target=$(edgefs_target_dir)
  mkdir -p "$target" || return 1
  (
    flock -w 1800 9 || edgefs_die "another Worker build holds $target/edgefs-worker.lock"
    _edgefs_build_worker_locked
  ) 9>"$target/edgefs-worker.lock"
}

# The test build: the same Worker with the `workerd-tests` feature, unoptimized, into
# target/workerd-tests/ (index.js + index_bg.wasm) so build/ only ever holds the
# shipped Worker.
edgefs_build_test_worker() {
  local target
  target=$(edgefs_target_dir)
  mkdir -p "$target" || return 1
  (
    flock -w 1800 9 || edgefs_die "another Worker build holds $target/edgefs-worker.lock"
    EDGEFS_WORKER_PROFILE=dev EDGEFS_WORKER_OUT=target/workerd-tests \
      EDGEFS_WORKER_FEATURES=workerd-tests _edgefs_build_worker_locked
  ) 9>"$target/edgefs-worker.lock"
}

# The workers-rs example, unoptimized, into target/example-workers-rs/.
edgefs_build_example_worker() {
  local target
  target=$(edgefs_target_dir)
  mkdir -p "$target" || return 1
  (
    flock -w 1800 9 || edgefs_die "another Worker build holds $target/edgefs-worker.lock"
    EDGEFS_WORKER_PROFILE=dev EDGEFS_WORKER_OUT=target/example-workers-rs \
      EDGEFS_WORKER_CRATE=examples/workers-rs _edgefs_build_worker_locked
  ) 9>"$target/edgefs-worker.lock"
}

_edgefs_build_worker_locked() {
  local root=$EDGEFS_ROOT want have out=${EDGEFS_WORKER_OUT:-build} crate=${EDGEFS_WORKER_CRATE:-crates/worker} extra=()
  [ -n "${EDGEFS_WORKER_FEATURES:-}" ] && extra=(--features "$EDGEFS_WORKER_FEATURES")
  want=$(edgefs_lock_version wasm-bindgen)
  [ -n "$want" ] || edgefs_die "no wasm-bindgen in Cargo.lock"
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')
  [ "$have" = "$want" ] ||
    edgefs_die "wasm-bindgen CLI ${have:-missing}, Cargo.lock wants $want: run scripts/install.sh wasm-bindgen"
  worker-build --version 2>/dev/null | grep -qwF "$WORKER_BUILD_VERSION" ||
    edgefs_die "worker-build $WORKER_BUILD_VERSION missing: run scripts/install.sh worker-build"
  local esbuild=$root/node_modules/@esbuild/linux-x64/bin/esbuild wasm_opt=$root/node_modules/.bin/wasm-opt
  [ -x "$esbuild" ] || edgefs_die "esbuild missing: run scripts/install.sh npm"
  [ -x "$wasm_opt" ] || edgefs_die "wasm-opt missing: run scripts/install.sh npm"

  local mode=--release
  [ "${EDGEFS_WORKER_PROFILE:-release}" = dev ] && mode=--dev
  edgefs_say "worker: worker-build $mode -> $out/ ${extra[*]} (wasm-bindgen $want, npm wasm-opt and esbuild)"
  (cd "$root/$crate" &&
    WASM_BINDGEN_BIN=$(command -v wasm-bindgen) WASM_OPT_BIN=$wasm_opt ESBUILD_BIN=$esbuild \
      worker-build "$mode" --out-dir "$root/$out" . "${extra[@]}") || return 1
  [ -f "$root/$out/index.js" ] && [ -f "$root/$out/index_bg.wasm" ] ||
    edgefs_die "worker-build wrote no $out/index.js and $out/index_bg.wasm"
  [ "$out" = build ] || return 0
  edgefs_worker_size
}

edgefs_worker_size() {
  local wasm=$EDGEFS_ROOT/build/index_bg.wasm raw gz
  [ -f "$wasm" ] || return 1
  raw=$(wc -c <"$wasm")
  gz=$(gzip -9 -c "$wasm" | wc -c)
  printf 'worker wasm: %s bytes (%s KiB) raw, %s bytes (%s KiB) gzip\n' \
    "$raw" $(( (raw + 512) / 1024 )) "$gz" $(( (gz + 512) / 1024 ))
}

# The size gate: the shipped wasm must stay under 400 KiB gzip (the free plan allows
# 3 MiB compressed; the margin is for the JavaScript and for what comes next).
EDGEFS_WORKER_GZIP_LIMIT=$((400 * 1024))

edgefs_worker_size_gate() {
  local wasm=$EDGEFS_ROOT/build/index_bg.wasm gz
  [ -f "$wasm" ] || edgefs_die "no build/index_bg.wasm: run bash scripts/lib-worker.sh build"
  edgefs_worker_size
  gz=$(gzip -9 -c "$wasm" | wc -c)
  if [ "$gz" -gt "$EDGEFS_WORKER_GZIP_LIMIT" ]; then
    printf 'size gate: the Worker wasm is %s KiB gzip, over %s KiB\nsize gate: 0 passed, 1 failed\n' \
      $(( (gz + 512) / 1024 )) $((EDGEFS_WORKER_GZIP_LIMIT / 1024))
    return 1
  fi
  printf 'size gate: %s KiB gzip is under %s KiB\nsize gate: 1 passed, 0 failed\n' \
    $(( (gz + 512) / 1024 )) $((EDGEFS_WORKER_GZIP_LIMIT / 1024))
}

# The shipped Worker's code, but with function names kept through wasm-bindgen and
# wasm-opt, so that scripts/wasm-size.mjs can say where the bytes go. (Its code
# section matches the shipped one within a few hundred bytes.)
edgefs_worker_size_report() {
  local root=$EDGEFS_ROOT out target
  target=$(edgefs_target_dir)/size-report
  out=$target/out
  (cd "$root" && CARGO_PROFILE_RELEASE_STRIP=false cargo build --release --target wasm32-unknown-unknown \
    -p edgefs-worker --target-dir "$target" --quiet) || return 1
  rm -rf "$out" && mkdir -p "$out" || return 1
  wasm-bindgen --keep-debug --target bundler --out-dir "$out" \
    "$target/wasm32-unknown-unknown/release/edgefs_worker.wasm" || return 1
  "$root/node_modules/.bin/wasm-opt" -Oz -g --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$out/edgefs_worker_bg.wasm" -o "$out/named.wasm" || return 1
  node "$root/scripts/wasm-size.mjs" "$out/named.wasm" "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case ${1:-build} in
    build) edgefs_build_worker ;;
    build-tests) edgefs_build_test_worker ;;
    build-example) edgefs_build_example_worker ;;
    size) edgefs_worker_size ;;
    size-gate) edgefs_worker_size_gate ;;
    size-report) shift; edgefs_worker_size_report "$@" ;;
    *) edgefs_die "usage: $0 [build|build-tests|build-example|size|size-gate|size-report [N] [regexp]]" ;;
  esac
fi
