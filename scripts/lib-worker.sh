#!/usr/bin/env bash
# Builds the Cloudflare Worker into build/: build/index.js (the entry module, wrangler's
# `main`) and build/index_bg.wasm.
#
#   bash scripts/lib-worker.sh build     # what wrangler.toml's [build] command runs
#   source scripts/lib-worker.sh         # then: edgefs_build_worker
#
# This is worker-build 0.8.7's pipeline, step by step, with the tools pinned by this
# repository. worker-build itself cannot be used: before building it requires the
# `worker` crate in Cargo.lock ("Ensure that you have dependency worker@0.8.7"), and
# edgefs does not depend on it (it depends on tokio). The steps, as worker-build 0.8.7
# runs them (src/main.rs, src/build/mod.rs):
#   1. cargo build --lib --release --target wasm32-unknown-unknown
#   2. wasm-bindgen --target module --out-name index --no-typescript
#        --experimental-reset-state-function --force-enable-abort-handler
#      (the wasm-bindgen CLI at exactly Cargo.lock's version, from ~/.cargo/bin)
#   3. wasm-opt with worker-build's feature set and --debuginfo (npm binaryen 132)
#   4. its shim.js, with one handler per exported function (`fetch`), bundled with
#      esbuild (npm) into index.js; `import source` becomes `import`.
# Nothing is downloaded. Outputs are replaced atomically; an unchanged wasm is not
# processed twice.
#
# Environment: EDGEFS_WASM_OPT (default "-Oz"; "off" skips wasm-opt),
# EDGEFS_WORKER_PROFILE (default "release").

# shellcheck source=scripts/lib-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-env.sh"

# The worker-build 0.8.7 shim (src/js/shim.js, MIT/Apache-2.0, cloudflare/workers-rs),
# unchanged; @HANDLERS@ stands for its $HANDLERS.
_edgefs_worker_shim() {
  cat <<'SHIM'
import { WorkerEntrypoint } from "cloudflare:workers";
import * as exports from "./index.js";

Error.stackTraceLimit = 100;
const initState = exports.__worker_init_state();

function checkReinitialize() {
  if (initState.criticalError) {
    console.log("Reinitializing Wasm application");
    exports.__wbg_reset_state();
    initState.criticalError = false;
    initState.instanceId++;
  }
}

addEventListener('error', (e) => {
  handleMaybeCritical(e.error);
});

function handleMaybeCritical(e) {
  if (e instanceof WebAssembly.RuntimeError) {
    console.error('Critical', e);
    initState.criticalError = true;
  }
}

class Entrypoint extends WorkerEntrypoint {}

@HANDLERS@

const instanceProxyHooks = {
  set: (target, prop, value, receiver) => Reflect.set(target.instance, prop, value, receiver),
  has: (target, prop) => Reflect.has(target.instance, prop),
  deleteProperty: (target, prop) => Reflect.deleteProperty(target.instance, prop),
  apply: (target, thisArg, args) => Reflect.apply(target.instance, thisArg, args),
  construct: (target, args, newTarget) => Reflect.construct(target.instance, args, newTarget),
  getPrototypeOf: (target) => Reflect.getPrototypeOf(target.instance),
  setPrototypeOf: (target, proto) => Reflect.setPrototypeOf(target.instance, proto),
  isExtensible: (target) => Reflect.isExtensible(target.instance),
  preventExtensions: (target) => Reflect.preventExtensions(target.instance),
  getOwnPropertyDescriptor: (target, prop) => Reflect.getOwnPropertyDescriptor(target.instance, prop),
  defineProperty: (target, prop, descriptor) => Reflect.defineProperty(target.instance, prop, descriptor),
  ownKeys: (target) => Reflect.ownKeys(target.instance),
};

const classProxyHooks = {
  construct(ctor, args, newTarget) {
    try {
      checkReinitialize();
      const instance = {
        instance: Reflect.construct(ctor, args, newTarget),
        instanceId: initState.instanceId,
        ctor,
        args,
        newTarget
      };
      return new Proxy(instance, {
        ...instanceProxyHooks,
        get(target, prop, receiver) {
          if (target.instanceId !== initState.instanceId) {
            target.instance = Reflect.construct(target.ctor, target.args, target.newTarget);
            target.instanceId = initState.instanceId;
          }
          const original = Reflect.get(target.instance, prop, receiver);
          if (typeof original !== 'function') return original;
          if (original.constructor === Function) {
            return new Proxy(original, {
              apply(target, thisArg, argArray) {
                checkReinitialize();
                try {
                  return target.apply(thisArg, argArray);
                } catch (e) {
                  handleMaybeCritical(e);
                  throw e;
                }
              }
            });
          } else {
            return new Proxy(original, {
              async apply(target, thisArg, argArray) {
                checkReinitialize();
                try {
                  return await target.apply(thisArg, argArray);
                } catch (e) {
                  handleMaybeCritical(e);
                  throw e;
                }
              }
            });
          }
        }
      });
    } catch (e) {
      initState.criticalError = true;
      throw e;
    }
  }
};

export default new Proxy(Entrypoint, classProxyHooks);
SHIM
}

# worker-build's generate_handlers(): one Entrypoint method per exported function of
# the wasm-bindgen module; event handlers get (arg, env, ctx).
_edgefs_worker_handlers() {
  local index_js=$1 name
  { grep -oE '^export (async )?function [A-Za-z_$][A-Za-z0-9_$]*' "$index_js" | awk '{print $NF}' || true
    grep -oE '^export \{ *[A-Za-z_$][A-Za-z0-9_$]* as [A-Za-z_$][A-Za-z0-9_$]* *\}' "$index_js" \
      | sed -E 's/.* as ([A-Za-z0-9_$]+).*/\1/' || true
  } | while read -r name; do
    case $name in
      __wbg_reset_state|__worker_init_state) ;;
      fetch|queue|scheduled|email|connect)
        printf 'Entrypoint.prototype.%s = function %s (arg) {\n  return exports.%s.call(this, arg, this.env, this.ctx);\n}\n' \
          "$name" "$name" "$name" ;;
      *) printf 'Entrypoint.prototype.%s = exports.%s;\n' "$name" "$name" ;;
    esac
  done
}

# worker-build's add_export_wrappers(): exported classes (Durable Objects) behind the
# same re-initialising proxy.
_edgefs_worker_class_exports() {
  { grep -oE '^export class [A-Za-z_$][A-Za-z0-9_$]*' "$1" || true; } | awk '{print $3}' | while read -r name; do
    printf 'export const %s = new Proxy(exports.%s, classProxyHooks);\n' "$name" "$name"
  done
}

# Builds build/ (one build at a time per target directory).
edgefs_build_worker() {
  local target
  target=$(edgefs_target_dir)
  mkdir -p "$target" || return 1
  (
    flock -w 1800 9 || edgefs_die "another Worker build holds $target/edgefs-worker.lock"
    _edgefs_build_worker_locked
  ) 9>"$target/edgefs-worker.lock"
}

_edgefs_build_worker_locked() {
  local root=$EDGEFS_ROOT out=$EDGEFS_ROOT/build
  local profile=${EDGEFS_WORKER_PROFILE:-release}
  local opt=${EDGEFS_WASM_OPT:--Oz}
  local profile_dir=$profile
  [ "$profile" = dev ] && profile_dir=debug

  local want have
  want=$(edgefs_lock_version wasm-bindgen)
  [ -n "$want" ] || edgefs_die "no wasm-bindgen in Cargo.lock"
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')
  [ "$have" = "$want" ] ||
    edgefs_die "wasm-bindgen CLI ${have:-missing}, Cargo.lock wants $want: run scripts/install.sh wasm-bindgen"
  local esbuild=$root/node_modules/@esbuild/linux-x64/bin/esbuild
  [ -x "$esbuild" ] || esbuild=$root/node_modules/.bin/esbuild
  [ -x "$esbuild" ] || edgefs_die "esbuild missing: run scripts/install.sh npm"
  local wasm_opt=$root/node_modules/.bin/wasm-opt
  if [ "$opt" != off ] && [ ! -x "$wasm_opt" ]; then
    edgefs_die "wasm-opt missing: run scripts/install.sh npm"
  fi

  edgefs_say "worker: cargo build --lib --profile $profile --target wasm32-unknown-unknown"
  (cd "$root" && cargo build --lib --profile "$profile" --target wasm32-unknown-unknown) || return 1
  local wasm
  wasm=$(edgefs_target_dir)/wasm32-unknown-unknown/$profile_dir/edgefs.wasm
  [ -f "$wasm" ] || edgefs_die "cargo produced no $wasm"

  # Skip the rest when neither the wasm nor this script nor the flags changed.
  local stamp
  stamp=$( { sha256sum "$wasm" "${BASH_SOURCE[0]}" | awk '{print $1}'; echo "$opt $want"; } | sha256sum | awk '{print $1}')
  if [ -f "$out/index.js" ] && [ -f "$out/index_bg.wasm" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
    edgefs_say "worker: build/ is up to date"
    edgefs_worker_size
    return 0
  fi

  # Staged under target/ (ignored by git), then swapped in.
  local stage old
  stage=$(edgefs_target_dir)/edgefs-worker.tmp
  old=$(edgefs_target_dir)/edgefs-worker.old
  rm -rf "$stage" && mkdir -p "$stage" || return 1
  edgefs_say "worker: wasm-bindgen $want"
  wasm-bindgen "$wasm" --out-dir "$stage" --no-typescript --target module --out-name index \
    --experimental-reset-state-function --force-enable-abort-handler || return 1

  if [ "$opt" != off ]; then
    edgefs_say "worker: wasm-opt $opt"
    # shellcheck disable=SC2086  # $opt may hold several flags
    "$wasm_opt" "$stage/index_bg.wasm" -o "$stage/index_bg.opt.wasm" $opt \
      --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
      --enable-bulk-memory --enable-multivalue --enable-reference-types \
      --enable-exception-handling --debuginfo || return 1
    mv "$stage/index_bg.opt.wasm" "$stage/index_bg.wasm"
  fi

  local handlers
  handlers=$(_edgefs_worker_handlers "$stage/index.js")
  grep -q '^Entrypoint.prototype.fetch ' <<<"$handlers" || edgefs_die "the wasm exports no fetch handler"
  { _edgefs_worker_shim | awk -v handlers="$handlers" '$0 == "@HANDLERS@" { print handlers; next } { print }'
    _edgefs_worker_class_exports "$stage/index.js"
  } >"$stage/shim.js"

  edgefs_say "worker: esbuild"
  (cd "$stage" && "$esbuild" --external:./index_bg.wasm '--external:cloudflare:*' --format=esm --bundle \
    ./shim.js --outfile=index.js --allow-overwrite --minify --log-level=warning) || return 1
  sed -i 's/import source /import /g' "$stage/index.js"
  rm -rf "$stage/shim.js" "$stage/snippets"
  mkdir -p "$stage/worker"
  printf '%s\n' "// Use index.js directly, this file provided for backwards compat" \
    "// with former shim.mjs only." "export * from '../index.js';" "export { default } from '../index.js';" \
    >"$stage/worker/shim.mjs"
  echo "$stamp" >"$stage/.stamp"

  rm -rf "$old"
  if [ -d "$out" ]; then mv "$out" "$old"; fi
  mv "$stage" "$out" && rm -rf "$old"
  edgefs_worker_size
}

# Prints the Worker's wasm size, raw and gzip.
edgefs_worker_size() {
  local wasm=$EDGEFS_ROOT/build/index_bg.wasm raw gz
  [ -f "$wasm" ] || return 1
  raw=$(wc -c <"$wasm")
  gz=$(gzip -9 -c "$wasm" | wc -c)
  printf 'worker wasm: %s bytes (%s KiB) raw, %s bytes (%s KiB) gzip\n' \
    "$raw" $(( (raw + 512) / 1024 )) "$gz" $(( (gz + 512) / 1024 ))
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case ${1:-build} in
    build) edgefs_build_worker ;;
    size) edgefs_worker_size ;;
    *) edgefs_die "usage: $0 [build|size]" ;;
  esac
fi
