// TableDiff's repair (tablediff.md, "Repair"): the SQL script, the same
// changes as replay sink outputs, and writing them through a Sink.

#include "core/diff/tablediff.h"

#include "core/diff/canonicalrow.h"

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

using ValueClass = CanonicalRow::ValueClass;

ValueClass classify(const QString &type, const QString &dialect)
{
    return CanonicalRow::classify(type, dialect);
}

// A NUL byte is never written into the script: psql and sqlite3 read a
// line up to it, which would shift every quote after it. No SQL name holds
// one, so U+FFFD stands for it (and the statement names no such column).
QByteArray quoteIdentifier(const QString &name)
{
    QByteArray q = name.toUtf8();
    q.replace('"', "\"\"");
    q.replace('\0', "\xef\xbf\xbd");
    return '"' + q + '"';
}

// The text of a `--` comment line. PostgreSQL ends such a comment at \n or
// \r, SQLite at \n, and a client may split lines at other breaks: every
// control character, and U+0085, U+2028 and U+2029, is written as \xHH or
// \uHHHH, so that nothing from a tape's names can end the comment.
QByteArray commentText(const QString &line)
{
    QString out;
    out.reserve(line.size());
    for (const QChar c : line) {
        const char16_t u = c.unicode();
        if (u < 0x20 || u == 0x7f || (u >= 0x80 && u < 0xa0))
            out += u"\\x"_s + QString::number(u, 16).rightJustified(2, u'0');
        else if (u == 0x2028 || u == 0x2029 || u == 0xfeff)
            out += u"\\u"_s + QString::number(u, 16);
        else
            out += c;
    }
    return out.toUtf8();
}

QByteArray literal(const std::optional<QByteArray> &v, const TableColumn &column, const QString &dialect)
{
    if (!v)
        return QByteArrayLiteral("NULL");
    if (dialect == u"sqlite" && classify(column.type, dialect) == ValueClass::Bool) {
        const QByteArray n = TableDiff::normalise(*v, column.type, dialect);
        if (n == "t")
            return QByteArrayLiteral("1");
        if (n == "f")
            return QByteArrayLiteral("0");
    }
    QByteArray q = *v;
    q.replace('\'', "''");
    // A NUL byte as a function call between quoted parts (see quoteIdentifier):
    // SQLite stores it; PostgreSQL refuses it, and the transaction with it.
    q.replace('\0', dialect == u"sqlite" ? QByteArrayLiteral("' || char(0) || '") : QByteArrayLiteral("' || chr(0) || '"));
    return '\'' + q + '\'';
}

} // namespace

QByteArray TableDiff::repairSql(const DiffResult &r, const QString &header)
{
    QByteArray sql;
    for (const QString &line : header.split(u'\n'))
        sql += "-- " + commentText(line) + '\n';
    sql += "BEGIN;\n";
    if (r.dialect == u"postgresql")
        sql += "SET LOCAL standard_conforming_strings = on;\n";
    const int nKeys = int(r.keyColumns.size());
    auto where = [&](const QList<std::optional<QByteArray>> &key) {
        QByteArray w;
        for (int c = 0; c < nKeys; ++c) {
            w += (c ? " AND " : " WHERE ") + quoteIdentifier(r.columns[c].name);
            w += key[c] ? " = " + literal(key[c], r.columns[c], r.dialect) : QByteArray(" IS NULL");
        }
        return w;
    };
    for (const DiffEntry &d : r.entries) {
        switch (d.kind) {
        case DiffEntry::Kind::Extra:
            sql += "DELETE FROM " + r.quotedTable + where(d.key) + ";\n";
            break;
        case DiffEntry::Kind::Missing: {
            QByteArray names, values;
            for (int c = 0; c < r.columns.size(); ++c) {
                names += (c ? ", " : "") + quoteIdentifier(r.columns[c].name);
                values += (c ? ", " : "") + literal(d.stateRow[c], r.columns[c], r.dialect);
            }
            sql += "INSERT INTO " + r.quotedTable + " (" + names + ") VALUES (" + values + ");\n";
            break;
        }
        case DiffEntry::Kind::Differs: {
            QByteArray set;
            for (const ColumnDifference &x : d.differences) {
                for (const TableColumn &c : r.columns) {
                    if (c.name == x.column)
                        set += (set.isEmpty() ? "" : ", ") + quoteIdentifier(c.name) + " = " + literal(x.state, c, r.dialect);
                }
            }
            sql += "UPDATE " + r.quotedTable + " SET " + set + where(d.key) + ";\n";
            break;
        }
        }
    }
    sql += "COMMIT;\n";
    return sql;
}

QList<SinkOutput> TableDiff::repairOutputs(const DiffResult &r)
{
    QList<SinkOutput> outputs;
    const int nKeys = int(r.keyColumns.size());
    auto value = [&](const std::optional<QByteArray> &v, const TableColumn &c) {
        std::optional<QByteArray> text = v;
        if (v && r.dialect == u"sqlite" && classify(c.type, r.dialect) == ValueClass::Bool) {
            const QByteArray n = normalise(*v, c.type, r.dialect);
            if (n == "t" || n == "f")
                text = QByteArray(n == "t" ? "1" : "0");
        }
        return SinkField{c.name, SinkValue{text, c.type}};
    };
    for (const DiffEntry &d : r.entries) {
        SinkOutput out;
        out.kind = SinkOutput::Kind::Sql;
        out.table = r.table;
        out.seq = d.lastEvents.isEmpty() ? -1 : d.lastEvents.last();
        for (int c = 0; c < nKeys; ++c)
            out.key.append(value(d.kind == DiffEntry::Kind::Extra ? d.key[c] : d.stateRow[c], r.columns[c]));
        if (d.kind == DiffEntry::Kind::Extra) {
            out.op = SqlOp::Delete;
        } else {
            out.op = SqlOp::Upsert;
            for (int c = 0; c < r.columns.size(); ++c)
                out.row.append(value(d.stateRow[c], r.columns[c]));
        }
        outputs.append(std::move(out));
    }
    return outputs;
}

bool TableDiff::repair(Sink &sink, const DiffResult &r, const QString &replayId, qint64 *written, QString *error)
{
    *written = 0;
    if (!sink.open(replayId, error))
        return false;
    const QList<SinkOutput> outputs = repairOutputs(r);
    constexpr qsizetype Batch = 5000;
    const ReplayPosition progress{u"repair/"_s + r.table, r.end, r.end - 1};
    for (qsizetype i = 0; i < outputs.size(); i += Batch) {
        if (!sink.write(outputs.mid(i, Batch), {progress}, error)) {
            sink.close();
            return false;
        }
        *written += std::min(Batch, outputs.size() - i);
    }
    sink.close();
    return true;
}

} // namespace tapedeck
