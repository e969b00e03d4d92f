// Compaction preview benchmark: build the cleaner's view of an N-record tape
// (default 10 M), then compute both answers (next pass, fully compacted).
// Reference in the same process: a plain scan of the tape's keys into a
// QHash<QByteArray, qint64> (key -> latest offset), the naive way to compact.
#include "core/compaction/compactionmodel.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QHash>
#include <QTemporaryDir>

#include <malloc.h>

#include <cstdio>

using namespace tapedeck;

namespace {

// Heap bytes in use (malloc'd and mmap'd), independent of what the allocator
// has returned to the system.
qint64 heapBytes()
{
    const struct mallinfo2 m = mallinfo2();
    return qint64(m.uordblks + m.hblkhd);
}

Event benchRecord(qint64 i, qint64 keys)
{
    Event e;
    e.kind = SourceKind::Kafka;
    e.cluster = QStringLiteral("bench");
    e.topic = QStringLiteral("users");
    e.partition = 0;
    e.position = i;
    e.timestampUs = 1767261600000000 + i * 100; // 10 records a millisecond
    e.timestampType = TimestampType::CreateTime;
    quint64 x = quint64(i) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    if (i % 1000 != 7)
        e.key = QByteArray("user-") + QByteArray::number(qint64(x % quint64(keys)));
    if (i % 100 != 3)
        e.value = QByteArray("{\"id\":") + QByteArray::number(i) + ",\"plan\":\"pro\",\"seats\":" + QByteArray::number(i % 50) + '}';
    return e;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const qint64 n = argc > 1 ? QByteArray(argv[1]).toLongLong() : 10'000'000;
    const qint64 keys = std::max<qint64>(1, n / 10);
    QTemporaryDir dir(argc > 2 ? QString::fromLocal8Bit(argv[2]) + QStringLiteral("/bench-XXXXXX") : QString());
    const QString path = dir.filePath(QStringLiteral("bench.tape"));
    std::printf("bench_compaction: %lld records, one partition, %lld keys, 1%% tombstones, 0.1%% null keys, ~45 B values\n",
                static_cast<long long>(n), static_cast<long long>(keys));
    {
        TapeWriter writer;
        if (!writer.create(path, TapeMetadata{}))
            return 1;
        for (qint64 i = 0; i < n; ++i)
            writer.append(benchRecord(i, keys));
        if (!writer.close())
            return 1;
    }
    QString error;
    // Each measurement opens its own Tape and closes it before reading the
    // heap, so the chunk cache counts for neither.
    auto open = [&]() {
        auto tape = Tape::open(path, &error);
        if (!tape) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            std::exit(1);
        }
        return tape;
    };

    // Reference: decode every chunk and map each key's bytes to its latest offset.
    double refS;
    qint64 refBytes;
    {
        const qint64 before = heapBytes();
        QElapsedTimer t;
        t.start();
        QHash<QByteArray, qint64> latest;
        auto tape = open();
        for (int c = 0; c < tape->chunkCount(); ++c) {
            const auto chunk = tape->chunk(c, &error);
            for (int i = 0; i < chunk->count(); ++i) {
                if (chunk->hasKey(i))
                    latest.insert(chunk->key(i).toByteArray(), chunk->position(i));
            }
        }
        refS = double(t.nsecsElapsed()) / 1e9;
        tape.reset();
        refBytes = heapBytes() - before;
        std::printf("reference:     %.2f s to scan keys into QHash<QByteArray, qint64> (%lld keys), %.1f MiB heap\n", refS,
                    static_cast<long long>(latest.size()), double(refBytes) / 1048576.0);
    }

    CompactionConfig config;
    config.segmentBytes = 16 << 20; // many segments, as a busy topic has
    const qint64 before = heapBytes();
    QElapsedTimer t;
    t.start();
    QList<std::shared_ptr<const CompactionLog>> logs;
    auto tape = open();
    if (!CompactionLogBuilder::fromTape(*tape, config, &logs, &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    const double buildS = double(t.nsecsElapsed()) / 1e9;
    tape.reset();
    const qint64 logBytes = heapBytes() - before;
    std::printf("build:         %.2f s (%.2fx the reference scan), %.1f MiB heap = %.1f bytes/record (%.2fx the reference)\n", buildS,
                buildS / refS, double(logBytes) / 1048576.0, double(logBytes) / double(n), double(logBytes) / double(refBytes));

    const qint64 now = logs.constFirst()->timestampsMs.constLast();
    t.restart();
    CompactionSimulation next(logs.constFirst(), config);
    const double segS = double(t.nsecsElapsed()) / 1e9;
    CompactionSimulation full = next;
    t.restart();
    const CompactionPassResult pass = next.pass(now);
    const double passS = double(t.nsecsElapsed()) / 1e9;
    t.restart();
    const CompactionPassResult conv = full.converge();
    const double fullS = double(t.nsecsElapsed()) / 1e9;
    const double bothS = segS + passS + fullS;
    const qint64 allBytes = heapBytes() - before;
    std::printf("both answers:  %.3f s (segments %.3f, next pass %.3f, fully compacted %.3f; goal < 1 s), %.2fx the reference scan\n",
                bothS, segS, passS, fullS, bothS / refS);
    std::printf("               next pass: %s, %lld -> %lld records, %d segments; fully compacted: %lld records\n",
                qPrintable(pass.why()), static_cast<long long>(pass.recordsBefore), static_cast<long long>(pass.recordsAfter),
                pass.segmentsBefore, static_cast<long long>(conv.recordsAfter));
    std::printf("memory:        %.1f MiB heap for the log and both answers = %.1f bytes/record (%.2fx the reference)\n",
                double(allBytes) / 1048576.0, double(allBytes) / double(n), double(allBytes) / double(refBytes));
    return 0;
}
