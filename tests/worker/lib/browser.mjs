// A real headless Chromium for page tests: Debian's /usr/bin/chromium driven by npm
// puppeteer-core (which downloads no browser), kept off the network except loopback.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** Launches Chromium; `browser.close()` ends it. */
export async function launchBrowser() {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      // Root in a container: Chromium's sandbox needs user namespaces it may not have.
      "--no-sandbox",
      "--disable-dev-shm-usage",
      "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE *.localhost , EXCLUDE 127.0.0.1",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-gpu",
      "--font-render-hinting=none",
    ],
  });
}

/** A folder for a suite's screenshots (created), under target/screenshots/. */
export function screenshotFolder(root, name) {
  const folder = join(root, "target/screenshots", name);
  mkdirSync(folder, { recursive: true });
  return folder;
}
