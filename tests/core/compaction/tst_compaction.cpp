#include "core/compaction/compactionmodel.h"
#include "core/compaction/compactionreport.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <QTemporaryDir>

#include <QTest>

using namespace tapedeck;

namespace tapedeck {
// QTest prints these on a failed QCOMPARE (found by argument-dependent lookup).
inline char *toString(const CompactionExplanation &e)
{
    return qstrdup(QStringLiteral("%1 offset %2 time %3").arg(toString(e.reason)).arg(e.offset).arg(e.timeMs).toUtf8().constData());
}
} // namespace tapedeck

namespace {

// A log in one line: "key=value@tsMs" per record, offsets 0, 1, 2... unless
// "#N/" sets one; key "-" is null, value "~" a tombstone; "!flags": t
// transactional, x aborted; "C@ts" / "A@ts" are commit / abort markers.
std::shared_ptr<CompactionLog> parseLog(const QString &spec)
{
    CompactionLogBuilder builder;
    qint64 offset = 0;
    const StreamKey stream{SourceKind::Kafka, QStringLiteral("c"), QStringLiteral("t"), 0};
    for (QString token : spec.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        Event e;
        if (token.startsWith(QLatin1Char('#'))) {
            const qsizetype slash = token.indexOf(QLatin1Char('/'));
            offset = token.mid(1, slash - 1).toLongLong();
            token = token.mid(slash + 1);
        }
        const qsizetype bang = token.indexOf(QLatin1Char('!'));
        const QString flags = bang >= 0 ? token.mid(bang + 1) : QString();
        if (bang >= 0)
            token.truncate(bang);
        const qsizetype at = token.indexOf(QLatin1Char('@'));
        e.timestampUs = token.mid(at + 1).toLongLong() * 1000;
        const QString kv = token.left(at);
        e.position = offset++;
        if (kv == QLatin1String("C") || kv == QLatin1String("A")) {
            e.flags = ControlRecord | Transactional | (kv == QLatin1String("A") ? Aborted : 0);
            e.key = QByteArray("\0\0\0\1", 4);
            e.value = QByteArray(6, '\0');
        } else {
            const qsizetype eq = kv.indexOf(QLatin1Char('='));
            const QString key = kv.left(eq), value = kv.mid(eq + 1);
            if (key != QLatin1String("-"))
                e.key = key.toUtf8();
            if (value != QLatin1String("~"))
                e.value = value.toUtf8();
            e.flags = (flags.contains(QLatin1Char('t')) ? Transactional : 0) | (flags.contains(QLatin1Char('x')) ? Aborted | Transactional : 0);
        }
        e.kind = stream.kind;
        e.cluster = stream.cluster;
        e.topic = stream.topic;
        e.partition = 0;
        builder.add(0, e);
    }
    const auto logs = builder.take();
    return logs.isEmpty() ? std::make_shared<CompactionLog>() : std::make_shared<CompactionLog>(*logs.constFirst());
}

CompactionConfig configFrom(const QStringList &settings)
{
    CompactionConfig c;
    for (const QString &s : settings) {
        QString why;
        const qsizetype eq = s.indexOf(QLatin1Char('='));
        if (!c.set(s.left(eq), s.mid(eq + 1), &why))
            qFatal("%s", qPrintable(why));
    }
    return c;
}

QString reasons(const CompactionSimulation &sim)
{
    QStringList out;
    for (int i = 0; i < sim.log().count(); ++i)
        out.append(toString(sim.explain(i).reason));
    return out.join(QLatin1Char(' '));
}

QList<qint64> kept(const CompactionSimulation &sim)
{
    QList<qint64> out;
    for (int i = 0; i < sim.log().count(); ++i) {
        if (sim.isKept(i))
            out.append(sim.log().offsets[i]);
    }
    return out;
}

} // namespace

class TestCompaction : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void recordBytes_data()
    {
        QTest::addColumn<qint64>("offsetDelta");
        QTest::addColumn<qint64>("timestampDelta");
        QTest::addColumn<qint64>("keySize");
        QTest::addColumn<qint64>("valueSize");
        QTest::addColumn<qint64>("headerBytes");
        QTest::addColumn<qint64>("expected");
        // DefaultRecord.sizeInBytes: varint length + attributes + deltas + key + value + headers.
        QTest::newRow("1-byte key and value") << 0ll << 0ll << 1ll << 1ll << 1ll << 9ll;
        QTest::newRow("null key, tombstone") << 0ll << 0ll << -1ll << -1ll << 1ll << 7ll;
        QTest::newRow("deltas need 2 bytes") << 64ll << 100ll << 1ll << 1ll << 1ll << 11ll;
        QTest::newRow("200-byte value: 2-byte value and record lengths") << 0ll << 0ll << 3ll << 200ll << 1ll << 212ll;
    }
    void recordBytes()
    {
        QFETCH(qint64, offsetDelta);
        QFETCH(qint64, timestampDelta);
        QFETCH(qint64, keySize);
        QFETCH(qint64, valueSize);
        QFETCH(qint64, headerBytes);
        QFETCH(qint64, expected);
        QCOMPARE(kafkaRecordBytes(offsetDelta, timestampDelta, keySize, valueSize, headerBytes), expected);
        QCOMPARE(kafkaHeaderBytes("trace", 3), 1 + 5 + 1 + 3);
        QCOMPARE(kafkaHeaderBytes("n", -1), 1 + 1 + 1);
    }

    void segmentEstimate_data()
    {
        QTest::addColumn<QString>("log");
        QTest::addColumn<QStringList>("settings");
        QTest::addColumn<QList<qint64>>("bases");
        QTest::newRow("defaults: one segment") << u"a=1@0 b=1@700 c=1@1600 d=1@3000"_qs << QStringList{} << QList<qint64>{0};
        QTest::newRow("segment.ms: roll when a record is more than 1000 ms after the first batch")
            << u"a=1@0 b=1@700 c=1@1600 d=1@3000"_qs << QStringList{u"segment.ms=1000"_qs} << QList<qint64>{0, 2, 3};
        QTest::newRow("exactly segment.ms: no roll") << u"a=1@0 b=1@1000"_qs << QStringList{u"segment.ms=1000"_qs} << QList<qint64>{0};
        QTest::newRow("max.compaction.lag.ms shortens segment.ms")
            << u"a=1@0 b=1@700 c=1@1600 d=1@3000"_qs << QStringList{u"segment.ms=1000"_qs, u"max.compaction.lag.ms=600"_qs}
            << QList<qint64>{0, 1, 2, 3};
        // Each record is a batch of its own (timestamps 10 ms apart): 61 + 9 = 70 bytes.
        QTest::newRow("segment.bytes: two 70-byte batches a segment")
            << u"a=1@0 b=1@10 c=1@20 d=1@30 e=1@40"_qs << QStringList{u"segment.bytes=140"_qs} << QList<qint64>{0, 2, 4};
        QTest::newRow("records within linger.ms share a batch")
            << u"a=1@0 b=1@1 c=1@2 d=1@30 e=1@40"_qs << QStringList{u"segment.bytes=140"_qs} << QList<qint64>{0, 3};
        QTest::newRow("offset gaps: bases are the first offsets")
            << u"#10/a=1@0 #20/b=1@10 #30/c=1@20"_qs << QStringList{u"segment.bytes=70"_qs} << QList<qint64>{10, 20, 30};
    }
    void segmentEstimate()
    {
        QFETCH(QString, log);
        QFETCH(QStringList, settings);
        QFETCH(QList<qint64>, bases);
        CompactionSimulation sim(parseLog(log), configFrom(settings));
        QList<qint64> got;
        for (const CompactionSegment &s : sim.segments())
            got.append(s.baseOffset);
        QCOMPARE(got, bases);
        QVERIFY(sim.segmentsEstimated());
    }

    void passes_data()
    {
        QTest::addColumn<QString>("log");
        QTest::addColumn<QList<qint64>>("segments");
        QTest::addColumn<QStringList>("settings");
        QTest::addColumn<qint64>("checkpoint");        // cleaner checkpoint, -1: none
        QTest::addColumn<qint64>("lastStableOffset"); // -1: log end
        QTest::addColumn<QList<qint64>>("passTimes");
        QTest::addColumn<QString>("reasons");          // after the last pass
        QTest::addColumn<QList<qint64>>("kept");

        QTest::newRow("superseded keys; the active segment is not cleaned")
            << u"a=1@1000 b=1@1000 a=2@1000 c=1@1000"_qs << QList<qint64>{0, 3} << QStringList{} << -1ll << -1ll
            << QList<qint64>{5000} << u"superseded latest-for-key latest-for-key active-segment"_qs << QList<qint64>{1, 2, 3};
        QTest::newRow("a newer record in the active segment does not supersede yet")
            << u"a=1@1000 b=1@1000 a=2@1000"_qs << QList<qint64>{0, 2} << QStringList{} << -1ll << -1ll
            << QList<qint64>{5000} << u"latest-for-key latest-for-key active-segment"_qs << QList<qint64>{0, 1, 2};
        QTest::newRow("null keys are dropped")
            << u"a=1@1000 -=x@1000 a=2@1000 -=y@1000"_qs << QList<qint64>{0, 3} << QStringList{} << -1ll << -1ll
            << QList<qint64>{5000} << u"superseded null-key latest-for-key active-segment"_qs << QList<qint64>{2, 3};
        QTest::newRow("offsets are kept, gaps and all")
            << u"#5/a=1@1000 #9/a=2@1000 #12/b=1@1000"_qs << QList<qint64>{5, 12} << QStringList{} << -1ll << -1ll
            << QList<qint64>{5000} << u"superseded latest-for-key active-segment"_qs << QList<qint64>{9, 12};
        QTest::newRow("the first pass keeps a tombstone and stamps its horizon")
            << u"a=1@1000 a=~@2000 b=1@3000"_qs << QList<qint64>{0, 2} << QStringList{} << -1ll << -1ll
            << QList<qint64>{5000} << u"superseded tombstone-retained active-segment"_qs << QList<qint64>{1, 2};
        // seg 0 = [0,1], seg 1 = [2] (ts 50000, held back by min.compaction.lag.ms at 20000), active [3].
        const QString lagLog = u"a=1@1000 a=~@2000 b=1@50000 c=1@60000"_qs;
        const QStringList lag{u"min.compaction.lag.ms=10000"_qs, u"min.cleanable.dirty.ratio=0.01"_qs};
        QTest::newRow("min.compaction.lag.ms holds back a newer segment")
            << lagLog << QList<qint64>{0, 2, 3} << (lag + QStringList{u"delete.retention.ms=1000"_qs}) << -1ll << -1ll
            << QList<qint64>{20000} << u"superseded tombstone-retained min-compaction-lag active-segment"_qs << QList<qint64>{1, 2, 3};
        QTest::newRow("tombstone removed by a later pass past its horizon")
            << lagLog << QList<qint64>{0, 2, 3} << (lag + QStringList{u"delete.retention.ms=1000"_qs}) << -1ll << -1ll
            << QList<qint64>{20000, 70000} << u"superseded tombstone-expired latest-for-key active-segment"_qs << QList<qint64>{2, 3};
        QTest::newRow("tombstone kept by a later pass before its horizon")
            << lagLog << QList<qint64>{0, 2, 3} << (lag + QStringList{u"delete.retention.ms=100000"_qs}) << -1ll << -1ll
            << QList<qint64>{20000, 70000} << u"superseded tombstone-retained latest-for-key active-segment"_qs << QList<qint64>{1, 2, 3};
        // seg 0 = [0..4] (txns), seg 1 = [5], seg 2 = [6], active [7]; each pass can clean one more segment.
        const QString txnLog = u"a=1@1000 a=2@1000!x A@1000 b=1@1000!t C@1000 c=1@100000 d=1@200000 e=1@300000"_qs;
        const QStringList txn{u"min.compaction.lag.ms=50000"_qs, u"min.cleanable.dirty.ratio=0.01"_qs, u"delete.retention.ms=1000"_qs};
        QTest::newRow("aborted data goes, markers stay while their transaction has records")
            << txnLog << QList<qint64>{0, 5, 6, 7} << txn << -1ll << -1ll << QList<qint64>{60000}
            << u"latest-for-key aborted marker-transaction-has-data latest-for-key marker-transaction-has-data min-compaction-lag min-compaction-lag active-segment"_qs
            << QList<qint64>{0, 2, 3, 4, 5, 6, 7};
        QTest::newRow("an empty transaction's marker gets a horizon")
            << txnLog << QList<qint64>{0, 5, 6, 7} << txn << -1ll << -1ll << QList<qint64>{60000, 160000}
            << u"latest-for-key aborted marker-retained latest-for-key marker-transaction-has-data latest-for-key min-compaction-lag active-segment"_qs
            << QList<qint64>{0, 2, 3, 4, 5, 6, 7};
        QTest::newRow("and goes once past it; a committed record keeps its marker")
            << txnLog << QList<qint64>{0, 5, 6, 7} << txn << -1ll << -1ll << QList<qint64>{60000, 160000, 260000}
            << u"latest-for-key aborted marker-expired latest-for-key marker-transaction-has-data latest-for-key latest-for-key active-segment"_qs
            << QList<qint64>{0, 3, 4, 5, 6, 7};
        QTest::newRow("dirty ratio not above the minimum: not chosen")
            << u"a=1@1000 a=2@1000 a=3@1000 b=1@1000"_qs << QList<qint64>{0, 1, 2, 3} << QStringList{} << 2ll << -1ll
            << QList<qint64>{5000} << u"untouched untouched dirty-ratio-too-low active-segment"_qs << QList<qint64>{0, 1, 2, 3};
        QTest::newRow("max.compaction.lag.ms forces the pass")
            << u"a=1@1000 a=2@1000 a=3@1000 b=1@1000"_qs << QList<qint64>{0, 1, 2, 3} << QStringList{u"max.compaction.lag.ms=2000"_qs}
            << 2ll << -1ll << QList<qint64>{5000} << u"superseded superseded latest-for-key active-segment"_qs << QList<qint64>{2, 3};
        QTest::newRow("max.compaction.lag.ms not yet passed")
            << u"a=1@1000 a=2@1000 a=3@1000 b=1@1000"_qs << QList<qint64>{0, 1, 2, 3} << QStringList{u"max.compaction.lag.ms=2000"_qs}
            << 2ll << -1ll << QList<qint64>{2500} << u"untouched untouched dirty-ratio-too-low active-segment"_qs << QList<qint64>{0, 1, 2, 3};
        QTest::newRow("never past the last stable offset's segment")
            << u"a=1@1000 a=2@1000 a=3@1000 a=4@1000 b=1@1000"_qs << QList<qint64>{0, 2, 4} << QStringList{} << -1ll << 3ll
            << QList<qint64>{5000} << u"superseded latest-for-key above-last-stable-offset above-last-stable-offset active-segment"_qs
            << QList<qint64>{1, 2, 3, 4};
        // Capacity: 72 bytes / 24 = 3 slots, * 0.9 = 2 keys.
        QTest::newRow("offset map full: the rest waits for the next pass")
            << u"a=1@1000 b=1@1010 c=1@1020 a=2@1030 d=1@1040"_qs << QList<qint64>{0, 4} << QStringList{u"log.cleaner.dedupe.buffer.size=72"_qs}
            << -1ll << -1ll << QList<qint64>{5000} << u"latest-for-key latest-for-key beyond-offset-map beyond-offset-map active-segment"_qs
            << QList<qint64>{0, 1, 2, 3, 4};
        QTest::newRow("cleanup.policy=delete: nothing is compacted")
            << u"a=1@1000 a=2@1000 b=1@1000"_qs << QList<qint64>{0, 2} << QStringList{u"cleanup.policy=delete"_qs} << -1ll << -1ll
            << QList<qint64>{5000} << u"not-compacted not-compacted not-compacted"_qs << QList<qint64>{0, 1, 2};
    }
    void passes()
    {
        QFETCH(QString, log);
        QFETCH(QList<qint64>, segments);
        QFETCH(QStringList, settings);
        QFETCH(qint64, checkpoint);
        QFETCH(qint64, lastStableOffset);
        QFETCH(QList<qint64>, passTimes);
        QFETCH(QString, reasons);
        QFETCH(QList<qint64>, kept);
        auto l = parseLog(log);
        l->segmentBaseOffsets = QVector<qint64>(segments.cbegin(), segments.cend());
        l->lastStableOffset = lastStableOffset;
        CompactionSimulation sim(l, configFrom(settings));
        QVERIFY(!sim.segmentsEstimated());
        sim.setFirstDirtyOffset(checkpoint);
        for (qint64 t : passTimes)
            sim.pass(t);
        QCOMPARE(::reasons(sim), reasons);
        QCOMPARE(::kept(sim), kept);
    }

    void explanations()
    {
        auto l = parseLog(u"a=1@1000 a=~@2000 b=1@50000 c=1@60000"_qs);
        l->segmentBaseOffsets = {0, 2, 3};
        CompactionSimulation sim(l, configFrom({u"min.compaction.lag.ms=10000"_qs, u"delete.retention.ms=1000"_qs}));
        const CompactionPassResult r = sim.pass(20000);
        QCOMPARE(r.decision, CompactionPassResult::Decision::Cleaned);
        QCOMPARE(r.firstDirtyOffset, 0);
        QCOMPARE(r.firstUncleanableOffset, 2);
        QCOMPARE(r.cleanedUpToOffset, 2);
        QCOMPARE(r.recordsBefore, 4);
        QCOMPARE(r.recordsAfter, 3);
        QCOMPARE(r.dirtyRatio, 1.0);
        QCOMPARE(sim.explain(0), (CompactionExplanation{CompactionReason::Superseded, 1, -1}));
        QCOMPARE(sim.explain(1), (CompactionExplanation{CompactionReason::TombstoneRetained, -1, 21000}));
        QCOMPARE(sim.explain(2), (CompactionExplanation{CompactionReason::CompactionLagNotReached, -1, 60000}));
        QCOMPARE(toString(sim.explain(3).reason), u"active-segment"_qs);
        QCOMPARE(sim.explain(0).text(), u"removed: superseded by offset 1"_qs);
        QCOMPARE(sim.explain(1).text(), u"kept: tombstone until its delete horizon 1970-01-01T00:00:21.000Z"_qs);
        // The dirty ratio afterwards: seg 1 is dirty but held back, so nothing is cleanable.
        QCOMPARE(r.dirtyRatioAfter, 0.0);
    }

    void regrouping_data()
    {
        QTest::addColumn<QStringList>("settings");
        QTest::addColumn<QList<qint64>>("basesAfter");
        // Four cleaned segments of one 70-byte batch each, then the active one.
        QTest::newRow("merged up to segment.bytes") << QStringList{u"segment.bytes=1000"_qs} << QList<qint64>{0, 4};
        QTest::newRow("two per group") << QStringList{u"segment.bytes=140"_qs} << QList<qint64>{0, 2, 4};
        QTest::newRow("by sizes before cleaning") << QStringList{u"segment.bytes=139"_qs} << QList<qint64>{0, 1, 2, 3, 4};
    }
    void regrouping()
    {
        QFETCH(QStringList, settings);
        QFETCH(QList<qint64>, basesAfter);
        auto l = parseLog(u"a=1@0 a=2@10 a=3@20 b=1@30 c=1@40"_qs);
        l->segmentBaseOffsets = {0, 1, 2, 3, 4};
        CompactionSimulation sim(l, configFrom(settings));
        QCOMPARE(sim.segments().constFirst().bytes, 70);
        const CompactionPassResult r = sim.pass(5000);
        QCOMPARE(r.segmentsCleaned, 4);
        QList<qint64> got;
        for (const CompactionSegment &s : sim.segments())
            got.append(s.baseOffset);
        QCOMPARE(got, basesAfter);
        QCOMPARE(r.bytesBefore, 5 * 70);
        QCOMPARE(r.bytesAfter, 3 * 70); // a=3, b=1, c=1 stay, each still in its own batch
    }

    void converged_data()
    {
        QTest::addColumn<QString>("log");
        QTest::addColumn<QString>("reasons");
        QTest::addColumn<QList<qint64>>("kept");
        QTest::newRow("one record per live key")
            << u"a=1@1 b=1@2 a=2@3 c=1@4 b=~@5 -=x@6"_qs << u"superseded superseded latest-for-key latest-for-key tombstone-expired null-key"_qs
            << QList<qint64>{2, 3};
        QTest::newRow("aborted records never count")
            << u"a=1@1 a=2@2!x A@3 b=1@4!t C@5"_qs << u"latest-for-key aborted marker-expired latest-for-key marker-expired"_qs
            << QList<qint64>{0, 3};
    }
    void converged()
    {
        QFETCH(QString, log);
        QFETCH(QString, reasons);
        QFETCH(QList<qint64>, kept);
        CompactionSimulation sim(parseLog(log), CompactionConfig{});
        const CompactionPassResult r = sim.converge();
        QCOMPARE(::reasons(sim), reasons);
        QCOMPARE(::kept(sim), kept);
        QCOMPARE(r.recordsAfter, kept.size());
        QCOMPARE(sim.explain(0).reason == CompactionReason::Superseded ? sim.explain(0).offset : 2ll, 2ll);
    }

    void postgresTable()
    {
        // A delete is the tombstone; BEGIN/COMMIT are not row changes.
        CompactionLogBuilder builder;
        auto change = [&](qint64 lsn, Operation op, const char *key) {
            Event e;
            e.kind = SourceKind::Postgres;
            e.topic = QStringLiteral("public.orders");
            e.partition = 0;
            e.position = lsn;
            e.timestampUs = lsn * 1000;
            e.operation = op;
            if (key)
                e.key = QByteArray(key);
            if (op == Operation::Insert || op == Operation::Update)
                e.value = QByteArray("{}");
            builder.add(0, e);
        };
        change(100, Operation::Begin, nullptr);
        change(110, Operation::Insert, "{\"id\":1}");
        change(120, Operation::Insert, "{\"id\":2}");
        change(130, Operation::Update, "{\"id\":1}");
        change(140, Operation::Delete, "{\"id\":2}");
        change(150, Operation::Commit, nullptr);
        CompactionSimulation sim(builder.take().constFirst(), CompactionConfig{});
        sim.converge();
        QCOMPARE(reasons(sim), u"not-a-row-change superseded superseded latest-for-key tombstone-expired not-a-row-change"_qs);
        QCOMPARE(kept(sim), (QList<qint64>{130}));
    }

    void configs()
    {
        CompactionConfig c;
        QString why;
        QVERIFY(c.set(u"segment.bytes"_qs, u"1048576"_qs, &why));
        QCOMPARE(c.segmentBytes, 1048576);
        QVERIFY(!c.set(u"segment.bytes"_qs, u"big"_qs, &why));
        QVERIFY(why.startsWith(u"segment.bytes: 'big' is not an integer"_qs));
        QVERIFY(!c.set(u"no.such.thing"_qs, u"1"_qs, &why));
        QVERIFY(why.startsWith(u"unknown setting 'no.such.thing'"_qs));
        // As the recorder stores describeConfigs: strings; unknown names ignored.
        const CompactionConfig broker = CompactionConfig::fromJson(QJsonObject{
            {u"cleanup.policy"_qs, u"compact,delete"_qs}, {u"min.cleanable.dirty.ratio"_qs, u"0.1"_qs},
            {u"segment.ms"_qs, u"3600000"_qs}, {u"max.compaction.lag.ms"_qs, u"60000"_qs}, {u"retention.ms"_qs, u"-1"_qs}});
        QVERIFY(broker.compact);
        QCOMPARE(broker.minCleanableDirtyRatio, 0.1);
        QCOMPARE(broker.rollMs(), 60000);
        QCOMPARE(CompactionConfig::fromJson(broker.toJson()), broker);
        QCOMPARE(CompactionConfig{}.offsetMapCapacity(), qint64(134217728 / 24 * 0.9));
    }

    void previewOfSelectionWithPasses()
    {
        // Two partitions interleaved in a tape; the preview of a time range
        // keeps per record its tape sequence number, and runs the given passes.
        QTemporaryDir dir;
        const QString path = dir.filePath(u"two.tape"_qs);
        TapeWriter writer;
        QVERIFY(writer.create(path, {}));
        auto add = [&](qint32 partition, qint64 offset, const char *key, std::optional<QByteArray> value, qint64 ms) {
            Event e;
            e.kind = SourceKind::Kafka;
            e.topic = u"t"_qs;
            e.partition = partition;
            e.position = offset;
            e.timestampUs = ms * 1000;
            e.key = QByteArray(key);
            e.value = std::move(value);
            QVERIFY(writer.append(e));
        };
        add(0, 0, "a", QByteArray("1"), 1000);  // seq 0
        add(1, 0, "x", QByteArray("1"), 1100);  // seq 1
        add(0, 1, "a", std::nullopt, 1200);     // seq 2
        add(1, 1, "x", QByteArray("2"), 1300);  // seq 3
        add(0, 2, "b", QByteArray("1"), 3000);  // seq 4: rolls partition 0 (segment.ms 1000)
        add(1, 2, "y", QByteArray("1"), 3100);  // seq 5: rolls partition 1
        add(0, 3, "c", QByteArray("1"), 5000);  // seq 6: rolls partition 0 again
        QVERIFY(writer.close());
        QString error;
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));

        CompactionPreview::Options options;
        options.overrides = {{u"segment.ms"_qs, u"1000"_qs}, {u"delete.retention.ms"_qs, u"100"_qs},
                             {u"min.compaction.lag.ms"_qs, u"1000"_qs}, {u"min.cleanable.dirty.ratio"_qs, u"0.1"_qs}};
        options.keepSequences = true;
        CompactionPreview all;
        QVERIFY2(CompactionPreview::build(*tape, options, &all, &error), qPrintable(error));
        QCOMPARE(all.partitions.size(), 2);
        QCOMPARE(all.partitions[0].sequence, (QVector<qint64>{0, 2, 4, 6}));
        QCOMPARE(all.partitions[1].sequence, (QVector<qint64>{1, 3, 5}));
        QCOMPARE(all.partitions[0].baseConfig, CompactionConfig{});
        QCOMPARE(all.partitions[0].config.segmentMs, 1000);

        // Pass 1 at 3500 cleans only the first segment (b's is newer than the
        // lag): the tombstone stays and gets its horizon, 3600. Pass 2 at 10000
        // cleans b's segment and, past the horizon, drops the tombstone.
        all.passTimes = {3500, 10000};
        all.recompute();
        const CompactionPreview::Partition &p0 = all.partitions[0];
        QCOMPARE(p0.passes.size(), 2);
        QCOMPARE(p0.passes[0].cleanedUpToOffset, 2);
        QCOMPARE(p0.passes[0].recordsAfter, 3);
        QCOMPARE(p0.passes[1].cleanedUpToOffset, 3);
        QCOMPARE(p0.next.recordsAfter, 2);
        QCOMPARE(p0.nextPass.explain(1), (CompactionExplanation{CompactionReason::TombstoneExpired, -1, 3600}));
        // What-if: a longer delete.retention.ms keeps it through pass 2.
        QVERIFY(all.setOverrides(options.overrides + QList<QPair<QString, QString>>{{u"delete.retention.ms"_qs, u"100000"_qs}}, &error));
        all.recompute();
        QCOMPARE(all.partitions[0].nextPass.explain(1), (CompactionExplanation{CompactionReason::TombstoneRetained, -1, 103500}));
        QVERIFY(!all.setOverrides({{u"producer.linger.ms"_qs, u"0"_qs}}, &error));
        QCOMPARE(error, u"producer.linger.ms shapes the logs; it cannot change afterwards"_qs);
        QVERIFY(!all.setOverrides({{u"segment.ms"_qs, u"soon"_qs}}, &error));
        QCOMPARE(all.partitions[0].config.deleteRetentionMs, 100000); // unchanged after a failure

        // A selection: partition 1 only, or a time range across both.
        options.selection.axis = AxisKind::Time;
        options.selection.range = {1100 * 1000, 1300 * 1000 + 1};
        CompactionPreview range;
        QVERIFY2(CompactionPreview::build(*tape, options, &range, &error), qPrintable(error));
        QCOMPARE(range.partitions.size(), 2);
        QCOMPARE(range.partitions[0].log->stream.partition, 1); // in order of first appearance
        QCOMPARE(range.partitions[0].sequence, (QVector<qint64>{1, 3}));
        QCOMPARE(range.partitions[1].sequence, (QVector<qint64>{2}));
        options.selection.range = {0, 100000 * 1000};
        options.selection.streams = {tape->streams().at(1).id};
        CompactionPreview lane;
        QVERIFY2(CompactionPreview::build(*tape, options, &lane, &error), qPrintable(error));
        QCOMPARE(lane.partitions.size(), 1);
        QCOMPARE(lane.partitions[0].log->stream.partition, tape->streams().at(1).key.partition);
    }
};

QTEST_GUILESS_MAIN(TestCompaction)
#include "tst_compaction.moc"
