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

void appendArrayElement(QByteArray &out, const std::optional<QByteArray> &v)
{
    if (out.size() > 1)
        out += ',';
    if (!v) {
        out += "NULL";
        return;
    }
    out += '"';
    for (const char c : *v) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    out += '"';
}

// COPY text format: backslash, tab, newline and carriage return escaped, \\N for NULL.
void appendCopyValue(ByteBuffer &out, const std::optional<QByteArray> &v)
{
    if (!v) {
        out.append("\\N", 2);
        return;
    }
    const char *p = v->constData();
    const qsizetype n = v->size();
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

// Outputs compare by their key values (names are the table's); hashed
// without building a key string, since this runs for every output.
size_t keyHash(const SinkOutput &o)
{
    size_t h = 0x51ed270b;
    for (const SinkField &f : o.key)
        h = f.value.text ? qHash(QByteArrayView(*f.value.text), h) : (h ^ 0x9e3779b97f4a7c15u) * 31;
    return h;
}

bool sameKey(const SinkOutput &a, const SinkOutput &b)
{
    if (a.key.size() != b.key.size())
        return false;
    for (qsizetype i = 0; i < a.key.size(); ++i) {
        if (a.key[i].value.text != b.key[i].value.text)
            return false;
    }
    return true;
}

struct KeyRef
{
    const SinkOutput *output;
    size_t hash;
    bool operator==(const KeyRef &other) const { return hash == other.hash && sameKey(*output, *other.output); }
};
size_t qHash(const KeyRef &k, size_t seed = 0)
{
    return k.hash ^ seed;
}

// Identity outputs share their names' QString data, so most comparisons end at the pointer.
bool sameName(const QString &a, const QString &b)
{
    return a.constData() == b.constData() ? a.size() == b.size() : a == b;
}

const SinkValue *field(const QList<SinkField> &fields, const QString &name)
{
    for (const SinkField &f : fields) {
        if (f.name == name)
            return &f.value;
    }
    return nullptr;
}

bool sameNames(const QList<SinkField> &a, const QList<SinkField> &b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (!sameName(a[i].name, b[i].name))
            return false;
    }
    return true;
}

// Outputs grouped by column set (transforms may return different shapes), in order of first appearance.
QList<QList<const SinkOutput *>> byShape(const QList<const SinkOutput *> &rows)
{
    QList<QList<const SinkOutput *>> groups;
    for (const SinkOutput *o : rows) {
        bool placed = false;
        for (QList<const SinkOutput *> &g : groups) {
            if (sameNames(g.first()->row, o->row) && sameNames(g.first()->key, o->key)) {
                g.append(o);
                placed = true;
                break;
            }
        }
        if (!placed)
            groups.append(QList<const SinkOutput *>{o});
    }
    return groups;
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

PgSink::Table *PgSink::table(const QString &name, const SinkOutput &shape, QString *error)
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
        QList<SinkField> cols = shape.row;
        for (const SinkField &k : shape.key) {
            if (!field(cols, k.name))
                cols.append(k);
        }
        QByteArray sql;
        if (name.contains(u'.'))
            sql += "CREATE SCHEMA IF NOT EXISTS " + PgConnection::quoteIdentifier(name.left(name.indexOf(u'.')).toUtf8()) + "; ";
        sql += "CREATE TABLE " + t.quoted + " (";
        for (qsizetype i = 0; i < cols.size(); ++i) {
            const QString type = safeType(cols[i].value.type) ? cols[i].value.type : u"text"_s;
            sql += (i ? ", " : "") + PgConnection::quoteIdentifier(cols[i].name.toUtf8()) + ' ' + type.toUtf8();
        }
        if (!shape.key.isEmpty() && shape.op != SqlOp::Insert) {
            sql += ", PRIMARY KEY (";
            for (qsizetype i = 0; i < shape.key.size(); ++i)
                sql += (i ? ", " : "") + PgConnection::quoteIdentifier(shape.key[i].name.toUtf8());
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

bool PgSink::copy(Table &t, const QList<const SinkOutput *> &rows, QString *error)
{
    // One COPY per column set.
    const QList<QList<const SinkOutput *>> groups = byShape(rows);
    for (const QList<const SinkOutput *> &g : groups) {
        const SinkOutput &first = *g.first();
        QByteArray sql = "COPY " + t.quoted + " (";
        for (qsizetype i = 0; i < first.row.size(); ++i) {
            if (!t.types.contains(first.row[i].name))
                return fail(u"column \"%1\" of table %2 does not exist (event #%3)"_s.arg(first.row[i].name,
                                                                                          QString::fromUtf8(t.quoted))
                                .arg(first.seq),
                            error);
            sql += (i ? ", " : "") + PgConnection::quoteIdentifier(first.row[i].name.toUtf8());
        }
        sql += ") FROM STDIN";
        QString why;
        pg::ResultPtr r(PQexec(m_conn.handle(), sql.constData()));
        if (PQresultStatus(r.get()) != PGRES_COPY_IN)
            return fail(QString::fromUtf8(PQresultErrorMessage(r.get())).trimmed(), error);
        ByteBuffer data;
        for (const SinkOutput *o : g) {
            for (qsizetype i = 0; i < o->row.size(); ++i) {
                if (i)
                    data.append('\t');
                appendCopyValue(data, o->row[i].value.text);
            }
            data.append('\n');
            if (data.size() > (1 << 20) - 4096) {
                if (PQputCopyData(m_conn.handle(), data.data(), int(data.size())) != 1)
                    return fail(m_conn.lastError(), error);
                data.clear();
            }
        }
        if ((data.size() > 0 && PQputCopyData(m_conn.handle(), data.data(), int(data.size())) != 1)
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

bool PgSink::upsert(Table &t, const QList<const SinkOutput *> &rows, QString *error)
{
    const QList<QList<const SinkOutput *>> groups = byShape(rows);
    for (const QList<const SinkOutput *> &g : groups) {
        const SinkOutput &first = *g.first();
        QByteArray cols, select, unnest, alias, set, conflict;
        for (qsizetype i = 0; i < first.row.size(); ++i) {
            const QString &name = first.row[i].name;
            const auto type = t.types.constFind(name);
            if (type == t.types.cend())
                return fail(u"column \"%1\" of table %2 does not exist (event #%3)"_s.arg(name, QString::fromUtf8(t.quoted))
                                .arg(first.seq),
                            error);
            const QByteArray q = PgConnection::quoteIdentifier(name.toUtf8());
            const QByteArray n = QByteArray::number(i + 1);
            cols += (i ? ", " : "") + q;
            select += QByteArray(i ? ", " : "") + "u.a" + n + "::" + type->toUtf8();
            unnest += QByteArray(i ? ", $" : "$") + n + "::text[]";
            alias += QByteArray(i ? ", a" : "a") + n;
            if (!field(first.key, name))
                set += (set.isEmpty() ? "" : ", ") + q + " = EXCLUDED." + q;
        }
        for (qsizetype i = 0; i < first.key.size(); ++i)
            conflict += (i ? ", " : "") + PgConnection::quoteIdentifier(first.key[i].name.toUtf8());
        const QByteArray sql = "INSERT INTO " + t.quoted + " (" + cols + ") SELECT " + select + " FROM unnest(" + unnest
                               + ") AS u(" + alias + ") ON CONFLICT (" + conflict + ") "
                               + (set.isEmpty() ? QByteArray("DO NOTHING") : "DO UPDATE SET " + set);
        QList<std::optional<QByteArray>> params;
        for (qsizetype i = 0; i < first.row.size(); ++i) {
            QByteArray a("{");
            for (const SinkOutput *o : g)
                appendArrayElement(a, o->row[i].value.text);
            params.append(a + '}');
        }
        QString why;
        if (!m_conn.exec(sql, params, &why))
            return fail(why, error);
        m_statementRows += g.size();
    }
    return true;
}

bool PgSink::remove(Table &t, const QList<const SinkOutput *> &rows, QString *error)
{
    QHash<QByteArray, QList<const SinkOutput *>> groups;
    for (const SinkOutput *o : rows) {
        QByteArray sig;
        for (const SinkField &f : o->key)
            sig += f.name.toUtf8() + '\0';
        groups[sig].append(o);
    }
    for (const QList<const SinkOutput *> &g : std::as_const(groups)) {
        const SinkOutput &first = *g.first();
        QByteArray unnest, alias, where;
        for (qsizetype i = 0; i < first.key.size(); ++i) {
            const QString &name = first.key[i].name;
            const auto type = t.types.constFind(name);
            if (type == t.types.cend())
                return fail(u"column \"%1\" of table %2 does not exist (event #%3)"_s.arg(name, QString::fromUtf8(t.quoted))
                                .arg(first.seq),
                            error);
            const QByteArray n = QByteArray::number(i + 1);
            unnest += QByteArray(i ? ", $" : "$") + n + "::text[]";
            alias += QByteArray(i ? ", a" : "a") + n;
            where += QByteArray(i ? " AND t." : "t.") + PgConnection::quoteIdentifier(name.toUtf8()) + " = u.a" + n + "::" + type->toUtf8();
        }
        const QByteArray sql = "DELETE FROM " + t.quoted + " AS t USING unnest(" + unnest + ") AS u(" + alias + ") WHERE " + where;
        QList<std::optional<QByteArray>> params;
        for (qsizetype i = 0; i < first.key.size(); ++i) {
            QByteArray a("{");
            for (const SinkOutput *o : g)
                appendArrayElement(a, o->key[i].value.text);
            params.append(a + '}');
        }
        QString why;
        if (!m_conn.exec(sql, params, &why))
            return fail(why, error);
        m_statementRows += g.size();
    }
    return true;
}

bool PgSink::writeTable(Table &t, const QList<const SinkOutput *> &deletes, const QList<const SinkOutput *> &upserts,
                        const QList<const SinkOutput *> &inserts, QString *error)
{
    if (!deletes.isEmpty() && !remove(t, deletes, error))
        return false;
    QList<const SinkOutput *> copyRows, upsertRows;
    for (const SinkOutput *o : upserts) {
        if (t.fastPath) {
            const size_t k = keyHash(*o);
            if (!t.written.contains(k)) {
                t.written.insert(k);
                copyRows.append(o);
                continue;
            }
        }
        upsertRows.append(o);
    }
    if (t.fastPath) {
        for (const SinkOutput *o : deletes)
            t.written.insert(keyHash(*o)); // deleted now, but a row may exist again later: upsert then
    }
    return (copyRows.isEmpty() || copy(t, copyRows, error)) && (upsertRows.isEmpty() || upsert(t, upsertRows, error))
           && (inserts.isEmpty() || copy(t, inserts, error));
}

bool PgSink::write(const QList<SinkOutput> &outputs, const QList<ReplayPosition> &progress, QString *error)
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
        QList<const SinkOutput *> order;
        QList<const SinkOutput *> inserts;
    };
    QHash<QString, PerTable> perTable;
    QList<QString> tableOrder;
    PerTable *current = nullptr;
    const QString *currentName = nullptr;
    for (const SinkOutput &o : outputs) {
        if (!currentName || !sameName(*currentName, o.table)) {
            auto it = perTable.find(o.table);
            if (it == perTable.end()) {
                tableOrder.append(o.table);
                it = perTable.insert(o.table, PerTable{});
                it->last.reserve(outputs.size());
            }
            current = &*it;
            currentName = &o.table;
        }
        if (o.op == SqlOp::Insert) {
            current->inserts.append(&o);
            continue;
        }
        qsizetype &slot = current->last[KeyRef{&o, keyHash(o)}];
        if (slot == 0) {
            current->order.append(&o);
            slot = current->order.size();
        } else {
            current->order[slot - 1] = &o;
        }
    }
    for (const QString &name : std::as_const(tableOrder)) {
        const PerTable &p = perTable[name];
        QList<const SinkOutput *> deletes, upserts;
        for (const SinkOutput *o : p.order)
            (o->op == SqlOp::Delete ? deletes : upserts).append(o);
        const SinkOutput &shape = upserts.isEmpty() ? (p.inserts.isEmpty() ? *deletes.first() : *p.inserts.first()) : *upserts.first();
        Table *t = table(name, shape, error);
        if (!t)
            return false;
        if (!writeTable(*t, deletes, upserts, p.inserts, error))
            return false;
    }
    if (!progress.isEmpty()) {
        QByteArray streams("{"), positions("{"), seqs("{");
        for (const ReplayPosition &p : progress) {
            appendArrayElement(streams, p.stream.toUtf8());
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
