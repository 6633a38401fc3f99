// Companion mode (issue 13): the built Worker under Miniflare in front of the real
// PocketBase 0.40.6, whose files are in S3 on a SeaweedFS started here; the Worker
// reads the same bucket (and, once, a copy of it in a local R2 binding). The same file
// requests go to PocketBase directly and through the Worker and must get the same
// status, headers and bytes — public and protected files with every kind of token,
// thumbnails, ranges, 304s, downloads, denials — except for the differences listed in
// INTENDED. Each allowed file must come from the bucket (`x-edgefs-source: bucket`);
// every denial is PocketBase's own answer. Other paths are proxied untouched, and a
// PocketBase that is down or slow gets a clear 502/504 with no byte served.
//
//   bash scripts/lib-worker.sh build && node --test tests/worker/companion.test.mjs
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import PocketBase from "pocketbase";
import { png } from "./lib/files.mjs";
import { freePort } from "./lib/ports.mjs";
import { listKeys, s3Variables } from "./lib/seaweedfs.mjs";
import { startCompanion as startCompanionIn, startPocketBaseBehindWorker } from "./lib/companion.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The differences the Worker makes on purpose: [request label pattern, header, reason]. */
const INTENDED = [
  [/./, "etag", "the Worker sends the bucket's ETag (and answers If-None-Match); PocketBase sends none"],
  [
    /token/,
    "cache-control",
    "a request with a token may open a protected file: `private, no-store`, so no shared cache keeps what a token unlocked",
  ],
  [
    /./,
    "content-encoding",
    "`Content-Encoding: identity`, as the Worker sends every file: the edge would otherwise gzip a text file and drop its length",
  ],
];

/** The headers a client reads, compared between the two answers. */
const COMPARED = [
  "content-type",
  "content-length",
  "content-disposition",
  "content-range",
  "content-security-policy",
  "cache-control",
  "last-modified",
  "accept-ranges",
  "x-frame-options",
  "etag",
  "content-encoding",
  "location",
];

const COLLECTIONS = [
  {
    name: "docs",
    type: "base",
    listRule: "",
    // A protected file is shown to its owner only.
    viewRule: "owner = @request.auth.id",
    createRule: "",
    updateRule: null,
    deleteRule: null,
    fields: [
      { name: "title", type: "text" },
      { name: "owner", type: "relation", collectionId: "_pb_users_auth_", maxSelect: 1 },
      { name: "files", type: "file", maxSelect: 5, maxSize: 10 * 1024 * 1024, thumbs: ["100x100", "0x50"] },
      { name: "secret", type: "file", maxSelect: 1, maxSize: 1024 * 1024, protected: true },
    ],
  },
];

/** EDGEFS_PURGE_SECRET, shared by the Worker and PocketBase's hook. */
const PURGE_SECRET = "edgefs-companion-test-purge-secret";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const sha = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** An answer as compared: status, the compared headers, the body's hash and length. */
async function answer(response) {
  const body = Buffer.from(await response.arrayBuffer());
  const headers = {};
  for (const name of COMPARED) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  // A multipart/byteranges answer has a random boundary: compare it without.
  const boundary = (headers["content-type"] ?? "").match(/boundary=(\S+)/)?.[1];
  let text = body;
  if (boundary) {
    text = Buffer.from(body.toString("latin1").replaceAll(boundary, "BOUNDARY"), "latin1");
    headers["content-type"] = headers["content-type"].replace(boundary, "BOUNDARY");
  }
  return {
    status: response.status,
    headers,
    body: sha(text),
    length: body.length,
    source: response.headers.get("x-edgefs-source"),
  };
}

function differences(label, direct, through) {
  const found = [];
  if (direct.status !== through.status) found.push(`status ${direct.status} → ${through.status}`);
  if (direct.body !== through.body) found.push(`body (${direct.length} → ${through.length} bytes)`);
  for (const name of new Set([...Object.keys(direct.headers), ...Object.keys(through.headers)])) {
    if (direct.headers[name] === through.headers[name]) continue;
    if (INTENDED.some(([pattern, header]) => header === name && pattern.test(label))) continue;
    found.push(`header ${name}: ${direct.headers[name]} → ${through.headers[name]}`);
  }
  return found;
}

const startCompanion = (bindings, options) => startCompanionIn(root, bindings, options);

describe("companion mode in front of the real PocketBase", { timeout: 600_000 }, () => {
  let pb;
  let worker;
  let admin;
  const people = {};
  let doc;
  let requests;

  before(async () => {
    // PocketBase with its hook, which posts to the Worker; `pb.url` is PocketBase itself
    // and `pb.stop` stops both.
    const both = await startPocketBaseBehindWorker(root, { collections: COLLECTIONS, purgeSecret: PURGE_SECRET });
    pb = { ...both, url: both.direct };
    worker = both.worker;
    admin = new PocketBase(pb.url);
    admin.autoCancellation(false);
    await admin.collection("_superusers").authWithPassword(pb.superuser.email, pb.superuser.password);
    for (const name of ["owner", "stranger"]) {
      const user = await pb.user();
      const client = new PocketBase(pb.url);
      client.autoCancellation(false);
      client.authStore.save(user.token, user.record);
      people[name] = { ...user, client };
    }
    const data = new FormData();
    data.append("title", "a doc");
    data.append("owner", people.owner.id);
    data.append("files", new File([png(320, 240, [200, 40, 40])], "photo.png", { type: "image/png" }));
    data.append("files", new File(["plain notes, some bytes to range over\n".repeat(40)], "notes.txt"));
    data.append("files", new File(["<h1>not run here</h1>"], "page.html", { type: "text/html" }));
    data.append("secret", new File(["for the owner only\n"], "report.txt"));
    doc = await people.owner.client.collection("docs").create(data);

    const [photo, notes, page] = doc.files;
    const base = `/api/files/${doc.collectionId}/${doc.id}`;
    const byName = `/api/files/docs/${doc.id}`;
    const ownerToken = (await people.owner.client.files.getToken()).valueOf();
    const strangerToken = await people.stranger.client.files.getToken();
    const superuserToken = await admin.files.getToken();
    // A file token with its signature changed: PocketBase must refuse it.
    const forged = ownerToken.slice(0, -4) + (ownerToken.endsWith("AAAA") ? "BBBB" : "AAAA");
    requests = [
      ["public image", `${base}/${photo}`],
      ["public image HEAD", `${base}/${photo}`, { method: "HEAD" }],
      ["public text", `${base}/${notes}`],
      ["html as an attachment", `${base}/${page}`],
      ["download", `${base}/${photo}?download=1`],
      ["thumb generated on first request", `${base}/${photo}?thumb=100x100`],
      ["thumb existing", `${base}/${photo}?thumb=100x100`],
      ["thumb of a height", `${base}/${photo}?thumb=0x50`],
      ["thumb size not in the field's list", `${base}/${photo}?thumb=10x10`],
      ["thumb of a text file", `${base}/${notes}?thumb=100x100`],
      ["range", `${base}/${notes}`, { headers: { range: "bytes=0-9" } }],
      ["open range", `${base}/${notes}`, { headers: { range: "bytes=100-" } }],
      ["suffix range", `${base}/${notes}`, { headers: { range: "bytes=-20" } }],
      ["two ranges", `${base}/${notes}`, { headers: { range: "bytes=0-4,10-14" } }],
      ["range past the end", `${base}/${notes}`, { headers: { range: "bytes=999999-" } }],
      ["collection by name", `${byName}/${photo}`],
      ["missing file", `${base}/missing.txt`],
      ["missing record", `/api/files/${doc.collectionId}/aaaaaaaaaaaaaaa/${photo}`],
      ["missing collection", `/api/files/nothing/${doc.id}/${photo}`],
      ["protected without a token", `${base}/${doc.secret}`],
      ["protected with the owner's token", `${base}/${doc.secret}?token=${ownerToken}`],
      ["protected with the owner's token HEAD", `${base}/${doc.secret}?token=${ownerToken}`, { method: "HEAD" }],
      ["protected with the owner's token, a range", `${base}/${doc.secret}?token=${ownerToken}`, { headers: { range: "bytes=4-8" } }],
      ["protected with another user's token", `${base}/${doc.secret}?token=${strangerToken}`],
      ["protected with a superuser's token", `${base}/${doc.secret}?token=${superuserToken}`],
      ["protected with a forged token", `${base}/${doc.secret}?token=${forged}`],
      ["protected with an auth token", `${base}/${doc.secret}?token=${people.owner.token}`],
      ["public file with a token", `${base}/${photo}?token=${ownerToken}`],
    ];
  });

  after(async () => {
    await pb?.stop();
  });

  test("every file request gets PocketBase's answer, allowed files from the bucket", async () => {
    const problems = [];
    let fromBucket = 0;
    for (const [label, path, init = {}] of requests) {
      // Through the Worker first: a thumb it asks for is made by PocketBase on its HEAD.
      const through = await answer(await fetch(worker.url + path, init));
      const direct = await answer(await fetch(pb.url + path, init));
      const found = differences(label, direct, through);
      if (found.length) problems.push(`${label}: ${found.join("; ")}`);
      // A 416 is an answer about an allowed file, made from the bucket like a 206.
      const allowed = (direct.status >= 200 && direct.status < 300) || direct.status === 416;
      if (label === "collection by name") {
        // The bucket's keys are by collection id: PocketBase serves it.
        if (through.source !== "pocketbase; not in the bucket") problems.push(`${label}: served by ${through.source}`);
      } else if (allowed) {
        // A repeated public request may be the edge cache's copy of the bucket's answer.
        if (through.source !== "bucket" && through.source !== "edge cache") {
          problems.push(`${label}: served by ${through.source}, not from the bucket`);
        }
        else fromBucket++;
      }
      if (!allowed && !through.source?.startsWith("pocketbase")) {
        problems.push(`${label}: a ${direct.status} answered by ${through.source}, not by PocketBase`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(fromBucket >= 15, `${fromBucket} answers from the bucket`);
  });

  test("a 304 for a file the client has", async () => {
    const path = `/api/files/${doc.collectionId}/${doc.id}/${doc.files[0]}`;
    const first = await fetch(worker.url + path);
    await first.arrayBuffer();
    const since = first.headers.get("last-modified");
    assert.ok(since, "a Last-Modified to revalidate with");
    for (const headers of [{ "if-modified-since": since }, { "if-none-match": first.headers.get("etag") }]) {
      const direct = await fetch(pb.url + path, { headers });
      const through = await fetch(worker.url + path, { headers });
      await direct.arrayBuffer();
      assert.equal((await through.arrayBuffer()).byteLength, 0);
      assert.equal(through.status, 304, JSON.stringify(headers));
      if (headers["if-modified-since"]) assert.equal(direct.status, 304);
      // A conditional request is answered from the bucket, never from the edge's copy.
      assert.equal(through.headers.get("x-edgefs-source"), "bucket");
    }
  });

  test("a thumb PocketBase made on the Worker's HEAD is in the bucket and served from there", async () => {
    const path = `/api/files/${doc.collectionId}/${doc.id}/${doc.files[0]}?thumb=0x50`;
    const key = `${doc.collectionId}/${doc.id}/thumbs_${doc.files[0]}/0x50_${doc.files[0]}`;
    assert.ok((await listKeys(pb.s3, key)).includes(key), "the thumb the first test asked for is in the bucket");
    const photo = await fetch(worker.url + path);
    const bytes = Buffer.from(await photo.arrayBuffer());
    // Asked for before: the edge keeps the bucket's answer.
    assert.equal(photo.headers.get("x-edgefs-source"), "edge cache");
    assert.match(photo.headers.get("content-disposition"), /filename="?0x50_/);
    assert.equal(bytes.subarray(1, 4).toString(), "PNG");
  });

  test("other paths are proxied to PocketBase untouched, bodies both ways", async () => {
    const list = await fetch(`${worker.url}/api/collections/docs/records`);
    assert.equal(list.status, 200);
    assert.equal(list.headers.get("x-edgefs-source"), "pocketbase; not a file download");
    assert.equal((await list.json()).items[0].id, doc.id);
    const data = new FormData();
    data.append("title", "through the Worker");
    data.append("owner", people.stranger.id);
    data.append("files", new File(["uploaded through the companion\n"], "up.txt"));
    const created = await fetch(`${worker.url}/api/collections/docs/records`, {
      method: "POST",
      headers: { authorization: people.stranger.token },
      body: data,
    });
    const record = await created.json();
    assert.equal(created.status, 200, JSON.stringify(record));
    const file = await fetch(`${worker.url}/api/files/${record.collectionId}/${record.id}/${record.files[0]}`);
    assert.equal(await file.text(), "uploaded through the companion\n");
    assert.equal(file.headers.get("x-edgefs-source"), "bucket");
    const health = await fetch(`${worker.url}/api/health`);
    assert.equal(health.status, 200);
    const admin = await fetch(`${worker.url}/_`, { redirect: "manual" });
    const direct = await fetch(`${pb.url}/_`, { redirect: "manual" });
    assert.equal(admin.status, direct.status, "a redirect is handed back, not followed");
    assert.equal(admin.headers.get("location"), direct.headers.get("location"));
  });

  test("PocketBase sees the client's address, not the edge's, in its logs", async () => {
    // PocketBase told to trust X-Forwarded-For (Settings › Application › User IP proxy
    // headers), as the README says to set it up.
    await admin.settings.update({ trustedProxy: { headers: ["X-Forwarded-For"], useLeftmostIP: true } });
    try {
      const marker = `ip-${Date.now()}`;
      const client = "203.0.113.7";
      // The client's own X-Forwarded-For is replaced: Cloudflare's CF-Connecting-IP wins.
      const headers = { "cf-connecting-ip": client, "x-forwarded-for": "198.51.100.1" };
      const file = `/api/files/${doc.collectionId}/${doc.id}/${doc.secret}?${marker}=1`;
      const list = `/api/collections/docs/records?${marker}=1`;
      for (const path of [file, list]) await fetch(worker.url + path, { headers }).then((r) => r.arrayBuffer());
      let seen = [];
      for (let i = 0; i < 40 && seen.length < 3; i++) {
        await sleep(250);
        const logs = await admin.logs.getList(1, 20, { filter: `data.url ~ "${marker}"` });
        seen = logs.items.map((l) => [l.data.method, l.data.url.split("?")[0], l.data.userIP]);
      }
      // The file without a token: the Worker's HEAD (denied), then the GET proxied.
      assert.deepEqual(seen.sort(), [
        ["GET", "/api/collections/docs/records", client],
        ["GET", file.split("?")[0], client],
        ["HEAD", file.split("?")[0], client],
      ]);
    } finally {
      await admin.settings.update({ trustedProxy: { headers: [], useLeftmostIP: false } });
    }
  });

  async function newDoc(files, secret) {
    const data = new FormData();
    data.append("title", "changes");
    data.append("owner", people.owner.id);
    for (const [name, text] of files) data.append("files", new File([text], name));
    if (secret) data.append("secret", new File([secret], "secret.txt"));
    return people.owner.client.collection("docs").create(data);
  }

  test("the hook: a file removed, a record handed over or deleted stops being served at once", async () => {
    const record = await newDoc([["kept.txt", "kept\n"], ["removed.txt", "removed\n"]], "the owner's\n");
    const base = `${worker.url}/api/files/${record.collectionId}/${record.id}`;
    const removed = `${base}/${record.files[1]}`;
    const sources = [];
    for (let i = 0; i < 2; i++) {
      const response = await fetch(removed);
      assert.equal(await response.text(), "removed\n");
      sources.push(response.headers.get("x-edgefs-source"));
    }
    assert.deepEqual(sources, ["bucket", "edge cache"], "the second answer is the edge's copy");
    const token = await people.owner.client.files.getToken();
    const secret = `${base}/${record.secret}?token=${token}`;
    for (let i = 0; i < 2; i++) assert.equal((await fetch(secret)).status, 200);

    // PocketBase's hook tells the Worker before PocketBase answers the update.
    await admin.collection("docs").update(record.id, { "files-": [record.files[1]], owner: people.stranger.id });
    const gone = await fetch(removed);
    assert.equal(gone.status, 404, await gone.text());
    assert.equal(gone.headers.get("x-edgefs-source"), "pocketbase; pocketbase denied");
    const handedOver = await fetch(secret);
    await handedOver.arrayBuffer();
    assert.equal(handedOver.status, 404, "the old owner's token no longer opens the file");
    const kept = await fetch(`${base}/${record.files[0]}`);
    assert.equal(await kept.text(), "kept\n");

    await fetch(`${base}/${record.files[0]}`).then((r) => r.arrayBuffer());
    await admin.collection("docs").delete(record.id);
    const deleted = await fetch(`${base}/${record.files[0]}`);
    await deleted.arrayBuffer();
    assert.equal(deleted.status, 404, "a deleted record's file is not served from the edge cache");
  });

  test("a file token that expires stops opening the file, though its yes was kept", async () => {
    // PocketBase's shortest file token: 10 s (TokenConfig's minimum). The Worker keeps a
    // decision for PB_CACHE_SECONDS (60 here) but never past the token's own expiry.
    const users = await admin.collections.getOne("users");
    await admin.collections.update("users", { fileToken: { duration: 10 } });
    try {
      const token = await people.owner.client.files.getToken();
      const path = `/api/files/${doc.collectionId}/${doc.id}/${doc.secret}?token=${token}`;
      for (let i = 0; i < 2; i++) {
        const valid = await fetch(worker.url + path);
        assert.equal(await valid.text(), "for the owner only\n");
      }
      await sleep(11_000);
      const direct = await fetch(pb.url + path);
      const through = await fetch(worker.url + path);
      assert.equal(direct.status, 404, "PocketBase refuses the expired token");
      assert.equal(through.status, direct.status);
      assert.deepEqual(await through.json(), await direct.json());
      assert.equal(through.headers.get("x-edgefs-source"), "pocketbase; pocketbase denied");
    } finally {
      await admin.collections.update("users", { fileToken: { duration: users.fileToken.duration } });
    }
  });

  test("without the hook a kept answer lasts PB_CACHE_SECONDS, and no longer", async () => {
    const short = await startCompanion({ PB_ORIGIN: pb.url, PB_CACHE_SECONDS: "2", ...s3Variables(pb.s3) });
    try {
      const record = await newDoc([["short.txt", "short-lived\n"]]);
      const path = `${short.url}/api/files/${record.collectionId}/${record.id}/${record.files[0]}`;
      await fetch(path).then((r) => r.arrayBuffer());
      // The hook tells the other Worker (EDGEFS_URL): this one learns nothing.
      await admin.collection("docs").delete(record.id);
      const stale = await fetch(path);
      assert.equal(await stale.text(), "short-lived\n");
      assert.equal(stale.headers.get("x-edgefs-source"), "edge cache");
      await sleep(3_000);
      const later = await fetch(path);
      await later.arrayBuffer();
      assert.equal(later.status, 404, "after PB_CACHE_SECONDS PocketBase decides again");
    } finally {
      await short.mf.dispose();
    }
  });

  test("the purge route wants the secret, and is PocketBase's when the Worker has none", async () => {
    const change = { collection: { id: doc.collectionId, name: "docs" }, record: doc.id, files: doc.files };
    for (const [authorization, status] of [
      [undefined, 401],
      ["Bearer wrong", 401],
      [`Bearer ${PURGE_SECRET}`, 204],
    ]) {
      const response = await fetch(`${worker.url}/api/files/edgefs/purge`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        body: JSON.stringify(change),
      });
      const text = await response.text();
      assert.equal(response.status, status, text);
      assert.doesNotMatch(text, new RegExp(PURGE_SECRET));
    }
    const malformed = await fetch(`${worker.url}/api/files/edgefs/purge`, {
      method: "POST",
      headers: { authorization: `Bearer ${PURGE_SECRET}` },
      body: "{}",
    });
    assert.equal(malformed.status, 400);
    assert.match((await malformed.json()).message, /not a change/);
    const r2Worker = await startCompanion({ PB_ORIGIN: pb.url }, { r2Buckets: ["BUCKET"] });
    try {
      const off = await fetch(`${r2Worker.url}/api/files/edgefs/purge`, { method: "POST", body: "{}" });
      const direct = await fetch(`${pb.url}/api/files/edgefs/purge`, { method: "POST", body: "{}" });
      assert.equal(off.status, direct.status);
      assert.equal(off.headers.get("x-edgefs-source"), "pocketbase; not a file download");
      await off.arrayBuffer();
      await direct.arrayBuffer();
    } finally {
      await r2Worker.mf.dispose();
    }
  });

  test("the same answers from a copy of the bucket in R2, with caching off", async () => {
    // PB_CACHE_SECONDS=0: every request is decided by PocketBase and read from the bucket.
    const r2Worker = await startCompanion({ PB_ORIGIN: pb.url, PB_CACHE_SECONDS: "0" }, { r2Buckets: ["BUCKET"] });
    try {
      const r2 = await r2Worker.mf.getR2Bucket("BUCKET");
      for (const key of await listKeys(pb.s3, `${doc.collectionId}/${doc.id}/`)) {
        const object = await pb.s3.fetch(`/${pb.s3.bucket}/${key.split("/").map(encodeURIComponent).join("/")}`);
        await r2.put(key, new Uint8Array(await object.arrayBuffer()), {
          httpMetadata: { contentType: object.headers.get("content-type") },
        });
      }
      const problems = [];
      for (const [label, path, init = {}] of requests) {
        if (label.includes("generated")) continue;
        const through = await answer(await fetch(r2Worker.url + path, init));
        const direct = await answer(await fetch(pb.url + path, init));
        const found = differences(label, direct, through).filter((d) => !d.startsWith("header last-modified"));
        if (found.length) problems.push(`${label}: ${found.join("; ")}`);
        if (through.source === "edge cache") problems.push(`${label}: from the edge cache with caching off`);
      }
      assert.deepEqual(problems, []);
      // A copy behind PocketBase's bucket: what is not in it, PocketBase serves.
      const [, notes] = doc.files;
      await r2.delete(`${doc.collectionId}/${doc.id}/${notes}`);
      const path = `/api/files/${doc.collectionId}/${doc.id}/${notes}`;
      const through = await fetch(r2Worker.url + path);
      const direct = await fetch(pb.url + path);
      assert.equal(through.headers.get("x-edgefs-source"), "pocketbase; not in the bucket");
      assert.equal(await through.text(), await direct.text());
    } finally {
      await r2Worker.mf.dispose();
    }
  });

  test("an object missing from PocketBase's bucket is PocketBase's 404", async () => {
    const data = new FormData();
    data.append("title", "soon without its file");
    data.append("owner", people.owner.id);
    data.append("files", new File(["short-lived\n"], "gone.txt"));
    const record = await people.owner.client.collection("docs").create(data);
    const key = `${record.collectionId}/${record.id}/${record.files[0]}`;
    const removed = await pb.s3.fetch(`/${pb.s3.bucket}/${key}`, { method: "DELETE" });
    assert.ok(removed.ok);
    const path = `/api/files/${record.collectionId}/${record.id}/${record.files[0]}`;
    const through = await fetch(worker.url + path);
    const direct = await fetch(pb.url + path);
    assert.equal(through.status, direct.status);
    assert.deepEqual(await through.json(), await direct.json());
    // PocketBase's own HEAD finds no object: its 404 is the answer.
    assert.equal(through.status, 404);
    assert.equal(through.headers.get("x-edgefs-source"), "pocketbase; pocketbase denied");
  });

  test("PocketBase down or slow: 502 or 504 in PocketBase's error shape, nothing served", async () => {
    const path = `/api/files/${doc.collectionId}/${doc.id}/${doc.files[0]}`;
    // A closed port: nothing listens.
    const closed = await freePort();
    const down = await startCompanion({ PB_ORIGIN: `http://127.0.0.1:${closed}`, ...s3Variables(pb.s3) });
    // A FAKE PocketBase that accepts connections and never answers (a fault the real
    // one will not produce on demand).
    const silent = createServer(() => {});
    await new Promise((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const slow = await startCompanion({
      PB_ORIGIN: `http://127.0.0.1:${silent.address().port}`,
      PB_TIMEOUT_SECONDS: "1",
      ...s3Variables(pb.s3),
    });
    try {
      for (const [target, status, says] of [
        [down, 502, /did not answer/],
        [slow, 504, /within 1 s/],
      ]) {
        for (const url of [path, `${path}?token=x`, "/api/collections/docs/records"]) {
          const response = await fetch(target.url + url);
          const body = await response.json();
          assert.equal(response.status, status, `${url}: ${JSON.stringify(body)}`);
          assert.equal(body.status, status);
          assert.match(body.message, says);
          assert.deepEqual(body.data, {});
        }
      }
    } finally {
      await down.mf.dispose();
      await slow.mf.dispose();
      silent.close();
    }
  });

  test("a wrong configuration is a clear error", async () => {
    for (const [bindings, says] of [
      [{ PB_ORIGIN: "pb.example.com" }, /PB_ORIGIN "pb.example.com" must be PocketBase's http/],
      [{ PB_ORIGIN: pb.url }, /needs the bucket PocketBase keeps its files in/],
      [{ PB_ORIGIN: pb.url, PB_TIMEOUT_SECONDS: "never", ...s3Variables(pb.s3) }, /PB_TIMEOUT_SECONDS "never"/],
    ]) {
      const target = await startCompanion(bindings);
      try {
        const response = await fetch(`${target.url}/api/files/a/b/c.txt`);
        const body = await response.json();
        assert.equal(response.status, 500);
        assert.match(body.message, says);
        assert.doesNotMatch(JSON.stringify(body), new RegExp(pb.s3.secretKey));
      } finally {
        await target.mf.dispose();
      }
    }
  });
});
