#include "core/replay/replaytarget.h"

#include "core/postgres/pgtypes.h"

using namespace Qt::StringLiterals;

namespace tapedeck {

QString ReplayTarget::describe() const
{
    switch (kind) {
    case Kind::Sqlite: return u"sqlite:"_s + sqlitePath;
    case Kind::Postgres: return pgDsnWithoutPassword(pgDsn);
    case Kind::Kafka: return u"kafka://%1/%2"_s.arg(kafka.bootstrapServers(), kafkaTopic);
    }
    return {};
}

QString ReplayTarget::contextName() const
{
    switch (kind) {
    case Kind::Sqlite: return u"sqlite"_s;
    case Kind::Postgres: return u"postgresql"_s;
    case Kind::Kafka: return u"kafka"_s;
    }
    return {};
}

} // namespace tapedeck
