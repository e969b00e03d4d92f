#pragma once

#include "pgadmin.h"
#include "pgdecoder.h"

#include <tapewriter.h>

#include <QJsonObject>

#include <atomic>
#include <functional>

namespace tapedeck {

// How a recording reads a slot. Only Consume ever moves the user's slot.
enum class PgReadMode {
    Copy,      // read a temporary copy of the slot to the current WAL end (default; the slot may be in use)
    Peek,      // pg_logical_slot_peek_*_changes in bounded windows (the slot must be inactive)
    Temporary, // a new temporary slot, streaming changes from now on until cancelled or the limit
    Consume,   // stream the slot itself and confirm what was stored (explicit choice only)
};
QString toString(PgReadMode mode);
std::optional<PgReadMode> pgReadModeFromString(const QString &text);

struct PgRecordOptions
{
    QString dsn;               // conninfo or URI, passed to libpq unchanged
    QString slot;              // required except for Temporary
    QString plugin;            // empty: the slot's plugin (Temporary: pgoutput)
    QStringList publications;  // pgoutput only
    PgReadMode mode = PgReadMode::Copy;
    qint64 limit = -1;         // stop after the transaction that reaches this many changes
    bool follow = false;       // Consume: keep going after the WAL end (Temporary always follows)
    int flushIntervalMs = 250;
    qint64 peekWindowBytes = 256LL << 20; // WAL decoded per peek call
    int idleEndMs = 1000;      // Copy/Consume: caught up when the server stays idle this long
};

// Records a PostgreSQL logical replication slot into a tape.
// Thread: prepare() and record() block; run them in a worker and stop record() through `cancel`.
class PgRecorder
{
public:
    explicit PgRecorder(PgRecordOptions options);

    // Checks server settings, the slot, the plugin and the publications, and
    // reads the catalogue. false + *error ("slot \"x\" does not exist ...").
    bool prepare(QString *error);
    QJsonObject parameters() const;
    QString source() const;   // "postgresql://user@host:port/db slot x (copy, pgoutput)"
    QString database() const { return m_catalog.database; }
    QString plugin() const { return m_plugin; }
    QStringList warnings() const { return m_warnings; }

    struct Progress
    {
        qint64 events = 0;
        qint64 changes = 0;
        qint64 lsn = -1;
        qint64 endLsn = -1; // -1: open-ended
    };
    using ProgressFn = std::function<void(const Progress &)>;

    // Appends events to `writer` (flushed every flushIntervalMs and at the
    // end). false + *error on a server, protocol or tape error; what was
    // flushed before stays in the tape.
    bool record(TapeWriter &writer, const std::atomic<bool> *cancel, const ProgressFn &progress, QString *error);

    // The plugin options as START_REPLICATION takes them, and as SQL arguments for peek.
    QByteArray replicationOptions() const;
    QByteArray sqlOptions() const;

private:
    struct Run;
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
};

} // namespace tapedeck
