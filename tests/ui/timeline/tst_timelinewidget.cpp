#include "ui/browser/eventtablemodel.h"
#include "ui/browser/filterbar.h"
#include "ui/shell/mainwindow.h"
#include "core/tape/tape.h"
#include "tests/common/testtapes.h"
#include "core/timeline/timelineaggregatesjob.h"
#include "core/timeline/timelinemarks.h"
#include "ui/timeline/timelinerenderer.h"
#include "ui/timeline/timelineview.h"
#include "ui/timeline/timelinewidget.h"

#include <QApplication>
#include <QFile>
#include <QImage>
#include <QLineEdit>
#include <QPainter>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QWheelEvent>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

constexpr qint64 T0 = testtapes::BaseTimeUs;
constexpr qint64 Sec = 1000000;

// Lane "a": an event every second for 10 s (the 8th a tombstone), key "ka";
// lane "b": one event at 5 s, key "kb". Sequence numbers: a0..a4 = 0..4,
// b = 5, a5..a9 = 6..10.
QList<Event> knownEvents()
{
    QList<Event> events;
    for (int k = 0; k < 10; ++k) {
        if (k == 5)
            events << testtapes::kafka(u"b"_s, 0, 0, QByteArray("kb"), QByteArray("hello"), {}, T0 + 5 * Sec);
        events << testtapes::kafka(u"a"_s, 0, k, QByteArray("ka"), k == 7 ? std::optional<QByteArray>() : QByteArray("x"), {},
                                   T0 + k * Sec);
    }
    return events;
}

bool hasColorInColumn(const QImage &image, int x, QRect rows, const QColor &color, int slack = 1)
{
    for (int cx = x - slack; cx <= x + slack; ++cx) {
        for (int y = rows.top(); y <= rows.bottom(); ++y) {
            if (QColor(image.pixel(cx, y)).rgb() == color.rgb())
                return true;
        }
    }
    return false;
}

void savePng(const QImage &image, const QString &name)
{
    if (qEnvironmentVariableIsSet("TIMELINE_PNG_DIR"))
        image.save(qEnvironmentVariable("TIMELINE_PNG_DIR") + u'/' + name);
}

} // namespace

class TestTimelineWidget : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_known;

    // A widget on the known tape, aggregates built, showing [T0 - 1 s, T0 + 11 s).
    struct Fixture
    {
        std::shared_ptr<Tape> tape;
        TimelineView view;
        TimelineWidget widget{&view};
    };
    std::unique_ptr<Fixture> open(const QString &path)
    {
        auto f = std::make_unique<Fixture>();
        QString error;
        f->tape = Tape::open(path, &error);
        if (!f->tape)
            qFatal("%s", qPrintable(error));
        f->view.setUtc(true);
        f->widget.resize(800, 260);
        f->widget.lanes().setGrouping(TimelineLanes::Grouping::None);
        QSignalSpy finished(f->widget.aggregatesJob(), &TimelineAggregatesJob::finished);
        f->widget.setTape(f->tape);
        if (!finished.wait(10000))
            qFatal("aggregates not built");
        f->view.setVisibleRange({T0 - Sec, T0 + 11 * Sec});
        return f;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir.filePath(u"config"_s)));
        QStandardPaths::setTestModeEnabled(true);
        m_known = m_dir.filePath(u"known.tape"_s);
        QString error;
        QVERIFY2(testtapes::writeTape(m_known, knownEvents(), 4, &error), qPrintable(error));
    }

    void densityPixelsInLanesAndColumns()
    {
        auto f = open(m_known);
        TimelineWidget &w = f->widget;
        const QList<TimelineRow> rows = w.rows();
        QCOMPARE(rows.size(), 2);
        QCOMPARE(rows[0].label, u"a / 0"_s);
        QCOMPARE(rows[1].label, u"b / 0"_s);
        QCOMPARE(f->view.dataRange(), (AxisRange{T0, T0 + 9 * Sec + 1}));

        // Zoomed out: density, whatever marks may have arrived.
        TimelineScene scene = w.scene();
        scene.marks = nullptr;
        QImage image(w.size(), QImage::Format_ARGB32_Premultiplied);
        {
            QPainter p(&image);
            TimelineRenderer().paint(p, w.size(), scene);
        }
        savePng(image, u"density.png"_s);
        const QRect a = w.laneRect(0).adjusted(0, 2, 0, -2), b = w.laneRect(1).adjusted(0, 2, 0, -2);
        const QColor bar = TimelineRenderer::densityColor();
        // Lane b has its one event at 5 s and nothing at 2 s; lane a has both.
        QVERIFY(hasColorInColumn(image, w.xForValue(T0 + 5 * Sec), b, bar));
        QVERIFY(!hasColorInColumn(image, w.xForValue(T0 + 2 * Sec), b, bar, 3));
        QVERIFY(hasColorInColumn(image, w.xForValue(T0 + 2 * Sec), a, bar));
        QVERIFY(!hasColorInColumn(image, w.xForValue(T0 + 2 * Sec + Sec / 2), a, bar, 2)); // between events
        // The tombstone at 7 s is drawn in the tombstone colour, in lane a only.
        QVERIFY(hasColorInColumn(image, w.xForValue(T0 + 7 * Sec), a, TimelineRenderer::specialColor()));
        QVERIFY(!hasColorInColumn(image, w.xForValue(T0 + 7 * Sec), b, TimelineRenderer::specialColor(), 3));
        // Nothing before the first event.
        QVERIFY(!hasColorInColumn(image, w.xForValue(T0 - Sec / 2), a, bar, 3));

        // Hover counts: a column at 5 s in lane b holds one event.
        const auto hit = TimelineRenderer::hitTest(QPoint(w.xForValue(T0 + 5 * Sec), b.center().y()), w.size(), scene);
        QCOMPARE(hit.area, TimelineRenderer::Hit::Area::Lanes);
        QCOMPARE(hit.row, 1);
        QCOMPARE(std::lround(hit.count), 1L);
        QCOMPARE(hit.seq, qint64(-1));
    }

    void marksWhenZoomedIn()
    {
        auto f = open(m_known);
        TimelineWidget &w = f->widget;
        // 11 events in view: the widget collects marks in the background.
        QTRY_VERIFY(w.marks().covers(AxisKind::Time, f->view.visibleRange()));
        QCOMPARE(w.marks().marks.size(), 11);
        const QImage image = w.renderImage(w.size());
        savePng(image, u"marks.png"_s);
        const QRect a = w.laneRect(0), b = w.laneRect(1);
        const int xb = w.xForValue(T0 + 5 * Sec);
        const QColor kb = TimelineRenderer::keyColor(timelinescan::keyHash("kb"));
        const QColor ka = TimelineRenderer::keyColor(timelinescan::keyHash("ka"));
        QCOMPARE(QColor(image.pixel(xb, b.center().y())).rgb(), kb.rgb());
        QCOMPARE(QColor(image.pixel(w.xForValue(T0 + 3 * Sec), a.center().y())).rgb(), ka.rgb());
        QVERIFY(!hasColorInColumn(image, w.xForValue(T0 + 3 * Sec), b, kb, 3));
        // The tombstone is hollow with a red outline.
        const int x7 = w.xForValue(T0 + 7 * Sec);
        QVERIFY(hasColorInColumn(image, x7, QRect(0, a.center().y(), 1, 1), TimelineRenderer::specialColor(), 2));
        QVERIFY(!hasColorInColumn(image, x7, a, ka, 2));

        // Colour by operation: a record is the record colour.
        w.setColorBy(TimelineScene::ColorBy::Operation);
        const QImage byOp = w.renderImage(w.size());
        QCOMPARE(QColor(byOp.pixel(xb, b.center().y())).rgb(), TimelineRenderer::operationColor(0).rgb());

        // Hit testing: within a few pixels of a mark finds it; far away finds nothing.
        const TimelineScene scene = w.scene();
        auto seqAt = [&](QPoint p) { return TimelineRenderer::hitTest(p, w.size(), scene).seq; };
        QCOMPARE(seqAt(QPoint(xb, b.center().y())), qint64(5));
        QCOMPARE(seqAt(QPoint(xb + 3, b.center().y())), qint64(5));
        QCOMPARE(seqAt(QPoint(xb + 20, b.center().y())), qint64(-1));
        QCOMPARE(seqAt(QPoint(xb, a.center().y())), qint64(6)); // a5
        QCOMPARE(seqAt(QPoint(w.xForValue(T0), a.center().y())), qint64(0));

        // A click selects the event.
        QSignalSpy clicked(&w, &TimelineWidget::eventClicked);
        QTest::mouseClick(&w, Qt::LeftButton, {}, QPoint(xb, b.center().y()));
        QCOMPARE(clicked.size(), 1);
        QCOMPARE(clicked.at(0).at(0).toLongLong(), 5);
        QCOMPARE(f->view.currentSeq(), 5);
    }

    void brushSelectsRange()
    {
        auto f = open(m_known);
        TimelineWidget &w = f->widget;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const auto l = TimelineRenderer::layout(w.size());
        const AxisMapping m(f->view.visibleRange(), l.lanes.width());
        const QRect a = w.laneRect(0), b = w.laneRect(1);
        const QPoint p0(w.xForValue(T0 + 2 * Sec), a.center().y()), p1(w.xForValue(T0 + 4 * Sec), a.center().y());

        // Shift+drag: a time range over all lanes.
        QTest::mousePress(&w, Qt::LeftButton, Qt::ShiftModifier, p0);
        QTest::mouseMove(&w, p0 + QPoint(10, 0));
        QTest::mouseMove(&w, p1);
        QTest::mouseRelease(&w, Qt::LeftButton, Qt::ShiftModifier, p1);
        EventSelection sel = f->view.selection();
        QCOMPARE(sel.axis, AxisKind::Time);
        QCOMPARE(sel.range, (AxisRange{m.toValue(p0.x() - l.lanes.left()), m.toValue(p1.x() - l.lanes.left())}));
        QVERIFY(std::abs(sel.range.from - (T0 + 2 * Sec)) <= qint64(m.perPixel()));
        QVERIFY(sel.streams.isEmpty());
        QCOMPARE(timelinescan::selectEvents(*f->tape, sel), (QVector<quint32>{2, 3}));
        if (qEnvironmentVariableIsSet("TIMELINE_PNG_DIR"))
            savePng(w.renderImage(w.size()), u"brush.png"_s);

        // Ctrl+Shift+drag from lane b up into lane a: range and both lanes; within lane b only: b.
        QTest::mousePress(&w, Qt::LeftButton, Qt::ShiftModifier | Qt::ControlModifier, QPoint(p0.x(), b.center().y()));
        QTest::mouseMove(&w, QPoint(p1.x(), b.center().y()));
        QTest::mouseRelease(&w, Qt::LeftButton, Qt::ShiftModifier | Qt::ControlModifier, QPoint(p1.x(), b.center().y()));
        QCOMPARE(f->view.selection().streams, (QList<quint32>{1}));
        QTest::mousePress(&w, Qt::LeftButton, Qt::ShiftModifier | Qt::ControlModifier, QPoint(p0.x(), b.center().y()));
        QTest::mouseMove(&w, QPoint(p1.x(), a.center().y()));
        QTest::mouseRelease(&w, Qt::LeftButton, Qt::ShiftModifier | Qt::ControlModifier, QPoint(p1.x(), a.center().y()));
        QCOMPARE(f->view.selection().streams, (QList<quint32>{0, 1}));

        // Z zooms to it, Escape clears it.
        QTest::keyClick(&w, Qt::Key_Z);
        QVERIFY(f->view.visibleRange().span() < 3 * Sec);
        QTest::keyClick(&w, Qt::Key_Escape);
        QVERIFY(f->view.selection().isEmpty());
    }

    void navigation()
    {
        auto f = open(m_known);
        TimelineWidget &w = f->widget;
        TimelineView &v = f->view;
        const AxisRange start = v.visibleRange();
        QTest::keyClick(&w, Qt::Key_Plus);
        QCOMPARE(v.visibleRange(), axis::zoomed(start, 0.5, 1.5, TimelineView::MinSpan));
        QTest::keyClick(&w, Qt::Key_Minus);
        QVERIFY(std::abs(v.visibleRange().span() - start.span()) <= 2);
        v.setVisibleRange({T0 + 2 * Sec, T0 + 4 * Sec});
        const AxisRange before = v.visibleRange();
        QTest::keyClick(&w, Qt::Key_Right);
        QCOMPARE(v.visibleRange(), axis::panned(before, 0.1));
        QTest::keyClick(&w, Qt::Key_F);
        QCOMPARE(v.visibleRange(), axis::fitted(v.dataRange()));
        QTest::keyClick(&w, Qt::Key_Plus);
        QTest::keyClick(&w, Qt::Key_Plus);
        QTest::keyClick(&w, Qt::Key_Home);
        QVERIFY(v.visibleRange().contains(v.dataRange().from));
        QTest::keyClick(&w, Qt::Key_End);
        QVERIFY(v.visibleRange().contains(v.dataRange().to - 1));

        // The wheel zooms around the cursor: the value under it stays.
        v.setVisibleRange({T0 - Sec, T0 + 11 * Sec});
        const auto l = TimelineRenderer::layout(w.size());
        const QPoint pos(l.lanes.left() + l.lanes.width() / 4, w.laneRect(0).center().y());
        const qint64 under = AxisMapping(v.visibleRange(), l.lanes.width()).toValue(pos.x() - l.lanes.left());
        const qint64 spanBefore = v.visibleRange().span(); // clamped to the data and its margin
        QWheelEvent wheel(pos, w.mapToGlobal(pos), QPoint(), QPoint(0, 240), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(&w, &wheel);
        const AxisMapping after(v.visibleRange(), l.lanes.width());
        QVERIFY(std::abs(after.toValue(pos.x() - l.lanes.left()) - under) <= qint64(after.perPixel()) + 1);
        QVERIFY(std::abs(v.visibleRange().span() - spanBefore / 2) <= 2); // two notches: 2x

        // Dragging pans by the distance moved.
        const AxisRange r = v.visibleRange();
        QTest::mousePress(&w, Qt::LeftButton, {}, pos);
        QTest::mouseMove(&w, pos + QPoint(50, 0));
        QTest::mouseRelease(&w, Qt::LeftButton, {}, pos + QPoint(50, 0));
        QVERIFY(std::abs((r.from - v.visibleRange().from) - qint64(50 * after.perPixel())) <= 2);

        // Position order: the x axis is the sequence number.
        v.setAxis(AxisKind::Position);
        QCOMPARE(v.dataRange(), (AxisRange{0, 11}));
        QCOMPARE(v.visibleRange(), axis::fitted(AxisRange{0, 11}));
        savePng(w.renderImage(w.size()), u"position.png"_s);
    }

    // A tape written in steps: the timeline follows the head until the user scrolls away.
    void followsHead()
    {
        const QString path = m_dir.filePath(u"live.tape"_s);
        TapeWriter writer;
        TapeWriter::Options options;
        options.maxChunkEvents = 50;
        QVERIFY(writer.create(path, TapeMetadata{}, options));
        int written = 0;
        auto writeMore = [&](int n) {
            for (int i = 0; i < n; ++i, ++written)
                QVERIFY(writer.append(testtapes::numberedEvent(written))); // 1 ms apart
            QVERIFY(writer.flush());
        };
        writeMore(1000);
        QString error;
        const std::shared_ptr<Tape> tape = Tape::open(path, &error);
        QVERIFY(tape);
        TimelineView view;
        TimelineWidget w(&view);
        w.resize(800, 260);
        QSignalSpy finished(w.aggregatesJob(), &TimelineAggregatesJob::finished);
        w.setTape(tape);
        QVERIFY(finished.wait(10000));
        QVERIFY(view.followHead());
        QCOMPARE(view.visibleRange(), axis::fitted(view.dataRange()));

        // Showing everything: stays showing everything as the tape grows.
        auto grow = [&](int n) {
            QTRY_VERIFY(!w.isBusy()); // Tape::refresh() must not race the workers
            writeMore(n);
            QCOMPARE(tape->refresh(&error), qint64(n));
            w.eventsAppended();
            QVERIFY(finished.wait(10000));
        };
        grow(500);
        QCOMPARE(view.dataRange().to, testtapes::BaseTimeUs + 1499 * 1000 + 1);
        QCOMPARE(view.visibleRange(), axis::fitted(view.dataRange()));

        // Zoomed in at the head: the window slides with it, same span.
        view.setVisibleRange({view.dataRange().to - 200'000, view.dataRange().to + 4000});
        const qint64 span = view.visibleRange().span();
        grow(300);
        QCOMPARE(view.visibleRange().span(), span);
        QVERIFY(view.visibleRange().contains(view.dataRange().to - 1));

        // Scrolled away (Home): no longer following; the view stays put.
        w.setFocus();
        QTest::keyClick(&w, Qt::Key_Home);
        QVERIFY(!view.followHead());
        const AxisRange parked = view.visibleRange();
        grow(300);
        QCOMPARE(view.visibleRange(), parked);
        QCOMPARE(w.aggregatesJob()->aggregates().eventCount(), 2100);

        // Following again (End, or the API) jumps to the head.
        w.setFollowHead(true);
        QVERIFY(view.visibleRange().contains(view.dataRange().to - 1));
        grow(100);
        QVERIFY(view.visibleRange().contains(view.dataRange().to - 1));
        writer.close();
    }

    void exportPngAndSvg()
    {
        auto f = open(m_known);
        const QString png = m_dir.filePath(u"timeline.png"_s), svg = m_dir.filePath(u"timeline.svg"_s);
        QString error;
        QVERIFY2(f->widget.exportPng(png, &error), qPrintable(error));
        QVERIFY2(f->widget.exportSvg(svg, &error), qPrintable(error));
        QCOMPARE(QImage(png).size(), f->widget.size());
        QFile file(svg);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray text = file.readAll();
        QVERIFY(text.contains("<svg"));
        QVERIFY(text.contains("Tapedeck timeline"));
        QVERIFY(text.size() > 2000);
        QVERIFY(!f->widget.exportPng(m_dir.filePath(u"no/such/dir/x.png"_s), &error));
        QVERIFY(error.contains(u"cannot write"_s));
    }

    // The window wires timeline and table: click <-> current row, brush -> visible rows (with the JS filter).
    void selectionSyncWithTable()
    {
        const QString sample = m_dir.filePath(u"sample.tape"_s);
        QString error;
        QVERIFY2(testtapes::writeSampleTape(sample, &error), qPrintable(error));
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.resize(1200, 900);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.openFile(sample));
        QTRY_VERIFY(!window.timeline()->aggregatesJob()->isRunning());
        QVERIFY(window.timeline()->isVisible());
        QVERIFY(window.timeline()->mapTo(&window, QPoint(0, 0)).y() < window.tableView()->mapTo(&window, QPoint(0, 0)).y());

        // Table -> timeline.
        window.tableView()->selectRow(6);
        QCOMPARE(window.timelineView()->currentSeq(), 6);
        // Timeline -> table and detail pane.
        Q_EMIT window.timeline()->eventClicked(2);
        QCOMPARE(window.tableView()->currentIndex().row(), 2);

        // Brush 1 ms .. 4 ms: events 1, 2, 3 (event 5 has no timestamp and is never in a time range).
        EventSelection sel;
        sel.range = {testtapes::BaseTimeUs + 1000, testtapes::BaseTimeUs + 4000};
        window.timelineView()->setSelection(sel);
        QTRY_VERIFY(!window.isSelectionPending());
        QCOMPARE(window.model()->rowCount(), 3);
        QCOMPARE(window.model()->seqForRow(0), 1);
        QVERIFY2(window.statusText().contains(u"selected 3 ms"_s), qPrintable(window.statusText()));

        // Intersected with the JavaScript filter: FAILED are 1 and 2.
        FilterBar *bar = window.filterBar();
        QSignalSpy applied(bar, &FilterBar::filterApplied);
        bar->setText(u"e.json?.status == \"FAILED\""_s);
        bar->apply();
        QVERIFY(applied.wait(10000));
        QCOMPARE(window.model()->rowCount(), 2);
        sel.range = {testtapes::BaseTimeUs + 2000, testtapes::BaseTimeUs + 9000};
        window.timelineView()->setSelection(sel);
        QTRY_VERIFY(!window.isSelectionPending());
        QCOMPARE(window.model()->rowCount(), 1); // only 2
        QCOMPARE(window.model()->seqForRow(0), 2);
        // Lanes: payments only (stream of event 4) -> nothing FAILED there.
        sel.streams = {2};
        window.timelineView()->setSelection(sel);
        QTRY_VERIFY(!window.isSelectionPending());
        QCOMPARE(window.model()->rowCount(), 0);

        // Clearing the selection leaves the filter; clearing the filter shows all.
        window.timelineView()->clearSelection();
        QTRY_VERIFY(!window.isSelectionPending());
        QCOMPARE(window.model()->rowCount(), 2);
        bar->clearFilter();
        QCOMPARE(window.model()->rowCount(), 10);

        // A click on an event the table does not show still shows it in the detail pane.
        window.timelineView()->setSelection(EventSelection{AxisKind::Position, {0, 2}, {}});
        QTRY_VERIFY(!window.isSelectionPending());
        QCOMPARE(window.model()->rowCount(), 2);
        Q_EMIT window.timeline()->eventClicked(7);
        QCOMPARE(window.detailPane() != nullptr, true);
        if (qEnvironmentVariableIsSet("TIMELINE_PNG_DIR"))
            savePng(window.grab().toImage(), u"mainwindow.png"_s);
    }
};

QTEST_MAIN(TestTimelineWidget)
#include "tst_timelinewidget.moc"
