#!/usr/bin/env bash
# Runs the edgefs Worker locally with wrangler: http://127.0.0.1:${PORT:-8787}/api/health
#
#   bash scripts/dev.sh               # PORT=8787 by default
#   PORT=9000 bash scripts/dev.sh     # extra arguments go to `wrangler dev`
#
# Installs what the Worker needs first (rust targets, the wasm-bindgen CLI, node_modules;
# quick when present). wrangler.toml's [build] command builds the wasm on start and
# again when src/ changes. Listens on 127.0.0.1 only, sends no metrics and reaches
# nothing outside this machine; state (local KV, R2) goes to a fresh
# .wrangler/dev-state-<pid> directory each run.
set -euo pipefail
# shellcheck source=scripts/lib-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-env.sh"
cd "$EDGEFS_ROOT"

bash scripts/install.sh rust-targets worker-build wasm-bindgen npm

# A fresh state directory per run (stale state from another workerd version has crashed
# it); those of runs that have ended are removed. `exec` keeps this PID for wrangler.
mkdir -p .wrangler
for dir in .wrangler/dev-state-*; do
  [ -d "$dir" ] || continue
  kill -0 "${dir##*-}" 2>/dev/null || rm -rf "$dir"
done
state=.wrangler/dev-state-$$

args=(--ip 127.0.0.1 --port "${PORT:-8787}" --persist-to "$state")
[ -t 0 ] && [ -t 1 ] || args+=(--show-interactive-dev-session=false)
exec wrangler dev "${args[@]}" "$@"
