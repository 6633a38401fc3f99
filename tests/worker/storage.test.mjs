// The storage conformance suite (src/storage/conformance.rs) inside workerd, against
// Miniflare's in-memory KV namespace (binding STORAGE) and R2 bucket (binding BUCKET).
// It needs the test build of the Worker (feature `workerd-tests`), whose route
// `/_test/conformance?backend=kv|r2` runs the suite and answers its outcomes as JSON:
//
//   bash scripts/lib-worker.sh build-tests && node --test tests/worker/storage.test.mjs
//
// One node test per check per backend, so a failure is visible by name. The shipped
// build (build/index.js) must not have the route: checked too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { workerModules } from "./lib/worker.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const testEntry = `${root}target/workerd-tests/index.js`;
const shippedEntry = `${root}build/index.js`;

function miniflare(scriptPath) {
  return new Miniflare({
    ...workerModules(root, scriptPath),
    kvNamespaces: ["STORAGE"],
    r2Buckets: ["BUCKET"],
  });
}

// The suite runs once per backend before the tests are declared: their names come
// from the Worker's answer.
const results = {};
let setupError;
if (!existsSync(testEntry)) {
  setupError = new Error(`${testEntry} is missing: run bash scripts/lib-worker.sh build-tests`);
} else {
  const mf = miniflare(testEntry);
  try {
    for (const backend of ["kv", "r2"]) {
      const response = await mf.dispatchFetch(`http://localhost/_test/conformance?backend=${backend}`);
      const text = await response.text();
      if (response.status !== 200) throw new Error(`${backend}: ${response.status} ${text}`);
      results[backend] = JSON.parse(text);
    }
  } catch (error) {
    setupError = error;
  } finally {
    await mf.dispose();
  }
}

if (setupError) {
  test("the storage conformance suite runs inside workerd", () => {
    throw setupError;
  });
} else {
  for (const [backend, outcomes] of Object.entries(results)) {
    test(`${backend}: the suite ran its checks`, () => {
      assert.ok(outcomes.length >= 12, `only ${outcomes.length} outcomes`);
    });
    for (const { name, ok, error } of outcomes) {
      test(`${backend}: ${name}`, () => {
        assert.ok(ok, error ?? "failed");
      });
    }
  }
}

test("the shipped Worker has no test route", async () => {
  assert.ok(existsSync(shippedEntry), `${shippedEntry} is missing: run bash scripts/lib-worker.sh build`);
  const mf = miniflare(shippedEntry);
  try {
    const response = await mf.dispatchFetch("http://localhost/_test/conformance?backend=kv");
    await response.text();
    assert.equal(response.status, 404);
  } finally {
    await mf.dispose();
  }
});
