#pragma once

#include <QString>

#include <optional>

namespace tapedeck {

// A place in a partition as the CLI and the recording dialog take it:
// "beginning", "end", an offset "1234", or a timestamp "@1767261600000" (ms).
struct KafkaPosition
{
    enum Kind { Beginning, End, Offset, Timestamp };
    Kind kind = Beginning;
    qint64 value = 0;

    static std::optional<KafkaPosition> parse(const QString &text, QString *error);
    QString toString() const;
    bool operator==(const KafkaPosition &) const = default;
};

} // namespace tapedeck
