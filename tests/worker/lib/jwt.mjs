// HS256 JWTs as an app signs its users' tokens for the Worker (the Worker has no users
// collection: whoever holds AUTH_SECRET issues them), and a decoder for assertions.
import { createHmac, randomBytes } from "node:crypto";

const b64url = (data) => Buffer.from(data).toString("base64url");

/** Signs `claims` with HS256. */
export function signHs256(claims, secret) {
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify(claims));
  const signature = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

/** The claims of a JWT (unverified). */
export function decodeJwt(token) {
  const [, payload] = String(token).split(".");
  return JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8"));
}

/** A record id as PocketBase makes them: 15 characters of [a-z0-9]. */
export function recordId() {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(15), (b) => alphabet[b % alphabet.length]).join("");
}

/** An auth token for a user of PocketBase's `users` collection, signed by the app. */
export function userToken(id, secret, ttlSeconds = 3600) {
  return signHs256(
    {
      id,
      type: "auth",
      collectionId: "_pb_users_auth_",
      collectionName: "users",
      exp: Math.floor(Date.now() / 1000) + ttlSeconds,
    },
    secret,
  );
}
