// Where a wasm file's bytes go: code size per crate and the largest functions, from
// the name section. Needs a build that kept its names; `bash scripts/lib-worker.sh
// size-report` makes one of the Worker and runs this on it.
//
//   node scripts/wasm-size.mjs file.wasm [how-many-functions] [name-filter-regexp]
import { readFileSync } from "node:fs";

const [file, topArg = "30", filterArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: node scripts/wasm-size.mjs file.wasm [how-many-functions] [name-filter-regexp]");
  process.exit(2);
}
const bytes = readFileSync(file);
const filter = filterArg ? new RegExp(filterArg) : null;

function leb(at) {
  let value = 0, shift = 0, byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

let importedFunctions = 0;
const codeSizes = [];
const names = new Map();
const sections = [];
let at = 8;
while (at < bytes.length) {
  const id = bytes[at++];
  let size;
  [size, at] = leb(at);
  const end = at + size;
  if (id === 2) {
    // imports: count the functions, which come first in the function index space
    let [count, p] = leb(at);
    for (let i = 0; i < count; i++) {
      let len;
      [len, p] = leb(p); p += len; // module
      [len, p] = leb(p); p += len; // name
      const kind = bytes[p++];
      if (kind === 0) { [, p] = leb(p); importedFunctions++; }
      else if (kind === 1) { p++; const [flags, q] = leb(p); [, p] = leb(q); if (flags & 1) [, p] = leb(p); }
      else if (kind === 2) { const [flags, q] = leb(p); [, p] = leb(q); if (flags & 1) [, p] = leb(p); }
      else if (kind === 3) p += 2;
      else if (kind === 4) { p++; [, p] = leb(p); }
    }
  } else if (id === 10) {
    let [count, p] = leb(at);
    for (let i = 0; i < count; i++) {
      let len;
      [len, p] = leb(p);
      codeSizes.push(len);
      p += len;
    }
  } else if (id === 0) {
    const [len, p] = leb(at);
    const name = bytes.subarray(p, p + len).toString();
    if (name === "name") {
      let q = p + len;
      while (q < end) {
        const sub = bytes[q++];
        let subSize;
        [subSize, q] = leb(q);
        if (sub === 1) {
          let [count, r] = leb(q);
          for (let i = 0; i < count; i++) {
            let index, nameLen;
            [index, r] = leb(r);
            [nameLen, r] = leb(r);
            names.set(index, bytes.subarray(r, r + nameLen).toString());
            r += nameLen;
          }
        }
        q += subSize;
      }
    }
  }
  sections.push([id, size]);
  at = end;
}

if (names.size === 0) {
  console.error(`${file} has no name section: build with CARGO_PROFILE_RELEASE_STRIP=false and keep names through wasm-bindgen (--keep-debug) and wasm-opt (-g)`);
  process.exit(1);
}

const sectionNames = { 1: "type", 2: "import", 3: "function", 7: "export", 10: "code", 11: "data" };
console.log("sections:", sections.filter(([id]) => sectionNames[id]).map(([id, size]) => `${sectionNames[id]} ${size}`).join(", "));

const functions = codeSizes.map((size, i) => ({ size, name: names.get(i + importedFunctions) ?? "?" }));
const crateOf = (name) => {
  const match = name.match(/^(?:<+)?(?:&(?:mut )?)?([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::/);
  return match ? match[1] : "(other)";
};
const perCrate = new Map();
for (const { size, name } of functions) perCrate.set(crateOf(name), (perCrate.get(crateOf(name)) ?? 0) + size);
const total = codeSizes.reduce((a, b) => a + b, 0);
console.log(`\ncode: ${total} bytes in ${functions.length} functions; per crate of the function's path:`);
for (const [crate, size] of [...perCrate].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`${String(size).padStart(8)}  ${crate}`);
}

const shown = functions.filter(({ name }) => !filter || filter.test(name)).sort((a, b) => b.size - a.size);
console.log(`\nlargest functions${filter ? ` matching ${filter}` : ""} (${shown.reduce((a, f) => a + f.size, 0)} bytes in ${shown.length}):`);
for (const { size, name } of shown.slice(0, Number(topArg))) console.log(`${String(size).padStart(8)}  ${name.slice(0, 160)}`);
