#pragma once

#include "connectors/postgres/decode/pgchange.h"
#include "connectors/postgres/pgconnection.h"

#include "core/postgres/pgtypes.h"

#include <QList>
#include <QString>

#include <optional>

namespace tapedeck {

// The slot browser's data and actions, as plain values. Every call opens its
// own connection and blocks: call it from a worker thread, never the GUI's.
class PgAdmin
{
public:
    explicit PgAdmin(QString dsn) : m_dsn(std::move(dsn)) {}

    std::optional<PgServerInfo> serverInfo(QString *error) const;
    std::optional<QList<PgSlotInfo>> slots(QString *error) const;
    std::optional<QList<PgPublicationInfo>> publications(QString *error) const;
    // Type names, primary keys and column lists of the connected database.
    std::optional<PgCatalog> catalog(QString *error) const;

    bool createSlot(const QString &name, const QString &plugin, QString *error) const;
    bool dropSlot(const QString &name, QString *error) const;
    // tables empty: FOR ALL TABLES.
    bool createPublication(const QString &name, const QStringList &tables, QString *error) const;
    bool dropPublication(const QString &name, QString *error) const;

    // Static helpers on an open connection, shared with the recorder.
    static std::optional<PgServerInfo> serverInfo(PgConnection &c, QString *error);
    static std::optional<QList<PgSlotInfo>> slots(PgConnection &c, QString *error);
    static std::optional<PgCatalog> catalog(PgConnection &c, QString *error);
    // Adds a hint to server errors whose fix is a setting (output_plugin_libraries, wal_level...).
    static QString explain(const QString &serverError);

private:
    bool run(const QByteArray &sql, const QList<std::optional<QByteArray>> &params, QString *error) const;
    QString m_dsn;
};

} // namespace tapedeck
