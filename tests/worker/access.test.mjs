// The access-control corpus (issue 10 §3): every way we know to reach a protected file
// or a rule-gated record without the right token, against the built Worker under
// Miniflare on the in-memory default and on R2. Each attempt must get PocketBase's
// answer (404 for a file, an empty list or 404 for a record) and serve no protected
// byte. A positive control proves each path and token is otherwise right.
//
//   bash scripts/lib-worker.sh build && node --test tests/worker/access.test.mjs
//   EDGEFS_ACCESS_TARGET=pocketbase node --test tests/worker/access.test.mjs   # the reference
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { signHs256 } from "./lib/jwt.mjs";
import { defaultCollections, startPocketBase } from "./lib/pocketbase.mjs";
import { startWorker } from "./lib/worker.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
// lib/worker.mjs's AUTH_SECRET: tokens an app (or an attacker who has it) could sign.
const APP_SECRET = "edgefs-sdk-suite-auth-secret-0123456789abcdef";
const SECRET_BYTES = "the protected document's secret contents 7f3a9c";

const b64url = (value) => Buffer.from(value).toString("base64url");
function jwt(header, claims, secret, hash = "sha256") {
  const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${signing}.${secret ? createHmac(hash, secret).update(signing).digest("base64url") : ""}`;
}
const now = () => Math.floor(Date.now() / 1000);

/** The exact request line, bytes as given (fetch would clean `..`). */
function raw(base, path, headers = {}) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method: "GET", path, agent: false, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("latin1") }));
    });
    req.on("error", reject);
    req.end();
  });
}

function targets() {
  if (process.env.EDGEFS_ACCESS_TARGET === "pocketbase") {
    return [{ label: "pocketbase", start: () => startPocketBase({ collections: defaultCollections(root) }), worker: false }];
  }
  return ["memory", "r2"].map((backend) => ({ label: `worker on ${backend}`, start: () => startWorker(root, backend), worker: true }));
}

for (const { label, start, worker } of targets()) {
  describe(`access-control corpus, ${label}`, () => {
    let target;
    let alice;
    let bob;
    let doc;
    let fileTokens;

    before(async () => {
      target = await start();
      alice = await target.user();
      bob = await target.user();
      const form = new FormData();
      form.append("name", "secret plans");
      form.append("owner", alice.id);
      form.append("files", new File([SECRET_BYTES], "plans.txt", { type: "text/plain" }));
      const res = await fetch(`${target.url}/api/collections/documents/records`, {
        method: "POST",
        headers: { authorization: alice.token },
        body: form,
      });
      assert.equal(res.status, 200, await res.clone().text());
      doc = await res.json();
      const token = async (user) =>
        (await (await fetch(`${target.url}/api/files/token`, { method: "POST", headers: { authorization: user.token } })).json()).token;
      fileTokens = { alice: await token(alice), bob: await token(bob) };
    });

    after(async () => {
      await target?.stop();
    });

    const name = () => doc.files[0];
    const filePath = (collection = "documents", record = doc.id, file = name()) => `/api/files/${collection}/${record}/${file}`;

    test("control: the owner's file token gets the bytes, by collection name (any case, as PocketBase) and by id", async () => {
      for (const collection of ["documents", "DOCUMENTS", doc.collectionId]) {
        const res = await raw(target.url, `${filePath(collection)}?token=${fileTokens.alice}`);
        assert.equal(res.status, 200, collection);
        assert.equal(res.text, SECRET_BYTES);
      }
    });

    // Tokens that must not open the file (each with the right path).
    const badTokens = () => {
      const aliceClaims = { id: alice.id, collectionId: "_pb_users_auth_", type: "file", exp: now() + 600 };
      const list = [
        ["no token", ""],
        ["an empty token", "?token="],
        ["the owner's auth token in ?token=", `?token=${alice.token}`],
        ["another user's file token", `?token=${fileTokens.bob}`],
        ["another user's auth token", `?token=${bob.token}`],
        ["garbage", "?token=not.a.jwt"],
        ["the file token twice", `?token=${fileTokens.bob}&token=${fileTokens.alice}`],
        ["alg none", `?token=${jwt({ alg: "none", typ: "JWT" }, aliceClaims)}`],
        ["alg None", `?token=${jwt({ alg: "None", typ: "JWT" }, aliceClaims)}`],
        ["another secret", `?token=${jwt({ alg: "HS256", typ: "JWT" }, aliceClaims, "not-the-secret-of-this-deployment-at-all")}`],
        ["a signature cut off", `?token=${fileTokens.alice.slice(0, -3)}`],
        ["the owner's payload on another user's signature", `?token=${fileTokens.bob.split(".")[0]}.${fileTokens.alice.split(".")[1]}.${fileTokens.bob.split(".")[2]}`],
        ["lowercase token value", `?token=${fileTokens.alice.toLowerCase()}`],
      ];
      if (worker) {
        // Tokens only the Worker's model makes meaningful: signed with the app's secret.
        list.push(
          ["expired, signed right", `?token=${signHs256({ ...aliceClaims, exp: now() - 60 }, APP_SECRET)}`],
          ["no exp, signed right", `?token=${signHs256({ id: alice.id, collectionId: "_pb_users_auth_", type: "file" }, APP_SECRET)}`],
          ["HS512 with the right secret", `?token=${jwt({ alg: "HS512", typ: "JWT" }, aliceClaims, APP_SECRET, "sha512")}`],
          ["type auth, signed right", `?token=${signHs256({ ...aliceClaims, type: "auth" }, APP_SECRET)}`],
          ["a superuser claim signed with the app's secret", `?token=${signHs256({ id: "x", collectionId: "pbc_3142635823", type: "file", exp: now() + 600 }, APP_SECRET)}`],
          ["a superuser name signed with the app's secret", `?token=${signHs256({ id: "x", collectionName: "_superusers", type: "file", exp: now() + 600 }, APP_SECRET)}`],
          ["nbf in the future", `?token=${signHs256({ ...aliceClaims, nbf: now() + 3600 }, APP_SECRET)}`],
        );
      }
      return list;
    };

    test("tokens that must not open a protected file: each a 404 without a byte of it", async () => {
      const failures = [];
      let tried = 0;
      for (const [what, query] of badTokens()) {
        for (const [where, headers] of [["", {}], [" (and the owner's file token in Authorization)", { authorization: fileTokens.alice }], [" (and the owner's auth token in Authorization)", { authorization: alice.token }]]) {
          tried++;
          const res = await raw(target.url, filePath() + query, headers);
          if (res.status !== 404 || res.text.includes(SECRET_BYTES)) failures.push(`${what}${where}: ${res.status} ${res.text.slice(0, 120)}`);
        }
      }
      assert.ok(tried >= 39, `${tried} attempts`);
      assert.deepEqual(failures, []);
    });

    test("paths that must not reach a protected file or a record's JSON, even with the owner's file token", async () => {
      const token = `?token=${fileTokens.alice}`;
      const n = name();
      const [stem, ext] = [n.slice(0, n.lastIndexOf(".")), n.slice(n.lastIndexOf("."))];
      const paths = [
        ["the name in upper case", filePath("documents", doc.id, n.toUpperCase())],
        ["the stem without its suffix", filePath("documents", doc.id, `plans${ext}`)],
        ["the name with a trailing dot", filePath("documents", doc.id, `${n}.`)],
        ["the name with a trailing space", filePath("documents", doc.id, `${n}%20`)],
        ["the name with a NUL", filePath("documents", doc.id, `${n}%00`)],
        ["the name with ;", filePath("documents", doc.id, `${n};x`)],
        ["another extension", filePath("documents", doc.id, `${stem}.html`)],
        ["the record's JSON", filePath("documents", doc.id, `${doc.id}.json`)],
        ["the record's JSON, traversal", filePath("documents", doc.id, `..%2F..%2F.edgefs%2Frecords%2F${doc.collectionId}%2F${doc.id}.json`)],
        ["double-encoded traversal", filePath("documents", doc.id, `%252e%252e%252f${doc.id}.json`)],
        ["backslash traversal", filePath("documents", doc.id, `..%5C..%5Csettings.json`)],
        ["overlong UTF-8 dots", filePath("documents", doc.id, `%c0%ae%c0%ae%2f${doc.id}.json`)],
        ["fullwidth dots", filePath("documents", doc.id, `%EF%BC%8E%EF%BC%8E%2f${doc.id}.json`)],
        ["the settings", filePath("documents", doc.id, ".edgefs%2Fsettings.json")],
        ["the settings, dot name", filePath("documents", doc.id, ".edgefs")],
        ["another record's id", filePath("documents", "aaaaaaaaaaaaaaa")],
        ["the id in upper case", filePath("documents", doc.id.toUpperCase())],
        ["the id with a suffix", filePath("documents", `${doc.id}x`)],
        ["the id as a traversal", filePath("documents", `..%2F${doc.id}`)],
        ["another collection", filePath("posts")],
        ["the users' collection", filePath("users")],
        ["the superusers' collection", filePath("_superusers")],
      ];
      const failures = [];
      for (const [what, path] of paths) {
        const res = await raw(target.url, path + token);
        if (res.status === 200 || res.text.includes(SECRET_BYTES) || res.text.includes('"owner"')) {
          failures.push(`${what}: ${path} answered ${res.status} ${res.text.slice(0, 120)}`);
        } else if (![404, 400].includes(res.status) && !(res.status >= 300 && res.status < 400)) {
          failures.push(`${what}: ${path} answered ${res.status}, not a 404`);
        }
      }
      assert.ok(paths.length >= 20);
      assert.deepEqual(failures, []);
    });

    test("the records API leaks neither the document nor its file names to others", async () => {
      const asBob = { authorization: bob.token };
      const attempts = [
        ["list as another user", "/api/collections/documents/records", asBob, "empty"],
        ["list as a guest", "/api/collections/documents/records", {}, "empty"],
        ["list with a filter on the owner", `/api/collections/documents/records?filter=${encodeURIComponent(`owner='${alice.id}'`)}`, asBob, "empty"],
        ["list with an always-true filter", `/api/collections/documents/records?filter=${encodeURIComponent("id != '' || 1 = 1")}`, asBob, "empty"],
        ["list with fields=files", "/api/collections/documents/records?fields=files,owner", asBob, "empty"],
        ["list with expand", "/api/collections/documents/records?expand=owner", asBob, "empty"],
        ["list with a filter on file names", `/api/collections/documents/records?filter=${encodeURIComponent("files ~ 'plans'")}`, {}, "empty"],
        ["view as another user", `/api/collections/documents/records/${doc.id}`, asBob, 404],
        ["view as a guest", `/api/collections/documents/records/${doc.id}`, {}, 404],
        ["view with the owner's file token as auth", `/api/collections/documents/records/${doc.id}`, { authorization: fileTokens.alice }, 404],
        ["view by collection id as another user", `/api/collections/${doc.collectionId}/records/${doc.id}`, asBob, 404],
      ];
      const failures = [];
      for (const [what, path, headers, expected] of attempts) {
        const res = await raw(target.url, path, headers);
        const leaked = res.text.includes(doc.id) || res.text.includes(name());
        if (expected === "empty") {
          let items;
          try {
            items = JSON.parse(res.text).items;
          } catch {}
          const ok = (res.status === 200 && Array.isArray(items) && items.length === 0) || res.status === 400;
          if (!ok || leaked) failures.push(`${what}: ${res.status} ${res.text.slice(0, 160)}`);
        } else if (res.status !== expected || leaked) {
          failures.push(`${what}: ${res.status} ${res.text.slice(0, 160)}`);
        }
      }
      assert.deepEqual(failures, []);
      // The control: the owner sees it.
      const mine = await raw(target.url, "/api/collections/documents/records", { authorization: alice.token });
      assert.ok(mine.text.includes(doc.id), "the owner lists the document");
    });
  });
}
