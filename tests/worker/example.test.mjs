// The workers-rs example (examples/workers-rs): a Worker written with the `worker`
// crate (`#[event(fetch)]`, `Env`, `Router`) that uses edgefs-s3 and edgefs's storage
// façade as libraries, built by worker-build and run under Miniflare's workerd against a
// signature-checking SeaweedFS and a local R2 bucket.
//
//   bash scripts/lib-worker.sh build-example
//   source scripts/lib-env.sh && node --test tests/worker/example.test.mjs
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { s3Variables, startSeaweedFs } from "./lib/seaweedfs.mjs";
import { workerModules } from "./lib/worker.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const entry = join(root, "target/example-workers-rs/index.js");

describe("the workers-rs example Worker", () => {
  let seaweed;
  let mf;
  let url;
  const object = randomBytes(3 * 1024 * 1024 + 17);
  const key = "photos/cat.bin";

  before(async () => {
    assert.ok(existsSync(entry), `${entry} is missing: run bash scripts/lib-worker.sh build-example`);
    seaweed = await startSeaweedFs("edgefs-example");
    const put = await seaweed.fetch(`/${seaweed.bucket}/${key}`, { method: "PUT", body: object });
    assert.equal(put.status, 200, await put.text());
    mf = new Miniflare({
      ...workerModules(root, entry),
      r2Buckets: ["BUCKET"],
      bindings: s3Variables(seaweed),
      host: "127.0.0.1",
      port: 0,
    });
    url = String(await mf.ready).replace(/\/$/, "");
  });

  after(async () => {
    await mf?.dispose();
    await seaweed?.stop();
  });

  test("GET /presign/*key answers a URL that SeaweedFS serves the object at", async () => {
    const res = await fetch(`${url}/presign/${key}`);
    assert.equal(res.status, 200);
    const presigned = await res.text();
    assert.match(presigned, /X-Amz-Signature=[0-9a-f]{64}/);
    assert.ok(presigned.startsWith(seaweed.endpoint), presigned);
    assert.ok(!presigned.includes(seaweed.secretKey), "the secret is not in the URL");
    const direct = await fetch(presigned);
    assert.equal(direct.status, 200);
    assert.ok(Buffer.from(await direct.arrayBuffer()).equals(object), "the presigned URL serves the object");
    const tampered = await fetch(presigned.replace(key, "photos/dog.bin"));
    await tampered.arrayBuffer();
    assert.equal(tampered.status, 403, "a URL presigned for another key is refused");
  });

  test("GET /s3/*key streams the object from S3 byte for byte, with its length", async () => {
    const res = await fetch(`${url}/s3/${key}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), String(object.length));
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(object));
    const missing = await fetch(`${url}/s3/nothing-here`);
    await missing.arrayBuffer();
    assert.equal(missing.status, 404);
  });

  test("PUT and GET /r2/*key go through edgefs's R2 backend on the Worker's own binding", async () => {
    const data = randomBytes(1024 * 1024 + 3);
    const put = await fetch(`${url}/r2/notes.bin`, { method: "PUT", body: data });
    assert.equal(put.status, 204, await put.text());
    const r2 = await mf.getR2Bucket("BUCKET");
    const stored = await r2.get("notes.bin");
    assert.ok(stored, "the object is in the R2 bucket");
    assert.ok(Buffer.from(await stored.arrayBuffer()).equals(data));
    const res = await fetch(`${url}/r2/notes.bin`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), String(data.length));
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
  });
});
