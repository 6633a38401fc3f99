// Load (issue 10 §4) on a short budget: 64 concurrent clients for a few seconds against
// the built Worker on R2 and on S3 (SeaweedFS), mixing uploads, downloads, lists,
// updates and deletes on shared records (scripts/bench/load.mjs); then the consistency
// check on the backend itself. Every answer must be one the operation may give under
// races (a record deleted meanwhile is a 404), and the check must find no record naming
// a missing file, no file that no record names, and no file with other bytes than were
// uploaded for it. The figures of a longer run are in BENCHMARKS.md, "Load".
//
//   bash scripts/lib-worker.sh build && node --test tests/worker/load.test.mjs
//   EDGEFS_LOAD_SECONDS=30 node --test tests/worker/load.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runLoad, table } from "../../scripts/bench/load.mjs";
import { startWorker } from "./lib/worker.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const seconds = Number(process.env.EDGEFS_LOAD_SECONDS ?? 5);

for (const backend of ["r2", "s3", "d1"]) {
  test(`64 clients for ${seconds} s on ${backend}: only expected answers, and the storage is consistent after`, async (t) => {
    // The object store's list limit (40 on S3) is for Cloudflare's subrequest budget,
    // which Miniflare does not enforce; the load lists a collection that grows past it.
    const target = await startWorker(root, backend, { bindings: { RECORDS_LIST_LIMIT: "0" } });
    try {
      const result = await runLoad(target, { clients: 64, seconds });
      t.diagnostic(table(result).split("\n")[0]);
      assert.ok(result.requests > 64, `only ${result.requests} requests were made`);
      assert.deepEqual(result.unexpected, [], "answers no operation should give");
      assert.deepEqual(result.check.problems, [], "the storage is inconsistent");
    } finally {
      await target.stop();
    }
  });
}
