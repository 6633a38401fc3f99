// Helpers for the SDK suite: PocketBase clients and assertions on the SDK's errors.
import assert from "node:assert/strict";
import PocketBase, { ClientResponseError } from "pocketbase";

/** A PocketBase SDK client for the target, optionally signed in with a token. */
export function client(url, auth) {
  const pb = new PocketBase(url);
  // The SDK cancels a pending request when another with the same key starts; the
  // suite awaits every request, so this only hides mistakes.
  pb.autoCancellation(false);
  if (auth) pb.authStore.save(auth.token, auth.record);
  // An unexpected error names the request and shows the whole error document (the
  // test runner prints nested `data` as [Object]).
  const send = pb.send.bind(pb);
  pb.send = async (path, options) => {
    try {
      return await send(path, options);
    } catch (error) {
      if (error instanceof ClientResponseError) {
        error.message += ` (${options?.method ?? "GET"} ${error.url} answered ${error.status} ${JSON.stringify(error.response)})`;
      }
      throw error;
    }
  };
  return pb;
}

/**
 * Awaits a promise that must fail with the SDK's ClientResponseError of `status`;
 * answers the error's response body (PocketBase's `{status, message, data}`).
 */
export async function rejectsWith(promise, status, what = "") {
  let error;
  try {
    const value = await promise;
    assert.fail(`${what}: expected HTTP ${status}, got success: ${JSON.stringify(value).slice(0, 300)}`);
  } catch (e) {
    error = e;
  }
  if (!(error instanceof ClientResponseError)) throw error;
  assert.equal(
    error.status,
    status,
    `${what}: expected HTTP ${status}, got ${error.status} ${JSON.stringify(error.response).slice(0, 500)} (${error.url})`,
  );
  return error.response;
}

export const NOT_FOUND = { data: {}, message: "The requested resource wasn't found.", status: 404 };

/**
 * Fetches a file URL; asserts PocketBase's 404 JSON (with `anyMessage`, any 404 JSON
 * error: PocketBase's message varies for some bad paths).
 */
export async function assertFile404(url, what = url, { anyMessage = false } = {}) {
  const response = await fetch(url);
  const text = await response.text();
  assert.equal(response.status, 404, `${what}: GET ${url} answered ${response.status} ${text.slice(0, 200)}`);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`${what}: the 404 body is not JSON: ${text.slice(0, 200)}`);
  }
  if (anyMessage) {
    assert.equal(body.status, 404, `${what}: the 404 body`);
    assert.deepEqual(body.data, {}, `${what}: the 404 body`);
  } else {
    assert.deepEqual(body, NOT_FOUND, `${what}: the 404 body`);
  }
}

/** Fetches a file URL; asserts a 200 with exactly `expected` bytes; answers the response. */
export async function assertFileBytes(url, expected, what = url) {
  const response = await fetch(url);
  const body = new Uint8Array(await response.arrayBuffer());
  assert.equal(
    response.status,
    200,
    `${what}: GET ${url} answered ${response.status} ${Buffer.from(body).toString("utf8").slice(0, 200)}`,
  );
  assert.equal(body.length, expected.length, `${what}: length`);
  assert.ok(Buffer.from(body).equals(Buffer.from(expected)), `${what}: the bytes differ from the upload`);
  return response;
}
