#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <memory>
#include <optional>

struct pg_conn;
struct pg_result;

namespace tapedeck {

namespace pg {
struct ConnDeleter { void operator()(pg_conn *c) const; };
struct ResultDeleter { void operator()(pg_result *r) const; };
using ResultPtr = std::unique_ptr<pg_result, ResultDeleter>;
}

// One libpq connection, owned by one thread. The DSN (a conninfo string or a
// postgresql:// URI) goes to libpq unchanged, so PG* environment variables and
// ~/.pgpass work as in psql.
class PgConnection
{
public:
    enum class Kind { Sql, Replication }; // Replication: replication=database (walsender commands and SQL)

    bool open(const QString &dsn, Kind kind, QString *error);
    bool isOpen() const { return bool(m_conn); }
    pg_conn *handle() const { return m_conn.get(); }

    // Runs a statement with text parameters (nullopt = NULL); rows as text
    // (bytea as its hex text form unless binaryResults). nullptr + *error on failure.
    pg::ResultPtr exec(const QByteArray &sql, const QList<std::optional<QByteArray>> &params, QString *error,
                       bool binaryResults = false);
    // A walsender command (CREATE_REPLICATION_SLOT ...) with the simple protocol.
    pg::ResultPtr command(const QByteArray &sql, QString *error);

    QString lastError() const;
    QString describe() const; // "postgres@127.0.0.1:54329/db"
    QString database() const;
    int serverVersion() const;

    static QByteArray value(const pg::ResultPtr &r, int row, int column);
    static bool isNull(const pg::ResultPtr &r, int row, int column);
    static int rows(const pg::ResultPtr &r);
    static QByteArray quoteLiteral(const QByteArray &text);
    static QByteArray quoteIdentifier(const QByteArray &text);

private:
    std::unique_ptr<pg_conn, pg::ConnDeleter> m_conn;
};

} // namespace tapedeck
