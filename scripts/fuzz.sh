#!/usr/bin/env bash
# The hostile-bytes run with a fixed budget (issue 10 §3): tests/fuzz.rs's targets (in
# the test profile, so it reuses the test build), EDGEFS_FUZZ_CASES executions each
# (default 200000), one at a time; prints one line per target (`fuzz <target>: N
# executions in S s, 0 crashes`). The test command runs the same targets with 1000
# executions each.
#
#   bash scripts/fuzz.sh            # 200000 per target
#   EDGEFS_FUZZ_CASES=1000000 bash scripts/fuzz.sh
# shellcheck source=scripts/lib-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-env.sh"
cd "$EDGEFS_ROOT" || exit 1
export EDGEFS_FUZZ_CASES=${EDGEFS_FUZZ_CASES:-200000}
cargo test --test fuzz -- --nocapture --test-threads 1 2>&1 | grep -E '^(test .* )?fuzz |test result|panicked|minimal failing'
