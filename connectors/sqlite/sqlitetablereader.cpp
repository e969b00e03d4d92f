#include "connectors/sqlite/sqlitetablereader.h"

#include "connectors/sqlite/sqlitesink.h"

#include <sqlite3.h>

#include <QMap>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

QByteArray quote(const QString &name)
{
    QByteArray q = name.toUtf8();
    q.replace('"', "\"\"");
    return '"' + q + '"';
}

} // namespace

SqliteTableReader::SqliteTableReader(QString path) : m_path(std::move(path)) {}

SqliteTableReader::~SqliteTableReader()
{
    sqlite3_finalize(m_select);
    sqlite3_close(m_db);
}

bool SqliteTableReader::open(const QString &table, QString *error)
{
    if (!m_db) {
        if (sqlite3_open_v2(m_path.toUtf8().constData(), &m_db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
            *error = u"%1: %2"_s.arg(m_path, m_db ? QString::fromUtf8(sqlite3_errmsg(m_db)) : u"cannot open"_s);
            sqlite3_close(m_db);
            m_db = nullptr;
            return false;
        }
    }
    const QString name = SqliteSink::tableName(table);
    m_quoted = quote(name);
    sqlite3_stmt *info = nullptr;
    if (sqlite3_prepare_v2(m_db, "SELECT name, type, pk FROM pragma_table_info(?1) ORDER BY cid", -1, &info, nullptr) != SQLITE_OK) {
        *error = u"%1: %2"_s.arg(m_path, QString::fromUtf8(sqlite3_errmsg(m_db)));
        return false;
    }
    const QByteArray utf8 = name.toUtf8();
    sqlite3_bind_text(info, 1, utf8.constData(), int(utf8.size()), SQLITE_TRANSIENT);
    m_columns.clear();
    QMap<int, QString> pk;
    int rc;
    while ((rc = sqlite3_step(info)) == SQLITE_ROW) {
        const QString column = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(info, 0)));
        m_columns.append({column, QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(info, 1)))});
        if (const int p = sqlite3_column_int(info, 2))
            pk.insert(p, column);
    }
    sqlite3_finalize(info);
    if (rc != SQLITE_DONE) {
        *error = u"%1: %2"_s.arg(m_path, QString::fromUtf8(sqlite3_errmsg(m_db)));
        return false;
    }
    if (m_columns.isEmpty()) {
        *error = u"sqlite:%1 has no table %2"_s.arg(m_path, name);
        return false;
    }
    m_primaryKey = pk.values();
    return true;
}

bool SqliteTableReader::start(const QStringList &columns, const QStringList &keyColumns, QString *error)
{
    sqlite3_finalize(m_select);
    m_select = nullptr;
    QByteArray select, order;
    for (const QString &c : columns)
        select += (select.isEmpty() ? "" : ", ") + quote(c);
    for (const QString &c : keyColumns)
        order += (order.isEmpty() ? "" : ", ") + quote(c);
    const QByteArray sql = "SELECT " + select + " FROM " + m_quoted + " ORDER BY " + order;
    if (sqlite3_prepare_v2(m_db, sql.constData(), int(sql.size()), &m_select, nullptr) != SQLITE_OK) {
        *error = u"%1: %2"_s.arg(m_path, QString::fromUtf8(sqlite3_errmsg(m_db)));
        return false;
    }
    m_width = int(columns.size());
    return true;
}

bool SqliteTableReader::next(TableBatch *batch, int maxRows, QString *error)
{
    batch->clear();
    batch->columns = m_width;
    if (!m_select)
        return true;
    for (int rows = 0; rows < maxRows; ++rows) {
        const int rc = sqlite3_step(m_select);
        if (rc == SQLITE_DONE) {
            sqlite3_finalize(m_select);
            m_select = nullptr;
            return true;
        }
        if (rc != SQLITE_ROW) {
            *error = u"%1: %2"_s.arg(m_path, QString::fromUtf8(sqlite3_errmsg(m_db)));
            return false;
        }
        for (int c = 0; c < m_width; ++c) {
            if (sqlite3_column_type(m_select, c) == SQLITE_NULL) {
                batch->appendNull();
                continue;
            }
            const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(m_select, c));
            batch->append(QByteArrayView(text, sqlite3_column_bytes(m_select, c)));
        }
    }
    return true;
}

} // namespace tapedeck
