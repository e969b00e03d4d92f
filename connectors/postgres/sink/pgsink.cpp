#include "connectors/postgres/sink/pgsink.h"

#include "connectors/postgres/sink/pgsinksql_p.h"

#include <libpq-fe.h>

#include <QRegularExpression>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace tapedeck {

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

bool PgSink::connectLane(Lane &lane, const QByteArray &then, QString *why)
{
    if (!lane.conn.open(m_dsn, PgConnection::Kind::Sql, why))
        return false;
    // Server notices (e.g. "terminating connection due to immediate shutdown")
    // would go straight to stderr; errors reach the caller as values instead.
    PQsetNoticeProcessor(lane.conn.handle(), [](void *, const char *) {}, nullptr);
    // `then` runs after the settings in the same round trip.
    if (lane.conn.command("SET synchronous_commit = on; SET client_min_messages = warning" + then, why))
        return true;
    *why = u"%1: %2"_s.arg(lane.conn.describe(), *why);
    return false;
}

bool PgSink::open(const QString &replayId, QString *error)
{
    m_replayId = replayId;
    m_committed.clear();
    m_tables.clear();
    m_lanes.clear();
    m_description.clear();
    auto first = std::make_unique<Lane>();
    if (!connectLane(*first,
                     "; CREATE TABLE IF NOT EXISTS public.tapedeck_replay_progress (replay_id text NOT NULL, "
                     "stream text NOT NULL, position bigint NOT NULL, seq bigint NOT NULL, "
                     "updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (replay_id, stream))",
                     error))
        return false;
    m_description = first->conn.describe();
    QList<ProgressRow> rows;
    int historyLanes = 0;
    if (!lockReplayId(*first, error) || !readProgress(*first, &rows, &historyLanes, error))
        return false;
    const int lanes = historyLanes ? historyLanes : std::clamp(m_options.connections, 1, 64);
    m_lanes.push_back(std::move(first));
    if (!openLanes(lanes, error))
        return false;
    resumeFrom(rows, lanes);
    return true;
}

bool PgSink::lockReplayId(Lane &first, QString *error)
{
    // One run of a replay id per database at a time: its session holds an
    // advisory lock on the id until it ends. A second run waits for the first,
    // and so does a rerun after the replayer was killed while the server
    // still finishes its last transaction (it may yet commit): the rerun
    // reads the progress only once that session is gone.
    QString why;
    if (first.conn.command("BEGIN; SET LOCAL lock_timeout = " + QByteArray::number(std::max(1, m_options.replayLockTimeoutMs)), &why)
        && first.conn.exec("SELECT pg_advisory_lock(hashtext('tapedeck_replay_progress'), hashtext($1))", {m_replayId.toUtf8()}, &why)
        && first.conn.command("COMMIT", &why))
        return true;
    QString ignored;
    first.conn.command("ROLLBACK", &ignored);
    *error = why.contains(u"lock timeout"_s)
                 ? u"%1: another run of replay id %2 is writing into this database (waited %3 s for it to end); "
                   "wait for it, or use another --replay-id"_s.arg(first.conn.describe(), m_replayId)
                       .arg(std::max(1, m_options.replayLockTimeoutMs) / 1000.0)
                 : u"%1: %2"_s.arg(first.conn.describe(), why);
    return false;
}

bool PgSink::readProgress(Lane &first, QList<ProgressRow> *rows, int *historyLanes, QString *error)
{
    QString why;
    const auto r = first.conn.exec("SELECT stream, position, seq FROM public.tapedeck_replay_progress WHERE replay_id = $1",
                                   {m_replayId.toUtf8()}, &why);
    if (!r) {
        *error = u"%1: %2"_s.arg(first.conn.describe(), why);
        return false;
    }
    // Progress rows of one lane have plain stream names; of N lanes, each
    // lane's end in " (lane K of N)". A replay id keeps the lanes it began with.
    static const QRegularExpression laneName(u"^(.*) \\(lane (\\d+) of (\\d+)\\)$"_s);
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
                    describe(), m_replayId, QString::fromUtf8(PgConnection::value(r, i, 0)));
                return false;
            }
        }
        if (*historyLanes && of != *historyLanes) {
            *error = u"%1: replay id %2 has progress rows of %3 and of %4 lanes in public.tapedeck_replay_progress"_s.arg(
                first.conn.describe(), m_replayId)
                         .arg(*historyLanes)
                         .arg(of);
            return false;
        }
        *historyLanes = of;
        rows->append(ProgressRow{lane, p});
    }
    return true;
}

bool PgSink::openLanes(int lanes, QString *error)
{
    QString why;
    for (int k = 1; k < lanes; ++k) {
        auto lane = std::make_unique<Lane>();
        if (!connectLane(*lane, {}, &why)) {
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
    return true;
}

void PgSink::resumeFrom(const QList<ProgressRow> &rows, int lanes)
{
    QHash<QString, QList<ReplayPosition>> byStream; // per stream, per lane
    QList<QString> streamOrder;
    for (const ProgressRow &row : rows) {
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
}

PgSink::Table *PgSink::table(const QString &name, const SqlRows::Shape &shape, SqlOp op, bool *created, QString *error)
{
    *created = false;
    auto it = m_tables.find(name);
    if (it != m_tables.end())
        return it->get();
    Lane &lane = *m_lanes[0];
    Table t;
    t.quoted = pgsinksql::qualified(name);
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
        const QByteArray sql = pgsinksql::createTableSql(name, t.quoted, shape, op);
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
    if (m_lanes.size() > 1 && !readLaneRules(lane, t, &why))
        return failed(why);
    auto shared = std::make_shared<Table>(std::move(t));
    m_tables.insert(oidKey, shared);
    m_tables.insert(name, shared);
    return shared.get();
}

bool PgSink::readLaneRules(Lane &lane, Table &t, QString *why)
{
    // Rows of one key always meet in one lane, but rows of different keys
    // may depend on each other through these: such tables keep to lane 1.
    const auto single = lane.conn.exec(
        "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype IN ('f', 'x') AND (conrelid = to_regclass($1) OR confrelid = to_regclass($1))) "
        "OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND NOT tgisinternal) "
        "OR (SELECT count(*) FROM pg_index WHERE indrelid = to_regclass($1) AND indisunique) <> 1 "
        "OR EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = to_regclass($1) AND rulename <> '_RETURN')",
        {t.quoted}, why);
    if (!single)
        return false;
    t.oneLane = PgConnection::value(single, 0, 0) == "t";
    const auto pk = lane.conn.exec("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                                   "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = to_regclass($1) AND i.indisprimary",
                                   {t.quoted}, why);
    if (!pk)
        return false;
    for (int i = 0; i < PgConnection::rows(pk); ++i)
        t.primaryKey.append(QString::fromUtf8(PgConnection::value(pk, i, 0)));
    return true;
}

} // namespace tapedeck
