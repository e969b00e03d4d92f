#pragma once

#include "connectors/postgres/pgconnection.h"

#include "core/sink/sink.h"
#include "core/sink/sqlrows.h"
#include "core/base/varint.h"

#include <QHash>
#include <QString>

#include <functional>
#include <memory>
#include <vector>

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
//
// Lanes (Options::connections > 1): the rows of tables that allow it go by
// a stable hash of their key to one of N connections, which write their
// share of a batch at the same time, each in its own transaction with its
// own progress rows ("STREAM (lane K of N)"); they commit in lane order
// once all have succeeded, and all roll back otherwise (a lane that waits
// too long for a lock sends the batch again by lane 1 alone). A rerun
// resumes at the batch every lane committed and leaves out the rows the
// lanes had committed, so every key's versions arrive in order (replay.md,
// "Lanes"). Tables with foreign keys (either way),
// triggers, other unique indexes or exclusion constraints, keyless inserts,
// and every row of a batch that creates a table go by lane 1 only. A
// replay id keeps the lanes of its first run.
// Thread: one thread at a time (the replay engine writes from its writer
// thread); lanes 2..N use threads of their own inside writeRows().
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
        // Connections writing at once (lanes); the first run of a replay id fixes it.
        int connections = 1;
        // How long a lane waits for a lock before its batch goes again by lane 1 alone.
        int laneLockTimeoutMs = 20000;
        // How long open() waits for another run of the same replay id into the
        // same database to end (see open()).
        int replayLockTimeoutMs = 30000;
        // Failure injection for tests: called before lane `lane` (0-based) commits a batch.
        std::function<void(int lane)> beforeCommit;
    };
    PgSink(QString dsn, Options options);
    ~PgSink() override;

    QString describe() const override;
    bool open(const QString &replayId, QString *error) override;
    QList<ReplayPosition> committed() const override { return m_committed; }
    bool write(const QList<SinkOutput> &outputs, const QList<ReplayPosition> &progress, QString *error) override;
    SinkOutput::Kind accepts() const override { return SinkOutput::Kind::Sql; }
    bool acceptsRows() const override { return true; }
    // Ends the sessions (and with them the replay id's lock, see open()).
    void close() override { m_lanes.clear(); }
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
    qint64 copiedRows() const;
    qint64 statementRows() const;
    // Connections in use: Options::connections, or what the replay id's first run used.
    int lanes() const { return int(m_lanes.size()); }
    // Rows each lane wrote so far (COPY and statements).
    QList<qint64> laneRows() const;
    // Stable across runs and machines: which lane a key goes to.
    static quint64 laneHash(const SqlCell *keyCells, qsizetype n);
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
        bool oneLane = true; // written by lane 1 only (see the class comment)
        QList<QString> primaryKey; // its columns (lanes: rows keyed otherwise keep to lane 1)
    };
    // One connection and what it writes with.
    struct Lane
    {
        PgConnection conn;
        ByteBuffer buffer; // COPY data and array parameters, reused
        qint64 copied = 0;
        qint64 statementRows = 0;
        qint64 committedSeq = -1; // the last event whose rows this lane committed
        QString suffix;           // of its progress rows' stream names: " (lane K of N)", "" for one lane
    };
    // A lane's share of one table in a batch.
    struct Work
    {
        Table *table = nullptr;
        QList<RowRef> deletes, upserts, inserts;
    };
    // A progress row of the replay id: its lane (0-based) and position.
    struct ProgressRow
    {
        int lane;
        ReplayPosition position;
    };
    struct PerTable; // a batch's rows of one table, collapsed per key (pgsinkwrite.cpp)

    // open(), in stages (pgsink.cpp).
    bool connectLane(Lane &lane, const QByteArray &then, QString *why);
    bool lockReplayId(Lane &first, QString *error);
    bool readProgress(Lane &first, QList<ProgressRow> *rows, int *historyLanes, QString *error);
    bool openLanes(int lanes, QString *error);
    void resumeFrom(const QList<ProgressRow> &rows, int lanes);
    Table *table(const QString &name, const SqlRows::Shape &shape, SqlOp op, bool *created, QString *error);
    bool readLaneRules(Lane &lane, Table &t, QString *why);

    // writeBatch(), in stages (pgsinkwrite.cpp).
    bool writeBatch(const SqlBatch &batch, const QList<ReplayPosition> &progress, bool single, QString *error);
    bool batchTables(const SqlBatch &batch, QHash<QString, Table *> *tableOf, bool *created, QString *error);
    static void collapse(const SqlBatch &batch, const QHash<QString, Table *> &tableOf, QHash<Table *, PerTable> *perTable,
                         QList<Table *> *tableOrder);
    void share(Table &t, const PerTable &p, bool oneLane, std::vector<QList<Work>> *work, qint64 *superseded);
    bool writeLanes(const std::vector<QList<Work>> &work, const QList<ReplayPosition> &progress, QString *error);
    bool commitLanes(const QList<ReplayPosition> &progress, QString *error);
    bool writeLane(Lane &lane, const QList<Work> &work, const QList<ReplayPosition> &progress, QString *error);
    bool copy(Lane &lane, Table &t, const QList<RowRef> &rows, QString *error);
    bool upsert(Lane &lane, Table &t, const QList<RowRef> &rows, QString *error);
    bool remove(Lane &lane, Table &t, const QList<RowRef> &rows, QString *error);
    QList<std::optional<QByteArray>> arrays(Lane &lane, const QList<RowRef> &rows, qsizetype columns, bool key);
    bool missingColumn(Lane &lane, const Table &t, const QString &column, qint64 seq, QString *error);
    bool fail(Lane &lane, const QString &what, QString *error);
    void rollbackAll();

    QString m_dsn;
    Options m_options;
    QString m_replayId;
    std::vector<std::unique_ptr<Lane>> m_lanes; // [0] also reads the catalog and creates tables
    QList<ReplayPosition> m_committed;
    QHash<QString, std::shared_ptr<Table>> m_tables; // by name as written; names of one table share it
    QString m_description;
    qint64 m_superseded = 0;
};

} // namespace tapedeck
