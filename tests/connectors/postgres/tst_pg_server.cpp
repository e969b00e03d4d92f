// Against the real PostgreSQL 15 started by scripts/services/postgres.sh
// (TAPEDECK_PG_URI). Fails, never skips, without it.
#include "connectors/postgres/pgadmin.h"
#include "connectors/postgres/pgconnection.h"
#include "connectors/postgres/record/pgrecorder.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QUuid>

#include <thread>

using namespace tapedeck;

namespace {

QList<Event> readTape(const QString &path)
{
    QList<Event> out;
    QString error;
    const auto tape = Tape::open(path, &error);
    if (!tape) {
        qWarning() << error;
        return out;
    }
    for (qint64 s = 0; s < tape->eventCount(); ++s) {
        Event e;
        tape->event(s, &e, &error);
        out.append(e);
    }
    return out;
}

// What every plugin must agree on, one line per row change or message.
QStringList changes(const QList<Event> &events)
{
    QStringList out;
    for (const Event &e : events) {
        if (e.operation == Operation::Begin || e.operation == Operation::Commit)
            continue;
        auto row = [](const Row &r) {
            QStringList cols;
            for (const Column &c : r)
                cols.append(c.name + QLatin1Char(':') + c.type + QLatin1Char('=')
                            + (c.unchangedToast ? QStringLiteral("<unchanged>")
                               : c.value ? QString::fromUtf8(c.value->left(40)) : QStringLiteral("NULL")));
            return cols.join(QLatin1Char(' '));
        };
        out.append(QStringLiteral("%1 %2 xid=%3 at=%4 ts=%5 pk=%6 key=%7 value=%8 old=[%9] new=[%10]")
                       .arg(toString(e.operation), e.topic).arg(e.transactionId).arg(e.position).arg(e.commitTimeUs)
                       .arg(e.primaryKey.join(QLatin1Char(',')), QString::fromUtf8(e.key.value_or("null")),
                            QString::fromUtf8(e.value.value_or("null").left(200)), row(e.oldRow), row(e.newRow)));
    }
    return out;
}

} // namespace

class TestPgServer : public QObject
{
    Q_OBJECT
private:
    QString m_dsn;
    QTemporaryDir m_dir;
    QString m_suffix = QUuid::createUuid().toString(QUuid::Id128).left(8);
    PgConnection m_sql;
    QProcess m_recvlogical;

    QString name(const char *what) const { return QLatin1String(what) + QLatin1Char('_') + m_suffix; }

    void exec(const QString &sql)
    {
        QString error;
        QVERIFY2(m_sql.command(sql.toUtf8(), &error), qPrintable(sql + QStringLiteral(": ") + error));
    }
    std::pair<qint64, qint64> slotPosition(const QString &slot)
    {
        QString error;
        const auto slots = PgAdmin::slots(m_sql, &error);
        for (const PgSlotInfo &s : slots.value_or(QList<PgSlotInfo>{})) {
            if (s.name == slot)
                return {s.restartLsn, s.confirmedFlushLsn};
        }
        return {-1, -1};
    }
    QList<Event> record(PgRecordOptions options, QString *error)
    {
        options.dsn = m_dsn;
        const QString path = m_dir.filePath(QUuid::createUuid().toString(QUuid::Id128) + QStringLiteral(".tape"));
        PgRecorder recorder(options);
        if (!recorder.prepare(error))
            return {};
        TapeWriter writer;
        if (!writer.create(path, TapeMetadata{}))
            return {};
        std::atomic<bool> cancel{false};
        const bool ok = recorder.record(writer, &cancel, {}, error);
        writer.close();
        if (!ok)
            return {};
        error->clear();
        return readTape(path);
    }
    PgRecordOptions options(const QString &slot, PgReadMode mode)
    {
        PgRecordOptions o;
        o.slot = slot;
        o.mode = mode;
        o.publications = {name("pub")};
        return o;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_dsn = qEnvironmentVariable("TAPEDECK_PG_URI");
        if (m_dsn.isEmpty())
            QFAIL("TAPEDECK_PG_URI is not set: start PostgreSQL with scripts/services/postgres.sh start (scripts/test.sh does)");
        QVERIFY(m_dir.isValid());
        QString error;
        QVERIFY2(m_sql.open(m_dsn, PgConnection::Kind::Sql, &error), qPrintable(error));
        exec(QStringLiteral("CREATE TABLE pk_%1 (id int PRIMARY KEY, n numeric, t text, a int[], ts timestamptz, b bool, big text)").arg(m_suffix));
        exec(QStringLiteral("CREATE TABLE full_%1 (id int PRIMARY KEY, t text, big text)").arg(m_suffix));
        exec(QStringLiteral("ALTER TABLE full_%1 REPLICA IDENTITY FULL").arg(m_suffix));
        exec(QStringLiteral("CREATE TABLE nopk_%1 (v text, n bigint)").arg(m_suffix));
        exec(QStringLiteral("CREATE PUBLICATION pub_%1 FOR TABLE pk_%1, full_%1, nopk_%1").arg(m_suffix));
        // Publications must exist before the slots: pgoutput reads them with the slot's historic snapshot.
        for (const char *plugin : {"pgoutput", "wal2json", "test_decoding"})
            exec(QStringLiteral("SELECT pg_create_logical_replication_slot('s_%1_%2', '%1')").arg(QLatin1String(plugin), m_suffix));
        exec(QStringLiteral("SELECT pg_create_logical_replication_slot('consumed_%1', 'pgoutput')").arg(m_suffix));
        exec(QStringLiteral("SELECT pg_create_logical_replication_slot('busy_%1', 'pgoutput')").arg(m_suffix));

        const QString big = QStringLiteral("(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 300))");
        exec(QStringLiteral("INSERT INTO pk_%1 VALUES (1, 12345678901234567890.123456789, 'it''s \"quoted\"\n', '{1,2,NULL}',"
                            " '2024-01-02 03:04:05.123456+02', true, %2), (2, NULL, NULL, NULL, NULL, NULL, NULL)").arg(m_suffix, big));
        exec(QStringLiteral("INSERT INTO full_%1 VALUES (1, 'a', %2), (2, 'b', 'small')").arg(m_suffix, big));
        exec(QStringLiteral("INSERT INTO nopk_%1 VALUES ('no key', 9223372036854775807)").arg(m_suffix));
        exec(QStringLiteral("UPDATE pk_%1 SET t = 'toast untouched' WHERE id = 1").arg(m_suffix));
        exec(QStringLiteral("UPDATE full_%1 SET t = 'full old row' WHERE id = 1").arg(m_suffix));
        exec(QStringLiteral("UPDATE pk_%1 SET id = 3 WHERE id = 2").arg(m_suffix));
        exec(QStringLiteral("BEGIN; INSERT INTO pk_%1 (id, t) VALUES (10, 'multi'); UPDATE pk_%1 SET b = false WHERE id = 10;"
                            " SELECT pg_logical_emit_message(true, 'tapedeck', 'in a transaction'); DELETE FROM full_%1 WHERE id = 2; COMMIT").arg(m_suffix));
        exec(QStringLiteral("BEGIN; INSERT INTO pk_%1 (id, t) VALUES (99, 'rolled back'); ROLLBACK").arg(m_suffix));
        exec(QStringLiteral("SELECT pg_logical_emit_message(false, 'tapedeck', 'outside')"));
        exec(QStringLiteral("DELETE FROM pk_%1 WHERE id = 3").arg(m_suffix));
        exec(QStringLiteral("TRUNCATE nopk_%1").arg(m_suffix));
    }

    void cleanupTestCase()
    {
        if (m_recvlogical.state() != QProcess::NotRunning) {
            m_recvlogical.terminate();
            m_recvlogical.waitForFinished(5000);
        }
        if (!m_sql.isOpen())
            return;
        QString error;
        for (const QString &s : {QStringLiteral("s_pgoutput"), QStringLiteral("s_wal2json"), QStringLiteral("s_test_decoding"),
                                 QStringLiteral("consumed"), QStringLiteral("busy")})
            m_sql.exec(QStringLiteral("SELECT pg_drop_replication_slot('%1_%2')").arg(s, m_suffix).toUtf8(), {}, &error);
        m_sql.exec(QStringLiteral("DROP PUBLICATION pub_%1").arg(m_suffix).toUtf8(), {}, &error);
        for (const char *t : {"pk", "full", "nopk"})
            m_sql.exec(QStringLiteral("DROP TABLE %1_%2").arg(QLatin1String(t), m_suffix).toUtf8(), {}, &error);
    }

    void pluginsAgree_data()
    {
        QTest::addColumn<int>("mode");
        QTest::newRow("peek") << int(PgReadMode::Peek);
        QTest::newRow("copy") << int(PgReadMode::Copy);
    }
    void pluginsAgree()
    {
        QFETCH(int, mode);
        QMap<QString, QStringList> byPlugin;
        for (const QString &plugin : {QStringLiteral("pgoutput"), QStringLiteral("wal2json"), QStringLiteral("test_decoding")}) {
            const QString slot = QStringLiteral("s_%1_%2").arg(plugin, m_suffix);
            const auto before = slotPosition(slot);
            QString error;
            const QList<Event> events = record(options(slot, PgReadMode(mode)), &error);
            QVERIFY2(error.isEmpty(), qPrintable(plugin + QStringLiteral(": ") + error));
            const auto after = slotPosition(slot);
            // The user's slot is exactly as it was: peek and copy read a temporary copy.
            QCOMPARE(after.second, before.second); // confirmed_flush_lsn
            QCOMPARE(after.first, before.first);   // restart_lsn
            byPlugin[plugin] = changes(events);
            // Transactions come as Begin ... Commit groups with one xid.
            qint64 open = -1;
            for (const Event &e : events) {
                if (e.operation == Operation::Begin) {
                    QCOMPARE(open, -1);
                    open = e.transactionId;
                } else if (e.operation == Operation::Commit) {
                    QCOMPARE(e.transactionId, open);
                    open = -1;
                } else if (!(e.operation == Operation::Message && e.transactionId < 0)) {
                    QCOMPARE(e.transactionId, open);
                    QVERIFY(e.timestampUs > 0);
                    QVERIFY(e.timestampType == TimestampType::CommitTime);
                }
            }
        }
        const QStringList &po = byPlugin[QStringLiteral("pgoutput")];
        for (const QString &other : {QStringLiteral("test_decoding"), QStringLiteral("wal2json")}) {
            const QStringList &o = byPlugin[other];
            for (int i = 0; i < std::max(o.size(), po.size()); ++i)
                QVERIFY2(o.value(i) == po.value(i), qPrintable(other + QStringLiteral(":\n") + o.value(i) + QStringLiteral("\npgoutput:\n") + po.value(i)));
        }

        // ... and with what the SQL did.
        const QString pk = QStringLiteral("public.pk_") + m_suffix;
        auto find = [&](const QString &prefix) {
            for (const QString &l : po) {
                if (l.startsWith(prefix))
                    return l;
            }
            return QString();
        };
        QCOMPARE(po.size(), 15);
        const QString insert = find(QStringLiteral("insert ") + pk);
        QVERIFY2(insert.contains(QLatin1String("\"n\":12345678901234567890.123456789")), qPrintable(insert));
        QVERIFY(insert.contains(QLatin1String("a:integer[]={1,2,NULL}")));
        QVERIFY(insert.contains(QLatin1String("ts:timestamp with time zone=2024-01-02 01:04:05.123456+00")));
        QVERIFY(insert.contains(QLatin1String("\"b\":true")));
        QVERIFY(insert.contains(QLatin1String("key={\"id\":1}")));
        QVERIFY(po.filter(QStringLiteral("new=[id:integer=2 n:numeric=NULL t:text=NULL")).size() == 1);
        const QString toast = find(QStringLiteral("update ") + pk);
        QVERIFY2(toast.contains(QLatin1String("big:text=<unchanged>")), qPrintable(toast));
        QVERIFY2(toast.contains(QLatin1String("old=[]")), qPrintable(toast));
        const QString full = find(QStringLiteral("update public.full_") + m_suffix);
        QVERIFY2(full.contains(QLatin1String("old=[id:integer=1 t:text=a big:text=")), qPrintable(full));
        QVERIFY(po.filter(QStringLiteral("old=[id:integer=2] new=[id:integer=3")).size() == 1); // key change
        QVERIFY(po.filter(QStringLiteral("delete ") + pk).first().contains(QLatin1String("key={\"id\":3} value=null")));
        QVERIFY(po.filter(QStringLiteral("delete public.full_")).first().contains(QLatin1String("old=[id:integer=2 t:text=b big:text=small]")));
        QVERIFY(po.filter(QStringLiteral("9223372036854775807")).first().contains(QLatin1String("pk= key=null")));
        QVERIFY(po.filter(QStringLiteral("truncate public.nopk_")).size() == 1);
        QVERIFY(po.filter(QStringLiteral("rolled back")).isEmpty());
        QCOMPARE(po.filter(QStringLiteral("message ")).size(), 2);
        QVERIFY(po.filter(QStringLiteral("message  xid=-1")).first().contains(QLatin1String("value=outside")));
    }

    void copyWhileConsumerAttached()
    {
        const QString slot = name("busy");
        m_recvlogical.setProgram(QStringLiteral("/usr/lib/postgresql/15/bin/pg_recvlogical"));
        m_recvlogical.setArguments({QStringLiteral("-d"), m_dsn, QStringLiteral("-S"), slot, QStringLiteral("--start"),
                                    QStringLiteral("-o"), QStringLiteral("proto_version=1"), QStringLiteral("-o"),
                                    QStringLiteral("publication_names=pub_") + m_suffix, QStringLiteral("-f"), QStringLiteral("/dev/null"),
                                    QStringLiteral("--no-loop")});
        m_recvlogical.start();
        QVERIFY(m_recvlogical.waitForStarted());
        PgSlotInfo info;
        for (int i = 0; i < 100 && !info.active; ++i) {
            QThread::msleep(100);
            QString error;
            for (const PgSlotInfo &s : PgAdmin::slots(m_sql, &error).value_or(QList<PgSlotInfo>{})) {
                if (s.name == slot)
                    info = s;
            }
        }
        QVERIFY2(info.active, "pg_recvlogical did not attach");
        QString error;
        // peek and consume refuse a slot in use, naming the process.
        record(options(slot, PgReadMode::Peek), &error);
        QVERIFY2(error.contains(QStringLiteral("in use by another process (PID %1)").arg(info.activePid)), qPrintable(error));
        // copy reads it without disturbing the consumer.
        const QList<Event> events = record(options(slot, PgReadMode::Copy), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(!changes(events).isEmpty());
        QCOMPARE(m_recvlogical.state(), QProcess::Running);
        for (const PgSlotInfo &s : PgAdmin::slots(m_sql, &error).value_or(QList<PgSlotInfo>{})) {
            if (s.name == slot)
                QCOMPARE(s.activePid, info.activePid);
        }
        m_recvlogical.terminate();
        m_recvlogical.waitForFinished(5000);
    }

    void consumeAdvances()
    {
        const QString slot = name("consumed");
        const auto before = slotPosition(slot);
        QString error;
        const QList<Event> events = record(options(slot, PgReadMode::Consume), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(changes(events), changes(record(options(QStringLiteral("s_pgoutput_") + m_suffix, PgReadMode::Copy), &error)));
        const auto after = slotPosition(slot);
        QVERIFY2(after.second > before.second, qPrintable(QStringLiteral("%1 -> %2").arg(before.second).arg(after.second)));
        qint64 lastCommit = -1;
        for (const Event &e : events) {
            if (e.operation == Operation::Commit)
                lastCommit = e.position;
        }
        QCOMPARE(after.second, lastCommit); // confirmed exactly what was stored
        // Consumed: a second run finds nothing new.
        QVERIFY(changes(record(options(slot, PgReadMode::Consume), &error)).isEmpty());
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void temporarySlotStreamsNewChanges()
    {
        PgRecordOptions o = options(QString(), PgReadMode::Temporary);
        o.limit = 2;
        QList<Event> events;
        QString error;
        std::thread worker([&] { events = record(o, &error); });
        // Wait for the temporary slot, then change something.
        bool created = false;
        for (int i = 0; i < 100 && !created; ++i) {
            QThread::msleep(100);
            QString e;
            for (const PgSlotInfo &s : PgAdmin::slots(m_sql, &e).value_or(QList<PgSlotInfo>{}))
                created = created || (s.temporary && s.name.startsWith(QLatin1String("tapedeck_")) && s.active);
        }
        exec(QStringLiteral("INSERT INTO pk_%1 (id, t) VALUES (500, 'new'), (501, 'news')").arg(m_suffix));
        worker.join();
        QVERIFY(created);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const QStringList c = changes(events);
        QCOMPARE(c.size(), 2);
        QVERIFY(c[0].contains(QLatin1String("key={\"id\":500}")));
        // Gone with its session (the server drops it as the walsender exits).
        bool gone = false;
        for (int i = 0; i < 50 && !gone; ++i) {
            QString e;
            gone = true;
            for (const PgSlotInfo &s : PgAdmin::slots(m_sql, &e).value_or(QList<PgSlotInfo>{}))
                gone = gone && !s.name.startsWith(QLatin1String("tapedeck_"));
            if (!gone)
                QThread::msleep(100);
        }
        QVERIFY(gone);
        exec(QStringLiteral("DELETE FROM pk_%1 WHERE id >= 500").arg(m_suffix));
    }

    void errors()
    {
        QString error;
        record(options(QStringLiteral("no_such_slot"), PgReadMode::Copy), &error);
        QVERIFY2(error.contains(QLatin1String("replication slot \"no_such_slot\" does not exist")), qPrintable(error));
        PgRecordOptions o = options(QStringLiteral("s_pgoutput_") + m_suffix, PgReadMode::Peek);
        o.plugin = QStringLiteral("test_decoding");
        record(o, &error);
        QVERIFY2(error.contains(QLatin1String("uses the plugin pgoutput")), qPrintable(error));
        o = options(QStringLiteral("s_pgoutput_") + m_suffix, PgReadMode::Peek);
        o.publications = {QStringLiteral("nopub")};
        record(o, &error);
        QVERIFY2(error.contains(QLatin1String("publication \"nopub\" does not exist")), qPrintable(error));
        PgServerInfo server;
        server.walLevel = QStringLiteral("replica");
        QVERIFY(server.logicalDecodingProblem().contains(QLatin1String("wal_level = logical")));
        server.outputPluginLibraries = QStringLiteral("pgoutput, test_decoding");
        QVERIFY(server.pluginProblem(QStringLiteral("wal2json")).contains(QLatin1String("output_plugin_libraries")));
        QVERIFY(PgAdmin::explain(QStringLiteral("ERROR:  library \"wal2json\" may not be used as an output plugin"))
                    .contains(QLatin1String("output_plugin_libraries")));
        PgConnection bad;
        QVERIFY(!bad.open(QStringLiteral("postgresql://postgres@127.0.0.1:1/x"), PgConnection::Kind::Sql, &error));
        QVERIFY2(error.startsWith(QLatin1String("cannot connect to PostgreSQL")), qPrintable(error));
    }

    void cli()
    {
        QProcess slots;
        slots.start(QStringLiteral(TAPE_EXECUTABLE), {QStringLiteral("slots"), QStringLiteral("--dsn"), m_dsn});
        QVERIFY(slots.waitForFinished(30000));
        QCOMPARE(slots.exitCode(), 0);
        const QString listing = QString::fromUtf8(slots.readAllStandardOutput());
        QVERIFY2(listing.contains(QStringLiteral("slot \"s_wal2json_%1\": logical wal2json").arg(m_suffix)), qPrintable(listing));
        QVERIFY(listing.contains(QLatin1String("wal_level=logical")));

        const QString out = m_dir.filePath(QStringLiteral("cli.tape"));
        QProcess rec;
        rec.start(QStringLiteral(TAPE_EXECUTABLE), {QStringLiteral("record"), QStringLiteral("postgres"), QStringLiteral("--dsn"), m_dsn,
                                                    QStringLiteral("--slot"), QStringLiteral("s_pgoutput_") + m_suffix,
                                                    QStringLiteral("--publication"), name("pub"), QStringLiteral("--mode"),
                                                    QStringLiteral("peek"), QStringLiteral("--limit"), QStringLiteral("3"),
                                                    QStringLiteral("-o"), out});
        QVERIFY(rec.waitForFinished(60000));
        QVERIFY2(rec.exitCode() == 0, rec.readAllStandardError().constData());
        const QStringList c = changes(readTape(out));
        QVERIFY2(c.size() >= 3 && c.size() < 15, qPrintable(c.join(QLatin1Char('\n'))));

        QProcess missing;
        missing.start(QStringLiteral(TAPE_EXECUTABLE), {QStringLiteral("record"), QStringLiteral("postgres"), QStringLiteral("--dsn"), m_dsn,
                                                        QStringLiteral("--slot"), QStringLiteral("nope"), QStringLiteral("-o"), out});
        QVERIFY(missing.waitForFinished(30000));
        QCOMPARE(missing.exitCode(), 1);
        QVERIFY(missing.readAllStandardError().contains("replication slot \"nope\" does not exist"));
    }
};

QTEST_GUILESS_MAIN(TestPgServer)
#include "tst_pg_server.moc"
