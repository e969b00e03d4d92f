// Identity for change events: the same table, the same operation.
// Insert and update become an upsert by primary key, delete a delete; rows of
// tables without a primary key are inserted. Begin/Commit/Message/Truncate are dropped.
// Column values are the text PostgreSQL sent (strings), so nothing loses precision.
function transform(event, ctx) {
    if (event.op === "delete") {
        const key = {};
        for (const name of event.primaryKey)
            key[name] = event.old[name];
        return { table: event.table, op: "delete", key: key };
    }
    if (event.op !== "insert" && event.op !== "update" && event.op !== "read")
        return null;
    if (event.primaryKey.length === 0)
        return { table: event.table, op: "insert", row: event.new };
    const key = {};
    for (const name of event.primaryKey)
        key[name] = event.new[name] !== undefined ? event.new[name] : event.old[name];
    return { table: event.table, op: "upsert", key: key, row: event.new };
}
