#pragma once

#include "core/event/event.h"

namespace tapedeck {

// A stream is one lane of a tape: kind + cluster + topic (or table) + partition.
// Events refer to their stream by a small id, assigned in order of first use.
struct StreamKey
{
    SourceKind kind = SourceKind::Unknown;
    QString cluster;
    QString topic;
    qint32 partition = -1;
    bool operator==(const StreamKey &) const = default;
};

size_t qHash(const StreamKey &key, size_t seed = 0);

// Per-stream figures, as `tape info` prints them.
struct StreamStats
{
    quint32 id = 0;
    StreamKey key;
    qint64 count = 0;
    qint64 minPosition = 0;
    qint64 maxPosition = 0;
    qint64 minTimestampUs = 0;
    qint64 maxTimestampUs = 0;
};

} // namespace tapedeck
