// The serving benchmark behind scripts/bench-serve.sh (run it through that script, which
// sets PATH, the temporary directory and the cleanup).
//
//   node scripts/bench/serve.mjs <bytes> [<bytes> ...]
//
// One object per size is served four ways, each by its own Miniflare instance (so each
// has its own workerd process): the edgefs Worker (build/index.js) and a ten-line
// JavaScript Worker, each from local R2 (Miniflare's R2 simulator) and from SeaweedFS
// (signed S3 on 127.0.0.1). curl reads each answer and discards it. Around each request
// the workerd process's CPU time is read (the sum of its threads' run time from
// /proc/PID/task/*/schedstat, in nanoseconds; utime+stime from /proc/PID/stat, in clock
// ticks, is logged beside it as a check) and its peak RSS (VmHWM from /proc/PID/status,
// reset just before the request by writing 5 to /proc/PID/clear_refs). That process is
// all of workerd under Miniflare: the Worker, Miniflare's entry Worker in front of it
// and, for R2, Miniflare's R2 simulator, which reads the object's file from disk (the
// page cache, after the first read).
//
// Environment: BENCH_TMP (required: a fresh directory, removed by the caller),
// BENCH_RUNS (measured requests per size and Worker, default 9; medians are reported),
// BENCH_WARMUP (small requests per fresh instance before measuring, default 20),
// BENCH_PIN (1: pin workerd and the client to different CPUs, see below; 0: don't),
// BENCH_ONLY (a comma-separated subset of edgefs/R2, JS/R2, edgefs/SeaweedFS, JS/SeaweedFS).
// For experiments: BENCH_JS_R2_WORKER (another JavaScript Worker in place of
// r2-passthrough.mjs; it must live under the repository), BENCH_PERF=dir (`perf record`
// of workerd during each Worker's first measured request, into dir) and, with it,
// BENCH_STRACE=1 (`strace -f -c` instead).
import { spawn, execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, appendFileSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { availableParallelism } from "node:os";
import { promisify } from "node:util";
import { crc32 } from "node:zlib";
import { Miniflare } from "miniflare";
import { presignGet, signRequest } from "./sigv4.mjs";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const here = fileURLToPath(new URL("./", import.meta.url));
const tmp = process.env.BENCH_TMP;
if (!tmp || !existsSync(tmp)) throw new Error("BENCH_TMP must name an existing directory");
const runs = Number(process.env.BENCH_RUNS ?? 9);
const warmups = Number(process.env.BENCH_WARMUP ?? 20);
// Pinning (BENCH_PIN, default 1 with two cores or more): workerd on CPU 0, curl and weed
// on CPU 1 (taskset), so that the measured process never shares its core with the
// client or the S3 server. Unpinned, the same request's CPU time varied up to 2× here.
const pin = (process.env.BENCH_PIN ?? (availableParallelism() >= 2 ? "1" : "0")) === "1" ? { workerd: "0", client: "1" } : undefined;
const sizes = process.argv.slice(2).map(Number);
if (sizes.length === 0 || sizes.some((s) => !Number.isSafeInteger(s) || s < 1024)) {
  throw new Error("usage: serve.mjs <bytes ≥ 1024> ...");
}
const compatibilityDate = readFileSync(`${root}wrangler.toml`, "utf8").match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1];
const edgefsEntry = `${root}build/index.js`;
const CLK_TCK = Number((await run("getconf", ["CLK_TCK"])).stdout.trim());
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const log = (...args) => console.error(...args);
const pidFile = `${tmp}/pids`;
const remember = (pid, name) => appendFileSync(pidFile, `${pid} ${name}\n`);

// --- the objects --------------------------------------------------------------------

// `posts` is a bundled public collection; PocketBase's collection id is pbc_ + crc32 of
// type+name, in decimal.
const collectionId = `pbc_${crc32("baseposts")}`;
const records = [
  // The warm-up file: each Worker serves it once before it is measured.
  { id: "benchwarm000001", filename: "warm_abc1234567.png", size: 4096 },
  ...sizes.map((size, i) => ({
    id: `benchobject${String(i).padStart(4, "0")}`,
    filename: `bench_${String(i).padStart(10, "0")}.png`,
    size,
  })),
];
const objectKey = (r) => `${collectionId}/${r.id}/${r.filename}`;
const recordKey = (r) => `.edgefs/records/${collectionId}/${r.id}.json`;
const recordJson = (r) =>
  JSON.stringify({
    id: r.id,
    collectionId,
    collectionName: "posts",
    title: "bench",
    author: "",
    published: false,
    cover: r.filename,
    created: "2026-01-01 00:00:00.000Z",
    updated: "2026-01-01 00:00:00.000Z",
  });

// A PNG signature, then 1 MiB of pseudo-random bytes repeated: the content is never held
// whole, only streamed.
const pattern = Buffer.alloc(MiB);
for (let i = 0, x = 2463534242; i < MiB; i += 4) {
  x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
  pattern.writeUInt32LE(x, i);
}
Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(pattern);
function* chunks(size) {
  for (let sent = 0; sent < size; sent += MiB) yield pattern.subarray(0, Math.min(MiB, size - sent));
}
// --- ports and processes -----------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
function portIsFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
// SeaweedFS also listens on each port + 10000 (gRPC).
async function freePortPair() {
  for (;;) {
    const port = await freePort();
    if (port < 55000 && (await portIsFree(port + 10000))) return port;
  }
}
async function waitForPort(port, child, name) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before listening`);
    const ok = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => { socket.destroy(); resolve(true); });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not listen on 127.0.0.1:${port}`);
}

const children = new Set();
function childrenOfThisProcess() {
  const pids = new Set();
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    const text = readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8").trim();
    for (const pid of text.split(/\s+/).filter(Boolean)) pids.add(Number(pid));
  }
  return pids;
}
const comm = (pid) => readFileSync(`/proc/${pid}/comm`, "utf8").trim();

// --- SeaweedFS ---------------------------------------------------------------------

const S3 = { accessKey: "AKIDEDGEFSBENCH", secretKey: "edgefs-bench-secret-key", region: "us-east-1", bucket: "edgefs-bench" };

async function startSeaweed() {
  const dir = `${tmp}/seaweedfs`;
  for (const d of ["data", "logs"]) mkdirSync(`${dir}/${d}`, { recursive: true });
  writeFileSync(
    `${dir}/s3.json`,
    JSON.stringify({
      identities: [
        { name: "admin", credentials: [{ accessKey: S3.accessKey, secretKey: S3.secretKey }], actions: ["Admin", "Read", "Write", "List", "Tagging"] },
      ],
    }),
  );
  const [s3, master, volume, filer] = [await freePortPair(), await freePortPair(), await freePortPair(), await freePortPair()];
  const { openSync } = await import("node:fs");
  const child = spawn(
    "weed",
    [
      `-logdir=${dir}/logs`,
      "mini",
      `-dir=${dir}/data`,
      "-ip=127.0.0.1",
      "-ip.bind=127.0.0.1",
      `-s3.port=${s3}`,
      `-master.port=${master}`,
      `-volume.port=${volume}`,
      `-filer.port=${filer}`,
      `-s3.config=${dir}/s3.json`,
      "-webdav=false",
      "-admin.ui=false",
      "-s3.port.iceberg=0",
      "-s3.port.lance=0",
      "-s3.autoCreateBucket=false",
      `-filer.localSocket=${dir}/filer.sock`,
      `-s3.localSocket=${dir}/s3.sock`,
    ],
    { stdio: ["ignore", openSync(`${dir}/stdout.log`, "w"), openSync(`${dir}/stderr.log`, "w")] },
  );
  remember(child.pid, "weed");
  if (pin) await run("taskset", ["-a", "-p", "-c", pin.client, String(child.pid)]);
  children.add(child);
  await waitForPort(s3, child, "SeaweedFS");
  return { ...S3, endpoint: `http://127.0.0.1:${s3}`, pid: child.pid };
}

// One signed S3 request; `body` is a Buffer, an iterable of Buffers, or nothing.
function s3Request(s3, method, path, { body, length = 0, headers = {} } = {}) {
  const signed = signRequest({ method, endpoint: s3.endpoint, path, headers: { ...headers, "content-length": String(length) }, ...s3 });
  return new Promise((resolve, reject) => {
    const req = httpRequest(signed.url, { method, headers: signed.headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => (res.statusCode < 300 ? resolve(text) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))));
    });
    req.on("error", reject);
    (async () => {
      if (Buffer.isBuffer(body)) req.write(body);
      else if (body) for (const chunk of body) if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
      req.end();
    })().catch(reject);
  });
}

async function seedSeaweed(s3) {
  // The bucket can take a moment after the port opens.
  for (let i = 0; ; i++) {
    try {
      await s3Request(s3, "PUT", `/${s3.bucket}`);
      break;
    } catch (error) {
      if (i > 50) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  for (const r of records) {
    const json = Buffer.from(recordJson(r));
    await s3Request(s3, "PUT", `/${s3.bucket}/${recordKey(r)}`, { body: json, length: json.length, headers: { "content-type": "application/json" } });
    await s3Request(s3, "PUT", `/${s3.bucket}/${objectKey(r)}`, { body: chunks(r.size), length: r.size, headers: { "content-type": "image/png" } });
  }
}

// --- R2 (Miniflare's simulator, persisted so that each measured instance reads it) --

// Miniflare's getR2Bucket proxy only takes streams of known length, so the objects go in
// through a seeding Worker: PUT /{key} with a Content-Length puts request.body, streamed.
async function seedR2(persist) {
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    modules: true,
    script: `export default {
      async fetch(request, env) {
        const key = decodeURIComponent(new URL(request.url).pathname.slice(1));
        const type = request.headers.get("content-type");
        const put = await env.BUCKET.put(key, request.body, { httpMetadata: { contentType: type } });
        return new Response(String(put.size));
      },
    };`,
    compatibilityDate,
    r2Buckets: ["BUCKET"],
    r2Persist: persist,
  });
  try {
    const origin = (await mf.ready).origin;
    const put = (key, type, body, length) =>
      new Promise((resolve, reject) => {
        const req = httpRequest(`${origin}/${key}`, { method: "PUT", headers: { "content-type": type, "content-length": String(length) } }, (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c) => (text += c));
          res.on("end", () => (res.statusCode === 200 && text === String(length) ? resolve() : reject(new Error(`R2 seed of ${key}: ${res.statusCode} ${text}`))));
        });
        req.on("error", reject);
        (async () => {
          for (const chunk of body) if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
          req.end();
        })().catch(reject);
      });
    for (const r of records) {
      const json = Buffer.from(recordJson(r));
      await put(recordKey(r), "application/json", [json], json.length);
      await put(objectKey(r), "image/png", chunks(r.size), r.size);
    }
  } finally {
    await mf.dispose();
  }
}

// --- the four Workers ---------------------------------------------------------------

const wasmRules = [
  { type: "ESModule", include: ["**/*.js"] },
  { type: "CompiledWasm", include: ["**/*.wasm"] },
];

async function startWorker(name, options, pathOf) {
  const before = childrenOfThisProcess();
  const mf = new Miniflare({ host: "127.0.0.1", port: 0, compatibilityDate, modules: true, ...options });
  const url = await mf.ready;
  const fresh = [...childrenOfThisProcess()].filter((pid) => !before.has(pid) && comm(pid) === "workerd");
  if (fresh.length !== 1) throw new Error(`${name}: expected one new workerd child, found ${fresh.join(",") || "none"}`);
  remember(fresh[0], "workerd");
  if (pin) await run("taskset", ["-a", "-p", "-c", pin.workerd, String(fresh[0])]);
  return { name, mf, pid: fresh[0], origin: url.origin, pathOf };
}

// --- measuring ----------------------------------------------------------------------

function cpuTicks(pid) {
  // Fields after the parenthesized command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}
// The same CPU time in nanoseconds: the sum of /proc/PID/task/*/schedstat's first field
// (time on CPU per thread). Only valid when no thread ended in between, so the ids
// come along.
function cpuNs(pid) {
  let total = 0;
  const tids = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      tids.push(tid);
    } catch {}
  }
  return { total, tids: tids.sort().join(",") };
}
function memoryKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const get = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"))[1]);
  return { hwm: get("VmHWM"), rss: get("VmRSS") };
}
const resetPeak = (pid) => writeFileSync(`/proc/${pid}/clear_refs`, "5");

async function curl(url, headerFile) {
  const { stdout } = await run(
    pin ? "taskset" : "curl",
    [
      ...(pin ? ["-c", pin.client, "curl"] : []),
      ...["-sS", "--noproxy", "*", "-o", "/dev/null", ...(headerFile ? ["-D", headerFile] : [])],
      ...["-w", "%{http_code} %{size_download} %{time_total}", url],
    ],
    { maxBuffer: 1 << 20 },
  );
  const [status, bytes, seconds] = stdout.trim().split(" ");
  return { status: Number(status), bytes: Number(bytes), seconds: Number(seconds) };
}

async function measure(worker, record, headerFile) {
  const url = `${worker.origin}${worker.pathOf(record)}`;
  resetPeak(worker.pid);
  const idle = memoryKiB(worker.pid);
  const nodeBefore = process.cpuUsage();
  const ticksBefore = cpuTicks(worker.pid);
  const nsBefore = cpuNs(worker.pid);
  // BENCH_PERF=dir (experiments): `perf record` of workerd during the first request.
  let perf;
  if (process.env.BENCH_PERF && headerFile) {
    const out = `${process.env.BENCH_PERF}/${worker.name.replace("/", "-")}-${record.size}`;
    perf = process.env.BENCH_STRACE
      ? spawn("strace", ["-f", "-c", "-o", `${out}.strace`, "-p", String(worker.pid)], { stdio: "ignore" })
      : spawn("perf", ["record", "-q", "-F", "999", "-g", "-p", String(worker.pid), "-o", `${out}.data`], { stdio: "ignore" });
    remember(perf.pid, process.env.BENCH_STRACE ? "strace" : "perf");
    await new Promise((r) => setTimeout(r, 500));
  }
  const got = await curl(url, headerFile);
  if (perf) {
    perf.kill("SIGINT");
    await new Promise((r) => perf.once("exit", r));
  }
  const nsAfter = cpuNs(worker.pid);
  const ticks = cpuTicks(worker.pid) - ticksBefore;
  const node = process.cpuUsage(nodeBefore);
  const mem = memoryKiB(worker.pid);
  if (got.status !== 200 || got.bytes !== record.size) {
    throw new Error(`${worker.name}: GET ${url}: ${got.status}, ${got.bytes} of ${record.size} bytes`);
  }
  return {
    // schedstat's nanoseconds when the threads stayed the same, else the clock ticks.
    cpuSeconds: nsAfter.tids === nsBefore.tids ? (nsAfter.total - nsBefore.total) / 1e9 : ticks / CLK_TCK,
    cpuSecondsFromTicks: ticks / CLK_TCK,
    seconds: got.seconds,
    idleRssKiB: idle.rss,
    peakRssKiB: mem.hwm,
    nodeCpuSeconds: (node.user + node.system) / 1e6,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// --- main ----------------------------------------------------------------------------

const workers = [];
let shuttingDown = false;
async function shutdown() {
  if (shuttingDown) return;
  shuttingDown = true;
  await Promise.allSettled(workers.map((w) => w.mf.dispose()));
  for (const child of children) child.kill("SIGTERM");
}
// On a signal, stop at once: Miniflare's dispose waits for requests in flight, so the
// processes this script started are ended by their ids instead.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const line of existsSync(pidFile) ? readFileSync(pidFile, "utf8").trim().split("\n") : []) {
      const [pid, name] = line.split(" ");
      try {
        if (comm(pid) === name) process.kill(Number(pid), "SIGTERM");
      } catch {}
    }
    process.exit(130);
  });
}

try {
  const r2Seed = `${tmp}/r2-seed`;
  log(`seeding R2 (Miniflare, ${r2Seed}) with ${sizes.map(human).join(", ")}…`);
  await seedR2(r2Seed);
  // Each R2 Worker gets its own copy of the persisted bucket, both made the same way:
  // reading the file workerd wrote costs measurably more CPU than reading a copy made
  // by cp (seen as edgefs 1.2–1.5× when it read the original and JS a copy, and
  // the reverse when swapped), so neither reads the original.
  const r2Persist = { edgefs: `${tmp}/r2-edgefs`, hit: `${tmp}/r2-edgefs-hit`, JS: `${tmp}/r2-js` };
  for (const dir of Object.values(r2Persist)) cpSync(r2Seed, dir, { recursive: true });

  log("starting SeaweedFS…");
  const s3 = await startSeaweed();
  log(`seeding SeaweedFS (${s3.endpoint})…`);
  await seedSeaweed(s3);

  const edgefsBuilt = existsSync(edgefsEntry);
  const edgefsPath = (r) => `/api/files/posts/${r.id}/${r.filename}`;
  const jsPath = (r) => `/${objectKey(r)}`;
  const urls = Object.fromEntries(
    records.map((r) => [jsPath(r), presignGet({ endpoint: s3.endpoint, path: `/${s3.bucket}/${objectKey(r)}`, expires: 86400, ...s3 })]),
  );
  const s3Env = {
    S3_ENABLED: "true",
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY: s3.accessKey,
    S3_SECRET_KEY: s3.secretKey,
    S3_FORCE_PATH_STYLE: "true",
  };
  // edgefs twice: with the edge cache off (every request reads the record and the
  // object: a miss), and on (the file requested once before the measured runs: a hit).
  const noCache = { EDGE_CACHE_SECONDS: "0" };
  const configs = [
    { source: "R2", worker: "edgefs", start: () => startWorker("edgefs/R2", { scriptPath: edgefsEntry, modulesRules: wasmRules, bindings: noCache, r2Buckets: ["BUCKET"], r2Persist: r2Persist.edgefs }, edgefsPath) },
    { source: "R2", worker: "edgefs hit", fill: true, start: () => startWorker("edgefs hit/R2", { scriptPath: edgefsEntry, modulesRules: wasmRules, r2Buckets: ["BUCKET"], r2Persist: r2Persist.hit }, edgefsPath) },
    { source: "R2", worker: "JS", start: () => startWorker("JS/R2", { scriptPath: process.env.BENCH_JS_R2_WORKER ?? `${here}r2-passthrough.mjs`, r2Buckets: ["BUCKET"], r2Persist: r2Persist.JS }, jsPath) },
    { source: "SeaweedFS", worker: "edgefs", start: () => startWorker("edgefs/SeaweedFS", { scriptPath: edgefsEntry, modulesRules: wasmRules, bindings: { ...s3Env, ...noCache } }, edgefsPath) },
    { source: "SeaweedFS", worker: "edgefs hit", fill: true, start: () => startWorker("edgefs hit/SeaweedFS", { scriptPath: edgefsEntry, modulesRules: wasmRules, bindings: s3Env }, edgefsPath) },
    { source: "SeaweedFS", worker: "JS", start: () => startWorker("JS/SeaweedFS", { scriptPath: `${here}s3-passthrough.mjs`, bindings: { URLS: JSON.stringify(urls) } }, jsPath) },
  ];

  // BENCH_ONLY=edgefs/R2,JS/R2 (names as in the log) measures only those.
  const only = process.env.BENCH_ONLY?.split(",").filter(Boolean);
  const warm = records[0];
  const results = [];
  for (const record of records.slice(1)) {
    // Fresh instances per size, each warmed up by the same number of small requests, so
    // sizes are compared at the same request count (workerd's RSS steps up over the
    // first requests, whatever their size, and then stays).
    for (const config of configs) {
      if (only && !only.includes(`${config.worker}/${config.source}`)) {
        config.skipped = "not in BENCH_ONLY";
        continue;
      }
      if (config.worker.startsWith("edgefs") && !edgefsBuilt) {
        config.skipped = `${edgefsEntry} missing (bash scripts/lib-worker.sh build)`;
        continue;
      }
      if (config.skipped) continue;
      const worker = await config.start();
      workers.push(worker);
      config.instance = worker;
      for (let i = 0; i < warmups && !config.skipped; i++) {
        const got = await curl(`${worker.origin}${worker.pathOf(warm)}`);
        if (got.status !== 200 || got.bytes !== warm.size) {
          config.skipped = `warm-up GET ${worker.pathOf(warm)} answered ${got.status} with ${got.bytes} bytes`;
        }
      }
      if (config.skipped) {
        log(`${worker.name}: ${config.skipped}; skipped`);
        await worker.mf.dispose();
        workers.splice(workers.indexOf(worker), 1);
        config.instance = undefined;
      } else {
        if (config.fill) {
          // Fills the edge cache with the measured file: the runs are hits.
          const got = await curl(`${worker.origin}${worker.pathOf(record)}`);
          if (got.status !== 200 || got.bytes !== record.size) throw new Error(`${worker.name}: filling GET answered ${got.status}`);
        }
        log(`${worker.name}: workerd pid ${worker.pid}, ${worker.origin}, ${warmups} warm-up requests${config.fill ? ", the file requested once" : ""}`);
      }
    }

    const samples = new Map(configs.map((c) => [c, []]));
    // Interleaved: run 1 of every configuration, then run 2, …
    for (let i = 0; i < runs; i++) {
      for (const config of configs) {
        if (!config.instance) continue;
        const headerFile = i === 0 ? `${tmp}/headers` : undefined;
        const s = await measure(config.instance, record, headerFile);
        if (headerFile) {
          const headers = readFileSync(headerFile, "utf8").trim().split(/\r?\n/).join(" | ");
          log(`${human(record.size)} ${config.instance.name} answer: ${headers}`);
        }
        samples.get(config).push(s);
        log(
          `${human(record.size)} ${config.instance.name} run ${i + 1}: ${s.cpuSeconds.toFixed(3)} s CPU ` +
            `(ticks ${s.cpuSecondsFromTicks.toFixed(2)}), ` +
            `${(record.size / MiB / s.seconds).toFixed(0)} MiB/s, peak RSS ${(s.peakRssKiB / 1024).toFixed(0)} MiB ` +
            `(idle ${(s.idleRssKiB / 1024).toFixed(0)}), node ${s.nodeCpuSeconds.toFixed(2)} s`,
        );
      }
    }
    for (const config of configs) {
      const s = samples.get(config);
      results.push({
        size: record.size,
        source: config.source,
        worker: config.worker,
        skipped: config.skipped,
        runs: s.length,
        cpuPerGiB: s.length ? median(s.map((x) => x.cpuSeconds)) / (record.size / GiB) : NaN,
        minCpuPerGiB: s.length ? Math.min(...s.map((x) => x.cpuSeconds)) / (record.size / GiB) : NaN,
        mibPerSecond: s.length ? record.size / MiB / median(s.map((x) => x.seconds)) : NaN,
        peakRssMiB: s.length ? Math.max(...s.map((x) => x.peakRssKiB)) / 1024 : NaN,
        idleRssMiB: s.length ? s[0].idleRssKiB / 1024 : NaN,
        nodeCpuSeconds: s.length ? median(s.map((x) => x.nodeCpuSeconds)) : NaN,
        samples: s,
      });
    }
    await Promise.allSettled(workers.map((w) => w.mf.dispose()));
    workers.length = 0;
    for (const config of configs) config.instance = undefined;
  }
  writeFileSync(`${tmp}/results.json`, JSON.stringify(results, null, 2));
  console.log(table(results));
} finally {
  await shutdown();
}

function human(bytes) {
  if (bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

function table(results) {
  const f = (x, d) => (Number.isFinite(x) ? x.toFixed(d) : "–");
  const lines = [
    `| size | source | Worker | CPU ms/request | CPU s/GiB (min) | MiB/s | peak RSS MiB (idle) | CPU vs JS | MiB/s vs JS |`,
    `|---|---|---|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const r of results) {
    const js = results.find((x) => x.size === r.size && x.source === r.source && x.worker === "JS");
    if (r.skipped) {
      lines.push(`| ${human(r.size)} | ${r.source} | ${r.worker} | – | – | – | – | – | – |`);
      continue;
    }
    const vs = r.worker === "JS" || !js?.runs ? ["1", "1"] : [`${f(r.cpuPerGiB / js.cpuPerGiB, 2)}×`, `${f(r.mibPerSecond / js.mibPerSecond, 2)}×`];
    if (r.worker === "JS") vs.fill("–");
    lines.push(
      `| ${human(r.size)} | ${r.source} | ${r.worker} | ${f((r.cpuPerGiB * r.size * 1000) / GiB, 2)} | ${f(r.cpuPerGiB, 2)} (${f(r.minCpuPerGiB, 2)}) | ${f(r.mibPerSecond, 0)} | ` +
        `${f(r.peakRssMiB, 0)} (${f(r.idleRssMiB, 0)}) | ${vs[0]} | ${vs[1]} |`,
    );
  }
  const skipped = [...new Set(results.filter((r) => r.skipped).map((r) => `${r.source} ${r.worker}: ${r.skipped}`))];
  if (skipped.length) lines.push("", ...skipped.map((s) => `- skipped: ${s}`));
  lines.push(
    "",
    `CPU and MiB/s: medians of ${runs} request(s) per row (CPU's minimum in brackets); the ratios are of the medians. ` +
      `Peak RSS: the highest VmHWM over them; idle: the RSS before the first, after ${warmups} warm-up requests of a 4 KiB file. ` +
      (pin ? `workerd pinned to CPU ${pin.workerd}, curl and weed to CPU ${pin.client}.` : "Not pinned."),
  );
  return lines.join("\n");
}
