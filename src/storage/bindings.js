// The Workers KV and R2 bindings, called from src/storage/{kv,r2,js}.rs. Bodies stay JavaScript streams: they never enter wasm memory.
const KV_LIMIT = 25 * 1024 * 1024;

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function chunkBytes(chunk) {
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return new Uint8Array(chunk);
}

// Reads a stream into one Uint8Array, failing (RangeError) past `limit` bytes.
async function collect(stream, limit) {
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const bytes = chunkBytes(value);
    size += bytes.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw new RangeError(`the object is larger than ${limit} bytes`);
    }
    chunks.push(bytes);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const bytes of chunks) {
    all.set(bytes, offset);
    offset += bytes.byteLength;
  }
  return all;
}

function r2Attributes(object) {
  return JSON.stringify({
    size: object.size,
    etag: object.httpEtag ?? null,
    modified: object.uploaded ? object.uploaded.getTime() : null,
    contentType: object.httpMetadata?.contentType ?? null,
    metadata: object.customMetadata ?? {},
  });
}

export async function r2_head(bucket, key) {
  const object = await bucket.head(key);
  return object === null ? null : r2Attributes(object);
}

// null when missing; otherwise { attributes, body } where body is null when a
// condition failed (R2 answers an R2Object without a body).
export async function r2_get(bucket, key, options) {
  const object = await bucket.get(key, options);
  if (object === null) return null;
  return { attributes: r2Attributes(object), body: object.body ?? null };
}

// A ReadableStream of a known length goes through a FixedLengthStream (workerd needs
// the length); one of unknown length is collected here first. Bytes are a Uint8Array.
// With `ifMatch` (a quoted ETag) or `ifAbsent`, a compare-and-swap: R2 checks the
// condition and writes atomically, and `put` answers null when it failed.
export async function r2_put(bucket, key, value, length, contentType, metadata, ifMatch, ifAbsent) {
  if (value instanceof ReadableStream) {
    if (length === undefined || length === null) {
      value = await collect(value, Number.MAX_SAFE_INTEGER);
    } else if (length === 0) {
      value.cancel().catch(() => {});
      value = new Uint8Array(0);
    } else {
      const fixed = new FixedLengthStream(length);
      value.pipeTo(fixed.writable).catch(() => {});
      value = fixed.readable;
    }
  }
  const httpMetadata = contentType ? { contentType } : {};
  const options = { httpMetadata, customMetadata: JSON.parse(metadata) };
  if (ifMatch) options.onlyIf = new Headers({ "if-match": ifMatch });
  if (ifAbsent) options.onlyIf = new Headers({ "if-none-match": "*" });
  const stored = await bucket.put(key, value ?? new Uint8Array(0), options);
  return stored === null ? null : true;
}

export async function r2_copy(bucket, from, to) {
  const object = await bucket.get(from);
  if (object === null) return false;
  let value = new Uint8Array(0);
  if (object.size > 0) {
    const fixed = new FixedLengthStream(object.size);
    object.body.pipeTo(fixed.writable).catch(() => {});
    value = fixed.readable;
  } else {
    object.body.cancel().catch(() => {});
  }
  await bucket.put(to, value, {
    httpMetadata: object.httpMetadata ?? {},
    customMetadata: object.customMetadata ?? {},
  });
  return true;
}

export async function r2_delete(bucket, key) {
  await bucket.delete(key);
}

export async function r2_list(bucket, prefix, cursor, limit) {
  const options = { prefix, limit: Math.min(Math.max(limit, 1), 1000) };
  if (cursor) options.cursor = cursor;
  const page = await bucket.list(options);
  return JSON.stringify({
    items: page.objects.map((o) => ({
      key: o.key,
      size: o.size,
      etag: o.httpEtag ?? null,
      modified: o.uploaded ? o.uploaded.getTime() : null,
    })),
    cursor: page.truncated ? page.cursor : null,
  });
}

// Deletes in batches of at most 1000 keys (R2's limit per call); returns the count.
export async function r2_delete_prefix(bucket, prefix) {
  let deleted = 0;
  let cursor;
  for (;;) {
    const page = await bucket.list(cursor ? { prefix, cursor, limit: 1000 } : { prefix, limit: 1000 });
    const keys = page.objects.map((o) => o.key);
    if (keys.length > 0) {
      await bucket.delete(keys);
      deleted += keys.length;
    }
    if (!page.truncated) return deleted;
    cursor = page.cursor;
  }
}

// Objects written by something other than edgefs have no size in their metadata: it
// is measured by reading the value (in JavaScript).
async function kvEntry(namespace, key) {
  const { value, metadata } = await namespace.getWithMetadata(key, { type: "stream" });
  if (value === null) return null;
  const meta = metadata && typeof metadata === "object" ? { ...metadata } : {};
  if (typeof meta.size !== "number") {
    const bytes = await collect(value, Number.MAX_SAFE_INTEGER);
    meta.size = bytes.byteLength;
    return { meta, body: new Response(bytes).body };
  }
  return { meta, body: value };
}

export async function kv_head(namespace, key) {
  const entry = await kvEntry(namespace, key);
  if (entry === null) return null;
  entry.body?.cancel().catch(() => {});
  return JSON.stringify(entry.meta);
}

export async function kv_get(namespace, key) {
  const entry = await kvEntry(namespace, key);
  if (entry === null) return null;
  return { attributes: JSON.stringify(entry.meta), body: entry.body };
}

export function cancel_stream(stream) {
  stream?.cancel().catch(() => {});
}

// The bytes [start, start + length) of a stream, cut as they pass: chunks before the
// range are dropped, the stream is cancelled once the range is complete.
export function slice_stream(stream, start, length) {
  let skip = start;
  let left = length;
  const cut = new TransformStream({
    transform(chunk, controller) {
      if (left <= 0) return;
      let bytes = chunkBytes(chunk);
      if (skip >= bytes.byteLength) {
        skip -= bytes.byteLength;
        return;
      }
      bytes = bytes.subarray(skip);
      skip = 0;
      if (bytes.byteLength > left) bytes = bytes.subarray(0, left);
      left -= bytes.byteLength;
      controller.enqueue(bytes);
      if (left <= 0) controller.terminate();
    },
  });
  return stream.pipeThrough(cut);
}

// Bytes (a Uint8Array, measured and hashed by the caller) are put as they are; a
// stream is collected here, failing with a RangeError past KV's 25 MiB before the put
// starts, checked against its declared `length` when there is one, and hashed (MD5)
// here. `meta` is the JSON of the metadata without size/etag.
export async function kv_put(namespace, key, value, length, meta) {
  const metadata = JSON.parse(meta);
  if (value instanceof ReadableStream) {
    const bytes = await collect(value, KV_LIMIT);
    if (length !== undefined && length !== null && bytes.byteLength !== length) {
      throw new Error(`the body has ${bytes.byteLength} bytes, not the ${length} its length says`);
    }
    metadata.size = bytes.byteLength;
    metadata.etag = `"${hex(await crypto.subtle.digest("MD5", bytes))}"`;
    value = bytes;
  }
  await namespace.put(key, value ?? new Uint8Array(0), { metadata });
}

export async function kv_copy(namespace, from, to, modified) {
  const { value, metadata } = await namespace.getWithMetadata(from, { type: "arrayBuffer" });
  if (value === null) return false;
  const meta = metadata && typeof metadata === "object" ? { ...metadata } : {};
  meta.size = value.byteLength;
  meta.modified = modified;
  await namespace.put(to, value, { metadata: meta });
  return true;
}

export async function kv_delete(namespace, key) {
  await namespace.delete(key);
}

export async function kv_list(namespace, prefix, cursor, limit) {
  const options = { prefix, limit: Math.min(Math.max(limit, 1), 1000) };
  if (cursor) options.cursor = cursor;
  const page = await namespace.list(options);
  return JSON.stringify({
    items: page.keys.map((k) => ({
      key: k.name,
      size: k.metadata?.size ?? 0,
      etag: k.metadata?.etag ?? null,
      modified: k.metadata?.modified ?? null,
    })),
    cursor: page.list_complete ? null : page.cursor,
  });
}

export async function kv_delete_prefix(namespace, prefix) {
  let deleted = 0;
  let cursor;
  for (;;) {
    const page = await namespace.list(cursor ? { prefix, cursor } : { prefix });
    const keys = page.keys.map((k) => k.name);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => namespace.delete(key)));
    }
    deleted += keys.length;
    if (page.list_complete) return deleted;
    cursor = page.cursor;
  }
}
