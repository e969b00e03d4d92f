// `tape replay` into the real PostgreSQL (TAPEDECK_PG_URI; fails, never
// skips, without it): identity rebuild compared with the source table,
// upserts into a populated table, and SIGKILL mid-run then rerun (exactly once).
#include "tests/common/replayworkload.h"

#include "connectors/postgres/pgconnection.h"
#include "connectors/postgres/sink/pgsink.h"
#include "core/replay/replay.h"
#include "core/tape/tape.h"
#include "core/transform/transform.h"

#include <libpq-fe.h>

#include <array>
#include <thread>
#include <future>

#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QElapsedTimer>
#include <QTest>
#include <QThread>
#include <QUrl>
#include <QUuid>
#include <QScopeGuard>

#include <unistd.h>

using namespace tapedeck;
using namespace replaytest;
using namespace Qt::StringLiterals;

class TestReplayPg : public QObject
{
    Q_OBJECT
private:
    QString m_uri;
    QString m_targetUri;
    QString m_targetDb;
    QString m_suffix = QUuid::createUuid().toString(QUuid::Id128).left(8);
    QTemporaryDir m_dir;
    PgConnection m_source, m_target;

    // The workload's source table, written by its SQL in one transaction.
    bool createSource(const QByteArray &src, const Workload &w, QString *error)
    {
        QByteArray script("CREATE TABLE " + src + ' ' + tableDdl() + "; BEGIN;");
        for (const QByteArray &s : w.sql)
            script += s + ';';
        return bool(m_source.command(script + "COMMIT", error));
    }

    // A target table with one row (id -1) that no event touches: populated,
    // so that every row goes by statements (not the rebuild's COPY path).
    bool createPopulated(const QByteArray &table, QString *error)
    {
        return bool(m_target.command("CREATE TABLE " + table + ' ' + tableDdl() + "; INSERT INTO " + table + " (id) VALUES (-1)", error));
    }

    // A workload on public.NAME: its source table (*src), the populated
    // target table and a tape of it (*tape, NAME.tape).
    bool prepare(const QString &name, int n, int keys, quint32 seed, Workload *w, QByteArray *src, QString *tape, QString *error)
    {
        *src = name.toUtf8() + "_src_" + m_suffix.toUtf8();
        *w = makeWorkload(n, keys, seed, name, *src);
        *tape = m_dir.filePath(name + QStringLiteral(".tape"));
        return createSource(*src, *w, error) && createPopulated("public." + name.toUtf8(), error) && writeTape(*tape, w->events, error);
    }

    QStringList rows(PgConnection &c, const QByteArray &sql)
    {
        QString error;
        const auto r = c.exec(sql, {}, &error);
        if (!r)
            return {QStringLiteral("<error> ") + error};
        QStringList out;
        for (int i = 0; i < PgConnection::rows(r); ++i) {
            QStringList cols;
            for (int j = 0; j < PQnfieldsProxy(r); ++j)
                cols.append(PgConnection::isNull(r, i, j) ? QStringLiteral("NULL") : QString::fromUtf8(PgConnection::value(r, i, j)));
            out.append(cols.join(QLatin1Char('|')));
        }
        return out;
    }
    static int PQnfieldsProxy(const pg::ResultPtr &r);

    int runTape(const QStringList &args, QByteArray *stderrText = nullptr)
    {
        QProcess p;
        p.start(QStringLiteral(TAPE_EXECUTABLE), args);
        p.waitForFinished(300000);
        const QByteArray err = p.readAllStandardError();
        if (stderrText)
            *stderrText = err;
        if (p.exitCode() != 0)
            qWarning().noquote() << err;
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_uri = qEnvironmentVariable("TAPEDECK_PG_URI");
        QVERIFY2(!m_uri.isEmpty(), "TAPEDECK_PG_URI is not set: start the services (eval \"$(scripts/services/all.sh env)\")");
        QVERIFY(m_dir.isValid());
        QString error;
        QVERIFY2(m_source.open(m_uri, PgConnection::Kind::Sql, &error), qPrintable(error));
        m_targetDb = QStringLiteral("tapedeck_replay_") + m_suffix;
        QVERIFY2(m_source.command("CREATE DATABASE " + m_targetDb.toUtf8(), &error), qPrintable(error));
        QUrl url(m_uri);
        url.setPath(QLatin1Char('/') + m_targetDb);
        m_targetUri = url.toString();
        QVERIFY2(m_target.open(m_targetUri, PgConnection::Kind::Sql, &error), qPrintable(error));
    }

    void cleanupTestCase()
    {
        m_target = PgConnection();
        QString error;
        if (m_source.isOpen())
            m_source.command("DROP DATABASE IF EXISTS " + m_targetDb.toUtf8() + " WITH (FORCE)", &error);
    }

    void identityRebuildAndUpsert()
    {
        const QByteArray src = "items_src_" + m_suffix.toUtf8();
        const Workload w = makeWorkload(6000, 700, 11, QStringLiteral("items"), src);
        QString error;
        QVERIFY2(createSource(src, w, &error), qPrintable(error));
        QVERIFY2(m_target.command(QByteArray("CREATE TABLE public.items ") + tableDdl(), &error), qPrintable(error));
        const QString tape = m_dir.filePath(QStringLiteral("items.tape"));
        QVERIFY2(writeTape(tape, w.events, &error), qPrintable(error));

        const QByteArray select = "SELECT id::text, name, amount::text, big::text, note, ts::text, flag::text FROM %1 ORDER BY id";
        const QStringList expected = rows(m_source, QByteArray(select).replace("%1", src));
        QCOMPARE(expected.size(), w.finalRows.size());

        QByteArray err;
        QCOMPARE(runTape({QStringLiteral("replay"), tape, QStringLiteral("--into"), m_targetUri, QStringLiteral("--batch"),
                          QStringLiteral("700"), QStringLiteral("--replay-id"), QStringLiteral("rebuild")}, &err), 0);
        QVERIFY2(err.contains("6000 events read"), err.constData());
        QCOMPARE(rows(m_target, QByteArray(select).replace("%1", "public.items")), expected);
        QCOMPARE(rows(m_target, "SELECT stream, seq FROM tapedeck_replay_progress WHERE replay_id = 'rebuild'"),
                 QStringList{QStringLiteral("postgres/source/public.items/0|5999")});

        // Rerun: nothing left to do.
        QCOMPARE(runTape({QStringLiteral("replay"), tape, QStringLiteral("--into"), m_targetUri, QStringLiteral("--replay-id"),
                          QStringLiteral("rebuild")}, &err), 0);
        QVERIFY2(err.contains("0 events read") && err.contains("resumed after event #5999"), err.constData());

        // Upserts into the populated table, with the JavaScript identity on two engines.
        QVERIFY2(m_target.command("UPDATE public.items SET name = 'stale'", &error), qPrintable(error));
        QCOMPARE(runTape({QStringLiteral("replay"), tape, QStringLiteral("--into"), m_targetUri, QStringLiteral("--transform"),
                          QStringLiteral(TAPEDECK_SOURCE_DIR "/resources/transforms/identity.js"), QStringLiteral("--threads"),
                          QStringLiteral("2"), QStringLiteral("--batch"), QStringLiteral("333"), QStringLiteral("--replay-id"),
                          QStringLiteral("upsert")}, &err), 0);
        QCOMPARE(rows(m_target, QByteArray(select).replace("%1", "public.items")), expected);
    }

    // An upsert leaves rows that would not change alone (no new row version),
    // and compares values whose type's equality is looser than their text
    // (numeric scale, -0, json spacing) as text.
    void upsertSkipsUnchangedRows()
    {
        QString error;
        QVERIFY2(m_target.command("CREATE TABLE public.same (id bigint PRIMARY KEY, n numeric, j json, f double precision, t text, b boolean)",
                                  &error),
                 qPrintable(error));
        auto out = [](qint64 seq, const char *id, const char *n, const char *j, const char *f, std::optional<QByteArray> t) {
            auto field = [](const char *name, const char *type, std::optional<QByteArray> v) {
                return SinkField{QLatin1String(name), SinkValue{std::move(v), QLatin1String(type)}};
            };
            SinkOutput o;
            o.seq = seq;
            o.table = QStringLiteral("public.same");
            o.key = {field("id", "bigint", QByteArray(id))};
            o.row = {field("id", "bigint", QByteArray(id)), field("n", "numeric", QByteArray(n)), field("j", "json", QByteArray(j)),
                     field("f", "double precision", QByteArray(f)), field("t", "text", std::move(t)), field("b", "boolean", QByteArray("t"))};
            return o;
        };
        PgSink sink(m_targetUri, PgSink::Options{false, true, {}});
        QVERIFY2(sink.open(QStringLiteral("same"), &error), qPrintable(error));
        QVERIFY2(sink.write({out(0, "1", "1.5", "{\"a\":1}", "0", QByteArray("x")), out(1, "2", "1.5", "{\"a\":1}", "0", QByteArray("x")),
                             out(2, "3", "1.5", "{\"a\":1}", "0", QByteArray("x")), out(3, "4", "1.5", "{\"a\":1}", "0", QByteArray("x")),
                             out(4, "5", "1.5", "{\"a\":1}", "0", std::nullopt)},
                            {}, &error),
                 qPrintable(error));
        const QByteArray xmins = "SELECT id || ':' || xmin::text FROM public.same ORDER BY id";
        const QStringList before = rows(m_target, xmins);
        QCOMPARE(before.size(), 5);
        QVERIFY2(sink.write({out(5, "1", "1.5", "{\"a\":1}", "0", QByteArray("x")),    // the same: untouched
                             out(6, "2", "1.50", "{\"a\":1}", "0", QByteArray("x")),   // numeric scale
                             out(7, "3", "1.5", "{\"a\": 1}", "0", QByteArray("x")),   // json spacing
                             out(8, "4", "1.5", "{\"a\":1}", "-0", QByteArray("x")),   // -0
                             out(9, "5", "1.5", "{\"a\":1}", "0", std::nullopt)},      // NULL = NULL: untouched
                            {}, &error),
                 qPrintable(error));
        const QStringList after = rows(m_target, xmins);
        QCOMPARE(after.size(), 5);
        QCOMPARE(after[0], before[0]);
        QCOMPARE(after[4], before[4]);
        for (int i = 1; i < 4; ++i)
            QVERIFY2(after[i] != before[i], qPrintable(after[i]));
        QCOMPARE(rows(m_target, "SELECT id || ' ' || n::text || ' ' || j::text || ' ' || f::text || ' ' || coalesce(t, 'NULL') FROM public.same ORDER BY id"),
                 (QStringList{QStringLiteral("1 1.5 {\"a\":1} 0 x"), QStringLiteral("2 1.50 {\"a\":1} 0 x"), QStringLiteral("3 1.5 {\"a\": 1} 0 x"),
                              QStringLiteral("4 1.5 {\"a\":1} -0 x"), QStringLiteral("5 1.5 {\"a\":1} 0 NULL")}));
    }

    // A rebuild into an empty table writes only the last version of each key
    // and ends equal to plain upserts of every event.
    void rebuildWritesLastVersions()
    {
        const Workload w = makeWorkload(5000, 400, 23, QStringLiteral("lastv"), "unused");
        QString error;
        const QString path = m_dir.filePath(QStringLiteral("lastv.tape"));
        QVERIFY2(writeTape(path, w.events, &error), qPrintable(error));
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        // Expected: every insert or update whose key's next event is in a later
        // batch (within a batch only the last operation per key is written anyway).
        const int batch = 450;
        qint64 overwritten = 0;
        for (qsizetype i = 0; i < w.events.size(); ++i) {
            const Event &e = w.events[i];
            if (e.operation == Operation::Delete)
                continue;
            for (qsizetype j = i + 1; j < w.events.size(); ++j) {
                if (w.events[j].key == e.key) {
                    overwritten += j / batch != i / batch ? 1 : 0;
                    break;
                }
            }
        }
        QVERIFY(overwritten > 1000);
        QVERIFY2(m_target.command(QByteArray("CREATE TABLE public.lastv ") + tableDdl() + "; CREATE TABLE public.lastv_ref " + tableDdl(), &error),
                 qPrintable(error));
        for (const bool rebuild : {true, false}) {
            ReplayOptions o;
            o.replayId = rebuild ? QStringLiteral("lastv") : QStringLiteral("lastv-ref");
            o.batchEvents = batch;
            ReplayEngine engine(tape, o);
            PgSink sink(m_targetUri, PgSink::Options{false, rebuild, {}});
            if (!rebuild) {
                // The reference: every event as an upsert, into a table of its own.
                QVERIFY2(m_target.command("ALTER TABLE public.lastv RENAME TO lastv_done; ALTER TABLE public.lastv_ref RENAME TO lastv", &error),
                         qPrintable(error));
            }
            QVERIFY2(engine.run(&sink, &error), qPrintable(error));
            QCOMPARE(sink.supersededRows(), rebuild ? overwritten : 0);
        }
        // Stopped after three batches and rerun: the rerun finds the table no
        // longer empty and goes by upserts; it ends equal all the same.
        QVERIFY2(m_target.command(QByteArray("CREATE TABLE public.lastv_cut ") + tableDdl(), &error), qPrintable(error));
        {
            ReplayOptions o;
            o.replayId = QStringLiteral("lastv-cut");
            o.batchEvents = batch;
            for (int run = 0; run < 2; ++run) {
                // The tape's table is public.lastv: swap the names around each run.
                QVERIFY2(m_target.command("ALTER TABLE public.lastv RENAME TO lastv_hold; ALTER TABLE public.lastv_cut RENAME TO lastv", &error),
                         qPrintable(error));
                ReplayEngine engine(tape, o);
                PgSink sink(m_targetUri, PgSink::Options{false, true, {}});
                engine.setProgressCallback([&](const ReplayStats &st) {
                    if (run == 0 && st.batches == 3)
                        engine.cancel();
                });
                const bool ok = engine.run(&sink, &error);
                QCOMPARE(ok, run == 1);
                if (run == 0) {
                    QCOMPARE(error, QStringLiteral("cancelled"));
                    QVERIFY(sink.supersededRows() > 0);
                } else {
                    QCOMPARE(engine.stats().resumedAfterSeq, qint64(3 * batch - 1));
                    QCOMPARE(sink.supersededRows(), 0);
                }
                QVERIFY2(m_target.command("ALTER TABLE public.lastv RENAME TO lastv_cut; ALTER TABLE public.lastv_hold RENAME TO lastv", &error),
                         qPrintable(error));
            }
        }
        const QByteArray cols = "id, name, amount, big, note, ts, flag";
        QCOMPARE(rows(m_target, "SELECT count(*) FROM (SELECT " + cols + " FROM public.lastv_done EXCEPT SELECT " + cols
                                    + " FROM public.lastv_cut) d"),
                 QStringList{QStringLiteral("0")});
        QCOMPARE(rows(m_target, "SELECT count(*) FROM public.lastv_cut"), QStringList{QString::number(w.finalRows.size())});
        QCOMPARE(rows(m_target, "SELECT count(*) FROM public.lastv_done"), QStringList{QString::number(w.finalRows.size())});
        QCOMPARE(rows(m_target, "SELECT count(*) FROM (SELECT " + cols + " FROM public.lastv_done EXCEPT SELECT " + cols
                                    + " FROM public.lastv) d"),
                 QStringList{QStringLiteral("0")});
        QCOMPARE(rows(m_target, "SELECT count(*) FROM (SELECT " + cols + " FROM public.lastv EXCEPT SELECT " + cols
                                    + " FROM public.lastv_done) d"),
                 QStringList{QStringLiteral("0")});
    }

    // An update that changes the primary key moves the row: the old key is
    // deleted (the identity, in-place rows path), as LogState says.
    void primaryKeyChange()
    {
        QString error;
        QVERIFY2(m_target.command("CREATE TABLE public.moved (id bigint PRIMARY KEY, v text)", &error), qPrintable(error));
        PgCatalog catalog;
        catalog.database = QStringLiteral("source");
        catalog.primaryKeys.insert(QStringLiteral("public.moved"), {QStringLiteral("id")});
        auto row = [](const char *id, const char *v) {
            return Row{Column{QStringLiteral("id"), QStringLiteral("bigint"), QByteArray(id), false},
                       Column{QStringLiteral("v"), QStringLiteral("text"), QByteArray(v), false}};
        };
        QList<Event> events;
        qint64 lsn = 0x5000;
        auto add = [&](Operation op, const Row &oldRow, const Row &newRow) {
            pgchange::TxnInfo txn{900 + lsn, lsn + 0x80, 1709290000000000LL + lsn};
            events.append(pgchange::change(catalog, op, lsn, txn, QStringLiteral("public"), QStringLiteral("moved"), oldRow, newRow, {}));
            lsn += 0x100;
        };
        add(Operation::Insert, {}, row("1", "a"));
        add(Operation::Insert, {}, row("2", "b"));
        add(Operation::Update, Row{row("1", "a").first()}, row("10", "a moved")); // key 1 -> 10
        add(Operation::Update, Row{row("2", "b").first()}, row("2", "b again"));  // old key sent, unchanged
        const QString tape = m_dir.filePath(QStringLiteral("moved.tape"));
        QVERIFY2(writeTape(tape, events, &error), qPrintable(error));
        for (const QString &batch : {QStringLiteral("1"), QStringLiteral("100")}) {
            QVERIFY2(m_target.command("TRUNCATE public.moved", &error), qPrintable(error));
            QByteArray err;
            QCOMPARE(runTape({QStringLiteral("replay"), tape, QStringLiteral("--into"), m_targetUri, QStringLiteral("--batch"), batch,
                              QStringLiteral("--replay-id"), QStringLiteral("moved-") + batch}, &err), 0);
            QCOMPARE(rows(m_target, "SELECT id || ' ' || v FROM public.moved ORDER BY id"),
                     (QStringList{QStringLiteral("2 b again"), QStringLiteral("10 a moved")}));
        }
    }

    void createTables()
    {
        const Workload w = makeWorkload(500, 50, 3, QStringLiteral("created"), "unused");
        const QString tape = m_dir.filePath(QStringLiteral("created.tape"));
        QString error;
        QVERIFY2(writeTape(tape, w.events, &error), qPrintable(error));
        QByteArray err;
        QCOMPARE(runTape({QStringLiteral("replay"), tape, QStringLiteral("--into"), m_targetUri}, &err), 1);
        QVERIFY2(err.contains("table \"public\".\"created\" does not exist (--create-tables creates it from the outputs)"), err.constData());
        QCOMPARE(runTape({QStringLiteral("replay"), tape, QStringLiteral("--into"), m_targetUri, QStringLiteral("--create-tables")}, &err), 0);
        QCOMPARE(rows(m_target, "SELECT count(*) FROM public.created"), QStringList{QString::number(w.finalRows.size())});
        QCOMPARE(rows(m_target, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'public.created'::regclass AND attname = 'big'"),
                 QStringList{QStringLiteral("bigint")});
    }

    // Column types in a tape are data, never SQL: with --create-tables a
    // type that is not a plain built-in one becomes text, and nothing in it
    // runs (#20: DEFAULT (current_setting(...)) and INHERITS (victim) were
    // spliced into CREATE TABLE). Hostile table and column names land as
    // themselves.
    void hostileTypesAndNames()
    {
        QString error;
        QVERIFY2(m_target.command("CREATE TABLE public.victim (id int); INSERT INTO public.victim VALUES (1)", &error), qPrintable(error));
        const QString table = u"public.hostile \"x\"; DROP TABLE victim; --"_s;
        const QString quoteColumn = u"it's \"a\" (col); DROP TABLE victim"_s;
        QList<Event> events;
        for (int i = 0; i < 3; ++i) {
            Event e;
            e.kind = SourceKind::Postgres;
            e.cluster = u"shop"_s;
            e.topic = table;
            e.position = 0x1000 + i;
            e.timestampUs = 1767261600000000 + i;
            e.timestampType = TimestampType::CommitTime;
            e.operation = Operation::Insert;
            e.transactionId = 700 + i;
            e.commitLsn = e.position;
            e.primaryKey = {u"id"_s};
            e.key = "{\"id\":" + QByteArray::number(i) + '}';
            e.value = e.key;
            e.newRow = {{u"id"_s, u"int4) INHERITS (victim"_s, QByteArray::number(i), false},
                        {u"a"_s, u"text DEFAULT (current_setting('data_directory')), injected text DEFAULT (version())"_s, "x'y", false},
                        {quoteColumn, u"numeric(10,2)"_s, "12.50", false},
                        {u"b"_s, u"character varying(20)[]"_s, "{p,q}", false}};
            events.append(e);
        }
        const QString tape = m_dir.filePath(u"hostile.tape"_s);
        QVERIFY2(writeTape(tape, events, &error), qPrintable(error));
        QByteArray err;
        QCOMPARE(runTape({u"replay"_s, tape, u"--into"_s, m_targetUri, u"--create-tables"_s}, &err), 0);
        QCOMPARE(rows(m_target, "SELECT count(*) FROM public.victim"), QStringList{u"1"_s});
        QCOMPARE(rows(m_target, "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                                "'public.\"hostile \"\"x\"\"; DROP TABLE victim; --\"'::regclass AND attnum > 0 ORDER BY attnum"),
                 (QStringList{u"id|text"_s, u"a|text"_s, quoteColumn + u"|numeric(10,2)"_s, u"b|character varying(20)[]"_s}));
        QCOMPARE(rows(m_target, "SELECT * FROM public.\"hostile \"\"x\"\"; DROP TABLE victim; --\" ORDER BY id"),
                 (QStringList{u"0|x'y|12.50|{p,q}"_s, u"1|x'y|12.50|{p,q}"_s, u"2|x'y|12.50|{p,q}"_s}));
        QCOMPARE(rows(m_target, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.victim'::regclass"), QStringList{u"0"_s});
    }

    // Two connections (lanes): a run whose second lane loses its connection
    // just before committing the third batch (the first lane committed it)
    // is caught up by a rerun, which leaves out exactly the rows the first
    // lane had committed; the replay id keeps its two lanes when rerun with
    // one; the end state equals the source. A table with a foreign key keeps
    // to the first lane.
    void lanes()
    {
        Workload w;
        QByteArray src;
        QString path, error;
        QVERIFY2(prepare(QStringLiteral("lanes"), 6000, 500, 29, &w, &src, &path, &error), qPrintable(error));
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        const int batch = 500;
        // Rows per lane and batch, as the sink sends them: the last operation per key.
        std::vector<std::array<qint64, 2>> perBatch(size_t((w.events.size() + batch - 1) / batch));
        for (size_t b = 0; b < perBatch.size(); ++b) {
            QHash<QByteArray, int> lastLane;
            for (qsizetype i = qsizetype(b) * batch; i < std::min<qsizetype>(w.events.size(), qsizetype(b + 1) * batch); ++i) {
                QList<SinkOutput> outs;
                QVERIFY2(identityOutputs(w.events[i], i, QString(), &outs, &error), qPrintable(error));
                for (const SinkOutput &o : std::as_const(outs)) {
                    const QByteArray id = *o.key.value(0).value.text;
                    const SqlCell cell{id.constData(), qint32(id.size())};
                    lastLane[id] = int(PgSink::laneHash(&cell, 1) % 2);
                }
            }
            perBatch[b] = {0, 0};
            for (const int lane : std::as_const(lastLane))
                ++perBatch[b][size_t(lane)];
        }
        ReplayOptions o;
        o.replayId = QStringLiteral("lanes");
        o.batchEvents = batch;
        {
            ReplayEngine engine(tape, o);
            int commits = 0;
            PgSink::Options options{false, true, {}, 2};
            options.beforeCommit = [&](int lane) {
                QString ignored;
                if (lane == 1 && ++commits == 3)
                    m_target.command("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tapedeck (lane 2 of 2)'",
                                     &ignored);
            };
            PgSink sink(m_targetUri, options);
            QVERIFY(!engine.run(&sink, &error));
            QVERIFY2(error.contains(QStringLiteral("the connection is lost")), qPrintable(error));
            QCOMPARE(sink.lanes(), 2);
            QCOMPARE(sink.laneRows(), (QList<qint64>{perBatch[0][0] + perBatch[1][0] + perBatch[2][0], perBatch[0][1] + perBatch[1][1] + perBatch[2][1]}));
        }
        QCOMPARE(rows(m_target, "SELECT stream, seq FROM tapedeck_replay_progress WHERE replay_id = 'lanes' ORDER BY stream"),
                 (QStringList{QStringLiteral("postgres/source/public.lanes/0 (lane 1 of 2)|1499"),
                              QStringLiteral("postgres/source/public.lanes/0 (lane 2 of 2)|999")}));
        {
            ReplayEngine engine(tape, o);
            PgSink sink(m_targetUri, PgSink::Options{false, true, {}}); // one connection asked: the replay id has two
            QVERIFY2(engine.run(&sink, &error), qPrintable(error));
            QCOMPARE(sink.lanes(), 2);
            QCOMPARE(engine.stats().resumedAfterSeq, qint64(999));
            qint64 first = 0, second = perBatch[2][1];
            for (size_t b = 3; b < perBatch.size(); ++b) {
                first += perBatch[b][0];
                second += perBatch[b][1];
            }
            QVERIFY(perBatch[2][0] > 0 && perBatch[2][1] > 0);
            QCOMPARE(sink.laneRows(), (QList<qint64>{first, second}));
        }
        QCOMPARE(rows(m_target, "SELECT stream, seq FROM tapedeck_replay_progress WHERE replay_id = 'lanes' ORDER BY stream"),
                 (QStringList{QStringLiteral("postgres/source/public.lanes/0 (lane 1 of 2)|5999"),
                              QStringLiteral("postgres/source/public.lanes/0 (lane 2 of 2)|5999")}));
        const QByteArray select = "SELECT id::text, name, amount::text, big::text, note, ts::text, flag::text FROM %1 WHERE id >= 0 ORDER BY id";
        QCOMPARE(rows(m_target, QByteArray(select).replace("%1", "public.lanes")), rows(m_source, QByteArray(select).replace("%1", src)));

        // From the command line, three connections into an empty table (rows
        // that cannot exist yet go by COPY in each lane).
        QVERIFY2(m_target.command(QByteArray("ALTER TABLE public.lanes RENAME TO lanes_two; CREATE TABLE public.lanes ") + tableDdl(), &error),
                 qPrintable(error));
        QByteArray err;
        QCOMPARE(runTape({QStringLiteral("replay"), path, QStringLiteral("--into"), m_targetUri, QStringLiteral("--batch"), QStringLiteral("700"),
                          QStringLiteral("--connections"), QStringLiteral("3"), QStringLiteral("--replay-id"), QStringLiteral("lanes3")},
                         &err),
                 0);
        QCOMPARE(rows(m_target, QByteArray(select).replace("%1", "public.lanes")), rows(m_source, QByteArray(select).replace("%1", src)));
        QCOMPARE(rows(m_target, "SELECT stream, seq FROM tapedeck_replay_progress WHERE replay_id = 'lanes3' ORDER BY stream"),
                 (QStringList{QStringLiteral("postgres/source/public.lanes/0 (lane 1 of 3)|5999"),
                              QStringLiteral("postgres/source/public.lanes/0 (lane 2 of 3)|5999"),
                              QStringLiteral("postgres/source/public.lanes/0 (lane 3 of 3)|5999")}));
        QCOMPARE(runTape({QStringLiteral("replay"), path, QStringLiteral("--into"), QStringLiteral("sqlite:/nonexistent/x.db"),
                          QStringLiteral("--connections"), QStringLiteral("2")},
                         &err),
                 2);
        QVERIFY2(err.contains("--connections is for PostgreSQL targets"), err.constData());

        // A table with a foreign key: every row by the first lane; one without: both.
        QVERIFY2(m_target.command("CREATE TABLE public.lparent (id bigint PRIMARY KEY); INSERT INTO public.lparent SELECT generate_series(1, 50); "
                                  "CREATE TABLE public.lchild (id bigint PRIMARY KEY, parent bigint REFERENCES public.lparent); "
                                  "CREATE TABLE public.lfree (id bigint PRIMARY KEY, parent bigint)",
                                  &error),
                 qPrintable(error));
        PgSink sink(m_targetUri, PgSink::Options{false, true, {}, 2});
        QVERIFY2(sink.open(QStringLiteral("lanes-fk"), &error), qPrintable(error));
        QList<SinkOutput> outs;
        qint64 seq = 0;
        for (const QString &table : {QStringLiteral("public.lchild"), QStringLiteral("public.lfree")}) {
            for (int i = 1; i <= 50; ++i) {
                SinkOutput out;
                out.seq = ++seq;
                out.table = table;
                const SinkField id{QStringLiteral("id"), SinkValue{QByteArray::number(i), QStringLiteral("bigint")}};
                out.key = {id};
                out.row = {id, SinkField{QStringLiteral("parent"), SinkValue{QByteArray::number(51 - i), QStringLiteral("bigint")}}};
                outs.append(out);
            }
            QVERIFY2(sink.write(outs, {ReplayPosition{QStringLiteral("s"), seq, seq}}, &error), qPrintable(error));
            const QList<qint64> n = sink.laneRows();
            if (table == u"public.lchild")
                QCOMPARE(n, (QList<qint64>{50, 0}));
            else
                QVERIFY2(n[0] > 50 && n[1] > 0 && n[0] + n[1] == 100, qPrintable(QString::number(n[0]) + u' ' + QString::number(n[1])));
            outs.clear();
        }
        QCOMPARE(rows(m_target, "SELECT count(*) FROM public.lchild JOIN public.lparent ON lparent.id = lchild.parent"), QStringList{QStringLiteral("50")});
    }

    // A created table takes the shape of an upsert even when the batch's
    // first key ends in a delete; two names of one table share its state (the
    // second write of a key goes by upsert, not by a second COPY); keyless
    // inserts keep a table's batch to the first lane.
    void sinkEdges()
    {
        auto field = [](const char *name, QByteArray v) {
            return SinkField{QLatin1String(name), SinkValue{std::move(v), QStringLiteral("bigint")}};
        };
        auto upsert = [&](const char *table, qint64 seq, int id, int v) {
            SinkOutput o;
            o.seq = seq;
            o.table = QLatin1String(table);
            o.key = {field("id", QByteArray::number(id))};
            o.row = {field("id", QByteArray::number(id)), field("v", QByteArray::number(v))};
            return o;
        };
        SinkOutput gone = upsert("public.ledges", 1, 1, 0);
        gone.op = SqlOp::Delete;
        gone.row.clear();
        QString error;
        {
            PgSink sink(m_targetUri, PgSink::Options{true, true, {}});
            QVERIFY2(sink.open(QStringLiteral("edges"), &error), qPrintable(error));
            QVERIFY2(sink.write({upsert("public.ledges", 0, 1, 10), gone, upsert("public.ledges", 2, 2, 20)}, {}, &error), qPrintable(error));
            QCOMPARE(rows(m_target, "SELECT id, v FROM public.ledges ORDER BY id"), QStringList{QStringLiteral("2|20")});
            QVERIFY2(sink.write({upsert("lalias", 3, 5, 1), upsert("public.lalias", 4, 5, 2)}, {}, &error), qPrintable(error));
            QCOMPARE(rows(m_target, "SELECT id, v FROM public.lalias"), QStringList{QStringLiteral("5|2")});
            // One key by both names and back again: the last write wins.
            QVERIFY2(sink.write({upsert("lalias", 5, 6, 1), upsert("public.lalias", 6, 6, 2), upsert("lalias", 7, 6, 3)}, {}, &error),
                     qPrintable(error));
            QCOMPARE(rows(m_target, "SELECT id, v FROM public.lalias ORDER BY id"), (QStringList{QStringLiteral("5|2"), QStringLiteral("6|3")}));
        }
        PgSink sink(m_targetUri, PgSink::Options{false, true, {}, 2});
        QVERIFY2(sink.open(QStringLiteral("edges-lanes"), &error), qPrintable(error));
        QList<SinkOutput> outs;
        for (int i = 0; i < 40; ++i)
            outs.append(upsert("public.ledges", 10 + i, 100 + i, i));
        SinkOutput keyless;
        keyless.seq = 60;
        keyless.table = QStringLiteral("public.ledges");
        keyless.op = SqlOp::Insert;
        keyless.row = {field("id", "999"), field("v", "9")};
        outs.append(keyless);
        QVERIFY2(sink.write(outs, {ReplayPosition{QStringLiteral("s"), 60, 60}}, &error), qPrintable(error));
        QCOMPARE(sink.laneRows(), (QList<qint64>{41, 0}));
        QCOMPARE(rows(m_target, "SELECT count(*) FROM public.ledges"), QStringList{QStringLiteral("42")});
        // Keyless inserts under one name keep the other name's rows of that table to lane 1 as well.
        outs.clear();
        for (int i = 0; i < 40; ++i)
            outs.append(upsert(i % 2 ? "public.ledges" : "ledges", 61 + i, 100 + i, 1000 + i));
        keyless.seq = 101;
        keyless.table = QStringLiteral("public.ledges");
        keyless.row = {field("id", "998"), field("v", "8")};
        outs.append(keyless);
        QVERIFY2(sink.write(outs, {ReplayPosition{QStringLiteral("s"), 101, 101}}, &error), qPrintable(error));
        QCOMPARE(sink.laneRows(), (QList<qint64>{82, 0}));
        QCOMPARE(rows(m_target, "SELECT count(*), sum(v) FROM public.ledges WHERE id BETWEEN 100 AND 139"),
                 QStringList{QStringLiteral("40|40780")});
    }

    // A lane that waits too long for a lock (here a session outside the
    // replay holds a row) rolls the batch back, and the batch goes again by
    // lane 1 alone, which waits for the lock.
    // Two runs of one replay id into one database never overlap: the second
    // waits for the first's session to end (a killed replayer's server
    // session may still commit its last batch), and says so when it waits
    // too long.
    void oneRunPerReplayId()
    {
        QString error;
        PgSink::Options options;
        options.replayLockTimeoutMs = 300;
        {
            PgSink first(m_targetUri, options);
            QVERIFY2(first.open(QStringLiteral("busy"), &error), qPrintable(error));
            PgSink second(m_targetUri, options);
            QElapsedTimer waited;
            waited.start();
            QVERIFY(!second.open(QStringLiteral("busy"), &error));
            QVERIFY(waited.elapsed() >= 250);
            QVERIFY2(error.endsWith(QStringLiteral(": another run of replay id busy is writing into this database (waited 0.3 s for it "
                                                   "to end); wait for it, or use another --replay-id")),
                     qPrintable(error));
            PgSink other(m_targetUri, options); // another replay id goes on
            QVERIFY2(other.open(QStringLiteral("not-busy"), &error), qPrintable(error));
        }
        // Once the first one's session is gone, the id is free again.
        PgSink again(m_targetUri, options);
        QVERIFY2(again.open(QStringLiteral("busy"), &error), qPrintable(error));
    }

    void laneLockTimeout()
    {
        QString error;
        QVERIFY2(m_target.command("CREATE TABLE public.llock (id bigint PRIMARY KEY, v bigint); INSERT INTO public.llock SELECT g, 0 FROM generate_series(1, 40) g",
                                  &error),
                 qPrintable(error));
        std::promise<void> locked;
        std::thread holder([&] {
            PgConnection c;
            QString why;
            if (!c.open(m_targetUri, PgConnection::Kind::Sql, &why) || !c.command("BEGIN; SELECT * FROM public.llock FOR UPDATE", &why)) {
                locked.set_value();
                return;
            }
            locked.set_value();
            QThread::msleep(1500);
            c.command("COMMIT", &why);
        });
        locked.get_future().wait();
        PgSink::Options options{false, true, {}, 2};
        options.laneLockTimeoutMs = 200;
        PgSink sink(m_targetUri, options);
        QVERIFY2(sink.open(QStringLiteral("llock"), &error), qPrintable(error));
        QList<SinkOutput> outs;
        for (int i = 1; i <= 40; ++i) {
            SinkOutput o;
            o.seq = i;
            o.table = QStringLiteral("public.llock");
            const SinkField id{QStringLiteral("id"), SinkValue{QByteArray::number(i), QStringLiteral("bigint")}};
            o.key = {id};
            o.row = {id, SinkField{QStringLiteral("v"), SinkValue{QByteArray::number(i * 10), QStringLiteral("bigint")}}};
            outs.append(o);
        }
        QElapsedTimer timer;
        timer.start();
        const bool ok = sink.write(outs, {ReplayPosition{QStringLiteral("s"), 40, 40}}, &error);
        const qint64 took = timer.elapsed();
        holder.join();
        QVERIFY2(ok, qPrintable(error));
        QVERIFY2(took >= 1000, qPrintable(QString::number(took))); // waited for the holder's commit
        QCOMPARE(rows(m_target, "SELECT count(*), sum(v) FROM public.llock"), QStringList{QStringLiteral("40|8200")});
        QCOMPARE(rows(m_target, "SELECT stream, seq FROM tapedeck_replay_progress WHERE replay_id = 'llock' ORDER BY stream"),
                 (QStringList{QStringLiteral("s (lane 1 of 2)|40"), QStringLiteral("s (lane 2 of 2)|40")}));
    }

    // A second, throwaway server (initdb in a temp dir, as user tapedeck when
    // we are root) that the test stops with -m immediate mid-replay.
    void serverStoppedMidReplay()
    {
        const QString bin = QStringLiteral("/usr/lib/postgresql/15/bin/");
        QTemporaryDir base;
        QVERIFY(base.isValid());
        const QString data = base.filePath(QStringLiteral("data"));
        const bool root = ::getuid() == 0;
        auto asService = [&](const QString &program, const QStringList &args) {
            QProcess p;
            p.setWorkingDirectory(base.path());
            if (root)
                p.start(QStringLiteral("runuser"), QStringList{QStringLiteral("-u"), QStringLiteral("tapedeck"), QStringLiteral("--"), bin + program} + args);
            else
                p.start(bin + program, args);
            p.waitForFinished(120000);
            if (p.exitCode() != 0)
                qWarning().noquote() << program << p.readAllStandardError() << p.readAllStandardOutput();
            return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
        };
        if (root)
            QCOMPARE(QProcess::execute(QStringLiteral("chown"), {QStringLiteral("tapedeck:"), base.path()}), 0);
        QVERIFY(asService(QStringLiteral("initdb"), {QStringLiteral("-D"), data, QStringLiteral("-U"), QStringLiteral("postgres"),
                                                     QStringLiteral("--auth=trust"), QStringLiteral("-E"), QStringLiteral("UTF8")}));
        const int port = 55000 + int(QRandomGenerator::global()->bounded(5000));
        {
            QFile conf(data + QStringLiteral("/postgresql.conf"));
            QVERIFY(conf.open(QIODevice::Append));
            conf.write(QStringLiteral("\nport = %1\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%2'\n")
                           .arg(port).arg(base.path()).toUtf8());
        }
        const QStringList start{QStringLiteral("-D"), data, QStringLiteral("-l"), base.filePath(QStringLiteral("log")), QStringLiteral("-w"), QStringLiteral("start")};
        const QStringList stop{QStringLiteral("-D"), data, QStringLiteral("-m"), QStringLiteral("immediate"), QStringLiteral("-w"), QStringLiteral("stop")};
        QVERIFY(asService(QStringLiteral("pg_ctl"), start));
        auto cleanup = qScopeGuard([&] { asService(QStringLiteral("pg_ctl"), stop); });
        const QString uri = QStringLiteral("postgresql://postgres@127.0.0.1:%1/postgres").arg(port);
        QString error;
        {
            PgConnection c;
            QVERIFY2(c.open(uri, PgConnection::Kind::Sql, &error), qPrintable(error));
            QVERIFY2(c.command(QByteArray("CREATE TABLE public.items ") + tableDdl(), &error), qPrintable(error));
        }
        const QByteArray src = "items_crash_" + m_suffix.toUtf8();
        const Workload w = makeWorkload(20000, 900, 23, QStringLiteral("items"), src);
        QVERIFY2(createSource(src, w, &error), qPrintable(error));
        const QString tape = m_dir.filePath(QStringLiteral("crash.tape"));
        QVERIFY2(writeTape(tape, w.events, &error), qPrintable(error));
        const QStringList args{QStringLiteral("replay"), tape, QStringLiteral("--into"), uri, QStringLiteral("--batch"), QStringLiteral("10"),
                               QStringLiteral("--replay-id"), QStringLiteral("crash")};
        QProcess p;
        p.start(QStringLiteral(TAPE_EXECUTABLE), args);
        QVERIFY(p.waitForStarted());
        // Stopped once some batches are in, whatever the machine's speed.
        {
            PgConnection watch;
            QVERIFY2(watch.open(uri, PgConnection::Kind::Sql, &error), qPrintable(error));
            const qint64 at = 1000 + QRandomGenerator::global()->bounded(3000);
            QElapsedTimer waited;
            waited.start();
            qint64 seq = -1;
            while (seq < at && waited.elapsed() < 30000) {
                const auto r = watch.exec("SELECT coalesce(max(seq), -1) FROM public.tapedeck_replay_progress WHERE replay_id = 'crash'", {}, &error);
                seq = r ? PgConnection::value(r, 0, 0).toLongLong() : -1;
                QThread::msleep(2);
            }
            QVERIFY2(seq >= at && seq < qint64(w.events.size()) - 1, qPrintable(QString::number(seq)));
        }
        QVERIFY(asService(QStringLiteral("pg_ctl"), stop));
        QVERIFY(p.waitForFinished(60000));
        const QByteArray err = p.readAllStandardError();
        qInfo().noquote() << "replay while the server stopped:" << err.trimmed();
        QCOMPARE(p.exitCode(), 1);
        QVERIFY2(err.contains("tape: postgresql://postgres@127.0.0.1:") && err.contains("rerun with the same replay id"), err.constData());
        QVERIFY(asService(QStringLiteral("pg_ctl"), start));
        QByteArray rerun;
        QCOMPARE(runTape(args, &rerun), 0);
        QVERIFY2(rerun.contains("resumed after event #"), rerun.constData());
        PgConnection c;
        QVERIFY2(c.open(uri, PgConnection::Kind::Sql, &error), qPrintable(error));
        const QByteArray select = "SELECT id::text, name, amount::text, big::text, note, ts::text, flag::text FROM %1 ORDER BY id";
        QCOMPARE(rows(c, QByteArray(select).replace("%1", "public.items")), rows(m_source, QByteArray(select).replace("%1", src)));
    }

    // SIGKILL of a replay writing with two connections, three times at
    // random points, then a rerun: the table equals the source.
    void killDashNineLanes()
    {
        Workload w;
        QByteArray src;
        QString tape, error;
        QVERIFY2(prepare(QStringLiteral("lkill"), 20000, 900, 31, &w, &src, &tape, &error), qPrintable(error));
        const QStringList args{QStringLiteral("replay"), tape, QStringLiteral("--into"), m_targetUri, QStringLiteral("--batch"),
                               QStringLiteral("20"), QStringLiteral("--connections"), QStringLiteral("2"), QStringLiteral("--replay-id"),
                               QStringLiteral("lkill")};
        qint64 reached = -1;
        for (int attempt = 0; attempt < 3; ++attempt) {
            QProcess p;
            p.start(QStringLiteral(TAPE_EXECUTABLE), args);
            QVERIFY(p.waitForStarted());
            // Killed once some more batches are in, whatever the machine's speed.
            const qint64 at = reached + 500 + QRandomGenerator::global()->bounded(4000);
            QElapsedTimer waited;
            waited.start();
            bool ended = false;
            while (reached < at && waited.elapsed() < 30000 && !(ended = p.waitForFinished(1))) {
                const QStringList seq = rows(m_target, "SELECT coalesce(max(seq), -1) FROM tapedeck_replay_progress WHERE replay_id = 'lkill'");
                reached = seq.value(0).toLongLong();
            }
            QVERIFY2(!ended, p.readAllStandardError().constData());
            QVERIFY2(reached >= at, qPrintable(QString::number(reached)));
            p.kill();
            QVERIFY(p.waitForFinished());
            QCOMPARE(p.exitStatus(), QProcess::CrashExit);
            qInfo() << "SIGKILL" << attempt << "at about event" << reached;
            QVERIFY2(reached < qint64(w.events.size()) - 1, "the replay ended before the kill");
        }
        QByteArray err;
        QCOMPARE(runTape(args, &err), 0);
        QVERIFY2(err.contains("resumed after event #"), err.constData());
        QVERIFY2(err.contains(" (2 connections) in "), err.constData());
        QCOMPARE(rows(m_target, "SELECT stream, seq FROM tapedeck_replay_progress WHERE replay_id = 'lkill' ORDER BY stream"),
                 (QStringList{QStringLiteral("postgres/source/public.lkill/0 (lane 1 of 2)|19999"),
                              QStringLiteral("postgres/source/public.lkill/0 (lane 2 of 2)|19999")}));
        const QByteArray select = "SELECT id::text, name, amount::text, big::text, note, ts::text, flag::text FROM %1 WHERE id >= 0 ORDER BY id";
        QCOMPARE(rows(m_target, QByteArray(select).replace("%1", "public.lkill")), rows(m_source, QByteArray(select).replace("%1", src)));
    }

    void killDashNineAppendOnly()
    {
        const Workload w = makeWorkload(5000, 5000, 5, QStringLiteral("items"), "unused");
        const QString tape = m_dir.filePath(QStringLiteral("append.tape"));
        QString error;
        QVERIFY2(writeTape(tape, w.events, &error), qPrintable(error));
        QVERIFY2(m_target.command("CREATE TABLE appended (pos numeric, id text, big bigint)", &error), qPrintable(error));
        const QString js = m_dir.filePath(QStringLiteral("append.js"));
        QFile f(js);
        QVERIFY(f.open(QIODevice::WriteOnly));
        // About 1-2 ms per event, so that a SIGKILL 100-500 ms in lands mid-run
        // however fast the replay gets on a quiet machine.
        f.write("function transform(e) { for (const t = Date.now(); Date.now() - t < 2;) {}\n"
                "  return {table: 'appended', op: 'insert', row: {pos: e.position, id: e.key, big: e.new && e.new.big}}; }\n");
        f.close();
        const QStringList args{QStringLiteral("replay"), tape, QStringLiteral("--transform"), js, QStringLiteral("--into"), m_targetUri,
                               QStringLiteral("--batch"), QStringLiteral("10"), QStringLiteral("--replay-id"), QStringLiteral("append")};
        int midway = 0;
        for (int attempt = 0; attempt < 3; ++attempt) {
            QProcess p;
            p.start(QStringLiteral(TAPE_EXECUTABLE), args);
            QVERIFY(p.waitForStarted());
            QThread::msleep(150 + QRandomGenerator::global()->bounded(350));
            p.kill(); // SIGKILL at a random moment
            p.waitForFinished();
            const QStringList now = rows(m_target, "SELECT count(*), count(DISTINCT pos) FROM appended");
            qInfo() << "after SIGKILL" << attempt << now;
            const int n = now.value(0).section(QLatin1Char('|'), 0, 0).toInt();
            QCOMPARE(now.value(0).section(QLatin1Char('|'), 1, 1).toInt(), n); // never a duplicate
            midway += n > 0 && n < 5000;
        }
        QVERIFY2(midway > 0, "no SIGKILL landed mid-run");
        QCOMPARE(runTape(args), 0);
        QCOMPARE(rows(m_target, "SELECT count(*), count(DISTINCT pos) FROM appended"), QStringList{QStringLiteral("5000|5000")});
        // bigints beyond 2^53 passed through JavaScript as strings, exactly.
        QCOMPARE(rows(m_target, "SELECT count(*) FROM appended a WHERE big < 9007199254740993"), QStringList{QStringLiteral("0")});
    }
};

int TestReplayPg::PQnfieldsProxy(const pg::ResultPtr &r)
{
    return PQnfields(r.get());
}

QTEST_GUILESS_MAIN(TestReplayPg)
#include "tst_replay_pg.moc"
