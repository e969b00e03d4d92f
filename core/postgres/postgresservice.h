#pragma once

#include "core/postgres/pgtypes.h"
#include "core/tape/recordingsource.h"

#include <memory>
#include <optional>

namespace tapedeck {

// What the GUI may ask of PostgreSQL, implemented by connectors/postgres
// (LibpqPostgresService) and handed to the UI by app/tapedeck. `dsn` is a
// libpq conninfo or URI (with the password typed by the user, if any; libpq
// also reads ~/.pgpass and the PG* environment). Every call opens its own
// connection and blocks: call it from a worker thread. Implementations are
// thread-safe. Errors are values (*error), never dialogs.
class PostgresService
{
public:
    virtual ~PostgresService() = default;

    // The slot browser's data.
    virtual std::optional<PgServerInfo> settings(const QString &dsn, QString *error) = 0;
    virtual std::optional<QList<PgSlotInfo>> listSlots(const QString &dsn, QString *error) = 0;
    virtual std::optional<QList<PgPublicationInfo>> publications(const QString &dsn, QString *error) = 0;

    virtual bool createSlot(const QString &dsn, const QString &name, const QString &plugin, QString *error) = 0;
    virtual bool dropSlot(const QString &dsn, const QString &name, QString *error) = 0;
    // tables empty: FOR ALL TABLES.
    virtual bool createPublication(const QString &dsn, const QString &name, const QStringList &tables,
                                   QString *error) = 0;
    virtual bool dropPublication(const QString &dsn, const QString &name, QString *error) = 0;

    // A recorder for `options` (prepare() checks them), to run in a worker.
    virtual std::unique_ptr<RecordingSource> recorder(const PgRecordOptions &options) = 0;
};

} // namespace tapedeck
