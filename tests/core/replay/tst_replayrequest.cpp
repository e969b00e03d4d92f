// The one reading of a replay as typed (core/replay/replayrequest), shared by
// the replay dialog and `tape replay`.
#include "core/replay/replayrequest.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestReplayRequest : public QObject
{
    Q_OBJECT

    static ReplayRequest base()
    {
        ReplayRequest r;
        r.replayId = u"demo.tape"_s;
        return r;
    }

private Q_SLOTS:
    void ranges_data()
    {
        QTest::addColumn<int>("unit");
        QTest::addColumn<QString>("from");
        QTest::addColumn<QString>("to");
        QTest::addColumn<qint64>("fromPosition");
        QTest::addColumn<qint64>("toPosition");
        QTest::addColumn<qint64>("fromTimeMs");
        QTest::addColumn<qint64>("toTimeMs");
        QTest::addColumn<QString>("problem");
        const qint64 lo = std::numeric_limits<qint64>::min(), hi = std::numeric_limits<qint64>::max();
        using U = ReplayRequest::Unit;
        QTest::newRow("open") << int(U::BySpelling) << QString() << QString() << lo << hi << lo << hi << QString();
        QTest::newRow("offsets") << int(U::Positions) << u"3"_s << u" 9 "_s << qint64(3) << qint64(9) << lo << hi << QString();
        QTest::newRow("lsn") << int(U::Positions) << u"0/10"_s << QString() << qint64(16) << hi << lo << hi << QString();
        QTest::newRow("times, no zone is UTC") << int(U::Times) << u"2026-01-01 10:00:00"_s << u"1767261615000"_s << lo << hi
                                               << qint64(1767261600000) << qint64(1767261615000) << QString();
        QTest::newRow("by spelling") << int(U::BySpelling) << u"@2026-01-01T10:00:00Z"_s << u"7"_s << lo << qint64(7)
                                     << qint64(1767261600000) << hi << QString();
        QTest::newRow("not a position") << int(U::Positions) << u"abc"_s << QString() << lo << hi << lo << hi
                                        << u"From: “abc” is not a position (an offset or an LSN such as 16/B374D848)"_s;
        QTest::newRow("not a time") << int(U::Times) << QString() << u"noon"_s << lo << hi << lo << hi
                                    << u"To: “noon” is not a time (ms since the epoch or ISO 8601 such as "
                                       "2026-12-07T10:15:00Z; a time without a zone is UTC)"_s;
        QTest::newRow("a time in a positions range") << int(U::Positions) << u"@5"_s << QString() << lo << hi << lo << hi
                                                     << u"From: “@5” is not a position (an offset or an LSN such as 16/B374D848)"_s;
        QTest::newRow("from after to") << int(U::Positions) << u"0/16B37B0"_s << u"5"_s << lo << hi << lo << hi
                                       << u"From is after To"_s;
    }
    void ranges()
    {
        QFETCH(int, unit);
        QFETCH(QString, from);
        QFETCH(QString, to);
        QFETCH(QString, problem);
        ReplayRequest r = base();
        r.unit = ReplayRequest::Unit(unit);
        r.from = from;
        r.to = to;
        ReplayOptions o;
        QString why;
        QCOMPARE(toOptions(r, &o, &why), problem.isEmpty());
        QCOMPARE(why, problem);
        if (!problem.isEmpty())
            return;
        QTEST(o.fromPosition, "fromPosition");
        QTEST(o.toPosition, "toPosition");
        QTEST(o.fromTimeMs, "fromTimeMs");
        QTEST(o.toTimeMs, "toTimeMs");
    }

    void labelsNameTheField()
    {
        ReplayRequest r = base();
        r.fromLabel = u"--from"_s;
        r.from = u"x"_s;
        ReplayOptions o;
        QString why;
        QVERIFY(!toOptions(r, &o, &why));
        QCOMPARE(why, u"--from: “x” is not a position (an offset or an LSN such as 16/B374D848)"_s);
    }

    void limitsAndChoices()
    {
        ReplayOptions o;
        QString why;
        ReplayRequest r = base();
        r.threads = MaxReplayThreads + 1;
        QVERIFY(!toOptions(r, &o, &why));
        QCOMPARE(why, u"batch, engines and timeout take positive numbers (at most 64 engines)"_s);
        r = base();
        r.heapMb = 0;
        QVERIFY(!toOptions(r, &o, &why));
        QCOMPARE(why, u"the JavaScript heap limit takes a positive number of MB"_s);
        r = base();
        r.heapMb = 64;
        QVERIFY(toOptions(r, &o, &why));
        QCOMPARE(o.heapLimit, qint64(64) << 20);
        r = base();
        r.replayId = u"  "_s;
        QVERIFY(!toOptions(r, &o, &why));
        QCOMPARE(why, u"Give the replay an id (rerunning with it resumes)"_s);
        r = base();
        r.deadLetterPath = u"dead.jsonl"_s;
        QVERIFY(!toOptions(r, &o, &why));
        QCOMPARE(why, u"a dead-letter file needs skipping failed events"_s);
        r.skipErrors = true;
        r.threads = 3;
        r.batchEvents = 7;
        r.timeoutMs = 50;
        r.dryRun = true;
        QVERIFY(toOptions(r, &o, &why));
        QCOMPARE(o.onError, ReplayOptions::OnError::Skip);
        QCOMPARE(o.deadLetterPath, u"dead.jsonl"_s);
        QCOMPARE(o.replayId, u"demo.tape"_s);
        QCOMPARE(o.threads, 3);
        QCOMPARE(o.batchEvents, 7);
        QCOMPARE(o.timeoutMs, 50);
        QVERIFY(o.dryRun);
    }

    void transformFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(u"t.js"_s);
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("function transform(e) { return null; } // é\n");
        f.close();
        ReplayRequest r = base();
        r.transformPath = path;
        ReplayOptions o;
        QString why;
        bool unreadable = true;
        QVERIFY(toOptions(r, &o, &why, &unreadable));
        QVERIFY(!unreadable);
        QCOMPARE(o.transformSource, u"function transform(e) { return null; } // é\n"_s);
        QCOMPARE(o.transformFile, u"t.js"_s);
        r.transformPath = dir.filePath(u"missing.js"_s);
        QVERIFY(!toOptions(r, &o, &why, &unreadable));
        QVERIFY(unreadable);
        QCOMPARE(why, r.transformPath + u": No such file or directory"_s);
    }
};

QTEST_GUILESS_MAIN(TestReplayRequest)
#include "tst_replayrequest.moc"
