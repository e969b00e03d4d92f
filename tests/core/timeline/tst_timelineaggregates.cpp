#include "core/tape/chunk.h"
#include "core/timeline/countpyramid.h"
#include "core/tape/tape.h"
#include "tests/common/testtapes.h"
#include "core/timeline/timelineaggregates.h"
#include "core/timeline/timelineaggregatesjob.h"
#include "core/timeline/timelinemarks.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

double sumColumns(const TimelineAggregates &agg, AxisKind axis, AxisRange range, int width, const QList<quint32> &streams = {},
                  double *special = nullptr)
{
    std::vector<float> c(size_t(width), 0.f), s(size_t(width), 0.f);
    agg.addColumns(axis, streams, AxisMapping(range, width), c.data(), s.data());
    double total = 0, sp = 0;
    for (int i = 0; i < width; ++i) {
        total += c[size_t(i)];
        sp += s[size_t(i)];
    }
    if (special)
        *special = sp;
    return total;
}

TimelineAggregates buildDirect(const Tape &tape)
{
    TimelineAggregates agg;
    agg.plan(tape.streams(), tape.eventCount());
    for (int i = 0; i < tape.chunkCount(); ++i) {
        QString error;
        const auto chunk = tape.chunk(i, &error);
        Q_ASSERT(chunk);
        agg.append(*chunk, tape.chunkInfo(i).firstSeq);
    }
    agg.finishBatch();
    return agg;
}

} // namespace

class TestTimelineAggregates : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

private Q_SLOTS:
    void pyramidLevels()
    {
        CountPyramid p(2); // buckets 4 wide
        for (qint64 v : {0, 1, 3, 4, 9, 100, 101, 102, 103, 100000})
            p.add(v, v == 9);
        p.updateLevels();
        // Coarser levels up to one that fits in a block (25000 buckets here).
        QVERIFY(p.levelCount() >= 4);
        QCOMPARE(p.bucket(0, 0).count, 3u);  // 0, 1, 3
        QCOMPARE(p.bucket(0, 1).count, 1u);  // 4
        QCOMPARE(p.bucket(0, 2).special, 1u); // 9
        QCOMPARE(p.bucket(1, 0).count, 4u);  // [0, 8)
        QCOMPARE(p.bucket(0, 25).count, 4u); // 100..103
        // Every level holds every event.
        for (int level = 0; level < p.levelCount(); ++level) {
            quint32 total = 0;
            for (qint64 i = -1; i <= (100000 >> (2 + level)) + 1; ++i)
                total += p.bucket(level, i).count;
            QCOMPARE(total, 10u);
        }
        // Columns: one event per value at a resolution of one value per pixel.
        std::vector<float> c(200, 0.f), s(200, 0.f);
        p.addColumns(AxisMapping({0, 200}, 200), c.data(), s.data());
        double total = 0;
        for (float v : c)
            total += v;
        QCOMPARE(total, 9.0);
        QCOMPARE(p.estimate(100, 104), 4.0);
        QCOMPARE(p.estimate(0, 1000), 9.0);
        QCOMPARE(p.estimate(0, 1 << 20), 10.0);

        // Coarsening keeps the counts.
        p.coarsen();
        QCOMPARE(p.shift(), 3);
        QCOMPARE(p.bucket(0, 0).count, 4u);
        QCOMPARE(p.estimate(0, 1 << 20), 10.0);
    }

    void pyramidBudgetAndNegative()
    {
        CountPyramid p(0);
        p.setBlockBudget(2);
        for (qint64 v = -5; v < 1'000'000; v += 7)
            p.add(v, false);
        p.updateLevels();
        QVERIFY(p.shift() > 0);
        QVERIFY2(p.allocatedBlocks() <= 2 * 2 + p.levelCount() * 2, qPrintable(QString::number(p.allocatedBlocks())));
        QCOMPARE(qint64(p.estimate(-(1 << 30), 1 << 30)), qint64(142858));
    }

    // A record stamped 0 beside this year's records (#20: the sanitizer run
    // found the GUI spinning for minutes in level building over the gap).
    void pyramidFarApartValues()
    {
        constexpr qint64 Now = 1'796'657'756'553'000; // 2026-12-07 in µs
        CountPyramid p(0);
        p.setBlockBudget(2);
        p.add(0, false);
        p.add(Now, true);
        p.add(Now + 1, false);
        p.add(-Now, false);
        p.updateLevels();
        // The gap was coarsened away instead of walked bucket by bucket.
        QVERIFY2(p.shift() >= 24, qPrintable(QString::number(p.shift())));
        QVERIFY2(p.allocatedBlocks() <= 3 * p.levelCount(), qPrintable(QString::number(p.allocatedBlocks())));
        QVERIFY2(p.memoryBytes() < 64 << 20, qPrintable(QString::number(p.memoryBytes())));
        QCOMPARE(p.estimate(-(qint64(1) << 61), qint64(1) << 61), 4.0);
        QCOMPARE(p.bucket(0, Now >> p.shift()).count, (Now >> p.shift()) == ((Now + 1) >> p.shift()) ? 2u : 1u);
        QCOMPARE(p.bucket(0, Now >> p.shift()).special, 1u);
        QCOMPARE(p.bucket(0, 0).count, 1u);
    }

    void snapshotsAreIndependent()
    {
        CountPyramid p(0);
        p.add(5, false);
        p.updateLevels();
        const CountPyramid snapshot = p;
        p.add(5, false);
        p.updateLevels();
        QCOMPARE(snapshot.bucket(0, 5).count, 1u);
        QCOMPARE(p.bucket(0, 5).count, 2u);
    }

    void aggregatesOfNumberedTape()
    {
        const QString path = m_dir.filePath(u"numbered.tape"_s);
        QString error;
        QVERIFY2(testtapes::writeNumberedTape(path, 20000, 1000, &error), qPrintable(error));
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        const TimelineAggregates agg = buildDirect(*tape);
        QCOMPARE(agg.eventCount(), 20000);
        QCOMPARE(agg.chunkCount(), 20);
        QCOMPARE(agg.laneCount(), 4);
        QCOMPARE(agg.timeRange(), (AxisRange{testtapes::BaseTimeUs, testtapes::BaseTimeUs + 19999 * 1000 + 1}));
        for (quint32 s = 0; s < 4; ++s)
            QCOMPARE(agg.lane(s).count, 5000);
        double special = 0;
        QCOMPARE(std::llround(sumColumns(agg, AxisKind::Time, axis::fitted(agg.timeRange()), 800, {}, &special)), 20000);
        QCOMPARE(std::llround(special), 20); // a tombstone every 1000th event
        QCOMPARE(std::llround(sumColumns(agg, AxisKind::Position, {0, 20000}, 333)), 20000);
        // Partition 1 only (stream ids in order of first use: partition i % 4 is stream i % 4).
        QCOMPARE(std::llround(sumColumns(agg, AxisKind::Time, agg.timeRange(), 1000, {1})), 5000);
        // A sub-range: events 5000..9999 are the second quarter of the time range.
        const double est = agg.estimate(AxisKind::Time, {testtapes::BaseTimeUs + 5000 * 1000, testtapes::BaseTimeUs + 10000 * 1000});
        QVERIFY2(std::abs(est - 5000) < 100, qPrintable(QString::number(est)));
        QCOMPARE(std::llround(agg.estimate(AxisKind::Position, {0, 10000}, {0})), 2500);
    }

    void memoryPerEvent()
    {
        const QString path = m_dir.filePath(u"memory.tape"_s);
        QString error;
        QVERIFY2(testtapes::writeNumberedTape(path, 400000, 4096, &error), qPrintable(error));
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        const TimelineAggregates agg = buildDirect(*tape);
        const double perEvent = double(agg.memoryBytes()) / 400000.0;
        qInfo("aggregates: %.2f bytes/event", perEvent);
        QVERIFY2(perEvent <= 8, qPrintable(QString::number(perEvent)));
    }

    void outOfOrderTimestamps()
    {
        QList<Event> events;
        // One partition, timestamps jump back and forth (interleaved producers); one event has none.
        const qint64 offsets[] = {5000, 1000, 9000, 3000, -1, 7000, 2000};
        for (int i = 0; i < 7; ++i)
            events << testtapes::kafka(u"t"_s, 0, i, QByteArray("k"), QByteArray("v"), {},
                                       offsets[i] < 0 ? -1 : testtapes::BaseTimeUs + offsets[i]);
        const QString path = m_dir.filePath(u"ooo.tape"_s);
        QString error;
        QVERIFY2(testtapes::writeTape(path, events, 2, &error), qPrintable(error));
        const auto tape = Tape::open(path, &error);
        QVERIFY(tape);
        const TimelineAggregates agg = buildDirect(*tape);
        QCOMPARE(agg.timeRange(), (AxisRange{testtapes::BaseTimeUs + 1000, testtapes::BaseTimeUs + 9001}));
        QCOMPARE(agg.timedCount(), 6);
        QCOMPARE(agg.lane(0).untimed, 1);
        QCOMPARE(std::llround(agg.estimate(AxisKind::Time, {testtapes::BaseTimeUs, testtapes::BaseTimeUs + 4000})), 3);
        // Marks of a time range find the events of every chunk that overlaps it.
        const TimelineMarks marks = TimelineMarks::collect(*tape, AxisKind::Time,
                                                           {testtapes::BaseTimeUs + 2000, testtapes::BaseTimeUs + 7001}, 100);
        QVERIFY(marks.complete);
        QList<qint64> seqs;
        for (const TimelineMark &m : marks.marks)
            seqs << m.seq;
        QCOMPARE(seqs, (QList<qint64>{6, 3, 0, 5})); // sorted by time: 2000, 3000, 5000, 7000
        // The same range as a selection, in sequence order.
        EventSelection sel;
        sel.range = marks.range;
        QCOMPARE(timelinescan::selectEvents(*tape, sel), (QVector<quint32>{0, 3, 5, 6}));
    }

    void marksCapAndBrackets()
    {
        QList<Event> events;
        for (int i = 0; i < 10; ++i) {
            Event e = testtapes::kafka(u"tx"_s, 0, i, QByteArray("k") + QByteArray::number(i % 3), QByteArray("v"), {},
                                       testtapes::BaseTimeUs + i * 1000);
            if (i >= 2 && i <= 4)
                e.flags = Transactional;
            if (i == 5)
                e.flags = Transactional | ControlRecord;
            if (i == 8)
                e.value = std::nullopt;
            events << e;
        }
        const QString path = m_dir.filePath(u"tx.tape"_s);
        QString error;
        QVERIFY2(testtapes::writeTape(path, events, 4, &error), qPrintable(error));
        const auto tape = Tape::open(path, &error);
        QVERIFY(tape);
        const AxisRange all{testtapes::BaseTimeUs, testtapes::BaseTimeUs + 10000};
        QVERIFY(!TimelineMarks::collect(*tape, AxisKind::Time, all, 5).complete); // over the cap
        const TimelineMarks marks = TimelineMarks::collect(*tape, AxisKind::Time, all, 100);
        QVERIFY(marks.complete);
        QCOMPARE(marks.marks.size(), 10);
        QCOMPARE(marks.begin(0), 0);
        QCOMPARE(marks.end(0), 10);
        QVERIFY(marks.marks[8].isTombstone());
        QCOMPARE(marks.marks[0].keyHash, marks.marks[3].keyHash); // same key, same hash
        QVERIFY(marks.marks[0].keyHash != marks.marks[1].keyHash);
        QCOMPARE(timelinescan::keyHash("order-1"), 729795949u); // stable across runs and machines
        QCOMPARE(marks.brackets.size(), 1);
        QCOMPARE(marks.brackets[0].from, testtapes::BaseTimeUs + 2000);
        QCOMPARE(marks.brackets[0].to, testtapes::BaseTimeUs + 5000);
        QVERIFY(!marks.brackets[0].aborted && !marks.brackets[0].openStart && !marks.brackets[0].openEnd);
        // Position axis: the same events by sequence number.
        const TimelineMarks byPosition = TimelineMarks::collect(*tape, AxisKind::Position, {3, 6}, 100);
        QCOMPARE(byPosition.marks.size(), 3);
        QCOMPARE(byPosition.marks[0].at, 3);
    }

    void selectAndIntersect()
    {
        const QString path = m_dir.filePath(u"select.tape"_s);
        QString error;
        QVERIFY2(testtapes::writeNumberedTape(path, 1000, 64, &error), qPrintable(error));
        const auto tape = Tape::open(path, &error);
        QVERIFY(tape);
        EventSelection sel;
        sel.range = {testtapes::BaseTimeUs + 100 * 1000, testtapes::BaseTimeUs + 300 * 1000};
        QVector<quint32> rows = timelinescan::selectEvents(*tape, sel);
        QCOMPARE(rows.size(), 200);
        QCOMPARE(rows.first(), 100u);
        QCOMPARE(rows.last(), 299u);
        sel.streams = {2}; // partition 2
        rows = timelinescan::selectEvents(*tape, sel);
        QCOMPARE(rows.size(), 50);
        QCOMPARE(rows.first(), 102u);
        sel.axis = AxisKind::Position;
        sel.range = {0, 10};
        sel.streams.clear();
        QCOMPARE(timelinescan::selectEvents(*tape, sel).size(), 10);
        QCOMPARE(timelinescan::intersect({1, 2, 5, 9}, {2, 3, 5, 10}), (QVector<quint32>{2, 5}));
    }

    // A recording followed through snapshots: grow() aggregates only the new
    // chunks and ends with the same counts as a fresh build.
    void growWithSnapshots()
    {
        const QString path = m_dir.filePath(u"snapshots.tape"_s);
        TapeWriter writer;
        TapeWriter::Options options;
        options.maxChunkEvents = 100;
        QVERIFY(writer.create(path, TapeMetadata{}, options));
        int written = 0;
        auto writeMore = [&](int n) {
            for (int i = 0; i < n; ++i, ++written)
                QVERIFY(writer.append(testtapes::numberedEvent(written)));
            QVERIFY(writer.flush());
        };
        writeMore(700);
        QString error;
        std::shared_ptr<const Tape> snapshot = Tape::open(path, &error);
        QVERIFY2(snapshot, qPrintable(error));
        TimelineAggregatesJob job;
        QSignalSpy finished(&job, &TimelineAggregatesJob::finished);
        job.setTape(snapshot);
        QVERIFY(finished.wait(10000));
        QCOMPARE(job.aggregates().chunkCount(), 7);
        for (int step = 0; step < 3; ++step) {
            writeMore(450);
            snapshot = snapshot->refreshed(&error);
            QVERIFY2(snapshot, qPrintable(error));
            job.grow(snapshot); // while a previous update may still run
        }
        QTRY_COMPARE_WITH_TIMEOUT(job.aggregates().eventCount(), qint64(2050), 10000);
        QTRY_VERIFY(!job.isRunning());
        const TimelineAggregates full = buildDirect(*snapshot);
        QCOMPARE(job.aggregates().chunkCount(), snapshot->chunkCount());
        for (quint32 s = 0; s < 4; ++s)
            QCOMPARE(job.aggregates().lane(s).count, full.lane(s).count);
        QCOMPARE(job.aggregates().timeRange(), full.timeRange());
        writer.close();
    }

    // A tape written in steps and refreshed: the job extends the aggregates,
    // and they equal those of a fresh build.
    void incrementalBuild()
    {
        const QString path = m_dir.filePath(u"growing.tape"_s);
        TapeWriter writer;
        TapeWriter::Options options;
        options.maxChunkEvents = 100;
        QVERIFY(writer.create(path, TapeMetadata{}, options));
        int written = 0;
        auto writeMore = [&](int n) {
            for (int i = 0; i < n; ++i, ++written)
                QVERIFY(writer.append(testtapes::numberedEvent(written)));
            QVERIFY(writer.flush());
        };
        writeMore(1050);
        QString error;
        const std::shared_ptr<Tape> tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        TimelineAggregatesJob job;
        QSignalSpy finished(&job, &TimelineAggregatesJob::finished);
        job.setTape(tape);
        QVERIFY(finished.wait(10000));
        QCOMPARE(job.aggregates().eventCount(), 1050);

        writeMore(2345);
        QVERIFY(!job.isRunning());
        QCOMPARE(tape->refresh(&error), 2345);
        job.update();
        QVERIFY(finished.wait(10000));
        writeMore(5);
        QCOMPARE(tape->refresh(&error), 5);
        job.update();
        QVERIFY(finished.wait(10000));

        const TimelineAggregates &inc = job.aggregates();
        const TimelineAggregates full = buildDirect(*tape);
        QCOMPARE(inc.eventCount(), 3400);
        QCOMPARE(inc.timeRange(), full.timeRange());
        for (quint32 s = 0; s < 4; ++s)
            QCOMPARE(inc.lane(s).count, full.lane(s).count);
        const AxisRange r = axis::fitted(full.timeRange());
        QCOMPARE(std::llround(sumColumns(inc, AxisKind::Time, r, 500)), 3400);
        QCOMPARE(std::llround(inc.estimate(AxisKind::Time, {r.from, r.from + r.span() / 3})),
                 std::llround(full.estimate(AxisKind::Time, {r.from, r.from + r.span() / 3})));
        writer.close();
    }
};

QTEST_GUILESS_MAIN(TestTimelineAggregates)
#include "tst_timelineaggregates.moc"
