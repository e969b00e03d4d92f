// The compaction model against the real log cleaner of the Apache Kafka 4.x
// broker that scripts/services/kafka.sh starts (log.cleaner.backoff.ms=200,
// a 16 MiB dedupe buffer). Needs TAPEDECK_KAFKA_BOOTSTRAP and
// TAPEDECK_KAFKA_LOG_DIRS; fails, never skips, without them.
//
// How the test keeps the cleaner from running while it produces: the first
// record belongs to a transaction ("the blocker") that stays open, so the
// last stable offset stays at 0 and nothing is cleanable
// (LogCleanerManager.cleanableOffsets). Records carry explicit CreateTime
// timestamps 20 ms apart, ahead of the wall clock, so segment.ms rolls the
// log at known records and the transaction markers (written with the
// coordinator's wall-clock time) never roll it. One record per batch: every
// produce is flushed. Then a sentinel rolls the last segment, the segment
// base offsets are read from the partition directory, the blocker commits,
// and the cleaner makes exactly one pass, which the model must predict.
#include "core/compaction/compactionlog.h"
#include "core/compaction/compactionmodel.h"
#include "connectors/kafka/kafkaadmin.h"
#include "connectors/kafka/kafkaproducer.h"
#include "connectors/kafka/kafkarecorder.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QUuid>

#include <algorithm>

using namespace tapedeck;

namespace {

constexpr qint64 SegmentMs = 400;
constexpr qint64 DeleteRetentionMs = 300;
constexpr qint64 Spacing = 20; // ms between record timestamps: more than linger.ms, one estimated batch each

struct Produced
{
    QByteArray key;
    std::optional<QByteArray> value;
    bool aborted = false;
    qint64 timestampMs = 0;
};

qint64 wallMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

} // namespace

class TestCompactionBroker : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        m_bootstrap = qEnvironmentVariable("TAPEDECK_KAFKA_BOOTSTRAP");
        m_logDirs = qEnvironmentVariable("TAPEDECK_KAFKA_LOG_DIRS");
        if (m_bootstrap.isEmpty() || m_logDirs.isEmpty())
            QFAIL("TAPEDECK_KAFKA_BOOTSTRAP and TAPEDECK_KAFKA_LOG_DIRS must be set: eval \"$(bash scripts/services/all.sh env)\" "
                  "after scripts/services/kafka.sh start (scripts/test.sh does both)");
        QVERIFY2(QDir(m_logDirs).exists(), qPrintable(m_logDirs + u" does not exist"_qs));
        QVERIFY(m_dir.isValid());
    }

    void modelPredictsTheCleaner()
    {
        const quint64 seed = qEnvironmentVariableIsSet("TAPEDECK_COMPACTION_SEED") ? qEnvironmentVariable("TAPEDECK_COMPACTION_SEED").toULongLong()
                                                                                  : QRandomGenerator::global()->generate64();
        qInfo("seed %llu (TAPEDECK_COMPACTION_SEED reruns it)", static_cast<unsigned long long>(seed));
        QRandomGenerator rng(seed);
        const QString topic = u"tst-compaction-"_qs + QUuid::createUuid().toString(QUuid::Id128).left(8);
        const QString partitionDir = m_logDirs + u'/' + topic + u"-0"_qs;
        QString error;
        {
            KafkaAdmin admin(connection());
            QVERIFY2(admin.createTopic(topic, 1, 1,
                                       {{u"cleanup.policy"_qs, u"compact"_qs},
                                        {u"segment.bytes"_qs, u"1048576"_qs},
                                        {u"segment.ms"_qs, QString::number(SegmentMs)},
                                        {u"min.cleanable.dirty.ratio"_qs, u"0.01"_qs},
                                        {u"delete.retention.ms"_qs, QString::number(DeleteRetentionMs)},
                                        {u"min.compaction.lag.ms"_qs, u"0"_qs}},
                                       &error),
                     qPrintable(error));
        }

        KafkaProducer blocker(connection()), txn(connection()), plain(connection());
        QVERIFY2(blocker.open(&error, u"tst-compaction-blocker-"_qs + topic), qPrintable(error));
        QVERIFY2(txn.open(&error, u"tst-compaction-txn-"_qs + topic), qPrintable(error));
        QVERIFY2(plain.open(&error), qPrintable(error));

        QList<Produced> produced;
        // Two minutes ahead of the wall clock (the broker accepts up to an hour,
        // message.timestamp.after.max.ms): the markers, stamped with the
        // coordinator's clock, then never reach segment.ms past a segment's
        // first timestamp, so they never roll a segment (they would where the
        // client cannot see them).
        qint64 ts = wallMs() + 120000;
        auto send = [&](KafkaProducer &p, const QByteArray &key, const std::optional<QByteArray> &value, bool aborted) {
            ts += Spacing;
            QString e;
            const bool ok = p.produce(topic, 0, key, value, {}, ts, &e) && p.flush(&e);
            if (!ok)
                qWarning() << "produce failed:" << e;
            produced.append({key, value, aborted, ts});
            return ok;
        };
        auto valueFor = [&](int n) {
            return std::optional<QByteArray>(QByteArray("#") + QByteArray::number(n) + ' ' + QByteArray(int(rng.bounded(10, 300)), 'x'));
        };

        QVERIFY2(blocker.beginTransaction(&error), qPrintable(error));
        QVERIFY(send(blocker, "blocker", valueFor(0), false));
        int transactions = 1;
        const int keys = 30;
        auto randomKey = [&]() -> QByteArray { return QByteArray("k") + QByteArray::number(rng.bounded(keys)); };
        for (int n = 1; produced.size() < 320; ++n) {
            const int dice = int(rng.bounded(100));
            if (dice < 80) {
                const bool tombstone = dice >= 68;
                QVERIFY(send(plain, randomKey(), tombstone ? std::nullopt : valueFor(n), false));
            } else {
                const bool abort = dice >= 92;
                QVERIFY2(txn.beginTransaction(&error), qPrintable(error));
                const int size = int(rng.bounded(1, 5));
                for (int k = 0; k < size; ++k)
                    QVERIFY(send(txn, randomKey(), rng.bounded(5) == 0 ? std::nullopt : valueFor(n * 10 + k), abort));
                if (abort)
                    QVERIFY2(txn.abortTransaction(&error), qPrintable(error));
                else
                    QVERIFY2(txn.commitTransaction(&error), qPrintable(error));
                ++transactions;
            }
        }
        // Markers are written asynchronously by the coordinator: wait until every
        // workload marker is in the log, so the sentinel comes after all of them.
        const qint64 workloadEnd = produced.size() + (transactions - 1);
        QVERIFY2(waitForHighWatermark(topic, workloadEnd, &error), qPrintable(error));
        const qint64 sentinel1Ts = ts + SegmentMs + 1;
        ts = sentinel1Ts - Spacing;
        QVERIFY(send(plain, "sentinel-1", valueFor(-1), false));
        const qint64 sentinel1Offset = workloadEnd;

        // The broker's segments before any cleaning (the LSO is still 0).
        const QList<qint64> basesBefore = segmentBases(partitionDir);
        QVERIFY2(basesBefore.size() > 5, qPrintable(u"too few segments: "_qs + join(basesBefore)));
        QCOMPARE(basesBefore.constLast(), sentinel1Offset);
        QVERIFY2(cleanerCheckpoint(topic) < 0, "the cleaner ran while the blocker transaction was open");

        // The log as a read_uncommitted client sees it; the aborted records are
        // marked from the producer's bookkeeping (read_committed cannot read past
        // the open blocker transaction).
        const QList<Event> before = readAll(topic);
        QCOMPARE(before.size(), produced.size());
        for (int i = 0; i < before.size(); ++i) {
            QCOMPARE(*before[i].key, produced[i].key);
            QCOMPARE(before[i].value, produced[i].value);
            QCOMPARE(before[i].timestampUs / 1000, produced[i].timestampMs);
        }

        // Commit the blocker: the cleaner may now clean everything below the sentinel's segment.
        QVERIFY2(blocker.commitTransaction(&error), qPrintable(error));
        const qint64 commitMs = wallMs();
        QVERIFY2(waitForCheckpoint(topic, sentinel1Offset, &error), qPrintable(error));
        const qint64 pass1Ms = wallMs();
        const QList<Event> afterPass1 = readAll(topic);

        CompactionConfig config;
        config.segmentBytes = 1048576;
        config.segmentMs = SegmentMs;
        config.minCleanableDirtyRatio = 0.01;
        config.deleteRetentionMs = DeleteRetentionMs;
        config.minCompactionLagMs = 0;
        config.dedupeBufferBytes = 16777216;
        config.producerLingerMs = 0; // every record was flushed on its own: one batch each
        auto buildLog = [&](const QList<Event> &events, const QList<qint64> &bases) {
            CompactionLogBuilder builder(config);
            for (int i = 0; i < events.size(); ++i) {
                Event e = events[i];
                if (i < produced.size() && produced[i].aborted)
                    e.flags |= Transactional | Aborted;
                builder.add(0, e);
            }
            auto logs = builder.take();
            CompactionLog log = *logs.constFirst();
            log.segmentBaseOffsets = QVector<qint64>(bases.cbegin(), bases.cend());
            return std::make_shared<const CompactionLog>(std::move(log));
        };

        // Without the bases, the model estimates the same segments from segment.ms.
        {
            const auto estimated = CompactionSimulation(buildLog(before, {}), config);
            QList<qint64> bases;
            for (const CompactionSegment &s : estimated.segments())
                bases.append(s.baseOffset);
            QCOMPARE(join(bases), join(basesBefore));
        }

        // The next pass, as the model sees it, equals what the broker did.
        CompactionSimulation sim(buildLog(before, basesBefore), config);
        const CompactionPassResult r = sim.pass(pass1Ms);
        QVERIFY2(r.decision == CompactionPassResult::Decision::Cleaned, qPrintable(r.why()));
        QCOMPARE(r.cleanedUpToOffset, sentinel1Offset);
        QCOMPARE(r.segmentsCleaned, int(basesBefore.size()) - 1);
        QList<qint64> predicted;
        for (int i = 0; i < sim.log().count(); ++i) {
            if (sim.isKept(i))
                predicted.append(sim.log().offsets[i]);
        }
        QCOMPARE(join(offsetsOf(afterPass1)), join(predicted));
        // The first pass keeps every latest tombstone (it stamps their delete horizon)
        // and drops every aborted record; otherwise the test would not test much.
        int retainedTombstones = 0, abortedRemoved = 0, superseded = 0;
        for (int i = 0; i < sim.log().count(); ++i) {
            const CompactionReason reason = sim.explain(i).reason;
            retainedTombstones += reason == CompactionReason::TombstoneRetained;
            abortedRemoved += reason == CompactionReason::AbortedTransaction;
            superseded += reason == CompactionReason::Superseded;
        }
        qInfo("%lld records, %d transactions, %lld segments; pass 1 (%lld ms after the commit): %lld kept, %d superseded, "
              "%d aborted removed, %d tombstones retained",
              static_cast<long long>(before.size()), transactions, static_cast<long long>(basesBefore.size()),
              static_cast<long long>(pass1Ms - commitMs), static_cast<long long>(predicted.size()), superseded, abortedRemoved,
              retainedTombstones);
        QVERIFY(superseded > 0);
        QVERIFY(abortedRemoved > 0);

        // Pass 2, after the delete horizon: a second sentinel rolls the first one's
        // segment; the tombstones stamped by pass 1 go. The log is then what the
        // model's converged view says (the sentinels have keys of their own, so
        // the active segment's sentinel is a live key too).
        while (wallMs() < pass1Ms + DeleteRetentionMs + 300)
            QThread::msleep(50);
        const qint64 sentinel2Offset = sentinel1Offset + 2; // after the blocker's commit marker
        ts = sentinel1Ts + SegmentMs + 1 - Spacing;
        QVERIFY(send(plain, "sentinel-2", valueFor(-2), false));
        QVERIFY2(waitForCheckpoint(topic, sentinel2Offset, &error), qPrintable(error));
        const QList<Event> afterPass2 = readAll(topic);
        QCOMPARE(afterPass2.constLast().position, sentinel2Offset);

        CompactionSimulation full(buildLog(before + QList<Event>{afterPass2.constLast()}, basesBefore + QList<qint64>{sentinel2Offset}), config);
        full.converge();
        QList<qint64> converged;
        for (int i = 0; i < full.log().count(); ++i) {
            if (full.isKept(i))
                converged.append(full.log().offsets[i]);
        }
        QCOMPARE(join(offsetsOf(afterPass2)), join(converged));
        // Pass 1 kept every key's latest record; the converged log drops the
        // tombstones among them and gains sentinel-2.
        QCOMPARE(converged.size(), predicted.size() - retainedTombstones + 1);
    }

private:
    KafkaConnection connection() const { return KafkaConnection{m_bootstrap, {}}; }

    static QString join(const QList<qint64> &values)
    {
        QStringList parts;
        for (qint64 v : values)
            parts.append(QString::number(v));
        return parts.join(u' ');
    }

    static QList<qint64> offsetsOf(const QList<Event> &events)
    {
        QList<qint64> out;
        for (const Event &e : events)
            out.append(e.position);
        return out;
    }

    // The *.log file names of a partition directory: its segments' base offsets.
    static QList<qint64> segmentBases(const QString &dir)
    {
        QList<qint64> out;
        for (const QString &name : QDir(dir).entryList({u"*.log"_qs}, QDir::Files))
            out.append(name.chopped(4).toLongLong());
        std::sort(out.begin(), out.end());
        return out;
    }

    // The topic-partition's entry in cleaner-offset-checkpoint ("topic partition offset"
    // lines after a version and a count), -1 when there is none yet.
    qint64 cleanerCheckpoint(const QString &topic, QString *content = nullptr) const
    {
        QFile f(m_logDirs + u"/cleaner-offset-checkpoint"_qs);
        if (!f.open(QIODevice::ReadOnly))
            return -1;
        const QByteArray text = f.readAll();
        if (content)
            *content = QString::fromUtf8(text);
        for (const QByteArray &line : text.split('\n')) {
            const QList<QByteArray> parts = line.split(' ');
            if (parts.size() == 3 && parts[0] == topic.toUtf8() && parts[1] == "0")
                return parts[2].toLongLong();
        }
        return -1;
    }

    bool waitForCheckpoint(const QString &topic, qint64 offset, QString *error) const
    {
        QElapsedTimer timer;
        timer.start();
        QString content;
        qint64 seen = -1;
        while (timer.elapsed() < 60000) {
            seen = cleanerCheckpoint(topic, &content);
            if (seen == offset)
                return true;
            QThread::msleep(50);
        }
        *error = QStringLiteral("the log cleaner did not clean %1-0 up to offset %2 within 60 s (checkpoint %3); "
                                "cleaner-offset-checkpoint:\n%4")
                     .arg(topic).arg(offset).arg(seen).arg(content);
        return false;
    }

    bool waitForHighWatermark(const QString &topic, qint64 high, QString *error) const
    {
        // The log end, not the last stable offset (held at 0 by the open blocker transaction).
        KafkaAdmin admin(KafkaConnection{m_bootstrap, {{u"isolation.level"_qs, u"read_uncommitted"_qs}}});
        QElapsedTimer timer;
        timer.start();
        qint64 seen = -1;
        while (timer.elapsed() < 30000) {
            const auto info = admin.describe({{topic}, true, false}, error);
            if (!info)
                return false;
            if (!info->topics.isEmpty() && !info->topics.constFirst().partitions.isEmpty())
                seen = info->topics.constFirst().partitions.constFirst().high;
            if (seen == high)
                return true;
            QThread::msleep(20);
        }
        *error = QStringLiteral("high watermark of %1-0 is %2, expected %3 (transaction markers missing?)").arg(topic).arg(seen).arg(high);
        return false;
    }

    // Every record of the topic, read_uncommitted.
    QList<Event> readAll(const QString &topic)
    {
        KafkaRecordOptions options;
        // Planned up to the log end: the watermark lookups are read_uncommitted too.
        options.connection = KafkaConnection{m_bootstrap, {{u"isolation.level"_qs, u"read_uncommitted"_qs}}};
        options.topics = {topic};
        options.readCommitted = false;
        options.readConfigs = false;
        KafkaRecorder recorder(options);
        QString error;
        QList<Event> out;
        if (!recorder.prepare(&error)) {
            qWarning() << error;
            return out;
        }
        const QString path = m_dir.filePath(QUuid::createUuid().toString(QUuid::Id128) + u".tape"_qs);
        TapeWriter writer;
        if (!writer.create(path, recorder.metadata()))
            return out;
        std::atomic<bool> cancel{false};
        const bool ok = recorder.record(writer, &cancel, {}, &error);
        writer.close();
        if (!ok) {
            qWarning() << error;
            return out;
        }
        const auto tape = Tape::open(path, &error);
        for (qint64 s = 0; tape && s < tape->eventCount(); ++s) {
            Event e;
            tape->event(s, &e, &error);
            out.append(e);
        }
        return out;
    }

    QString m_bootstrap;
    QString m_logDirs;
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestCompactionBroker)
#include "tst_compaction_broker.moc"
