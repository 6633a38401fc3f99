// A minimal AWS SigV4 for the serving benchmark (scripts/bench-serve.sh): header-signed
// requests with UNSIGNED-PAYLOAD (to seed SeaweedFS with streamed PUTs) and presigned
// GET URLs (for the JavaScript baseline Worker, which then only calls fetch(url)).
// Path-style URLs only; keys are plain ASCII in the benchmark.
import { createHash, createHmac } from "node:crypto";

const hmac = (key, data) => createHmac("sha256", key).update(data).digest();
const sha256hex = (data) => createHash("sha256").update(data).digest("hex");

// RFC 3986 unreserved characters stay; everything else is %XX (uppercase).
function encode(value, keepSlash) {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(keepSlash ? /%2F/g : /$^/, "/");
}

function stamp(date) {
  const iso = date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  return { amzDate: iso, day: iso.slice(0, 8) };
}

function signingKey(secret, day, region) {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), "s3"), "aws4_request");
}

function canonicalQuery(query) {
  return Object.keys(query)
    .sort()
    .map((k) => `${encode(k)}=${encode(query[k])}`)
    .join("&");
}

// { method, url: { host, path }, headers } for a header-signed request whose body is
// sent as UNSIGNED-PAYLOAD.
export function signRequest({ method, endpoint, path, query = {}, headers = {}, accessKey, secretKey, region, date = new Date() }) {
  const url = new URL(endpoint);
  const { amzDate, day } = stamp(date);
  const all = { ...headers, host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": amzDate };
  const names = Object.keys(all).map((n) => n.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), String(v).trim()]));
  const canonicalPath = encode(path, true);
  const qs = canonicalQuery(query);
  const canonical = [
    method,
    canonicalPath,
    qs,
    names.map((n) => `${n}:${lower[n]}\n`).join(""),
    names.join(";"),
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256hex(canonical)].join("\n");
  const signature = hmac(signingKey(secretKey, day, region), toSign).toString("hex");
  lower.authorization = `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return { url: `${url.origin}${canonicalPath}${qs ? `?${qs}` : ""}`, headers: lower };
}

// A presigned GET URL (X-Amz-* query parameters, UNSIGNED-PAYLOAD, only `host` signed).
export function presignGet({ endpoint, path, accessKey, secretKey, region, expires = 3600, date = new Date() }) {
  const url = new URL(endpoint);
  const { amzDate, day } = stamp(date);
  const scope = `${day}/${region}/s3/aws4_request`;
  const query = {
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": `${accessKey}/${scope}`,
    "X-Amz-Date": amzDate,
    "X-Amz-Expires": String(expires),
    "X-Amz-SignedHeaders": "host",
  };
  const canonicalPath = encode(path, true);
  const qs = canonicalQuery(query);
  const canonical = ["GET", canonicalPath, qs, `host:${url.host}\n`, "host", "UNSIGNED-PAYLOAD"].join("\n");
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256hex(canonical)].join("\n");
  const signature = hmac(signingKey(secretKey, day, region), toSign).toString("hex");
  return `${url.origin}${canonicalPath}?${qs}&X-Amz-Signature=${signature}`;
}
