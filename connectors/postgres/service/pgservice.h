#pragma once

#include "core/postgres/postgresservice.h"

namespace tapedeck {

// PostgresService on libpq (PgAdmin, PgRecorder). Stateless: every call
// opens its own connection, so it is safe from any thread.
class LibpqPostgresService : public PostgresService
{
public:
    std::optional<PgServerInfo> settings(const QString &dsn, QString *error) override;
    std::optional<QList<PgSlotInfo>> listSlots(const QString &dsn, QString *error) override;
    std::optional<QList<PgPublicationInfo>> publications(const QString &dsn, QString *error) override;
    bool createSlot(const QString &dsn, const QString &name, const QString &plugin, QString *error) override;
    bool dropSlot(const QString &dsn, const QString &name, QString *error) override;
    bool createPublication(const QString &dsn, const QString &name, const QStringList &tables, QString *error) override;
    bool dropPublication(const QString &dsn, const QString &name, QString *error) override;
    std::unique_ptr<RecordingSource> recorder(const PgRecordOptions &options) override;
};

} // namespace tapedeck
