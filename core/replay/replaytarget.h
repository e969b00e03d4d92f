#pragma once

#include "core/kafka/kafkaconnection.h"
#include "core/sink/sink.h"

#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace tapedeck {

// Where a replay writes, as plain data: the GUI fills it from a form and a
// SinkFactory (implemented in connectors, injected by app/tapedeck) turns it
// into a Sink, so that ui never links libpq or librdkafka. Secrets (the
// PostgreSQL password, secret Kafka properties) are held in memory only.
struct ReplayTarget
{
    enum class Kind { Sqlite, Postgres, Kafka };
    Kind kind = Kind::Sqlite;
    QString sqlitePath;
    QString pgDsn;           // libpq conninfo or URI, with the typed password
    KafkaConnection kafka;   // with the typed secrets
    QString kafkaTopic;
    bool createTables = false; // SQL targets: create a missing table from the first output's shape
    int connections = 1;       // PostgreSQL: connections writing at once (PgSink lanes)
    // With createTables: asked on the sink's thread before each creation, with
    // the table and the exact CREATE TABLE statement; false declines (the
    // replay stops with an error). Unset: create without asking.
    std::function<bool(const QString &table, const QString &statement)> confirmCreateTable;

    // The one reading of a target URL, for the CLI's --into/--against and
    // anything else that takes a target as text: "postgresql://..." or
    // "postgres://..." (a libpq URI, kept whole), "sqlite:PATH",
    // "kafka://BROKERS/TOPIC" (Kafka properties are added by the caller).
    // nullopt + *error (which names the URL) otherwise.
    static std::optional<ReplayTarget> fromUrl(const QString &url, QString *error);

    // "sqlite:/tmp/x.db", "postgresql://user@host/db" (never the password), "kafka://host:9092/topic".
    QString describe() const;
    // ctx.target as transforms see it: "sqlite", "postgresql", "kafka".
    QString contextName() const;
};

// Creates the sink for a target, or nullptr + *error. Called on the thread
// that will use the sink (the replay's worker thread); must be thread-safe.
using SinkFactory = std::function<std::unique_ptr<Sink>(const ReplayTarget &target, QString *error)>;

class TableReader; // tablediff.h
// Creates a reader of a live table (SQLite or PostgreSQL targets) for the
// diff, not yet opened, or nullptr + *error. Thread-safe, as SinkFactory.
using TableReaderFactory = std::function<std::unique_ptr<TableReader>(const ReplayTarget &target, QString *error)>;

} // namespace tapedeck
