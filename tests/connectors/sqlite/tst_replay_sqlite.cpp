// ReplayEngine + SqliteSink: identity rebuild, resume, errors, dead letters,
// and `tape replay` killed with SIGKILL mid-run then rerun (exactly once).
#include "tests/common/replayworkload.h"

#include "core/replay/replay.h"
#include "connectors/sqlite/sqlitesink.h"
#include "core/tape/tape.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

using namespace tapedeck;
using namespace replaytest;

namespace {

QStringList query(const QString &path, const QByteArray &sql)
{
    sqlite3 *db = nullptr;
    QStringList out;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return {QStringLiteral("<cannot open>")};
    }
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v2(db, sql.constData(), -1, &st, nullptr) != SQLITE_OK) {
        out.append(QStringLiteral("<error> ") + QString::fromUtf8(sqlite3_errmsg(db)));
    } else {
        while (sqlite3_step(st) == SQLITE_ROW) {
            QStringList cols;
            for (int i = 0; i < sqlite3_column_count(st); ++i) {
                const unsigned char *t = sqlite3_column_text(st, i);
                cols.append(t ? QString::fromUtf8(reinterpret_cast<const char *>(t)) : QStringLiteral("NULL"));
            }
            out.append(cols.join(QLatin1Char('|')));
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

QStringList expectedRows(const Workload &w)
{
    QStringList out;
    for (const Row &row : w.finalRows) {
        QStringList cols;
        for (const Column &c : row)
            cols.append(c.value ? QString::fromUtf8(*c.value) : QStringLiteral("NULL"));
        out.append(cols.join(QLatin1Char('|')));
    }
    return out;
}

const QByteArray SelectItems = "SELECT id, name, amount, big, note, ts, flag FROM items ORDER BY id";

} // namespace

class TestReplaySqlite : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_tapePath;
    Workload m_workload;

    bool replay(const QString &db, ReplayOptions o, QString *error, ReplayStats *stats = nullptr,
                const std::function<void(ReplayEngine &, const ReplayStats &)> &onBatch = {})
    {
        const auto tape = Tape::open(m_tapePath, error);
        if (!tape)
            return false;
        ReplayEngine engine(tape, o);
        if (onBatch)
            engine.setProgressCallback([&](const ReplayStats &s) { onBatch(engine, s); });
        SqliteSink sink(db, SqliteSink::Options{true});
        const bool ok = engine.run(&sink, error);
        if (stats)
            *stats = engine.stats();
        return ok;
    }

    // A replay through a transform, 100 events a batch.
    static ReplayOptions withTransform(const QString &replayId, const QString &file, const QString &source)
    {
        ReplayOptions o;
        o.replayId = replayId;
        o.batchEvents = 100;
        o.transformFile = file;
        o.transformSource = source;
        return o;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_workload = makeWorkload(3000, 400, 7, QStringLiteral("items"), "items");
        m_tapePath = m_dir.filePath(QStringLiteral("items.tape"));
        QString error;
        QVERIFY2(writeTape(m_tapePath, m_workload.events, &error), qPrintable(error));
    }

    void identityRebuild()
    {
        const QString db = m_dir.filePath(QStringLiteral("identity.db"));
        ReplayOptions o;
        o.replayId = QStringLiteral("r1");
        o.batchEvents = 250;
        QString error;
        ReplayStats s;
        QVERIFY2(replay(db, o, &error, &s), qPrintable(error));
        QCOMPARE(s.events, 3000);
        QCOMPARE(s.batches, 12);
        QCOMPARE(query(db, SelectItems), expectedRows(m_workload));
        QCOMPARE(query(db, "SELECT replay_id, stream, position, seq FROM tapedeck_replay_progress"),
                 QStringList{QStringLiteral("r1|postgres/source/public.items/0|%1|2999").arg(m_workload.events.last().position)});
        // A rerun finds everything committed and writes nothing.
        QVERIFY2(replay(db, o, &error, &s), qPrintable(error));
        QCOMPARE(s.resumedAfterSeq, 2999);
        QCOMPARE(s.events, 0);
    }

    void resumeAfterCancel()
    {
        const QString db = m_dir.filePath(QStringLiteral("resume.db"));
        ReplayOptions o;
        o.replayId = QStringLiteral("r2");
        o.batchEvents = 100;
        QString error;
        ReplayStats s;
        QVERIFY(!replay(db, o, &error, &s, [](ReplayEngine &e, const ReplayStats &st) {
            if (st.batches == 7)
                e.cancel();
        }));
        QCOMPARE(error, QStringLiteral("cancelled"));
        QCOMPARE(query(db, "SELECT seq FROM tapedeck_replay_progress"), QStringList{QStringLiteral("699")});
        QVERIFY2(replay(db, o, &error, &s), qPrintable(error));
        QCOMPARE(s.resumedAfterSeq, 699);
        QCOMPARE(s.events, 2300);
        QCOMPARE(query(db, SelectItems), expectedRows(m_workload));
    }

    void stopOnErrorThenFix()
    {
        const QString db = m_dir.filePath(QStringLiteral("stop.db"));
        ReplayOptions o = withTransform(QStringLiteral("r3"), QStringLiteral("log.js"),
                                        QStringLiteral("function transform(e) {\n if (e.position === '%1') throw new Error('bad event');\n"
                                                       " return {table: 'log', op: 'insert', row: {pos: e.position, op: e.op}}; }")
                                            .arg(m_workload.events[1234].position));
        QString error;
        ReplayStats s;
        QVERIFY(!replay(db, o, &error, &s));
        QCOMPARE(error, QStringLiteral("event #1234: transform threw Error: bad event (log.js:2)"));
        QCOMPARE(query(db, "SELECT count(*), count(DISTINCT pos) FROM log"), QStringList{QStringLiteral("1234|1234")});
        QCOMPARE(query(db, "SELECT seq FROM tapedeck_replay_progress"), QStringList{QStringLiteral("1233")});
        o.transformSource = QStringLiteral("function transform(e) { return {table: 'log', op: 'insert', row: {pos: e.position, op: e.op}}; }");
        QVERIFY2(replay(db, o, &error, &s), qPrintable(error));
        QCOMPARE(s.resumedAfterSeq, 1233);
        QCOMPARE(query(db, "SELECT count(*), count(DISTINCT pos) FROM log"), QStringList{QStringLiteral("3000|3000")});
    }

    // An event with a Kafka output among its SQL ones stops the replay
    // before it: none of its outputs is written, not even the SQL ones before
    // the Kafka one.
    void wrongKindStopsBeforeTheEvent()
    {
        const QString db = m_dir.filePath(QStringLiteral("kind.db"));
        const ReplayOptions o = withTransform(
            QStringLiteral("r3k"), QStringLiteral("kind.js"),
            QStringLiteral("function transform(e) {\n const out = [{table: 'log', op: 'insert', row: {pos: e.position}}];\n"
                           " if (e.position === '%1') out.push({topic: 't', key: 'k', value: 'v'}, {table: 'log', op: 'insert', row: {pos: 'after'}});\n"
                           " return out; }")
                .arg(m_workload.events[250].position));
        QString error;
        ReplayStats s;
        QVERIFY(!replay(db, o, &error, &s));
        QVERIFY2(error.startsWith(QStringLiteral("event #250: a Kafka output cannot be written to ")), qPrintable(error));
        QCOMPARE(query(db, "SELECT count(*), count(DISTINCT pos) FROM log"), QStringList{QStringLiteral("250|250")});
        QCOMPARE(query(db, "SELECT seq FROM tapedeck_replay_progress"), QStringList{QStringLiteral("249")});
    }

    void skipToDeadLetter()
    {
        const QString db = m_dir.filePath(QStringLiteral("skip.db"));
        ReplayOptions o;
        o.replayId = QStringLiteral("r4");
        o.onError = ReplayOptions::OnError::Skip;
        o.deadLetterPath = m_dir.filePath(QStringLiteral("dead.jsonl"));
        o.threads = 2;
        o.timeoutMs = 50;
        o.transformFile = QStringLiteral("t.js");
        o.transformSource = QStringLiteral(
            "function transform(e) {\n"
            " if (e.op === 'delete') throw new Error('no deletes');\n"
            " if (e.position === '%1') while (true) {}\n"
            " return {table: 'kept', op: 'insert', row: {pos: e.position}}; }").arg(m_workload.events[10].position);
        QString error;
        ReplayStats s;
        QVERIFY2(replay(db, o, &error, &s), qPrintable(error));
        int deletes = 0;
        for (const Event &e : m_workload.events)
            deletes += e.operation == Operation::Delete;
        QCOMPARE(s.skipped, deletes + 1);
        QCOMPARE(query(db, "SELECT count(*) FROM kept"), QStringList{QString::number(3000 - deletes - 1)});
        QFile dead(o.deadLetterPath);
        QVERIFY(dead.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = dead.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), deletes + 1);
        bool sawTimeout = false;
        for (const QByteArray &line : lines) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o.value(QStringLiteral("seq")).toInt() == 10) {
                sawTimeout = true;
                QCOMPARE(o.value(QStringLiteral("error")).toString(),
                         QStringLiteral("event #10: transform took longer than 50 ms and was interrupted"));
            } else {
                QCOMPARE(o.value(QStringLiteral("error")).toString(),
                         QStringLiteral("event #%1: transform threw Error: no deletes (t.js:2)").arg(o.value(QStringLiteral("seq")).toInt()));
                QCOMPARE(o.value(QStringLiteral("op")).toString(), QStringLiteral("delete"));
            }
        }
        QVERIFY(sawTimeout);
    }

    void rangeAndDryRun()
    {
        ReplayOptions o;
        o.dryRun = true;
        o.fromPosition = m_workload.events[100].position;
        o.toPosition = m_workload.events[199].position;
        QString error;
        const auto tape = Tape::open(m_tapePath, &error);
        ReplayEngine engine(tape, o);
        QList<SinkOutput> seen;
        engine.setOutputObserver([&](const SinkOutput &out) { seen.append(out); });
        QVERIFY2(engine.run(nullptr, &error), qPrintable(error));
        QCOMPARE(engine.stats().inRange, 100);
        QCOMPARE(seen.size(), 100);
        QCOMPARE(seen.first().seq, 100);
        QCOMPARE(seen.last().seq, 199);
    }

    void killDashNineAndRerun()
    {
        const QString db = m_dir.filePath(QStringLiteral("killed.db"));
        const QString js = m_dir.filePath(QStringLiteral("append.js"));
        QFile f(js);
        QVERIFY(f.open(QIODevice::WriteOnly));
        // About 1-2 ms per event, so that a SIGKILL 100-500 ms in lands mid-run
        // however fast the replay gets on a quiet machine.
        f.write("function transform(e) { for (const t = Date.now(); Date.now() - t < 2;) {}\n"
                "  return {table: 'appended', op: 'insert', row: {pos: e.position, id: e.key}}; }\n");
        f.close();
        const QStringList args{QStringLiteral("replay"), m_tapePath, QStringLiteral("--transform"), js,
                               QStringLiteral("--into"), QStringLiteral("sqlite:") + db, QStringLiteral("--create-tables"),
                               QStringLiteral("--batch"), QStringLiteral("2"), QStringLiteral("--replay-id"), QStringLiteral("killme")};
        int midway = 0;
        // 20 random moments (#20): each time the table holds whole batches only.
        for (int attempt = 0; attempt < 20; ++attempt) {
            QProcess p;
            p.start(QStringLiteral(TAPE_EXECUTABLE), args);
            QVERIFY(p.waitForStarted());
            QThread::msleep(100 + QRandomGenerator::global()->bounded(300));
            p.kill(); // SIGKILL
            p.waitForFinished();
            const QStringList rows = query(db, "SELECT count(*), count(DISTINCT pos) FROM appended");
            qInfo() << "after SIGKILL" << attempt << rows;
            const int n = rows.value(0).section(QLatin1Char('|'), 0, 0).toInt();
            // Never a duplicate: every row once, whatever moment the kill hit.
            QCOMPARE(rows.value(0).section(QLatin1Char('|'), 1, 1).toInt(), n);
            midway += n > 0 && n < 3000;
        }
        QVERIFY2(midway > 0, "no SIGKILL landed mid-run");
        QProcess p;
        p.start(QStringLiteral(TAPE_EXECUTABLE), args);
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QCOMPARE(query(db, "SELECT count(*), count(DISTINCT pos) FROM appended"), QStringList{QStringLiteral("3000|3000")});
    }

    // Names with quotes, semicolons, spaces, unicode and keywords, values with
    // NUL bytes and invalid UTF-8: replayed, compared and repaired without
    // ever running what they contain (#20).
    void hostileNamesAndValues()
    {
        const QString db = m_dir.filePath(QStringLiteral("hostile.db"));
        {
            SqliteSink victim(db, SqliteSink::Options{true});
            QString error;
            QVERIFY2(victim.open(QStringLiteral("setup"), &error), qPrintable(error));
        }
        sqlite3 *raw = nullptr;
        QCOMPARE(sqlite3_open(db.toUtf8().constData(), &raw), SQLITE_OK);
        QCOMPARE(sqlite3_exec(raw, "CREATE TABLE victim (id int); INSERT INTO victim VALUES (1)", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(raw);
        const QString table = QStringLiteral("public.hostile \"x\"; DROP TABLE victim; --");
        const QList<QString> columns{QStringLiteral("id"), QStringLiteral("it's \"a\" (col); DROP TABLE victim"),
                                     QStringLiteral("select"), QStringLiteral("caf\u00e9 \u2028 line")};
        const QList<QByteArray> values{QByteArray("a\0b", 3), QByteArray("\xff\xfe not utf-8"), QByteArray("'); DROP TABLE victim; --")};
        QList<Event> events;
        for (int i = 0; i < 3; ++i) {
            Event e;
            e.kind = SourceKind::Postgres;
            e.cluster = QStringLiteral("shop");
            e.topic = table;
            e.position = 0x1000 + i;
            e.timestampUs = 1767261600000000 + i;
            e.timestampType = TimestampType::CommitTime;
            e.operation = Operation::Insert;
            e.transactionId = 700 + i;
            e.commitLsn = e.position;
            e.primaryKey = {columns[0]};
            e.key = "{\"id\":" + QByteArray::number(i) + '}';
            e.value = e.key;
            e.newRow = {{columns[0], QStringLiteral("integer"), QByteArray::number(i), false},
                        {columns[1], QStringLiteral("text"), values[0], false},
                        {columns[2], QStringLiteral("bytea) ; DROP TABLE victim"), values[1], false},
                        {columns[3], QStringLiteral("text"), values[2], false}};
            events.append(e);
        }
        const QString tapePath = m_dir.filePath(QStringLiteral("hostile.tape"));
        QString error;
        QVERIFY2(writeTape(tapePath, events, &error), qPrintable(error));
        const auto run = [](const QStringList &args, QByteArray *err = nullptr) {
            QProcess p;
            p.start(QStringLiteral(TAPE_EXECUTABLE), args);
            p.waitForFinished(60000);
            if (err)
                *err = p.readAllStandardError();
            return p.exitCode();
        };
        QByteArray err;
        QCOMPARE(run({QStringLiteral("replay"), tapePath, QStringLiteral("--into"), QStringLiteral("sqlite:") + db,
                      QStringLiteral("--create-tables")}, &err), 0);
        QCOMPARE(query(db, "SELECT count(*) FROM victim"), QStringList{QStringLiteral("1")});
        const QByteArray quoted = "\"hostile \"\"x\"\"; DROP TABLE victim; --\"";
        QCOMPARE(query(db, "SELECT name FROM pragma_table_info('hostile \"x\"; DROP TABLE victim; --') ORDER BY cid"), columns);
        // Values byte for byte (hex, since NUL and invalid UTF-8 do not print).
        const QString row = QString::fromLatin1(QByteArray(values[0].toHex().toUpper() + '|' + values[1].toHex().toUpper() + '|'
                                                           + values[2].toHex().toUpper()));
        QCOMPARE(query(db, "SELECT id, hex(\"" + columns[1].toUtf8().replace('"', "\"\"") + "\"), hex(\"select\"), hex(\""
                               + columns[3].toUtf8() + "\") FROM " + quoted + " ORDER BY id"),
                 (QStringList{u"0|"_qs + row, u"1|"_qs + row, u"2|"_qs + row}));
        const QStringList diff{QStringLiteral("diff"), tapePath, QStringLiteral("--against"), QStringLiteral("sqlite:") + db,
                               QStringLiteral("--table"), QStringLiteral("hostile \"x\"; DROP TABLE victim; --")};
        QCOMPARE(run(diff, &err), 0);
        // Break a row, repair through the sinks, and compare again.
        QCOMPARE(sqlite3_open(db.toUtf8().constData(), &raw), SQLITE_OK);
        QCOMPARE(sqlite3_exec(raw, QByteArray("DELETE FROM " + quoted + " WHERE id = 1").constData(), nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(raw);
        QCOMPARE(run(diff, &err), 3);
        QCOMPARE(run(diff + QStringList{QStringLiteral("--repair-replay")}, &err), 0);
        QVERIFY2(err.contains("now equals the state"), err.constData());
        QCOMPARE(query(db, "SELECT count(*) FROM victim"), QStringList{QStringLiteral("1")});
        QCOMPARE(run(diff, &err), 0);
    }

    void cliErrors()
    {
        QProcess p;
        p.start(QStringLiteral(TAPE_EXECUTABLE), {QStringLiteral("replay"), m_tapePath});
        QVERIFY(p.waitForFinished());
        QCOMPARE(p.exitCode(), 2);
        QCOMPARE(p.readAllStandardError(), QByteArray("tape: replay needs --into postgresql://...|sqlite:PATH|kafka://BROKERS/TOPIC (or --dry-run) (see 'tape --help')\n"));
        p.start(QStringLiteral(TAPE_EXECUTABLE), {QStringLiteral("replay"), m_tapePath, QStringLiteral("--into"),
                                                  QStringLiteral("sqlite:") + m_dir.filePath(QStringLiteral("nocreate.db"))});
        QVERIFY(p.waitForFinished());
        QCOMPARE(p.exitCode(), 1);
        const QByteArray expected = QByteArray("tape: sqlite:") + m_dir.filePath(QStringLiteral("nocreate.db")).toUtf8()
                                    + ": table \"items\" does not exist (--create-tables creates it from the outputs)\n";
        const QByteArray err = p.readAllStandardError();
        QVERIFY2(err.endsWith(expected), err.constData());
    }
};

QTEST_GUILESS_MAIN(TestReplaySqlite)
#include "tst_replay_sqlite.moc"
