#!/usr/bin/env bash
# Runs the edgefs Worker locally with wrangler: http://127.0.0.1:${PORT:-8787}/api/health,
# and its admin page at http://127.0.0.1:${PORT:-8787}/_/
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

# Local secrets (git-ignored): made once with a random AUTH_SECRET and superuser; the
# superuser's e-mail and password are printed on every start.
if [ ! -f .dev.vars ]; then
  random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
  (
    umask 077
    {
      echo "# Made by scripts/dev.sh for wrangler dev; never commit it (.gitignore has it)."
      echo "AUTH_SECRET=$(random_hex 32)"
      echo "SUPERUSER_EMAIL=admin@edgefs.local"
      echo "SUPERUSER_PASSWORD=$(random_hex 12)"
    } >.dev.vars
  )
  edgefs_say "dev: wrote .dev.vars (a random AUTH_SECRET and a superuser)"
fi
superuser_email=$(sed -n 's/^SUPERUSER_EMAIL=//p' .dev.vars | tail -n1)
superuser_password=$(sed -n 's/^SUPERUSER_PASSWORD=//p' .dev.vars | tail -n1)
edgefs_say "dev: superuser ${superuser_email:-(none)} / ${superuser_password:-(none)} (from .dev.vars)"
edgefs_say "dev: admin page http://127.0.0.1:${PORT:-8787}/_/ (sign in as that superuser)"

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
