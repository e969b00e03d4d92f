// `bench_state [N] [keys]` (default 10 M Kafka records over 1 M keys, 10 %
// tombstones): LogState build time and memory, then the cost of a scrubbing
// step (a snapshot at the new point plus the 40 visible rows with their
// values) over sequential steps (1/1000 of the tape, like a pixel of the
// timeline), single-event steps and random jumps: p50/p99/max against the
// goal of 50 ms, and against the reference: recomputing the state naively
// from the start of the tape to one point (a hash map over a scan).
#include "core/state/logstate.h"
#include "tests/common/statebenchtape.h"
#include "core/tape/tape.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QHash>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace tapedeck;

namespace {

[[noreturn]] void die(const QString &what)
{
    std::fprintf(stderr, "bench_state: %s\n", what.toLocal8Bit().constData());
    std::exit(1);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const qint64 n = argc > 1 ? QByteArray(argv[1]).toLongLong() : 10000000;
    const qint64 keys = argc > 2 ? QByteArray(argv[2]).toLongLong() : std::max<qint64>(1, n / 10);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("state.tape"));
    QElapsedTimer t;
    t.start();
    QString error;
    if (!testing::writeStateBenchTape(path, n, keys, testing::StateBenchValue::WithAmount, &error))
        die(error);
    std::printf("tape: %lld events over %lld keys written in %.1f s\n", static_cast<long long>(n),
                static_cast<long long>(keys), double(t.elapsed()) / 1000);
    const auto tape = Tape::open(path, &error);
    if (!tape)
        die(error);

    t.restart();
    const auto state = LogState::build(tape, &error);
    if (!state)
        die(error);
    const double buildS = double(t.nsecsElapsed()) / 1e9;
    std::printf("build: %.2f s (%.2f M events/s), %.1f MB index + checkpoints (%.1f bytes/event), %d checkpoints\n", buildS,
                double(n) / buildS / 1e6, double(state->memoryBytes()) / 1e6, double(state->memoryBytes()) / double(n),
                state->checkpointCount(0));

    // Reference: the naive state at the middle, scanning from the start.
    t.restart();
    {
        QHash<QByteArray, qint64> naive;
        qint64 seq = 0;
        for (int ci = 0; ci < tape->chunkCount() && seq < n / 2; ++ci) {
            const auto chunk = tape->chunk(ci, &error);
            if (!chunk)
                die(error);
            for (int i = 0; i < chunk->count() && seq < n / 2; ++i, ++seq) {
                if (chunk->hasValue(i))
                    naive.insert(chunk->key(i).toByteArray(), seq);
                else
                    naive.remove(chunk->key(i).toByteArray());
            }
        }
        const LogStateSnapshot check = state->snapshot(0, n / 2);
        if (check.rowCount() != naive.size())
            die(QStringLiteral("the state at the middle has %1 rows, the naive scan %2").arg(check.rowCount()).arg(naive.size()));
    }
    const double naiveMs = double(t.nsecsElapsed()) / 1e6;
    std::printf("reference: naive recomputation from the start to the middle: %.0f ms\n", naiveMs);

    // A step: the snapshot at the new point, then the 40 visible rows with
    // their values (what the user sees per scrub step; the goal is about this).
    struct Mode
    {
        std::vector<double> snapshot, total;
    };
    auto step = [&](Mode &m, qint64 end, const LogStateSnapshot &near, LogStateSnapshot *out, double where = 0.5) {
        QElapsedTimer s;
        s.start();
        *out = state->snapshot(0, end, near);
        m.snapshot.push_back(double(s.nsecsElapsed()) / 1e6);
        const qint64 first = qint64(double(out->rowCount()) * where);
        const QList<quint32> window = out->keys(first, 40);
        QList<LogStateRow> rows;
        if (!state->rows(*out, window, &rows, &error))
            die(error);
        m.total.push_back(double(s.nsecsElapsed()) / 1e6);
    };
    QRandomGenerator rng(7);
    Mode sequential, single, random, cold;
    LogStateSnapshot current = state->snapshot(0, 0), next;
    const qint64 pixel = std::max<qint64>(1, n / 1000);
    for (qint64 end = 0; end <= n; end += pixel) {
        step(sequential, end, current, &next);
        current = next;
    }
    current = state->snapshot(0, n / 3);
    for (int i = 0; i < 500; ++i) {
        step(single, n / 3 + i + 1, current, &next);
        current = next;
    }
    for (int i = 0; i < 500; ++i)
        step(random, qint64(rng.bounded(quint64(n + 1))), LogStateSnapshot(), &next);
    // Random jumps to a random place of the table: no row is cached (the worst case).
    for (int i = 0; i < 500; ++i)
        step(cold, qint64(rng.bounded(quint64(n + 1))), LogStateSnapshot(), &next, rng.generateDouble() * 0.99);
    std::printf("scrub step, ms (goal: snapshot + 40 visible rows with values < 50 ms, what the user waits for per step):\n");
    double worst = 0;
    auto report = [&](const char *name, const Mode &m) {
        const testing::Percentiles a = testing::percentiles(m.snapshot), b = testing::percentiles(m.total);
        std::printf("  %-44s snapshot alone p50 %6.2f p99 %6.2f max %6.2f | snapshot + rows p50 %6.2f p99 %6.2f max %6.2f\n",
                    name, a.p50, a.p99, a.max, b.p50, b.p99, b.max);
        worst = std::max(worst, b.p99);
    };
    report(qPrintable(QStringLiteral("sequential (1/1000 of the tape, %1 steps):").arg(sequential.total.size())), sequential);
    report("single event (500 steps):", single);
    report("random jumps, same window (500 steps):", random);
    report("random jumps, random window (500, cold):", cold);
    std::printf("worst p99 (snapshot + rows) %.2f ms = %.4f of the naive recomputation; goal < 50 ms per step: %s\n", worst,
                worst / naiveMs, worst < 50 ? "met" : "NOT met");
    return 0;
}
