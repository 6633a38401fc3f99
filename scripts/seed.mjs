// Seeds the bundled `posts` collection of a running edgefs (or PocketBase) with records,
// for trying lists at scale:
//
//   bash scripts/dev.sh &                 # the README's run command
//   node scripts/seed.mjs --count 10000   # signs in with .dev.vars's superuser
//   curl 'http://127.0.0.1:8787/api/collections/posts/records?filter=published%3Dtrue%20%26%26%20title~%2742%27&sort=-title'
//
// Options: --url (http://127.0.0.1:8787), --count (10000), --email/--password (the
// superuser; default: .dev.vars), --concurrency (16). Record i has the title
// `post {i, 5 digits}`, `published` when i is a multiple of 3, and one of 10 authors.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

/** The seeded records' fields, by index. */
export function seedRecord(i) {
  return { title: `post ${String(i).padStart(5, "0")}`, published: i % 3 === 0, author: `author${String(i % 10).padStart(9, "0")}` };
}

/** Signs in as the superuser and creates `count` posts; answers the seconds it took. */
export async function seed({ url, email, password, count, concurrency = 16, from = 0 }) {
  const signIn = await fetch(`${url}/api/collections/_superusers/auth-with-password`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ identity: email, password }),
  });
  if (signIn.status !== 200) throw new Error(`sign-in: ${signIn.status} ${await signIn.text()}`);
  const { token } = await signIn.json();
  const started = performance.now();
  let next = from;
  async function worker() {
    while (next < from + count) {
      const i = next++;
      const response = await fetch(`${url}/api/collections/posts/records`, {
        method: "POST",
        headers: { authorization: token, "content-type": "application/json" },
        body: JSON.stringify(seedRecord(i)),
      });
      if (response.status !== 200) throw new Error(`record ${i}: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - started) / 1000;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: "http://127.0.0.1:8787" },
      count: { type: "string", default: "10000" },
      email: { type: "string" },
      password: { type: "string" },
      concurrency: { type: "string", default: "16" },
    },
  });
  let { email, password } = values;
  if (!email || !password) {
    const vars = readFileSync(new URL("../.dev.vars", import.meta.url), "utf8");
    email ??= vars.match(/^SUPERUSER_EMAIL=(.*)$/m)?.[1];
    password ??= vars.match(/^SUPERUSER_PASSWORD=(.*)$/m)?.[1];
  }
  const count = Number(values.count);
  const seconds = await seed({ url: values.url, email, password, count, concurrency: Number(values.concurrency) });
  console.log(`seeded ${count} posts in ${seconds.toFixed(1)} s (${Math.round(count / seconds)}/s)`);
}
