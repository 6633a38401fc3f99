#!/usr/bin/env bash
# Builds the WebAssembly component (wit/'s `edgefs:storage` world) for wasm32-wasip2 and
# checks it with wasm-tools; ends with `component build: N passed, M failed`.
#
#   bash scripts/lib-component.sh build    # build and check target/wasm32-wasip2/release/edgefs_component.wasm
#   bash scripts/lib-component.sh size     # the component's size, raw and gzip
#   source scripts/lib-component.sh        # then: edgefs_build_component
#
# The checks: the WIT package parses; the build; the component validates; `wasm-tools
# component wit` on it shows the edgefs:storage interface exported and wasi:http
# imported; it targets the `edgefs:storage/edgefs` world (imports nothing the world does
# not declare); no tokio (nor mio) in its dependency tree. The host tests
# (tests/component_host.rs, in `cargo test`) load the same file into wasmtime.

# shellcheck source=scripts/lib-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-env.sh"

EDGEFS_COMPONENT_BUILD=(--release --target wasm32-wasip2 -p edgefs-component)

edgefs_component_path() {
  printf '%s/wasm32-wasip2/release/edgefs_component.wasm\n' "$(edgefs_target_dir)"
}

edgefs_build_component() {
  local root=$EDGEFS_ROOT wasm passed=0 failed=0 log
  wasm=$(edgefs_component_path)
  log=$(mktemp "${TMPDIR:-/tmp}/edgefs-component.XXXXXX")
  command -v wasm-tools >/dev/null 2>&1 || edgefs_die "wasm-tools missing: run scripts/install.sh wasm-tools"

  # check <name> <command…>: runs it quietly, shows its output only when it fails.
  check() {
    local name=$1
    shift
    if "$@" >"$log" 2>&1; then
      printf 'ok     %s\n' "$name"
      passed=$((passed + 1))
    else
      printf 'FAIL   %s\n' "$name"
      sed 's/^/       /' "$log" | tail -40
      failed=$((failed + 1))
    fi
  }
  wit_shows_world() {
    local wit
    wit=$(wasm-tools component wit "$wasm") || return 1
    if grep -qF 'export edgefs:storage/storage@0.1.0;' <<<"$wit" &&
      grep -qF 'package edgefs:storage@0.1.0' <<<"$wit" &&
      grep -qF 'import wasi:http/outgoing-handler@0.2.12;' <<<"$wit"; then
      return 0
    fi
    printf '%s\n' "$wit" | head -40
    return 1
  }
  build() { (cd "$root" && cargo build "${EDGEFS_COMPONENT_BUILD[@]}"); }
  no_tokio() {
    local tree
    tree=$(cd "$root" && cargo tree -e normal --prefix none "${EDGEFS_COMPONENT_BUILD[@]:1}") || return 1
    ! grep -E '^(tokio|mio|async-std|smol)( |$)' <<<"$tree"
  }

  check "the WIT package parses (wasm-tools component wit wit/)" wasm-tools component wit "$root/wit"
  check "cargo build ${EDGEFS_COMPONENT_BUILD[*]}" build
  check "the component validates (wasm-tools validate)" wasm-tools validate "$wasm"
  check "wasm-tools component wit shows edgefs:storage exported, wasi:http imported" wit_shows_world
  check "it targets the edgefs:storage/edgefs world" \
    wasm-tools component targets "$root/wit" --world edgefs:storage/edgefs "$wasm"
  check "no tokio in the wasm32-wasip2 dependency tree" no_tokio
  rm -f "$log"
  edgefs_component_size || true
  printf 'component build: %d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}

edgefs_component_size() {
  local wasm raw gz
  wasm=$(edgefs_component_path)
  [ -f "$wasm" ] || return 1
  raw=$(wc -c <"$wasm")
  gz=$(gzip -9 -c "$wasm" | wc -c)
  printf 'component wasm: %s bytes (%s KiB) raw, %s bytes (%s KiB) gzip\n' \
    "$raw" $(( (raw + 512) / 1024 )) "$gz" $(( (gz + 512) / 1024 ))
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  case ${1:-build} in
    build) edgefs_build_component ;;
    size) edgefs_component_size ;;
    *) edgefs_die "usage: $0 [build|size]" ;;
  esac
fi
