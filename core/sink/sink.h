#pragma once

#include "core/event/event.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>
#include <vector>

namespace tapedeck {

class SqlRows;

// One value of a SQL output. `text` is what goes to the database as a
// parameter (nullopt: NULL), never a C++ number, so bigints, numerics and
// timestamps keep every digit. `type` is a hint used only to create a missing
// table: a PostgreSQL type name from a change event's column, or what a
// transform returned ("text", "bigint", "double precision", "boolean", "jsonb").
struct SinkValue
{
    std::optional<QByteArray> text;
    QString type;
    bool operator==(const SinkValue &) const = default;
};

struct SinkField
{
    QString name;
    SinkValue value;
    bool operator==(const SinkField &) const = default;
};

enum class SqlOp : quint8 { Upsert, Insert, Delete };

// What a transform (or the identity mapping) asks a sink to write. A value
// type; outputs cross from transform threads to the sink's thread.
struct SinkOutput
{
    enum class Kind : quint8 { Sql, Kafka };
    Kind kind = Kind::Sql;
    qint64 seq = -1; // tape sequence number of the event it came from

    // Kind::Sql: table is "schema.table" or "table".
    QString table;
    SqlOp op = SqlOp::Upsert;
    QList<SinkField> key; // the conflict/delete key (upsert, delete)
    QList<SinkField> row; // the columns to write (upsert, insert)

    // Kind::Kafka
    QString topic;
    qint32 partition = -1; // -1: the producer's partitioner
    std::optional<QByteArray> kafkaKey, kafkaValue;
    QList<Header> headers;
    bool operator==(const SinkOutput &) const = default;
};

// The last applied event of one source stream, committed together with the
// data it produced (the offsets-in-the-sink pattern, see replay.md).
struct ReplayPosition
{
    QString stream;      // ReplayEngine::streamName(): "postgres/db/public.t/0"
    qint64 position = -1; // Kafka offset or Postgres LSN of the event
    qint64 seq = -1;      // its tape sequence number
    bool operator==(const ReplayPosition &) const = default;
};

// A replay target. One thread at a time uses a sink: the replay engine opens
// it on run()'s thread and writes from its writer thread (replay.md).
// write() is atomic: either every output of the batch and the positions are
// committed, or nothing is (and the sink can be written again after open()).
class Sink
{
public:
    virtual ~Sink() = default;
    virtual QString describe() const = 0;
    // Connects and reads the positions committed earlier under `replayId`.
    virtual bool open(const QString &replayId, QString *error) = 0;
    virtual QList<ReplayPosition> committed() const = 0;
    // `progress` holds one entry per stream that advanced in this batch.
    virtual bool write(const QList<SinkOutput> &outputs, const QList<ReplayPosition> &progress, QString *error) = 0;
    virtual void close() {}
    // Which output kind the sink takes (a SQL sink rejects Kafka outputs).
    virtual SinkOutput::Kind accepts() const = 0;
    // SQL outputs as rows (sqlrows.h): the replay's fast path for the
    // identity mapping. The same contract as write(); by default the rows
    // are turned back into SinkOutputs and written by write().
    virtual bool acceptsRows() const { return false; }
    virtual bool writeRows(const std::vector<SqlRows> &rows, const QList<ReplayPosition> &progress, QString *error);
};

} // namespace tapedeck
