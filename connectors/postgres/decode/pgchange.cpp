#include "connectors/postgres/decode/pgchange.h"

#include "core/transform/changerowjson.h"

#include <QDate>

namespace tapedeck {

QString PgCatalog::typeName(quint32 oid) const
{
    const auto it = typeNames.constFind(oid);
    return it != typeNames.cend() ? *it : QString::number(oid);
}

namespace pgchange {
namespace {

int number(QByteArrayView s, qsizetype pos, qsizetype len, bool *ok)
{
    if (pos + len > s.size()) {
        *ok = false;
        return 0;
    }
    int v = 0;
    for (qsizetype i = pos; i < pos + len; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            *ok = false;
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

} // namespace

qint64 parseTimestampUs(QByteArrayView s)
{
    bool ok = true;
    const int year = number(s, 0, 4, &ok), month = number(s, 5, 2, &ok), day = number(s, 8, 2, &ok);
    const int hour = number(s, 11, 2, &ok), minute = number(s, 14, 2, &ok), second = number(s, 17, 2, &ok);
    if (!ok || s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':')
        return -1;
    const QDate date(year, month, day);
    if (!date.isValid())
        return -1;
    qsizetype i = 19;
    qint64 fraction = 0;
    if (i < s.size() && s[i] == '.') {
        int digits = 0;
        for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits) {
            if (digits < 6)
                fraction = fraction * 10 + (s[i] - '0');
        }
        for (; digits < 6; ++digits)
            fraction *= 10;
    }
    qint64 offsetSeconds = 0;
    if (i < s.size()) {
        if (s[i] != '+' && s[i] != '-')
            return -1;
        const int sign = s[i] == '-' ? -1 : 1;
        const int oh = number(s, i + 1, 2, &ok);
        int om = 0, os = 0;
        if (i + 3 < s.size())
            om = number(s, i + 4, 2, &ok);
        if (i + 6 < s.size())
            os = number(s, i + 7, 2, &ok);
        if (!ok)
            return -1;
        offsetSeconds = sign * (oh * 3600 + om * 60 + os);
    }
    const qint64 days = date.toJulianDay() - 2440588; // 1970-01-01
    const qint64 seconds = days * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds;
    return seconds * 1000000 + fraction;
}

QByteArray normaliseValue(const QString &type, QByteArray value)
{
    if (type == QLatin1String("boolean")) {
        if (value == "true")
            return QByteArrayLiteral("t");
        if (value == "false")
            return QByteArrayLiteral("f");
    }
    return value;
}

QByteArray rowJson(const Row &row, const QStringList &onlyColumns)
{
    return changeRowJson(row, onlyColumns);
}

QByteArray rowJson(const Row &row)
{
    return rowJson(row, {});
}

Event marker(const QString &database, Operation op, qint64 lsn, const TxnInfo &txn)
{
    Event e;
    e.kind = SourceKind::Postgres;
    e.cluster = database;
    e.partition = 0;
    e.position = lsn;
    e.operation = op;
    e.transactionId = txn.xid;
    e.commitLsn = txn.commitLsn;
    e.commitTimeUs = txn.commitTimeUs;
    e.timestampUs = txn.commitTimeUs;
    e.timestampType = txn.commitTimeUs >= 0 ? TimestampType::CommitTime : TimestampType::NotAvailable;
    e.key = std::nullopt;
    e.value = std::nullopt;
    return e;
}

Event message(const QString &database, qint64 lsn, const TxnInfo &txn, const QByteArray &prefix, const QByteArray &content)
{
    Event e = marker(database, Operation::Message, lsn, txn);
    e.key = prefix;
    e.value = content;
    return e;
}

Event change(const PgCatalog &catalog, Operation op, qint64 lsn, const TxnInfo &txn, const QString &schema,
             const QString &table, Row oldRow, Row newRow, const QStringList &identityColumns)
{
    Event e = marker(catalog.database, op, lsn, txn);
    e.topic = schema + QLatin1Char('.') + table;
    const auto pk = catalog.primaryKeys.constFind(e.topic);
    e.primaryKey = pk != catalog.primaryKeys.cend() ? *pk : identityColumns;
    if (op != Operation::Truncate && !e.primaryKey.isEmpty()) {
        Row key;
        for (const QString &name : std::as_const(e.primaryKey)) {
            const Column *found = nullptr;
            if (op != Operation::Delete) {
                for (const Column &c : std::as_const(newRow)) {
                    if (c.name == name && !c.unchangedToast)
                        found = &c;
                }
            }
            if (!found) {
                for (const Column &c : std::as_const(oldRow)) {
                    if (c.name == name && !c.unchangedToast)
                        found = &c;
                }
            }
            if (found)
                key.append(*found);
        }
        if (!key.isEmpty())
            e.key = rowJson(key);
    }
    if (op == Operation::Insert || op == Operation::Update || op == Operation::Read)
        e.value = rowJson(newRow);
    e.oldRow = std::move(oldRow);
    e.newRow = std::move(newRow);
    return e;
}

} // namespace pgchange
} // namespace tapedeck
