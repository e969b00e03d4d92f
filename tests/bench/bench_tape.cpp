// Tape benchmark: write N events, open, random access, full scans, memory.
// Reference runs in the same process give ratios that do not depend on the
// machine: writing the same key/value bytes to a plain file (the I/O floor),
// and reading them back.
#include "core/filter/filterjob.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"
#include "tests/common/testevents.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <algorithm>
#include <fcntl.h>
#include <cstdio>

using namespace tapedeck;

namespace {

qint64 statusKb(const char *field)
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray key = QByteArray(field) + ':';
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith(key))
            return line.mid(key.size()).trimmed().split(' ').constFirst().toLongLong();
    }
    return -1;
}

void dropPageCache(const QString &path)
{
    QFile f(path);
    if (f.open(QIODevice::ReadOnly))
        ::posix_fadvise(f.handle(), 0, 0, POSIX_FADV_DONTNEED);
}

double filterRate(const std::shared_ptr<Tape> &tape, const QString &expr, int threads, qint64 *matched)
{
    FilterJob job;
    job.setThreadCount(threads);
    job.setTimeoutMs(5000);
    FilterResult result;
    QEventLoop loop;
    QObject::connect(&job, &FilterJob::finished, &loop, [&](const FilterResult &r) {
        result = r;
        loop.quit();
    });
    QElapsedTimer t;
    t.start();
    job.start(tape, expr);
    loop.exec();
    const double s = double(t.nsecsElapsed()) / 1e9;
    *matched = result.matched;
    if (result.failed)
        std::fprintf(stderr, "filter failed: %s\n", qPrintable(result.firstError));
    return double(result.scanned) / s;
}

// Incompressible variant: the same event with a value of 60 pseudo-random hex
// characters (seeded by the sequence number), closer to real payload entropy.
bool g_randomValues = false;
Event benchEvent(qint64 i)
{
    Event e = testing::kafkaEvent(i);
    if (g_randomValues && e.value) {
        quint64 x = quint64(i) * 0x9E3779B97F4A7C15ull + 1;
        QByteArray v("{\"id\":\"");
        for (int k = 0; k < 4; ++k) {
            x ^= x >> 30; x *= 0xBF58476D1CE4E5B9ull; x ^= x >> 27; x *= 0x94D049BB133111EBull; x ^= x >> 31;
            v.append(QByteArray::number(x, 16).rightJustified(16, '0'));
        }
        v.append("\"}");
        e.value = v;
    }
    return e;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const qint64 n = argc > 1 ? QByteArray(argv[1]).toLongLong() : 10'000'000;
    g_randomValues = qgetenv("BENCH_VALUES") == "random";
    QTemporaryDir dir(argc > 2 ? QString::fromLocal8Bit(argv[2]) + QStringLiteral("/bench-XXXXXX") : QString());
    const QString path = dir.filePath(QStringLiteral("bench.tape"));
    std::printf("bench_tape: %lld events (testing::kafkaEvent, keys ~9 B, 1 in 5 with headers; values: %s)\n",
                static_cast<long long>(n), g_randomValues ? "72 B of random hex JSON (BENCH_VALUES=random)" : "~60 B repetitive JSON");

    // Reference: the same key and value bytes written raw to a file.
    qint64 payloadBytes = 0;
    double refWriteS;
    {
        QFile raw(dir.filePath(QStringLiteral("reference.bin")));
        raw.open(QIODevice::WriteOnly);
        QByteArray buf;
        QElapsedTimer t;
        t.start();
        for (qint64 i = 0; i < n; ++i) {
            const Event e = benchEvent(i);
            buf.append(*e.key);
            if (e.value)
                buf.append(*e.value);
            if (buf.size() > (1 << 20)) {
                payloadBytes += buf.size();
                raw.write(buf);
                buf.clear();
            }
        }
        payloadBytes += buf.size();
        raw.write(buf);
        raw.close();
        refWriteS = double(t.nsecsElapsed()) / 1e9;
        QFile::remove(raw.fileName());
    }

    double writeS;
    qint64 fileBytes;
    {
        TapeWriter writer;
        QElapsedTimer t;
        t.start();
        if (!writer.create(path, TapeMetadata{})) {
            std::fprintf(stderr, "%s\n", qPrintable(writer.errorString()));
            return 1;
        }
        for (qint64 i = 0; i < n; ++i)
            writer.append(benchEvent(i));
        if (!writer.close()) {
            std::fprintf(stderr, "%s\n", qPrintable(writer.errorString()));
            return 1;
        }
        writeS = double(t.nsecsElapsed()) / 1e9;
        fileBytes = writer.bytesWritten();
    }
    std::printf("write:         %.2f M events/s (%.1f s); reference raw write of the payload bytes %.1f s: ratio %.2fx\n",
                double(n) / writeS / 1e6, writeS, refWriteS, writeS / refWriteS);
    std::printf("size:          %.1f MiB on disk for %.1f MiB of keys+values (%.2f bytes/event)\n",
                double(fileBytes) / 1048576.0, double(payloadBytes) / 1048576.0, double(fileBytes) / double(n));

    const qint64 anonBefore = statusKb("RssAnon");
    QString error;
    dropPageCache(path);
    QElapsedTimer t;
    t.start();
    auto tape = Tape::open(path, &error);
    if (!tape) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    const double openColdMs = double(t.nsecsElapsed()) / 1e6;
    // The first screen: the first 60 rows' fields, as the table shows them.
    t.restart();
    Event e;
    for (qint64 s = 0; s < std::min<qint64>(60, n); ++s)
        tape->event(s, &e, &error);
    const double firstScreenMs = double(t.nsecsElapsed()) / 1e6;
    t.restart();
    auto warm = Tape::open(path, &error);
    const double openWarmMs = double(t.nsecsElapsed()) / 1e6;
    warm.reset();
    std::printf("open:          %.1f ms (page cache dropped), %.1f ms (warm); first 60 rows %.2f ms; %d chunks\n",
                openColdMs, openWarmMs, firstScreenMs, tape->chunkCount());

    // Random access: every read lands in a chunk not in the cache (32 of ~%d).
    QVector<double> lat;
    auto *rng = QRandomGenerator::global();
    for (int i = 0; i < 2000; ++i) {
        const qint64 seq = qint64(rng->bounded(quint64(n)));
        QElapsedTimer one;
        one.start();
        tape->event(seq, &e, &error);
        lat.append(double(one.nsecsElapsed()) / 1e3);
        if (e.position != testing::kafkaEvent(seq).position) {
            std::fprintf(stderr, "random access returned the wrong event at %lld\n", static_cast<long long>(seq));
            return 1;
        }
    }
    std::sort(lat.begin(), lat.end());
    std::printf("random access: p50 %.0f us, p99 %.0f us, max %.0f us (2000 random events, warm page cache)\n",
                lat[lat.size() / 2], lat[lat.size() * 99 / 100], lat.last());

    const qint64 anonAfter = statusKb("RssAnon");
    std::printf("memory:        %.2f bytes/event resident for the open tape (RssAnon %lld -> %lld KiB; "
                "includes the 32-chunk decode cache)\n",
                double(anonAfter - anonBefore) * 1024.0 / double(n), static_cast<long long>(anonBefore),
                static_cast<long long>(anonAfter));

    // Scans: decode every chunk and touch every value (what a filter pays before JavaScript).
    t.restart();
    qint64 bytes = 0;
    for (int c = 0; c < tape->chunkCount(); ++c) {
        const auto chunk = tape->chunk(c, &error);
        for (int i = 0; i < chunk->count(); ++i)
            bytes += chunk->valueSize(i);
    }
    const double scanS = double(t.nsecsElapsed()) / 1e9;
    std::printf("decode scan:   %.2f M events/s (%.2f s, %.0f MiB/s of values)\n", double(n) / scanS / 1e6, scanS,
                double(bytes) / 1048576.0 / scanS);

    qint64 matched = 0;
    const double keyRate1 = filterRate(tape, QStringLiteral("e.key == \"order-7\""), 1, &matched);
    std::printf("filter e.key == \"order-7\":             1 thread %.2f M events/s", keyRate1 / 1e6);
    const double keyRateN = filterRate(tape, QStringLiteral("e.key == \"order-7\""), 0, &matched);
    std::printf(", all threads %.2f M events/s (%lld matched)\n", keyRateN / 1e6, static_cast<long long>(matched));
    const double jsonRate = filterRate(tape, QStringLiteral("e.json && e.json.status == \"paid\" && e.json.amount > 900"), 0, &matched);
    std::printf("filter e.json.status/amount:             all threads %.2f M events/s (%lld matched)\n", jsonRate / 1e6,
                static_cast<long long>(matched));
    std::printf("peak RSS:      %lld MiB\n", static_cast<long long>(statusKb("VmHWM") / 1024));
    return 0;
}
