// The built Worker (build/index.js + build/index_bg.wasm) under Miniflare: the glue
// between the runtime's Request/Response and edgefs::api::handle.
//
//   bash scripts/lib-worker.sh build && node --test tests/worker/
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { workerModules } from "./lib/worker.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const entry = `${root}build/index.js`;

const HEALTH = { message: "API is healthy.", code: 200, data: {} };
const NOT_FOUND = { data: {}, message: "The requested resource wasn't found.", status: 404 };
// PocketBase's answer to a GET that matches none of its routes (its static file server).
const FILE_NOT_FOUND = { data: {}, message: "File not found.", status: 404 };

let mf;

before(async () => {
  assert.ok(existsSync(entry), `${entry} is missing: run bash scripts/lib-worker.sh build`);
  mf = new Miniflare(workerModules(root, entry));
  await mf.ready;
});

after(async () => {
  await mf?.dispose();
});

async function json(response) {
  const text = await response.text();
  return JSON.parse(text);
}

test("GET /api/health answers PocketBase's health JSON", async () => {
  const response = await mf.dispatchFetch("http://localhost/api/health");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.deepEqual(await json(response), HEALTH);
});

test("the health JSON is byte for byte PocketBase's", async () => {
  const response = await mf.dispatchFetch("http://localhost/api/health");
  assert.equal(await response.text(), '{"message":"API is healthy.","code":200,"data":{}}');
  // (Miniflare's dispatchFetch re-encodes answers chunked, so Content-Length is checked
  // through `wrangler dev` in dev.test.mjs.)
});

test("HEAD /api/health is 200 without a body", async () => {
  const response = await mf.dispatchFetch("http://localhost/api/health", { method: "HEAD" });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.equal(await response.text(), "");
});

test("a query string does not change the route", async () => {
  const response = await mf.dispatchFetch("http://localhost/api/health?fields=code&x=%20y");
  assert.equal(response.status, 200);
  assert.deepEqual(await json(response), HEALTH);
});

test("an unknown path is PocketBase's 404 JSON", async () => {
  for (const path of ["/", "/api", "/api/health/", "/api/nope", "/API/health"]) {
    const response = await mf.dispatchFetch(`http://localhost${path}`);
    assert.equal(response.status, 404, path);
    assert.equal(response.headers.get("content-type"), "application/json", path);
    assert.deepEqual(await json(response), FILE_NOT_FOUND, path);
  }
  const file = await mf.dispatchFetch("http://localhost/api/files/c/r/f.png");
  assert.equal(file.status, 404);
  assert.equal((await json(file)).message, "Missing or invalid collection context.");
});

test("another method on /api/health is a 404", async () => {
  const response = await mf.dispatchFetch("http://localhost/api/health", { method: "DELETE" });
  assert.equal(response.status, 404);
  assert.deepEqual(await json(response), NOT_FOUND);
});

// A Worker that answers without reading the request body gets its connection reset
// by workerd when the body is still arriving (plain JavaScript Workers too), so these
// bodies are small: what is tested is that the glue takes any request body as it is.
test("a streamed request body is taken as a stream", async () => {
  const chunk = new TextEncoder().encode("x".repeat(512));
  let sent = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (sent >= 2) return controller.close();
      sent++;
      controller.enqueue(chunk);
    },
  });
  const response = await mf.dispatchFetch("http://localhost/api/upload", {
    method: "POST",
    body,
    duplex: "half",
    headers: { "content-type": "application/octet-stream" },
  });
  assert.equal(response.status, 404);
  assert.deepEqual(await json(response), NOT_FOUND);
});

test("a body with a content-length is accepted", async () => {
  const response = await mf.dispatchFetch("http://localhost/api/health", {
    method: "POST",
    body: JSON.stringify({ hello: "world" }),
    headers: { "content-type": "application/json" },
  });
  assert.equal(response.status, 404);
  assert.deepEqual(await json(response), NOT_FOUND);
});

test("URLs with characters http::Uri is strict about still route", async () => {
  for (const path of ["/a|b^c", "/api/health%7C", "/caf%C3%A9/%E2%9C%93", "/x?q=a|b^c`d"]) {
    const response = await mf.dispatchFetch(`http://localhost${path}`);
    assert.equal(response.status, 404, path);
    assert.deepEqual(await json(response), FILE_NOT_FOUND, path);
  }
});

test("non-ASCII header values pass the glue", async () => {
  const response = await mf.dispatchFetch("http://localhost/api/health", {
    headers: { "x-edgefs-test": "caf\u00e9", authorization: "Bearer a.b.c" },
  });
  assert.equal(response.status, 200);
});

test("PocketBase's security and CORS headers", async () => {
  const response = await mf.dispatchFetch("http://localhost/api/health", {
    headers: { origin: "http://app.test" },
  });
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal(response.headers.get("x-frame-options"), "SAMEORIGIN");
  await response.arrayBuffer();
});

test("a CORS preflight is a 204 with no body", async () => {
  const response = await mf.dispatchFetch("http://localhost/api/collections/posts/records", {
    method: "OPTIONS",
    headers: {
      origin: "http://app.test",
      "access-control-request-method": "PATCH",
      "access-control-request-headers": "authorization,content-type",
    },
  });
  assert.equal(response.status, 204);
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  assert.equal(response.headers.get("access-control-allow-methods"), "GET,HEAD,PUT,PATCH,POST,DELETE");
  assert.equal(response.headers.get("access-control-allow-headers"), "authorization,content-type");
  assert.equal(await response.text(), "");
});

test("concurrent requests are all answered", async () => {
  const responses = await Promise.all(
    Array.from({ length: 32 }, (_, i) =>
      mf.dispatchFetch(`http://localhost/${i % 2 ? "api/health" : "nope"}?i=${i}`),
    ),
  );
  for (const [i, response] of responses.entries()) {
    assert.equal(response.status, i % 2 ? 200 : 404);
    await response.arrayBuffer();
  }
});
