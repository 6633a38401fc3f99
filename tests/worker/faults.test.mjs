// Faults between the Worker and S3 (issue 10 §4), inside workerd: the built Worker on S3
// storage whose endpoint is the test's fault proxy (a FAKE, named as such:
// lib/fault-proxy.mjs) in front of a real, signature-checking SeaweedFS. Uploads,
// record writes, updates, deletes, listings and downloads meet 5xx, SlowDown, resets,
// cut and slow bodies. Each is retried or answered with a clear error, and after every
// case the bucket itself is checked (lib/consistency.mjs): no record names a missing
// file, no file is left that no record names, and every file holds its bytes.
//
//   bash scripts/lib-worker.sh build && node --test tests/worker/faults.test.mjs
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { checkConsistency, sha256, superuserToken } from "./lib/consistency.mjs";
import { startFaultProxy } from "./lib/fault-proxy.mjs";
import { png } from "./lib/files.mjs";
import { startWorker } from "./lib/worker.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** A PNG of about `size` bytes (sniffed as a PNG: the signature leads). */
function image(size, seed) {
  const head = Buffer.from(png(4, 4, [seed % 256, 0, 0]));
  const tail = Buffer.alloc(Math.max(0, size - head.length));
  for (let i = 0; i < tail.length; i++) tail[i] = (i * 31 + seed) % 251;
  return Buffer.concat([head, tail]);
}

describe("faults between the Worker and S3: retried or a clear error, and the bucket stays consistent", () => {
  let worker;
  let proxy;
  let alice;
  let postsId;
  const uploaded = new Map();

  before(async () => {
    worker = await startWorker(root, "s3", {
      s3Proxy: async (seaweed) => (proxy = await startFaultProxy(seaweed.endpoint)),
      // Every download must reach S3 (and its faults): none from the edge cache.
      bindings: { EDGE_CACHE_SECONDS: "0" },
    });
    alice = await worker.user();
    const token = await superuserToken(worker);
    const posts = await (await fetch(`${worker.url}/api/collections/posts`, { headers: { authorization: token } })).json();
    postsId = posts.id;
  });

  after(async () => {
    await worker?.stop();
  });

  async function api(method, path, body) {
    const headers = { authorization: alice.token };
    if (body && !(body instanceof FormData)) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(body);
    }
    const res = await fetch(`${worker.url}${path}`, { method, headers, body });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, json, text };
  }

  function postForm(title, cover) {
    const form = new FormData();
    form.append("title", title);
    form.append("author", alice.id);
    if (cover) form.append("cover", new Blob([cover], { type: "image/png" }), `${title}.png`);
    return form;
  }

  async function createPost(title, cover) {
    const answer = await api("POST", "/api/collections/posts/records", postForm(title, cover));
    if (answer.status === 200 && cover) uploaded.set(answer.json.cover, sha256(cover));
    return answer;
  }

  async function titles() {
    const list = await api("GET", "/api/collections/posts/records?perPage=500");
    assert.equal(list.status, 200, list.text);
    return list.json.items.map((r) => r.title).sort();
  }

  /** After each case: every fault used, and the bucket consistent. */
  async function assertConsistent(what) {
    assert.equal(proxy.pending(), 0, `${what}: an injected fault was never used: ${JSON.stringify(proxy.seen.slice(-5))}`);
    const { problems } = await checkConsistency(worker, uploaded);
    assert.deepEqual(problems, [], `${what}: the bucket is inconsistent`);
  }

  const FILE_PUT = () => ({ method: "PUT", path: `/${postsId}/` });
  const RECORD_PUT = { method: "PUT", path: "/.edgefs/records/" };

  test("a file upload cut off: 500 naming the file, no record, no object", async () => {
    proxy.inject(FILE_PUT(), { reset: true });
    const answer = await createPost("reset upload", image(64 * 1024, 1));
    assert.equal(answer.status, 500, answer.text);
    assert.match(answer.json.message, /cannot store the file "reset upload\.png"/);
    assert.ok(!(await titles()).includes("reset upload"));
    await assertConsistent("reset upload");

    proxy.inject(FILE_PUT(), { status: 503, code: "SlowDown" });
    const refused = await createPost("refused upload", image(64 * 1024, 2));
    assert.equal(refused.status, 500, refused.text);
    assert.match(refused.json.message, /SlowDown|overloaded/);
    assert.ok(!(await titles()).includes("refused upload"));
    await assertConsistent("refused upload");
  });

  test("the record write fails after its file is stored: the file is deleted again", async () => {
    for (let i = 0; i < 4; i++) proxy.inject(RECORD_PUT, { status: 503, code: "SlowDown" });
    const answer = await createPost("no record", image(32 * 1024, 3));
    assert.equal(answer.status, 500, answer.text);
    assert.match(answer.json.message, /cannot store the record/);
    assert.ok(!(await titles()).includes("no record"));
    await assertConsistent("no record");
  });

  test("a record write is retried through 5xx and resets (its JSON is in memory)", async () => {
    proxy.inject(RECORD_PUT, { status: 500, code: "InternalError" });
    proxy.inject(RECORD_PUT, { reset: true });
    const answer = await createPost("retried record", image(16 * 1024, 4));
    assert.equal(answer.status, 200, answer.text);
    assert.ok((await titles()).includes("retried record"));
    await assertConsistent("retried record");
  });

  test("an update whose record write fails keeps the old record and its file", async () => {
    const first = image(24 * 1024, 5);
    const created = await createPost("to update", first);
    assert.equal(created.status, 200, created.text);
    for (let i = 0; i < 4; i++) proxy.inject(RECORD_PUT, { status: 503, code: "SlowDown" });
    const form = new FormData();
    form.append("title", "updated");
    form.append("cover", new Blob([image(24 * 1024, 6)], { type: "image/png" }), "new.png");
    const answer = await api("PATCH", `/api/collections/posts/records/${created.json.id}`, form);
    assert.equal(answer.status, 500, answer.text);
    const view = await api("GET", `/api/collections/posts/records/${created.json.id}`);
    assert.equal(view.json.title, "to update");
    assert.equal(view.json.cover, created.json.cover);
    const file = await fetch(`${worker.url}/api/files/posts/${created.json.id}/${created.json.cover}`);
    assert.equal(sha256(Buffer.from(await file.arrayBuffer())), sha256(first));
    await assertConsistent("failed update");
  });

  test("a delete is retried through a refused batch delete and leaves nothing behind", async () => {
    const created = await createPost("to delete", image(8 * 1024, 7));
    assert.equal(created.status, 200, created.text);
    proxy.inject({ method: "POST", query: "delete" }, { status: 503, code: "SlowDown" });
    proxy.inject({ method: "GET", query: "list-type=2" }, { truncate: true });
    const answer = await api("DELETE", `/api/collections/posts/records/${created.json.id}`);
    assert.equal(answer.status, 204, answer.text);
    assert.ok(!(await titles()).includes("to delete"));
    await assertConsistent("delete");
  });

  test("a delete whose files cannot be deleted says so", async () => {
    const created = await createPost("files stay", image(8 * 1024, 8));
    assert.equal(created.status, 200, created.text);
    for (let i = 0; i < 4; i++) proxy.inject({ method: "POST", query: "delete" }, { reset: true });
    const answer = await api("DELETE", `/api/collections/posts/records/${created.json.id}`);
    assert.equal(answer.status, 500, answer.text);
    assert.match(answer.json.message, /the record is deleted but its files are not/);
    assert.ok(!(await titles()).includes("files stay"));
    // The orphan is the one thing a persistent fault leaves: named, then removed here.
    const { problems } = await checkConsistency(worker, uploaded);
    assert.deepEqual(problems, [`${postsId}/${created.json.id}/${created.json.cover} is named by no record (orphaned)`]);
    const retry = await api("DELETE", `/api/collections/posts/records/${created.json.id}`);
    assert.equal(retry.status, 404, "the record is gone");
    await worker.s3.fetch(`/${worker.s3.bucket}/${postsId}/${created.json.id}/${created.json.cover}`, { method: "DELETE" });
    await assertConsistent("persistent delete fault");
  });

  test("a download cut short is an error at the client, never a short file", async () => {
    const bytes = image(256 * 1024, 9);
    const created = await createPost("cut download", bytes);
    assert.equal(created.status, 200, created.text);
    const url = `${worker.url}/api/files/posts/${created.json.id}/${created.json.cover}`;
    proxy.inject({ method: "GET", path: `/${postsId}/` }, { truncate: true });
    const res = await fetch(url);
    let received;
    try {
      received = Buffer.from(await res.arrayBuffer());
    } catch {
      received = undefined; // the body errored: the client knows the file is incomplete
    }
    if (received !== undefined) {
      // Whatever arrived must not pass for the whole file.
      assert.ok(
        res.status !== 200 || Number(res.headers.get("content-length")) !== received.length || sha256(received) === sha256(bytes),
        `a ${received.length}-byte body passed for the ${bytes.length}-byte file`,
      );
      assert.notEqual(sha256(received), sha256(bytes), "the cut was not injected");
    }
    await assertConsistent("cut download");
  });

  test("downloads are retried through 5xx and resets before an answer, and a slow body arrives whole", async () => {
    const bytes = image(200 * 1024, 10);
    const created = await createPost("retried download", bytes);
    assert.equal(created.status, 200, created.text);
    const url = `${worker.url}/api/files/posts/${created.json.id}/${created.json.cover}`;
    const onFile = { method: "GET", path: `/${postsId}/${created.json.id}/` };
    proxy.inject(onFile, { status: 503, code: "SlowDown" });
    proxy.inject(onFile, { reset: true });
    let res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(bytes));
    proxy.inject(onFile, { slow: 5 });
    res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(bytes));
    await assertConsistent("retried download");
  });

  test("a record listing is read again when S3's listing is cut or refused", async () => {
    const before = await titles();
    proxy.inject({ method: "GET", query: "list-type=2" }, { truncate: true });
    proxy.inject({ method: "GET", query: "list-type=2" }, { status: 500, code: "InternalError" });
    assert.deepEqual(await titles(), before);
    await assertConsistent("listing");
  });
});
