// The built Worker in companion mode (issue 13) under Miniflare, and the real
// PocketBase behind it on S3 with its edgefs hook: what companion.test.mjs and the SDK
// suite's "pocketbase through the worker" target start.
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { startPocketBase } from "./pocketbase.mjs";
import { freePort } from "./ports.mjs";
import { s3Variables } from "./seaweedfs.mjs";
import { workerModules } from "./worker.mjs";

/** The Worker with these bindings (PB_ORIGIN, S3_*…) on 127.0.0.1; `options` go to Miniflare. */
export async function startCompanion(root, bindings, options = {}) {
  const mf = new Miniflare({
    ...workerModules(root, join(root, "build/index.js")),
    host: "127.0.0.1",
    port: 0,
    bindings,
    ...options,
  });
  const url = String(await mf.ready).replace(/\/$/, "");
  return { mf, url };
}

/**
 * PocketBase with S3 storage on a SeaweedFS and pb_hooks/edgefs.pb.js, and the Worker
 * in front of it on the same bucket: a target like startPocketBase's whose `url` is the
 * Worker's, so every request (records, auth, files) goes through it. `direct` is
 * PocketBase's own URL.
 */
export async function startPocketBaseBehindWorker(root, { collections, purgeSecret = "edgefs-sdk-purge-secret" }) {
  // The Worker's port first: PocketBase's hook posts to it.
  const workerPort = await freePort();
  const pb = await startPocketBase({
    collections,
    s3: true,
    hooksDir: join(root, "pb_hooks"),
    env: { EDGEFS_URL: `http://127.0.0.1:${workerPort}`, EDGEFS_PURGE_SECRET: purgeSecret },
  });
  let worker;
  try {
    worker = await startCompanion(
      root,
      { PB_ORIGIN: pb.url, EDGEFS_PURGE_SECRET: purgeSecret, ...s3Variables(pb.s3) },
      { port: workerPort },
    );
  } catch (error) {
    await pb.stop();
    throw error;
  }
  return {
    ...pb,
    name: "pocketbase on s3 through the worker",
    direct: pb.url,
    url: worker.url,
    worker,
    async stop() {
      await worker.mf.dispose();
      await pb.stop();
    },
  };
}
