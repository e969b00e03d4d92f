#pragma once

#include "core/event/bound.h"
#include "core/event/event.h"

#include <QByteArrayView>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <limits>

namespace tapedeck {

// What the decoders need from the server's catalogue, read once when a
// recording starts (PgAdmin::catalog): type names by OID and primary keys by
// "schema.table". A value type: decoders on any thread can hold a copy.
struct PgCatalog
{
    QString database;
    QHash<quint32, QString> typeNames;       // format_type(oid, NULL): "integer", "text[]"
    QHash<QString, QStringList> primaryKeys; // "public.orders" -> {"id"}
    QHash<QString, QStringList> columnNames; // "public.orders" -> columns in order
    QHash<QString, QStringList> columnTypes; // "public.orders" -> their types, same order

    QString typeName(quint32 oid) const;     // the OID as text when unknown
};

// Turns decoded rows into Events the same way for every plugin, so that
// pgoutput, wal2json and test_decoding recordings of the same changes agree.
namespace pgchange {

// LSN "16/B374D848" <-> 64-bit position, -1 when the text is not an LSN:
// the decoders' spelling of the project's one LSN parser (core/event/bound).
inline qint64 parseLsn(QByteArrayView text)
{
    return bound::parseLsn(text).value_or(-1);
}
inline QString formatLsn(qint64 lsn)
{
    return bound::formatLsn(lsn);
}

// "2024-01-02 03:04:05.123456+02" (DateStyle ISO) -> µs since the Unix epoch, -1 on failure.
qint64 parseTimestampUs(QByteArrayView text);
// pgoutput timestamps count µs since 2000-01-01.
constexpr qint64 PgEpochOffsetUs = 946684800000000LL;
// A pgoutput timestamp as µs since the Unix epoch; PostgreSQL's 'infinity'
// (INT64_MAX) and anything that would overflow stay at the limit.
inline qint64 fromPgEpochUs(qint64 pgUs)
{
    return pgUs > std::numeric_limits<qint64>::max() - PgEpochOffsetUs ? std::numeric_limits<qint64>::max()
                                                                        : pgUs + PgEpochOffsetUs;
}

// The text form PostgreSQL itself uses for booleans ("t"/"f"), whichever way the plugin spelt it.
QByteArray normaliseValue(const QString &type, QByteArray value);

// A row as a JSON object: numbers stay numbers (their exact text), booleans
// become true/false, everything else a string; unchanged TOASTed columns are
// left out (their value was not sent), never written as null.
QByteArray rowJson(const Row &row);
QByteArray rowJson(const Row &row, const QStringList &onlyColumns);

struct TxnInfo
{
    qint64 xid = -1;
    qint64 commitLsn = -1;
    qint64 commitTimeUs = -1;
};

// A Begin, Commit or non-table event (topic empty: it belongs to no table).
Event marker(const QString &database, Operation op, qint64 lsn, const TxnInfo &txn);
// A logical decoding message (pg_logical_emit_message): key = prefix, value = content.
Event message(const QString &database, qint64 lsn, const TxnInfo &txn, const QByteArray &prefix, const QByteArray &content);
// A row change of `schema.table`. `identityColumns` (replica identity as the
// plugin reported it) is used when the catalogue knows no primary key.
Event change(const PgCatalog &catalog, Operation op, qint64 lsn, const TxnInfo &txn,
             const QString &schema, const QString &table, Row oldRow, Row newRow,
             const QStringList &identityColumns);

} // namespace pgchange
} // namespace tapedeck
