// What the benchmarks read of their child processes in /proc: which are ours, their
// names, their CPU time; and the median they report.
import { readFileSync, readdirSync } from "node:fs";

/** The pids of this process's children. */
export function children() {
  const pids = [];
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    const text = readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8").trim();
    for (const pid of text.split(/\s+/).filter(Boolean)) pids.push(Number(pid));
  }
  return pids;
}

/** A process's name. */
export const comm = (pid) => readFileSync(`/proc/${pid}/comm`, "utf8").trim();

/** A process's CPU time so far, in ms: the sum of its threads' run time. */
export function cpuMs(pid) {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {}
  }
  return ns / 1e6;
}

/** Starts something that starts one workerd (a Miniflare); answers it with `pid`. */
export async function newWorkerd(start) {
  return newChild(start, "workerd");
}

/** Starts something that starts one child named `name`; answers it with its `pid`. */
export async function newChild(start, name) {
  const before = new Set(children());
  const instance = await start();
  const fresh = children().filter((pid) => !before.has(pid) && comm(pid) === name);
  if (fresh.length !== 1) throw new Error(`expected one new ${name}, found ${fresh.join(",") || "none"}`);
  return { ...instance, pid: fresh[0] };
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/**
 * Waits until a process is idle — under `percent` of one CPU over `windowMs` — or
 * `timeoutMs` has passed: a server that was just seeded may still be writing (SQLite's
 * checkpoints, the R2 simulator's files), and that work is not the request's.
 * Answers the ms waited.
 */
export async function settle(pid, { percent = 2, windowMs = 500, timeoutMs = 60000 } = {}) {
  const started = performance.now();
  for (;;) {
    const before = cpuMs(pid);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const busy = ((cpuMs(pid) - before) / windowMs) * 100;
    if (busy < percent || performance.now() - started > timeoutMs) return performance.now() - started;
  }
}
