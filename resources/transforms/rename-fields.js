// Rename fields of a JSON value; fields not listed pass unchanged. Written to "<topic>.renamed".
const renames = { status: "state", amount: "total" };

function transform(event, ctx) {
    if (typeof event.json !== "object" || event.json === null)
        return null;
    const out = {};
    for (const name of Object.keys(event.json))
        out[renames[name] || name] = event.json[name];
    return { topic: event.topic + ".renamed", key: event.key, value: out, headers: event.headers };
}
