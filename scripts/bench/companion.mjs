// Companion mode's benchmark (issue 13): the real PocketBase 0.40.6 on S3 (a SeaweedFS
// on 127.0.0.1) serving a 1 MiB and a 64 MiB file, public and protected, three ways:
//
//   direct        the client asks PocketBase, which streams the object from S3;
//   worker        the client asks the Worker in companion mode with PB_CACHE_SECONDS=0:
//                 every request is one HEAD to PocketBase, then the body from the bucket;
//   worker, kept  the Worker with the default PB_CACHE_SECONDS=60, asked again: a public
//                 file is the edge cache's copy (Cache API), a protected one is read from
//                 the bucket on the kept decision, with no request to PocketBase.
//
// PocketBase is reached through a counting TCP proxy on each side, so the bytes it sends
// (headers and bodies) are counted on the wire: to the Worker, and to the direct client.
// Around each request the CPU time of workerd (the Miniflare instance's one process) and
// of PocketBase is read from /proc/PID/task/*/schedstat. Everything runs on this machine
// (SeaweedFS, PocketBase, workerd and the client share its cores; nothing pinned).
//
//   bash scripts/lib-worker.sh build && node scripts/bench/companion.mjs
//
// Environment: BENCH_RUNS (measured requests per line, default 5; medians are reported).
import { createServer, connect } from "node:net";
import { fileURLToPath } from "node:url";
import { availableParallelism } from "node:os";
import PocketBase from "pocketbase";
import { startCompanion } from "../../tests/worker/lib/companion.mjs";
import { children, comm, cpuMs, median, newWorkerd } from "./lib/proc.mjs";
import { startPocketBase } from "../../tests/worker/lib/pocketbase.mjs";
import { s3Variables } from "../../tests/worker/lib/seaweedfs.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 5);
const MiB = 1024 * 1024;
const SIZES = [1 * MiB, 64 * MiB];

const COLLECTION = {
  name: "bench",
  type: "base",
  listRule: "",
  viewRule: "owner = @request.auth.id",
  createRule: "",
  fields: [
    { name: "owner", type: "relation", collectionId: "_pb_users_auth_", maxSelect: 1 },
    { name: "public", type: "file", maxSelect: 2, maxSize: 100 * MiB },
    { name: "secret", type: "file", maxSelect: 2, maxSize: 100 * MiB, protected: true },
  ],
};

/** A TCP proxy to 127.0.0.1:port counting the bytes the server sends back. */
async function countingProxy(port) {
  let sent = 0;
  const server = createServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    upstream.on("data", (chunk) => (sent += chunk.length));
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, sent: () => sent, close: () => server.close() };
}

/** One GET read to the end: first byte and total in ms, and the bytes. */
async function timed(url) {
  const started = performance.now();
  const response = await fetch(url);
  const headers = performance.now() - started;
  let bytes = 0;
  let first;
  for await (const chunk of response.body) {
    first ??= performance.now() - started;
    bytes += chunk.length;
  }
  return {
    status: response.status,
    source: response.headers.get("x-edgefs-source") ?? "pocketbase",
    firstByte: first ?? headers,
    total: performance.now() - started,
    bytes,
  };
}

const before = new Set(children());
const pb = await startPocketBase({ collections: [COLLECTION], s3: true });
const pbPid = children().find((pid) => !before.has(pid) && comm(pid) === "pocketbase");
if (!pbPid) throw new Error("PocketBase's process not found");
const pbPort = Number(new URL(pb.url).port);
const toWorker = await countingProxy(pbPort);
const toWorkerKept = await countingProxy(pbPort);
const toClient = await countingProxy(pbPort);
const s3 = s3Variables(pb.s3);
const uncached = await newWorkerd(() => startCompanion(root, { PB_ORIGIN: toWorker.url, PB_CACHE_SECONDS: "0", ...s3 }));
const kept = await newWorkerd(() => startCompanion(root, { PB_ORIGIN: toWorkerKept.url, ...s3 }));

try {
  const user = await pb.user();
  const owner = new PocketBase(pb.url);
  owner.autoCancellation(false);
  owner.authStore.save(user.token, user.record);
  const data = new FormData();
  data.append("owner", user.id);
  for (const field of ["public", "secret"]) {
    for (const size of SIZES) {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 4096) bytes[i] = (i / 4096) & 0xff;
      data.append(field, new File([bytes], `${field}-${size / MiB}mib.bin`));
    }
  }
  const record = await owner.collection("bench").create(data);
  const token = await owner.files.getToken();

  const lines = [];
  for (const field of ["public", "secret"]) {
    for (const [i, size] of SIZES.entries()) {
      const path = `/api/files/${record.collectionId}/${record.id}/${record[field][i]}${field === "secret" ? `?token=${token}` : ""}`;
      const ways = [
        ["PocketBase directly", toClient.url, null, toClient],
        ["through the Worker (asks PocketBase each time)", uncached.url, uncached.pid, toWorker],
        [field === "public" ? "Worker, edge cache hit" : "Worker, kept decision", kept.url, kept.pid, toWorkerKept],
      ];
      // The kept Worker's first answer is a miss: it fills the cache or the decision.
      await timed(kept.url + path);
      for (const [way, base, workerd, wire] of ways) {
        const samples = [];
        for (let n = 0; n < runs; n++) {
          const wire0 = wire.sent();
          const cpu0 = workerd ? cpuMs(workerd) : 0;
          const pb0 = cpuMs(pbPid);
          const answer = await timed(base + path);
          if (answer.status !== 200 || answer.bytes !== size) {
            throw new Error(`${way} ${path}: ${answer.status}, ${answer.bytes} bytes`);
          }
          samples.push({
            ...answer,
            workerdCpu: workerd ? cpuMs(workerd) - cpu0 : null,
            pbCpu: cpuMs(pbPid) - pb0,
            pbSent: wire.sent() - wire0,
          });
        }
        const m = (key) => median(samples.map((s) => s[key]));
        lines.push({
          file: `${size / MiB} MiB ${field === "public" ? "public" : "protected"}`,
          way,
          source: [...new Set(samples.map((s) => s.source))].join(", "),
          firstByte: m("firstByte"),
          total: m("total"),
          workerdCpu: workerd ? m("workerdCpu") : null,
          pbCpu: m("pbCpu"),
          pbSent: m("pbSent"),
        });
        process.stderr.write(".");
      }
    }
  }
  process.stderr.write("\n");
  const cores = availableParallelism();
  console.log(`${runs} requests per line, medians; one machine, ${cores} cores, all on 127.0.0.1.\n`);
  console.log("| file | served | x-edgefs-source | first byte | total | workerd CPU | PocketBase CPU | bytes PocketBase sent |");
  console.log("|---|---|---|---:|---:|---:|---:|---:|");
  const ms = (v) => (v === null ? "—" : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);
  for (const l of lines) {
    console.log(
      `| ${l.file} | ${l.way} | ${l.source} | ${ms(l.firstByte)} | ${ms(l.total)} | ${ms(l.workerdCpu)} | ${ms(l.pbCpu)} | ${l.pbSent.toLocaleString("en")} |`,
    );
  }
} finally {
  await uncached.mf.dispose();
  await kept.mf.dispose();
  for (const proxy of [toWorker, toWorkerKept, toClient]) proxy.close();
  await pb.stop();
}
