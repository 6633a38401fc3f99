// What the storage behind a Worker holds, checked against its records (issue 10 §4):
// every file a record names exists — with the bytes that were uploaded for it, where
// the caller knows them — and no file object exists that no record names. Read from
// the backend itself (SeaweedFS or Miniflare's R2), not through the Worker.
import { createHash } from "node:crypto";

export function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The superuser's token for `target` (a lib/worker.mjs target). */
export async function superuserToken(target) {
  const res = await fetch(`${target.url}/api/collections/_superusers/auth-with-password`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ identity: target.superuser.email, password: target.superuser.password }),
  });
  if (!res.ok) throw new Error(`superuser sign-in: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

/**
 * Checks every collection's records against the objects. `uploaded` maps a stored file
 * name to the sha256 of the bytes sent for it (names the caller did not record are
 * checked for existence only). Answers `{ records, files, problems }`: `problems` lists
 * each broken record, missing or altered file, and orphaned object.
 */
export async function checkConsistency(target, uploaded = new Map()) {
  const token = await superuserToken(target);
  const collections = await (
    await fetch(`${target.url}/api/collections?perPage=500`, { headers: { authorization: token } })
  ).json();
  const keys = await target.objectKeys("");
  const fileObjects = new Set(keys.filter((key) => !key.startsWith(".edgefs/")));
  const named = new Set();
  const problems = [];
  let records = 0;
  for (const collection of collections.items) {
    const fileFields = collection.fields.filter((f) => f.type === "file").map((f) => f.name);
    for (const record of await storedRecords(target, collection, keys)) {
      records += 1;
      for (const field of fileFields) {
        // D1 keeps a file field as JSON text.
        const value = target.backend === "d1" && typeof record[field] === "string" ? JSON.parse(record[field]) : record[field];
        const names = Array.isArray(value) ? value : value ? [value] : [];
        for (const name of names) {
          const fileKey = `${collection.id}/${record.id}/${name}`;
          named.add(fileKey);
          if (!fileObjects.has(fileKey)) {
            problems.push(`record ${collection.name}/${record.id} names ${name}, which is missing`);
            continue;
          }
          const expected = uploaded.get(name);
          if (expected) {
            const actual = sha256(await target.objectBytes(fileKey));
            if (actual !== expected) problems.push(`${fileKey} does not hold the bytes uploaded for it`);
          }
        }
      }
    }
  }
  for (const key of fileObjects) {
    if (!named.has(key)) problems.push(`${key} is named by no record (orphaned)`);
  }
  return { records, files: fileObjects.size, problems };
}

/** A collection's records as the backend keeps them: D1's rows, or the record objects. */
async function storedRecords(target, collection, keys) {
  if (target.backend === "d1") return target.d1Rows(collection.id);
  const prefix = `.edgefs/records/${collection.id}/`;
  const records = [];
  for (const key of keys.filter((k) => k.startsWith(prefix))) {
    records.push(JSON.parse(Buffer.from(await target.objectBytes(key)).toString("utf8")));
  }
  return records;
}
