#!/usr/bin/env bash
# The test command: installs every tool (scripts/install.sh all), runs every suite —
# continuing past a failing one, each one's output shown — and ends with exactly one
# line `N passed, M failed` (all suites together). Exits non-zero when a test or a
# suite failed.
#
#   bash scripts/test.sh
#
# Suites:
#   lint            scripts/lint.sh: cargo fmt --check and clippy -D warnings on every target
#   component build scripts/lib-component.sh build: the wasm32-wasip2 component, checked
#                   with wasm-tools (its WIT world, validation, no tokio)
#   cargo test      native: unit tests, tests/*.rs (including the S3 servers' tests,
#                   which start SeaweedFS and Garage themselves, and the component's
#                   host tests in wasmtime, tests/component_host.rs), tests/no_tokio.rs
#   browser         scripts/browser-test.sh, when it exists (wasm-pack test --chrome)
#   worker build    scripts/lib-worker.sh build (prints the wasm size)
#   size gate       scripts/lib-worker.sh size-gate: fails above 400 KiB gzip
#   worker test build  scripts/lib-worker.sh build-tests: the Worker with the
#                   `workerd-tests` feature (the storage conformance route) into
#                   target/workerd-tests/
#   example build   scripts/lib-worker.sh build-example: examples/workers-rs (a
#                   workers-rs Worker using edgefs as libraries) into
#                   target/example-workers-rs/
#   worker          node --test tests/worker/*.test.mjs: the built Worker under
#                   Miniflare, the storage conformance suite on KV and R2 inside
#                   workerd (storage.test.mjs, on the test build), and a smoke test
#                   of `scripts/dev.sh` (wrangler dev)
#
# Counting: libtest's `test result: ok. N passed; M failed; …` lines, plain
# `N passed, M failed` lines ending a line (harness = false test binaries), and the
# node test runner's TAP summary (`# pass N`, `# fail M`, `# cancelled C` as failed).
# A suite that exits non-zero without a failure among its counts adds 1 failed.
set -uo pipefail
# shellcheck source=scripts/lib-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-env.sh"
cd "$EDGEFS_ROOT" || exit 1

LOGS=$(mktemp -d "${TMPDIR:-/tmp}/edgefs-test.XXXXXX")
trap 'rm -rf "$LOGS"' EXIT

TOTAL_PASSED=0
TOTAL_FAILED=0
SUITE_FAILED=0
REPORT=()

# Prints "<passed> <failed> <lines counted>" for a suite's output.
count_results() {
  awk '
    /test result: (ok|FAILED)\. [0-9]+ passed; [0-9]+ failed;/ {
      line = $0
      sub(/.*test result: (ok|FAILED)\. /, "", line)
      split(line, f, " ")
      passed += f[1]; failed += f[3] + 0; counted++
      next
    }
    /(^|[^0-9])[0-9]+ passed, [0-9]+ failed[ \t\r]*$/ {
      if (match($0, /[0-9]+ passed, [0-9]+ failed[ \t\r]*$/)) {
        split(substr($0, RSTART, RLENGTH), f, " ")
        passed += f[1]; failed += f[3] + 0; counted++
      }
      next
    }
    /^# pass [0-9]+[ \t\r]*$/ { passed += $3; counted++; next }
    /^# (fail|cancelled) [0-9]+[ \t\r]*$/ { failed += $3; counted++; next }
    END { printf "%d %d %d\n", passed, failed, counted }
  ' "$1"
}

# run_suite <name> <timeout> <command…>: runs it with its output shown and counted.
run_suite() {
  local name=$1 limit=$2 log status passed failed counted note="" started=$SECONDS elapsed
  shift 2
  log=$LOGS/$(tr -c 'a-zA-Z0-9\n' '-' <<<"$name").log
  printf '\n==> %s: %s\n' "$name" "$*"
  timeout -k 30 "$limit" "$@" </dev/null 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  elapsed=$((SECONDS - started))
  read -r passed failed counted < <(count_results "$log")
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    note=" (timed out after $limit)"
  elif [ "$status" -ne 0 ]; then
    note=" (exit status $status)"
  fi
  if [ "$status" -ne 0 ] && [ "$counted" -eq 0 ]; then
    note="$note (no test counts)"
  fi
  if [ "$status" -ne 0 ]; then
    SUITE_FAILED=1
    # A failing command with no failure among its counts is one failure.
    [ "$failed" -gt 0 ] || failed=1
  fi
  TOTAL_PASSED=$((TOTAL_PASSED + passed))
  TOTAL_FAILED=$((TOTAL_FAILED + failed))
  REPORT+=("$(printf '%-14s %5d passed / %d failed%s, %ds' "$name:" "$passed" "$failed" "$note" "$elapsed")")
  printf '<== %s: %d passed / %d failed%s, %ds\n' "$name" "$passed" "$failed" "$note" "$elapsed"
  return "$status"
}

skip_suite() {
  local name=$1 why=$2
  SUITE_FAILED=1
  TOTAL_FAILED=$((TOTAL_FAILED + 1))
  REPORT+=("$(printf '%-14s not run: %s (counted as 1 failed)' "$name:" "$why")")
  printf '\n==> %s: not run: %s\n' "$name" "$why"
}

run_suite install 3600 bash scripts/install.sh all

run_suite lint 1800 bash scripts/lint.sh

run_suite "component build" 900 bash scripts/lib-component.sh build

run_suite "cargo test" 2700 cargo test --no-fail-fast

if [ -f scripts/browser-test.sh ]; then
  run_suite browser 1800 bash scripts/browser-test.sh
fi

# Without the test build, storage.test.mjs fails with a test that says so; without the
# example's, example.test.mjs does.
run_suite "worker test build" 1800 bash scripts/lib-worker.sh build-tests
run_suite "example build" 1800 bash scripts/lib-worker.sh build-example

if run_suite "worker build" 1800 bash scripts/lib-worker.sh build; then
  run_suite "size gate" 60 bash scripts/lib-worker.sh size-gate
  run_suite worker 1200 node --test --test-reporter=tap --test-concurrency=1 'tests/worker/*.test.mjs'
else
  skip_suite worker "the Worker did not build"
fi

printf '\n==> summary (%dm%02ds)\n' $((SECONDS / 60)) $((SECONDS % 60))
printf '%s\n' "${REPORT[@]}"
bash scripts/lib-worker.sh size 2>/dev/null || true
bash scripts/lib-component.sh size 2>/dev/null || true
printf '%d passed, %d failed\n' "$TOTAL_PASSED" "$TOTAL_FAILED"
[ "$TOTAL_FAILED" -eq 0 ] && [ "$SUITE_FAILED" -eq 0 ]
