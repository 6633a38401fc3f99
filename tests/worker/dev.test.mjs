// wrangler with this repository's configuration: a smoke test of the README's run
// command (`bash scripts/dev.sh`, i.e. wrangler dev, on a free port answers GET
// /api/health and the admin page at the /_/ URL it prints, and lists 10,000 seeded records
// from the D1 it binds with a filter and a sort) and an offline
// `wrangler deploy --dry-run` of wrangler.toml.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { freePort } from "./lib/ports.mjs";
import { seed, seedRecord } from "../../scripts/seed.mjs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
// Covers a Worker build on start (cargo may have to wait for another build's lock).
const READY_TIMEOUT_MS = 600_000;

// What scripts/lib-env.sh sets: Node 22 and wrangler first on PATH, no outside traffic.
const toolEnv = () => ({
  ...process.env,
  PATH: `${root}node_modules/.bin:${process.env.PATH}`,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
});

const sleep = (ms, { ref = true } = {}) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (!ref) timer.unref();
  });

test("scripts/dev.sh serves GET /api/health on 127.0.0.1", { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
  const port = await freePort();
  // Its own process group, so that wrangler and its workerd processes stop with it.
  const child = spawn("bash", ["scripts/dev.sh"], {
    cwd: root,
    env: { ...process.env, PORT: String(port) },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (data) => (output += data));
  child.stderr.on("data", (data) => (output += data));
  let exited = null;
  const exit = new Promise((resolve) => child.on("exit", (code, signal) => resolve((exited = { code, signal }))));

  const stop = async () => {
    if (exited) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    const timer = sleep(15_000, { ref: false }).then(() => "timeout");
    if ((await Promise.race([exit, timer])) === "timeout") {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
      await exit;
    }
  };

  try {
    const url = `http://127.0.0.1:${port}/api/health`;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let response = null;
    while (!response && !exited && Date.now() < deadline) {
      try {
        // identity: wrangler would gzip the JSON for a client that accepts it.
        response = await fetch(url, {
          headers: { "accept-encoding": "identity" },
          signal: AbortSignal.timeout(5_000),
        });
      } catch {
        await sleep(250);
      }
    }
    assert.ok(response, `no answer from ${url}${exited ? ` (dev.sh exited: ${JSON.stringify(exited)})` : ""}\n${output}`);
    assert.equal(response.status, 200, output);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.equal(response.headers.get("content-length"), "50");
    assert.deepEqual(await response.json(), { message: "API is healthy.", code: 200, data: {} });

    // The bundled examples on the in-memory default, and the superuser dev.sh printed.
    const posts = await fetch(`http://127.0.0.1:${port}/api/collections/posts/records`);
    assert.equal(posts.status, 200);
    assert.equal((await posts.json()).totalItems, 0);
    const printed = output.match(/dev: superuser (\S+) \/ (\S+) \(from \.dev\.vars\)/);
    assert.ok(printed, `dev.sh printed no superuser:\n${output}`);
    const signIn = await fetch(`http://127.0.0.1:${port}/api/collections/_superusers/auth-with-password`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ identity: printed[1], password: printed[2] }),
    });
    assert.equal(signIn.status, 200, await signIn.clone().text());
    const { token } = await signIn.json();
    const collections = await fetch(`http://127.0.0.1:${port}/api/collections`, { headers: { authorization: token } });
    assert.equal(collections.status, 200);
    const names = (await collections.json()).items.map((c) => c.name);
    assert.deepEqual(names, ["posts", "documents"]);

    // Records at scale (issue 12): wrangler.toml binds D1, so 10,000 seeded posts list
    // with a filter and a sort in one request, as PocketBase answers it.
    const count = 10_000;
    const seconds = await seed({ url: `http://127.0.0.1:${port}`, email: printed[1], password: printed[2], count });
    console.log(`# seeded ${count} posts through wrangler dev in ${seconds.toFixed(1)} s`);
    const filter = "published = true && title ~ '42'";
    const listed = await fetch(
      `http://127.0.0.1:${port}/api/collections/posts/records?perPage=3&sort=-title&filter=${encodeURIComponent(filter)}`,
    );
    assert.equal(listed.status, 200, await listed.clone().text());
    const page = await listed.json();
    const matching = Array.from({ length: count }, (_, i) => seedRecord(i))
      .filter((r) => r.published && r.title.includes("42"))
      .map((r) => r.title)
      .sort()
      .reverse();
    assert.equal(page.totalItems, matching.length);
    assert.deepEqual(page.items.map((r) => r.title), matching.slice(0, 3));
    const all = await fetch(`http://127.0.0.1:${port}/api/collections/posts/records?perPage=1`);
    assert.equal((await all.json()).totalItems, count);

    // The admin page, at the URL dev.sh printed.
    const adminUrl = output.match(/dev: admin page (\S+)/)?.[1];
    assert.equal(adminUrl, `http://127.0.0.1:${port}/_/`, `dev.sh printed no admin page URL:\n${output}`);
    const admin = await fetch(adminUrl);
    assert.equal(admin.status, 200);
    assert.equal(admin.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(admin.headers.get("x-frame-options"), "DENY");
    assert.match(admin.headers.get("content-security-policy"), /default-src 'self'/);
    assert.match(await admin.text(), /<title>edgefs admin<\/title>/);
    const script = await fetch(new URL("admin.js", adminUrl));
    assert.equal(script.status, 200);
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    await script.arrayBuffer();

    const missing = await fetch(`http://127.0.0.1:${port}/api/nope`);
    assert.equal(missing.status, 404);
    // PocketBase's answer to a GET no route takes.
    assert.deepEqual(await missing.json(), {
      data: {},
      message: "File not found.",
      status: 404,
    });
  } finally {
    await stop();
    // dev.sh's fresh state directory for this run.
    await rm(`${root}.wrangler/dev-state-${child.pid}`, { recursive: true, force: true });
  }
});

test("wrangler deploy --dry-run bundles the Worker without uploading it", { timeout: READY_TIMEOUT_MS }, async () => {
  const outdir = await mkdtemp(`${tmpdir()}/edgefs-dry-run-`);
  try {
    const child = spawn("wrangler", ["deploy", "--dry-run", "--outdir", outdir], {
      cwd: root,
      env: toolEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (data) => (output += data));
    child.stderr.on("data", (data) => (output += data));
    const code = await new Promise((resolve) => child.on("close", resolve));
    assert.equal(code, 0, output);
    assert.match(output, /--dry-run: exiting now/, output);
    const files = await readdir(outdir);
    assert.ok(files.includes("index.js"), files.join(", "));
    assert.ok(files.some((file) => file.endsWith(".wasm")), files.join(", "));
    // The bundle's size, as wrangler would upload it (reported, not asserted).
    const { readFile } = await import("node:fs/promises");
    const { gzipSync } = await import("node:zlib");
    let raw = 0;
    let gzip = 0;
    // The modules wrangler uploads (not the source map or README it also writes).
    for (const file of files.filter((f) => f.endsWith(".js") || f.endsWith(".wasm"))) {
      const bytes = await readFile(`${outdir}/${file}`);
      raw += bytes.length;
      gzip += gzipSync(bytes, { level: 9 }).length;
      console.log(`# bundle file ${file}: ${bytes.length} bytes`);
    }
    console.log(`# wrangler deploy --dry-run bundle: ${raw} bytes raw, ${gzip} bytes gzip (limit 3 MiB gzip on the free plan)`);
    assert.ok(gzip < 3 * 1024 * 1024, `bundle ${gzip} bytes gzip is over the free plan's 3 MiB`);
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
});
