#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace tapedeck {

// Plain values describing a PostgreSQL server's logical replication state,
// shared by connectors/postgres (which fills them) and ui/ (which shows them).

struct PgServerInfo
{
    QString connection;           // postgresql://user@host:port/db, never a password
    QString version;              // server_version
    QString database;
    QString walLevel;
    int maxReplicationSlots = 0;
    QString maxSlotWalKeepSize;   // "-1" = unlimited
    QString outputPluginLibraries; // empty when the setting does not exist (before 15.19)
    qint64 currentLsn = -1;
    bool superuser = false;
    bool replicationRole = false;

    // Why logical decoding cannot work here, or empty when it can.
    QString logicalDecodingProblem() const;
    // Why `plugin` will be refused (wal2json not in output_plugin_libraries), or empty.
    QString pluginProblem(const QString &plugin) const;
};

struct PgSlotInfo
{
    QString name;
    QString plugin;
    QString slotType;   // "logical" / "physical"
    QString database;
    bool temporary = false;
    bool active = false;
    qint64 activePid = -1;
    qint64 restartLsn = -1;
    qint64 confirmedFlushLsn = -1;
    qint64 retainedBytes = -1; // WAL kept for this slot: current LSN - restart_lsn
    QString walStatus;         // reserved / extended / unreserved / lost

    static constexpr qint64 LargeRetainedBytes = 1LL << 30; // warn above 1 GiB
    bool retainsALot() const { return retainedBytes > LargeRetainedBytes; }
};

struct PgPublicationInfo
{
    QString name;
    bool allTables = false;
    QStringList tables; // "schema.table"
};

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
    // Starting image: "schema.table" (or "table" = public.table) read in one
    // snapshot and stored as Read events before the first transaction that
    // commits after it (pgoutput only; connectors/postgres/README.md).
    QStringList snapshotTables;
};

// A column type from a tape or an output, as PostgreSQL's CREATE TABLE may
// use it: a built-in type from a closed list, with digits-only modifiers and
// array brackets, printed anew ("character varying(20)[]",
// "timestamp(3) with time zone"). Anything else (user types, schemas,
// DEFAULT, COLLATE, quotes, a second column) is nullopt: the caller uses
// text. Type names from a tape never reach SQL unparsed.
std::optional<QString> pgTypeForCreate(const QString &type);

// Connection strings (libpq conninfo "host=... dbname=..." or a
// postgresql:// URI) without and with a password. Profiles are stored
// without one; the password typed in the connection dialog is added in
// memory only. `hadPassword` says whether one was removed.
// Secrets are `password` and `sslpassword` (also percent-encoded, as libpq
// reads URI parameter names) and a URI's "user:password@".
QString pgDsnWithoutPassword(const QString &dsn, bool *hadPassword = nullptr);
QString pgDsnWithPassword(const QString &dsn, const QString &password);
// The secrets in `dsn` (as written and percent-decoded) and $PGPASSWORD,
// for scrubbing what libpq says back (it repeats a malformed DSN).
QStringList pgDsnSecrets(const QString &dsn);
// `text` with every secret replaced by "***".
QString scrubSecrets(QString text, const QStringList &secrets);
// Why libpq will not parse `dsn`, or empty (a light check, as you type).
QString pgDsnProblem(const QString &dsn);

} // namespace tapedeck
