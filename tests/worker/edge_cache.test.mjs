// The edge cache of public files (issue 12 §2) in workerd, through Miniflare's Cache API:
// a public file's second answer comes from the cache (reading neither record nor object:
// the object is deleted behind the Worker's back and still served), Range and 304 are
// answered from the copy, protected and rule-gated files never enter, and replacing or
// deleting a file, deleting its record or making its field protected stops the old URL
// at once. EDGE_CACHE_SECONDS=0 turns it off.
//
//   bash scripts/lib-worker.sh build && node --test tests/worker/edge_cache.test.mjs
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import PocketBase from "pocketbase";
import { startWorker } from "./lib/worker.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const FROM_CACHE = "edge cache";

const PHOTOS = {
  name: "photos",
  type: "base",
  listRule: "",
  // Protected files need a token that passes it (with "" anyone may see them, as in
  // PocketBase); public files are served to anyone whatever it says.
  viewRule: "@request.auth.id != ''",
  createRule: null,
  updateRule: null,
  deleteRule: null,
  fields: [
    { name: "title", type: "text" },
    { name: "image", type: "file", maxSelect: 1, maxSize: 1048576 },
    { name: "secret", type: "file", maxSelect: 1, maxSize: 1048576, protected: true },
  ],
};

let target;
let su;

async function start(bindings = {}) {
  const worker = await startWorker(root, "r2", { bindings });
  const pb = new PocketBase(worker.url);
  pb.autoCancellation(false);
  await pb.collection("_superusers").authWithPassword(worker.superuser.email, worker.superuser.password);
  await pb.collections.import([PHOTOS], false);
  return { worker, pb };
}

before(async () => {
  ({ worker: target, pb: su } = await start());
});

after(async () => {
  await target?.stop();
});

function file(name, text, type = "text/plain") {
  return new File([text], name, { type });
}

async function photo(fields) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return su.collection("photos").create(form);
}

const url = (record, name, query = "") => `${target.url}/api/files/photos/${record.id}/${name}${query}`;

async function get(address, headers = {}) {
  const response = await fetch(address, { headers });
  return { status: response.status, headers: response.headers, body: await response.text(), source: response.headers.get("x-edgefs-source") };
}

async function deleteObjectBehindTheWorker(record, name) {
  const bucket = await target.miniflare.getR2Bucket("BUCKET");
  await bucket.delete(`${record.collectionId}/${record.id}/${name}`);
}

test("a public file's second answer is the edge's copy, with the same headers, without reading the bucket", async () => {
  const record = await photo({ title: "a", image: file("a.txt", "hello edge") });
  const first = await get(url(record, record.image));
  assert.equal(first.status, 200);
  assert.equal(first.source, null, "the first answer is the Worker's own");
  const second = await get(url(record, record.image));
  assert.equal(second.status, 200);
  assert.equal(second.source, FROM_CACHE);
  assert.equal(second.body, "hello edge");
  for (const name of ["content-type", "content-length", "etag", "last-modified", "cache-control", "content-disposition", "content-security-policy"]) {
    assert.equal(second.headers.get(name), first.headers.get(name), name);
  }
  await deleteObjectBehindTheWorker(record, record.image);
  const third = await get(url(record, record.image));
  assert.equal(third.status, 200, "a hit reads neither the record nor the object");
  assert.equal(third.body, "hello edge");
});

test("Range and conditional requests are answered from the cached copy", async () => {
  const record = await photo({ title: "r", image: file("r.txt", "0123456789") });
  const whole = await get(url(record, record.image));
  assert.equal(whole.status, 200);
  const part = await get(url(record, record.image), { range: "bytes=2-4" });
  assert.equal(part.status, 206);
  assert.equal(part.body, "234");
  assert.equal(part.headers.get("content-range"), "bytes 2-4/10");
  assert.equal(part.source, FROM_CACHE);
  const unchanged = await get(url(record, record.image), { "if-none-match": whole.headers.get("etag") });
  assert.equal(unchanged.status, 304);
  assert.equal(unchanged.body, "");
  assert.equal(unchanged.source, FROM_CACHE);
});

test("a hit answers CORS for its own request, whichever request filled the cache", async () => {
  const record = await photo({ title: "c", image: file("c.txt", "cors") });
  const filled = await get(url(record, record.image), { origin: "https://app.example" });
  assert.equal(filled.headers.get("access-control-allow-origin"), "*");
  const plain = await get(url(record, record.image));
  assert.equal(plain.source, FROM_CACHE);
  assert.equal(plain.headers.get("access-control-allow-origin"), null);
  const again = await get(url(record, record.image), { origin: "https://other.example" });
  assert.equal(again.source, FROM_CACHE);
  assert.equal(again.headers.get("access-control-allow-origin"), "*");
});

test("a download (?download=1) is kept apart from the inline answer", async () => {
  // An image: served inline unless a download is asked for.
  const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
  const record = await photo({ title: "d", image: file("d.png", png, "image/png") });
  await get(url(record, record.image));
  const inline = await get(url(record, record.image));
  const download = await get(url(record, record.image, "?download=1"));
  assert.equal(inline.source, FROM_CACHE);
  assert.equal(download.source, null);
  assert.match(download.headers.get("content-disposition"), /^attachment/);
  assert.match(inline.headers.get("content-disposition"), /^inline/);
  const downloadAgain = await get(url(record, record.image, "?download=1"));
  assert.equal(downloadAgain.source, FROM_CACHE);
  assert.match(downloadAgain.headers.get("content-disposition"), /^attachment/);
});

test("a protected file never enters the cache", async () => {
  const record = await photo({ title: "p", secret: file("s.txt", "secret bytes") });
  const token = await su.files.getToken();
  for (let i = 0; i < 3; i++) {
    const answer = await get(url(record, record.secret, `?token=${token}`));
    assert.equal(answer.status, 200);
    assert.equal(answer.source, null);
  }
  const without = await get(url(record, record.secret));
  assert.equal(without.status, 404, "no token, no file, cached or not");
});

test("replacing a file, deleting it or deleting its record stops the old URL at once", async () => {
  const record = await photo({ title: "x", image: file("old.txt", "old") });
  const old = url(record, record.image);
  await get(old);
  assert.equal((await get(old)).source, FROM_CACHE);
  const form = new FormData();
  form.append("image", file("new.txt", "new"));
  const replaced = await su.collection("photos").update(record.id, form);
  assert.equal((await get(old)).status, 404, "the replaced file's URL");
  const current = url(replaced, replaced.image);
  await get(current);
  assert.equal((await get(current)).source, FROM_CACHE);
  await su.collection("photos").update(record.id, { image: null });
  assert.equal((await get(current)).status, 404, "the removed file's URL");

  const other = await photo({ title: "y", image: file("y.txt", "y") });
  const otherUrl = url(other, other.image);
  await get(otherUrl);
  assert.equal((await get(otherUrl)).source, FROM_CACHE);
  await su.collection("photos").delete(other.id);
  assert.equal((await get(otherUrl)).status, 404, "the deleted record's file");
});

test("making the field protected, or enforcing the view rule, stops its cached copies", async () => {
  const record = await photo({ title: "z", image: file("z.txt", "soon protected") });
  const address = url(record, record.image);
  await get(address);
  assert.equal((await get(address)).source, FROM_CACHE);
  const withImage = (change) => PHOTOS.fields.map((f) => (f.name === "image" ? { ...f, ...change } : f));
  await su.collections.import([{ ...PHOTOS, fields: withImage({ protected: true }) }], false);
  const now = await get(address);
  assert.equal(now.status, 404, "a protected file without a token");
  assert.equal(now.source, null);
  await su.collections.import([{ ...PHOTOS, enforceViewRuleOnFiles: true }], false);
  const gated = await get(address);
  assert.equal(gated.status, 404, "the view rule now gates the file");
  assert.equal(gated.source, null);
  await su.collections.import([PHOTOS], false);
  assert.equal((await get(address)).status, 200, "public again");
});

test("EDGE_CACHE_SECONDS=0 keeps nothing; a bad value is a clear error on the file route", async () => {
  const off = await start({ EDGE_CACHE_SECONDS: "0" });
  try {
    const form = new FormData();
    form.append("image", file("o.txt", "off"));
    const record = await off.pb.collection("photos").create(form);
    const address = `${off.worker.url}/api/files/photos/${record.id}/${record.image}`;
    for (let i = 0; i < 3; i++) assert.equal((await get(address)).source, null);
  } finally {
    await off.worker.stop();
  }
  const bad = await start({ EDGE_CACHE_SECONDS: "an hour" });
  try {
    const form = new FormData();
    form.append("image", file("b.txt", "bad"));
    const record = await bad.pb.collection("photos").create(form);
    const answer = await get(`${bad.worker.url}/api/files/photos/${record.id}/${record.image}`);
    assert.equal(answer.status, 500);
    assert.match(answer.body, /EDGE_CACHE_SECONDS \\"an hour\\" must be a whole number of seconds/);
  } finally {
    await bad.worker.stop();
  }
});
