// The edgefs hook's shared half (pb_hooks/edgefs.pb.js requires it): what changed, posted
// to the Worker's purge route. A failed purge is logged, never an error for the request
// that changed the record: the Worker then forgets within PB_CACHE_SECONDS.

function send(change) {
  const secret = $os.getenv("EDGEFS_PURGE_SECRET");
  const site = $os.getenv("EDGEFS_URL") || $app.settings().meta.appURL;
  if (!secret || !site) return;
  try {
    const answer = $http.send({
      url: site.replace(/\/+$/, "") + "/api/files/edgefs/purge",
      method: "POST",
      body: JSON.stringify(change),
      headers: { "content-type": "application/json", authorization: "Bearer " + secret },
      timeout: 5,
    });
    if (answer.statusCode !== 204) {
      $app.logger().warn("edgefs: the Worker refused a purge", "status", answer.statusCode, "collection", change.collection.name);
    }
  } catch (error) {
    $app.logger().warn("edgefs: the Worker could not be told of a change", "error", String(error), "collection", change.collection.name);
  }
}

module.exports = {
  /** A record's files changed or went (or anything its view rule may read). */
  purgeRecord(record) {
    const collection = record.collection();
    const files = [];
    const thumbs = [];
    let withFiles = false;
    for (const field of collection.fields) {
      if (field.type() !== "file") continue;
      withFiles = true;
      for (const name of record.getStringSlice(field.getName())) files.push(name);
      for (const size of field.thumbs || []) thumbs.push(size);
    }
    if (!withFiles) return;
    send({ collection: { id: collection.id, name: collection.name }, record: record.id, files, thumbs });
  },

  /** A collection changed: its rules decide every file of it anew. */
  purgeCollection(collection) {
    send({ collection: { id: collection.id, name: collection.name } });
  },
};
