#include "connectors/postgres/service/pgservice.h"

#include "connectors/postgres/pgadmin.h"
#include "connectors/postgres/record/pgrecorder.h"

namespace tapedeck {

std::optional<PgServerInfo> LibpqPostgresService::settings(const QString &dsn, QString *error)
{
    return PgAdmin(dsn).serverInfo(error);
}

std::optional<QList<PgSlotInfo>> LibpqPostgresService::listSlots(const QString &dsn, QString *error)
{
    return PgAdmin(dsn).slots(error);
}

std::optional<QList<PgPublicationInfo>> LibpqPostgresService::publications(const QString &dsn, QString *error)
{
    return PgAdmin(dsn).publications(error);
}

bool LibpqPostgresService::createSlot(const QString &dsn, const QString &name, const QString &plugin, QString *error)
{
    return PgAdmin(dsn).createSlot(name, plugin, error);
}

bool LibpqPostgresService::dropSlot(const QString &dsn, const QString &name, QString *error)
{
    return PgAdmin(dsn).dropSlot(name, error);
}

bool LibpqPostgresService::createPublication(const QString &dsn, const QString &name, const QStringList &tables,
                                             QString *error)
{
    return PgAdmin(dsn).createPublication(name, tables, error);
}

bool LibpqPostgresService::dropPublication(const QString &dsn, const QString &name, QString *error)
{
    return PgAdmin(dsn).dropPublication(name, error);
}

std::unique_ptr<RecordingSource> LibpqPostgresService::recorder(const PgRecordOptions &options)
{
    return std::make_unique<PgRecorder>(options);
}

} // namespace tapedeck
