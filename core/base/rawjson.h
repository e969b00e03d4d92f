#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <optional>

namespace tapedeck {

// A JSON value as its text, without converting numbers to doubles (QJsonValue
// would turn 9007199254740993 into ...992 and 12.50 into 12.5). Strings are
// unescaped; numbers, true/false/null keep their literal text; objects and
// arrays keep their raw text. Used by the state and the diff to read key
// columns and mapped fields out of Kafka values and change-event keys.
struct RawJson
{
    enum class Type : quint8 { Null, Bool, Number, String, Object, Array };
    Type type = Type::Null;
    QByteArray text; // "true"/"false" for Bool, "null" for Null

    bool operator==(const RawJson &) const = default;
};

namespace rawjson {

// The fields of a JSON object in their order; false when `json` is not an object.
bool objectFields(QByteArrayView json, QList<std::pair<QByteArray, RawJson>> *fields);
// The value at a dotted path ("customer.id"; "" is the whole document);
// nullopt when the document is not JSON or the path is absent.
std::optional<RawJson> path(QByteArrayView json, QByteArrayView dottedPath);
// Parses one whole JSON document.
std::optional<RawJson> parse(QByteArrayView json);

} // namespace rawjson
} // namespace tapedeck
