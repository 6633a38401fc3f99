// Migration benchmark (issue 11): `edgefs migrate` of a PocketBase `pb_data/storage`
// (files with PocketBase's .attrs sidecars) into SeaweedFS, side by side in one run with
// the reference document's loop (examples/reference_migrate.rs: one file at a time, read
// whole, upload) and `rclone copy` (Debian's rclone, 8 transfers), each into a bucket of
// its own on the same SeaweedFS. Reports wall time and peak RSS (GNU time) as Markdown,
// then a rerun of edgefs (everything already there).
//
//   cargo build --release --bin edgefs --example reference_migrate
//   node scripts/bench/migrate.mjs [--small 1900] [--large 100]
//
// The data set: `--small` files of 1–64 KiB and `--large` files of 1–20 MiB (the
// defaults make 2,000 files, about 1 GiB), and `--huge` files of 512 MiB (default none:
// `--small 0 --large 0 --huge 1` shows memory against file size), pseudo-random but the
// same every run.
// Everything listens on 127.0.0.1; the data set and SeaweedFS's data are removed at exit.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startSeaweedFs } from "../../tests/worker/lib/seaweedfs.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const { values } = parseArgs({
  options: {
    small: { type: "string", default: "1900" },
    large: { type: "string", default: "100" },
    huge: { type: "string", default: "0" },
  },
});

function random(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function dataset(dir) {
  const next = random(20261202);
  let bytes = 0;
  const [huge, large] = [Number(values.huge), Number(values.large)];
  const count = huge + large + Number(values.small);
  for (let i = 0; i < count; i++) {
    const size =
      i < huge
        ? 512 * 1048576
        : i < huge + large
          ? Math.floor(1048576 + next() * 19 * 1048576)
          : Math.floor(1024 + next() * 63 * 1024);
    const buffer = Buffer.alloc(size);
    for (let at = 0; at < size; at += 4) buffer.writeUInt32LE((next() * 2 ** 32) >>> 0, Math.min(at, size - 4));
    const key = `pbc_${i % 7}/${String(i).padStart(15, "r")}/file_${i}_abcdefghij.bin`;
    const path = join(dir, key);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, buffer);
    const md5 = createHash("md5").update(buffer).digest("base64");
    writeFileSync(
      `${path}.attrs`,
      JSON.stringify({ "user.content_type": "application/octet-stream", "user.metadata": null, md5 }),
    );
    bytes += size;
  }
  return { count, bytes };
}

function timed(command, args, env = {}) {
  const merged = { ...process.env, ...env };
  // A machine-wide AWS_CA_BUNDLE (as on this one) makes rclone's AWS SDK refuse to start.
  delete merged.AWS_CA_BUNDLE;
  return new Promise((resolve, reject) => {
    execFile(
      "/usr/bin/time",
      ["-v", command, ...args],
      { env: merged, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${command} failed: ${error.message}\n${stderr.slice(-2000)}`));
        const wall = stderr.match(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.+)/)[1];
        const parts = wall.split(":").map(Number);
        const seconds = parts.reduce((total, part) => total * 60 + part, 0);
        const rss = Number(stderr.match(/Maximum resident set size \(kbytes\): (\d+)/)[1]);
        resolve({ seconds, rssMiB: rss / 1024, stdout });
      },
    );
  });
}

async function objectCount(server, bucket) {
  let count = 0;
  let token;
  do {
    let query = "list-type=2";
    if (token) query += `&continuation-token=${encodeURIComponent(token)}`;
    const xml = await (await server.fetch(`/${bucket}?${query}`)).text();
    count += (xml.match(/<Key>/g) ?? []).length;
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? xml.match(/<NextContinuationToken>([^<]*)</)?.[1] : undefined;
  } while (token);
  return count;
}

const work = mkdtempSync(join(tmpdir(), "edgefs-bench-migrate-"));
const server = await startSeaweedFs("bench-edgefs");
try {
  const storage = join(work, "storage");
  const { count, bytes } = dataset(storage);
  const settings = (bucket) => {
    const path = join(work, `${bucket}.json`);
    writeFileSync(
      path,
      JSON.stringify({
        bucket,
        region: server.region,
        endpoint: server.endpoint,
        accessKey: server.accessKey,
        secret: server.secretKey,
        forcePathStyle: true,
      }),
    );
    return path;
  };
  for (const bucket of ["bench-reference", "bench-rclone"]) await server.fetch(`/${bucket}`, { method: "PUT" });
  const rclone = {
    RCLONE_CONFIG_SW_TYPE: "s3",
    RCLONE_CONFIG_SW_PROVIDER: "SeaweedFS",
    RCLONE_CONFIG_SW_ACCESS_KEY_ID: server.accessKey,
    RCLONE_CONFIG_SW_SECRET_ACCESS_KEY: server.secretKey,
    RCLONE_CONFIG_SW_ENDPOINT: server.endpoint,
    RCLONE_CONFIG_SW_FORCE_PATH_STYLE: "true",
  };
  const rows = [];
  const run = async (name, command, args, bucket, env) => {
    const result = await timed(command, args, env);
    const objects = await objectCount(server, bucket);
    rows.push({ name, ...result, objects });
  };
  const edgefs = join(root, "target/release/edgefs");
  await run("edgefs migrate (8 in flight)", edgefs, ["migrate", "--from", storage, "--to", `s3:${settings("bench-edgefs")}`], "bench-edgefs");
  await run("the reference's loop (read whole, upload, one at a time)", join(root, "target/release/examples/reference_migrate"), [storage, settings("bench-reference")], "bench-reference");
  await run("rclone copy (8 transfers)", "rclone", ["copy", storage, "sw:bench-rclone", "--exclude", "*.attrs", "--transfers", "8"], "bench-rclone", rclone);
  await run("edgefs migrate again (all already there)", edgefs, ["migrate", "--from", storage, "--to", `s3:${settings("bench-edgefs")}`], "bench-edgefs");
  const mib = (b) => (b / 1048576).toFixed(0);
  console.log(`${count} files, ${mib(bytes)} MiB, into SeaweedFS on 127.0.0.1 (one machine: ${(await import("node:os")).cpus().length} cores)\n`);
  console.log("| tool | wall s | MiB/s | peak RSS MiB | objects in the bucket |");
  console.log("|---|---:|---:|---:|---:|");
  for (const row of rows) {
    const rate = row.name.includes("again") ? "—" : (bytes / 1048576 / row.seconds).toFixed(0);
    console.log(`| ${row.name} | ${row.seconds.toFixed(1)} | ${rate} | ${row.rssMiB.toFixed(0)} | ${row.objects} |`);
  }
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
