#include "core/filter/filterjob.h"
#include "core/tape/tape.h"
#include "tests/common/testtapes.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {
constexpr int EventCount = 20000;
constexpr int ChunkEvents = 500; // 40 chunks, so every worker gets several
}

class TestFilterJob : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::shared_ptr<Tape> m_tape;

    static FilterResult resultOf(const QSignalSpy &spy, int i = 0)
    {
        return spy.at(i).at(0).value<FilterResult>();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QString error;
        const QString path = m_dir.filePath(u"numbered.tape"_s);
        QVERIFY2(testtapes::writeNumberedTape(path, EventCount, ChunkEvents, &error), qPrintable(error));
        m_tape = Tape::open(path, &error);
        QVERIFY2(m_tape, qPrintable(error));
        QCOMPARE(m_tape->eventCount(), EventCount);
        QCOMPARE(m_tape->chunkCount(), EventCount / ChunkEvents);
    }

    void matchesExactly_data()
    {
        QTest::addColumn<QString>("expression");
        QTest::addColumn<int>("threads");
        QTest::addColumn<QVector<quint32>>("expected");
        QTest::addColumn<qint64>("errors");

        QVector<quint32> failedP1, key42, tombstones, all, h3;
        for (int i = 0; i < EventCount; ++i) {
            const bool tombstone = i % 1000 == 999;
            if (!tombstone && i % 3 == 0 && i % 4 == 1)
                failedP1 << quint32(i);
            if (i % 100 == 42)
                key42 << quint32(i);
            if (tombstone)
                tombstones << quint32(i);
            if (i % 5 == 3)
                h3 << quint32(i);
            all << quint32(i);
        }
        for (int threads : {1, 4}) {
            const QByteArray t = " x" + QByteArray::number(threads);
            QTest::newRow(QByteArray("json and partition" + t).constData()) << u"e.json?.status == \"FAILED\" && e.partition == 1"_s << threads
                                                    << failedP1 << qint64(0);
            QTest::newRow(QByteArray("key" + t).constData()) << u"e.key == \"k42\""_s << threads << key42 << qint64(0);
            QTest::newRow(QByteArray("tombstones" + t).constData()) << u"e.tombstone"_s << threads << tombstones << qint64(0);
            QTest::newRow(QByteArray("header" + t).constData()) << u"e.headers.h === \"3\""_s << threads << h3 << qint64(0);
            QTest::newRow(QByteArray("throwing on tombstones" + t).constData()) << u"e.json.n >= 0"_s << threads
                                                        << [&] { QVector<quint32> v; for (quint32 s : all) if (s % 1000 != 999) v << s; return v; }()
                                                        << qint64(EventCount / 1000);
        }
    }

    void matchesExactly()
    {
        QFETCH(QString, expression);
        QFETCH(int, threads);
        QFETCH(QVector<quint32>, expected);
        QFETCH(qint64, errors);

        FilterJob job;
        job.setThreadCount(threads);
        QSignalSpy finished(&job, &FilterJob::finished);
        QSignalSpy progress(&job, &FilterJob::progress);
        job.start(m_tape, expression);
        QVERIFY(job.isRunning());
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.size(), 1);
        const FilterResult r = resultOf(finished);
        QVERIFY(!r.cancelled);
        QVERIFY(!r.failed);
        QCOMPARE(r.expression, expression);
        QCOMPARE(r.scanned, EventCount);
        QCOMPARE(r.matched, expected.size());
        QCOMPARE(r.rows, expected);
        QCOMPARE(r.errorCount, errors);
        if (errors > 0)
            QCOMPARE(r.firstError, u"TypeError: Cannot read property 'n' of undefined (event #999)"_s);
        QVERIFY(!job.isRunning());
        // First and last progress report bracket the scan.
        QVERIFY(progress.size() >= 2);
        QCOMPARE(progress.first().at(0).toLongLong(), 0);
        QCOMPARE(progress.last().at(0).toLongLong(), EventCount);
        QCOMPARE(progress.last().at(1).toLongLong(), EventCount);
    }

    void invalidExpressionFails()
    {
        FilterJob job;
        QSignalSpy finished(&job, &FilterJob::finished);
        job.start(m_tape, u"e.key =="_s);
        QVERIFY(finished.wait(5000));
        const FilterResult r = resultOf(finished);
        QVERIFY(r.failed);
        QCOMPARE(r.firstError, u"column 9: Expected an expression"_s);
        QCOMPARE(r.matched, 0);
    }

    void cancelStopsPromptly()
    {
        FilterJob job;
        job.setTimeoutMs(60000);
        QSignalSpy finished(&job, &FilterJob::finished);
        // Slow on purpose: about 20 s for the whole tape without cancel.
        job.start(m_tape, u"(() => { const t = Date.now(); while (Date.now() - t < 1) {} return true; })()"_s);
        QTest::qWait(200);
        QVERIFY(finished.isEmpty());
        QElapsedTimer clock;
        clock.start();
        job.cancel();
        QVERIFY(finished.wait(5000));
        QVERIFY2(clock.elapsed() < 2000, qPrintable(QString::number(clock.elapsed())));
        const FilterResult r = resultOf(finished);
        QVERIFY(r.cancelled);
        QVERIFY(r.rows.isEmpty());
        QVERIFY(r.scanned < EventCount);
        QVERIFY(!job.isRunning());
    }

    void newJobSupersedesOld()
    {
        FilterJob job;
        job.setTimeoutMs(60000);
        QSignalSpy finished(&job, &FilterJob::finished);
        job.start(m_tape, u"(() => { const t = Date.now(); while (Date.now() - t < 1) {} return true; })()"_s);
        const quint64 first = job.currentJobId();
        QTest::qWait(100);
        job.start(m_tape, u"e.key == \"k7\""_s);
        QVERIFY(job.currentJobId() > first);
        QVERIFY(finished.wait(30000));
        QTest::qWait(200); // a stale result would arrive now
        QCOMPARE(finished.size(), 1);
        const FilterResult r = resultOf(finished);
        QCOMPARE(r.expression, u"e.key == \"k7\""_s);
        QCOMPARE(r.jobId, job.currentJobId());
        QCOMPARE(r.matched, EventCount / 100);
        QVERIFY(!r.cancelled);
    }

    void runawayAbortsScan()
    {
        FilterJob job;
        job.setTimeoutMs(300);
        QSignalSpy finished(&job, &FilterJob::finished);
        QElapsedTimer clock;
        clock.start();
        job.start(m_tape, u"e.offset == 1234 ? (() => { while (true) {} })() : false"_s);
        QVERIFY(finished.wait(10000));
        QVERIFY(clock.elapsed() < 5000);
        const FilterResult r = resultOf(finished);
        QVERIFY(r.failed);
        QVERIFY(r.timedOut);
        // Offset 1234 exists in all four partitions; whichever worker hits one first reports it.
        QVERIFY2(r.firstError.startsWith(u"filter expression took longer than 300 ms on event #493"_s),
                 qPrintable(r.firstError));
        QVERIFY(r.rows.isEmpty());
    }

    void destroyWhileRunning()
    {
        QElapsedTimer clock;
        clock.start();
        {
            FilterJob job;
            job.setTimeoutMs(60000);
            job.start(m_tape, u"(() => { while (true) {} })()"_s);
            QTest::qWait(50);
        } // must interrupt the engines and join, without waiting for the watchdog
        QVERIFY2(clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));
    }
};

QTEST_GUILESS_MAIN(TestFilterJob)
#include "tst_filterjob.moc"
