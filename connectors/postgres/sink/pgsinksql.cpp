#include "connectors/postgres/sink/pgsinksql_p.h"

#include "core/postgres/pgtypes.h"

#include <QSet>

using namespace Qt::StringLiterals;

namespace tapedeck::pgsinksql {

QByteArray qualified(const QString &table)
{
    const qsizetype dot = table.indexOf(u'.');
    if (dot < 0)
        return PgConnection::quoteIdentifier(table.toUtf8());
    return PgConnection::quoteIdentifier(table.left(dot).toUtf8()) + '.'
           + PgConnection::quoteIdentifier(table.mid(dot + 1).toUtf8());
}

bool sameNames(const QList<QString> &a, const QList<QString> &b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (!sameName(a[i], b[i]))
            return false;
    }
    return true;
}

QList<QList<RowRef>> byShape(const QList<RowRef> &rows)
{
    QList<QList<RowRef>> groups;
    const SqlRows *lastRows = nullptr;
    quint16 lastShape = 0;
    qsizetype lastGroup = -1;
    for (const RowRef &r : rows) {
        if (r.rows != lastRows || r.row->shape != lastShape) {
            lastRows = r.rows;
            lastShape = r.row->shape;
            lastGroup = -1;
            const SqlRows::Shape &sh = r.shape();
            for (qsizetype g = 0; g < groups.size() && lastGroup < 0; ++g) {
                const SqlRows::Shape &other = groups[g].first().shape();
                if (sameNames(other.columns, sh.columns) && sameNames(other.key, sh.key))
                    lastGroup = g;
            }
            if (lastGroup < 0) {
                groups.append(QList<RowRef>{});
                groups.last().reserve(rows.size());
                lastGroup = groups.size() - 1;
            }
        }
        groups[lastGroup].append(r);
    }
    return groups;
}

bool exactEquality(const QString &type)
{
    static const QSet<QString> exact{u"bigint"_s, u"integer"_s, u"smallint"_s, u"text"_s, u"boolean"_s, u"uuid"_s, u"bytea"_s,
                                     u"date"_s, u"timestamp with time zone"_s, u"timestamp without time zone"_s};
    return exact.contains(type) || type.startsWith(u"character varying"_s) || type.startsWith(u"character("_s);
}

QByteArray arrayParam(qsizetype n, const QString &type, QByteArray *select, const char *alias)
{
    const QByteArray num = QByteArray::number(n + 1);
    if (type.endsWith(u']')) {
        *select = QByteArray(alias) + num + "::" + type.toUtf8();
        return '$' + num + "::text[]";
    }
    *select = QByteArray(alias) + num;
    return '$' + num + "::" + type.toUtf8() + "[]";
}

QByteArray createTableSql(const QString &name, const QByteArray &quoted, const SqlRows::Shape &shape, SqlOp op)
{
    QList<QString> cols = shape.columns, types = shape.columnTypes;
    for (qsizetype i = 0; i < shape.key.size(); ++i) {
        if (!cols.contains(shape.key[i])) {
            cols.append(shape.key[i]);
            types.append(shape.keyTypes[i]);
        }
    }
    QByteArray sql;
    if (name.contains(u'.'))
        sql += "CREATE SCHEMA IF NOT EXISTS " + PgConnection::quoteIdentifier(name.left(name.indexOf(u'.')).toUtf8()) + "; ";
    sql += "CREATE TABLE " + quoted + " (";
    for (qsizetype i = 0; i < cols.size(); ++i) {
        // Type names come from tapes (change events) or transforms: only a
        // built-in type, parsed and printed anew, reaches SQL (pgtypes.h).
        const QString type = pgTypeForCreate(types[i]).value_or(u"text"_s);
        sql += (i ? ", " : "") + PgConnection::quoteIdentifier(cols[i].toUtf8()) + ' ' + type.toUtf8();
    }
    if (!shape.key.isEmpty() && op != SqlOp::Insert) {
        sql += ", PRIMARY KEY (";
        for (qsizetype i = 0; i < shape.key.size(); ++i)
            sql += (i ? ", " : "") + PgConnection::quoteIdentifier(shape.key[i].toUtf8());
        sql += ')';
    }
    sql += ')';
    return sql;
}

QByteArray upsertSql(const QByteArray &quoted, const QHash<QString, QString> &types, const SqlRows::Shape &shape, QString *missing)
{
    QByteArray cols, select, unnest, alias, set, conflict, current, incoming;
    for (qsizetype i = 0; i < shape.columns.size(); ++i) {
        const QString &name = shape.columns[i];
        const auto type = types.constFind(name);
        if (type == types.cend()) {
            *missing = name;
            return {};
        }
        const QByteArray q = PgConnection::quoteIdentifier(name.toUtf8());
        QByteArray value;
        unnest += (i ? ", " : "") + arrayParam(i, *type, &value, "u.a");
        cols += (i ? ", " : "") + q;
        select += (i ? ", " : "") + value;
        alias += QByteArray(i ? ", a" : "a") + QByteArray::number(i + 1);
        if (!shape.key.contains(name)) {
            set += (set.isEmpty() ? "" : ", ") + q + " = EXCLUDED." + q;
            // Rows that would not change are left alone (replay.md, "Upserts").
            const QByteArray text = exactEquality(*type) ? QByteArray() : QByteArray("::text");
            current += QByteArray(current.isEmpty() ? "" : ", ") + "t." + q + text;
            incoming += QByteArray(incoming.isEmpty() ? "" : ", ") + "EXCLUDED." + q + text;
        }
    }
    for (qsizetype i = 0; i < shape.key.size(); ++i)
        conflict += (i ? ", " : "") + PgConnection::quoteIdentifier(shape.key[i].toUtf8());
    return "INSERT INTO " + quoted + " AS t (" + cols + ") SELECT " + select + " FROM unnest(" + unnest + ") AS u(" + alias
           + ") ON CONFLICT (" + conflict + ") "
           + (set.isEmpty() ? QByteArray("DO NOTHING")
                            : "DO UPDATE SET " + set + " WHERE (" + current + ") IS DISTINCT FROM (" + incoming + ")");
}

QByteArray deleteSql(const QByteArray &quoted, const QHash<QString, QString> &types, const SqlRows::Shape &shape, QString *missing)
{
    QByteArray unnest, alias, where;
    for (qsizetype i = 0; i < shape.key.size(); ++i) {
        const QString &name = shape.key[i];
        const auto type = types.constFind(name);
        if (type == types.cend()) {
            *missing = name;
            return {};
        }
        QByteArray value;
        unnest += (i ? ", " : "") + arrayParam(i, *type, &value, "u.a");
        alias += QByteArray(i ? ", a" : "a") + QByteArray::number(i + 1);
        where += QByteArray(i ? " AND t." : "t.") + PgConnection::quoteIdentifier(name.toUtf8()) + " = " + value;
    }
    return "DELETE FROM " + quoted + " AS t USING unnest(" + unnest + ") AS u(" + alias + ") WHERE " + where;
}

} // namespace tapedeck::pgsinksql
