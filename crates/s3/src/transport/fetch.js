// The fetch transport's JavaScript half (src/transport/fetch.rs).
export function with_fixed_length(stream, length) {
  if (length === undefined || typeof globalThis.FixedLengthStream !== "function") return stream;
  const fixed = new FixedLengthStream(length);
  stream.pipeTo(fixed.writable).catch(() => {});
  return fixed.readable;
}
