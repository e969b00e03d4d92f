// Kafka JSON value -> upsert by key. Each topic becomes a table of the same
// name (non-identifier characters replaced by "_") with a text column "key"
// plus one column per top-level field of the value; a tombstone deletes the key.
// JSON numbers arrive as JavaScript numbers (exact below 2^53); read exact
// big numbers from event.value yourself if your data has them.
function transform(event, ctx) {
    if (event.key === null)
        return null; // nothing to upsert by
    const table = event.topic.replace(/[^A-Za-z0-9_]/g, "_");
    if (event.value === null)
        return { table: table, op: "delete", key: { key: event.key } };
    if (typeof event.json !== "object" || event.json === null || Array.isArray(event.json))
        throw new Error("value is not a JSON object");
    return { table: table, op: "upsert", key: { key: event.key }, row: event.json };
}
