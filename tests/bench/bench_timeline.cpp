// Timeline benchmark: writes an N-event tape (default 10 M, 8 lanes, bursty
// rate), builds the timeline aggregates, then renders the full view, a
// middle zoom and a deep zoom (marks) offscreen and reports the time per
// frame. `bench_timeline [N] [png-dir]`; PNGs of each view go to png-dir.
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"
#include "tests/common/testevents.h"
#include "core/timeline/timelineaggregatesjob.h"
#include "ui/timeline/timelineview.h"
#include "ui/timeline/timelinewidget.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QImage>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <cmath>
#include <cstdio>

using namespace tapedeck;

namespace {

// Event i with a rate that swings between 0.3x and 1.7x over the tape (the
// timestamps still rise), a tombstone every 17th, and a Kafka transaction
// every 5000 events.
Event benchEvent(qint64 i, qint64 n)
{
    Event e = testing::kafkaEvent(i);
    const double period = std::max<double>(double(n) / 3.0, 1000.0);
    const double t = double(i) + 0.7 * period / (2 * M_PI) * std::sin(2 * M_PI * double(i) / period);
    e.timestampUs = 1767261600000000LL + qint64(t * 1000.0);
    if (i % 5000 < 40)
        e.flags = Transactional;
    if (i % 5000 == 40)
        e.flags = ControlRecord | Transactional;
    return e;
}

bool waitUntil(const std::function<bool()> &done, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > timeoutMs)
            return false;
        QEventLoop loop;
        QTimer::singleShot(5, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

struct FrameStats
{
    double avgMs = 0, maxMs = 0;
};

FrameStats timeFrames(TimelineWidget &w, QSize size, int frames, const QString &png)
{
    FrameStats s;
    QImage image;
    for (int i = 0; i < frames; ++i) {
        QElapsedTimer t;
        t.start();
        image = w.renderImage(size);
        const double ms = double(t.nsecsElapsed()) / 1e6;
        s.avgMs += ms / frames;
        s.maxMs = std::max(s.maxMs, ms);
    }
    if (!png.isEmpty())
        image.save(png);
    return s;
}

} // namespace

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const qint64 n = argc > 1 ? QByteArray(argv[1]).toLongLong() : 10'000'000;
    const QString pngDir = argc > 2 ? QString::fromLocal8Bit(argv[2]) : QString();
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("bench.tape"));

    QElapsedTimer t;
    t.start();
    {
        TapeWriter writer;
        if (!writer.create(path, TapeMetadata{})) {
            std::fprintf(stderr, "%s\n", qPrintable(writer.errorString()));
            return 1;
        }
        for (qint64 i = 0; i < n; ++i)
            writer.append(benchEvent(i, n));
        if (!writer.close()) {
            std::fprintf(stderr, "%s\n", qPrintable(writer.errorString()));
            return 1;
        }
    }
    std::printf("bench_timeline: %lld events, 8 lanes (2 topics x 4 partitions), written in %.1f s\n",
                static_cast<long long>(n), double(t.elapsed()) / 1000.0);

    QString error;
    const std::shared_ptr<Tape> tape = Tape::open(path, &error);
    if (!tape) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    TimelineView view;
    view.setUtc(true);
    TimelineWidget widget(&view);
    const QSize size(1600, 420);
    widget.resize(size);

    t.restart();
    widget.setTape(tape);
    if (!waitUntil([&] { return !widget.aggregatesJob()->isRunning(); }, 600000)) {
        std::fprintf(stderr, "aggregates did not finish\n");
        return 1;
    }
    const double buildS = double(t.elapsed()) / 1000.0;
    const TimelineAggregates &agg = widget.aggregatesJob()->aggregates();
    std::printf("aggregates:    %.2f s to build (%.1f M events/s, %d threads decoding); %.1f MiB = %.2f bytes/event\n",
                buildS, double(n) / buildS / 1e6, QThread::idealThreadCount(), double(agg.memoryBytes()) / 1048576.0,
                double(agg.memoryBytes()) / double(n));

    auto png = [&](const char *name) { return pngDir.isEmpty() ? QString() : pngDir + QLatin1Char('/') + QLatin1String(name); };
    const int frames = 30;
    auto report = [&](const char *what, const FrameStats &s) {
        std::printf("%-40s %6.2f ms/frame avg, %6.2f ms max (%d frames, %dx%d)%s\n", what, s.avgMs, s.maxMs, frames,
                    size.width(), size.height(), s.maxMs < 16 ? "" : "  OVER 16 ms");
    };

    view.fitAll();
    report("full view (density, histogram):", timeFrames(widget, size, frames, png("timeline-full.png")));
    widget.setDensityStyle(TimelineScene::DensityStyle::HeatStrip);
    report("full view (density, heat strip):", timeFrames(widget, size, frames, png("timeline-full-heat.png")));
    widget.setDensityStyle(TimelineScene::DensityStyle::Histogram);

    const AxisRange data = view.dataRange();
    const qint64 mid = data.from + data.span() / 2;
    view.setVisibleRange({mid - 60'000'000, mid + 60'000'000}); // 2 minutes
    report("2-minute zoom (density):", timeFrames(widget, size, frames, png("timeline-2min.png")));

    view.setVisibleRange({mid - 100'000, mid + 100'000}); // 200 ms: ~200 events
    t.restart();
    QTimer::singleShot(0, &widget, [&] { widget.update(); });
    // The widget asks for marks on its repaint timer; wait until they are there.
    widget.show();
    if (!waitUntil([&] { return widget.marks().covers(view.axis(), view.visibleRange()); }, 60000)) {
        std::fprintf(stderr, "marks did not arrive\n");
        return 1;
    }
    std::printf("deep zoom:     marks collected in %lld ms (%lld events in a 3x window)\n",
                static_cast<long long>(t.elapsed()), static_cast<long long>(widget.marks().marks.size()));
    report("200 ms deep zoom (marks):", timeFrames(widget, size, frames, png("timeline-deep.png")));
    widget.setColorBy(TimelineScene::ColorBy::Operation);
    view.setVisibleRange({mid - 3'000'000, mid + 3'000'000}); // 6 s: up to ~20k events, still marks
    waitUntil([&] { return widget.marks().covers(view.axis(), view.visibleRange()); }, 20000);
    report(widget.marks().covers(view.axis(), view.visibleRange()) ? "6 s zoom (marks by operation):" : "6 s zoom (density):",
           timeFrames(widget, size, frames, png("timeline-6s.png")));

    view.setAxis(AxisKind::Position);
    view.fitAll();
    report("full view, position axis:", timeFrames(widget, size, frames, png("timeline-position.png")));
    return 0;
}
