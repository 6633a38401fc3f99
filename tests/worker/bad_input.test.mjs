// SPEC §7, bad input, against the built Worker under Miniflare over real HTTP on
// 127.0.0.1, once per storage backend (memory, KV, R2, and S3 on a signature-checking
// SeaweedFS): path traversal and encoded separators, malformed multipart forms,
// oversized and refused files, malformed, forged and expired tokens, bad JSON, bodies
// sent to routes that refuse before reading them, and bad list parameters. Every case
// checks PocketBase's error document `{data, message, status}` with the right status
// AND that nothing was left behind: the records of `posts` and `documents` (as a
// superuser sees them) and, where the backend is observable from outside, the objects
// under `{collectionId}/` and `.edgefs/records/{collectionId}/` are unchanged.
//
//   bash scripts/lib-worker.sh build   # only if src/ changed since build/ was written
//   source scripts/lib-env.sh && node --test tests/worker/bad_input.test.mjs
//   EDGEFS_BAD_BACKENDS=memory,s3 node --test tests/worker/bad_input.test.mjs
//
// The same suite runs against the real PocketBase 0.40.6 (with its local storage) as
// the reference; cases that need the app's AUTH_SECRET or are edgefs's own limits
// skip there:
//
//   EDGEFS_BAD_TARGET=pocketbase node --test tests/worker/bad_input.test.mjs
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { decodeJwt, signHs256 } from "./lib/jwt.mjs";
import { png } from "./lib/files.mjs";
import { NOT_FOUND } from "./lib/sdk.mjs";
import { BACKENDS, startWorker } from "./lib/worker.mjs";
import { defaultCollections, startPocketBase } from "./lib/pocketbase.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));

// lib/worker.mjs's AUTH_SECRET (not exported there). The suite first checks that a
// token it signs with it is accepted, so a change there fails loudly instead of
// making the forged-token cases pass for the wrong reason.
const WORKER_AUTH_SECRET = "edgefs-sdk-suite-auth-secret-0123456789abcdef";

const MiB = 1024 * 1024;
const RED = png(4, 4, [255, 0, 0]);
const TEXT = Buffer.from("a perfectly fine text file\n");
const FAILED_TO_READ = "Failed to read the submitted data.";
// PocketBase 0.40.6 answers a body it cannot parse (JSON or multipart) with its generic
// 400 and an empty `data`; edgefs answers FAILED_TO_READ with the reason in
// `data.body`. Either is a PocketBase-shaped 400 an SDK user handles the same way.
const UNREADABLE = [FAILED_TO_READ, "Something went wrong while processing your request."];
const FAILED_TO_CREATE = "Failed to create record.";
const BAD_REQUEST = "Something went wrong while processing your request.";
const MARKER = "edgefs-bad-input-marker-bucket";

function targets() {
  const which = process.env.EDGEFS_BAD_TARGET || "worker";
  if (which === "pocketbase") {
    const collections = defaultCollections(root);
    return [{ label: "pocketbase", start: () => startPocketBase({ collections }) }];
  }
  if (which !== "worker") throw new Error(`EDGEFS_BAD_TARGET=${which}: worker or pocketbase`);
  const wanted = (process.env.EDGEFS_BAD_BACKENDS || BACKENDS.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const b of wanted) if (!BACKENDS.includes(b)) throw new Error(`unknown backend ${b}: ${BACKENDS}`);
  return wanted.map((backend) => ({ label: `worker on ${backend}`, start: () => startWorker(root, backend) }));
}

/** A multipart/form-data body; parts are {name, data, filename?, type?}. */
function multipart(boundary, parts, { final = true } = {}) {
  const chunks = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if (part.filename !== undefined) head += `; filename="${part.filename}"\r\nContent-Type: ${part.type}`;
    chunks.push(Buffer.from(`${head}\r\n\r\n`), Buffer.from(part.data), Buffer.from("\r\n"));
  }
  if (final) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const b64url = (data) => Buffer.from(data).toString("base64url");

/** A JWT with any header, signed with HMAC-`hash` over `secret` (or a given signature). */
function jwt(header, claims, { secret, hash = "sha256", signature } = {}) {
  const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = signature ?? (secret ? createHmac(hash, secret).update(signing).digest("base64url") : "");
  return `${signing}.${sig}`;
}

/** An error's first line, with the network cause fetch hides behind "fetch failed". */
function firstLine(error) {
  const cause = error.cause ? ` (${error.cause.code ?? ""} ${error.cause.message ?? ""})` : "";
  return `${error.message.split("\n")[0]}${cause}`.slice(0, 240);
}

/** The token with one byte of its signature flipped (a byte, not a base64 character). */
function flipSignatureByte(token) {
  const [h, p, s] = token.split(".");
  const sig = Buffer.from(s, "base64url");
  sig[5] ^= 0x01;
  return `${h}.${p}.${sig.toString("base64url")}`;
}

for (const { label, start } of targets()) {
  describe(label, () => {
    let target;
    let suToken;
    let alice, bob;
    let ids = {}; // collection name → id
    let post; // alice's post with a cover
    let doc; // alice's document with one protected file
    let secrets = []; // strings no answer may contain (the settings' marker, the S3 secret)

    // --- requests -------------------------------------------------------------------

    /** A fetch to the target; answers {status, text, json, headers}. */
    async function call(method, path, { token, body, headers = {} } = {}) {
      const h = { ...headers };
      if (token) h.authorization = token;
      const response = await fetch(target.url + path, { method, headers: h, body });
      const text = await response.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {}
      return { status: response.status, text, json, headers: response.headers, request: `${method} ${path}` };
    }

    /**
     * The exact request line `path`, bytes as given (fetch normalizes `..`, `%2e%2e`
     * and backslashes; this does not).
     */
    function raw(method, path, { headers = {}, body } = {}) {
      const { hostname, port } = new URL(target.url);
      return new Promise((resolve, reject) => {
        const request = http.request(
          { host: hostname, port, method, path, agent: false, headers: { ...headers, ...(body ? { "content-length": body.length } : {}) } },
          (response) => {
            const chunks = [];
            response.on("data", (c) => chunks.push(c));
            response.on("error", reject);
            response.on("end", () => {
              const text = Buffer.concat(chunks).toString("utf8");
              let json;
              try {
                json = JSON.parse(text);
              } catch {}
              resolve({ status: response.statusCode, text, json, headers: response.headers, request: `${method} ${path}` });
            });
          },
        );
        request.on("error", reject);
        request.end(body);
      });
    }

    // --- assertions -----------------------------------------------------------------

    /** PocketBase's error document with `status` (and `message`, when given). */
    function assertError(res, status, message, what = res.request) {
      const got = `${res.request} answered ${res.status} ${res.text.slice(0, 400)}`;
      assert.equal(res.status, status, `${what}: expected ${status}; ${got}`);
      assert.ok(res.json && typeof res.json === "object" && !Array.isArray(res.json), `${what}: not a JSON object; ${got}`);
      assert.deepEqual(Object.keys(res.json).sort(), ["data", "message", "status"], `${what}: the error's keys; ${got}`);
      assert.equal(res.json.status, status, `${what}: the body's status; ${got}`);
      assert.equal(typeof res.json.message, "string", `${what}: message; ${got}`);
      assert.ok(res.json.data && typeof res.json.data === "object", `${what}: data; ${got}`);
      if (message !== undefined) assert.equal(res.json.message, message, `${what}: message; ${got}`);
      assertNoSecrets(res, what);
      return res.json;
    }

    /** 404 exactly `{"data":{},"message":"The requested resource wasn't found.","status":404}`. */
    function assertNotFound(res, what = res.request, { anyMessage = false } = {}) {
      const body = assertError(res, 404, anyMessage ? undefined : NOT_FOUND.message, what);
      assert.deepEqual(body.data, {}, `${what}: data`);
      return body;
    }

    /** A 400 for a body that cannot be read: one of the two messages above. */
    function assertUnreadable(res, what = res.request) {
      const body = assertError(res, 400, undefined, what);
      assert.ok(UNREADABLE.includes(body.message), `${what}: message ${JSON.stringify(body.message)}`);
      return body;
    }

    /**
     * 404, or (PocketBase: Go's router cleans `..` segments) a redirect to the cleaned
     * path that answers 404 in turn; never the object.
     */
    async function assertNotFoundOrCleaned(res, what, options) {
      if ([301, 302, 307, 308].includes(res.status) && res.headers.location) {
        assertNoSecrets(res, what);
        const location = new URL(res.headers.location, target.url);
        assert.equal(location.origin, new URL(target.url).origin, `${what}: redirected off the server`);
        return assertNotFound(await raw("GET", location.pathname + location.search), `${what} → ${location.pathname}`, { anyMessage: true });
      }
      // The Workers runtime cleans dot segments (`..`, `%2e%2e`, and `\` as `/`) before
      // the Worker sees the URL, as Go's router does with its redirect above: the cleaned
      // path's 404 may be either of PocketBase's messages.
      const cleaned = /\.\.|%2e|\\/i.test(res.request ?? "");
      return assertNotFound(res, what, cleaned ? { ...options, anyMessage: true } : options);
    }

    /** A validation 400 with `data[field].code`. */
    function assertValidation(res, field, code, what = res.request) {
      const body = assertError(res, 400, undefined, what);
      assert.equal(body.data?.[field]?.code, code, `${what}: data.${field}.code in ${res.text.slice(0, 400)}`);
      assert.equal(typeof body.data[field].message, "string", `${what}: data.${field}.message`);
      return body;
    }

    function assertNoSecrets(res, what) {
      for (const secret of secrets) {
        assert.ok(!res.text.includes(secret), `${what}: the answer contains ${secret}: ${res.text.slice(0, 300)}`);
      }
      // A record's or the settings' JSON answered by the files route.
      if (res.request?.includes("/api/files/")) {
        assert.ok(!/"s3"\s*:|"accessKey"|"collectionId"/.test(res.text), `${what}: stored JSON served: ${res.text.slice(0, 300)}`);
      }
    }

    // --- state ----------------------------------------------------------------------

    /** Everything a bad request must not change. */
    async function state() {
      const out = {};
      for (const name of ["posts", "documents"]) {
        const res = await call("GET", `/api/collections/${name}/records?perPage=1000`, { token: suToken });
        assert.equal(res.status, 200, `listing ${name} as a superuser: ${res.text.slice(0, 300)}`);
        out[name] = res.json.items.map((r) => JSON.stringify(r)).sort();
        out[`${name} total`] = res.json.totalItems;
        for (const prefix of [`${ids[name]}/`, `.edgefs/records/${ids[name]}/`]) {
          out[prefix] = await target.objectKeys(prefix);
        }
      }
      return out;
    }

    /** Runs `fn`; asserts the records and objects are as they were. */
    async function leavesNothing(what, fn) {
      const before = await state();
      const result = await fn();
      assert.deepEqual(await state(), before, `${what}: left something behind`);
      return result;
    }

    function needs(value, what) {
      assert.ok(value, `needs ${what}, which the setup failed to create`);
    }

    const worker = () => target.kind === "worker";

    // --- setup ----------------------------------------------------------------------

    before(async () => {
      target = await start();
      const auth = await call("POST", "/api/collections/_superusers/auth-with-password", {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ identity: target.superuser.email, password: target.superuser.password }),
      });
      assert.equal(auth.status, 200, `superuser sign-in: ${auth.text}`);
      suToken = auth.json.token;
      for (const name of ["posts", "documents"]) {
        const res = await call("GET", `/api/collections/${name}`, { token: suToken });
        assert.equal(res.status, 200, `collection ${name}: ${res.text}`);
        ids[name] = res.json.id;
      }
      alice = await target.user();
      bob = await target.user();

      // Something for the settings route to persist (the config object the traversal
      // cases try to read), unless S3 is configured: there the S3 secret is the marker.
      if (target.s3) {
        secrets = [target.s3.secretKey];
      } else {
        const res = await call("PATCH", "/api/settings", {
          token: suToken,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ s3: { enabled: false, bucket: MARKER } }),
        });
        assert.equal(res.status, 200, `settings PATCH: ${res.text.slice(0, 300)}`);
        secrets = [MARKER];
      }

      const postForm = new FormData();
      postForm.append("title", "alice's post");
      postForm.append("author", alice.id);
      postForm.append("cover", new File([RED], "red.png", { type: "image/png" }));
      const created = await call("POST", "/api/collections/posts/records", { token: alice.token, body: postForm });
      assert.equal(created.status, 200, `the post: ${created.text.slice(0, 300)}`);
      post = created.json;

      const docForm = new FormData();
      docForm.append("name", "alice's document");
      docForm.append("owner", alice.id);
      docForm.append("files", new File([TEXT], "alpha.txt", { type: "text/plain" }));
      const createdDoc = await call("POST", "/api/collections/documents/records", { token: alice.token, body: docForm });
      assert.equal(createdDoc.status, 200, `the document: ${createdDoc.text.slice(0, 300)}`);
      doc = createdDoc.json;
    });

    after(async () => {
      await target?.stop();
    });

    test("setup: the cover and the protected file are served to those allowed, and the suite's AUTH_SECRET is the Worker's", async (t) => {
      needs(post, "the post");
      needs(doc, "the document");
      const cover = await call("GET", `/api/files/posts/${post.id}/${post.cover}`);
      assert.equal(cover.status, 200);
      const fileToken = (await call("POST", "/api/files/token", { token: alice.token })).json?.token;
      assert.ok(fileToken, "alice gets a file token");
      const file = await call("GET", `/api/files/documents/${doc.id}/${doc.files[0]}?token=${fileToken}`);
      assert.equal(file.status, 200);
      assert.equal(file.text, TEXT.toString());
      if (!worker()) return t.skip("PocketBase's tokens are not signed with the suite's secret");
      const claims = decodeJwt(alice.token);
      const resigned = signHs256(claims, WORKER_AUTH_SECRET);
      const res = await call("POST", "/api/files/token", { token: resigned });
      assert.equal(res.status, 200, `a token signed with WORKER_AUTH_SECRET is refused: lib/worker.mjs changed it? ${res.text}`);
      if (target.objectKeys && target.backend === "kv") {
        const keys = await target.objectKeys(".edgefs/");
        t.diagnostic(`config objects in the KV namespace that also holds the files: ${keys.filter((k) => !k.startsWith(".edgefs/records/")).join(", ")}`);
      }
    });

    // --- path traversal and encoded separators ---------------------------------------

    test("path traversal and encoded separators in a file's name: 404, never the config or a record's JSON", async () => {
      needs(post, "the post");
      const base = `/api/files/posts/${post.id}`;
      const baseById = `/api/files/${ids.posts}/${post.id}`;
      const targetsToRead = [
        ".edgefs/settings.json",
        ".edgefs/collections.json",
        `.edgefs/records/${ids.posts}/${post.id}.json`,
        `.edgefs/records/${ids.documents}/${doc?.id}.json`,
        `${ids.documents}/${doc?.id}/${doc?.files?.[0]}`, // a protected file through a public record
      ];
      const ups = ["../../", "../../../", "../../../../"];
      // Ways to write `../` and `/` in one path segment.
      const encodings = [
        (s) => s.replaceAll("/", "%2F"),
        (s) => s.replaceAll("/", "%2f"),
        (s) => s.replaceAll(".", "%2e").replaceAll("/", "%2f"),
        (s) => s.replaceAll(".", "%2E").replaceAll("/", "%2F"),
        (s) => s.replaceAll("/", "%5C"),
        (s) => s.replaceAll("/", "\\"),
        (s) => s.replaceAll("/", "%252F"),
        (s) => s.replaceAll(".", "%252e").replaceAll("/", "%252f"),
        (s) => s.replaceAll("/", "%c0%af"), // overlong UTF-8 '/'
        (s) => s.replaceAll("/", "%ef%bc%8f"), // fullwidth solidus
        (s) => s.replaceAll("../", "....//").replaceAll("/", "%2F"),
        (s) => s.replaceAll("/", "%2F").replaceAll("..", "..;"),
      ];
      const paths = [];
      for (const t of targetsToRead) {
        for (const up of ups) for (const enc of encodings) {
          paths.push(`${base}/${enc(up + t)}`);
          paths.push(`${baseById}/${enc(up + t)}`);
        }
        // Literal dot segments (fetch would normalize these away).
        paths.push(`${base}/../../${t}`, `${base}/%2e%2e/%2e%2e/${t}`, `/api/files/posts/../../${t}`);
        // The name after a real file name, a NUL, the whole path as the name.
        paths.push(`${base}/${post.cover}%2F..%2F..%2F..%2F${t.replaceAll("/", "%2F")}`);
        paths.push(`${base}/${post.cover}/../../../${t}`);
        paths.push(`${base}/${post.cover}%00${t.replaceAll("/", "%2F")}`);
        paths.push(`/api/files/${t.replaceAll("/", "%2F")}`);
        paths.push(`/api/files/${t}`);
      }
      // The config object addressed as collection/record/name in every split.
      paths.push(
        "/api/files/.edgefs/settings.json/x",
        "/api/files/.edgefs/x/settings.json",
        "/api/files/.edgefs%2F/x/settings.json",
        "/api/files/posts/.edgefs/settings.json",
        "/api/files/posts/.edgefs%2F/settings.json",
        `/api/files/.edgefs/records/${ids.posts}%2F${post.id}.json`,
        `/api/files/.edgefs%2Frecords/${ids.posts}/${post.id}.json`,
        `/api/files/posts/.edgefs%2Frecords%2F${ids.posts}/${post.id}.json`,
        `/api/files/posts/..%2F..%2F.edgefs/settings.json`,
        `/api/files/posts/%2e%2e%2f%2e%2e%2f.edgefs/settings.json`,
        `/api/files/posts/${post.id}/.edgefs%2Fsettings.json`,
        `/api/files/posts/${post.id}/.edgefs%5Csettings.json`,
        `/api/files/posts/${post.id}/%2Eedgefs%2Fsettings.json`,
        `/api/files/posts/${post.id}/settings.json`,
        `/api/files/posts/${post.id}/${post.id}.json`,
        `/api/files/posts/${post.id}/.`,
        `/api/files/posts/${post.id}/..`,
        `/api/files/posts/${post.id}/%2e`,
        `/api/files/posts/${post.id}/%2e%2e`,
        `/api/files/posts/${post.id}/%2F`,
        `/api/files/posts/${post.id}/%00`,
      );
      for (const path of paths) {
        for (const method of ["GET", "HEAD"]) {
          const res = await raw(method, path);
          if (method === "HEAD") {
            assert.ok([404, 301, 307, 308].includes(res.status), `HEAD ${path}: ${res.status}`);
            assert.equal(res.text, "", `HEAD ${path}: a body`);
            continue;
          }
          // PocketBase words an unknown collection differently; the status and the
          // shape are what count there.
          const anyMessage = !worker() || (!path.startsWith("/api/files/posts/") && !path.startsWith(`/api/files/${ids.posts}/`));
          await assertNotFoundOrCleaned(res, path, { anyMessage });
        }
      }
    });

    test("a record id with separators, dots or double encoding on the files route: 404", async () => {
      needs(post, "the post");
      const ids_ = [
        `.edgefs%2Frecords%2F${ids.posts}%2F${post.id}`,
        `.edgefs%2Frecords%2F${ids.posts}%2F${post.id}.json`,
        `${post.id}%2F`,
        `${post.id}%2F.`,
        `${post.id}%2F..%2F${post.id}`,
        `x%2F..%2F${post.id}`,
        `${post.id}%252F`,
        `x%252F..%252F${post.id}`,
        `..%5C${post.id}`,
        `.%2F${post.id}`,
        `${post.id}.json`,
        `${post.id}%00`,
        `${post.id}%20`,
        `%20${post.id}`,
        `${post.id.toUpperCase()}`,
        `..`,
        `%2e%2e`,
      ];
      for (const id of ids_) {
        await assertNotFoundOrCleaned(await raw("GET", `/api/files/posts/${id}/${post.cover}`), `files: record id ${id}`, { anyMessage: id === ".." });
        await assertNotFoundOrCleaned(await raw("GET", `/api/files/${ids.posts}/${id}/${post.cover}`), `files by collection id: record id ${id}`, { anyMessage: id === ".." });
      }
      // The file name must be one of this record's, not another record's.
      needs(doc, "the document");
      assertNotFound(await raw("GET", `/api/files/posts/${post.id}/${doc.files[0]}`), "another record's file name");
      assertNotFound(await raw("GET", `/api/files/documents/${doc.id}/${post.cover}`), "a file name of a record of another collection");
      assertNotFound(await raw("GET", `/api/files/posts/${post.id}/${post.cover.toUpperCase()}`), "the file name in upper case");
      assertNotFound(await raw("GET", `/api/files/posts/${post.id}/${post.cover}.json`), "the file name with a suffix");
    });

    test("a record id with separators on the records routes: 404 and nothing changes", async () => {
      needs(post, "the post");
      const bad = [
        `.edgefs%2Frecords%2F${ids.posts}%2F${post.id}`,
        `..%2F..%2F..%2Fsettings`,
        `..%2F..%2Fsettings.json`,
        `%2e%2e%2f%2e%2e%2fsettings`,
        `..%5C..%5Csettings`,
        `${post.id}%2F`,
        `${post.id}%2F..%2F${post.id}`,
        `x%2F..%2F${post.id}`,
        `${post.id}%252F`,
        `x%252F..%252F${post.id}`,
        `${post.id}.json`,
        `${post.id}%00`,
        `%2e%2e`,
      ];
      await leavesNothing("records routes with bad ids", async () => {
        for (const id of bad) {
          const path = `/api/collections/posts/records/${id}`;
          const o = { anyMessage: id === ".." };
          await assertNotFoundOrCleaned(await raw("GET", path), `view ${id}`, o);
          await assertNotFoundOrCleaned(
            await raw("PATCH", path, {
              headers: { authorization: alice.token, "content-type": "application/json" },
              body: Buffer.from(JSON.stringify({ title: "patched through a bad id" })),
            }),
            `update ${id}`,
            o,
          );
          await assertNotFoundOrCleaned(await raw("DELETE", path, { headers: { authorization: alice.token } }), `delete ${id}`, o);
          await assertNotFoundOrCleaned(await raw("DELETE", path, { headers: { authorization: suToken } }), `superuser delete ${id}`, o);
        }
        // Collections addressed with separators.
        for (const c of [`posts%2F..%2Fdocuments`, `..%2Fposts`, `.edgefs`, `.edgefs%2Frecords`, `posts%00`, `%2e%2e`]) {
          await assertNotFoundOrCleaned(await raw("GET", `/api/collections/${c}/records`), `list ${c}`, { anyMessage: true });
          await assertNotFoundOrCleaned(await raw("GET", `/api/collections/${c}/records/${post.id}`), `view in ${c}`, { anyMessage: true });
        }
      });
    });

    // --- malformed multipart ------------------------------------------------------------

    test("malformed multipart forms: 400 and no record, no object", async (t) => {
      needs(alice, "alice");
      const parts = [
        { name: "title", data: "from a malformed form" },
        { name: "author", data: alice.id },
        { name: "cover", data: RED, filename: "red.png", type: "image/png" },
      ];
      const good = multipart("edgefsBoundary", parts);
      // [what, content type, body, PocketBase differs]
      const cases = [
        ["a boundary that is not the body's", "multipart/form-data; boundary=someOtherBoundary", good],
        // PocketBase 0.40.6 drops the cut file part and creates the record without a
        // cover (measured); SPEC §7 wants it refused with nothing left behind.
        ["a body cut inside the file", "multipart/form-data; boundary=edgefsBoundary", good.subarray(0, good.indexOf(Buffer.from("IDAT"))), true],
        ["no final boundary", "multipart/form-data; boundary=edgefsBoundary", multipart("edgefsBoundary", parts, { final: false })],
        ["multipart without a boundary", "multipart/form-data", good],
        ["an empty boundary", "multipart/form-data; boundary=", good],
        ["an empty body", "multipart/form-data; boundary=edgefsBoundary", Buffer.alloc(0)],
        ["a body that is not multipart", "multipart/form-data; boundary=edgefsBoundary", Buffer.from('{"title":"json in a form","author":"x"}')],
      ];
      for (const [what, contentType, body, pocketbaseDiffers] of cases) {
        if (pocketbaseDiffers && !worker()) {
          t.diagnostic(`${what}: skipped on PocketBase, which differs here`);
          continue;
        }
        await leavesNothing(what, async () => {
          const res = await raw("POST", "/api/collections/posts/records", {
            headers: { authorization: alice.token, "content-type": contentType },
            body,
          });
          assertUnreadable(res, what);
        });
      }
      // The same on an update: the record keeps its fields and its file.
      needs(post, "the post");
      if (!worker()) return t.diagnostic("the truncated update: skipped on PocketBase, which keeps what it read");
      await leavesNothing("a truncated form on an update", async () => {
        const body = multipart("edgefsBoundary", [
          { name: "title", data: "patched by a truncated form" },
          { name: "cover", data: RED, filename: "new.png", type: "image/png" },
        ]);
        const res = await raw("PATCH", `/api/collections/posts/records/${post.id}`, {
          headers: { authorization: alice.token, "content-type": "multipart/form-data; boundary=edgefsBoundary" },
          body: body.subarray(0, body.length - 40),
        });
        assertUnreadable(res, "a truncated form on an update");
      });
    });

    test("an upload the client abandons half-way leaves no record and no object", async () => {
      needs(alice, "alice");
      const big = Buffer.alloc(2 * MiB, "x");
      const body = multipart("edgefsBoundary", [
        { name: "name", data: "abandoned upload" },
        { name: "owner", data: alice.id },
        { name: "files", data: TEXT, filename: "first.txt", type: "text/plain" },
        { name: "files", data: big, filename: "second.txt", type: "text/plain" },
      ]);
      const before = await state();
      const { hostname, port } = new URL(target.url);
      const socket = net.connect(Number(port), hostname);
      socket.on("error", () => {});
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(
        `POST /api/collections/documents/records HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: ${alice.token}\r\n` +
          `Content-Type: multipart/form-data; boundary=edgefsBoundary\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body.subarray(0, body.length - MiB));
      await new Promise((resolve) => setTimeout(resolve, 500));
      socket.destroy();
      // Give the Worker time to notice, then check a few times: nothing may appear later.
      for (let i = 0; i < 4; i++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.deepEqual(await state(), before, `after ${(i + 2) * 0.5} s: the abandoned upload left something behind`);
      }
      // And the Worker still answers.
      assert.equal((await call("GET", "/api/health")).status, 200);
    });

    // --- oversized, too many and refused files -------------------------------------------

    test("a cover over posts.cover's 5 MiB: validation_file_size_limit, nothing stored; exactly 5 MiB is accepted", async () => {
      needs(alice, "alice");
      const over = Buffer.concat([RED, Buffer.alloc(5 * MiB + 1 - RED.length)]);
      await leavesNothing("an oversized cover", async () => {
        const form = new FormData();
        form.append("title", "oversized cover");
        form.append("author", alice.id);
        form.append("cover", new File([over], "big.png", { type: "image/png" }));
        assertValidation(await call("POST", "/api/collections/posts/records", { token: alice.token, body: form }), "cover", "validation_file_size_limit");
      });
      needs(post, "the post");
      await leavesNothing("an oversized cover on an update", async () => {
        const form = new FormData();
        form.append("title", "retitled by an oversized cover");
        form.append("cover", new File([over], "big.png", { type: "image/png" }));
        assertValidation(
          await call("PATCH", `/api/collections/posts/records/${post.id}`, { token: alice.token, body: form }),
          "cover",
          "validation_file_size_limit",
        );
      });
      const exact = Buffer.concat([RED, Buffer.alloc(5 * MiB - RED.length)]);
      const form = new FormData();
      form.append("title", "exactly 5 MiB");
      form.append("author", alice.id);
      form.append("cover", new File([exact], "exact.png", { type: "image/png" }));
      const ok = await call("POST", "/api/collections/posts/records", { token: alice.token, body: form });
      assert.equal(ok.status, 200, `a cover of exactly maxSize: ${ok.text.slice(0, 300)}`);
      const del = await call("DELETE", `/api/collections/posts/records/${ok.json.id}`, { token: alice.token });
      assert.equal(del.status, 204);
    });

    test("a file over documents.files' 25 MiB: validation_file_size_limit, nothing stored", async () => {
      needs(alice, "alice");
      await leavesNothing("a 25 MiB + 1 document file", async () => {
        const form = new FormData();
        form.append("name", "oversized");
        form.append("owner", alice.id);
        form.append("files", new File([Buffer.alloc(25 * MiB + 1, "y")], "big.txt", { type: "text/plain" }));
        assertValidation(await call("POST", "/api/collections/documents/records", { token: alice.token, body: form }), "files", "validation_file_size_limit");
      });
    });

    test("a create whose second file is too big stores neither file; the same on an update with files+", async () => {
      needs(alice, "alice");
      await leavesNothing("a good file then a too big one", async () => {
        const form = new FormData();
        form.append("name", "second file too big");
        form.append("owner", alice.id);
        form.append("files", new File([TEXT], "fine.txt", { type: "text/plain" }));
        form.append("files", new File([Buffer.alloc(25 * MiB + 1, "z")], "big.txt", { type: "text/plain" }));
        assertValidation(await call("POST", "/api/collections/documents/records", { token: alice.token, body: form }), "files", "validation_file_size_limit");
      });
      needs(doc, "the document");
      await leavesNothing("files+ with a good file then a too big one", async () => {
        const form = new FormData();
        form.append("name", "renamed by a refused update");
        form.append("files+", new File([TEXT], "fine.txt", { type: "text/plain" }));
        form.append("files+", new File([Buffer.alloc(25 * MiB + 1, "z")], "big.txt", { type: "text/plain" }));
        assertValidation(
          await call("PATCH", `/api/collections/documents/records/${doc.id}`, { token: alice.token, body: form }),
          "files",
          "validation_file_size_limit",
        );
      });
    });

    test("a create whose second field's file has the wrong type stores nothing (post: good cover, then a text cover)", async () => {
      // posts.cover keeps the newest of two files (maxSelect 1): the second, refused one.
      needs(alice, "alice");
      await leavesNothing("a good cover then a text cover", async () => {
        const form = new FormData();
        form.append("title", "second cover not an image");
        form.append("author", alice.id);
        form.append("cover", new File([RED], "fine.png", { type: "image/png" }));
        form.append("cover", new File([TEXT], "text.png", { type: "image/png" }));
        const res = await call("POST", "/api/collections/posts/records", { token: alice.token, body: form });
        assertValidation(res, "cover", "validation_invalid_mime_type");
      });
    });

    test("too many files: validation_too_many_files, nothing stored", async () => {
      needs(alice, "alice");
      await leavesNothing("six files for maxSelect 5", async () => {
        const form = new FormData();
        form.append("name", "six files");
        form.append("owner", alice.id);
        for (let i = 0; i < 6; i++) form.append("files", new File([TEXT], `f${i}.txt`, { type: "text/plain" }));
        assertValidation(await call("POST", "/api/collections/documents/records", { token: alice.token, body: form }), "files", "validation_too_many_files");
      });
      needs(doc, "the document");
      await leavesNothing("files+ past maxSelect on an update", async () => {
        const form = new FormData();
        for (let i = 0; i < 5; i++) form.append("files+", new File([TEXT], `more${i}.txt`, { type: "text/plain" }));
        assertValidation(
          await call("PATCH", `/api/collections/documents/records/${doc.id}`, { token: alice.token, body: form }),
          "files",
          "validation_too_many_files",
        );
      });
    });

    test("a cover that is not an image: validation_invalid_mime_type, nothing stored, whatever the declared type", async () => {
      needs(alice, "alice");
      const fakes = [
        ["text named .png and declared image/png", TEXT, "cover.png", "image/png"],
        ["html declared image/png", Buffer.from("<html><script>alert(1)</script></html>"), "x.png", "image/png"],
        ["svg (not in the list)", Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), "x.svg", "image/svg+xml"],
        ["an empty file", Buffer.alloc(0), "empty.png", "image/png"],
      ];
      for (const [what, data, name, type] of fakes) {
        await leavesNothing(what, async () => {
          const form = new FormData();
          form.append("title", what);
          form.append("author", alice.id);
          form.append("cover", new File([data], name, { type }));
          const res = await call("POST", "/api/collections/posts/records", { token: alice.token, body: form });
          // PocketBase ignores an empty file part; anything else is a mime error.
          if (data.length === 0) {
            if (res.status === 200) {
              assert.equal(res.json.cover, "", `${what}: no cover stored`);
              await call("DELETE", `/api/collections/posts/records/${res.json.id}`, { token: alice.token });
              return;
            }
            assertError(res, 400, undefined, what);
            return;
          }
          assertValidation(res, "cover", "validation_invalid_mime_type", what);
        });
      }
    });

    // --- tokens ---------------------------------------------------------------------------

    test("malformed, forged, expired and wrong-kind tokens count as no sign-in", async () => {
      needs(doc, "the document");
      const claims = decodeJwt(alice.token);
      const [h, p] = alice.token.split(".");
      const fileToken = (await call("POST", "/api/files/token", { token: alice.token })).json?.token;
      assert.ok(fileToken, "alice's file token");
      const bad = [
        ["garbage", "not-a-jwt"],
        ["two parts", `${h}.${p}`],
        ["four parts", `${alice.token}.x`],
        ["bad base64", "eyJ!!!.eyJ***.abc~~~"],
        ["header not JSON", `${b64url("not json")}.${p}.${alice.token.split(".")[2]}`],
        ["a flipped signature byte", flipSignatureByte(alice.token)],
        ["an empty signature", `${h}.${p}.`],
        ["another secret", signHs256(claims, "not-the-secret")],
        ["alg none, no signature", jwt({ alg: "none", typ: "JWT" }, claims)],
        ["alg none, the original signature", jwt({ alg: "none", typ: "JWT" }, claims, { signature: alice.token.split(".")[2] })],
        ["alg None", jwt({ alg: "None", typ: "JWT" }, claims)],
        ["alg NONE", jwt({ alg: "NONE" }, claims)],
        ["Bearer and garbage", "Bearer not-a-jwt"],
      ];
      if (worker()) {
        bad.push(
          ["an expired token", await target.expiredUserToken(alice)],
          ["alg HS512 signed with the right secret", jwt({ alg: "HS512", typ: "JWT" }, claims, { secret: WORKER_AUTH_SECRET, hash: "sha512" })],
          ["alg HS384 signed with the right secret", jwt({ alg: "HS384", typ: "JWT" }, claims, { secret: WORKER_AUTH_SECRET, hash: "sha384" })],
          ["alg RS256 with an HS256 signature by the right secret", jwt({ alg: "RS256", typ: "JWT" }, claims, { secret: WORKER_AUTH_SECRET })],
          ["no alg, HS256 signature by the right secret", jwt({ typ: "JWT" }, claims, { secret: WORKER_AUTH_SECRET })],
          ["exp a string", signHs256({ ...claims, exp: "9999999999x" }, WORKER_AUTH_SECRET)],
          ["nbf in the future", signHs256({ ...claims, nbf: Math.floor(Date.now() / 1000) + 3600 }, WORKER_AUTH_SECRET)],
          ["a superuser id signed with another secret", signHs256({ ...claims, collectionId: "pbc_3142635823", collectionName: "_superusers" }, "x")],
        );
      }
      bad.push(["a file token in Authorization", fileToken]);
      const fileUrl = `/api/files/documents/${doc.id}/${doc.files[0]}`;
      const failures = [];
      for (const [what, token] of bad) {
        await leavesNothing(what, async () => {
          try {
            assertError(await call("POST", "/api/files/token", { token }), 401, undefined, `${what}: a file token`);
            assertError(await call("GET", "/api/settings", { token }), 401, undefined, `${what}: the settings`);
            assertError(await call("GET", "/api/collections", { token }), 401, undefined, `${what}: the collections`);
            const list = await call("GET", "/api/collections/documents/records", { token });
            assert.equal(list.status, 200, `${what}: documents list ${list.text.slice(0, 200)}`);
            assert.equal(list.json.totalItems, 0, `${what}: alice's documents are listed`);
            assertNotFound(await call("GET", `/api/collections/documents/records/${doc.id}`, { token }), `${what}: view alice's document`);
            const create = await call("POST", "/api/collections/posts/records", {
              token,
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ title: `forged: ${what}`, author: alice.id }),
            });
            assertError(create, 400, FAILED_TO_CREATE, `${what}: create a post`);
            if (token !== fileToken) {
              assertNotFound(await call("GET", `${fileUrl}?token=${encodeURIComponent(token)}`), `${what}: the protected file with ?token=`);
            }
            assertNotFound(await call("GET", fileUrl, { token }), `${what}: the protected file with Authorization`);
          } catch (error) {
            failures.push(firstLine(error));
          }
        });
      }
      assert.deepEqual(failures, [], `${failures.length} of ${bad.length} bad tokens were accepted somewhere`);
      // An auth token is not a file token.
      assertNotFound(await call("GET", `${fileUrl}?token=${alice.token}`), "alice's auth token as ?token=");
      assertNotFound(await call("GET", `${fileUrl}?token=${alice.token}`, { token: alice.token }), "auth token as ?token= and Authorization");
      assertNotFound(await call("GET", `${fileUrl}?token=${suToken}`), "a superuser's auth token as ?token=");
      assertNotFound(await call("GET", `${fileUrl}?token=${flipSignatureByte(fileToken)}`), "a file token with a flipped byte");
      assertNotFound(await call("GET", `${fileUrl}?token=${fileToken}x`), "a file token with a character added");
      assertNotFound(await call("GET", `${fileUrl}?token=&token=${fileToken}`), "an empty first ?token=");
      const bobsFileToken = (await call("POST", "/api/files/token", { token: bob.token })).json?.token;
      assertNotFound(await call("GET", `${fileUrl}?token=${bobsFileToken}`), "bob's file token");
      if (worker()) {
        const fc = decodeJwt(fileToken);
        const expiredFile = signHs256({ ...fc, exp: Math.floor(Date.now() / 1000) - 60 }, WORKER_AUTH_SECRET);
        assertNotFound(await call("GET", `${fileUrl}?token=${expiredFile}`), "an expired file token");
        const noneFile = jwt({ alg: "none" }, fc);
        assertNotFound(await call("GET", `${fileUrl}?token=${noneFile}`), "an alg:none file token");
        const hs512File = jwt({ alg: "HS512", typ: "JWT" }, fc, { secret: WORKER_AUTH_SECRET, hash: "sha512" });
        assertNotFound(await call("GET", `${fileUrl}?token=${hs512File}`), "an HS512 file token");
      }
      // The real one still works.
      const ok = await call("GET", `${fileUrl}?token=${fileToken}`);
      assert.equal(ok.status, 200, "alice's own file token");
    });

    // --- bad JSON -------------------------------------------------------------------------

    test("invalid JSON bodies: 400, nothing created or changed", async () => {
      needs(post, "the post");
      const bodies = [
        ["truncated JSON", `{"title":"bad json","author":"${alice.id}"`],
        ["a trailing comma", `{"title":"bad json","author":"${alice.id}",}`],
        ["single quotes", `{'title':'bad json'}`],
        ["a JSON array", `[{"title":"bad json","author":"${alice.id}"}]`],
        ["an empty JSON array", `[]`],
        ["a JSON string", `"title"`],
        ["a JSON number", `42`],
        ["not JSON", `title=bad+json&author=${alice.id}`],
        ["invalid UTF-8", Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xff, 0xfe]), Buffer.from(`","author":"${alice.id}"}`)])],
      ];
      for (const [what, body] of bodies) {
        await leavesNothing(what, async () => {
          const headers = { authorization: alice.token, "content-type": "application/json" };
          const buffer = Buffer.from(body);
          assertUnreadable(await raw("POST", "/api/collections/posts/records", { headers, body: buffer }), `create: ${what}`);
          assertUnreadable(await raw("PATCH", `/api/collections/posts/records/${post.id}`, { headers, body: buffer }), `update: ${what}`);
        });
      }
      // The settings and the collections keep theirs (the responses' own bodies are
      // checked by the settings and collections suites: status and shape here).
      const settingsBefore = (await call("GET", "/api/settings", { token: suToken })).text;
      for (const body of ["{", "[]", '"x"']) {
        assertError(await raw("PATCH", "/api/settings", { headers: { authorization: suToken, "content-type": "application/json" }, body: Buffer.from(body) }), 400, undefined, `settings PATCH ${body}`);
        assertError(await raw("PUT", "/api/collections/import", { headers: { authorization: suToken, "content-type": "application/json" }, body: Buffer.from(body) }), 400, undefined, `collections import ${body}`);
      }
      assert.equal((await call("GET", "/api/settings", { token: suToken })).text, settingsBefore, "the settings changed");
      const posts = await call("GET", "/api/collections/posts", { token: suToken });
      assert.equal(posts.status, 200, "posts is still there");
    });

    test("a JSON body over 8 MiB: 400, nothing stored (edgefs's limit; PocketBase's is 32 MiB)", async (t) => {
      if (!worker()) return t.skip("PocketBase reads JSON bodies up to 32 MiB");
      needs(post, "the post");
      const huge = JSON.stringify({ title: "huge json", author: alice.id, padding: "p".repeat(9 * MiB) });
      const call_ = async (...args) => {
        try {
          return await call(...args);
        } catch (error) {
          assert.fail(`${args[0]} ${args[1]} with 9 MiB of JSON failed in the client (400 expected): ${error.cause?.code ?? ""} ${error.cause?.message ?? error.message}`);
        }
      };
      try {
        await leavesNothing("a 9 MiB JSON create", async () => {
          const res = await call_("POST", "/api/collections/posts/records", {
            token: alice.token,
            headers: { "content-type": "application/json" },
            body: huge,
          });
          assertUnreadable(res, "a 9 MiB JSON create");
          const res2 = await call_("PATCH", `/api/collections/posts/records/${post.id}`, {
            token: alice.token,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ title: "patched by huge json", padding: "p".repeat(9 * MiB) }),
          });
          assertUnreadable(res2, "a 9 MiB JSON update");
        });
      } catch (error) {
        // A reset connection also fails the next request on it (the state check).
        if (error.message === "fetch failed") assert.fail(`a request after the 9 MiB JSON: ${firstLine(error)}`);
        throw error;
      }
    });

    // --- bodies to routes that refuse before reading them ----------------------------

    test("a big body to a route that refuses it before reading: the JSON error arrives, no reset", async () => {
      needs(alice, "alice");
      const big = multipart("edgefsBoundary", [
        { name: "title", data: "unread" },
        { name: "author", data: alice.id },
        { name: "cover", data: Buffer.concat([RED, Buffer.alloc(12 * MiB)]), filename: "big.png", type: "image/png" },
      ]);
      const small = multipart("edgefsBoundary", [{ name: "title", data: "unread" }]);
      const form = { "content-type": "multipart/form-data; boundary=edgefsBoundary" };
      const json = { "content-type": "application/json" };
      const bigJson = Buffer.from(JSON.stringify({ s3: { enabled: false }, padding: "q".repeat(12 * MiB) }));
      const cases = [
        ["an unknown collection", "POST", "/api/collections/nosuchcollection/records", { token: alice.token, headers: form }, 404, true],
        ["an unknown route", "POST", "/api/nosuchroute", { token: alice.token, headers: form }, 404, false],
        ["a POST to a file URL", "POST", `/api/files/posts/${post?.id}/${post?.cover}`, { token: alice.token, headers: form }, 404, false],
        ["an unknown record's update", "PATCH", "/api/collections/posts/records/nosuchrecord123", { token: alice.token, headers: form }, 404, false],
        ["the settings as a guest", "PATCH", "/api/settings", { headers: json, json: true }, 401, true],
        ["the settings as a user", "PATCH", "/api/settings", { token: alice.token, headers: json, json: true }, 403, true],
        ["an import as a user", "PUT", "/api/collections/import", { token: alice.token, headers: json, json: true }, 403, true],
      ];
      const failures = [];
      // Under workerd (wrangler dev, Miniflare) a Worker that answers before it has
      // read the whole body gets the connection reset, even when it drains the body
      // in waitUntil; awaiting the drain before answering avoids it (checked with a
      // three-line Worker). PocketBase (Go) half-closes and lingers, so clients there
      // get the answer. Each big one three times: the reset is a race, so one try may
      // miss it.
      const sizes = (opts) => [
        ["small", opts.json ? Buffer.from("{}") : small],
        ...[1, 2, 3].map((n) => [`12 MiB #${n}`, opts.json ? bigJson : big]),
      ];
      for (const [what, method, path, opts, status, anyMessage] of cases) {
        for (const [size, body] of sizes(opts)) {
          try {
            await leavesNothing(`${what}, ${size}`, async () => {
              let res;
              try {
                res = await call(method, path, { token: opts.token, headers: opts.headers, body });
              } catch (error) {
                assert.fail(`${what}, ${size} body: ${method} ${path} (${status} expected) failed in the client: ${error.cause?.code ?? ""} ${error.cause?.message ?? error.message}`);
              }
              const body_ = assertError(res, status, status === 404 && !anyMessage ? NOT_FOUND.message : undefined, `${what}, ${size} body`);
              if (status === 404) assert.deepEqual(body_.data, {});
            });
          } catch (error) {
            const line = firstLine(error);
            failures.push(line.startsWith(what) ? line : `${what}, ${size} body, a request after it: ${line}`);
          }
        }
      }
      // The guest's create fails the rule: PocketBase answers after reading the form.
      try {
        await leavesNothing("a guest's 12 MiB create", async () => {
          const res = await call("POST", "/api/collections/posts/records", { headers: form, body: big });
          assertError(res, 400, FAILED_TO_CREATE, "a guest's 12 MiB create");
        });
      } catch (error) {
        failures.push(`a guest's 12 MiB create (400 expected): ${firstLine(error)}`);
      }
      assert.equal((await call("GET", "/api/health")).status, 200, "the Worker still answers");
      assert.deepEqual(failures, [], `${failures.length} of ${cases.length * 4} requests failed`);
    });

    // --- bad list parameters ---------------------------------------------------------------

    // Measured on PocketBase 0.40.6: out-of-range numbers are clamped, anything that is
    // not a whole number fitting in 64 bits is its generic 400, as are a bad filter or sort.
    test("bad list parameters: paging is clamped, a bad filter or sort is PocketBase's 400", async () => {
      needs(post, "the post");
      const list = async (query) => {
        const res = await call("GET", `/api/collections/posts/records?${query}`);
        return res;
      };
      const paging = [
        ["perPage=-1", 1, 30],
        ["perPage=0", 1, 30],
        ["perPage=100000", 1, 1000],
        ["page=0", 1, 30],
        ["page=-5", 1, 30],
      ];
      for (const [query, page, perPage] of paging) {
        const res = await list(query);
        assert.equal(res.status, 200, `${query}: ${res.status} ${res.text.slice(0, 300)}`);
        assert.equal(res.json.page, page, `${query}: page in ${res.text.slice(0, 200)}`);
        assert.equal(res.json.perPage, perPage, `${query}: perPage in ${res.text.slice(0, 200)}`);
        assert.ok(Array.isArray(res.json.items), `${query}: items`);
      }
      const bad = [
        "perPage=abc",
        "perPage=1.5",
        "page=abc",
        "page=99999999999999999999999",
        "page=1&perPage=99999999999999999999999",
        "filter=(",
        "filter=)",
        "filter=title%20%3D",
        "filter=title%20%3D%3D%3D%20'x'",
        "filter=nosuchfield%3D'x'",
        "filter=title%20%3D%20'unterminated",
        "sort=-nosuchfield",
        "sort=nosuchfield",
        "sort=--title",
      ];
      const failures = [];
      for (const query of bad) {
        try {
          assertError(await list(query), 400, BAD_REQUEST, query);
        } catch (error) {
          failures.push(firstLine(error));
        }
      }
      assert.deepEqual(failures, [], `${failures.length} of ${bad.length} bad parameters not refused as PocketBase does`);
    });
  });
}
