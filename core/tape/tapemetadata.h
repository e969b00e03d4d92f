#pragma once

#include "core/event/event.h"

#include <QDateTime>
#include <QJsonObject>

namespace tapedeck {

// What a tape says about where it came from; stored as JSON in the tape's
// first block. `parameters` holds the source's own settings (topics, start
// and stop positions, slot, plugin...), never secrets.
struct TapeMetadata
{
    SourceKind sourceKind = SourceKind::Unknown;
    QString source;          // human description: "kafka://host:9092", "kcat JSON file x.jsonl"
    QJsonObject parameters;
    QDateTime recordedAt;    // when recording started (UTC)
    QString createdBy;       // "tapedeck 0.1.0"

    QJsonObject toJson() const;
    static TapeMetadata fromJson(const QJsonObject &object);
};

} // namespace tapedeck
