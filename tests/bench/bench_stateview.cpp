// `bench_stateview [N] [keys]` (default 2 M Kafka records over N/10 keys):
// the State dock while scrubbing. Each step moves the point by N/1000 events
// (a pixel of the timeline) and waits for the frame (snapshot, changed keys,
// the first 256 rows read ahead); reported: step latency p50/p99/max, the
// paint of the visible rows after it, and the GUI thread's longest stall
// during the whole scrub (a 1 ms timer's largest gap), against the reference
// in the same run: the core step alone (LogState::snapshot + rows() of the
// same 256 keys) on this thread.
#include "ui/state/stateview.h"

#include "core/state/logstate.h"
#include "tests/common/statebenchtape.h"
#include "core/tape/tape.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace tapedeck;

namespace {

[[noreturn]] void die(const QString &what)
{
    std::fprintf(stderr, "bench_stateview: %s\n", what.toLocal8Bit().constData());
    std::exit(1);
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    const qint64 n = argc > 1 ? QByteArray(argv[1]).toLongLong() : 2000000;
    const qint64 keys = argc > 2 ? QByteArray(argv[2]).toLongLong() : std::max<qint64>(1, n / 10);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("state.tape"));
    QString error;
    if (!testing::writeStateBenchTape(path, n, keys, testing::StateBenchValue::IdStatus, &error))
        die(error);
    const std::shared_ptr<const Tape> tape = Tape::open(path, &error);
    if (!tape)
        die(error);

    StateView view;
    view.resize(900, 700);
    view.show();
    QElapsedTimer t;
    t.start();
    QSignalSpy ready(&view, &StateView::stateReady);
    view.setTape(tape);
    if (!ready.wait(600000))
        die(QStringLiteral("the index was not built"));
    const double buildMs = double(t.elapsed());
    QSignalSpy frames(&view, &StateView::frameReady);
    if (!frames.wait(60000))
        die(QStringLiteral("no first frame"));

    // The GUI thread's longest stall while scrubbing.
    QElapsedTimer sinceTick;
    double maxGap = 0;
    QTimer ticker;
    ticker.setInterval(1);
    QObject::connect(&ticker, &QTimer::timeout, [&] {
        maxGap = std::max(maxGap, double(sinceTick.nsecsElapsed()) / 1e6);
        sinceTick.restart();
    });
    const int steps = 200;
    const qint64 step = std::max<qint64>(1, n / 1000);
    std::vector<double> latency, paint;
    sinceTick.start();
    ticker.start();
    for (int i = 1; i <= steps; ++i) {
        const qint64 end = n / 2 + i * step;
        QElapsedTimer s;
        s.start();
        view.setEnd(end);
        if (!frames.wait(60000))
            die(QStringLiteral("no frame at %1").arg(end));
        latency.push_back(double(s.nsecsElapsed()) / 1e6);
        QElapsedTimer p;
        p.start();
        view.tableView()->viewport()->repaint();
        paint.push_back(double(p.nsecsElapsed()) / 1e6);
    }
    ticker.stop();

    // Reference: the same work on this thread, straight through the core API.
    const auto state = view.state();
    std::vector<double> core;
    LogStateSnapshot near;
    for (int i = 1; i <= steps; ++i) {
        QElapsedTimer s;
        s.start();
        near = near.isValid() ? state->snapshot(0, n / 2 + i * step, near) : state->snapshot(0, n / 2 + i * step);
        QList<quint32> ids;
        for (qint64 r = 0; r < std::min<qint64>(256, near.rowCount()); ++r)
            ids.append(near.keyAt(r));
        QList<LogStateRow> rows;
        if (!state->rows(near, ids, &rows, &error))
            die(error);
        core.push_back(double(s.nsecsElapsed()) / 1e6);
    }
    const testing::Percentiles l = testing::percentiles(latency), c = testing::percentiles(core), pt = testing::percentiles(paint);
    std::printf("bench_stateview: %lld records, %lld keys; index build %.0f ms (on a worker)\n", static_cast<long long>(n),
                static_cast<long long>(keys), buildMs);
    std::printf("scrub step (%d steps of %lld events): p50 %.1f ms, p99 %.1f ms, max %.1f ms (goal < 50 ms)\n", steps,
                static_cast<long long>(step), l.p50, l.p99, l.max);
    std::printf("core step alone (reference):  p50 %.1f ms, p99 %.1f ms, max %.1f ms; ratio p50 %.2f\n", c.p50, c.p99, c.max,
                c.p50 > 0 ? l.p50 / c.p50 : 0.0);
    std::printf("paint of the visible rows:     p50 %.1f ms, max %.1f ms\n", pt.p50, pt.max);
    std::printf("longest GUI-thread stall while scrubbing: %.1f ms\n", maxGap);
    return 0;
}
