#include "core/kafka/kafkaposition.h"

#include "core/event/bound.h"

namespace tapedeck {

std::optional<KafkaPosition> KafkaPosition::parse(const QString &text, QString *error)
{
    const QString t = text.trimmed();
    if (t == QLatin1String("beginning"))
        return KafkaPosition{Beginning, 0};
    if (t == QLatin1String("end"))
        return KafkaPosition{End, 0};
    if (t.startsWith(QLatin1Char('@'))) {
        if (const auto ms = bound::parseTime(t))
            return KafkaPosition{Timestamp, *ms};
    } else {
        bool ok = false;
        const qint64 offset = t.toLongLong(&ok);
        if (ok && offset >= 0)
            return KafkaPosition{Offset, offset};
    }
    *error = QStringLiteral("\"%1\" is not a position: use beginning, end, an offset or @TIME (%2)")
                 .arg(text, bound::timeSyntax());
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
