// Smoke test of the README's run command: `bash scripts/dev.sh` (wrangler dev) on a free
// port answers GET /api/health.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
// Covers a Worker build on start (cargo may have to wait for another build's lock).
const READY_TIMEOUT_MS = 600_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

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

    const missing = await fetch(`http://127.0.0.1:${port}/api/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      data: {},
      message: "The requested resource wasn't found.",
      status: 404,
    });
  } finally {
    await stop();
    // dev.sh's fresh state directory for this run.
    await rm(`${root}.wrangler/dev-state-${child.pid}`, { recursive: true, force: true });
  }
});
