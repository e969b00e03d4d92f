#pragma once

#include "pgconnection.h"

#include <sink.h>
#include <sqlrows.h>
#include <varint.h>

#include <QHash>
#include <QString>

#include <functional>

#include <QSet>

namespace tapedeck {

// Replays into PostgreSQL. One transaction per batch: the batch's rows
// (SqlRows; SinkOutputs are converted), collapsed to the last operation per
// table and key (one ON CONFLICT statement may not touch a row twice),
// written as
//   DELETE ... USING unnest($1::type[], ...)         (deletes)
//   INSERT ... SELECT ... FROM unnest(...) ON CONFLICT (key) DO UPDATE ...
//     WHERE (row) IS DISTINCT FROM (EXCLUDED row)   (upserts; unchanged rows untouched)
//   COPY ... FROM STDIN                              (inserts, and upserts of keys
//                                                     that cannot exist yet)
// plus the batch's rows in tapedeck_replay_progress (replay.md). Identifiers
// are quoted, values are parameters or COPY data. "Cannot exist yet": the
// table was empty when this replay (with no committed progress) first touched
// it and the key was not written since; the replay is then assumed to be the
// table's only writer.
// Thread: one thread at a time (the replay engine writes from its writer thread).
class PgSink : public Sink
{
public:
    struct Options
    {
        bool createTables = false;
        bool copyFastPath = true;
        // Asked (on the sink's thread) before a missing table is created,
        // with the table and the exact statement; false declines. Unset: create.
        std::function<bool(const QString &table, const QString &statement)> confirmCreate;
    };
    PgSink(QString dsn, Options options);
    ~PgSink() override;

    QString describe() const override;
    bool open(const QString &replayId, QString *error) override;
    QList<ReplayPosition> committed() const override { return m_committed; }
    bool write(const QList<SinkOutput> &outputs, const QList<ReplayPosition> &progress, QString *error) override;
    SinkOutput::Kind accepts() const override { return SinkOutput::Kind::Sql; }
    bool acceptsRows() const override { return true; }
    bool writeRows(const SqlBatch &rows, const QList<ReplayPosition> &progress, QString *error) override;

    // One row of a batch: its SqlRows and its entry there.
    struct RowRef
    {
        const SqlRows *rows;
        const SqlRows::Row *row;
        const SqlRows::Shape &shape() const { return rows->shape(*row); }
        const SqlCell *cells() const { return rows->cells(*row); }
        const SqlCell *keyCells() const { return rows->keyCells(*row); }
    };

    // Rows sent by COPY and by statements so far (for benchmarks and tests).
    qint64 copiedRows() const { return m_copied; }
    qint64 statementRows() const { return m_statementRows; }
    // Rows left out of a rebuild because a later row of the replay writes their key.
    qint64 supersededRows() const { return m_superseded; }

private:
    struct Table
    {
        QByteArray quoted;               // "schema"."name"
        QHash<QString, QString> types;   // column -> format_type()
        bool fastPath = false;
        // Hashes of the keys written while fastPath: a collision only sends
        // a row by the upsert path, which is always correct.
        QSet<size_t> written;
    };
    Table *table(const QString &name, const SqlRows::Shape &shape, SqlOp op, QString *error);
    bool writeTable(Table &t, const QList<RowRef> &deletes, const QList<RowRef> &upserts, const QList<RowRef> &inserts,
                    QString *error);
    bool copy(Table &t, const QList<RowRef> &rows, QString *error);
    bool upsert(Table &t, const QList<RowRef> &rows, QString *error);
    bool remove(Table &t, const QList<RowRef> &rows, QString *error);
    QList<std::optional<QByteArray>> arrays(const QList<RowRef> &rows, qsizetype columns, bool key);
    bool missingColumn(const Table &t, const QString &column, qint64 seq, QString *error);
    bool fail(const QString &what, QString *error);

    QString m_dsn;
    Options m_options;
    QString m_replayId;
    PgConnection m_conn;
    QList<ReplayPosition> m_committed;
    QHash<QString, Table> m_tables;
    ByteBuffer m_buffer; // COPY data and array parameters, reused
    qint64 m_copied = 0;
    qint64 m_superseded = 0;
    qint64 m_statementRows = 0;
};

} // namespace tapedeck
