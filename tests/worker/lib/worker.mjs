// The Worker target: the built Worker (build/index.js) under Miniflare, listening on
// 127.0.0.1 so the SDK talks to it over real HTTP, on one storage backend:
//
//   memory  no bindings
//   kv      the KV namespace STORAGE
//   r2      the R2 bucket BUCKET (and STORAGE, where settings and collections persist)
//   s3      S3_* variables pointing at a SeaweedFS started here (signatures checked)
//
// Users are tokens the app signs itself with AUTH_SECRET (the Worker has no users
// collection): HS256 with PocketBase's claims for its `users` collection.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { recordId, userToken } from "./jwt.mjs";
import { listKeys, s3Variables, startSeaweedFs } from "./seaweedfs.mjs";

// "d1": records in D1, files in R2 (settings in KV) — the layout to deploy at scale.
export const BACKENDS = ["memory", "kv", "r2", "s3", "d1"];

const SUPERUSER = { email: "root@edgefs.test", password: "edgefs-root-password" };
const AUTH_SECRET = "edgefs-sdk-suite-auth-secret-0123456789abcdef";

/**
 * Miniflare's options for a Worker that worker-build wrote (`entry`, its index.js):
 * ES modules and the compiled wasm beside it, at wrangler.toml's compatibility date.
 */
export function workerModules(root, entry) {
  const compatibilityDate = readFileSync(join(root, "wrangler.toml"), "utf8").match(
    /^compatibility_date\s*=\s*"([^"]+)"/m,
  )[1];
  return {
    modules: true,
    scriptPath: entry,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate,
  };
}

/**
 * `options.s3Proxy`: on S3, an async function of the SeaweedFS server that starts a proxy
 * in front of it (lib/fault-proxy.mjs) and answers it; the Worker talks to its
 * `endpoint`, and the target keeps it as `proxy`. `options.bindings`: more variables.
 */
export async function startWorker(root, backend, options = {}) {
  const entry = join(root, "build/index.js");
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run bash scripts/lib-worker.sh build`);
  const bindings = {
    AUTH_SECRET,
    SUPERUSER_EMAIL: SUPERUSER.email,
    SUPERUSER_PASSWORD: SUPERUSER.password,
    ...(options.bindings ?? {}),
  };
  const miniflareOptions = {};
  let seaweed;
  let proxy;
  switch (backend) {
    case "memory":
      break;
    case "kv":
      miniflareOptions.kvNamespaces = ["STORAGE"];
      break;
    case "r2":
      miniflareOptions.r2Buckets = ["BUCKET"];
      miniflareOptions.kvNamespaces = ["STORAGE"];
      break;
    case "d1":
      miniflareOptions.r2Buckets = ["BUCKET"];
      miniflareOptions.kvNamespaces = ["STORAGE"];
      miniflareOptions.d1Databases = ["DB"];
      break;
    case "s3":
      seaweed = await startSeaweedFs("edgefs-sdk");
      Object.assign(bindings, { S3_ENABLED: "true", ...s3Variables(seaweed) });
      if (options.s3Proxy) {
        proxy = await options.s3Proxy(seaweed);
        bindings.S3_ENDPOINT = proxy.endpoint;
      }
      break;
    default:
      throw new Error(`unknown backend ${backend}`);
  }
  let mf;
  try {
    mf = new Miniflare({
      ...workerModules(root, entry),
      host: "127.0.0.1",
      port: 0,
      bindings,
      ...miniflareOptions,
    });
    const url = String(await mf.ready).replace(/\/$/, "");
    return {
      name: `worker/${backend}`,
      kind: "worker",
      backend,
      url,
      superuser: SUPERUSER,
      // For benchmarks that seed a binding directly.
      miniflare: mf,
      // On S3: the server and its credentials (the settings tests use them).
      s3: seaweed,
      proxy,
      /** A user of the app's `users` collection: a token signed with AUTH_SECRET. */
      async user() {
        const id = recordId();
        return {
          id,
          token: userToken(id, AUTH_SECRET),
          record: { id, collectionId: "_pb_users_auth_", collectionName: "users" },
        };
      },
      /** The same user's token, expired a minute ago. */
      async expiredUserToken(user) {
        return userToken(user.id, AUTH_SECRET, -60);
      },
      /**
       * The keys under `prefix` in the backend, read through Miniflare's bindings or
       * from SeaweedFS; null for memory (inside the Worker, not observable).
       */
      async objectKeys(prefix) {
        const keys = [];
        if (backend === "kv") {
          const kv = await mf.getKVNamespace("STORAGE");
          let cursor;
          do {
            const page = await kv.list({ prefix, cursor });
            keys.push(...page.keys.map((k) => k.name));
            cursor = page.list_complete ? undefined : page.cursor;
          } while (cursor);
        } else if (backend === "r2" || backend === "d1") {
          const r2 = await mf.getR2Bucket("BUCKET");
          let cursor;
          do {
            const page = await r2.list({ prefix, cursor });
            keys.push(...page.objects.map((o) => o.key));
            cursor = page.truncated ? page.cursor : undefined;
          } while (cursor);
        } else if (backend === "s3") {
          return listKeys(seaweed, prefix);
        } else {
          return null;
        }
        return keys.sort();
      },
      /** An object's bytes, read from the backend as objectKeys lists it. */
      async objectBytes(key) {
        if (backend === "kv") {
          return new Uint8Array(await (await mf.getKVNamespace("STORAGE")).get(key, "arrayBuffer"));
        }
        if (backend === "r2" || backend === "d1") {
          const object = await (await mf.getR2Bucket("BUCKET")).get(key);
          return new Uint8Array(await object.arrayBuffer());
        }
        if (backend === "s3") {
          const path = key.split("/").map(encodeURIComponent).join("/");
          const res = await seaweed.fetch(`/${seaweed.bucket}/${path}`);
          if (!res.ok) throw new Error(`GetObject ${key}: ${res.status}`);
          return new Uint8Array(await res.arrayBuffer());
        }
        throw new Error(`objects of the ${backend} backend are not observable from outside`);
      },
      /**
       * On d1: the rows of a collection's table as D1 holds them (file fields as JSON
       * text), none when the table was never made.
       */
      async d1Rows(collectionId) {
        const db = await mf.getD1Database("DB");
        try {
          return (await db.prepare(`SELECT * FROM "edgefs:records:${collectionId}"`).all()).results;
        } catch (error) {
          if (/no such table/.test(String(error))) return [];
          throw error;
        }
      },
      async stop() {
        await mf?.dispose();
        await proxy?.stop();
        await seaweed?.stop();
      },
    };
  } catch (error) {
    await mf?.dispose().catch(() => {});
    await proxy?.stop();
    await seaweed?.stop();
    throw error;
  }
}

