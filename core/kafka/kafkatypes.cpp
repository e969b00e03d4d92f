#include "core/kafka/kafkatypes.h"

namespace tapedeck {

QStringList compactionRelevantConfigs()
{
    return {QStringLiteral("cleanup.policy"), QStringLiteral("segment.bytes"), QStringLiteral("segment.ms"),
            QStringLiteral("min.cleanable.dirty.ratio"), QStringLiteral("min.compaction.lag.ms"),
            QStringLiteral("max.compaction.lag.ms"), QStringLiteral("delete.retention.ms"),
            QStringLiteral("retention.ms"), QStringLiteral("retention.bytes"), QStringLiteral("message.timestamp.type")};
}

} // namespace tapedeck
