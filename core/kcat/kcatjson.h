#pragma once

#include "core/event/event.h"

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

namespace tapedeck {

// The envelope `kcat -C -J` prints, one JSON object per line:
//   {"topic":..,"partition":..,"offset":..,"tstype":..,"ts":..,"broker":..,"headers":[name,value,..],"key":..,"payload":..}
// kcat writes key, payload and header values as JSON strings of the raw bytes
// (not validated as UTF-8). Tapedeck reads those bytes back exactly, and
// writes bytes that are not valid UTF-8 with the documented extension
// "key_encoding"/"payload_encoding":"base64" and "headers_base64":[index,..]
// (kcatjson.md). Change events carry an extra "change" object.
namespace kcatjson {

// Parses one line (without its newline). nullopt + *error (with the column) on malformed input.
std::optional<Event> parse(QByteArrayView line, QString *error);

// The line for `event`, without a newline. Byte-identical to kcat's own output
// for records whose key, payload and headers are valid UTF-8.
QByteArray serialize(const Event &event);

} // namespace kcatjson
} // namespace tapedeck
