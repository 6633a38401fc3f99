// PocketBase's own JavaScript SDK (npm `pocketbase`) against the built Worker under
// Miniflare, over real HTTP on 127.0.0.1, once per storage backend: memory, KV, R2 and
// S3 on a SeaweedFS started here (signatures checked). What a PocketBase app notices:
// superuser sign-in, collections import, records with files from FormData, list
// filter and sort, file URLs, file tokens and protected files, replacing and deleting
// files, and every denial answered as PocketBase answers it.
//
//   bash scripts/lib-worker.sh build && node --test tests/worker/sdk.test.mjs
//   EDGEFS_SDK_BACKENDS=memory,s3 node --test tests/worker/sdk.test.mjs   # some backends
//
// After the four backends the same suite runs against the real PocketBase on S3 with the
// Worker in companion mode in front of it (`companion`, also EDGEFS_SDK_TARGET=companion):
// what a PocketBase app sees through the Worker is PocketBase's.
//
// The same flow runs against the real PocketBase 0.40.6 as the reference (the
// expectations below were checked there; tests/worker/lib/pocketbase.mjs):
//
//   EDGEFS_SDK_TARGET=pocketbase node --test tests/worker/sdk.test.mjs
//   bash scripts/pocketbase-reference.sh    # the same, installing PocketBase first
//
// (PocketBase runs twice: with its local storage and with S3 storage on SeaweedFS.)
// Tests that only make sense on one side skip on the other: the S3 settings checks
// without S3, and the protected files' Cache-Control, where edgefs differs on purpose.
//
// The targets differ only in how they start and where users come from: PocketBase's
// are records of its `users` collection signed in with a password, the Worker's are
// tokens the app signs with AUTH_SECRET (lib/worker.mjs).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { decodeJwt, signHs256 } from "./lib/jwt.mjs";
import { file, png } from "./lib/files.mjs";
import { assertFile404, assertFileBytes, client, rejectsWith } from "./lib/sdk.mjs";
import { BACKENDS, startWorker } from "./lib/worker.mjs";
import { startPocketBaseBehindWorker } from "./lib/companion.mjs";
import { defaultCollections, startPocketBase } from "./lib/pocketbase.mjs";
import { pocketbaseS3Settings, startSeaweedFs } from "./lib/seaweedfs.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const collections = defaultCollections(root);

// A collection with every rule null (superusers only), imported by the suite.
const NOTES = {
  name: "notes",
  type: "base",
  listRule: null,
  viewRule: null,
  createRule: null,
  updateRule: null,
  deleteRule: null,
  fields: [{ name: "body", type: "text" }],
};

const RED = png(4, 4, [255, 0, 0]);
const BLUE = png(3, 5, [0, 0, 255]);
const TEXT_A = new TextEncoder().encode("first protected document\n");
const TEXT_B = new TextEncoder().encode("second protected document\n");
const TEXT_C = new TextEncoder().encode("third, appended later\n");

// PocketBase on S3 with the Worker in companion mode in front (issue 13): every request
// of the suite goes through the Worker, which serves the files from PocketBase's bucket.
const COMPANION = {
  label: "pocketbase on s3 through the worker (companion mode)",
  start: () => startPocketBaseBehindWorker(root, { collections }),
};

function targets() {
  const which = process.env.EDGEFS_SDK_TARGET || "worker";
  if (which === "pocketbase") {
    return [
      { label: "pocketbase", start: () => startPocketBase({ collections }) },
      { label: "pocketbase on s3", start: () => startPocketBase({ collections, s3: true }) },
    ];
  }
  if (which === "companion") return [COMPANION];
  if (which !== "worker") throw new Error(`EDGEFS_SDK_TARGET=${which}: worker, companion or pocketbase`);
  const wanted = (process.env.EDGEFS_SDK_BACKENDS || [...BACKENDS, "companion"].join(","))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const b of wanted) {
    if (b !== "companion" && !BACKENDS.includes(b)) throw new Error(`unknown backend ${b}: ${BACKENDS},companion`);
  }
  return wanted.map((backend) =>
    backend === "companion" ? COMPANION : { label: `worker on ${backend}`, start: () => startWorker(root, backend) },
  );
}

for (const { label, start } of targets()) {
  describe(label, () => {
    let target;
    let su; // the superuser's client
    let alice, bob; // users: {id, token, record}
    let asAlice, asBob, guest; // their clients
    let postsId;
    let post; // alice's post with the red cover
    let doc; // alice's protected document

    // The objects under the record's folder in the storage backend are exactly `names`
    // (PocketBase's layout {collectionId}/{recordId}/{filename}); not observable from
    // outside the Worker on the memory backend.
    async function assertStored(t, record, names, what) {
      const prefix = `${record.collectionId}/${record.id}/`;
      const keys = await target.objectKeys(prefix);
      if (keys === null) return t.diagnostic(`${what}: the ${target.backend} backend is not observable from outside`);
      assert.deepEqual(keys, names.map((n) => prefix + n).sort(), `${what}: the objects under ${prefix}`);
    }

    // Later tests build on the post and the document created earlier: say so plainly
    // when those failed instead of a TypeError.
    function needs(value, what) {
      assert.ok(value, `needs ${what}, which an earlier test failed to create`);
    }

    before(async () => {
      target = await start();
      su = client(target.url);
      guest = client(target.url);
      alice = await target.user();
      bob = await target.user();
      asAlice = client(target.url, alice);
      asBob = client(target.url, bob);
    });

    after(async () => {
      await target?.stop();
    });

    // --- superuser sign-in and collections ----------------------------------------

    test("a superuser signs in with the e-mail and password and the SDK sees a superuser", async () => {
      const auth = await su.collection("_superusers").authWithPassword(target.superuser.email, target.superuser.password);
      assert.equal(typeof auth.token, "string");
      assert.equal(auth.token.split(".").length, 3, "a JWT");
      assert.equal(decodeJwt(auth.token).type, "auth");
      assert.equal(auth.record.collectionName, "_superusers");
      assert.ok(su.authStore.isValid, "the SDK keeps the token");
      assert.ok(su.authStore.isSuperuser, "the SDK recognizes a superuser");
    });

    test("a wrong superuser password is a 400 and signs nobody in", async () => {
      const pb = client(target.url);
      const body = await rejectsWith(
        pb.collection("_superusers").authWithPassword(target.superuser.email, "not-the-password"),
        400,
        "wrong password",
      );
      assert.equal(body.message, "Failed to authenticate.");
      assert.equal(pb.authStore.isValid, false);
    });

    test("superusers list the collections; a user gets 403 and a guest 401", async () => {
      const list = await su.collections.getFullList();
      const names = list.map((c) => c.name);
      assert.ok(names.includes("posts") && names.includes("documents"), `collections: ${names}`);
      const posts = await su.collections.getOne("posts");
      postsId = posts.id;
      assert.equal(posts.name, "posts");
      const cover = posts.fields.find((f) => f.name === "cover");
      assert.equal(cover.type, "file");
      assert.equal(cover.maxSelect, 1);
      assert.equal((await su.collections.getOne(posts.id)).name, "posts", "addressed by id too");
      await rejectsWith(asAlice.collections.getFullList(), 403, "a user lists collections");
      await rejectsWith(guest.collections.getFullList(), 401, "a guest lists collections");
    });

    test("a superuser imports collections: a new collection appears, the others stay", async () => {
      await su.collections.import([...collections, NOTES], false);
      const notes = await su.collections.getOne("notes");
      assert.equal(notes.listRule, null);
      assert.deepEqual(
        notes.fields.filter((f) => f.name === "body").map((f) => f.type),
        ["text"],
      );
      const posts = await su.collections.getOne("posts");
      if (postsId) assert.equal(posts.id, postsId, "posts keeps its id");
    });

    test("an import with a bad rule is a 400 naming the collection and the rule, and changes nothing", async () => {
      const broken = { ...NOTES, name: "broken", listRule: "body ==== 'x'" };
      const body = await rejectsWith(su.collections.import([...collections, NOTES, broken], false), 400, "bad rule");
      assert.equal(body.message, "Failed to import collections.");
      const detail = body.data?.collections;
      assert.ok(detail, `data.collections: ${JSON.stringify(body)}`);
      assert.equal(detail.code, "validation_collections_import_failure");
      assert.match(detail.message, /broken/, "names the collection");
      assert.match(detail.message, /listRule/, "names the rule");
      await rejectsWith(su.collections.getOne("broken"), 404, "the broken collection");
    });

    test("an import with a rule on an unknown field is a 400 naming the rule", async () => {
      const broken = { ...NOTES, name: "broken", viewRule: "nosuchfield = 1" };
      const body = await rejectsWith(su.collections.import([...collections, NOTES, broken], false), 400, "unknown field");
      assert.equal(body.message, "Failed to import collections.");
      assert.match(body.data?.collections?.message ?? "", /viewRule/);
      await rejectsWith(su.collections.getOne("broken"), 404, "the broken collection");
    });

    test("a user cannot import collections (403)", async () => {
      await rejectsWith(asAlice.collections.import([...collections, NOTES], false), 403, "a user imports");
    });

    // --- records with files -----------------------------------------------------------

    test("a user creates a post with a cover uploaded from FormData", async (t) => {
      const form = new FormData();
      form.append("title", "red post");
      form.append("author", alice.id);
      form.append("published", "true");
      form.append("cover", file(RED, "red cover.png", "image/png"));
      post = await asAlice.collection("posts").create(form);
      assert.match(post.id, /^[a-z0-9]{15}$/);
      assert.equal(post.collectionName, "posts");
      if (postsId) assert.equal(post.collectionId, postsId);
      postsId ??= post.collectionId;
      assert.equal(post.title, "red post");
      assert.equal(post.author, alice.id);
      assert.equal(post.published, true);
      assert.equal(typeof post.cover, "string");
      // Sanitized (the space) and given PocketBase's random suffix.
      assert.match(post.cover, /^red_cover_[a-z0-9]{10}\.png$/);
      await assertStored(t, post, [post.cover], "the uploaded cover");
    });

    test("the file URL from pb.files.getURL serves the uploaded bytes as an inline PNG", async () => {
      needs(post, "the post with a cover");
      needs(postsId, "the posts collection id");
      const url = asAlice.files.getURL(post, post.cover);
      assert.equal(url, `${target.url}/api/files/${postsId}/${post.id}/${post.cover}`);
      const response = await assertFileBytes(url, RED, "the cover");
      assert.equal(response.headers.get("content-type"), "image/png");
      assert.match(response.headers.get("content-disposition") ?? "", /^inline/);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      // Public: anyone with the URL, by collection name too.
      await assertFileBytes(`${target.url}/api/files/posts/${post.id}/${post.cover}`, RED, "by collection name");
    });

    test("the cover is cacheable, and ranges, HEAD and If-Modified-Since work on it", async () => {
      needs(post, "the post with a cover");
      const url = guest.files.getURL(post, post.cover);
      const full = await assertFileBytes(url, RED, "the cover");
      assert.equal(full.headers.get("cache-control"), "max-age=2592000, stale-while-revalidate=86400");
      assert.equal(full.headers.get("content-length"), String(RED.length));
      const lastModified = full.headers.get("last-modified");
      assert.ok(lastModified, "Last-Modified");

      const range = await fetch(url, { headers: { range: "bytes=0-9" } });
      const part = new Uint8Array(await range.arrayBuffer());
      assert.equal(range.status, 206);
      assert.equal(range.headers.get("content-range"), `bytes 0-9/${RED.length}`);
      assert.ok(Buffer.from(part).equals(Buffer.from(RED.subarray(0, 10))), "the first ten bytes");
      const suffix = await fetch(url, { headers: { range: "bytes=-5" } });
      const tail = new Uint8Array(await suffix.arrayBuffer());
      assert.equal(suffix.status, 206);
      assert.ok(Buffer.from(tail).equals(Buffer.from(RED.subarray(RED.length - 5))), "the last five bytes");
      const beyond = await fetch(url, { headers: { range: `bytes=${RED.length + 10}-` } });
      await beyond.arrayBuffer();
      assert.equal(beyond.status, 416);
      assert.equal(beyond.headers.get("content-range"), `bytes */${RED.length}`);

      const head = await fetch(url, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), String(RED.length));
      assert.equal((await head.arrayBuffer()).byteLength, 0);

      const cached = await fetch(url, { headers: { "if-modified-since": lastModified } });
      await cached.arrayBuffer();
      assert.equal(cached.status, 304);
    });

    test("?download=1 serves the cover as an attachment", async () => {
      needs(post, "the post with a cover");
      const response = await assertFileBytes(guest.files.getURL(post, post.cover, { download: true }), RED, "download");
      assert.match(response.headers.get("content-disposition") ?? "", /^attachment/);
    });

    test("a JSON create works without files", async () => {
      const plain = await asAlice.collection("posts").create({ title: "plain post", author: alice.id });
      assert.equal(plain.title, "plain post");
      assert.equal(plain.published, false);
      assert.equal(plain.cover, "");
    });

    test("a guest's create fails the create rule: 400 and no record", async () => {
      const before = await guest.collection("posts").getList(1, 1, { filter: 'title = "guest post"' });
      const body = await rejectsWith(guest.collection("posts").create({ title: "guest post" }), 400, "guest create");
      assert.equal(body.message, "Failed to create record.");
      const after = await guest.collection("posts").getList(1, 1, { filter: 'title = "guest post"' });
      assert.equal(after.totalItems, before.totalItems);
    });

    test("a cover that is not an image is refused: validation_invalid_mime_type", async () => {
      const form = new FormData();
      form.append("title", "text cover");
      form.append("author", alice.id);
      form.append("cover", file(TEXT_A, "cover.png", "image/png"));
      const body = await rejectsWith(asAlice.collection("posts").create(form), 400, "text as cover");
      assert.equal(body.data?.cover?.code, "validation_invalid_mime_type", JSON.stringify(body));
      const list = await guest.collection("posts").getList(1, 1, { filter: 'title = "text cover"' });
      assert.equal(list.totalItems, 0, "no record left behind");
    });

    test("two covers for a single-file field: the last one is kept (PocketBase's rule for maxSelect 1)", async () => {
      const form = new FormData();
      form.append("title", "two covers");
      form.append("author", alice.id);
      form.append("cover", file(RED, "first.png", "image/png"));
      form.append("cover", file(BLUE, "second.png", "image/png"));
      const record = await asAlice.collection("posts").create(form);
      assert.match(record.cover, /^second_[a-z0-9]{10}\.png$/);
      await assertFileBytes(guest.files.getURL(record, record.cover), BLUE, "the kept cover");
      await asAlice.collection("posts").delete(record.id);
    });

    test("a missing required field is a 400 naming the field", async () => {
      const body = await rejectsWith(asAlice.collection("posts").create({ author: alice.id }), 400, "no title");
      assert.equal(body.data?.title?.code, "validation_required", JSON.stringify(body));
    });

    test("the list filters and sorts", async () => {
      for (const [title, published] of [
        ["list b", false],
        ["list c", true],
        ["list a", true],
        ["list d", true],
      ]) {
        await asBob.collection("posts").create({ title, author: bob.id, published });
      }
      const desc = await guest.collection("posts").getList(1, 50, {
        filter: 'title ~ "list " && published = true',
        sort: "-title",
      });
      assert.deepEqual(
        desc.items.map((r) => r.title),
        ["list d", "list c", "list a"],
      );
      assert.equal(desc.totalItems, 3);
      const asc = await guest.collection("posts").getList(1, 2, { filter: `author = "${bob.id}"`, sort: "title" });
      assert.deepEqual(
        asc.items.map((r) => r.title),
        ["list a", "list b"],
      );
      assert.equal(asc.page, 1);
      assert.equal(asc.perPage, 2);
      assert.equal(asc.totalItems, 4);
      assert.equal(asc.totalPages, 2);
      const page2 = await guest.collection("posts").getList(2, 2, { filter: `author = "${bob.id}"`, sort: "title" });
      assert.deepEqual(
        page2.items.map((r) => r.title),
        ["list c", "list d"],
      );
      const all = await guest.collection("posts").getFullList({ filter: `author = "${bob.id}"`, sort: "-title" });
      assert.deepEqual(
        all.map((r) => r.title),
        ["list d", "list c", "list b", "list a"],
      );
    });

    test("a filter on an unknown field is a 400", async () => {
      await rejectsWith(guest.collection("posts").getList(1, 10, { filter: "nosuchfield = 1" }), 400, "bad filter");
    });

    test("view returns the record as created", async () => {
      needs(post, "the post with a cover");
      const viewed = await guest.collection("posts").getOne(post.id);
      for (const key of ["id", "collectionId", "collectionName", "title", "author", "published", "cover"]) {
        assert.deepEqual(viewed[key], post[key], key);
      }
      await rejectsWith(guest.collection("posts").getOne("nosuchrecord123"), 404, "an unknown id");
    });

    // --- denials on records -------------------------------------------------------------

    test("another user's or a guest's update and delete are 404 and change nothing", async () => {
      needs(post, "the post with a cover");
      await rejectsWith(asBob.collection("posts").update(post.id, { title: "bob was here" }), 404, "bob updates");
      await rejectsWith(guest.collection("posts").update(post.id, { title: "guest was here" }), 404, "guest updates");
      await rejectsWith(asBob.collection("posts").delete(post.id), 404, "bob deletes");
      await rejectsWith(guest.collection("posts").delete(post.id), 404, "guest deletes");
      const viewed = await guest.collection("posts").getOne(post.id);
      assert.equal(viewed.title, "red post");
      await assertFileBytes(guest.files.getURL(post, post.cover), RED, "the cover is still there");
    });

    test("a collection whose rules are null answers 403 to users and guests, superusers pass", async () => {
      const note = await su.collection("notes").create({ body: "for superusers" });
      assert.equal(note.body, "for superusers");
      for (const [who, pb] of [
        ["a user", asAlice],
        ["a guest", guest],
      ]) {
        const body = await rejectsWith(pb.collection("notes").getList(), 403, `${who} lists`);
        assert.equal(body.message, "Only superusers can perform this action.");
        await rejectsWith(pb.collection("notes").getOne(note.id), 403, `${who} views`);
        await rejectsWith(pb.collection("notes").create({ body: "x" }), 403, `${who} creates`);
        await rejectsWith(pb.collection("notes").update(note.id, { body: "x" }), 403, `${who} updates`);
        await rejectsWith(pb.collection("notes").delete(note.id), 403, `${who} deletes`);
      }
      assert.equal((await su.collection("notes").getOne(note.id)).body, "for superusers");
      assert.equal((await su.collection("notes").getList()).totalItems, 1);
    });

    // --- update replacing a file ----------------------------------------------------------

    test("the author replaces the cover: the old URL is 404, the new one serves the new bytes", async (t) => {
      needs(post, "the post with a cover");
      const oldUrl = guest.files.getURL(post, post.cover);
      const form = new FormData();
      form.append("cover", file(BLUE, "blue.png", "image/png"));
      const updated = await asAlice.collection("posts").update(post.id, form);
      assert.match(updated.cover, /^blue_[a-z0-9]{10}\.png$/);
      assert.equal(updated.title, "red post", "other fields unchanged");
      await assertFile404(oldUrl, "the replaced cover");
      await assertFileBytes(guest.files.getURL(updated, updated.cover), BLUE, "the new cover");
      await assertStored(t, updated, [updated.cover], "only the new cover");
      post = updated;
    });

    test("a file name that is not the record's is 404", async () => {
      needs(post, "the post with a cover");
      needs(postsId, "the posts collection id");
      await assertFile404(`${target.url}/api/files/${postsId}/${post.id}/nosuchfile_abcdefghij.png`, "unknown file");
      await assertFile404(`${target.url}/api/files/${postsId}/nosuchrecord123/${post.cover}`, "unknown record");
      // PocketBase's message differs here ("Missing or invalid collection context."): the status is what counts.
      await assertFile404(`${target.url}/api/files/nosuchcollection/${post.id}/${post.cover}`, "unknown collection", {
        anyMessage: true,
      });
    });

    // --- protected files ------------------------------------------------------------------

    test("a user creates a document with two protected files", async (t) => {
      const form = new FormData();
      form.append("name", "alice's papers");
      form.append("owner", alice.id);
      form.append("pages", "2");
      form.append("files", file(TEXT_A, "alpha.txt", "text/plain"));
      form.append("files", file(TEXT_B, "bravo.txt", "text/plain"));
      doc = await asAlice.collection("documents").create(form);
      assert.equal(doc.owner, alice.id);
      assert.equal(doc.pages, 2);
      assert.equal(doc.files.length, 2);
      assert.match(doc.files[0], /^alpha_[a-z0-9]{10}\.txt$/);
      assert.match(doc.files[1], /^bravo_[a-z0-9]{10}\.txt$/);
      await assertStored(t, doc, doc.files, "both files");
    });

    test("uploaded file names are sanitized and suffixed as PocketBase does", async () => {
      const cases = [
        ["../../etc/passwd.png", /^passwd_[a-z0-9]{10}\.png$/],
        ["My Photo (1).PNG", /^my_photo_1_[a-z0-9]{10}\.PNG$/],
        ["CamelCaseName.tar.gz", /^camel_case_name_[a-z0-9]{10}\.tar\.gz$/],
        ["a.txt", /^a[a-z0-9]{10}_[a-z0-9]{10}\.txt$/], // under 3 characters: padded
        ["noext", /^noext_[a-z0-9]{10}\.txt$/], // the extension from the content
      ];
      const form = new FormData();
      form.append("name", "names");
      form.append("owner", alice.id);
      for (const [name] of cases) form.append("files", file(TEXT_A, name, "application/octet-stream"));
      const record = await asAlice.collection("documents").create(form);
      assert.equal(record.files.length, cases.length);
      for (const [i, [name, pattern]] of cases.entries()) assert.match(record.files[i], pattern, name);
      const token = await asAlice.files.getToken();
      await assertFileBytes(asAlice.files.getURL(record, record.files[0], { token }), TEXT_A, "a sanitized name");
      await asAlice.collection("documents").delete(record.id);
    });

    test("a document for another owner fails the create rule: 400", async () => {
      const body = await rejectsWith(
        asBob.collection("documents").create({ name: "not mine", owner: alice.id }),
        400,
        "bob creates for alice",
      );
      assert.equal(body.message, "Failed to create record.");
    });

    test("pb.files.getToken gives a short-lived file token for the caller", async () => {
      const token = await asAlice.files.getToken();
      const claims = decodeJwt(token);
      assert.equal(claims.type, "file");
      assert.equal(claims.id, alice.id);
      assert.equal(claims.collectionId, "_pb_users_auth_");
      const ttl = claims.exp - Date.now() / 1000;
      assert.ok(ttl > 150 && ttl <= 181, `expires in ${ttl} s, PocketBase's 180 s`);
    });

    test("a guest cannot get a file token (401)", async () => {
      await rejectsWith(guest.files.getToken(), 401, "guest file token");
    });

    test("a protected file is 404 without a token and with another user's token, 200 with the owner's", async () => {
      needs(doc, "the protected document");
      const name = doc.files[0];
      await assertFile404(asAlice.files.getURL(doc, name), "no token");
      const bobsToken = await asBob.files.getToken();
      await assertFile404(asAlice.files.getURL(doc, name, { token: bobsToken }), "bob's file token");
      await assertFile404(asAlice.files.getURL(doc, name, { token: alice.token }), "alice's auth token as ?token=");
      await assertFile404(asAlice.files.getURL(doc, name, { token: "not.a.token" }), "a malformed token");
      const alicesToken = await asAlice.files.getToken();
      await assertFileBytes(asAlice.files.getURL(doc, name, { token: alicesToken }), TEXT_A, "alice's file token");
      await assertFileBytes(asAlice.files.getURL(doc, doc.files[1], { token: alicesToken }), TEXT_B, "the second file");
      // The file token goes in ?token=, not in Authorization.
      const response = await fetch(asAlice.files.getURL(doc, name), { headers: { authorization: alicesToken } });
      await response.arrayBuffer();
      assert.equal(response.status, 404, "a file token in Authorization");
    });

    test("a protected file is not stored by shared caches (edgefs on purpose; PocketBase sends its public Cache-Control)", async (t) => {
      needs(doc, "the protected document");
      if (target.kind !== "worker") return t.skip("PocketBase caches protected files like public ones");
      const token = await asAlice.files.getToken();
      const response = await assertFileBytes(asAlice.files.getURL(doc, doc.files[0], { token }), TEXT_A, "protected");
      assert.match(response.headers.get("cache-control") ?? "", /private|no-store/);
    });

    test("through the companion, the SDK's file URLs are served from PocketBase's bucket", async (t) => {
      if (!target.worker) return t.skip("only in companion mode");
      needs(post, "the post with a cover");
      needs(doc, "the protected document");
      const token = await asAlice.files.getToken();
      for (const url of [guest.files.getURL(post, post.cover), asAlice.files.getURL(doc, doc.files[0], { token })]) {
        const response = await fetch(url);
        await response.arrayBuffer();
        assert.equal(response.status, 200, url);
        assert.match(response.headers.get("x-edgefs-source") ?? "", /^(bucket|edge cache)$/, url);
      }
    });

    test("a superuser's file token opens any protected file", async () => {
      needs(doc, "the protected document");
      const token = await su.files.getToken();
      await assertFileBytes(su.files.getURL(doc, doc.files[0], { token }), TEXT_A, "superuser");
    });

    test("another user neither lists nor views the document (empty list, 404)", async () => {
      needs(doc, "the protected document");
      const bobs = await asBob.collection("documents").getList();
      assert.equal(bobs.totalItems, 0);
      assert.deepEqual(bobs.items, []);
      const guests = await guest.collection("documents").getList();
      assert.equal(guests.totalItems, 0);
      await rejectsWith(asBob.collection("documents").getOne(doc.id), 404, "bob views");
      await rejectsWith(guest.collection("documents").getOne(doc.id), 404, "guest views");
      await rejectsWith(asBob.collection("documents").update(doc.id, { name: "x" }), 404, "bob updates");
      await rejectsWith(asBob.collection("documents").delete(doc.id), 404, "bob deletes");
      const mine = await asAlice.collection("documents").getList();
      assert.deepEqual(
        mine.items.map((r) => r.id),
        [doc.id],
      );
    });

    test("a forged, alg:none or expired user token counts as no sign-in", async () => {
      needs(doc, "the protected document");
      assert.equal((await asAlice.collection("documents").getList()).totalItems, 1, "alice's own token");
      const claims = decodeJwt(alice.token);
      const payload = alice.token.split(".")[1];
      const bad = [
        ["a bad signature", signHs256(claims, "not-the-secret")],
        ["alg none", `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${payload}.`],
        ["garbage", "not-a-jwt"],
      ];
      const expired = await target.expiredUserToken?.(alice);
      if (expired) bad.push(["an expired token", expired]);
      for (const [what, token] of bad) {
        const pb = client(target.url, { token, record: alice.record });
        await rejectsWith(pb.files.getToken(), 401, `${what}: a file token`);
        const body = await rejectsWith(
          pb.collection("posts").create({ title: "forged", author: alice.id }),
          400,
          `${what}: create a post`,
        );
        assert.equal(body.message, "Failed to create record.", what);
        assert.equal((await pb.collection("documents").getList()).totalItems, 0, `${what}: alice's documents`);
      }
    });

    test("files+ appends a file and files- removes one: the removed one's URL is 404", async (t) => {
      needs(doc, "the protected document");
      const [removed, kept] = doc.files;
      const form = new FormData();
      form.append("files+", file(TEXT_C, "charlie.txt", "text/plain"));
      form.append("files-", removed);
      const updated = await asAlice.collection("documents").update(doc.id, form);
      assert.equal(updated.files.length, 2, JSON.stringify(updated.files));
      assert.equal(updated.files[0], kept);
      assert.match(updated.files[1], /^charlie_[a-z0-9]{10}\.txt$/);
      const token = await asAlice.files.getToken();
      await assertFile404(asAlice.files.getURL(doc, removed, { token }), "the removed file");
      await assertFileBytes(asAlice.files.getURL(updated, kept, { token }), TEXT_B, "the kept file");
      await assertFileBytes(asAlice.files.getURL(updated, updated.files[1], { token }), TEXT_C, "the appended file");
      await assertStored(t, updated, updated.files, "the kept and the appended file");
      doc = updated;
    });

    test("more files than maxSelect are refused and the record keeps its files", async (t) => {
      needs(doc, "the protected document");
      const form = new FormData();
      for (let i = 0; i < 4; i++) form.append("files+", file(TEXT_C, `extra${i}.txt`, "text/plain"));
      const body = await rejectsWith(asAlice.collection("documents").update(doc.id, form), 400, "six files");
      assert.equal(body.data?.files?.code, "validation_too_many_files", JSON.stringify(body));
      assert.deepEqual((await asAlice.collection("documents").getOne(doc.id)).files, doc.files);
      await assertStored(t, doc, doc.files, "no refused file stored");
    });

    // --- migration (issue 11 §2) -------------------------------------------------------

    // Every record of the app's collections and every file's bytes, as a superuser reads
    // them (protected files with a superuser's file token).
    async function everything() {
      const token = await su.files.getToken();
      const records = {};
      const files = {};
      for (const collection of await su.collections.getFullList()) {
        if (collection.system || collection.type === "view") continue;
        const list = await su.collection(collection.name).getFullList({ sort: "id" });
        records[collection.name] = list;
        for (const record of list) {
          for (const field of collection.fields.filter((f) => f.type === "file")) {
            for (const name of [record[field.name]].flat().filter(Boolean)) {
              const response = await fetch(su.files.getURL(record, name, { token }));
              assert.equal(response.status, 200, `${collection.name}/${record.id}/${name}`);
              files[`${collection.name}/${record.id}/${name}`] = Buffer.from(await response.arrayBuffer()).toString("base64");
            }
          }
        }
      }
      return { records, files };
    }

    async function migrate(from, to) {
      const totals = { copied: 0, skipped: 0, calls: 0 };
      let cursor = null;
      for (;;) {
        const response = await fetch(`${target.url}/api/storage/migrate`, {
          method: "POST",
          headers: { Authorization: su.authStore.token, "Content-Type": "application/json" },
          body: JSON.stringify({ from, to, cursor, limit: 5 }),
        });
        const batch = await response.json();
        assert.equal(response.status, 200, JSON.stringify(batch));
        assert.deepEqual(batch.failed, [], JSON.stringify(batch));
        totals.copied += batch.copied;
        totals.skipped += batch.skipped;
        totals.calls++;
        if (batch.done) return totals;
        cursor = batch.cursor;
      }
    }

    async function activeBackend() {
      const response = await fetch(`${target.url}/api/storage`, { headers: { Authorization: su.authStore.token } });
      return (await response.json()).active;
    }

    test("the suite's data migrates to another backend, which then serves every record and file byte for byte", async (t) => {
      if (target.kind !== "worker") return t.skip("edgefs's own API");
      needs(post, "the post with a cover");
      needs(doc, "the protected document");
      const before = await everything();
      assert.ok(Object.keys(before.files).length >= 3, `files to migrate: ${Object.keys(before.files)}`);
      const savedS3 = (await su.settings.getAll()).s3;
      const source = await activeBackend();
      // Onto S3 (a SeaweedFS of its own) from memory, KV or R2; from S3 onto the local store.
      let seaweed;
      let from, to, switchTo, switchBack;
      if (target.s3) {
        [from, to] = ["s3", "local"];
        switchTo = { enabled: false };
        switchBack = { enabled: true };
      } else {
        seaweed = await startSeaweedFs("edgefs-sdk-migrated");
        await su.settings.update({ s3: pocketbaseS3Settings(seaweed, { enabled: false }) });
        [from, to] = [source === "r2" ? "r2" : "local", "s3"];
        switchTo = { enabled: true };
        switchBack = { ...savedS3, enabled: false };
      }
      try {
        const first = await migrate(from, to);
        // With D1 the records stay in the database: only the files move.
        const records = target.backend === "d1" ? 0 : Object.values(before.records).flat().length;
        const objects = records + Object.keys(before.files).length;
        assert.equal(first.copied, objects, JSON.stringify(first));
        assert.equal(first.calls, Math.floor(objects / 5) + 1, "the page's loop: several calls under the subrequest limit");
        const again = await migrate(from, to);
        assert.equal(again.copied, 0, `a second run copies nothing: ${JSON.stringify(again)}`);

        await su.settings.update({ s3: switchTo });
        const now = await activeBackend();
        assert.notEqual(now, source, "the switch changed the backend");
        t.diagnostic(`${source} → ${now}: ${first.copied} objects in ${first.calls} calls`);
        assert.deepEqual(await everything(), before, `${now} serves what ${source} served`);
      } finally {
        await su.settings.update({ s3: switchBack });
        await seaweed?.stop();
      }
      assert.equal(await activeBackend(), source);
    });

    // --- delete --------------------------------------------------------------------------

    test("deleting a document removes it and its files", async (t) => {
      needs(doc, "the protected document");
      const token = await asAlice.files.getToken();
      const urls = doc.files.map((name) => asAlice.files.getURL(doc, name, { token }));
      await assertFileBytes(urls[0], TEXT_B, "before the delete");
      await asAlice.collection("documents").delete(doc.id);
      await rejectsWith(asAlice.collection("documents").getOne(doc.id), 404, "the deleted document");
      for (const url of urls) await assertFile404(url, "a deleted document's file");
      await assertStored(t, doc, [], "nothing left");
      assert.equal((await asAlice.collection("documents").getList()).totalItems, 0);
    });

    test("deleting a post removes its cover", async (t) => {
      needs(post, "the post with a cover");
      const url = guest.files.getURL(post, post.cover);
      await assertFileBytes(url, BLUE, "before the delete");
      await asAlice.collection("posts").delete(post.id);
      await rejectsWith(guest.collection("posts").getOne(post.id), 404, "the deleted post");
      await assertFile404(url, "the deleted post's cover");
      await assertStored(t, post, [], "nothing left");
      await rejectsWith(asAlice.collection("posts").delete(post.id), 404, "a second delete");
    });

    // --- settings ----------------------------------------------------------------------

    test("superusers read the settings: the s3 object, never the secret; a user gets 403, a guest 401", async () => {
      const settings = await su.settings.getAll();
      assert.ok(settings.s3, `no s3 object: ${JSON.stringify(settings).slice(0, 300)}`);
      assert.deepEqual(Object.keys(settings.s3).sort(), [
        "accessKey",
        "bucket",
        "enabled",
        "endpoint",
        "forcePathStyle",
        "region",
      ]);
      if (target.s3) {
        assert.equal(settings.s3.enabled, true);
        assert.equal(settings.s3.bucket, target.s3.bucket);
        assert.equal(settings.s3.endpoint, target.s3.endpoint);
        assert.equal(settings.s3.accessKey, target.s3.accessKey);
        assert.ok(!JSON.stringify(settings).includes(target.s3.secretKey), "the secret is never answered");
      } else {
        assert.equal(settings.s3.enabled, false);
      }
      await rejectsWith(asAlice.settings.getAll(), 403, "a user reads the settings");
      await rejectsWith(guest.settings.getAll(), 401, "a guest reads the settings");
    });

    test("testS3 without S3 enabled is a 400", async (t) => {
      if (target.s3) return t.skip("S3 is enabled on this target");
      const body = await rejectsWith(su.settings.testS3(), 400, "testS3");
      assert.match(body.message, /^Failed to test the S3 filesystem\./);
    });

    test("testS3 passes on the saved S3 settings and leaves nothing behind", async (t) => {
      if (!target.s3) return t.skip("no S3 on this target");
      const before = await target.objectKeys("");
      assert.equal(await su.settings.testS3(), true);
      assert.deepEqual(await target.objectKeys(""), before, "the probe is gone");
    });

    test("a wrong secret makes testS3 a 400 that does not echo it; a PATCH without the secret keeps the saved one", async (t) => {
      if (!target.s3) return t.skip("no S3 on this target");
      const wrong = "wrong-secret-for-the-sdk-suite";
      const patched = await su.settings.update({ s3: { secret: wrong } });
      assert.ok(!JSON.stringify(patched).includes(wrong), "the PATCH answer has no secret");
      try {
        const body = await rejectsWith(su.settings.testS3(), 400, "testS3 with a wrong secret");
        assert.match(body.message, /^Failed to test the S3 filesystem\./);
        assert.ok(!JSON.stringify(body).includes(wrong), "the secret is not echoed");
      } finally {
        await su.settings.update({ s3: { secret: target.s3.secretKey } });
      }
      assert.equal(await su.settings.testS3(), true, "the right secret again");
      await su.settings.update({ s3: { forcePathStyle: true } });
      assert.equal(await su.settings.testS3(), true, "a PATCH without the secret keeps it");
    });

    test("an invalid settings PATCH is a 400 naming the field and changes nothing", async () => {
      const before = (await su.settings.getAll()).s3;
      const body = await rejectsWith(su.settings.update({ s3: { enabled: true, bucket: "" } }), 400, "a blank bucket");
      assert.equal(body.data?.s3?.bucket?.code, "validation_required", JSON.stringify(body));
      assert.deepEqual((await su.settings.getAll()).s3, before);
      await rejectsWith(asAlice.settings.update({ s3: { enabled: false } }), 403, "a user patches the settings");
    });
  });
}
