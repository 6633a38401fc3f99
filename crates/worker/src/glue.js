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

export function drain(stream, limit) {
  return drain_reader(stream.getReader(), limit);
}
