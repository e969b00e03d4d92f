// Filter: only records whose JSON value has status "PAID" go on, unchanged,
// to the topic "<topic>.paid". Returning null drops an event.
function transform(event, ctx) {
    if (!event.json || event.json.status !== "PAID")
        return null;
    return { topic: event.topic + ".paid", key: event.key, value: event.value, headers: event.headers };
}
