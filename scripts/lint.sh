#!/usr/bin/env bash
# The checks the code follows by convention, as CI gates: rustfmt, Biome (npm
# @biomejs/biome: lint and format of the JavaScript modules the Rust binds), and clippy with
# every warning an error on each target that builds (native with its tests and
# benches, the Worker and its test build on wasm32-unknown-unknown, the component on
# wasm32-wasip2), rustdoc with missing docs and broken links as errors, and
# `cargo package --list` for the library crates. Ends with `lint: N passed, M failed`.
#
#   bash scripts/lint.sh
# shellcheck source=scripts/lib-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-env.sh"
cd "$EDGEFS_ROOT" || exit 1

passed=0
failed=0
check() {
  local what=$1 output
  shift
  if output=$("$@" 2>&1); then
    passed=$((passed + 1))
    printf 'ok     %s\n' "$what"
  else
    failed=$((failed + 1))
    printf 'FAIL   %s\n' "$what"
    printf '%s\n' "$output" | tail -n 60 | sed 's/^/       /'
  fi
}

check "cargo fmt --check" cargo fmt --all --check
check "biome ci (the JavaScript the Rust binds: src/**/*.js, crates/*/src/**/*.js)" \
  "$EDGEFS_ROOT/node_modules/.bin/biome" ci --no-errors-on-unmatched .
check "clippy, native, all targets (edgefs, edgefs-s3, edgefs-sigv4)" \
  cargo clippy --all-targets --quiet -- -D warnings
check "clippy, edgefs-s3 alone, no features" cargo clippy -p edgefs-s3 --no-default-features --quiet -- -D warnings
check "clippy, the browser build of edgefs (wasm32-unknown-unknown, js)" \
  cargo clippy -p edgefs --lib --quiet --target wasm32-unknown-unknown --no-default-features --features js -- -D warnings
check "clippy, the Worker (wasm32-unknown-unknown)" \
  cargo clippy -p edgefs-worker --quiet --target wasm32-unknown-unknown -- -D warnings
check "clippy, the Worker's test build (wasm32-unknown-unknown)" \
  cargo clippy -p edgefs-worker --quiet --target wasm32-unknown-unknown --features workerd-tests -- -D warnings
check "clippy, the workers-rs example (wasm32-unknown-unknown)" \
  cargo clippy -p edgefs-example-workers-rs --quiet --target wasm32-unknown-unknown -- -D warnings
check "clippy, the component (wasm32-wasip2)" \
  cargo clippy -p edgefs-component --quiet --target wasm32-wasip2 -- -D warnings

check "cargo doc: every public item of the library crates documented, no broken links" \
  env RUSTDOCFLAGS="-D missing_docs -D rustdoc::broken_intra_doc_links" \
  cargo doc --no-deps --quiet -p edgefs-sigv4 -p edgefs-s3 -p edgefs
check "cargo package --list for the library crates" \
  sh -c 'for p in edgefs-sigv4 edgefs-s3 edgefs; do cargo package --list --allow-dirty -p "$p" >/dev/null || exit 1; done'

printf 'lint: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
