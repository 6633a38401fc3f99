// Load (issue 10 §4): concurrent clients for a fixed time against the built Worker under
// workerd (Miniflare), on R2 and on S3 (a signature-checking SeaweedFS), mixing
// uploads, downloads, lists, updates and deletes on shared records; then the
// consistency check of tests/worker/lib/consistency.mjs on the backend itself.
//
//   bash scripts/lib-worker.sh build
//   node scripts/bench/load.mjs [--clients 64] [--seconds 60] [--backends r2,s3] [--no-keep-alive]
//
// --no-keep-alive: each request on a new connection (undici's `pipelining: 0`), to tell
// a connection reused as the server closes it from an error of the Worker.
//
// Prints a Markdown table (requests, errors, p50/p99 latency per operation, the check's
// result). tests/worker/load.test.mjs runs the same load on a short budget in the test
// command. Everything listens on 127.0.0.1.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { checkConsistency, sha256 } from "../../tests/worker/lib/consistency.mjs";
import { png } from "../../tests/worker/lib/files.mjs";
import { startWorker } from "../../tests/worker/lib/worker.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The operations and their shares of the mix (they add up to 100). */
const MIX = [
  ["download", 35],
  ["list", 10],
  ["view", 10],
  ["create", 15],
  ["update title", 15],
  ["replace file", 10],
  ["delete", 5],
];

/** The statuses an operation may answer under races (a record deleted meanwhile is a 404). */
const EXPECTED = {
  download: [200, 404],
  list: [200],
  view: [200, 404],
  create: [200],
  "update title": [200, 404],
  "replace file": [200, 404],
  delete: [204, 404],
};

function image(size, seed) {
  const head = Buffer.from(png(2, 2, [seed % 256, (seed >> 8) % 256, 0]));
  const tail = Buffer.alloc(Math.max(0, size - head.length));
  for (let i = 0; i < tail.length; i++) tail[i] = (i * 131 + seed) % 251;
  return Buffer.concat([head, tail]);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/**
 * Runs `clients` loops for `seconds` against `target` (a lib/worker.mjs target) and the
 * consistency check after. Answers the figures.
 */
export async function runLoad(target, { clients = 64, seconds = 60, seedRecords = 32 } = {}) {
  const user = await target.user();
  const uploaded = new Map();
  const records = []; // ids, shared by every client
  const covers = new Map(); // id → the cover the last successful answer named
  let seed = 1;

  async function send(method, path, body) {
    const headers = { authorization: user.token };
    if (body && !(body instanceof FormData)) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(body);
    }
    const res = await fetch(`${target.url}${path}`, { method, headers, body });
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, bytes };
  }

  function coverForm(fields) {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    const s = seed++;
    const bytes = image(2048 + ((s * 7919) % (60 * 1024)), s);
    form.append("cover", new Blob([bytes], { type: "image/png" }), `load-${s}.png`);
    return { form, digest: sha256(bytes) };
  }

  async function create() {
    const { form, digest } = coverForm({ title: `t${seed}`, author: user.id });
    const answer = await send("POST", "/api/collections/posts/records", form);
    if (answer.status === 200) {
      const record = JSON.parse(answer.bytes);
      uploaded.set(record.cover, digest);
      records.push(record.id);
      covers.set(record.id, record.cover);
    }
    return answer;
  }

  const pick = () => records[Math.floor(Math.random() * records.length)];
  const operations = {
    create,
    async download() {
      const id = pick();
      const cover = covers.get(id);
      const answer = await send("GET", `/api/files/posts/${id}/${cover}`);
      if (answer.status === 200 && uploaded.get(cover) !== sha256(answer.bytes)) {
        return { status: "wrong bytes" };
      }
      return answer;
    },
    list: () => send("GET", "/api/collections/posts/records?perPage=50&sort=-created"),
    view: () => send("GET", `/api/collections/posts/records/${pick()}`),
    "update title": () => send("PATCH", `/api/collections/posts/records/${pick()}`, { title: `u${seed++}` }),
    async "replace file"() {
      const id = pick();
      const { form, digest } = coverForm({});
      const answer = await send("PATCH", `/api/collections/posts/records/${id}`, form);
      if (answer.status === 200) {
        const record = JSON.parse(answer.bytes);
        uploaded.set(record.cover, digest);
        covers.set(id, record.cover);
      }
      return answer;
    },
    async delete() {
      const id = pick();
      const answer = await send("DELETE", `/api/collections/posts/records/${id}`);
      // Kept in the pool: later requests for it are the 404s of a real app's stale views.
      return answer;
    },
  };

  for (let i = 0; i < seedRecords; i++) await create();
  const stats = Object.fromEntries(MIX.map(([name]) => [name, { latencies: [], errors: 0, statuses: {} }]));
  const unexpected = [];
  const deadline = Date.now() + seconds * 1000;
  const weights = MIX.flatMap(([name, share]) => Array(share).fill(name));

  async function client() {
    while (Date.now() < deadline) {
      const name = weights[Math.floor(Math.random() * weights.length)];
      const started = performance.now();
      let status;
      try {
        ({ status } = await operations[name]());
      } catch (error) {
        // undici's "fetch failed" hides the reason in its cause (a reset, a timeout…).
        const cause = error.cause?.code ?? error.cause?.message;
        status = `failed: ${error.message}${cause ? ` (${cause})` : ""}`;
      }
      const stat = stats[name];
      stat.latencies.push(performance.now() - started);
      stat.statuses[status] = (stat.statuses[status] ?? 0) + 1;
      if (!EXPECTED[name].includes(status)) {
        stat.errors += 1;
        if (unexpected.length < 20) unexpected.push(`${name}: ${status}`);
      }
    }
  }
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const elapsed = (performance.now() - started) / 1000;
  const check = await checkConsistency(target, uploaded);

  const rows = [];
  let total = 0;
  let errors = 0;
  const all = [];
  for (const [name] of MIX) {
    const { latencies, errors: e, statuses } = stats[name];
    latencies.sort((a, b) => a - b);
    all.push(...latencies);
    total += latencies.length;
    errors += e;
    rows.push({ name, requests: latencies.length, errors: e, statuses, p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
  }
  all.sort((a, b) => a - b);
  return {
    backend: target.backend,
    clients,
    seconds: elapsed,
    requests: total,
    errors,
    perSecond: total / elapsed,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    rows,
    unexpected,
    check,
  };
}

/** The figures as Markdown. */
export function table(result) {
  const ms = (v) => v.toFixed(1);
  const lines = [
    `**${result.backend}**: ${result.clients} clients for ${result.seconds.toFixed(1)} s — ${result.requests} requests (${result.perSecond.toFixed(0)}/s), ${result.errors} errors, p50 ${ms(result.p50)} ms, p99 ${ms(result.p99)} ms; consistency: ${result.check.records} records, ${result.check.files} files, ${result.check.problems.length} problems`,
    "",
    "| operation | requests | errors | p50 ms | p99 ms | statuses |",
    "|---|---:|---:|---:|---:|---|",
  ];
  for (const row of result.rows) {
    const statuses = Object.entries(row.statuses)
      .map(([status, n]) => `${status}: ${n}`)
      .join(", ");
    lines.push(`| ${row.name} | ${row.requests} | ${row.errors} | ${ms(row.p50)} | ${ms(row.p99)} | ${statuses} |`);
  }
  for (const problem of result.check.problems.slice(0, 10)) lines.push(`- problem: ${problem}`);
  for (const error of result.unexpected.slice(0, 10)) lines.push(`- unexpected: ${error}`);
  return lines.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      clients: { type: "string", default: "64" },
      seconds: { type: "string", default: "60" },
      backends: { type: "string", default: "r2,s3" },
      "no-keep-alive": { type: "boolean", default: false },
    },
  });
  if (values["no-keep-alive"]) {
    const { Agent, setGlobalDispatcher } = await import("undici");
    setGlobalDispatcher(new Agent({ pipelining: 0 }));
  }
  for (const backend of values.backends.split(",")) {
    const target = await startWorker(root, backend);
    try {
      const result = await runLoad(target, { clients: Number(values.clients), seconds: Number(values.seconds) });
      console.log(`${table(result)}\n`);
    } finally {
      await target.stop();
    }
  }
}
