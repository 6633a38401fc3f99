// Records at scale (issue 12): one page of a list — perPage 50, a filter, a sort and the
// list rule — over N records, answered by the Worker under workerd with records in D1
// (Miniflare's D1: real SQLite inside the workerd process), by the same Worker with
// records as R2 objects (at the most its listing may read), and by the real PocketBase
// 0.40.6 over the same data, side by side in one run.
//
//   bash scripts/lib-worker.sh build && node scripts/bench/records.mjs [N ...]   # 1000 10000 100000
//
// Each target gets the same collection and the same records (seeded directly: D1 rows and
// R2 objects in the form the Worker writes them — copied from one record created through
// the API — and PocketBase's records through its batch API). The page's titles and total
// must be the same on every target (checked). Reported per target and size: median
// latency of BENCH_RUNS (25) requests after BENCH_WARMUP (300, or 20 s) warm-ups once the
// server is idle after seeding, and the CPU time the server
// process spent per request (workerd: the Worker, Miniflare's router and D1's SQLite or
// the R2 simulator; PocketBase: all of it), from /proc/PID/task/*/schedstat.
import PocketBase from "pocketbase";
import { fileURLToPath } from "node:url";
import { startWorker } from "../../tests/worker/lib/worker.mjs";
import { startPocketBase } from "../../tests/worker/lib/pocketbase.mjs";
import { recordId } from "../../tests/worker/lib/jwt.mjs";
import { cpuMs, median, newChild, newWorkerd, settle } from "./lib/proc.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 25);
const warmups = Number(process.env.BENCH_WARMUP ?? 300);
const sizes = process.argv.slice(2).map(Number);
if (sizes.length === 0) sizes.push(1000, 10000, 100000);
/** The object store lists at most this many records (R2's default limit). */
const OBJECT_LIMIT = 900;

const COLLECTION = {
  name: "bench",
  type: "base",
  listRule: "published = true",
  viewRule: "published = true",
  fields: [
    { name: "title", type: "text" },
    { name: "author", type: "text" },
    { name: "n", type: "number" },
    { name: "published", type: "bool" },
    { name: "created", type: "autodate", onCreate: true, onUpdate: false },
    { name: "updated", type: "autodate", onCreate: true, onUpdate: true },
  ],
};
const FILTER = "n >= 500 && title ~ '7'";
const QUERY = `perPage=50&sort=-n,title&filter=${encodeURIComponent(FILTER)}`;

function fields(i) {
  return { title: `item ${String(i).padStart(6, "0")}`, author: `author${i % 97}`, n: (i * 7919) % 1000, published: i % 2 === 0 };
}

/** The created time of record i: distinct, increasing. */
const created = (i) => new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString().replace("T", " ");

async function superuser(url, email, password) {
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  await pb.collection("_superusers").authWithPassword(email, password);
  return pb;
}

/** The Worker with records in D1 (files in R2), its collection seeded with `count` rows. */
async function workerOnD1(count) {
  const target = await newWorkerd(() => startWorker(root, "d1"));
  const su = await superuser(target.url, target.superuser.email, target.superuser.password);
  await su.collections.import([COLLECTION], false);
  const collection = await su.collections.getOne("bench");
  // Record 0 through the API: its row is the template of the others.
  await su.collection("bench").create(fields(0));
  const db = await target.miniflare.getD1Database("DB");
  const table = `"edgefs:records:${collection.id}"`;
  const template = (await db.prepare(`SELECT * FROM ${table}`).all()).results[0];
  const columns = Object.keys(template);
  // One statement makes every row (a recursive count), computing the same fields as
  // fields(i) and created(i); the other columns are copied from the template row.
  // Typed columns: texts and dates as text, numbers as numbers, booleans as 0/1.
  const computed = {
    id: "substr(lower(hex(randomblob(8))), 1, 15)",
    created: "strftime('%Y-%m-%d %H:%M:%fZ', '2026-01-01', '+' || i || ' seconds')",
    updated: "strftime('%Y-%m-%d %H:%M:%fZ', '2026-01-01', '+' || i || ' seconds')",
    title: "printf('item %06d', i)",
    author: "'author' || (i % 97)",
    n: "(i * 7919) % 1000",
    published: "(i % 2 = 0)",
  };
  const values = columns.map((c) => computed[c] ?? "?");
  const bound = columns.filter((c) => !(c in computed)).map((c) => template[c]);
  await db
    .prepare(
      `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(", ")}) ` +
        `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${count - 1}) ` +
        `SELECT ${values.join(", ")} FROM seq`,
    )
    .bind(...bound)
    .run();
  return target;
}

/** The Worker with records as R2 objects (no list limit, to measure past it). */
async function workerOnR2(count) {
  const target = await newWorkerd(() => startWorker(root, "r2", { bindings: { RECORDS_LIST_LIMIT: "0" } }));
  const su = await superuser(target.url, target.superuser.email, target.superuser.password);
  await su.collections.import([COLLECTION], false);
  const first = await su.collection("bench").create(fields(0));
  const bucket = await target.miniflare.getR2Bucket("BUCKET");
  const key = (id) => `.edgefs/records/${first.collectionId}/${id}.json`;
  const template = JSON.parse(await (await bucket.get(key(first.id))).text());
  for (let start = 1; start < count; start += 100) {
    const puts = [];
    for (let i = start; i < Math.min(count, start + 100); i++) {
      const id = recordId();
      const record = { ...template, ...fields(i), id, created: created(i), updated: created(i) };
      puts.push(bucket.put(key(id), JSON.stringify(record), { httpMetadata: { contentType: "application/json" } }));
    }
    await Promise.all(puts);
  }
  return target;
}

/** The real PocketBase, the same collection and records (its batch API, 1,000 a call). */
async function pocketbase(count) {
  const target = await newChild(() => startPocketBase({ collections: [COLLECTION] }), "pocketbase");
  const su = await superuser(target.url, target.superuser.email, target.superuser.password);
  await su.settings.update({ batch: { enabled: true, maxRequests: 1000, timeout: 120, maxBodySize: 0 } });
  for (let start = 0; start < count; start += 1000) {
    const batch = su.createBatch();
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      batch.collection("bench").create({ ...fields(i), id: recordId() });
    }
    await batch.send();
  }
  // The same created times as the Worker's rows are not needed: the sort is by n, title.
  return target;
}

async function measure(target) {
  const url = `${target.url}/api/collections/bench/records?${QUERY}`;
  let page;
  const once = async () => {
    const started = performance.now();
    const response = await fetch(url);
    const body = await response.json();
    if (response.status !== 200) throw new Error(`${target.name}: ${response.status} ${JSON.stringify(body)}`);
    page = body;
    return performance.now() - started;
  };
  await settle(target.pid);
  // V8 compiles the Worker's wasm lazily and tiers hot functions up in the background
  // over the first ~100–300 requests (seen: a list's CPU 10 ms after 5 requests, 2.5 ms
  // after 300, the difference on V8's worker thread), and PocketBase gets the same.
  const warmStarted = performance.now();
  for (let i = 0; i < warmups && performance.now() - warmStarted < 20000; i++) await once();
  const latencies = [];
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const before = cpuMs(target.pid);
    latencies.push(await once());
    cpu.push(cpuMs(target.pid) - before);
  }
  return { latency: median(latencies), cpu: median(cpu), total: page.totalItems, titles: page.items.map((r) => r.title) };
}

const rows = [];
for (const count of sizes) {
  const targets = [
    ["edgefs, records in D1", () => workerOnD1(count), "1 (one D1 batch)"],
    ["PocketBase 0.40.6", () => pocketbase(count), "—"],
  ];
  if (count <= OBJECT_LIMIT * 12) {
    const calls = Math.ceil(count / 1000) + count;
    targets.push([`edgefs, records as R2 objects${count > OBJECT_LIMIT ? " (past its limit of 900)" : ""}`, () => workerOnR2(count), `${calls} R2 calls`]);
  }
  let reference;
  for (const [name, start, subrequests] of targets) {
    const seedStarted = performance.now();
    const target = await start();
    const seeded = (performance.now() - seedStarted) / 1000;
    try {
      const result = await measure(target);
      reference ??= result;
      if (result.total !== reference.total || JSON.stringify(result.titles) !== JSON.stringify(reference.titles)) {
        throw new Error(`${name} answered another page than ${targets[0][0]}: ${result.total} vs ${reference.total}`);
      }
      rows.push({ count, name, ...result, subrequests });
      console.error(`${count} ${name}: ${result.latency.toFixed(1)} ms, ${result.cpu.toFixed(1)} ms CPU (seeded in ${seeded.toFixed(0)} s)`);
    } finally {
      await target.stop();
    }
  }
}

console.log(`| records | target | latency (median) | server CPU per request | outside calls per list | matching |`);
console.log(`| ---: | --- | ---: | ---: | --- | ---: |`);
for (const row of rows) {
  console.log(
    `| ${row.count.toLocaleString("en")} | ${row.name} | ${row.latency.toFixed(1)} ms | ${row.cpu.toFixed(1)} ms | ${row.subrequests} | ${row.total.toLocaleString("en")} |`,
  );
}
