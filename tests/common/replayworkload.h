#pragma once
// A deterministic workload of row changes on one table, as change events (the
// way the Postgres recorder builds them, pgchange::change) and as the SQL
// statements that make the same changes on a source table.
#include "connectors/postgres/decode/pgchange.h"
#include "connectors/postgres/pgconnection.h"
#include "core/tape/tapewriter.h"

#include <QMap>
#include <QRandomGenerator>

namespace replaytest {

using namespace tapedeck;

struct Workload
{
    QList<Event> events;
    QList<QByteArray> sql; // one statement per event
    QMap<qint64, Row> finalRows;
};

inline QByteArray literal(const std::optional<QByteArray> &v)
{
    return v ? PgConnection::quoteLiteral(*v) : QByteArrayLiteral("NULL");
}

inline const char *tableDdl()
{
    return "(id bigint PRIMARY KEY, name text, amount numeric(14,2), big bigint, note text, ts timestamptz, flag boolean)";
}

// `n` changes over `keys` keys of table public.<table> (events), `sqlTable` (statements).
inline Workload makeWorkload(int n, int keys, quint32 seed, const QString &table, const QByteArray &sqlTable)
{
    Workload w;
    QRandomGenerator rng(seed);
    PgCatalog catalog;
    catalog.database = QStringLiteral("source");
    catalog.primaryKeys.insert(QStringLiteral("public.") + table, {QStringLiteral("id")});
    qint64 lsn = 0x10000000;
    const QStringList notes{QStringLiteral("plain"), QStringLiteral("tab\there"), QStringLiteral("quote ' and \" and \\ back"),
                            QStringLiteral("line\nbreak"), QStringLiteral("ünïcødé ✓"), QStringLiteral("{\"json\": [1,2]}")};
    for (int i = 0; i < n; ++i) {
        const qint64 id = qint64(rng.bounded(keys)) + 1;
        const bool exists = w.finalRows.contains(id);
        Operation op = Operation::Insert;
        if (exists)
            op = rng.bounded(10) < 7 ? Operation::Update : Operation::Delete;
        Row row;
        auto col = [&](const char *name, const char *type, std::optional<QByteArray> v) {
            row.append(Column{QLatin1String(name), QLatin1String(type), std::move(v), false});
        };
        col("id", "bigint", QByteArray::number(id));
        col("name", "text", QByteArray("name-") + QByteArray::number(i));
        col("amount", "numeric", QByteArray::number(rng.bounded(1000000)) + '.' + QByteArray::number(10 + rng.bounded(90)));
        col("big", "bigint", QByteArray::number(Q_INT64_C(9007199254740993) + qint64(rng.bounded(1000000)) * 1000003));
        col("note", "text", rng.bounded(8) == 0 ? std::nullopt : std::optional<QByteArray>(notes[int(rng.bounded(qsizetype(notes.size())))].toUtf8()));
        col("ts", "timestamp with time zone", QByteArray("2024-03-0") + QByteArray::number(1 + rng.bounded(9)) + " 12:34:56." + QByteArray::number(100000 + rng.bounded(899999)) + "+00");
        col("flag", "boolean", rng.bounded(2) ? QByteArrayLiteral("t") : QByteArrayLiteral("f"));
        pgchange::TxnInfo txn{1000 + i, lsn + 0x80, 1709290000000000LL + i * 1000LL};
        lsn += 0x100;
        if (op == Operation::Delete) {
            Row key{row.first()};
            w.events.append(pgchange::change(catalog, op, lsn, txn, QStringLiteral("public"), table, key, {}, {}));
            w.sql.append("DELETE FROM " + sqlTable + " WHERE id = " + QByteArray::number(id));
            w.finalRows.remove(id);
        } else {
            QByteArray values;
            for (const Column &c : row)
                values += (values.isEmpty() ? "" : ", ") + literal(c.value);
            if (op == Operation::Insert)
                w.sql.append("INSERT INTO " + sqlTable + " VALUES (" + values + ")");
            else
                w.sql.append("UPDATE " + sqlTable + " SET (id, name, amount, big, note, ts, flag) = (" + values + ") WHERE id = " + QByteArray::number(id));
            w.events.append(pgchange::change(catalog, op, lsn, txn, QStringLiteral("public"), table, {}, row, {}));
            w.finalRows.insert(id, row);
        }
    }
    return w;
}

// `maxChunkEvents` > 0: chunks of at most that many events (small chunks
// exercise the code that crosses them).
inline bool writeTape(const QString &path, const QList<Event> &events, QString *error, int maxChunkEvents = 0)
{
    TapeWriter writer;
    TapeWriter::Options options;
    if (maxChunkEvents > 0)
        options.maxChunkEvents = maxChunkEvents;
    if (!writer.create(path, TapeMetadata{}, options)) {
        *error = writer.errorString();
        return false;
    }
    for (const Event &e : events) {
        if (!writer.append(e)) {
            *error = writer.errorString();
            return false;
        }
    }
    if (!writer.close()) {
        *error = writer.errorString();
        return false;
    }
    return true;
}

} // namespace replaytest
