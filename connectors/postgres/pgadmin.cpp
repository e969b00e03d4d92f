#include "connectors/postgres/pgadmin.h"

namespace tapedeck {

QString PgAdmin::explain(const QString &serverError)
{
    if (serverError.contains(QLatin1String("may not be used as an output plugin")))
        return serverError + QStringLiteral(" (allow it in the server setting output_plugin_libraries)");
    if (serverError.contains(QLatin1String("wal_level")))
        return serverError + QStringLiteral(" (logical decoding needs wal_level = logical and a server restart)");
    return serverError;
}

std::optional<PgServerInfo> PgAdmin::serverInfo(PgConnection &c, QString *error)
{
    const auto r = c.exec(
        "SELECT current_setting('server_version'), current_database(), current_setting('wal_level'),"
        " current_setting('max_replication_slots')::int, current_setting('max_slot_wal_keep_size'),"
        " current_setting('output_plugin_libraries', true),"
        " CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END::text,"
        " rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user", {}, error);
    if (!r)
        return std::nullopt;
    PgServerInfo info;
    info.connection = c.describe();
    info.version = QString::fromUtf8(PgConnection::value(r, 0, 0));
    info.database = QString::fromUtf8(PgConnection::value(r, 0, 1));
    info.walLevel = QString::fromUtf8(PgConnection::value(r, 0, 2));
    info.maxReplicationSlots = PgConnection::value(r, 0, 3).toInt();
    info.maxSlotWalKeepSize = QString::fromUtf8(PgConnection::value(r, 0, 4));
    info.outputPluginLibraries = QString::fromUtf8(PgConnection::value(r, 0, 5));
    info.currentLsn = pgchange::parseLsn(PgConnection::value(r, 0, 6));
    info.superuser = PgConnection::value(r, 0, 7) == "t";
    info.replicationRole = PgConnection::value(r, 0, 8) == "t";
    return info;
}

std::optional<QList<PgSlotInfo>> PgAdmin::slots(PgConnection &c, QString *error)
{
    const auto r = c.exec(
        "SELECT slot_name, coalesce(plugin, ''), slot_type, coalesce(database, ''), temporary, active,"
        " active_pid, restart_lsn::text, confirmed_flush_lsn::text,"
        " pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,"
        " restart_lsn)::bigint, coalesce(wal_status, '')"
        " FROM pg_replication_slots ORDER BY slot_name", {}, error);
    if (!r)
        return std::nullopt;
    QList<PgSlotInfo> out;
    for (int i = 0; i < PgConnection::rows(r); ++i) {
        PgSlotInfo s;
        s.name = QString::fromUtf8(PgConnection::value(r, i, 0));
        s.plugin = QString::fromUtf8(PgConnection::value(r, i, 1));
        s.slotType = QString::fromUtf8(PgConnection::value(r, i, 2));
        s.database = QString::fromUtf8(PgConnection::value(r, i, 3));
        s.temporary = PgConnection::value(r, i, 4) == "t";
        s.active = PgConnection::value(r, i, 5) == "t";
        if (!PgConnection::isNull(r, i, 6))
            s.activePid = PgConnection::value(r, i, 6).toLongLong();
        s.restartLsn = pgchange::parseLsn(PgConnection::value(r, i, 7));
        s.confirmedFlushLsn = pgchange::parseLsn(PgConnection::value(r, i, 8));
        if (!PgConnection::isNull(r, i, 9))
            s.retainedBytes = PgConnection::value(r, i, 9).toLongLong();
        s.walStatus = QString::fromUtf8(PgConnection::value(r, i, 10));
        out.append(s);
    }
    return out;
}

std::optional<PgCatalog> PgAdmin::catalog(PgConnection &c, QString *error)
{
    PgCatalog catalog;
    catalog.database = c.database();
    auto r = c.exec("SELECT oid, format_type(oid, NULL) FROM pg_type", {}, error);
    if (!r)
        return std::nullopt;
    for (int i = 0; i < PgConnection::rows(r); ++i)
        catalog.typeNames.insert(PgConnection::value(r, i, 0).toUInt(), QString::fromUtf8(PgConnection::value(r, i, 1)));
    r = c.exec("SELECT n.nspname || '.' || c.relname, a.attname, coalesce(a.attnum = ANY(i.indkey), false),"
               " format_type(a.atttypid, NULL)"
               " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
               " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
               " LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary"
               " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
               " ORDER BY 1, a.attnum", {}, error);
    if (!r)
        return std::nullopt;
    for (int i = 0; i < PgConnection::rows(r); ++i) {
        const QString table = QString::fromUtf8(PgConnection::value(r, i, 0));
        const QString column = QString::fromUtf8(PgConnection::value(r, i, 1));
        catalog.columnNames[table].append(column);
        catalog.columnTypes[table].append(QString::fromUtf8(PgConnection::value(r, i, 3)));
        if (PgConnection::value(r, i, 2) == "t")
            catalog.primaryKeys[table].append(column);
    }
    return catalog;
}

std::optional<PgServerInfo> PgAdmin::serverInfo(QString *error) const
{
    PgConnection c;
    if (!c.open(m_dsn, PgConnection::Kind::Sql, error))
        return std::nullopt;
    return serverInfo(c, error);
}

std::optional<QList<PgSlotInfo>> PgAdmin::slots(QString *error) const
{
    PgConnection c;
    if (!c.open(m_dsn, PgConnection::Kind::Sql, error))
        return std::nullopt;
    return slots(c, error);
}

std::optional<PgCatalog> PgAdmin::catalog(QString *error) const
{
    PgConnection c;
    if (!c.open(m_dsn, PgConnection::Kind::Sql, error))
        return std::nullopt;
    return catalog(c, error);
}

std::optional<QList<PgPublicationInfo>> PgAdmin::publications(QString *error) const
{
    PgConnection c;
    if (!c.open(m_dsn, PgConnection::Kind::Sql, error))
        return std::nullopt;
    const auto r = c.exec("SELECT p.pubname, p.puballtables, coalesce(string_agg(t.schemaname || '.' || t.tablename, ','"
                          " ORDER BY t.schemaname, t.tablename), '')"
                          " FROM pg_publication p LEFT JOIN pg_publication_tables t ON t.pubname = p.pubname"
                          " GROUP BY p.pubname, p.puballtables ORDER BY p.pubname", {}, error);
    if (!r)
        return std::nullopt;
    QList<PgPublicationInfo> out;
    for (int i = 0; i < PgConnection::rows(r); ++i) {
        PgPublicationInfo p;
        p.name = QString::fromUtf8(PgConnection::value(r, i, 0));
        p.allTables = PgConnection::value(r, i, 1) == "t";
        p.tables = QString::fromUtf8(PgConnection::value(r, i, 2)).split(QLatin1Char(','), Qt::SkipEmptyParts);
        out.append(p);
    }
    return out;
}

bool PgAdmin::run(const QByteArray &sql, const QList<std::optional<QByteArray>> &params, QString *error) const
{
    PgConnection c;
    if (!c.open(m_dsn, PgConnection::Kind::Sql, error))
        return false;
    if (!c.exec(sql, params, error)) {
        *error = explain(*error);
        return false;
    }
    return true;
}

bool PgAdmin::createSlot(const QString &name, const QString &plugin, QString *error) const
{
    return run("SELECT pg_create_logical_replication_slot($1, $2)", {name.toUtf8(), plugin.toUtf8()}, error);
}

bool PgAdmin::dropSlot(const QString &name, QString *error) const
{
    return run("SELECT pg_drop_replication_slot($1)", {name.toUtf8()}, error);
}

bool PgAdmin::createPublication(const QString &name, const QStringList &tables, QString *error) const
{
    QByteArray sql = "CREATE PUBLICATION " + PgConnection::quoteIdentifier(name.toUtf8());
    if (tables.isEmpty()) {
        sql += " FOR ALL TABLES";
    } else {
        sql += " FOR TABLE ";
        for (int i = 0; i < tables.size(); ++i) {
            if (i)
                sql += ", ";
            const QStringList parts = tables[i].split(QLatin1Char('.'));
            for (int j = 0; j < parts.size(); ++j)
                sql += (j ? "." : "") + PgConnection::quoteIdentifier(parts[j].toUtf8());
        }
    }
    return run(sql, {}, error);
}

bool PgAdmin::dropPublication(const QString &name, QString *error) const
{
    return run("DROP PUBLICATION " + PgConnection::quoteIdentifier(name.toUtf8()), {}, error);
}

} // namespace tapedeck
