// The Worker glue's JavaScript half (src/lib.rs): the init state the worker-build shim reads, and the request body helpers.
// worker-build's shim reads it as globalThis.__worker_init_state; the glue as `state`.
export const state = { criticalError: false, instanceId: 0 };
globalThis.__worker_init_state = state;

export async function read_form_js(body, contentType, limit, drainLimit) {
  // Counted as it arrives: a chunked body has no Content-Length to refuse it by. Past
  // the limit the form fails, and the rest is drained (to drainLimit) from the source
  // reader, so that the 413 reaches the client instead of a reset.
  let reader = null;
  let over = false;
  if (body instanceof ReadableStream) {
    reader = body.getReader();
    let seen = 0;
    body = new ReadableStream({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        seen += value.byteLength;
        if (seen > limit) {
          over = true;
          return controller.error(new Error("over the limit"));
        }
        controller.enqueue(value);
      },
    });
  }
  let form;
  try {
    form = await new Response(body, { headers: { "content-type": contentType } }).formData();
  } catch (error) {
    if (!over) throw error;
    await drain_reader(reader, drainLimit);
    return { tooLarge: true };
  }
  const fields = [];
  const files = [];
  for (const [name, value] of form) {
    if (typeof value === "string") {
      fields.push([name, value]);
      continue;
    }
    const head = new Uint8Array(await value.slice(0, 512).arrayBuffer());
    files.push({ field: name, name: value.name, size: value.size, head, stream: value.stream() });
  }
  return { fields, files };
}

async function drain_reader(reader, limit) {
  let seen = 0;
  try {
    while (seen <= limit) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
    await reader.cancel();
  } catch {}
}

// Records in D1 (src/records/sql): the statements as one db.batch() — a transaction —
// and what each gave, as JSON text for the Rust half to read.
export async function d1_batch(db, statements) {
  const prepared = statements.map(([sql, params]) => db.prepare(sql).bind(...params));
  const results = await db.batch(prepared);
  return JSON.stringify(results.map((r) => ({ rows: r.results ?? [], changes: r.meta?.changes ?? 0 })));
}

export function drain(stream, limit) {
  return drain_reader(stream.getReader(), limit);
}

// Companion mode (src/companion.rs): the client's request sent on to PocketBase as it
// came (method, headers, the body streamed) and PocketBase's answer handed back as it
// is (redirects too), marked with how it was made. PocketBase must answer within
// `timeoutMs` (headers; the body may take as long as it takes), else a 504.
// `identity`: PocketBase's answer about a file (a denial) goes out with its own length,
// not re-encoded by the runtime, as the Worker's own file answers do.
export async function proxy_to_pocketbase(request, url, source, timeoutMs, identity) {
  const init = { method: request.method, headers: new Headers(request.headers), redirect: "manual" };
  // The client's address for PocketBase's logs and rate limits (src/companion/mod.rs,
  // CLIENT_IP_HEADER): Cloudflare puts its own in a Worker's request.
  const client = request.headers.get("cf-connecting-ip");
  if (client) init.headers.set("x-forwarded-for", client);
  if (request.body) {
    init.body = request.body;
    init.duplex = "half";
  }
  const abort = new AbortController();
  init.signal = abort.signal;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, timeoutMs);
  let answer;
  try {
    answer = await globalThis.fetch(url, init);
  } catch (error) {
    const origin = new URL(url).origin;
    return timedOut
      ? pocketbase_error(504, `PocketBase at ${origin} did not answer within ${timeoutMs / 1000} s`)
      : pocketbase_error(502, `PocketBase at ${origin} did not answer: ${error?.message ?? error}`);
  } finally {
    clearTimeout(timer);
  }
  const headers = new Headers(answer.headers);
  headers.set("x-edgefs-source", source);
  if (identity && !headers.has("content-encoding")) headers.set("content-encoding", "identity");
  // A plain stream would go out chunked: keep PocketBase's Content-Length.
  let body = answer.body;
  const length = Number(answer.headers.get("content-length"));
  if (
    body &&
    answer.headers.has("content-length") &&
    Number.isSafeInteger(length) &&
    typeof FixedLengthStream === "function"
  ) {
    const fixed = new FixedLengthStream(length);
    body.pipeTo(fixed.writable).catch(() => {});
    body = fixed.readable;
  }
  return new Response(body, { status: answer.status, statusText: answer.statusText, headers });
}

function pocketbase_error(status, message) {
  return new Response(JSON.stringify({ data: {}, message, status }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

// Companion mode's edge cache: the Workers Cache API (`caches.default`, this data
// center's cache). A public answer is kept under its canonical key (src/companion/purge.rs)
// for the configured time, its own Cache-Control (PocketBase's, for the client) set
// aside while it is there. A hit honours the client's Range and conditional headers.
const KEPT_CACHE_CONTROL = "x-edgefs-cache-control";

// `cors`: the hit gets the API's CORS answer for this request (the cache ignores
// `Vary: Origin`, so the copy may have been kept from a request with another Origin).
export async function edge_cache_match(key, request, cors) {
  if (typeof caches === "undefined") return undefined;
  const hit = await caches.default.match(new Request(key, { headers: request.headers }));
  if (!hit) return undefined;
  if (request.headers.has("range") && hit.status !== 206) {
    // A range the cache does not answer with a part (past the end: its 416 is not
    // Go's): the Worker answers it, as PocketBase would.
    await hit.body?.cancel();
    return undefined;
  }
  const headers = new Headers(hit.headers);
  if (hit.status === 304) {
    // PocketBase's 304 (Go's ServeContent) keeps the validators, disposition and CSP,
    // not the type or Accept-Ranges.
    headers.delete("content-type");
    headers.delete("accept-ranges");
  }
  if (cors) {
    if (request.headers.has("origin")) headers.set("access-control-allow-origin", "*");
    else headers.delete("access-control-allow-origin");
  }
  const kept = headers.get(KEPT_CACHE_CONTROL);
  headers.delete(KEPT_CACHE_CONTROL);
  if (kept) headers.set("cache-control", kept);
  else headers.delete("cache-control");
  headers.set("x-edgefs-source", "edge cache");
  return new Response(hit.body, { status: hit.status, headers });
}

export function edge_cache_put(ctx, key, response, seconds) {
  if (typeof caches === "undefined" || !response.body) return response;
  const copy = response.clone();
  const headers = new Headers(copy.headers);
  headers.set(KEPT_CACHE_CONTROL, headers.get("cache-control") ?? "");
  headers.set("cache-control", `public, max-age=${seconds}`);
  const stored = caches.default
    .put(key, new Response(copy.body, { status: copy.status, headers }))
    .catch(() => {});
  if (ctx && typeof ctx.waitUntil === "function") ctx.waitUntil(stored);
  return response;
}

export async function edge_cache_delete(keys) {
  if (typeof caches === "undefined") return;
  await Promise.all(keys.map((key) => caches.default.delete(key)));
}
