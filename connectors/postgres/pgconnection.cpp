#include "connectors/postgres/pgconnection.h"

#include "core/postgres/pgtypes.h"

#include <libpq-fe.h>

namespace tapedeck {

namespace pg {
void ConnDeleter::operator()(pg_conn *c) const { PQfinish(c); }
void ResultDeleter::operator()(pg_result *r) const { PQclear(r); }
}

bool PgConnection::open(const QString &dsn, Kind kind, QString *error)
{
    const QByteArray conninfo = dsn.toUtf8();
    // expand_dbname: `dbname` holds the whole DSN; later keywords override it.
    const char *keys[] = {"dbname", "fallback_application_name", kind == Kind::Replication ? "replication" : nullptr, nullptr};
    const char *values[] = {conninfo.constData(), "tapedeck", "database", nullptr};
    m_conn.reset(PQconnectdbParams(keys, values, 1));
    if (!m_conn || PQstatus(m_conn.get()) != CONNECTION_OK) {
        // libpq may quote a malformed DSN, password included.
        *error = QStringLiteral("cannot connect to PostgreSQL: ") + scrubSecrets(lastError(), pgDsnSecrets(dsn));
        m_conn.reset();
        return false;
    }
    return true;
}

QString PgConnection::lastError() const
{
    if (!m_conn)
        return QStringLiteral("out of memory");
    return QString::fromUtf8(PQerrorMessage(m_conn.get())).trimmed();
}

QString PgConnection::describe() const
{
    if (!m_conn)
        return {};
    return QStringLiteral("postgresql://%1@%2:%3/%4")
        .arg(QString::fromUtf8(PQuser(m_conn.get())), QString::fromUtf8(PQhost(m_conn.get())),
             QString::fromUtf8(PQport(m_conn.get())), QString::fromUtf8(PQdb(m_conn.get())));
}

QString PgConnection::database() const
{
    return m_conn ? QString::fromUtf8(PQdb(m_conn.get())) : QString();
}

int PgConnection::serverVersion() const
{
    return m_conn ? PQserverVersion(m_conn.get()) : 0;
}

pg::ResultPtr PgConnection::exec(const QByteArray &sql, const QList<std::optional<QByteArray>> &params, QString *error,
                                 bool binaryResults)
{
    QList<const char *> values;
    for (const auto &p : params)
        values.append(p ? p->constData() : nullptr);
    pg::ResultPtr r(PQexecParams(m_conn.get(), sql.constData(), int(params.size()), nullptr, values.constData(), nullptr,
                                 nullptr, binaryResults ? 1 : 0));
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        *error = QString::fromUtf8(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(m_conn.get())).trimmed();
        if (error->isEmpty())
            *error = lastError();
        return nullptr;
    }
    return r;
}

pg::ResultPtr PgConnection::command(const QByteArray &sql, QString *error)
{
    pg::ResultPtr r(PQexec(m_conn.get(), sql.constData()));
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        *error = QString::fromUtf8(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(m_conn.get())).trimmed();
        if (error->isEmpty())
            *error = lastError();
        return nullptr;
    }
    return r;
}

QByteArray PgConnection::value(const pg::ResultPtr &r, int row, int column)
{
    return QByteArray(PQgetvalue(r.get(), row, column), PQgetlength(r.get(), row, column));
}

bool PgConnection::isNull(const pg::ResultPtr &r, int row, int column)
{
    return PQgetisnull(r.get(), row, column);
}

int PgConnection::rows(const pg::ResultPtr &r)
{
    return PQntuples(r.get());
}

QByteArray PgConnection::quoteLiteral(const QByteArray &text)
{
    QByteArray out("'");
    for (const char c : text)
        out += c == '\'' ? QByteArrayLiteral("''") : QByteArray(1, c);
    return out + '\'';
}

QByteArray PgConnection::quoteIdentifier(const QByteArray &text)
{
    QByteArray out("\"");
    for (const char c : text)
        out += c == '"' ? QByteArrayLiteral("\"\"") : QByteArray(1, c);
    return out + '"';
}

} // namespace tapedeck
