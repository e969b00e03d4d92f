#include "connectors/postgres/sink/pgsink.h"

#include "core/base/varint.h"
#include "core/postgres/pgtypes.h"

#include <libpq-fe.h>

#include <QRegularExpression>

#include <algorithm>
#include <future>

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
    return m_description.isEmpty() ? u"PostgreSQL"_s : m_description; // set by open(): lanes' threads may call this
}

qint64 PgSink::copiedRows() const
{
    qint64 n = 0;
    for (const auto &l : m_lanes)
        n += l->copied;
    return n;
}

qint64 PgSink::statementRows() const
{
    qint64 n = 0;
    for (const auto &l : m_lanes)
        n += l->statementRows;
    return n;
}

QList<qint64> PgSink::laneRows() const
{
    QList<qint64> n;
    for (const auto &l : m_lanes)
        n.append(l->copied + l->statementRows);
    return n;
}

quint64 PgSink::laneHash(const SqlCell *keyCells, qsizetype n)
{
    // FNV-1a over the key's values (NULL and separators marked): the same on
    // every machine and in every run, which resuming relies on.
    quint64 h = 0xcbf29ce484222325ull;
    auto mix = [&](uchar c) {
        h ^= c;
        h *= 0x100000001b3ull;
    };
    for (qsizetype i = 0; i < n; ++i) {
        mix(keyCells[i].isNull() ? 1 : 2);
        for (qint32 j = 0; j < std::max<qint32>(0, keyCells[i].size); ++j)
            mix(uchar(keyCells[i].data[j]));
        mix(0);
    }
    return h;
}

bool PgSink::fail(Lane &lane, const QString &what, QString *error)
{
    *error = u"%1: %2"_s.arg(describe(), what.simplified()); // libpq's messages span lines
    if (lane.conn.isOpen() && PQstatus(lane.conn.handle()) == CONNECTION_OK) {
        QString ignored;
        lane.conn.command("ROLLBACK", &ignored);
    } else {
        *error += u" (the connection is lost; nothing of this batch was committed unless its COMMIT got through: "
                  "rerun with the same replay id to continue exactly after the last committed batch)"_s;
    }
    return false;
}

void PgSink::rollbackAll()
{
    for (const auto &l : m_lanes) {
        QString ignored;
        if (l->conn.isOpen() && PQstatus(l->conn.handle()) == CONNECTION_OK && PQtransactionStatus(l->conn.handle()) != PQTRANS_IDLE)
            l->conn.command("ROLLBACK", &ignored);
    }
    m_tables.clear(); // created tables and fast-path state may have been rolled back
}

bool PgSink::open(const QString &replayId, QString *error)
{
    m_replayId = replayId;
    m_committed.clear();
    m_tables.clear();
    m_lanes.clear();
    // Every lane's session; `then` runs after the settings in the same round trip.
    auto connect = [&](Lane &lane, const QByteArray &then, QString *why) -> bool {
        if (!lane.conn.open(m_dsn, PgConnection::Kind::Sql, why))
            return false;
        // Server notices (e.g. "terminating connection due to immediate shutdown")
        // would go straight to stderr; errors reach the caller as values instead.
        PQsetNoticeProcessor(lane.conn.handle(), [](void *, const char *) {}, nullptr);
        if (lane.conn.command("SET synchronous_commit = on; SET client_min_messages = warning" + then, why))
            return true;
        *why = u"%1: %2"_s.arg(lane.conn.describe(), *why);
        return false;
    };
    m_description.clear();
    auto first = std::make_unique<Lane>();
    QString why;
    if (!connect(*first,
                 "; CREATE TABLE IF NOT EXISTS public.tapedeck_replay_progress (replay_id text NOT NULL, "
                 "stream text NOT NULL, position bigint NOT NULL, seq bigint NOT NULL, "
                 "updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (replay_id, stream))",
                 error))
        return false;
    m_description = first->conn.describe();
    // One run of a replay id per database at a time: its session holds an
    // advisory lock on the id until it ends. A second run waits for the first,
    // and so does a rerun after the replayer was killed while the server
    // still finishes its last transaction (it may yet commit): the rerun
    // reads the progress only once that session is gone.
    if (!first->conn.command("BEGIN; SET LOCAL lock_timeout = " + QByteArray::number(std::max(1, m_options.replayLockTimeoutMs)), &why)
        || !first->conn.exec("SELECT pg_advisory_lock(hashtext('tapedeck_replay_progress'), hashtext($1))", {replayId.toUtf8()}, &why)
        || !first->conn.command("COMMIT", &why)) {
        QString ignored;
        first->conn.command("ROLLBACK", &ignored);
        *error = why.contains(u"lock timeout"_s)
                     ? u"%1: another run of replay id %2 is writing into this database (waited %3 s for it to end); "
                       "wait for it, or use another --replay-id"_s.arg(first->conn.describe(), replayId)
                           .arg(std::max(1, m_options.replayLockTimeoutMs) / 1000.0)
                     : u"%1: %2"_s.arg(first->conn.describe(), why);
        return false;
    }
    const auto r = first->conn.exec("SELECT stream, position, seq FROM public.tapedeck_replay_progress WHERE replay_id = $1",
                                    {replayId.toUtf8()}, &why);
    if (!r) {
        *error = u"%1: %2"_s.arg(first->conn.describe(), why);
        return false;
    }
    // Progress rows of one lane have plain stream names; of N lanes, each
    // lane's end in " (lane K of N)". A replay id keeps the lanes it began with.
    static const QRegularExpression laneName(u"^(.*) \\(lane (\\d+) of (\\d+)\\)$"_s);
    struct Row
    {
        int lane; // 0-based
        ReplayPosition position;
    };
    QList<Row> rows;
    int historyLanes = 0;
    for (int i = 0; i < PgConnection::rows(r); ++i) {
        ReplayPosition p{QString::fromUtf8(PgConnection::value(r, i, 0)), PgConnection::value(r, i, 1).toLongLong(),
                         PgConnection::value(r, i, 2).toLongLong()};
        int lane = 0, of = 1;
        if (const auto m = laneName.match(p.stream); m.hasMatch()) {
            p.stream = m.captured(1);
            lane = m.captured(2).toInt() - 1;
            of = m.captured(3).toInt();
            if (of < 2 || of > 64 || lane < 0 || lane >= of) {
                *error = u"%1: replay id %2 has a progress row of no valid lane in public.tapedeck_replay_progress: %3"_s.arg(
                    describe(), replayId, QString::fromUtf8(PgConnection::value(r, i, 0)));
                return false;
            }
        }
        if (historyLanes && of != historyLanes) {
            *error = u"%1: replay id %2 has progress rows of %3 and of %4 lanes in public.tapedeck_replay_progress"_s.arg(
                first->conn.describe(), replayId)
                         .arg(historyLanes)
                         .arg(of);
            return false;
        }
        historyLanes = of;
        rows.append(Row{lane, p});
    }
    const int lanes = historyLanes ? historyLanes : std::clamp(m_options.connections, 1, 64);
    m_lanes.push_back(std::move(first));
    for (int k = 1; k < lanes; ++k) {
        auto lane = std::make_unique<Lane>();
        if (!connect(*lane, {}, &why)) {
            *error = u"%1: lane %2 of %3: %4"_s.arg(describe()).arg(k + 1).arg(lanes).arg(why);
            m_lanes.clear();
            return false;
        }
        m_lanes.push_back(std::move(lane));
    }
    if (lanes > 1)
        m_description += u" (%1 connections)"_s.arg(lanes);
    for (int k = 0; k < lanes && lanes > 1; ++k) {
        Lane &lane = *m_lanes[size_t(k)];
        lane.suffix = u" (lane %1 of %2)"_s.arg(k + 1).arg(lanes);
        // Told apart in pg_stat_activity. A lane never waits for another's
        // rows (keys are split), but should a row still be reached from two
        // lanes (keys spelt two ways), the wait would pass through this
        // process, where the server cannot see a deadlock: it times out.
        if (!lane.conn.command("SET application_name = " + PgConnection::quoteLiteral("tapedeck" + lane.suffix.toUtf8())
                                   + "; SET lock_timeout = " + QByteArray::number(std::max(1, m_options.laneLockTimeoutMs)),
                               &why)) {
            *error = u"%1: %2"_s.arg(describe(), why);
            m_lanes.clear();
            return false;
        }
    }
    QHash<QString, QList<ReplayPosition>> byStream; // per stream, per lane
    QList<QString> streamOrder;
    for (const Row &row : std::as_const(rows)) {
        Lane &lane = *m_lanes[size_t(row.lane)];
        lane.committedSeq = std::max(lane.committedSeq, row.position.seq);
        auto it = byStream.find(row.position.stream);
        if (it == byStream.end()) {
            streamOrder.append(row.position.stream);
            it = byStream.insert(row.position.stream, QList<ReplayPosition>(lanes));
        }
        (*it)[row.lane] = row.position;
    }
    // What every lane committed: the replay goes on from there.
    for (const QString &stream : std::as_const(streamOrder)) {
        const QList<ReplayPosition> &per = byStream[stream];
        const auto least = std::min_element(per.cbegin(), per.cend(), [](const ReplayPosition &a, const ReplayPosition &b) {
            return a.seq < b.seq;
        });
        if (least->seq >= 0)
            m_committed.append(*least);
    }
    return true;
}

PgSink::Table *PgSink::table(const QString &name, const SqlRows::Shape &shape, SqlOp op, bool *created, QString *error)
{
    *created = false;
    auto it = m_tables.find(name);
    if (it != m_tables.end())
        return it->get();
    Lane &lane = *m_lanes[0];
    Table t;
    t.quoted = qualified(name);
    QString why;
    auto columns = [&] {
        return lane.conn.exec("SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attrelid::oid::text FROM pg_attribute a "
                              "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
                              {t.quoted}, &why);
    };
    auto failed = [&](const QString &what) -> Table * {
        fail(lane, what, error);
        rollbackAll();
        return nullptr;
    };
    auto r = columns();
    if (!r)
        return failed(why);
    if (PgConnection::rows(r) == 0) {
        if (!m_options.createTables)
            return failed(u"table %1 does not exist (--create-tables creates it from the outputs)"_s.arg(QString::fromUtf8(t.quoted)));
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
        if (m_options.confirmCreate && !m_options.confirmCreate(QString::fromUtf8(t.quoted), QString::fromUtf8(sql)))
            return failed(u"table %1 does not exist (creating it was declined)"_s.arg(QString::fromUtf8(t.quoted)));
        if (!lane.conn.command(sql, &why) || !(r = columns()))
            return failed(why);
        *created = true;
    }
    for (int i = 0; i < PgConnection::rows(r); ++i)
        t.types.insert(QString::fromUtf8(PgConnection::value(r, i, 0)), QString::fromUtf8(PgConnection::value(r, i, 1)));
    // Another name of a table already in use ("orders" and "public.orders"): the same state.
    const QString oidKey = u"#oid "_s + QString::fromUtf8(PgConnection::value(r, 0, 2));
    if (const auto same = m_tables.constFind(oidKey); same != m_tables.cend()) {
        m_tables.insert(name, *same);
        return same->get();
    }
    if (m_options.copyFastPath) {
        const auto empty = lane.conn.exec("SELECT NOT EXISTS (SELECT 1 FROM " + t.quoted + ")", {}, &why);
        if (!empty)
            return failed(why);
        t.fastPath = PgConnection::value(empty, 0, 0) == "t";
    }
    if (m_lanes.size() > 1) {
        // Rows of one key always meet in one lane, but rows of different keys
        // may depend on each other through these: such tables keep to lane 1.
        const auto single = lane.conn.exec(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype IN ('f', 'x') AND (conrelid = to_regclass($1) OR confrelid = to_regclass($1))) "
            "OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND NOT tgisinternal) "
            "OR (SELECT count(*) FROM pg_index WHERE indrelid = to_regclass($1) AND indisunique) <> 1 "
            "OR EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = to_regclass($1) AND rulename <> '_RETURN')",
            {t.quoted}, &why);
        if (!single)
            return failed(why);
        t.oneLane = PgConnection::value(single, 0, 0) == "t";
        const auto pk = lane.conn.exec("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                                       "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = to_regclass($1) AND i.indisprimary",
                                       {t.quoted}, &why);
        if (!pk)
            return failed(why);
        for (int i = 0; i < PgConnection::rows(pk); ++i)
            t.primaryKey.append(QString::fromUtf8(PgConnection::value(pk, i, 0)));
    }
    auto shared = std::make_shared<Table>(std::move(t));
    m_tables.insert(oidKey, shared);
    m_tables.insert(name, shared);
    return shared.get();
}

bool PgSink::missingColumn(Lane &lane, const Table &t, const QString &column, qint64 seq, QString *error)
{
    return fail(lane, u"column \"%1\" of table %2 does not exist (event #%3)"_s.arg(column, QString::fromUtf8(t.quoted)).arg(seq),
                error);
}

bool PgSink::copy(Lane &lane, Table &t, const QList<RowRef> &rows, QString *error)
{
    // One COPY per column set.
    const QList<QList<RowRef>> groups = byShape(rows);
    for (const QList<RowRef> &g : groups) {
        const SqlRows::Shape &shape = g.first().shape();
        const qsizetype columns = shape.columns.size();
        QByteArray sql = "COPY " + t.quoted + " (";
        for (qsizetype i = 0; i < columns; ++i) {
            if (!t.types.contains(shape.columns[i]))
                return missingColumn(lane, t, shape.columns[i], g.first().row->seq, error);
            sql += (i ? ", " : "") + PgConnection::quoteIdentifier(shape.columns[i].toUtf8());
        }
        sql += ") FROM STDIN";
        pg::ResultPtr r(PQexec(lane.conn.handle(), sql.constData()));
        if (PQresultStatus(r.get()) != PGRES_COPY_IN)
            return fail(lane, QString::fromUtf8(PQresultErrorMessage(r.get())).trimmed(), error);
        lane.buffer.clear();
        for (const RowRef &o : g) {
            const SqlCell *cells = o.cells();
            for (qsizetype i = 0; i < columns; ++i) {
                if (i)
                    lane.buffer.append('\t');
                appendCopyValue(lane.buffer, cells[i]);
            }
            lane.buffer.append('\n');
            if (lane.buffer.size() > (1 << 20) - 4096) {
                if (PQputCopyData(lane.conn.handle(), lane.buffer.data(), int(lane.buffer.size())) != 1)
                    return fail(lane, lane.conn.lastError(), error);
                lane.buffer.clear();
            }
        }
        if ((lane.buffer.size() > 0 && PQputCopyData(lane.conn.handle(), lane.buffer.data(), int(lane.buffer.size())) != 1)
            || PQputCopyEnd(lane.conn.handle(), nullptr) != 1)
            return fail(lane, lane.conn.lastError(), error);
        pg::ResultPtr end(PQgetResult(lane.conn.handle()));
        if (PQresultStatus(end.get()) != PGRES_COMMAND_OK)
            return fail(lane, QString::fromUtf8(PQresultErrorMessage(end.get())).trimmed(), error);
        while (pg::ResultPtr more{PQgetResult(lane.conn.handle())}) {
        }
        lane.copied += g.size();
    }
    return true;
}

// One array parameter per column: `{"v1","v2",NULL,...}`.
QList<std::optional<QByteArray>> PgSink::arrays(Lane &lane, const QList<RowRef> &rows, qsizetype columns, bool key)
{
    QList<std::optional<QByteArray>> params;
    for (qsizetype i = 0; i < columns; ++i) {
        lane.buffer.clear();
        lane.buffer.append('{');
        bool first = true;
        for (const RowRef &o : rows) {
            appendArrayElement(lane.buffer, (key ? o.keyCells() : o.cells())[i], first);
            first = false;
        }
        lane.buffer.append('}');
        params.append(QByteArray(lane.buffer.data(), lane.buffer.size()));
    }
    return params;
}

bool PgSink::upsert(Lane &lane, Table &t, const QList<RowRef> &rows, QString *error)
{
    const QList<QList<RowRef>> groups = byShape(rows);
    for (const QList<RowRef> &g : groups) {
        const SqlRows::Shape &shape = g.first().shape();
        QByteArray cols, select, unnest, alias, set, conflict, current, incoming;
        for (qsizetype i = 0; i < shape.columns.size(); ++i) {
            const QString &name = shape.columns[i];
            const auto type = t.types.constFind(name);
            if (type == t.types.cend())
                return missingColumn(lane, t, name, g.first().row->seq, error);
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
        if (!lane.conn.exec(sql, arrays(lane, g, shape.columns.size(), false), &why))
            return fail(lane, why, error);
        lane.statementRows += g.size();
    }
    return true;
}

bool PgSink::remove(Lane &lane, Table &t, const QList<RowRef> &rows, QString *error)
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
                return missingColumn(lane, t, name, g.first().row->seq, error);
            QByteArray value;
            unnest += (i ? ", " : "") + arrayParam(i, *type, &value, "u.a");
            alias += QByteArray(i ? ", a" : "a") + QByteArray::number(i + 1);
            where += QByteArray(i ? " AND t." : "t.") + PgConnection::quoteIdentifier(name.toUtf8()) + " = " + value;
        }
        const QByteArray sql = "DELETE FROM " + t.quoted + " AS t USING unnest(" + unnest + ") AS u(" + alias + ") WHERE " + where;
        QString why;
        if (!lane.conn.exec(sql, arrays(lane, g, shape.key.size(), true), &why))
            return fail(lane, why, error);
        lane.statementRows += g.size();
    }
    return true;
}

bool PgSink::writeLane(Lane &lane, const QList<Work> &work, const QList<ReplayPosition> &progress, QString *error)
{
    // Per table: deletes, upserts, then inserts (keyless ones, and upserts of
    // keys that cannot exist yet, told apart in writeBatch()) by COPY.
    for (const Work &w : work) {
        Table &t = *w.table;
        if ((!w.deletes.isEmpty() && !remove(lane, t, w.deletes, error)) || (!w.upserts.isEmpty() && !upsert(lane, t, w.upserts, error))
            || (!w.inserts.isEmpty() && !copy(lane, t, w.inserts, error)))
            return false;
    }
    if (progress.isEmpty())
        return true;
    QByteArray streams("{"), positions("{"), seqs("{");
    for (const ReplayPosition &p : progress) {
        const QByteArray stream = (p.stream + lane.suffix).toUtf8();
        lane.buffer.clear();
        appendArrayElement(lane.buffer, SqlCell{stream.constData(), qint32(stream.size())}, streams.size() == 1);
        streams.append(lane.buffer.data(), lane.buffer.size());
        positions += (positions.size() > 1 ? "," : "") + QByteArray::number(p.position);
        seqs += (seqs.size() > 1 ? "," : "") + QByteArray::number(p.seq);
    }
    QString why;
    if (!lane.conn.exec("INSERT INTO public.tapedeck_replay_progress (replay_id, stream, position, seq, updated_at) "
                        "SELECT $1, s, p, q, now() FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(s, p, q) "
                        "ON CONFLICT (replay_id, stream) DO UPDATE SET position = EXCLUDED.position, seq = EXCLUDED.seq, "
                        "updated_at = EXCLUDED.updated_at",
                        {m_replayId.toUtf8(), streams + '}', positions + '}', seqs + '}'}, &why))
        return fail(lane, why, error);
    return true;
}

bool PgSink::write(const QList<SinkOutput> &outputs, const QList<ReplayPosition> &progress, QString *error)
{
    return writeRows(toSqlBatch(outputs), progress, error);
}

bool PgSink::writeRows(const SqlBatch &batch, const QList<ReplayPosition> &progress, QString *error)
{
    QString why;
    if (writeBatch(batch, progress, false, &why))
        return true;
    if (m_lanes.size() < 2 || !why.contains(u"lock timeout"_s)) {
        *error = why;
        return false;
    }
    // A lane waited too long for a lock: another lane's row (a key spelt two
    // ways), or a session outside the replay. The batch goes again, all of it
    // by lane 1, which waits as long as it takes (the other lanes write only
    // their progress rows).
    return writeBatch(batch, progress, true, error);
}

bool PgSink::writeBatch(const SqlBatch &batch, const QList<ReplayPosition> &progress, bool single, QString *error)
{
    QString why;
    if (m_lanes.empty()) {
        *error = u"%1: not connected"_s.arg(describe());
        return false;
    }
    Lane &first = *m_lanes[0];
    if (!first.conn.isOpen())
        return fail(first, u"not connected"_s, error);
    const int lanes = int(m_lanes.size());
    // The catalog is read, and missing tables created, in lane 1's transaction.
    if (!first.conn.command(single ? "BEGIN; SET LOCAL lock_timeout = 0" : "BEGIN", &why)) {
        fail(first, why, error);
        rollbackAll();
        return false;
    }
    // The tables, each found (or created) once, from the shape of its first
    // upsert, else insert, else delete; two names of one table ("orders",
    // "public.orders") are one table from here on.
    QHash<QString, RowRef> shapeOf;
    QList<QString> names;
    for (const SqlRows &rows : batch) {
        for (const SqlRows::Row &r : rows.rows()) {
            auto it = shapeOf.find(rows.table());
            if (it == shapeOf.end()) {
                names.append(rows.table());
                shapeOf.insert(rows.table(), RowRef{&rows, &r});
            } else if (it->row->op != SqlOp::Upsert && (r.op == SqlOp::Upsert || (r.op == SqlOp::Insert && it->row->op == SqlOp::Delete))) {
                *it = RowRef{&rows, &r};
            }
        }
    }
    bool created = false;
    QHash<QString, Table *> tableOf;
    for (const QString &name : std::as_const(names)) {
        const RowRef &shape = shapeOf[name];
        bool made = false;
        Table *t = table(name, shape.shape(), shape.row->op, &made, error);
        if (!t)
            return false;
        tableOf.insert(name, t);
        created = created || made;
    }
    // Last operation per table and key; inserts keep their order.
    struct PerTable
    {
        QHash<KeyRef, qsizetype> last; // 1 + index in `order`
        QList<RowRef> order;
        QList<RowRef> inserts;
    };
    QHash<Table *, PerTable> perTable;
    QList<Table *> tableOrder;
    for (const SqlRows &rows : batch) {
        Table *t = tableOf.value(rows.table());
        if (!t)
            continue; // no rows
        auto it = perTable.find(t);
        if (it == perTable.end()) {
            tableOrder.append(t);
            it = perTable.insert(t, PerTable{});
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
    // Each lane's share: a key by its lane hash; a whole table where it must
    // keep to one lane (see the class comment; also when this batch has
    // keyless inserts into it, or rows keyed by other columns than its
    // primary key, which could reach a row another lane holds); the whole
    // batch when it created a table (other connections cannot see it before
    // it commits).
    std::vector<QList<Work>> work{size_t(lanes)};
    qint64 superseded = 0; // counted once the batch commits (it may go twice)
    for (Table *table : std::as_const(tableOrder)) {
        const PerTable &p = perTable[table];
        Table &t = *table;
        bool one = lanes == 1 || single || t.oneLane || created || !p.inserts.isEmpty();
        for (qsizetype i = 0; i < p.order.size() && !one; ++i) {
            const QList<QString> &key = p.order[i].shape().key;
            one = key.size() != t.primaryKey.size()
                  || !std::all_of(key.cbegin(), key.cend(), [&](const QString &c) { return t.primaryKey.contains(c); });
        }
        std::vector<Work> share(size_t(one ? 1 : lanes));
        for (Work &w : share)
            w.table = &t;
        auto hashLane = [&](const RowRef &o) { return int(laneHash(o.keyCells(), o.shape().key.size()) % quint64(lanes)); };
        // A row an earlier run committed is left out. It went to its hash lane
        // or to lane 1 then (which one depended on that batch), so it is left
        // out only when both committed it; writing it again is harmless (the
        // last operation of its key in that batch, and the later ones follow).
        // One lane never gets rows it committed: a rerun starts after them.
        // A table that always keeps to lane 1 (t.oneLane: triggers, foreign
        // keys, …) went there then too, and is not written again (its
        // triggers would fire again); unless its catalog changed meanwhile.
        auto pending = [&](const RowRef &o) {
            if (lanes == 1)
                return true;
            const qint64 done = t.oneLane ? m_lanes[0]->committedSeq
                                          : std::min(m_lanes[0]->committedSeq, m_lanes[size_t(hashLane(o))]->committedSeq);
            return o.row->seq > done;
        };
        for (const RowRef &o : std::as_const(p.order)) {
            if (!pending(o))
                continue;
            const int k = one ? 0 : hashLane(o);
            Work &w = share[size_t(k)];
            if (o.row->op == SqlOp::Delete) {
                w.deletes.append(o);
                if (t.fastPath)
                    t.written.insert(o.row->keyHash); // deleted now, but a row may exist again later: upsert then
                continue;
            }
            if (t.fastPath && o.row->superseded) {
                ++superseded; // a later row of the replay writes this key (replay.md, "Rebuilds")
                continue;
            }
            if (t.fastPath && !t.written.contains(o.row->keyHash)) {
                t.written.insert(o.row->keyHash);
                w.inserts.append(o); // cannot exist yet: by COPY
                continue;
            }
            w.upserts.append(o);
        }
        for (const RowRef &o : std::as_const(p.inserts)) {
            if (lanes == 1 || o.row->seq > m_lanes[0]->committedSeq)
                share[0].inserts.append(o); // keyless: lane 1, in order
        }
        for (size_t k = 0; k < share.size(); ++k) {
            if (!share[k].deletes.isEmpty() || !share[k].upserts.isEmpty() || !share[k].inserts.isEmpty())
                work[k].append(std::move(share[k]));
        }
    }
    // Lanes 2..N on threads of their own, lane 1 here; all commit, in lane
    // order, only when all succeeded.
    std::vector<QString> errors{size_t(lanes)};
    std::vector<std::future<bool>> others;
    for (int k = 1; k < lanes; ++k) {
        others.push_back(std::async(std::launch::async, [this, k, &work, &progress, &errors] {
            Lane &lane = *m_lanes[size_t(k)];
            QString why;
            if (!lane.conn.command("BEGIN", &why))
                return fail(lane, why, &errors[size_t(k)]);
            return writeLane(lane, work[size_t(k)], progress, &errors[size_t(k)]);
        }));
    }
    bool ok = writeLane(first, work[0], progress, &errors[0]);
    for (auto &f : others)
        ok = f.get() && ok;
    if (!ok) {
        for (const QString &e : errors) {
            if (!e.isEmpty()) {
                *error = e;
                break;
            }
        }
        rollbackAll();
        return false;
    }
    qint64 last = -1;
    for (const ReplayPosition &p : progress)
        last = std::max(last, p.seq);
    for (size_t k = 0; k < m_lanes.size(); ++k) {
        const auto &lane = m_lanes[k];
        if (m_options.beforeCommit)
            m_options.beforeCommit(int(k));
        if (!lane->conn.command("COMMIT", &why)) {
            fail(*lane, why, error);
            if (k > 0)
                *error += u" (lanes 1-%1 of %2 did commit this batch; a rerun with the same replay id goes on after what each lane committed)"_s
                              .arg(k)
                              .arg(lanes);
            rollbackAll();
            return false;
        }
        lane->committedSeq = std::max(lane->committedSeq, last);
    }
    m_superseded += superseded;
    return true;
}

} // namespace tapedeck
