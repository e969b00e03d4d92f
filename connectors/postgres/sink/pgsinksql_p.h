#pragma once

// PgSink's SQL text: quoting, the COPY and array-literal encodings, grouping
// rows by column set and the statements' pieces. Not part of the room's
// public face (Qt's _p.h convention); the escapes are inline because they
// run once per value of every batch.

#include "connectors/postgres/sink/pgsink.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace tapedeck::pgsinksql {

using RowRef = PgSink::RowRef;

// "schema"."name", or "name" without a dot.
QByteArray qualified(const QString &table);

// An element of an array literal: always quoted (any element type reads
// it), backslash and double quote escaped, NULL unquoted.
inline void appendArrayElement(ByteBuffer &out, const SqlCell &v, bool first)
{
    if (!first)
        out.append(',');
    if (v.isNull()) {
        out.append("NULL", 4);
        return;
    }
    out.append('"');
    const char *p = v.data;
    qsizetype start = 0;
    for (qsizetype i = 0; i < v.size; ++i) {
        if (p[i] != '"' && p[i] != '\\')
            continue;
        out.append(p + start, i - start);
        out.append('\\');
        start = i;
    }
    out.append(p + start, v.size - start);
    out.append('"');
}

// COPY text format: backslash, tab, newline and carriage return escaped, \\N for NULL.
inline void appendCopyValue(ByteBuffer &out, const SqlCell &v)
{
    if (v.isNull()) {
        out.append("\\N", 2);
        return;
    }
    const char *p = v.data;
    const qsizetype n = v.size;
    qsizetype start = 0;
    for (qsizetype i = 0; i < n; ++i) {
        const char c = p[i];
        if (c != '\\' && c != '\t' && c != '\n' && c != '\r')
            continue;
        out.append(p + start, i - start);
        out.append(c == '\\' ? "\\\\" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : "\\r", 2);
        start = i + 1;
    }
    out.append(p + start, n - start);
}

// Column lists equal under sameName() (sqlrows.h).
bool sameNames(const QList<QString> &a, const QList<QString> &b);

// Rows grouped by column set (transforms may return different shapes), in order of first appearance.
QList<QList<RowRef>> byShape(const QList<RowRef> &rows);

// Types whose equality is equality of their text: compared as they are when
// an upsert skips rows that would not change; other types (numeric: 1.5 =
// 1.50; floats: 0 = -0; json has no equality) are compared as text.
bool exactEquality(const QString &type);

// Types spliced into `unnest($1::TYPE[])`: the element type itself, so the
// server parses each element once; array types go as text[] and are cast.
// Returns the parameter n (0-based) and sets *select to the alias's value.
QByteArray arrayParam(qsizetype n, const QString &type, QByteArray *select, const char *alias);

// CREATE [SCHEMA IF NOT EXISTS ...;] TABLE for `name` (quoted as `quoted`)
// from a shape: its columns, then key columns it lacks; a primary key on
// the key unless the rows are keyless inserts. Type names go through
// pgTypeForCreate() (pgtypes.h), text when it knows none.
QByteArray createTableSql(const QString &name, const QByteArray &quoted, const SqlRows::Shape &shape, SqlOp op);

// The upsert of rows of `shape` into `quoted` whose column types are
// `types`: INSERT ... SELECT FROM unnest(...) ON CONFLICT (key) DO UPDATE ...
// WHERE (row) IS DISTINCT FROM (EXCLUDED row), or DO NOTHING when every
// column is a key. Empty with *missing set when a column is not in `types`.
QByteArray upsertSql(const QByteArray &quoted, const QHash<QString, QString> &types, const SqlRows::Shape &shape, QString *missing);

// DELETE ... USING unnest(...) by the shape's key; empty with *missing set
// when a key column is not in `types`.
QByteArray deleteSql(const QByteArray &quoted, const QHash<QString, QString> &types, const SqlRows::Shape &shape, QString *missing);

} // namespace tapedeck::pgsinksql
