#!/usr/bin/env bash
# Runs the S3 client in headless Chromium against a local SeaweedFS (tests/browser.rs,
# driven by tests/browser_runner.rs). Needs wasm-pack, chromium and chromedriver, and
# weed: scripts/install.sh installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
EDGEFS_BROWSER_TESTS=1 exec cargo test --test browser_runner "$@"
