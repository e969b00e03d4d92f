#pragma once

#include "core/tape/chunk.h"
#include "core/event/event.h"
#include "core/event/stream.h"

#include <QJSValue>

class QJSEngine;

namespace tapedeck {

// Builds the JavaScript view of an event that filter expressions (and later
// transforms) see as `e`. Which properties are built is decided once per
// expression (see EventFilter), so a filter over `e.key` never parses JSON.
//
// Contract (documented in README "Filter expressions"):
//   e.topic (string, topic or schema.table), e.partition (number),
//   e.offset / e.position (number; exact below 2^53), e.timestamp (number, ms since epoch),
//   e.key, e.value (string decoded as UTF-8, or null), e.json (value parsed as JSON, or undefined),
//   e.headers (object: name -> string or null; last wins), e.size (bytes of key+value),
//   e.tombstone (bool), e.op ("record", "insert", "update", ...), e.kind ("kafka", "postgres", ...)
struct JsEventFields
{
    bool topic = true, partition = true, position = true, timestamp = true;
    bool key = true, value = true, json = true, headers = true, size = true;
    bool tombstone = true, op = true, kind = true;
    static JsEventFields all() { return {}; }
    // Only what `expression` mentions (a conservative textual check).
    static JsEventFields usedBy(const QString &expression);
};

QJSValue toJsEvent(QJSEngine &engine, const StreamKey &stream, const Chunk &chunk, int index,
                   const JsEventFields &fields);

} // namespace tapedeck
