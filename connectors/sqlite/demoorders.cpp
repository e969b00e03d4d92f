#include "connectors/sqlite/demoorders.h"

#include "core/state/logstate.h"
#include "core/tape/tape.h"

#include <QFile>

#include <sqlite3.h>

namespace tapedeck {

namespace {

struct Db
{
    sqlite3 *db = nullptr;
    ~Db() { sqlite3_close(db); }
    bool exec(const char *sql, QString *error)
    {
        char *message = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK)
            return true;
        *error = QString::fromUtf8(message ? message : sqlite3_errmsg(db));
        sqlite3_free(message);
        return false;
    }
};

QByteArray column(const LogStateRow &row, const char *name)
{
    for (const Column &c : row.row) {
        if (c.name == QLatin1String(name))
            return c.value.value_or(QByteArray());
    }
    return {};
}

// The row of `key` as it was just before its last event of kind `op`; false
// when it has none (*error empty) or on a read error.
bool rowBefore(const LogState &state, const Tape &tape, int table, const char *key, Operation op, LogStateRow *out, QString *error)
{
    const auto id = state.findKey(table, key);
    if (!id)
        return false;
    const QList<qint64> events = state.keyEvents(table, *id);
    for (qint64 i = events.size() - 1; i >= 0; --i) {
        Event e;
        if (!tape.event(events[i], &e, error))
            return false;
        if (e.operation == op) {
            const LogStateSnapshot earlier = state.snapshot(table, events[i]);
            const auto r = state.row(earlier, *id, error);
            if (!r)
                return false;
            *out = *r;
            return true;
        }
    }
    return false;
}

// The orders table with the demo's drift: `rows` as the log ends, but 1008
// lost, 1005 stale, 1002 garbled and 1006 never deleted.
bool writeOrders(const QString &sqlitePath, const QList<LogStateRow> &rows, const LogStateRow &deleted1006, const LogStateRow &stale1005,
                 QString *error)
{
    QFile::remove(sqlitePath);
    Db db;
    if (sqlite3_open_v2(sqlitePath.toUtf8().constData(), &db.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        *error = QStringLiteral("%1: %2").arg(sqlitePath, QString::fromUtf8(sqlite3_errmsg(db.db)));
        return false;
    }
    if (!db.exec("BEGIN; CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, status TEXT NOT NULL, amount NUMERIC)",
                 error))
        return false;
    sqlite3_stmt *insert = nullptr;
    if (sqlite3_prepare_v2(db.db, "INSERT INTO orders VALUES (?, ?, ?, ?)", -1, &insert, nullptr) != SQLITE_OK) {
        *error = QString::fromUtf8(sqlite3_errmsg(db.db));
        return false;
    }
    auto write = [&](const LogStateRow &row, const QByteArray &customer) {
        const QByteArray id = column(row, "id"), status = column(row, "status"), amount = column(row, "amount");
        sqlite3_reset(insert);
        sqlite3_bind_int64(insert, 1, id.toLongLong());
        sqlite3_bind_text(insert, 2, customer.constData(), int(customer.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 3, status.constData(), int(status.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 4, amount.constData(), int(amount.size()), SQLITE_TRANSIENT);
        if (sqlite3_step(insert) != SQLITE_DONE) {
            *error = QString::fromUtf8(sqlite3_errmsg(db.db));
            return false;
        }
        return true;
    };
    bool ok = true;
    for (const LogStateRow &row : rows) {
        const QByteArray id = column(row, "id");
        if (id == "1008")
            continue; // lost insert
        if (id == "1005")
            ok = ok && write(stale1005, column(stale1005, "customer")); // stale update
        else if (id == "1002")
            ok = ok && write(row, QByteArray("gr\xef\xbf\xbd" "ce")); // garbled value
        else
            ok = ok && write(row, column(row, "customer"));
    }
    ok = ok && write(deleted1006, column(deleted1006, "customer")); // a delete that never arrived
    sqlite3_finalize(insert);
    return ok && db.exec("COMMIT", error);
}

} // namespace

bool writeDemoOrdersSqlite(const QString &demoTapePath, const QString &sqlitePath, QString *error)
{
    const auto tape = Tape::open(demoTapePath, error);
    if (!tape)
        return false;
    const auto state = LogState::build(tape, error);
    if (!state)
        return false;
    const int table = state->tableIndex(QStringLiteral("public.orders"));
    if (table < 0) {
        *error = QStringLiteral("%1 has no public.orders change events: not the demo tape").arg(demoTapePath);
        return false;
    }
    // What the log says at the end (the end of the story), and one earlier
    // row: 1006 as it was before its delete, 1005 before it was shipped.
    const LogStateSnapshot end = state->snapshot(table, state->eventCount());
    QList<quint32> keys;
    for (qint64 i = 0; i < end.rowCount(); ++i)
        keys.append(end.keyAt(i));
    QList<LogStateRow> rows;
    if (!state->rows(end, keys, &rows, error))
        return false;
    LogStateRow deleted1006, stale1005;
    if (!rowBefore(*state, *tape, table, "1006", Operation::Delete, &deleted1006, error)
        || !rowBefore(*state, *tape, table, "1005", Operation::Update, &stale1005, error)) {
        if (error->isEmpty())
            *error = QStringLiteral("%1 does not tell the demo story (orders 1005 and 1006)").arg(demoTapePath);
        return false;
    }
    return writeOrders(sqlitePath, rows, deleted1006, stale1005, error);
}

} // namespace tapedeck
