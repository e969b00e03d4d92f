#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;

namespace {

struct Run
{
    int code = -1;
    QByteArray out;
    QByteArray err;
};

Run tape(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral(TAPE_EXECUTABLE), args);
    if (!p.waitForStarted())
        return {};
    p.closeWriteChannel();
    p.waitForFinished(60000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(), p.readAllStandardError()};
}

Event record(qint64 offset, qint64 tsMs, const char *key, const char *value)
{
    Event e;
    e.kind = SourceKind::Kafka;
    e.cluster = QStringLiteral("c");
    e.topic = QStringLiteral("users");
    e.partition = 0;
    e.position = offset;
    e.timestampUs = tsMs * 1000;
    e.timestampType = TimestampType::CreateTime;
    if (key)
        e.key = QByteArray(key);
    if (value)
        e.value = QByteArray(value);
    return e;
}

} // namespace

class TestCompactionCli : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // users/0: a 1 s segment.ms (from the tape's broker configs) cuts
        // [0,1,2] [3,4] [5]; the next pass cleans offsets 0..4. A first pass
        // always sees a dirty ratio of 1 (nothing is clean yet).
        TapeMetadata meta;
        meta.sourceKind = SourceKind::Kafka;
        meta.parameters = QJsonObject{{u"topicConfigs"_qs, QJsonObject{{u"users"_qs, QJsonObject{
            {u"cleanup.policy"_qs, u"compact"_qs}, {u"segment.ms"_qs, u"1000"_qs}, {u"delete.retention.ms"_qs, u"0"_qs}}}}}};
        TapeWriter w;
        QVERIFY(w.create(path(), meta));
        const Event events[] = {
            record(0, 0, "a", "1"), record(1, 100, "b", "1"), record(2, 200, "a", "2"),
            record(3, 1500, "b", nullptr), record(4, 1600, nullptr, "x"), record(5, 3000, "a", "3"),
        };
        for (const Event &e : events)
            QVERIFY(w.append(e));
        QVERIFY(w.close());
    }

    void summary()
    {
        const Run r = tape({u"compact"_qs, path(), u"--now"_qs, u"10000"_qs});
        QCOMPARE(r.code, 0);
        const QList<QByteArray> lines = r.out.split('\n');
        QCOMPARE(lines.value(0), QByteArray("Now: 1970-01-01T00:00:10.000Z (--now)"));
        // 70-byte batches (one 9-byte record each), 69 for the tombstone and the null key.
        QCOMPARE(lines.value(2), QByteArray("kafka users/0: 6 records, 2 keys, 3 segments (estimated), configs: broker (tape metadata)"));
        QCOMPARE(lines.value(3), QByteArray("  next pass:       6 -> 3 records, 418 -> 209 bytes (50.0%); cleaned: dirty ratio 1.000 > min.cleanable.dirty.ratio 0.5"));
        QCOMPARE(lines.value(4), QByteArray("                   offsets 0..4 cleaned (2 segments), dirty ratio 1.000 -> 0.000"));
        QCOMPARE(lines.value(5), QByteArray("  fully compacted: 6 -> 1 records, 418 -> 70 bytes (16.7%)"));
        QCOMPARE(lines.value(6), QByteArray("  next pass reasons: active-segment 1, latest-for-key 1, null-key 1, superseded 2, tombstone-retained 1"));
        QCOMPARE(lines.value(7), QByteArray("  fully compacted reasons: latest-for-key 1, null-key 1, superseded 3, tombstone-expired 1"));
    }

    void json()
    {
        const Run r = tape({u"compact"_qs, path(), u"--json"_qs, u"--now"_qs, u"10000"_qs, u"--set"_qs, u"min.cleanable.dirty.ratio=1"_qs});
        QCOMPARE(r.code, 0);
        const QJsonObject doc = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(doc.value(u"nowMs"_qs).toInteger(), 10000);
        const QJsonObject p = doc.value(u"partitions"_qs).toArray().at(0).toObject();
        QCOMPARE(p.value(u"topic"_qs).toString(), u"users"_qs);
        QCOMPARE(p.value(u"configSource"_qs).toString(), u"broker (tape metadata) + --set"_qs);
        QCOMPARE(p.value(u"config"_qs).toObject().value(u"segment.ms"_qs).toString(), u"1000"_qs);
        const QJsonObject next = p.value(u"nextPass"_qs).toObject();
        QCOMPARE(next.value(u"decision"_qs).toString(), u"not-chosen"_qs);
        QCOMPARE(next.value(u"recordsAfter"_qs).toInteger(), 6);
        QCOMPARE(next.value(u"reasons"_qs).toObject().value(u"dirty-ratio-too-low"_qs).toInteger(), 5);
        const QJsonObject full = p.value(u"fullyCompacted"_qs).toObject();
        QCOMPARE(full.value(u"recordsAfter"_qs).toInteger(), 1);
    }

    void writesSurvivors_data()
    {
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QList<qint64>>("offsets");
        QTest::newRow("next pass") << QStringList{} << QList<qint64>{2, 3, 5};
        QTest::newRow("fully compacted") << QStringList{u"--full"_qs} << QList<qint64>{5};
    }
    void writesSurvivors()
    {
        QFETCH(QStringList, extra);
        QFETCH(QList<qint64>, offsets);
        const QString out = m_dir.filePath(u"out.tape"_qs);
        const Run r = tape(QStringList{u"compact"_qs, path(), u"--now"_qs, u"10000"_qs, u"-o"_qs, out} + extra);
        QCOMPARE(r.code, 0);
        QVERIFY(!QFile::exists(out + u".partial"_qs));
        QString error;
        const auto t = Tape::open(out, &error);
        QVERIFY2(t, qPrintable(error));
        QList<qint64> got;
        Event e;
        for (qint64 s = 0; s < t->eventCount(); ++s) {
            QVERIFY(t->event(s, &e, &error));
            got.append(e.position);
        }
        QCOMPARE(got, offsets);
        QVERIFY(t->metadata().parameters.contains(u"compaction"_qs));
    }

    void errors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QByteArray>("err");
        QTest::newRow("unknown setting") << QStringList{u"compact"_qs, u"IN"_qs, u"--set"_qs, u"segment.size=1"_qs} << 2
                                         << QByteArray("tape: unknown setting 'segment.size'");
        QTest::newRow("bad value") << QStringList{u"compact"_qs, u"IN"_qs, u"--set"_qs, u"min.cleanable.dirty.ratio=2"_qs} << 2
                                   << QByteArray("tape: min.cleanable.dirty.ratio: '2' is not a number between 0 and 1");
        QTest::newRow("bad --now") << QStringList{u"compact"_qs, u"IN"_qs, u"--now"_qs, u"soon"_qs} << 2
                                   << QByteArray("tape: --now takes milliseconds since the Unix epoch, not 'soon'");
        QTest::newRow("no file") << QStringList{u"compact"_qs} << 2 << QByteArray("tape: compact takes exactly one file");
        QTest::newRow("missing file") << QStringList{u"compact"_qs, u"/nonexistent/x.tape"_qs} << 1 << QByteArray("tape: /nonexistent/x.tape");
    }
    void errors()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QByteArray, err);
        args.replaceInStrings(u"IN"_qs, path());
        const Run r = tape(args);
        QCOMPARE(r.code, code);
        QVERIFY2(r.err.startsWith(err), r.err.constData());
        QVERIFY(r.out.isEmpty());
    }

private:
    QString path() const { return m_dir.filePath(u"users.tape"_qs); }
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestCompactionCli)
#include "tst_compaction_cli.moc"
