#include "core/replay/replaytarget.h"

#include "core/postgres/pgtypes.h"

using namespace Qt::StringLiterals;

namespace tapedeck {

std::optional<ReplayTarget> ReplayTarget::fromUrl(const QString &url, QString *error)
{
    ReplayTarget t;
    if (url.startsWith(u"postgresql://") || url.startsWith(u"postgres://")) {
        t.kind = Kind::Postgres;
        t.pgDsn = url;
        return t;
    }
    if (url.startsWith(u"sqlite:")) {
        t.kind = Kind::Sqlite;
        t.sqlitePath = url.mid(7);
        if (!t.sqlitePath.isEmpty())
            return t;
        *error = u"“%1” names no file: sqlite:PATH"_s.arg(url);
        return std::nullopt;
    }
    if (url.startsWith(u"kafka://")) {
        const QString rest = url.mid(8);
        const qsizetype slash = rest.indexOf(u'/');
        if (slash <= 0 || slash == rest.size() - 1) {
            *error = u"“%1” needs brokers and a topic: kafka://BROKERS/TOPIC"_s.arg(url);
            return std::nullopt;
        }
        t.kind = Kind::Kafka;
        t.kafka.bootstrap = rest.left(slash);
        t.kafkaTopic = rest.mid(slash + 1);
        return t;
    }
    // Only the scheme is repeated: the rest may hold a password.
    *error = u"“%1:...” is not a target: postgresql://..., sqlite:PATH or kafka://BROKERS/TOPIC"_s.arg(url.section(u':', 0, 0));
    return std::nullopt;
}

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
