// The fetch transport's JavaScript half (src/transport/fetch.rs).
export function with_fixed_length(stream, length) {
  if (length === undefined || typeof globalThis.FixedLengthStream !== "function") return stream;
  const fixed = new FixedLengthStream(length);
  stream.pipeTo(fixed.writable).catch(() => {});
  return fixed.readable;
}

// Body::concat's JavaScript half: the parts in order, each pulled only when the one
// before has ended, so a multipart answer streams its ranges without holding them.
export function concat_streams(parts, length) {
  let index = 0;
  let reader;
  const whole = new ReadableStream({
    async pull(controller) {
      for (;;) {
        if (reader) {
          const { done, value } = await reader.read();
          if (!done) {
            controller.enqueue(value);
            return;
          }
          reader = undefined;
        }
        if (index >= parts.length) {
          controller.close();
          return;
        }
        const part = parts[index++];
        if (part instanceof Uint8Array) {
          controller.enqueue(part);
          return;
        }
        reader = part.getReader();
      }
    },
    async cancel(reason) {
      await reader?.cancel(reason);
      for (const part of parts.slice(index)) {
        if (!(part instanceof Uint8Array)) await part.cancel(reason);
      }
    },
  });
  return with_fixed_length(whole, length);
}
