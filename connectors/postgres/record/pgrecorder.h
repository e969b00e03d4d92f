#pragma once

#include "connectors/postgres/pgadmin.h"
#include "connectors/postgres/decode/pgdecoder.h"

#include "core/postgres/pgtypes.h"
#include "core/tape/recordingsource.h"
#include "core/tape/tapewriter.h"

#include <QJsonObject>

#include <atomic>
#include <functional>

namespace tapedeck {

class PgReplicationStream;

// Records a PostgreSQL logical replication slot into a tape.
// Thread: prepare() and record() block; run them in a worker and stop record() through `cancel`.
// The GUI gets one from PostgresService::recorder() as a RecordingSource.
class PgRecorder : public RecordingSource
{
public:
    explicit PgRecorder(PgRecordOptions options);

    // Checks server settings, the slot, the plugin and the publications, and
    // reads the catalogue. false + *error ("slot \"x\" does not exist ...").
    bool prepare(QString *error) override;
    // Kind Postgres, source(), parameters(), recorded now; createdBy "tapedeck <version>".
    TapeMetadata metadata() const override;
    QJsonObject parameters() const;
    QString source() const;   // "postgresql://user@host:port/db slot x (copy, pgoutput)"
    QString database() const { return m_catalog.database; }
    QString plugin() const { return m_plugin; }
    QStringList warnings() const override { return m_warnings; }

    // Appends events to `writer` (flushed every flushIntervalMs and at the
    // end). false + *error on a server, protocol or tape error; what was
    // flushed before stays in the tape. Progress: events stored, bytes = WAL
    // decoded since the start (-1 in peek mode).
    bool record(TapeWriter &writer, const std::atomic<bool> *cancel, const ProgressFn &progress,
                QString *error) override;
    // Row changes (and messages) stored so far, Begin/Commit not counted. Any thread.
    qint64 changes() const { return m_changes.load(); }
    // Read events of the starting image stored so far. Any thread.
    qint64 snapshotRows() const { return m_snapshotRows.load(); }
    // The snapshot's consistent point (LSN), -1 before it was taken / without --snapshot.
    qint64 snapshotLsn() const { return m_snapshotLsn.load(); }
    // Called on the recording thread once the snapshot is imported and before
    // its rows are read (tests change rows there to prove they are not lost).
    void setSnapshotHook(std::function<void(qint64 lsn)> hook) { m_snapshotHook = std::move(hook); }

    // The plugin options as START_REPLICATION takes them, and as SQL arguments for peek.
    QByteArray replicationOptions() const;
    QByteArray sqlOptions() const;

private:
    struct Run;
    struct Snapshot;
    struct Counters
    {
        qint64 events = 0;
        qint64 changes = 0;
        qint64 startLsn = -1;
        qint64 lsn = -1;
        qint64 endLsn = -1; // -1: open-ended
    };
    // prepare(), in stages.
    bool checkSlot(const QList<PgSlotInfo> &slots, const QString &database, QString *error);
    bool checkPublications(PgConnection &c, QString *error);
    bool prepareSnapshot(PgConnection &c, QString *error);
    // stream(), in stages: the WAL end of a bounded read, the slot, the messages.
    bool stream(Run &run, QString *error);
    bool readWalEnd(PgConnection &c, Run &run, QString *error);
    bool streamSlot(PgConnection &c, Run &run, QString *slot, QString *error);
    bool readStream(PgReplicationStream &stream, Run &run, bool bounded, QString *error);
    // Imports an exported snapshot into a REPEATABLE READ transaction that
    // stays open until writeSnapshot() has read the tables.
    bool importSnapshot(Run &run, const QByteArray &name, qint64 point, QString *error);
    // The same with the snapshot of a helper temporary slot created (and
    // dropped) here: copy, peek and consume read a slot that exports nothing.
    bool helperSnapshot(Run &run, QString *error);
    bool writeSnapshot(Run &run, QString *error);
    bool peek(Run &run, QString *error);
    QList<std::pair<QByteArray, QByteArray>> pluginOptions() const;

    PgRecordOptions m_options;
    QString m_plugin;
    QString m_connection; // describe(), no password
    PgCatalog m_catalog;
    PgSlotInfo m_slot;
    PgServerInfo m_server;
    QStringList m_warnings;
    QStringList m_snapshotTables; // validated "schema.table" names
    std::atomic<qint64> m_changes{0};
    std::atomic<qint64> m_snapshotRows{0};
    std::atomic<qint64> m_snapshotLsn{-1};
    std::function<void(qint64)> m_snapshotHook;
};

} // namespace tapedeck
