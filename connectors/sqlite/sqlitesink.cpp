#include "connectors/sqlite/sqlitesink.h"

#include <sqlite3.h>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

QByteArray quote(const QString &name)
{
    QByteArray out("\"");
    for (const char c : name.toUtf8())
        out += c == '"' ? QByteArrayLiteral("\"\"") : QByteArray(1, c);
    return out + '"';
}

QByteArray sqliteType(const QString &pgType)
{
    if (pgType.contains(u"int"_s) || pgType == u"oid")
        return "INTEGER";
    if (pgType == u"double precision" || pgType == u"real")
        return "REAL";
    // numeric stays TEXT: SQLite's NUMERIC affinity would turn "12.50" into the REAL 12.5.
    return "TEXT";
}

bool bind(sqlite3_stmt *st, int index, const SinkValue &v)
{
    if (!v.text)
        return sqlite3_bind_null(st, index) == SQLITE_OK;
    return sqlite3_bind_text(st, index, v.text->constData(), int(v.text->size()), SQLITE_TRANSIENT) == SQLITE_OK;
}

} // namespace

SqliteSink::SqliteSink(QString path, Options options) : m_path(std::move(path)), m_options(options)
{
}

SqliteSink::~SqliteSink()
{
    close();
}

void SqliteSink::close()
{
    for (sqlite3_stmt *st : std::as_const(m_statements))
        sqlite3_finalize(st);
    m_statements.clear();
    if (m_db)
        sqlite3_close(m_db);
    m_db = nullptr;
}

QString SqliteSink::lastError() const
{
    return m_db ? QString::fromUtf8(sqlite3_errmsg(m_db)) : u"out of memory"_s;
}

QString SqliteSink::tableName(const QString &table)
{
    const qsizetype dot = table.lastIndexOf(u'.');
    return dot >= 0 ? table.mid(dot + 1) : table;
}

bool SqliteSink::exec(const char *sql, QString *error)
{
    char *message = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        *error = u"%1: %2"_s.arg(describe(), QString::fromUtf8(message ? message : "error"));
        sqlite3_free(message);
        return false;
    }
    return true;
}

sqlite3_stmt *SqliteSink::statement(const QByteArray &sql, QString *error)
{
    if (sqlite3_stmt *st = m_statements.value(sql))
        return st;
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v3(m_db, sql.constData(), int(sql.size()), SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
        *error = u"%1: %2 (in: %3)"_s.arg(describe(), lastError(), QString::fromUtf8(sql));
        return nullptr;
    }
    m_statements.insert(sql, st);
    return st;
}

bool SqliteSink::open(const QString &replayId, QString *error)
{
    close();
    m_replayId = replayId;
    m_committed.clear();
    m_tables.clear();
    if (sqlite3_open_v2(m_path.toUtf8().constData(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        *error = u"%1: cannot open: %2"_s.arg(describe(), lastError());
        close();
        return false;
    }
    sqlite3_busy_timeout(m_db, 10000);
    // WAL + FULL: a committed batch survives a crash of the process and of the machine.
    if (!exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", error)
        || !exec("CREATE TABLE IF NOT EXISTS tapedeck_replay_progress (replay_id TEXT NOT NULL, stream TEXT NOT NULL, "
                 "position INTEGER NOT NULL, seq INTEGER NOT NULL, updated_at TEXT NOT NULL, "
                 "PRIMARY KEY (replay_id, stream))",
                 error))
        return false;
    sqlite3_stmt *st = statement("SELECT stream, position, seq FROM tapedeck_replay_progress WHERE replay_id = ?", error);
    if (!st)
        return false;
    const QByteArray id = replayId.toUtf8();
    sqlite3_bind_text(st, 1, id.constData(), int(id.size()), SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        m_committed.append(ReplayPosition{QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(st, 0))),
                                          sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2)});
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        *error = u"%1: %2"_s.arg(describe(), lastError());
        return false;
    }
    return true;
}

bool SqliteSink::ensureTable(const QString &table, const SinkOutput &shape, QString *error)
{
    if (m_tables.contains(table))
        return true;
    sqlite3_stmt *st = statement("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", error);
    if (!st)
        return false;
    const QByteArray name = table.toUtf8();
    sqlite3_bind_text(st, 1, name.constData(), int(name.size()), SQLITE_TRANSIENT);
    const bool exists = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (!exists) {
        if (!m_options.createTables) {
            *error = u"%1: table \"%2\" does not exist (--create-tables creates it from the outputs)"_s.arg(describe(), table);
            return false;
        }
        QByteArray sql = "CREATE TABLE " + quote(table) + " (";
        QList<SinkField> columns = shape.row;
        for (const SinkField &k : shape.key) {
            if (std::none_of(columns.cbegin(), columns.cend(), [&](const SinkField &f) { return f.name == k.name; }))
                columns.append(k);
        }
        for (qsizetype i = 0; i < columns.size(); ++i)
            sql += (i ? ", " : "") + quote(columns[i].name) + ' ' + sqliteType(columns[i].value.type);
        if (!shape.key.isEmpty()) {
            sql += ", PRIMARY KEY (";
            for (qsizetype i = 0; i < shape.key.size(); ++i)
                sql += (i ? ", " : "") + quote(shape.key[i].name);
            sql += ')';
        }
        sql += ')';
        if (m_options.confirmCreate && !m_options.confirmCreate(table, QString::fromUtf8(sql))) {
            *error = u"%1: table \"%2\" does not exist (creating it was declined)"_s.arg(describe(), table);
            return false;
        }
        if (!exec(sql.constData(), error))
            return false;
    }
    m_tables.insert(table);
    return true;
}

bool SqliteSink::apply(const SinkOutput &out, QString *error)
{
    const QString table = tableName(out.table);
    if (!ensureTable(table, out, error))
        return false;
    QByteArray sql;
    QList<const SinkValue *> values;
    if (out.op == SqlOp::Delete) {
        sql = "DELETE FROM " + quote(table) + " WHERE ";
        for (qsizetype i = 0; i < out.key.size(); ++i) {
            sql += (i ? " AND " : "") + quote(out.key[i].name) + " IS ?";
            values.append(&out.key[i].value);
        }
    } else {
        sql = "INSERT INTO " + quote(table) + " (";
        QByteArray params;
        for (qsizetype i = 0; i < out.row.size(); ++i) {
            sql += (i ? ", " : "") + quote(out.row[i].name);
            params += i ? ", ?" : "?";
            values.append(&out.row[i].value);
        }
        sql += ") VALUES (" + params + ')';
        if (out.op == SqlOp::Upsert) {
            sql += " ON CONFLICT (";
            for (qsizetype i = 0; i < out.key.size(); ++i)
                sql += (i ? ", " : "") + quote(out.key[i].name);
            QByteArray set;
            for (const SinkField &f : out.row) {
                if (std::none_of(out.key.cbegin(), out.key.cend(), [&](const SinkField &k) { return k.name == f.name; }))
                    set += (set.isEmpty() ? "" : ", ") + quote(f.name) + " = excluded." + quote(f.name);
            }
            sql += set.isEmpty() ? QByteArray(") DO NOTHING") : ") DO UPDATE SET " + set;
        }
    }
    sqlite3_stmt *st = statement(sql, error);
    if (!st)
        return false;
    for (qsizetype i = 0; i < values.size(); ++i)
        bind(st, int(i + 1), *values[i]);
    const int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        *error = u"%1: event #%2: %3"_s.arg(describe()).arg(out.seq).arg(lastError());
        return false;
    }
    return true;
}

bool SqliteSink::write(const QList<SinkOutput> &outputs, const QList<ReplayPosition> &progress, QString *error)
{
    if (!m_db) {
        *error = u"%1: not open"_s.arg(describe());
        return false;
    }
    if (!exec("BEGIN IMMEDIATE", error))
        return false;
    auto fail = [&] {
        QString ignored;
        exec("ROLLBACK", &ignored);
        m_tables.clear(); // a table created in this transaction is gone again
        return false;
    };
    for (const SinkOutput &out : outputs) {
        if (!apply(out, error))
            return fail();
    }
    sqlite3_stmt *st = statement("INSERT INTO tapedeck_replay_progress (replay_id, stream, position, seq, updated_at) "
                                 "VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT (replay_id, stream) "
                                 "DO UPDATE SET position = excluded.position, seq = excluded.seq, updated_at = excluded.updated_at",
                                 error);
    if (!st)
        return fail();
    const QByteArray id = m_replayId.toUtf8();
    for (const ReplayPosition &p : progress) {
        const QByteArray stream = p.stream.toUtf8();
        sqlite3_bind_text(st, 1, id.constData(), int(id.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, stream.constData(), int(stream.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, p.position);
        sqlite3_bind_int64(st, 4, p.seq);
        const int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            *error = u"%1: %2"_s.arg(describe(), lastError());
            return fail();
        }
    }
    if (!exec("COMMIT", error))
        return fail();
    return true;
}

} // namespace tapedeck
