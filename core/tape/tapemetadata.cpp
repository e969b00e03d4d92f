#include "core/tape/tapemetadata.h"

namespace tapedeck {

QJsonObject TapeMetadata::toJson() const
{
    return QJsonObject{
        {QStringLiteral("sourceKind"), toString(sourceKind)},
        {QStringLiteral("source"), source},
        {QStringLiteral("parameters"), parameters},
        {QStringLiteral("recordedAt"), recordedAt.toUTC().toString(Qt::ISODateWithMs)},
        {QStringLiteral("createdBy"), createdBy},
    };
}

TapeMetadata TapeMetadata::fromJson(const QJsonObject &object)
{
    TapeMetadata m;
    m.sourceKind = sourceKindFromString(object.value(QStringLiteral("sourceKind")).toString()).value_or(SourceKind::Unknown);
    m.source = object.value(QStringLiteral("source")).toString();
    m.parameters = object.value(QStringLiteral("parameters")).toObject();
    m.recordedAt = QDateTime::fromString(object.value(QStringLiteral("recordedAt")).toString(), Qt::ISODateWithMs);
    m.createdBy = object.value(QStringLiteral("createdBy")).toString();
    return m;
}

} // namespace tapedeck
