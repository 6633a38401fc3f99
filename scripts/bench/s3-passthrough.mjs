// The JavaScript baseline for scripts/bench-serve.sh: an S3 object fetched with a presigned
// URL (binding URLS: request path -> URL, made by the bench script) and passed through.
export default {
  async fetch(request, env) {
    const url = JSON.parse(env.URLS)[new URL(request.url).pathname];
    if (url === undefined) return new Response("not found", { status: 404 });
    const upstream = await fetch(url);
    return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
  },
};
