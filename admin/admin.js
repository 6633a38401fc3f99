// edgefs's admin page (GET /_/): sign-in, Settings › Files storage, Storage (migrate)
// and Collections, against the Worker's own API on this origin. Plain DOM, no framework.
//
// What it keeps: the superuser's token in sessionStorage (this tab only, gone when it
// closes); a migration's position and counts in localStorage (so it can be resumed
// after the tab is closed) — never a secret. The S3 secret is write-only: the API never
// sends it, and the page clears the field once it is saved.

const SIGN_IN = "/api/collections/_superusers/auth-with-password";
const TOKEN_KEY = "edgefs.admin.token";
const EMAIL_KEY = "edgefs.admin.email";
const MIGRATION_KEY = "edgefs.admin.migration";
const S3_FIELDS = ["bucket", "region", "endpoint", "accessKey", "secret"];
const STEPS = ["put", "head", "get", "list", "delete"];

/** The reference's presets (PocketBase's S3 storage guide), one line of help each. */
const PROVIDERS = {
  custom: {
    help: "Any S3-compatible server: enter its endpoint, and turn on path style if it needs it.",
  },
  aws: {
    help: "Virtual-hosted URLs; the endpoint is made from the region: https://s3.{region}.amazonaws.com.",
    region: "us-east-1",
    endpoint: (region) => `https://s3.${region}.amazonaws.com`,
    forcePathStyle: false,
    matches: /\.amazonaws\.com$/,
  },
  minio: {
    help: "Self-hosted (MinIO, SeaweedFS, Garage): path-style URLs, any region (us-east-1); enter your server's URL.",
    region: "us-east-1",
    forcePathStyle: true,
  },
  spaces: {
    help: "The region is the Space's datacenter (nyc3, ams3, sgp1…); endpoint https://{region}.digitaloceanspaces.com.",
    region: "nyc3",
    endpoint: (region) => `https://${region}.digitaloceanspaces.com`,
    forcePathStyle: false,
    matches: /\.digitaloceanspaces\.com$/,
  },
  r2: {
    help: "Region auto; endpoint https://ACCOUNT_ID.r2.cloudflarestorage.com with your account id; an R2 API token's key.",
    region: "auto",
    fixedRegion: true,
    endpoint: () => "https://ACCOUNT_ID.r2.cloudflarestorage.com",
    forcePathStyle: false,
    matches: /\.r2\.cloudflarestorage\.com$/,
  },
  b2: {
    help: "The region is in the bucket's endpoint (us-west-002…): https://s3.{region}.backblazeb2.com; the key is the key ID.",
    region: "us-west-002",
    endpoint: (region) => `https://s3.${region}.backblazeb2.com`,
    forcePathStyle: false,
    matches: /\.backblazeb2\.com$/,
  },
};

const BACKEND_NAMES = {
  memory: "memory (this isolate only: files are lost when it ends)",
  kv: "Workers KV (the STORAGE namespace)",
  r2: "R2 (the BUCKET binding)",
  s3: "S3 (Settings › Files storage)",
  local: "local (KV, or memory without it)",
};

// ---------------------------------------------------------------------------------------
// Small helpers

const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text: never HTML). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function formatBytes(bytes) {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]} (${bytes.toLocaleString("en")} bytes)`;
}

/** A field's message from PocketBase's error shape (`{code, message}`), or a string. */
const messageOf = (value) => (typeof value === "string" ? value : value?.message);

let token = sessionStorage.getItem(TOKEN_KEY);

/** One API request on this origin: `{status, ok, data, headers}`; never throws on a status. */
async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (token) headers.authorization = token;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    return {
      status: 0,
      ok: false,
      data: { message: `The Worker did not answer: ${error.message}` },
      headers: new Headers(),
    };
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (response.status === 401 && path !== SIGN_IN && token) {
    signOut("Your session has ended: sign in again.");
  }
  return { status: response.status, ok: response.ok, data, headers: response.headers };
}

const objects = (n) => `${n.toLocaleString("en")} object${n === 1 ? "" : "s"}`;

const describe = (result) => result.data?.message || `HTTP ${result.status}`;

function busy(button, on) {
  button.disabled = on;
  if (on) button.setAttribute("aria-busy", "true");
  else button.removeAttribute("aria-busy");
}

// ---------------------------------------------------------------------------------------
// Sign-in and sign-out

function showSignedIn(signedIn) {
  $("sign-in-view").hidden = signedIn;
  $("app-view").hidden = !signedIn;
  $("session").hidden = !signedIn;
  $("who").textContent = signedIn ? (sessionStorage.getItem(EMAIL_KEY) ?? "") : "";
}

function signOut(reason = "") {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(EMAIL_KEY);
  pauseMigration();
  clearSecretField();
  showSignedIn(false);
  $("password").value = "";
  $("sign-in-error").textContent = reason;
  $("identity").focus();
  document.body.dataset.view = "sign-in";
}

async function signIn(event) {
  event.preventDefault();
  const identity = $("identity").value.trim();
  const password = $("password").value;
  const error = $("sign-in-error");
  if (!identity || !password) {
    error.textContent = "Enter the e-mail and the password.";
    return;
  }
  const button = $("sign-in-button");
  busy(button, true);
  error.textContent = "";
  const result = await api("POST", SIGN_IN, { identity, password });
  busy(button, false);
  if (!result.ok || !result.data?.token) {
    error.textContent =
      result.status === 400 ? "Wrong e-mail or password (Failed to authenticate.)" : describe(result);
    $("password").select();
    return;
  }
  token = result.data.token;
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(EMAIL_KEY, result.data.record?.email ?? identity);
  $("password").value = "";
  await start();
}

// ---------------------------------------------------------------------------------------
// Panels

function showPanel() {
  const wanted = location.hash.slice(1);
  const panels = ["files-storage", "storage", "collections"];
  const current = panels.includes(wanted) ? wanted : "files-storage";
  for (const id of panels) $(id).hidden = id !== current;
  for (const link of document.querySelectorAll(".tabs a")) {
    if (link.dataset.panel === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  return current;
}

function onHashChange() {
  const current = showPanel();
  if (token) {
    if (current === "storage") loadStorage();
    if (current === "collections") loadCollections();
    $(current).focus();
  }
}

// ---------------------------------------------------------------------------------------
// Settings › Files storage

/** The S3 settings as saved (from GET/PATCH /api/settings: never the secret). */
let savedS3 = null;

function clearSecretField() {
  $("s3-secret").value = "";
}

function detectProvider(s3) {
  let host = "";
  try {
    host = new URL(s3.endpoint).hostname;
  } catch {}
  for (const [name, provider] of Object.entries(PROVIDERS)) {
    if (provider.matches?.test(host)) return name;
  }
  // A self-hosted server with path-style URLs: what the MinIO preset sets.
  return s3.forcePathStyle && host ? "minio" : "custom";
}

function showProviderHelp() {
  $("s3-provider-help").textContent = PROVIDERS[$("s3-provider").value].help;
}

function showEnabled() {
  const on = $("s3-enabled").checked;
  $("s3-fields").hidden = !on;
  $("s3-test").hidden = !on;
}

function showSecretNote() {
  // GET /api/settings never sends the secret, nor says whether one is stored: one is
  // when settings with an access key were saved (the API refuses enabled S3 without a
  // secret, and keeps the stored one when none is given).
  const stored = Boolean(savedS3?.accessKey);
  $("s3-secret").placeholder = stored ? "•••••• (stored)" : "";
  $("s3-secret-note").textContent = stored
    ? "A secret is stored. Leave this empty to keep it; it is never shown."
    : "No secret is stored yet.";
}

function fillS3Form(s3) {
  savedS3 = s3;
  $("s3-enabled").checked = Boolean(s3.enabled);
  for (const name of ["bucket", "region", "endpoint", "accessKey"]) $(`s3-${name}`).value = s3[name] ?? "";
  $("s3-forcePathStyle").checked = Boolean(s3.forcePathStyle);
  clearSecretField();
  $("s3-provider").value = detectProvider(s3);
  showProviderHelp();
  showEnabled();
  showSecretNote();
}

/** The form's values as typed; the secret only when one was typed. */
function typedS3() {
  const s3 = {
    enabled: $("s3-enabled").checked,
    bucket: $("s3-bucket").value.trim(),
    region: $("s3-region").value.trim(),
    endpoint: $("s3-endpoint").value.trim(),
    accessKey: $("s3-accessKey").value.trim(),
    forcePathStyle: $("s3-forcePathStyle").checked,
  };
  const secret = $("s3-secret").value;
  if (secret) s3.secret = secret;
  return s3;
}

function clearFieldErrors() {
  for (const name of S3_FIELDS) {
    $(`s3-${name}-error`).textContent = "";
    $(`s3-${name}`).removeAttribute("aria-invalid");
  }
  $("s3-error").textContent = "";
}

/** Shows `errors` (`{field: {code, message}}`) beside their fields; true if any did. */
function showFieldErrors(errors) {
  let first = null;
  for (const name of S3_FIELDS) {
    const message = messageOf(errors?.[name]);
    if (!message) continue;
    $(`s3-${name}-error`).textContent = message;
    $(`s3-${name}`).setAttribute("aria-invalid", "true");
    first ??= $(`s3-${name}`);
  }
  first?.focus();
  return first !== null;
}

function applyPreset() {
  const name = $("s3-provider").value;
  const preset = PROVIDERS[name];
  showProviderHelp();
  if (name === "custom") return;
  const region = $("s3-region");
  const endpoint = $("s3-endpoint");
  const otherDefaults = Object.values(PROVIDERS).map((p) => p.region);
  if (preset.fixedRegion || !region.value.trim() || otherDefaults.includes(region.value.trim())) {
    region.value = preset.region;
  }
  $("s3-forcePathStyle").checked = preset.forcePathStyle;
  if (preset.endpoint) {
    const keepR2Account = name === "r2" && PROVIDERS.r2.matches.test(hostOf(endpoint.value));
    if (!keepR2Account) endpoint.value = preset.endpoint(region.value.trim());
    if (name === "r2" && endpoint.value.includes("ACCOUNT_ID")) {
      endpoint.focus();
      const at = endpoint.value.indexOf("ACCOUNT_ID");
      endpoint.setSelectionRange?.(at, at + "ACCOUNT_ID".length);
    }
  } else {
    // MinIO: the server's own URL; another provider's endpoint is no use here.
    const host = hostOf(endpoint.value);
    if (Object.values(PROVIDERS).some((p) => p.matches?.test(host))) endpoint.value = "";
    endpoint.placeholder = "https://minio.example.com";
  }
}

function hostOf(url) {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

function regionChanged() {
  const name = $("s3-provider").value;
  const preset = PROVIDERS[name];
  const region = $("s3-region").value.trim();
  if (preset.endpoint && !preset.fixedRegion && region) $("s3-endpoint").value = preset.endpoint(region);
}

async function loadSettings() {
  const result = await api("GET", "/api/settings");
  if (!result.ok) {
    if (token) $("s3-error").textContent = `Cannot read the settings: ${describe(result)}`;
    return false;
  }
  fillS3Form(result.data.s3 ?? {});
  return true;
}

function stepRow(step) {
  const ok = step.ok === true;
  const skipped = !ok && /^skipped/i.test(step.error ?? "");
  const details = [];
  if (!ok) {
    details.push(h("span", { class: "step-error" }, step.error ?? "failed"));
    const meta = [step.code, step.status ? `HTTP ${step.status}` : null].filter(Boolean).join(", ");
    if (meta) details.push(" ", h("span", { class: "muted" }, `(${meta})`));
    if (step.hint) details.push(h("p", { class: "hint" }, h("strong", {}, "Hint: "), step.hint));
  }
  return h(
    "tr",
    { class: ok ? "ok" : skipped ? "skipped" : "failed", "data-step": step.step },
    h("th", { scope: "row" }, step.step),
    h("td", {}, h("span", { class: "badge" }, ok ? "✓ passed" : skipped ? "– skipped" : "✗ failed")),
    h("td", {}, details.length ? details : "—"),
  );
}

function showTestResult(title, steps, profile, ok) {
  const box = $("s3-test-result");
  const children = [h("h2", { class: ok ? "ok" : "failed" }, title)];
  if (steps?.length) {
    children.push(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "steps" },
          h("caption", { class: "visually-hidden" }, "The S3 test's steps"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Step"),
              h("th", { scope: "col" }, "Result"),
              h("th", { scope: "col" }, "Details"),
            ),
          ),
          h("tbody", {}, steps.map(stepRow)),
        ),
      ),
    );
  }
  if (profile) children.push(h("p", { class: "muted" }, "Provider profile: ", h("code", {}, profile)));
  box.replaceChildren(...children);
}

async function testS3() {
  clearFieldErrors();
  const button = $("s3-test");
  busy(button, true);
  $("s3-status").textContent = "Testing…";
  $("s3-test-result").replaceChildren();
  const result = await api("POST", "/api/settings/test/s3", { filesystem: "storage", s3: typedS3() });
  busy(button, false);
  $("s3-status").textContent = "";
  const profile = result.headers.get("x-edgefs-s3-profile");
  if (result.status === 204) {
    showTestResult(
      "Every step passed",
      STEPS.map((step) => ({ step, ok: true })),
      profile,
      true,
    );
    return;
  }
  const data = result.data?.data ?? {};
  if (Array.isArray(data.steps)) {
    const failed = data.steps.find((s) => !s.ok);
    showTestResult(
      `The ${failed?.step ?? "S3"} step failed`,
      data.steps,
      profile ?? data.profile?.provider,
      false,
    );
    if (data.profile?.advice) $("s3-test-result").append(h("p", { class: "hint" }, data.profile.advice));
    return;
  }
  // Field errors: the test answers them under `data` (PATCH under `data.s3`).
  if (showFieldErrors(data.s3 ?? data)) {
    showTestResult("Not tested: fix the fields marked", [], null, false);
    return;
  }
  showTestResult(describe(result), [], profile, false);
}

async function saveS3(event) {
  event.preventDefault();
  clearFieldErrors();
  const button = $("s3-save");
  busy(button, true);
  $("s3-status").textContent = "Saving…";
  const result = await api("PATCH", "/api/settings", { s3: typedS3() });
  busy(button, false);
  if (result.ok) {
    fillS3Form(result.data.s3 ?? {});
    $("s3-status").textContent = "Saved.";
    return;
  }
  $("s3-status").textContent = "";
  showFieldErrors(result.data?.data?.s3);
  $("s3-error").textContent = describe(result);
}

// ---------------------------------------------------------------------------------------
// Storage: the active backend and the migration

/** A migration as kept in localStorage: position and counts only, never a secret. */
let migration = null;
let migrationRunning = false;
let pauseRequested = false;

function loadMigration() {
  try {
    const stored = JSON.parse(localStorage.getItem(MIGRATION_KEY) ?? "null");
    if (stored && typeof stored === "object" && stored.from && stored.to) {
      // A run the closed tab left is resumable, not running.
      if (stored.state === "running") stored.state = "paused";
      return stored;
    }
  } catch {}
  return null;
}

function saveMigration() {
  if (!migration) {
    localStorage.removeItem(MIGRATION_KEY);
    return;
  }
  try {
    localStorage.setItem(MIGRATION_KEY, JSON.stringify(migration));
  } catch {
    // Over the quota (a huge failure list): keep the position and counts.
    const { failures, ...rest } = migration;
    localStorage.setItem(MIGRATION_KEY, JSON.stringify({ ...rest, failures: failures.slice(0, 1000) }));
  }
}

function newMigration(from, to, limit, dryRun) {
  return {
    from,
    to,
    limit,
    dryRun,
    cursor: null,
    copied: 0,
    skipped: 0,
    bytes: 0,
    failed: 0,
    failures: [],
    last: null,
    total: null,
    requests: 0,
    state: "running",
    error: "",
    startedAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  };
}

function renderMigration() {
  const m = migration;
  const running = migrationRunning;
  $("migrate-start").hidden = Boolean(m) && m.state !== "done";
  $("migrate-start").disabled = running;
  $("migrate-pause").hidden = !running;
  $("migrate-pause").disabled = pauseRequested;
  $("migrate-resume").hidden = !m || running || m.state !== "paused";
  // Start begins a new migration once one is done; a paused one can be discarded.
  $("migrate-reset").hidden = !m || running || m.state !== "paused";
  for (const id of ["migrate-from", "migrate-to", "migrate-limit", "migrate-dry-run"]) {
    $(id).disabled = running || (Boolean(m) && m.state === "paused");
  }
  $("migrate-progress").hidden = !m;
  if (!m) return;
  if (m.state === "paused" && !running) {
    $("migrate-from").value = m.from;
    $("migrate-to").value = m.to;
    $("migrate-limit").value = m.limit ?? "";
    $("migrate-dry-run").checked = Boolean(m.dryRun);
  }
  const processed = m.copied + m.skipped + m.failed;
  const bar = $("migrate-bar");
  let percent = null;
  if (m.state === "done") percent = 100;
  else if (Number.isFinite(m.total) && m.total > 0)
    percent = Math.min(99, Math.floor((processed / m.total) * 100));
  if (percent === null) {
    if (running) bar.removeAttribute("value");
    else bar.value = 0;
    $("migrate-percent").textContent = running ? "in progress" : "paused";
    bar.setAttribute("aria-valuetext", `${processed} objects so far`);
  } else {
    bar.value = percent;
    $("migrate-percent").textContent = `${percent} %`;
    bar.setAttribute("aria-valuetext", `${percent} percent`);
  }
  $("migrate-copied").textContent = objects(m.copied);
  $("migrate-bytes").textContent = formatBytes(m.bytes);
  $("migrate-skipped").textContent = objects(m.skipped);
  $("migrate-failed").textContent = objects(m.failed);
  $("migrate-last").textContent = m.last ?? "–";
  const what = `${m.dryRun ? "Dry run" : "Migration"} ${m.from} → ${m.to}`;
  const status = {
    running: `${what}: running (request ${m.requests + 1})…`,
    paused: `${what}: paused${m.error ? ` — ${m.error}` : ""}. Resume continues where it stopped.`,
    done: `${what}: done.`,
  }[m.state];
  $("migrate-status").textContent = status;
  renderReport();
}

function renderReport() {
  const m = migration;
  const box = $("migrate-report");
  if (m?.state !== "done") {
    box.replaceChildren();
    return;
  }
  const summary = h(
    "p",
    { class: m.failed ? "failed" : "ok" },
    `${m.dryRun ? "Would copy" : "Copied"} ${objects(m.copied)} (${formatBytes(m.bytes)}), skipped ${m.skipped}, failed ${m.failed}, in ${m.requests} request${m.requests === 1 ? "" : "s"}.`,
  );
  const children = [h("h2", {}, "Report"), summary];
  if (m.failures.length) {
    children.push(
      h(
        "div",
        { class: "table-wrap", role: "region", "aria-label": "Failures", tabindex: "0" },
        h(
          "table",
          { class: "failures" },
          h("caption", {}, `Failures (${m.failures.length})`),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Key"), h("th", { scope: "col" }, "Reason"))),
          h(
            "tbody",
            {},
            m.failures.map((f) => h("tr", {}, h("td", {}, h("code", {}, f.key)), h("td", {}, f.reason))),
          ),
        ),
      ),
    );
  }
  box.replaceChildren(...children);
}

async function runMigration() {
  if (migrationRunning || !migration) return;
  migrationRunning = true;
  pauseRequested = false;
  migration.state = "running";
  migration.error = "";
  saveMigration();
  renderMigration();
  while (!pauseRequested && token) {
    const body = {
      from: migration.from,
      to: migration.to,
      cursor: migration.cursor,
      dryRun: Boolean(migration.dryRun),
    };
    if (migration.limit) body.limit = migration.limit;
    const result = await api("POST", "/api/storage/migrate", body);
    if (!result.ok || typeof result.data !== "object" || result.data === null) {
      migration.state = "paused";
      migration.error =
        result.status === 404
          ? "this Worker has no migration API (404)"
          : `the request failed: ${describe(result)}`;
      break;
    }
    const r = result.data;
    const failures = Array.isArray(r.failed) ? r.failed : [];
    migration.copied += Number(r.copied) || 0;
    migration.skipped += Number(r.skipped) || 0;
    migration.bytes += Number(r.bytes) || 0;
    migration.failed += failures.length;
    migration.failures.push(...failures.map((f) => ({ key: String(f.key), reason: String(f.reason) })));
    if (Number.isFinite(r.total)) migration.total = r.total;
    migration.last = r.last ?? migration.last;
    migration.requests++;
    migration.updatedAt = new Date().toISOString();
    const stuck =
      !r.done && (r.cursor ?? null) === migration.cursor && !r.copied && !r.skipped && !failures.length;
    migration.cursor = r.cursor ?? null;
    if (r.done) {
      migration.state = "done";
      break;
    }
    if (stuck) {
      migration.state = "paused";
      migration.error = "the Worker answered the same position again without progress";
      break;
    }
    saveMigration();
    renderMigration();
  }
  if (migration.state === "running") migration.state = "paused";
  migrationRunning = false;
  saveMigration();
  renderMigration();
  if (migration.state === "done") loadStorage();
}

function pauseMigration() {
  if (!migrationRunning) return;
  pauseRequested = true;
  $("migrate-pause").disabled = true;
  $("migrate-status").textContent = "Pausing after this request…";
}

function startMigration(event) {
  event.preventDefault();
  const from = $("migrate-from").value;
  const to = $("migrate-to").value;
  const error = $("migrate-error");
  error.textContent = "";
  if (!from || !to) {
    error.textContent = "Choose where to copy from and to.";
    return;
  }
  if (from === to) {
    error.textContent = "From and To must be different backends.";
    $("migrate-to").focus();
    return;
  }
  const limitText = $("migrate-limit").value.trim();
  const limit = limitText ? Number(limitText) : null;
  if (limit !== null && !(Number.isInteger(limit) && limit > 0)) {
    error.textContent = "Objects per request must be a whole number above 0.";
    $("migrate-limit").focus();
    return;
  }
  migration = newMigration(from, to, limit, $("migrate-dry-run").checked);
  runMigration();
}

function resetMigration() {
  migration = null;
  saveMigration();
  $("migrate-error").textContent = "";
  renderMigration();
  $("migrate-from").focus();
}

function fillBackendSelect(select, backends, preferred) {
  const previous = select.value;
  select.replaceChildren(
    ...backends.map((name) => h("option", { value: name }, BACKEND_NAMES[name] ?? name)),
  );
  if (backends.includes(previous)) select.value = previous;
  else if (backends.includes(preferred)) select.value = preferred;
}

/**
 * The usual migration: into the backend that serves files now, from another one; with
 * local storage active, from it to S3 (before turning S3 on, or to leave local storage).
 */
function defaultMigration(active, backends) {
  const serving = active === "memory" || active === "kv" ? "local" : active;
  const other = (not, preferred) =>
    [preferred, ...backends].find((name) => name && name !== not && backends.includes(name)) ?? backends[0];
  if (serving !== "local" && backends.includes(serving))
    return { from: other(serving, "local"), to: serving };
  return { from: "local", to: other("local", "s3") };
}

async function loadStorage() {
  const result = await api("GET", "/api/storage");
  const active = $("storage-active");
  if (!result.ok) {
    active.textContent =
      result.status === 404
        ? "This Worker has no storage API yet (GET /api/storage answered 404)."
        : `Cannot read the storage: ${describe(result)}`;
    if (!$("migrate-from").options.length) {
      const backends = ["local", "r2", "s3"];
      fillBackendSelect($("migrate-from"), backends, "local");
      fillBackendSelect($("migrate-to"), backends, "s3");
    }
    renderMigration();
    return;
  }
  const { active: name, backends = [] } = result.data;
  active.replaceChildren(
    "Files are served from ",
    h("strong", { id: "storage-active-name" }, name),
    ` — ${BACKEND_NAMES[name] ?? name}.`,
  );
  const usual = defaultMigration(name, backends);
  fillBackendSelect($("migrate-from"), backends, usual.from);
  fillBackendSelect($("migrate-to"), backends, usual.to);
  renderMigration();
}

// ---------------------------------------------------------------------------------------
// Collections

const RULES = ["listRule", "viewRule", "createRule", "updateRule", "deleteRule"];

function ruleText(rule) {
  if (rule === null || rule === undefined) return h("span", { class: "muted" }, "superusers only (null)");
  if (rule === "") return h("span", { class: "muted" }, 'anyone ("")');
  return h("code", {}, rule);
}

function fieldDetails(field) {
  const parts = [];
  if (field.required) parts.push("required");
  if (field.hidden) parts.push("hidden");
  if (field.system) parts.push("system");
  if (field.primaryKey) parts.push("primary key");
  if (field.type === "file") {
    parts.push(`max ${field.maxSelect ?? 1} file${(field.maxSelect ?? 1) === 1 ? "" : "s"}`);
    if (field.maxSize) parts.push(`≤ ${formatBytes(field.maxSize).replace(/ \(.*\)$/, "")}`);
    if (field.mimeTypes?.length) parts.push(field.mimeTypes.join(", "));
    if (field.protected) parts.push("protected");
  }
  if (field.type === "autodate") {
    parts.push(
      [field.onCreate && "on create", field.onUpdate && "on update"].filter(Boolean).join(" and ") || "never",
    );
  }
  if (field.type === "text" && (field.min || field.max)) {
    parts.push(
      field.min === field.max
        ? `${field.min} characters`
        : `${field.min || 0}–${field.max || "∞"} characters`,
    );
  }
  return parts.join("; ") || "—";
}

function collectionCard(collection) {
  const fields = collection.fields ?? [];
  return h(
    "article",
    { class: "collection", "data-collection": collection.name },
    h("h3", {}, collection.name, " ", h("span", { class: "badge" }, collection.type ?? "base")),
    h("p", { class: "muted" }, "id ", h("code", {}, collection.id ?? "")),
    h(
      "div",
      { class: "table-wrap", role: "region", "aria-label": `${collection.name}: fields`, tabindex: "0" },
      h(
        "table",
        {},
        h("caption", {}, `Fields (${fields.length})`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Name"),
            h("th", { scope: "col" }, "Type"),
            h("th", { scope: "col" }, "Options"),
          ),
        ),
        h(
          "tbody",
          {},
          fields.map((f) =>
            h("tr", {}, h("th", { scope: "row" }, f.name), h("td", {}, f.type), h("td", {}, fieldDetails(f))),
          ),
        ),
      ),
    ),
    h(
      "div",
      { class: "table-wrap", role: "region", "aria-label": `${collection.name}: rules`, tabindex: "0" },
      h(
        "table",
        { class: "rules" },
        h("caption", {}, "Rules"),
        h(
          "tbody",
          {},
          RULES.map((rule) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, rule.replace("Rule", "")),
              h("td", {}, ruleText(collection[rule])),
            ),
          ),
        ),
      ),
    ),
  );
}

async function loadCollections() {
  const list = $("collections-list");
  const items = [];
  for (let page = 1; ; page++) {
    const result = await api("GET", `/api/collections?page=${page}&perPage=200`);
    if (!result.ok) {
      list.replaceChildren(h("p", { class: "error" }, `Cannot read the collections: ${describe(result)}`));
      return;
    }
    items.push(...(result.data.items ?? []));
    if (page >= (result.data.totalPages ?? 1)) break;
  }
  list.replaceChildren(
    items.length
      ? h("div", { class: "collections" }, items.map(collectionCard))
      : h("p", {}, "No collections."),
  );
}

async function readImportFile() {
  const file = $("import-file").files?.[0];
  if (!file) return;
  $("import-json").value = await file.text();
  $("import-error").textContent = "";
  $("import-status").textContent = `Read ${file.name} (${formatBytes(file.size)}).`;
}

/** Every message of an error's `data`, as `path: message` lines. */
function flattenErrors(data, path = []) {
  if (!data || typeof data !== "object") return [];
  if (typeof data.message === "string") return [`${path.join(".") || "error"}: ${data.message}`];
  return Object.entries(data).flatMap(([key, value]) => flattenErrors(value, [...path, key]));
}

async function importCollections(event) {
  event.preventDefault();
  const error = $("import-error");
  const status = $("import-status");
  error.replaceChildren();
  status.textContent = "";
  let parsed;
  try {
    parsed = JSON.parse($("import-json").value);
  } catch (e) {
    error.textContent = `That is not JSON: ${e.message}`;
    $("import-json").focus();
    return;
  }
  const collections = Array.isArray(parsed) ? parsed : parsed?.collections;
  if (!Array.isArray(collections) || !collections.length) {
    error.textContent = 'Expected a JSON array of collections (or {"collections": [...]}).';
    $("import-json").focus();
    return;
  }
  const button = $("import-button");
  busy(button, true);
  const result = await api("PUT", "/api/collections/import", { collections, deleteMissing: false });
  busy(button, false);
  if (result.ok) {
    status.textContent = `Imported ${collections.length} collection${collections.length === 1 ? "" : "s"}.`;
    await loadCollections();
    return;
  }
  const lines = flattenErrors(result.data?.data);
  error.replaceChildren(
    h("span", {}, describe(result)),
    lines.length
      ? h(
          "ul",
          {},
          lines.map((l) => h("li", {}, l)),
        )
      : null,
  );
  $("import-json").focus();
}

// ---------------------------------------------------------------------------------------
// Start

async function start() {
  document.body.dataset.view = "loading";
  showSignedIn(true);
  showPanel();
  if (!(await loadSettings())) return;
  migration = loadMigration();
  renderMigration();
  const current = showPanel();
  if (current === "storage") await loadStorage();
  else loadStorage();
  if (current === "collections") await loadCollections();
  document.body.dataset.view = "app";
}

function init() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut("Signed out."));
  $("s3-form").addEventListener("submit", saveS3);
  $("s3-test").addEventListener("click", testS3);
  $("s3-enabled").addEventListener("change", showEnabled);
  $("s3-provider").addEventListener("change", applyPreset);
  $("s3-region").addEventListener("change", regionChanged);
  $("migrate-form").addEventListener("submit", startMigration);
  $("migrate-pause").addEventListener("click", pauseMigration);
  $("migrate-resume").addEventListener("click", runMigration);
  $("migrate-reset").addEventListener("click", resetMigration);
  $("import-form").addEventListener("submit", importCollections);
  $("import-file").addEventListener("change", readImportFile);
  window.addEventListener("hashchange", onHashChange);
  window.addEventListener("storage", (event) => {
    // Another tab of this page moved the migration on: show its counts.
    if (event.key === MIGRATION_KEY && !migrationRunning) {
      migration = loadMigration();
      renderMigration();
    }
  });
  showProviderHelp();
  if (token) {
    start();
  } else {
    showSignedIn(false);
    document.body.dataset.view = "sign-in";
    $("identity").focus();
  }
}

init();
