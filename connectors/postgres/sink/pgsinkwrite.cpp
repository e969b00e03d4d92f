// PgSink's writing half: a batch's tables, its rows collapsed per key and
// shared among the lanes, and each lane's statements (pgsink.cpp opens the
// sessions and reads the catalog).
#include "connectors/postgres/sink/pgsink.h"

#include "connectors/postgres/sink/pgsinksql_p.h"

#include <libpq-fe.h>

#include <algorithm>
#include <future>

using namespace Qt::StringLiterals;

namespace tapedeck {

using namespace pgsinksql;

namespace {

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

} // namespace

// Last operation per table and key; inserts keep their order.
struct PgSink::PerTable
{
    QHash<KeyRef, qsizetype> last; // 1 + index in `order`
    QList<RowRef> order;
    QList<RowRef> inserts;
};

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
        QString missing;
        const QByteArray sql = upsertSql(t.quoted, t.types, g.first().shape(), &missing);
        if (sql.isEmpty())
            return missingColumn(lane, t, missing, g.first().row->seq, error);
        QString why;
        if (!lane.conn.exec(sql, arrays(lane, g, g.first().shape().columns.size(), false), &why))
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
        QString missing;
        const QByteArray sql = deleteSql(t.quoted, t.types, g.first().shape(), &missing);
        if (sql.isEmpty())
            return missingColumn(lane, t, missing, g.first().row->seq, error);
        QString why;
        if (!lane.conn.exec(sql, arrays(lane, g, g.first().shape().key.size(), true), &why))
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
    // The catalog is read, and missing tables created, in lane 1's transaction.
    if (!first.conn.command(single ? "BEGIN; SET LOCAL lock_timeout = 0" : "BEGIN", &why)) {
        fail(first, why, error);
        rollbackAll();
        return false;
    }
    QHash<QString, Table *> tableOf;
    bool created = false;
    if (!batchTables(batch, &tableOf, &created, error))
        return false;
    QHash<Table *, PerTable> perTable;
    QList<Table *> tableOrder;
    collapse(batch, tableOf, &perTable, &tableOrder);
    std::vector<QList<Work>> work{m_lanes.size()};
    qint64 superseded = 0; // counted once the batch commits (it may go twice)
    for (Table *t : std::as_const(tableOrder))
        share(*t, perTable[t], single || created, &work, &superseded);
    if (!writeLanes(work, progress, error) || !commitLanes(progress, error))
        return false;
    m_superseded += superseded;
    return true;
}

bool PgSink::batchTables(const SqlBatch &batch, QHash<QString, Table *> *tableOf, bool *created, QString *error)
{
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
    for (const QString &name : std::as_const(names)) {
        const RowRef &shape = shapeOf[name];
        bool made = false;
        Table *t = table(name, shape.shape(), shape.row->op, &made, error);
        if (!t)
            return false;
        tableOf->insert(name, t);
        *created = *created || made;
    }
    return true;
}

void PgSink::collapse(const SqlBatch &batch, const QHash<QString, Table *> &tableOf, QHash<Table *, PerTable> *perTable,
                      QList<Table *> *tableOrder)
{
    for (const SqlRows &rows : batch) {
        Table *t = tableOf.value(rows.table());
        if (!t)
            continue; // no rows
        auto it = perTable->find(t);
        if (it == perTable->end()) {
            tableOrder->append(t);
            it = perTable->insert(t, PerTable{});
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
}

void PgSink::share(Table &t, const PerTable &p, bool oneLane, std::vector<QList<Work>> *work, qint64 *superseded)
{
    // Each lane's share: a key by its lane hash; a whole table where it must
    // keep to one lane (see the class comment; also when this batch has
    // keyless inserts into it, or rows keyed by other columns than its
    // primary key, which could reach a row another lane holds); the whole
    // batch when it created a table (other connections cannot see it before
    // it commits).
    const int lanes = int(m_lanes.size());
    bool one = lanes == 1 || oneLane || t.oneLane || !p.inserts.isEmpty();
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
            ++*superseded; // a later row of the replay writes this key (replay.md, "Rebuilds")
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
            (*work)[k].append(std::move(share[k]));
    }
}

bool PgSink::writeLanes(const std::vector<QList<Work>> &work, const QList<ReplayPosition> &progress, QString *error)
{
    // Lanes 2..N on threads of their own, lane 1 here; all commit, in lane
    // order, only when all succeeded.
    const int lanes = int(m_lanes.size());
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
    bool ok = writeLane(*m_lanes[0], work[0], progress, &errors[0]);
    for (auto &f : others)
        ok = f.get() && ok;
    if (ok)
        return true;
    for (const QString &e : errors) {
        if (!e.isEmpty()) {
            *error = e;
            break;
        }
    }
    rollbackAll();
    return false;
}

bool PgSink::commitLanes(const QList<ReplayPosition> &progress, QString *error)
{
    qint64 last = -1;
    for (const ReplayPosition &p : progress)
        last = std::max(last, p.seq);
    for (size_t k = 0; k < m_lanes.size(); ++k) {
        const auto &lane = m_lanes[k];
        if (m_options.beforeCommit)
            m_options.beforeCommit(int(k));
        QString why;
        if (!lane->conn.command("COMMIT", &why)) {
            fail(*lane, why, error);
            if (k > 0)
                *error += u" (lanes 1-%1 of %2 did commit this batch; a rerun with the same replay id goes on after what each lane committed)"_s
                              .arg(k)
                              .arg(int(m_lanes.size()));
            rollbackAll();
            return false;
        }
        lane->committedSeq = std::max(lane->committedSeq, last);
    }
    return true;
}

} // namespace tapedeck
