#include "pgsink.h"

#include <varint.h>

#include <libpq-fe.h>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

QByteArray qualified(const QString &table)
{
    const qsizetype dot = table.indexOf(u'.');
    if (dot < 0)
        return PgConnection::quoteIdentifier(table.toUtf8());
    return PgConnection::quoteIdentifier(table.left(dot).toUtf8()) + '.'
           + PgConnection::quoteIdentifier(table.mid(dot + 1).toUtf8());
}

// Type names come from tapes (change events) or transforms; only plain type
// spellings are spliced into SQL.
bool safeType(const QString &type)
{
    if (type.isEmpty())
        return false;
    for (const QChar c : type) {
        if (!(c.isLetterOrNumber() || c == u' ' || c == u'_' || c == u'(' || c == u')' || c == u',' || c == u'['
              || c == u']'))
            return false;
    }
    return true;
}

// An element of an array literal: always quoted (any element type reads
// it), backslash and double quote escaped, NULL unquoted.
void appendArrayElement(ByteBuffer &out, const SqlCell &v, bool first)
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
void appendCopyValue(ByteBuffer &out, const SqlCell &v)
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

using RowRef = PgSink::RowRef;

struct KeyRef
{
    RowRef ref;
    bool operator==(const KeyRef &other) const
    {
        return ref.row->keyHash == other.ref.row->keyHash && ref.rows->sameKey(*ref.row, *other.ref.rows, *other.ref.row);
    }
};
size_t qHash(const KeyRef &k, size_t seed = 0)
{
    return k.ref.row->keyHash ^ seed;
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

// Rows grouped by column set (transforms may return different shapes), in order of first appearance.
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

// Types whose equality is equality of their text: compared as they are when
// an upsert skips rows that would not change; other types (numeric: 1.5 =
// 1.50; floats: 0 = -0; json has no equality) are compared as text.
bool exactEquality(const QString &type)
{
    static const QSet<QString> exact{u"bigint"_s, u"integer"_s, u"smallint"_s, u"text"_s, u"boolean"_s, u"uuid"_s, u"bytea"_s,
                                     u"date"_s, u"timestamp with time zone"_s, u"timestamp without time zone"_s};
    return exact.contains(type) || type.startsWith(u"character varying"_s) || type.startsWith(u"character("_s);
}

// Types spliced into `unnest($1::TYPE[])`: the element type itself, so the
// server parses each element once; array types go as text[] and are cast.
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

} // namespace

PgSink::PgSink(QString dsn, Options options) : m_dsn(std::move(dsn)), m_options(options)
{
}

PgSink::~PgSink() = default;

QString PgSink::describe() const
{
    return m_conn.isOpen() ? m_conn.describe() : u"PostgreSQL"_s;
}

bool PgSink::fail(const QString &what, QString *error)
{
    *error = u"%1: %2"_s.arg(describe(), what.simplified()); // libpq's messages span lines
    if (m_conn.isOpen() && PQstatus(m_conn.handle()) == CONNECTION_OK) {
        QString ignored;
        m_conn.command("ROLLBACK", &ignored);
    } else {
        *error += u" (the connection is lost; nothing of this batch was committed unless its COMMIT got through: "
                  "rerun with the same replay id to continue exactly after the last committed batch)"_s;
    }
    m_tables.clear(); // created tables and fast-path state may have been rolled back
    return false;
}

bool PgSink::open(const QString &replayId, QString *error)
{
    m_replayId = replayId;
    m_committed.clear();
    m_tables.clear();
    if (!m_conn.open(m_dsn, PgConnection::Kind::Sql, error))
        return false;
    // Server notices (e.g. "terminating connection due to immediate shutdown")
    // would go straight to stderr; errors reach the caller as values instead.
    PQsetNoticeProcessor(m_conn.handle(), [](void *, const char *) {}, nullptr);
    QString why;
    if (!m_conn.command("SET synchronous_commit = on; SET client_min_messages = warning; "
                        "CREATE TABLE IF NOT EXISTS public.tapedeck_replay_progress (replay_id text NOT NULL, "
                        "stream text NOT NULL, position bigint NOT NULL, seq bigint NOT NULL, "
                        "updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (replay_id, stream))",
                        &why)) {
        *error = u"%1: %2"_s.arg(describe(), why);
        return false;
    }
    const auto r = m_conn.exec("SELECT stream, position, seq FROM public.tapedeck_replay_progress WHERE replay_id = $1",
                               {replayId.toUtf8()}, &why);
    if (!r) {
        *error = u"%1: %2"_s.arg(describe(), why);
        return false;
    }
    for (int i = 0; i < PgConnection::rows(r); ++i)
        m_committed.append(ReplayPosition{QString::fromUtf8(PgConnection::value(r, i, 0)),
                                          PgConnection::value(r, i, 1).toLongLong(), PgConnection::value(r, i, 2).toLongLong()});
    return true;
}

PgSink::Table *PgSink::table(const QString &name, const SqlRows::Shape &shape, SqlOp op, QString *error)
{
    auto it = m_tables.find(name);
    if (it != m_tables.end())
        return &*it;
    Table t;
    t.quoted = qualified(name);
    QString why;
    auto columns = [&] {
        return m_conn.exec("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                           "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
                           {t.quoted}, &why);
    };
    auto r = columns();
    if (!r) {
        fail(why, error);
        return nullptr;
    }
    if (PgConnection::rows(r) == 0) {
        if (!m_options.createTables) {
            fail(u"table %1 does not exist (--create-tables creates it from the outputs)"_s.arg(QString::fromUtf8(t.quoted)),
                 error);
            return nullptr;
        }
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
        sql += "CREATE TABLE " + t.quoted + " (";
        for (qsizetype i = 0; i < cols.size(); ++i) {
            const QString type = safeType(types[i]) ? types[i] : u"text"_s;
            sql += (i ? ", " : "") + PgConnection::quoteIdentifier(cols[i].toUtf8()) + ' ' + type.toUtf8();
        }
        if (!shape.key.isEmpty() && op != SqlOp::Insert) {
            sql += ", PRIMARY KEY (";
            for (qsizetype i = 0; i < shape.key.size(); ++i)
                sql += (i ? ", " : "") + PgConnection::quoteIdentifier(shape.key[i].toUtf8());
            sql += ')';
        }
        sql += ')';
        if (m_options.confirmCreate && !m_options.confirmCreate(QString::fromUtf8(t.quoted), QString::fromUtf8(sql))) {
            fail(u"table %1 does not exist (creating it was declined)"_s.arg(QString::fromUtf8(t.quoted)), error);
            return nullptr;
        }
        if (!m_conn.command(sql, &why) || !(r = columns())) {
            fail(why, error);
            return nullptr;
        }
    }
    for (int i = 0; i < PgConnection::rows(r); ++i)
        t.types.insert(QString::fromUtf8(PgConnection::value(r, i, 0)), QString::fromUtf8(PgConnection::value(r, i, 1)));
    if (m_options.copyFastPath) {
        const auto empty = m_conn.exec("SELECT NOT EXISTS (SELECT 1 FROM " + t.quoted + ")", {}, &why);
        if (!empty) {
            fail(why, error);
            return nullptr;
        }
        t.fastPath = PgConnection::value(empty, 0, 0) == "t";
    }
    return &*m_tables.insert(name, std::move(t));
}

bool PgSink::missingColumn(const Table &t, const QString &column, qint64 seq, QString *error)
{
    return fail(u"column \"%1\" of table %2 does not exist (event #%3)"_s.arg(column, QString::fromUtf8(t.quoted)).arg(seq), error);
}

bool PgSink::copy(Table &t, const QList<RowRef> &rows, QString *error)
{
    // One COPY per column set.
    const QList<QList<RowRef>> groups = byShape(rows);
    for (const QList<RowRef> &g : groups) {
        const SqlRows::Shape &shape = g.first().shape();
        const qsizetype columns = shape.columns.size();
        QByteArray sql = "COPY " + t.quoted + " (";
        for (qsizetype i = 0; i < columns; ++i) {
            if (!t.types.contains(shape.columns[i]))
                return missingColumn(t, shape.columns[i], g.first().row->seq, error);
            sql += (i ? ", " : "") + PgConnection::quoteIdentifier(shape.columns[i].toUtf8());
        }
        sql += ") FROM STDIN";
        pg::ResultPtr r(PQexec(m_conn.handle(), sql.constData()));
        if (PQresultStatus(r.get()) != PGRES_COPY_IN)
            return fail(QString::fromUtf8(PQresultErrorMessage(r.get())).trimmed(), error);
        m_buffer.clear();
        for (const RowRef &o : g) {
            const SqlCell *cells = o.cells();
            for (qsizetype i = 0; i < columns; ++i) {
                if (i)
                    m_buffer.append('\t');
                appendCopyValue(m_buffer, cells[i]);
            }
            m_buffer.append('\n');
            if (m_buffer.size() > (1 << 20) - 4096) {
                if (PQputCopyData(m_conn.handle(), m_buffer.data(), int(m_buffer.size())) != 1)
                    return fail(m_conn.lastError(), error);
                m_buffer.clear();
            }
        }
        if ((m_buffer.size() > 0 && PQputCopyData(m_conn.handle(), m_buffer.data(), int(m_buffer.size())) != 1)
            || PQputCopyEnd(m_conn.handle(), nullptr) != 1)
            return fail(m_conn.lastError(), error);
        pg::ResultPtr end(PQgetResult(m_conn.handle()));
        if (PQresultStatus(end.get()) != PGRES_COMMAND_OK)
            return fail(QString::fromUtf8(PQresultErrorMessage(end.get())).trimmed(), error);
        while (pg::ResultPtr more{PQgetResult(m_conn.handle())}) {
        }
        m_copied += g.size();
    }
    return true;
}

// One array parameter per column: `{"v1","v2",NULL,...}`.
QList<std::optional<QByteArray>> PgSink::arrays(const QList<RowRef> &rows, qsizetype columns, bool key)
{
    QList<std::optional<QByteArray>> params;
    for (qsizetype i = 0; i < columns; ++i) {
        m_buffer.clear();
        m_buffer.append('{');
        bool first = true;
        for (const RowRef &o : rows) {
            appendArrayElement(m_buffer, (key ? o.keyCells() : o.cells())[i], first);
            first = false;
        }
        m_buffer.append('}');
        params.append(QByteArray(m_buffer.data(), m_buffer.size()));
    }
    return params;
}

bool PgSink::upsert(Table &t, const QList<RowRef> &rows, QString *error)
{
    const QList<QList<RowRef>> groups = byShape(rows);
    for (const QList<RowRef> &g : groups) {
        const SqlRows::Shape &shape = g.first().shape();
        QByteArray cols, select, unnest, alias, set, conflict, current, incoming;
        for (qsizetype i = 0; i < shape.columns.size(); ++i) {
            const QString &name = shape.columns[i];
            const auto type = t.types.constFind(name);
            if (type == t.types.cend())
                return missingColumn(t, name, g.first().row->seq, error);
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
        const QByteArray sql = "INSERT INTO " + t.quoted + " AS t (" + cols + ") SELECT " + select + " FROM unnest(" + unnest
                               + ") AS u(" + alias + ") ON CONFLICT (" + conflict + ") "
                               + (set.isEmpty() ? QByteArray("DO NOTHING")
                                                : "DO UPDATE SET " + set + " WHERE (" + current + ") IS DISTINCT FROM (" + incoming + ")");
        QString why;
        if (!m_conn.exec(sql, arrays(g, shape.columns.size(), false), &why))
            return fail(why, error);
        m_statementRows += g.size();
    }
    return true;
}

bool PgSink::remove(Table &t, const QList<RowRef> &rows, QString *error)
{
    // One statement per key column set.
    QList<QList<RowRef>> groups;
    for (const RowRef &o : rows) {
        qsizetype g = 0;
        while (g < groups.size() && !sameNames(groups[g].first().shape().key, o.shape().key))
            ++g;
        if (g == groups.size())
            groups.append(QList<RowRef>{});
        groups[g].append(o);
    }
    for (const QList<RowRef> &g : std::as_const(groups)) {
        const SqlRows::Shape &shape = g.first().shape();
        QByteArray unnest, alias, where;
        for (qsizetype i = 0; i < shape.key.size(); ++i) {
            const QString &name = shape.key[i];
            const auto type = t.types.constFind(name);
            if (type == t.types.cend())
                return missingColumn(t, name, g.first().row->seq, error);
            QByteArray value;
            unnest += (i ? ", " : "") + arrayParam(i, *type, &value, "u.a");
            alias += QByteArray(i ? ", a" : "a") + QByteArray::number(i + 1);
            where += QByteArray(i ? " AND t." : "t.") + PgConnection::quoteIdentifier(name.toUtf8()) + " = " + value;
        }
        const QByteArray sql = "DELETE FROM " + t.quoted + " AS t USING unnest(" + unnest + ") AS u(" + alias + ") WHERE " + where;
        QString why;
        if (!m_conn.exec(sql, arrays(g, shape.key.size(), true), &why))
            return fail(why, error);
        m_statementRows += g.size();
    }
    return true;
}

bool PgSink::writeTable(Table &t, const QList<RowRef> &deletes, const QList<RowRef> &upserts, const QList<RowRef> &inserts,
                        QString *error)
{
    if (!deletes.isEmpty() && !remove(t, deletes, error))
        return false;
    QList<RowRef> copyRows, upsertRows;
    if (t.fastPath)
        copyRows.reserve(upserts.size());
    for (const RowRef &o : upserts) {
        if (t.fastPath && o.row->superseded) {
            ++m_superseded; // a later row of the replay writes this key (replay.md, "Rebuilds")
            continue;
        }
        if (t.fastPath && !t.written.contains(o.row->keyHash)) {
            t.written.insert(o.row->keyHash);
            copyRows.append(o);
            continue;
        }
        upsertRows.append(o);
    }
    if (t.fastPath) {
        for (const RowRef &o : deletes)
            t.written.insert(o.row->keyHash); // deleted now, but a row may exist again later: upsert then
    }
    return (copyRows.isEmpty() || copy(t, copyRows, error)) && (upsertRows.isEmpty() || upsert(t, upsertRows, error))
           && (inserts.isEmpty() || copy(t, inserts, error));
}

bool PgSink::write(const QList<SinkOutput> &outputs, const QList<ReplayPosition> &progress, QString *error)
{
    return writeRows(toSqlBatch(outputs), progress, error);
}

bool PgSink::writeRows(const SqlBatch &batch, const QList<ReplayPosition> &progress, QString *error)
{
    QString why;
    if (!m_conn.isOpen())
        return fail(u"not connected"_s, error);
    if (!m_conn.command("BEGIN", &why))
        return fail(why, error);
    // Last operation per table and key; inserts keep their order.
    struct PerTable
    {
        QHash<KeyRef, qsizetype> last; // 1 + index in `order`
        QList<RowRef> order;
        QList<RowRef> inserts;
    };
    QHash<QString, PerTable> perTable;
    QList<QString> tableOrder;
    for (const SqlRows &rows : batch) {
        auto it = perTable.find(rows.table());
        if (it == perTable.end()) {
            tableOrder.append(rows.table());
            it = perTable.insert(rows.table(), PerTable{});
        }
        PerTable &p = *it;
        p.last.reserve(p.last.size() + rows.size());
        for (const SqlRows::Row &r : rows.rows()) {
            const RowRef ref{&rows, &r};
            if (r.op == SqlOp::Insert) {
                p.inserts.append(ref);
                continue;
            }
            qsizetype &slot = p.last[KeyRef{ref}];
            if (slot == 0) {
                p.order.append(ref);
                slot = p.order.size();
            } else {
                p.order[slot - 1] = ref;
            }
        }
    }
    for (const QString &name : std::as_const(tableOrder)) {
        const PerTable &p = perTable[name];
        QList<RowRef> deletes, upserts;
        upserts.reserve(p.order.size());
        for (const RowRef &o : p.order)
            (o.row->op == SqlOp::Delete ? deletes : upserts).append(o);
        const RowRef &shape = upserts.isEmpty() ? (p.inserts.isEmpty() ? deletes.first() : p.inserts.first()) : upserts.first();
        Table *t = table(name, shape.shape(), shape.row->op, error);
        if (!t)
            return false;
        if (!writeTable(*t, deletes, upserts, p.inserts, error))
            return false;
    }
    if (!progress.isEmpty()) {
        QByteArray streams("{"), positions("{"), seqs("{");
        for (const ReplayPosition &p : progress) {
            const QByteArray stream = p.stream.toUtf8();
            m_buffer.clear();
            appendArrayElement(m_buffer, SqlCell{stream.constData(), qint32(stream.size())}, streams.size() == 1);
            streams.append(m_buffer.data(), m_buffer.size());
            positions += (positions.size() > 1 ? "," : "") + QByteArray::number(p.position);
            seqs += (seqs.size() > 1 ? "," : "") + QByteArray::number(p.seq);
        }
        if (!m_conn.exec("INSERT INTO public.tapedeck_replay_progress (replay_id, stream, position, seq, updated_at) "
                         "SELECT $1, s, p, q, now() FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(s, p, q) "
                         "ON CONFLICT (replay_id, stream) DO UPDATE SET position = EXCLUDED.position, seq = EXCLUDED.seq, "
                         "updated_at = EXCLUDED.updated_at",
                         {m_replayId.toUtf8(), streams + '}', positions + '}', seqs + '}'}, &why))
            return fail(why, error);
    }
    if (!m_conn.command("COMMIT", &why))
        return fail(why, error);
    return true;
}

} // namespace tapedeck
