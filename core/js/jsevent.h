#pragma once

#include "core/tape/chunk.h"
#include "core/event/event.h"
#include "core/event/stream.h"

#include <QJSValue>

class QJSEngine;

namespace tapedeck {

// The JavaScript view of an event: `e` of a filter expression and `event`
// of a transform (and so of the transform editor's preview) are the same
// object, field for field (core/js/event.md; tst_jsevent checks every field in
// both places). The transform builds it in its batch runner
// (core/transform/js/batchrunner.js, from transformencode.cpp's arrays) for
// speed; this builds it one event at a time for filters, and only the fields
// an expression mentions (JsEventFields::usedBy), so a filter over `e.key`
// never parses JSON or decodes rows.
//
//   kind, topic, partition, position/offset (decimal string: exact beyond 2^53),
//   timestamp (ms, a number), timestampUs (string), key, value (UTF-8 or null),
//   json, keyJson (parsed, or undefined), headers (name -> string or null,
//   last wins), op, size (bytes of key + value), tombstone (a Kafka record
//   with a null value); change events also table, txid, commitLsn (strings),
//   primaryKey (array), old, new (column -> text or null; unchanged TOASTed
//   columns absent), types (column -> type name).
struct JsEventFields
{
    bool topic = true, partition = true, position = true, timestamp = true, timestampUs = true;
    bool key = true, value = true, json = true, keyJson = true, headers = true, size = true;
    bool tombstone = true, op = true, kind = true, change = true;
    static JsEventFields all() { return {}; }
    // Only what `expression` mentions (a conservative textual check).
    static JsEventFields usedBy(const QString &expression);
    // Whether `json` and `keyJson` exist at all, for filters and transforms
    // alike: parsing JSON is the largest cost, so only when the text says
    // "json" (any case: JSON.stringify(e) shows it) or "keyJson".
    static bool wantsJson(const QString &text) { return text.contains(u"json", Qt::CaseInsensitive); }
    static bool wantsKeyJson(const QString &text) { return text.contains(u"keyJson"); }

private:
    static JsEventFields usedNames(const QString &expression);
};

QJSValue toJsEvent(QJSEngine &engine, const StreamKey &stream, const Chunk &chunk, int index,
                   const JsEventFields &fields);

} // namespace tapedeck
