#include "connectors/postgres/record/pgrecorder.h"

#include "connectors/postgres/record/pgreplicationstream.h"
#include "connectors/postgres/decode/wal2jsondecoder.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QUuid>

#include <libpq-fe.h>

namespace tapedeck {

// The starting image: an imported snapshot, read once (writeSnapshot()).
struct PgRecorder::Snapshot
{
    PgConnection sql;  // holds the REPEATABLE READ transaction with the imported snapshot
    qint64 point = -1; // the exporting slot's consistent point
    qint64 timeUs = -1;
    bool pending = false;
};

// State of one record() call.
struct PgRecorder::Run
{
    TapeWriter &writer;
    const std::atomic<bool> *cancel;
    const ProgressFn &progress;
    std::unique_ptr<PgDecoder> decoder;
    std::atomic<qint64> &changes;
    QList<Event> events;
    Counters p;
    QElapsedTimer sinceFlush;
    QElapsedTimer sinceProgress;
    qint64 limit = -1;
    int flushIntervalMs = 250;
    qint64 flushedThrough = -1; // the decoder's lastCommitEnd() at the last flush
    bool done = false;
    Snapshot *snapshot = nullptr;
    // Writes the pending snapshot (bound by record()).
    std::function<bool(QString *)> writeSnapshot;

    // The first transaction (or non-transactional message) that commits at
    // or after the snapshot's consistent point: the snapshot goes before it.
    bool startsAfterSnapshot(const Event &e) const
    {
        if (!snapshot || !snapshot->pending)
            return false;
        if (e.operation == Operation::Begin)
            return e.commitLsn >= snapshot->point;
        return e.operation == Operation::Message && e.transactionId < 0 && e.position >= snapshot->point;
    }

    bool cancelled() const { return cancel && cancel->load(); }

    void report() const
    {
        RecordingSource::Progress out;
        out.events = p.events;
        out.bytes = p.startLsn >= 0 && p.lsn >= p.startLsn ? p.lsn - p.startLsn : 0;
        progress(out);
    }

    bool flush(QString *error)
    {
        if (!writer.flush()) {
            *error = writer.errorString();
            return false;
        }
        flushedThrough = decoder->lastCommitEnd();
        sinceFlush.restart();
        return true;
    }

    // Stores what the decoder completed; done once the limit is reached at a transaction boundary.
    bool store(qint64 lsn, QString *error)
    {
        bool boundary = false;
        for (const Event &e : std::as_const(events)) {
            if (startsAfterSnapshot(e) && !writeSnapshot(error))
                return false;
            if (!writer.append(e)) {
                *error = writer.errorString();
                return false;
            }
            ++p.events;
            if (e.operation == Operation::Commit || (e.operation == Operation::Message && e.transactionId < 0))
                boundary = true;
            else if (e.operation != Operation::Begin)
                ++p.changes;
        }
        changes = p.changes;
        events.clear();
        if (lsn >= 0) {
            if (p.startLsn < 0)
                p.startLsn = lsn;
            p.lsn = lsn;
        }
        if (boundary && limit >= 0 && p.changes >= limit)
            done = true;
        if (done || sinceFlush.hasExpired(flushIntervalMs)) {
            if (!flush(error))
                return false;
        }
        if (progress && sinceProgress.hasExpired(100)) {
            report();
            sinceProgress.restart();
        }
        return true;
    }
};

PgRecorder::PgRecorder(PgRecordOptions options)
    : m_options(std::move(options))
{
}

QList<std::pair<QByteArray, QByteArray>> PgRecorder::pluginOptions() const
{
    if (m_plugin == QLatin1String("pgoutput")) {
        QByteArray pubs;
        for (const QString &p : m_options.publications)
            pubs += (pubs.isEmpty() ? "" : ",") + PgConnection::quoteIdentifier(p.toUtf8());
        return {{"proto_version", "1"}, {"publication_names", pubs}, {"messages", "true"}};
    }
    if (m_plugin == QLatin1String("wal2json"))
        return Wal2JsonDecoder::options();
    return {{"include-xids", "1"}, {"include-timestamp", "1"}, {"skip-empty-xacts", "1"}};
}

QByteArray PgRecorder::replicationOptions() const
{
    QByteArray out;
    for (const auto &[name, value] : pluginOptions())
        out += (out.isEmpty() ? "(" : ", ") + PgConnection::quoteIdentifier(name) + ' ' + PgConnection::quoteLiteral(value);
    return out.isEmpty() ? out : out + ')';
}

QByteArray PgRecorder::sqlOptions() const
{
    QByteArray out;
    for (const auto &[name, value] : pluginOptions())
        out += ", " + PgConnection::quoteLiteral(name) + ", " + PgConnection::quoteLiteral(value);
    return out;
}

bool PgRecorder::prepare(QString *error)
{
    PgConnection c;
    if (!c.open(m_options.dsn, PgConnection::Kind::Sql, error))
        return false;
    m_connection = c.describe();
    const auto server = PgAdmin::serverInfo(c, error);
    if (!server)
        return false;
    m_server = *server;
    if (const QString problem = m_server.logicalDecodingProblem(); !problem.isEmpty()) {
        *error = QStringLiteral("logical decoding is not possible on this server: ") + problem;
        return false;
    }
    const auto slots = PgAdmin::slots(c, error);
    if (!slots)
        return false;
    if (m_options.mode == PgReadMode::Temporary) {
        m_plugin = m_options.plugin.isEmpty() ? QStringLiteral("pgoutput") : m_options.plugin;
    } else {
        if (!checkSlot(*slots, c.database(), error))
            return false;
    }
    if (!PgDecoder::plugins().contains(m_plugin)) {
        *error = QStringLiteral("Tapedeck cannot decode the output plugin \"%1\" (it reads %2)")
                     .arg(m_plugin, PgDecoder::plugins().join(QStringLiteral(", ")));
        return false;
    }
    if (const QString problem = m_server.pluginProblem(m_plugin); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    if (m_plugin == QLatin1String("pgoutput") && !checkPublications(c, error))
        return false;
    const auto catalog = PgAdmin::catalog(c, error);
    if (!catalog)
        return false;
    m_catalog = *catalog;
    return prepareSnapshot(c, error);
}

// The existing slot that modes other than temporary read: logical, of this
// database, with its WAL, a plugin we can use and (peek, consume) inactive.
bool PgRecorder::checkSlot(const QList<PgSlotInfo> &slots, const QString &database, QString *error)
{
    if (m_options.slot.isEmpty()) {
        *error = QStringLiteral("no slot given (mode %1 reads an existing slot)").arg(toString(m_options.mode));
        return false;
    }
    const auto it = std::find_if(slots.cbegin(), slots.cend(), [&](const PgSlotInfo &s) { return s.name == m_options.slot; });
    if (it == slots.cend()) {
        QStringList names;
        for (const PgSlotInfo &s : slots)
            names.append(s.name);
        *error = QStringLiteral("replication slot \"%1\" does not exist (slots: %2)")
                     .arg(m_options.slot, names.isEmpty() ? QStringLiteral("none") : names.join(QStringLiteral(", ")));
        return false;
    }
    m_slot = *it;
    if (m_slot.slotType != QLatin1String("logical")) {
        *error = QStringLiteral("replication slot \"%1\" is a physical slot: only logical slots carry change events").arg(m_slot.name);
        return false;
    }
    if (m_slot.database != database) {
        *error = QStringLiteral("replication slot \"%1\" belongs to database \"%2\", but the connection is to \"%3\": connect to \"%2\"")
                     .arg(m_slot.name, m_slot.database, database);
        return false;
    }
    if (m_slot.walStatus == QLatin1String("lost")) {
        *error = QStringLiteral("replication slot \"%1\" has lost WAL it needs (wal_status lost): it cannot be read").arg(m_slot.name);
        return false;
    }
    m_plugin = m_options.plugin.isEmpty() ? m_slot.plugin : m_options.plugin;
    if (m_plugin != m_slot.plugin && m_options.mode != PgReadMode::Copy) {
        *error = QStringLiteral("replication slot \"%1\" uses the plugin %2, not %3 (only --mode copy can decode a slot with another plugin)")
                     .arg(m_slot.name, m_slot.plugin, m_plugin);
        return false;
    }
    if (m_slot.active && (m_options.mode == PgReadMode::Peek || m_options.mode == PgReadMode::Consume)) {
        *error = QStringLiteral("replication slot \"%1\" is in use by another process (PID %2): %3 needs an inactive slot; "
                                "--mode copy reads it without disturbing its consumer")
                     .arg(m_slot.name).arg(m_slot.activePid).arg(toString(m_options.mode));
        return false;
    }
    if (m_slot.retainsALot())
        m_warnings.append(QStringLiteral("slot \"%1\" retains %2 MiB of WAL").arg(m_slot.name).arg(m_slot.retainedBytes >> 20));
    return true;
}

// pgoutput reads the publications given, which must exist.
bool PgRecorder::checkPublications(PgConnection &c, QString *error)
{
    const auto r = c.exec("SELECT pubname FROM pg_publication ORDER BY 1", {}, error);
    if (!r)
        return false;
    QStringList existing;
    for (int i = 0; i < PgConnection::rows(r); ++i)
        existing.append(QString::fromUtf8(PgConnection::value(r, i, 0)));
    if (m_options.publications.isEmpty()) {
        *error = QStringLiteral("pgoutput needs --publication (publications here: %1)")
                     .arg(existing.isEmpty() ? QStringLiteral("none; CREATE PUBLICATION p FOR ALL TABLES") : existing.join(QStringLiteral(", ")));
        return false;
    }
    for (const QString &p : std::as_const(m_options.publications)) {
        if (!existing.contains(p)) {
            *error = QStringLiteral("publication \"%1\" does not exist (publications here: %2)")
                         .arg(p, existing.isEmpty() ? QStringLiteral("none") : existing.join(QStringLiteral(", ")));
            return false;
        }
    }
    return true;
}

bool PgRecorder::prepareSnapshot(PgConnection &c, QString *error)
{
    if (m_options.snapshotTables.isEmpty())
        return true;
    if (m_plugin != QLatin1String("pgoutput")) {
        // Its Begin message carries the commit LSN that places the snapshot exactly in the stream.
        *error = QStringLiteral("--snapshot needs the pgoutput plugin (this recording decodes %1)").arg(m_plugin);
        return false;
    }
    QStringList tables;
    for (QString t : std::as_const(m_options.snapshotTables)) {
        t = t.trimmed();
        if (t.isEmpty())
            continue;
        if (!t.contains(QLatin1Char('.')))
            t.prepend(QStringLiteral("public."));
        if (!m_catalog.columnNames.contains(t)) {
            *error = QStringLiteral("--snapshot: table \"%1\" does not exist in database \"%2\"").arg(t, m_catalog.database);
            return false;
        }
        if (!tables.contains(t))
            tables.append(t);
    }
    QByteArray pubs;
    for (const QString &p : std::as_const(m_options.publications))
        pubs += (pubs.isEmpty() ? "" : ",") + PgConnection::quoteLiteral(p.toUtf8());
    const auto r = c.exec("SELECT DISTINCT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname IN (" + pubs + ")",
                          {}, error);
    if (!r)
        return false;
    QStringList published;
    for (int i = 0; i < PgConnection::rows(r); ++i)
        published.append(QString::fromUtf8(PgConnection::value(r, i, 0)));
    for (const QString &t : std::as_const(tables)) {
        if (!published.contains(t)) {
            *error = QStringLiteral("--snapshot: table \"%1\" is not in the publication%2 %3, so its changes would not follow the snapshot")
                         .arg(t, m_options.publications.size() > 1 ? QStringLiteral("s") : QString(),
                              m_options.publications.join(QStringLiteral(", ")));
            return false;
        }
        if (m_catalog.primaryKeys.value(t).isEmpty())
            m_warnings.append(QStringLiteral("table \"%1\" has no primary key: its snapshot rows carry no key").arg(t));
    }
    m_snapshotTables = tables;
    return true;
}

TapeMetadata PgRecorder::metadata() const
{
    TapeMetadata meta;
    meta.sourceKind = SourceKind::Postgres;
    meta.source = source();
    meta.recordedAt = QDateTime::currentDateTimeUtc();
    meta.createdBy = QStringLiteral("tapedeck " TAPEDECK_VERSION);
    meta.parameters = parameters();
    return meta;
}

QString PgRecorder::source() const
{
    return QStringLiteral("%1 slot %2 (%3, %4)")
        .arg(m_connection, m_options.slot.isEmpty() ? QStringLiteral("(temporary)") : m_options.slot, toString(m_options.mode), m_plugin);
}

QJsonObject PgRecorder::parameters() const
{
    QJsonObject o{{QStringLiteral("connection"), m_connection},
                  {QStringLiteral("database"), m_catalog.database},
                  {QStringLiteral("slot"), m_options.slot},
                  {QStringLiteral("plugin"), m_plugin},
                  {QStringLiteral("mode"), toString(m_options.mode)},
                  {QStringLiteral("publications"), QJsonArray::fromStringList(m_options.publications)},
                  {QStringLiteral("serverVersion"), m_server.version}};
    if (m_options.limit >= 0)
        o.insert(QStringLiteral("limit"), m_options.limit);
    if (!m_snapshotTables.isEmpty())
        o.insert(QStringLiteral("snapshotTables"), QJsonArray::fromStringList(m_snapshotTables));
    if (m_options.mode != PgReadMode::Temporary) {
        o.insert(QStringLiteral("slotRestartLsn"), pgchange::formatLsn(m_slot.restartLsn));
        o.insert(QStringLiteral("slotConfirmedFlushLsn"), pgchange::formatLsn(m_slot.confirmedFlushLsn));
    }
    return o;
}

bool PgRecorder::record(TapeWriter &writer, const std::atomic<bool> *cancel, const ProgressFn &progress, QString *error)
{
    m_changes = 0;
    Run run{writer, cancel, progress, PgDecoder::create(m_plugin, m_catalog), m_changes, {}, {}, {}, {}, m_options.limit,
            m_options.flushIntervalMs};
    if (!run.decoder) {
        *error = QStringLiteral("no decoder for %1").arg(m_plugin);
        return false;
    }
    run.sinceFlush.start();
    run.sinceProgress.start();
    m_snapshotRows = 0;
    m_snapshotLsn = -1;
    Snapshot snapshot;
    if (!m_snapshotTables.isEmpty()) {
        run.snapshot = &snapshot;
        run.writeSnapshot = [this, &run](QString *e) { return writeSnapshot(run, e); };
    }
    bool ok = m_options.mode == PgReadMode::Peek ? peek(run, error) : stream(run, error);
    // A stream that ended (or was cancelled) before any later transaction still gets its image last.
    if (ok && snapshot.pending)
        ok = writeSnapshot(run, error);
    if (!writer.flush() && ok) {
        *error = writer.errorString();
        return false;
    }
    if (progress)
        run.report();
    if (!ok)
        *error = PgAdmin::explain(*error);
    return ok;
}

bool PgRecorder::stream(Run &run, QString *error)
{
    PgConnection c;
    if (!c.open(m_options.dsn, PgConnection::Kind::Replication, error))
        return false;
    const bool bounded = m_options.mode == PgReadMode::Copy || (m_options.mode == PgReadMode::Consume && !m_options.follow);
    if (bounded && !readWalEnd(c, run, error))
        return false;
    QString slot;
    if (!streamSlot(c, run, &slot, error))
        return false;
    if (run.snapshot && run.snapshot->point < 0) {
        // The slot's start is fixed now (copied, or ours to consume): a later
        // consistent point splits its stream into history and what follows the image.
        if (!helperSnapshot(run, error))
            return false;
        if (bounded && !readWalEnd(c, run, error))
            return false;
    }
    PgReplicationStream stream(c);
    if (!stream.start(slot, replicationOptions(), error))
        return false;
    return readStream(stream, run, bounded, error);
}

// Where a bounded read ends: the server's current WAL position (the later
// one when asked again). A replication connection speaks the simple query protocol only.
bool PgRecorder::readWalEnd(PgConnection &c, Run &run, QString *error)
{
    const auto r = c.command("SELECT pg_current_wal_lsn()::text", error);
    if (!r)
        return false;
    run.p.endLsn = std::max(run.p.endLsn, pgchange::parseLsn(PgConnection::value(r, 0, 0)));
    return true;
}

// The slot the stream reads: the one given (consume), a temporary copy of it
// (copy) or a temporary slot of this session (temporary), whose exported
// snapshot is read here when the recording takes one.
bool PgRecorder::streamSlot(PgConnection &c, Run &run, QString *slot, QString *error)
{
    *slot = m_options.slot;
    const QByteArray tempName = "tapedeck_" + QUuid::createUuid().toString(QUuid::Id128).left(16).toLatin1();
    if (m_options.mode == PgReadMode::Copy) {
        // A temporary copy belongs to this session: it is read here and vanishes when the connection closes.
        QByteArray sql = "SELECT slot_name FROM pg_copy_logical_replication_slot(" + PgConnection::quoteLiteral(m_options.slot.toUtf8())
            + ", " + PgConnection::quoteLiteral(tempName) + ", true";
        if (m_plugin != m_slot.plugin)
            sql += ", " + PgConnection::quoteLiteral(m_plugin.toUtf8());
        if (!c.command(sql + ")", error)) {
            *error = QStringLiteral("cannot copy slot \"%1\": %2").arg(m_options.slot, *error);
            return false;
        }
        *slot = QString::fromLatin1(tempName);
    } else if (m_options.mode == PgReadMode::Temporary) {
        if (slot->isEmpty())
            *slot = QString::fromLatin1(tempName);
        const QByteArray sql = "CREATE_REPLICATION_SLOT " + PgConnection::quoteIdentifier(slot->toUtf8()) + " TEMPORARY LOGICAL "
            + PgConnection::quoteIdentifier(m_plugin.toUtf8()) + (run.snapshot ? " (SNAPSHOT 'export')" : " (SNAPSHOT 'nothing')");
        const auto created = c.command(sql, error);
        if (!created) {
            *error = QStringLiteral("cannot create a temporary slot: ") + *error;
            return false;
        }
        // The exported snapshot lives until the next command on `c`
        // (START_REPLICATION): import it and read the image now; the stream
        // then holds exactly the transactions committed after it.
        if (run.snapshot && (!importSnapshot(run, PgConnection::value(created, 0, 2), pgchange::parseLsn(PgConnection::value(created, 0, 1)), error)
                             || !writeSnapshot(run, error)))
            return false;
    }
    return true;
}

// The stream's messages into the tape until the end (bounded: the WAL end
// read before; otherwise cancel, the limit or the server's end).
bool PgRecorder::readStream(PgReplicationStream &stream, Run &run, bool bounded, QString *error)
{
    const bool confirm = m_options.mode == PgReadMode::Consume;
    qint64 confirmed = 0;  // flush position reported to the server: 0 except in consume mode
    qint64 lastIdleWalEnd = -1;
    bool dataSinceKeepalive = true;
    while (!run.done && !run.cancelled()) {
        PgReplicationStream::Message m;
        const auto status = stream.next(m_options.idleEndMs, &m, error);
        if (status == PgReplicationStream::Status::Error)
            return false;
        if (status == PgReplicationStream::Status::End)
            break;
        if (status == PgReplicationStream::Status::Timeout) {
            // Ask for a keepalive: its walEnd says how far the server has decoded.
            if (!stream.sendStatus(confirmed, true, error))
                return false;
            continue;
        }
        if (m.keepalive) {
            if (bounded && m.walEnd >= run.p.endLsn)
                break;
            if (bounded && !dataSinceKeepalive && m.walEnd == lastIdleWalEnd)
                break; // nothing decoded between two keepalives: caught up with the server
            lastIdleWalEnd = m.walEnd;
            dataSinceKeepalive = false;
        } else {
            dataSinceKeepalive = true;
            if (!run.decoder->decode(m.lsn, m.data, &run.events, error))
                return false;
            if (!run.store(m.lsn, error))
                return false;
            if (bounded && run.decoder->lastCommitEnd() >= run.p.endLsn)
                break;
        }
        if (confirm && run.flushedThrough > confirmed) {
            // Only what the tape holds after a flush is confirmed.
            confirmed = run.flushedThrough;
            if (!stream.sendStatus(confirmed, false, error))
                return false;
        }
        if (!stream.keepAlive(confirmed, error))
            return false;
    }
    if (confirm) {
        if (!run.flush(error))
            return false;
        if (run.flushedThrough > confirmed && !stream.sendStatus(run.flushedThrough, false, error))
            return false;
    }
    return stream.finish(error);
}

bool PgRecorder::peek(Run &run, QString *error)
{
    PgConnection c;
    if (!c.open(m_options.dsn, PgConnection::Kind::Sql, error))
        return false;
    auto r = c.exec("SELECT pg_current_wal_lsn()::text", {}, error);
    if (!r)
        return false;
    run.p.endLsn = pgchange::parseLsn(PgConnection::value(r, 0, 0));
    // Peek a temporary copy, not the slot itself: decoding may let the server
    // move a slot's restart_lsn up to its confirmed_flush_lsn, and the user's
    // slot must stay exactly as it was. The copy disappears with this session.
    const QByteArray copyName = QStringLiteral("tapedeck_peek_%1").arg(QUuid::createUuid().toString(QUuid::Id128).left(16)).toUtf8();
    {
        const QByteArray source = m_options.slot.toUtf8();
        const char *values[] = {source.constData(), copyName.constData()};
        pg::ResultPtr copied{PQexecParams(c.handle(), "SELECT pg_copy_logical_replication_slot($1, $2, true)", 2, nullptr,
                                          values, nullptr, nullptr, 0)};
        if (PQresultStatus(copied.get()) != PGRES_TUPLES_OK) {
            *error = QStringLiteral("cannot copy slot \"%1\" to peek it: %2")
                         .arg(m_options.slot, QString::fromUtf8(PQresultErrorMessage(copied.get())).trimmed());
            return false;
        }
    }
    if (run.snapshot) {
        if (!helperSnapshot(run, error))
            return false;
        r = c.exec("SELECT pg_current_wal_lsn()::text", {}, error);
        if (!r)
            return false;
        run.p.endLsn = std::max(run.p.endLsn, pgchange::parseLsn(PgConnection::value(r, 0, 0)));
    }
    const QByteArray function = m_plugin == QLatin1String("pgoutput") ? "pg_logical_slot_peek_binary_changes" : "pg_logical_slot_peek_changes";
    const QByteArray sql = "SELECT lsn::text, data FROM " + function + "($1, $2::pg_lsn, NULL" + sqlOptions() + ")";
    // Every call decodes again from the slot's start and returns the same rows
    // first; rows already stored are skipped by count.
    qint64 stored = 0;
    qint64 lastStoredLsn = -1;
    qint64 upto = std::max(m_slot.confirmedFlushLsn, m_slot.restartLsn);
    while (!run.done && !run.cancelled() && upto < run.p.endLsn) {
        upto = std::min(upto + m_options.peekWindowBytes, run.p.endLsn);
        const QByteArray uptoText = pgchange::formatLsn(upto).toLatin1();
        const char *values[] = {copyName.constData(), uptoText.constData()};
        if (!PQsendQueryParams(c.handle(), sql.constData(), 2, nullptr, values, nullptr, nullptr, 1) || !PQsetSingleRowMode(c.handle())) {
            *error = c.lastError();
            return false;
        }
        qint64 row = 0;
        // Rows come one at a time (single-row mode): memory stays bounded however big the window.
        while (pg::ResultPtr res{PQgetResult(c.handle())}) {
            const auto status = PQresultStatus(res.get());
            if (status == PGRES_TUPLES_OK)
                continue;
            if (status != PGRES_SINGLE_TUPLE) {
                *error = QString::fromUtf8(PQresultErrorMessage(res.get())).trimmed();
                return false;
            }
            if (run.done || run.cancelled())
                return true; // closing the connection abandons the rest of the result
            const qint64 lsn = pgchange::parseLsn(PgConnection::value(res, 0, 0));
            ++row;
            if (row < stored)
                continue;
            if (row == stored) {
                if (lsn != lastStoredLsn) {
                    *error = QStringLiteral("slot \"%1\" moved while it was being peeked (another consumer?)").arg(m_options.slot);
                    return false;
                }
                continue;
            }
            const QByteArray data = PgConnection::value(res, 0, 1);
            if (!run.decoder->decode(lsn, data, &run.events, error))
                return false;
            ++stored;
            lastStoredLsn = lsn;
            if (!run.store(lsn, error))
                return false;
        }
    }
    return true;
}

bool PgRecorder::importSnapshot(Run &run, const QByteArray &name, qint64 point, QString *error)
{
    Snapshot &snap = *run.snapshot;
    if (name.isEmpty() || point < 0) {
        *error = QStringLiteral("the server exported no snapshot for the starting image");
        return false;
    }
    if (!snap.sql.open(m_options.dsn, PgConnection::Kind::Sql, error))
        return false;
    if (!snap.sql.command("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", error)
        || !snap.sql.command("SET TRANSACTION SNAPSHOT " + PgConnection::quoteLiteral(name), error)) {
        *error = QStringLiteral("cannot import the snapshot for the starting image: ") + *error;
        return false;
    }
    const auto r = snap.sql.exec("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint", {}, error);
    if (!r)
        return false;
    snap.timeUs = PgConnection::value(r, 0, 0).toLongLong();
    snap.point = point;
    snap.pending = true;
    m_snapshotLsn = point;
    if (m_snapshotHook)
        m_snapshotHook(point);
    return true;
}

bool PgRecorder::helperSnapshot(Run &run, QString *error)
{
    PgConnection helper;
    if (!helper.open(m_options.dsn, PgConnection::Kind::Replication, error))
        return false;
    const QByteArray name = "tapedeck_snap_" + QUuid::createUuid().toString(QUuid::Id128).left(16).toLatin1();
    const auto created = helper.command("CREATE_REPLICATION_SLOT " + name + " TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export')", error);
    if (!created) {
        *error = QStringLiteral("cannot create the helper slot that exports the starting image's snapshot: ") + *error;
        return false;
    }
    // Imported while the helper's connection is idle; the helper slot dies with it.
    return importSnapshot(run, PgConnection::value(created, 0, 2), pgchange::parseLsn(PgConnection::value(created, 0, 1)), error);
}

bool PgRecorder::writeSnapshot(Run &run, QString *error)
{
    Snapshot &snap = *run.snapshot;
    snap.pending = false;
    PgConnection &c = snap.sql;
    pgchange::TxnInfo txn;
    txn.commitTimeUs = snap.timeUs;
    for (const QString &table : std::as_const(m_snapshotTables)) {
        const qsizetype dot = table.indexOf(QLatin1Char('.'));
        const QString schema = table.left(dot), name = table.mid(dot + 1);
        const QByteArray qualified = PgConnection::quoteIdentifier(schema.toUtf8()) + '.' + PgConnection::quoteIdentifier(name.toUtf8());
        // The columns pgoutput sends (generated columns are not), in the snapshot's own catalogue.
        auto cols = c.exec("SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a WHERE a.attrelid = $1::regclass"
                           " AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
                           {qualified}, error);
        if (!cols)
            return false;
        QStringList names, types;
        QByteArray select;
        for (int i = 0; i < PgConnection::rows(cols); ++i) {
            names.append(QString::fromUtf8(PgConnection::value(cols, i, 0)));
            types.append(QString::fromUtf8(PgConnection::value(cols, i, 1)));
            select += (i ? ", " : "") + PgConnection::quoteIdentifier(names.last().toUtf8());
        }
        QByteArray order;
        for (const QString &k : m_catalog.primaryKeys.value(table))
            order += (order.isEmpty() ? " ORDER BY " : ", ") + PgConnection::quoteIdentifier(k.toUtf8());
        const QByteArray sql = "SELECT " + select + " FROM " + qualified + order;
        if (!PQsendQuery(c.handle(), sql.constData()) || !PQsetSingleRowMode(c.handle())) {
            *error = c.lastError();
            return false;
        }
        // One row at a time: memory stays bounded however big the table.
        while (pg::ResultPtr res{PQgetResult(c.handle())}) {
            const auto status = PQresultStatus(res.get());
            if (status == PGRES_TUPLES_OK)
                continue;
            if (status != PGRES_SINGLE_TUPLE) {
                *error = QStringLiteral("reading %1 for the starting image: %2")
                             .arg(table, QString::fromUtf8(PQresultErrorMessage(res.get())).trimmed());
                return false;
            }
            Row row;
            row.reserve(names.size());
            for (int i = 0; i < names.size(); ++i) {
                Column col{names[i], types[i], std::nullopt, false};
                if (!PgConnection::isNull(res, 0, i))
                    col.value = pgchange::normaliseValue(types[i], PgConnection::value(res, 0, i));
                row.append(std::move(col));
            }
            const Event e = pgchange::change(m_catalog, Operation::Read, snap.point, txn, schema, name, {}, std::move(row), {});
            if (!run.writer.append(e)) {
                *error = run.writer.errorString();
                return false;
            }
            ++run.p.events;
            ++m_snapshotRows;
            if (run.sinceFlush.hasExpired(run.flushIntervalMs)) {
                if (!run.writer.flush()) {
                    *error = run.writer.errorString();
                    return false;
                }
                run.sinceFlush.restart();
            }
            if (run.progress && run.sinceProgress.hasExpired(100)) {
                run.report();
                run.sinceProgress.restart();
            }
        }
    }
    c.command("COMMIT", error);
    error->clear();
    return true;
}

} // namespace tapedeck
