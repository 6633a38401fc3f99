// A FAKE, named as such: a loopback HTTP proxy in front of a real S3 server (SeaweedFS)
// that answers chosen requests itself with faults a real server will not produce on
// demand — 503 SlowDown, 500 InternalError, a reset before any answer, a body cut
// short, a slow body, a 200 carrying an error. Every other request goes to the real
// server unchanged (its Host header too), so signatures are still verified there.
// The Rust suites have the same proxy in tests/support/fault_proxy.rs.
import { createServer, request as httpRequest } from "node:http";
import { freePort } from "./ports.mjs";

function errorDocument(code) {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the test's fault proxy</Message><RequestId>fake-${code}</RequestId></Error>`;
}

/**
 * Starts the proxy in front of `upstream` (an `http://127.0.0.1:port` URL). Faults are
 * queued with `inject(match, fault)`, each used once by the first request it matches:
 *
 *   match: { method: "PUT", query: "partNumber=", without: "uploadId", path: "/bucket/key" }
 *   fault: { status: 503, code: "SlowDown" } | { reset: true } | { truncate: true }
 *        | { slow: ms } | { okWithError: "InternalError" }
 */
export async function startFaultProxy(upstream) {
  const target = new URL(upstream);
  const faults = [];
  const seen = [];
  const port = await freePort();

  function take(req) {
    const [path, query = ""] = req.url.split("?");
    const at = faults.findIndex(
      ({ match }) =>
        (!match.method || match.method === req.method) &&
        (match.query === undefined || query.includes(match.query)) &&
        (!match.without || !query.includes(match.without)) &&
        (!match.path || decodeURIComponent(path).includes(match.path)),
    );
    return at < 0 ? undefined : faults.splice(at, 1)[0].fault;
  }

  function forward(req, body) {
    return new Promise((resolve, reject) => {
      const upstreamRequest = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const chunks = [];
          answer.on("data", (c) => chunks.push(c));
          answer.on("end", () => resolve({ status: answer.statusCode, headers: answer.headers, body: Buffer.concat(chunks) }));
          answer.on("error", reject);
        },
      );
      upstreamRequest.on("error", reject);
      upstreamRequest.end(body);
    });
  }

  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const fault = take(req);
    seen.push({ method: req.method, url: req.url, fault: fault ? JSON.stringify(fault) : undefined });
    try {
      if (fault?.reset) {
        req.socket.resetAndDestroy();
        return;
      }
      if (fault?.status) {
        const xml = errorDocument(fault.code);
        res.writeHead(fault.status, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
        res.end(xml);
        return;
      }
      if (fault?.okWithError) {
        const xml = errorDocument(fault.okWithError);
        res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
        res.end(xml);
        return;
      }
      const answer = await forward(req, body);
      const headers = { ...answer.headers };
      delete headers.connection;
      delete headers["transfer-encoding"];
      headers["content-length"] = String(answer.body.length);
      res.writeHead(answer.status, headers);
      if (fault?.truncate) {
        res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
        setTimeout(() => req.socket.resetAndDestroy(), 20);
        return;
      }
      if (fault?.slow) {
        for (let at = 0; at < answer.body.length; at += 8192) {
          res.write(answer.body.subarray(at, at + 8192));
          await new Promise((resolve) => setTimeout(resolve, fault.slow));
        }
        res.end();
        return;
      }
      res.end(answer.body);
    } catch (error) {
      req.socket.destroy(error);
    }
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    inject(match, fault) {
      faults.push({ match, fault });
    },
    /** Faults queued and not used yet. */
    pending() {
      return faults.length;
    },
    /** Requests seen so far: `{ method, url, fault }`. */
    seen,
    clear() {
      faults.length = 0;
    },
    stop() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
