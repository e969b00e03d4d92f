#include "connectors/sinks/sinkfactory.h"

#include "connectors/kafka/kafkasink.h"
#include "connectors/postgres/sink/pgsink.h"
#include "connectors/postgres/sink/pgtablereader.h"
#include "connectors/sqlite/sqlitesink.h"
#include "connectors/sqlite/sqlitetablereader.h"

using namespace Qt::StringLiterals;

namespace tapedeck {

std::unique_ptr<Sink> createSink(const ReplayTarget &target, QString *error)
{
    switch (target.kind) {
    case ReplayTarget::Kind::Sqlite:
        if (target.sqlitePath.isEmpty())
            break;
        return std::make_unique<SqliteSink>(target.sqlitePath, SqliteSink::Options{target.createTables, target.confirmCreateTable});
    case ReplayTarget::Kind::Postgres:
        if (target.pgDsn.trimmed().isEmpty())
            break;
        return std::make_unique<PgSink>(target.pgDsn, PgSink::Options{target.createTables, true, target.confirmCreateTable,
                                                                     std::max(1, target.connections)});
    case ReplayTarget::Kind::Kafka:
        if (target.kafka.bootstrapServers().isEmpty() || target.kafkaTopic.isEmpty())
            break;
        return std::make_unique<KafkaSink>(target.kafka, target.kafkaTopic);
    }
    *error = u"no target to replay into: %1 is incomplete"_s.arg(target.describe());
    return nullptr;
}

std::unique_ptr<TableReader> createTableReader(const ReplayTarget &target, QString *error)
{
    switch (target.kind) {
    case ReplayTarget::Kind::Sqlite:
        if (target.sqlitePath.isEmpty())
            break;
        return std::make_unique<SqliteTableReader>(target.sqlitePath);
    case ReplayTarget::Kind::Postgres:
        if (target.pgDsn.trimmed().isEmpty())
            break;
        return std::make_unique<PgTableReader>(target.pgDsn);
    case ReplayTarget::Kind::Kafka:
        *error = u"a Kafka topic is not a table: compare with an SQLite file or a PostgreSQL table"_s;
        return nullptr;
    }
    *error = u"no table to compare with: %1 is incomplete"_s.arg(target.describe());
    return nullptr;
}

} // namespace tapedeck
