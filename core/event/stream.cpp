#include "core/event/stream.h"

#include <QHashFunctions>

namespace tapedeck {

size_t qHash(const StreamKey &key, size_t seed)
{
    return qHashMulti(seed, quint8(key.kind), key.cluster, key.topic, key.partition);
}

} // namespace tapedeck
