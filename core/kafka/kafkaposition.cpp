#include "core/kafka/kafkaposition.h"

namespace tapedeck {

std::optional<KafkaPosition> KafkaPosition::parse(const QString &text, QString *error)
{
    const QString t = text.trimmed();
    if (t == QLatin1String("beginning"))
        return KafkaPosition{Beginning, 0};
    if (t == QLatin1String("end"))
        return KafkaPosition{End, 0};
    bool ok = false;
    if (t.startsWith(QLatin1Char('@'))) {
        const qint64 ms = t.mid(1).toLongLong(&ok);
        if (ok && ms >= 0)
            return KafkaPosition{Timestamp, ms};
    } else {
        const qint64 offset = t.toLongLong(&ok);
        if (ok && offset >= 0)
            return KafkaPosition{Offset, offset};
    }
    *error = QStringLiteral("\"%1\" is not a position: use beginning, end, an offset or @TIMESTAMP_MS").arg(text);
    return std::nullopt;
}

QString KafkaPosition::toString() const
{
    switch (kind) {
    case Beginning: return QStringLiteral("beginning");
    case End: return QStringLiteral("end");
    case Offset: return QString::number(value);
    case Timestamp: return QStringLiteral("@") + QString::number(value);
    }
    return QString();
}

} // namespace tapedeck
