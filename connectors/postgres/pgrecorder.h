#pragma once

#include "pgadmin.h"
#include "pgdecoder.h"

#include <pgtypes.h>
#include <recordingsource.h>
#include <tapewriter.h>

#include <QJsonObject>

#include <atomic>
#include <functional>

namespace tapedeck {

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

    // The plugin options as START_REPLICATION takes them, and as SQL arguments for peek.
    QByteArray replicationOptions() const;
    QByteArray sqlOptions() const;

private:
    struct Run;
    struct Counters
    {
        qint64 events = 0;
        qint64 changes = 0;
        qint64 startLsn = -1;
        qint64 lsn = -1;
        qint64 endLsn = -1; // -1: open-ended
    };
    bool stream(Run &run, QString *error);
    bool peek(Run &run, QString *error);
    QList<std::pair<QByteArray, QByteArray>> pluginOptions() const;

    PgRecordOptions m_options;
    QString m_plugin;
    QString m_connection; // describe(), no password
    PgCatalog m_catalog;
    PgSlotInfo m_slot;
    PgServerInfo m_server;
    QStringList m_warnings;
    std::atomic<qint64> m_changes{0};
};

} // namespace tapedeck
