// The admin page (GET /_/) in a real headless Chromium (Debian's, through npm
// puppeteer-core): the built Worker under Miniflare on the in-memory default, and a
// SeaweedFS (signatures checked) that the page's S3 settings point at.
//
//   bash scripts/lib-worker.sh build
//   source scripts/lib-env.sh && node --test tests/worker/admin.test.mjs
//
// Each test leaves PNG screenshots in target/screenshots/admin/ (printed), and every
// response the page receives is kept: the last test checks that the S3 secret is in
// none of them, nor anywhere in the page's DOM.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { launchBrowser, screenshotFolder } from "./lib/browser.mjs";
import { png } from "./lib/files.mjs";
import { listKeys, startSeaweedFs } from "./lib/seaweedfs.mjs";
import { startWorker } from "./lib/worker.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const WRONG_SECRET = "edgefs-admin-test-wrong-secret-7f3a";
const POSTS = 3;

describe("admin page /_/", { timeout: 300_000 }, () => {
  let worker;
  let seaweed;
  let browser;
  let shots;
  let tmp;
  /** Every response a page received: {url, status, text}. */
  const responses = [];
  const pageErrors = [];
  const cspViolations = [];
  /** Keys of the files uploaded to the memory backend before S3 is enabled. */
  const fileKeys = [];

  before(async () => {
    [worker, seaweed] = await Promise.all([startWorker(root, "memory"), startSeaweedFs("edgefs-admin")]);
    browser = await launchBrowser();
    shots = screenshotFolder(root, "admin");
    tmp = mkdtempSync(join(tmpdir(), "edgefs-admin-"));
    console.log(`# screenshots: ${shots}`);
    // Files in the memory backend for the migration to copy.
    const token = await apiSignIn();
    for (let i = 0; i < POSTS; i++) {
      const form = new FormData();
      form.append("title", `post ${i}`);
      form.append(
        "cover",
        new Blob([png(8 + i, 8, [200, 40 * i, 90])], { type: "image/png" }),
        `cover-${i}.png`,
      );
      const response = await fetch(`${worker.url}/api/collections/posts/records`, {
        method: "POST",
        headers: { authorization: token },
        body: form,
      });
      const record = await response.json();
      assert.equal(response.status, 200, JSON.stringify(record));
      fileKeys.push(`${record.collectionId}/${record.id}/${record.cover}`);
    }
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await seaweed?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function apiSignIn() {
    const response = await fetch(`${worker.url}/api/collections/_superusers/auth-with-password`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ identity: worker.superuser.email, password: worker.superuser.password }),
    });
    assert.equal(response.status, 200);
    return (await response.json()).token;
  }

  /** A new tab (its own sessionStorage, the browser's localStorage) on the page. */
  async function openPage({ width = 1280, height = 900, hash = "" } = {}) {
    const page = await browser.newPage();
    await page.setViewport({ width, height });
    page.on("response", async (response) => {
      const entry = { url: response.url(), status: response.status(), text: "" };
      responses.push(entry);
      try {
        entry.text = await response.text();
      } catch {
        // A redirect or a body Chromium no longer has.
      }
    });
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    page.on("console", (message) => {
      if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    await page.goto(`${worker.url}/_/${hash}`);
    await page.waitForFunction(() => ["sign-in", "app"].includes(document.body.dataset.view));
    return page;
  }

  async function signInThroughForm(page, password = worker.superuser.password) {
    await page.focus("#identity");
    await page.keyboard.type(worker.superuser.email);
    await page.keyboard.press("Tab");
    await page.keyboard.type(password);
    await page.keyboard.press("Enter");
  }

  async function signedInPage(options) {
    const page = await openPage(options);
    await signInThroughForm(page);
    await page.waitForFunction(() => document.body.dataset.view === "app");
    return page;
  }

  async function shot(page, name) {
    const path = join(shots, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  }

  async function setValue(page, selector, value) {
    await page.$eval(selector, (element) => {
      element.value = "";
    });
    await page.type(selector, value);
  }

  const text = (page, selector) => page.$eval(selector, (element) => element.textContent.trim());
  const value = (page, selector) => page.$eval(selector, (element) => element.value);
  const checked = (page, selector) => page.$eval(selector, (element) => element.checked);

  it("is served with its types, a strict CSP and no framing", async () => {
    const page = await fetch(`${worker.url}/_/`, { headers: { "accept-encoding": "identity" } });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy");
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(page.headers.get("x-frame-options"), "DENY");
    assert.equal(page.headers.get("cache-control"), "no-cache");
    const html = await page.text();
    assert.match(html, /<script type="module" src="admin.js"><\/script>/);
    assert.doesNotMatch(html, /<script>|<style|style="|\son[a-z]+="/, "no inline script or style");
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, "nothing from elsewhere");

    const etag = page.headers.get("etag");
    const again = await fetch(`${worker.url}/_/`, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);

    for (const [path, type] of [
      ["/_/admin.js", "text/javascript; charset=utf-8"],
      ["/_/admin.css", "text/css; charset=utf-8"],
      ["/_/favicon.svg", "image/svg+xml"],
    ]) {
      const response = await fetch(`${worker.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get("content-type"), type, path);
      assert.doesNotMatch(
        await response.text(),
        /\b(import|url)\(?\s*["']?(https?:)?\/\//,
        `${path} loads nothing from elsewhere`,
      );
    }
    const redirect = await fetch(`${worker.url}/_`, { redirect: "manual" });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get("location"), "/_/");
    const head = await fetch(`${worker.url}/_/`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal((await fetch(`${worker.url}/_/missing.js`)).status, 404);
  });

  it("refuses a wrong password", async () => {
    const page = await openPage();
    await signInThroughForm(page, "not-the-password");
    await page.waitForFunction(() => document.getElementById("sign-in-error").textContent !== "");
    assert.match(await text(page, "#sign-in-error"), /Wrong e-mail or password/);
    assert.equal(await page.$eval("#app-view", (e) => e.hidden), true);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("edgefs.admin.token")), null);
    await shot(page, "01-wrong-password");
    await page.close();
  });

  it("signs in (keyboard only), keeps the token in sessionStorage, signs out", async () => {
    const page = await openPage();
    await shot(page, "02-sign-in");
    await signInThroughForm(page);
    await page.waitForFunction(() => document.body.dataset.view === "app");
    assert.equal(await text(page, "#who"), worker.superuser.email);
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem("edgefs.admin.token"),
      local: Object.keys(localStorage),
    }));
    assert.ok(stored.session?.length > 20, "the token is in sessionStorage");
    assert.deepEqual(stored.local, [], "nothing in localStorage");
    // Every input has a label.
    const unlabeled = await page.$$eval("input, select, textarea", (elements) =>
      elements.filter((e) => e.labels.length === 0 && !e.getAttribute("aria-label")).map((e) => e.id),
    );
    assert.deepEqual(unlabeled, []);
    await shot(page, "03-signed-in");
    await page.click("#sign-out");
    await page.waitForFunction(() => document.body.dataset.view === "sign-in");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("edgefs.admin.token")), null);
    await page.close();
  });

  it("fills SeaweedFS's settings by the MinIO preset, and Test shows every step passed", async () => {
    const page = await signedInPage();
    assert.equal(await checked(page, "#s3-enabled"), false);
    await page.click("#s3-enabled");
    await page.select("#s3-provider", "minio");
    assert.match(await text(page, "#s3-provider-help"), /path-style/);
    assert.equal(await checked(page, "#s3-forcePathStyle"), true, "MinIO's preset turns path style on");
    assert.equal(await value(page, "#s3-region"), "us-east-1");
    await setValue(page, "#s3-endpoint", seaweed.endpoint);
    await setValue(page, "#s3-bucket", seaweed.bucket);
    await setValue(page, "#s3-accessKey", seaweed.accessKey);
    await setValue(page, "#s3-secret", seaweed.secretKey);
    await page.click("#s3-test");
    await page.waitForSelector("#s3-test-result h2");
    assert.equal(await text(page, "#s3-test-result h2"), "Every step passed");
    const steps = await page.$$eval("#s3-test-result tr[data-step]", (rows) =>
      rows.map((r) => [r.dataset.step, r.className]),
    );
    assert.deepEqual(
      steps,
      ["put", "head", "get", "list", "delete"].map((s) => [s, "ok"]),
    );
    assert.match(await text(page, "#s3-test-result"), /Provider profile: seaweedfs/);
    await shot(page, "04-test-passed");
    // The README's picture (docs/admin.png): the same at 1000 px.
    await page.setViewport({ width: 1000, height: 900 });
    await shot(page, "00-readme-1000px");

    // The other presets fill the reference's values.
    await page.select("#s3-provider", "aws");
    await setValue(page, "#s3-region", "eu-west-3");
    await page.keyboard.press("Tab");
    assert.equal(await value(page, "#s3-endpoint"), "https://s3.eu-west-3.amazonaws.com");
    assert.equal(await checked(page, "#s3-forcePathStyle"), false);
    await page.select("#s3-provider", "r2");
    assert.equal(await value(page, "#s3-region"), "auto");
    assert.equal(await value(page, "#s3-endpoint"), "https://ACCOUNT_ID.r2.cloudflarestorage.com");
    await page.select("#s3-provider", "spaces");
    assert.equal(await value(page, "#s3-endpoint"), "https://nyc3.digitaloceanspaces.com");
    await page.select("#s3-provider", "b2");
    assert.equal(await value(page, "#s3-endpoint"), "https://s3.us-west-002.backblazeb2.com");
    await page.close();
  });

  it("a wrong secret shows the failed step and its hint", async () => {
    const page = await signedInPage();
    await page.click("#s3-enabled");
    await page.select("#s3-provider", "minio");
    await setValue(page, "#s3-endpoint", seaweed.endpoint);
    await setValue(page, "#s3-bucket", seaweed.bucket);
    await setValue(page, "#s3-accessKey", seaweed.accessKey);
    await setValue(page, "#s3-secret", WRONG_SECRET);
    await page.click("#s3-test");
    await page.waitForSelector("#s3-test-result h2");
    assert.equal(await text(page, "#s3-test-result h2"), "The put step failed");
    const put = await text(page, 'tr[data-step="put"]');
    assert.match(put, /failed/);
    assert.match(put, /SignatureDoesNotMatch/);
    assert.match(await text(page, 'tr[data-step="put"] .hint'), /secret/i);
    assert.match(await text(page, 'tr[data-step="head"]'), /skipped/);
    await shot(page, "05-test-wrong-secret");
    await page.close();
  });

  it("Save shows field errors beside their fields, saves, and a reload shows the values and no secret", async () => {
    const page = await signedInPage();
    await page.click("#s3-enabled");
    await page.select("#s3-provider", "minio");
    await setValue(page, "#s3-endpoint", "not a url");
    await page.click("#s3-save");
    await page.waitForFunction(() => document.getElementById("s3-bucket-error").textContent !== "");
    assert.equal(await text(page, "#s3-bucket-error"), "Cannot be blank.");
    assert.equal(await text(page, "#s3-accessKey-error"), "Cannot be blank.");
    assert.equal(await text(page, "#s3-secret-error"), "Cannot be blank.");
    assert.equal(await page.$eval("#s3-bucket", (e) => e.getAttribute("aria-invalid")), "true");
    await shot(page, "06-save-field-errors");

    await setValue(page, "#s3-endpoint", seaweed.endpoint);
    await setValue(page, "#s3-bucket", seaweed.bucket);
    await setValue(page, "#s3-accessKey", seaweed.accessKey);
    await setValue(page, "#s3-secret", seaweed.secretKey);
    await page.click("#s3-save");
    await page.waitForFunction(() => document.getElementById("s3-status").textContent === "Saved.");
    assert.equal(await text(page, "#s3-bucket-error"), "");
    assert.equal(await value(page, "#s3-secret"), "", "the secret field is cleared once saved");
    assert.match(await text(page, "#s3-secret-note"), /A secret is stored/);

    await page.reload();
    await page.waitForFunction(() => document.body.dataset.view === "app");
    assert.equal(await checked(page, "#s3-enabled"), true);
    assert.equal(await value(page, "#s3-endpoint"), seaweed.endpoint);
    assert.equal(await value(page, "#s3-bucket"), seaweed.bucket);
    assert.equal(await value(page, "#s3-region"), "us-east-1");
    assert.equal(await value(page, "#s3-accessKey"), seaweed.accessKey);
    assert.equal(await checked(page, "#s3-forcePathStyle"), true);
    assert.equal(await value(page, "#s3-secret"), "");
    assert.match(await text(page, "#s3-secret-note"), /A secret is stored/);
    const html = await page.content();
    assert.ok(!html.includes(seaweed.secretKey), "no secret in the DOM after a reload");
    // The stored secret is kept when the field is left empty, and the saved values test.
    await page.click("#s3-test");
    await page.waitForSelector("#s3-test-result h2");
    assert.equal(await text(page, "#s3-test-result h2"), "Every step passed");
    await shot(page, "07-saved-reloaded");
    await page.close();
  });

  it("migrates memory → S3: pause, close the tab, resume in a new one, to 100 %", async () => {
    let page = await signedInPage({ hash: "#storage" });
    await page.waitForFunction(() => document.getElementById("storage-active").textContent !== "Loading…");
    const active = await text(page, "#storage-active");
    await shot(page, "08-storage");
    assert.doesNotMatch(active, /404/, `GET /api/storage: ${active}`);
    assert.match(active, /Files are served from s3/);
    await page.select("#migrate-from", "local");
    await page.select("#migrate-to", "s3");
    await setValue(page, "#migrate-limit", "1");
    // Start, and ask for a pause at once: it takes effect after the first request.
    await page.evaluate(() => {
      document.getElementById("migrate-start").click();
      document.getElementById("migrate-pause").click();
    });
    await page.waitForFunction(() => !document.getElementById("migrate-resume").hidden, { timeout: 60_000 });
    const status = await text(page, "#migrate-status");
    assert.doesNotMatch(status, /—/, `paused with an error: ${status}`);
    const kept = await page.evaluate(() => JSON.parse(localStorage.getItem("edgefs.admin.migration")));
    assert.equal(kept.state, "paused");
    assert.equal(kept.requests, 1);
    assert.ok(kept.cursor, "a cursor to resume from");
    assert.doesNotMatch(JSON.stringify(kept), new RegExp(seaweed.secretKey), "no secret in localStorage");
    await shot(page, "09-migration-paused");
    await page.close();

    // The tab is closed: a new one signs in again and finds the migration paused.
    page = await signedInPage({ hash: "#storage" });
    await page.waitForFunction(() => !document.getElementById("migrate-resume").hidden);
    assert.match(await text(page, "#migrate-status"), /paused/);
    assert.equal(await value(page, "#migrate-from"), "local");
    await page.click("#migrate-resume");
    await page.waitForFunction(() => document.getElementById("migrate-percent").textContent === "100 %", {
      timeout: 120_000,
    });
    assert.equal(await page.$eval("#migrate-bar", (e) => e.value), 100);
    const done = await page.evaluate(() => JSON.parse(localStorage.getItem("edgefs.admin.migration")));
    assert.equal(done.state, "done");
    assert.equal(done.failed, 0, JSON.stringify(done.failures));
    assert.ok(done.copied + done.skipped >= POSTS, JSON.stringify(done));
    assert.match(await text(page, "#migrate-report"), /Copied \d+ objects/);
    await shot(page, "10-migration-done");
    const keys = await listKeys(seaweed, "");
    for (const key of fileKeys) assert.ok(keys.includes(key), `${key} is on S3 (${keys.join(", ")})`);

    // Again: everything is there already, so everything is skipped.
    assert.equal(await page.$eval("#migrate-reset", (e) => e.hidden), true, "Start begins a new one");
    await page.select("#migrate-from", "local");
    await page.select("#migrate-to", "s3");
    await page.click("#migrate-start");
    await page.waitForFunction(() => document.getElementById("migrate-percent").textContent === "100 %", {
      timeout: 120_000,
    });
    const again = await page.evaluate(() => JSON.parse(localStorage.getItem("edgefs.admin.migration")));
    assert.ok(again.skipped >= POSTS, JSON.stringify(again));
    await shot(page, "11-migration-again-skipped");
    await page.close();
  });

  it("lists the collections with fields and rules, and imports pasted and uploaded JSON", async () => {
    const page = await signedInPage({ hash: "#collections" });
    await page.waitForSelector('[data-collection="posts"]');
    const posts = await text(page, '[data-collection="posts"]');
    assert.match(posts, /cover/);
    assert.match(posts, /@request\.auth\.id != ''/);
    assert.ok(await page.$('[data-collection="documents"]'));
    await shot(page, "12-collections");

    const notes = {
      name: "notes",
      type: "base",
      fields: [{ name: "title", type: "text" }],
      listRule: "title = ",
      viewRule: "",
      createRule: null,
      updateRule: null,
      deleteRule: null,
    };
    await page.$eval(
      "#import-json",
      (element, json) => {
        element.value = json;
      },
      JSON.stringify([notes]),
    );
    await page.click("#import-button");
    await page.waitForFunction(() => document.getElementById("import-error").textContent !== "");
    const error = await text(page, "#import-error");
    assert.match(error, /Failed to import collections\./);
    assert.match(error, /notes/);
    await shot(page, "13-import-error");

    const file = join(tmp, "collections.json");
    writeFileSync(file, JSON.stringify({ collections: [{ ...notes, listRule: "title != ''" }] }));
    const input = await page.$("#import-file");
    await input.uploadFile(file);
    await page.waitForFunction(() => document.getElementById("import-json").value.includes("notes"));
    await page.click("#import-button");
    await page.waitForSelector('[data-collection="notes"]');
    assert.match(await text(page, "#import-status"), /Imported 1 collection/);
    assert.equal(await text(page, "#import-error"), "");
    assert.ok(await page.$('[data-collection="posts"]'), "deleteMissing is false: posts stays");
    await shot(page, "14-import-done");
    await page.close();
  });

  it("is readable at 360 px and 1440 px wide", async () => {
    for (const width of [360, 1440]) {
      for (const hash of ["#files-storage", "#storage", "#collections"]) {
        const page = await signedInPage({ width, height: 800, hash });
        await page.waitForFunction(
          () => document.getElementById("storage-active").textContent !== "Loading…",
        );
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${hash} at ${width} px is ${overflow} px too wide`);
        await shot(page, `15-${width}px-${hash.slice(1)}`);
        await page.close();
      }
    }
    const page = await openPage({ width: 360, height: 700 });
    await shot(page, "15-360px-sign-in");
    await page.close();
  });

  it("never receives the secret, and has no script error or CSP violation", () => {
    assert.ok(responses.length > 20, `${responses.length} responses seen`);
    for (const secret of [seaweed.secretKey, WRONG_SECRET]) {
      const leaks = responses.filter((r) => r.text.includes(secret)).map((r) => `${r.status} ${r.url}`);
      assert.deepEqual(leaks, [], `a response carried a secret`);
    }
    assert.ok(responses.some((r) => r.url.endsWith("/api/settings") && r.text.includes('"accessKey"')));
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });
});
