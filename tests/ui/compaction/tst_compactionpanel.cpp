// The compaction panel on a small hand-built tape with known answers
// (offscreen platform).
#include "tests/common/shots.h"
#include "tests/common/testtapes.h"

#include "ui/compaction/compactionpanel.h"
#include "ui/shell/mainwindow.h"
#include "core/tape/tape.h"
#include "core/tape/tapeinfo.h"
#include "core/timeline/timelineaggregatesjob.h"
#include "ui/timeline/timelineview.h"
#include "ui/timeline/timelinewidget.h"

#include <QAction>
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

// 2026-03-01 12:34:56.789 UTC
constexpr qint64 B = testtapes::BaseTimeUs;
constexpr qint64 Ms = 1000;

// Topic "t", partition 0; segment.ms 1000 cuts three segments:
// [0 a=1, 1 b=1, 2 a=2, 3 b tombstone] [4 c=1, 5 a=3] [6 d=1] (active).
// Each record is its own batch (100 ms apart > linger.ms): 70 bytes, the tombstone 69.
QList<Event> events()
{
    auto e = [](qint64 offset, const char *key, std::optional<QByteArray> value, qint64 ms) {
        return testtapes::kafka(u"t"_s, 0, offset, QByteArray(key), std::move(value), {}, B + ms * Ms);
    };
    return {e(0, "a", QByteArray("1"), 0),    e(1, "b", QByteArray("1"), 100), e(2, "a", QByteArray("2"), 200),
            e(3, "b", std::nullopt, 300),      e(4, "c", QByteArray("1"), 2000), e(5, "a", QByteArray("3"), 2100),
            e(6, "d", QByteArray("1"), 4000)};
}

bool writeTape(const QString &path, QString *error)
{
    TapeWriter writer;
    TapeMetadata metadata;
    metadata.sourceKind = SourceKind::Kafka;
    metadata.source = u"test tape"_s;
    metadata.parameters.insert(u"topicConfigs"_s,
                               QJsonObject{{u"t"_s, QJsonObject{{u"cleanup.policy"_s, u"compact"_s},
                                                                {u"segment.ms"_s, u"1000"_s},
                                                                {u"min.cleanable.dirty.ratio"_s, u"0.5"_s},
                                                                {u"delete.retention.ms"_s, u"60000"_s}}}});
    if (!writer.create(path, metadata)) {
        *error = writer.errorString();
        return false;
    }
    for (const Event &e : events())
        writer.append(e);
    if (!writer.close()) {
        *error = writer.errorString();
        return false;
    }
    return true;
}

QStringList rowTexts(const QTreeWidget *tree, int row)
{
    QStringList out;
    const QTreeWidgetItem *item = tree->topLevelItem(row);
    for (int c = 0; item && c < tree->columnCount(); ++c)
        out.append(item->text(c));
    return out;
}

QList<qint64> bits(const QBitArray &a)
{
    QList<qint64> out;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (a.testBit(i))
            out.append(i);
    }
    return out;
}

void savePng(const QImage &image, const QString &name)
{
    image.save(testing::shotPath(name));
}

} // namespace

class TestCompactionPanel : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_path;
    std::shared_ptr<Tape> m_tape;

    static void waitForResult(CompactionPanel &panel)
    {
        QTRY_VERIFY_WITH_TIMEOUT(!panel.isBusy(), 10000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir.filePath(u"config"_s)));
        QStandardPaths::setTestModeEnabled(true);
        m_path = m_dir.filePath(u"compaction.tape"_s);
        QString error;
        QVERIFY2(writeTape(m_path, &error), qPrintable(error));
        m_tape = Tape::open(m_path, &error);
        QVERIFY2(m_tape, qPrintable(error));
    }

    void summaryNumbers()
    {
        CompactionPanel panel;
        panel.resize(1200, 700);
        panel.setTape(m_tape);
        waitForResult(panel);
        QVERIFY2(panel.result().ok, qPrintable(panel.result().error));
        // Now defaults to the last record: 12:35:00.789.
        QCOMPARE(panel.preview()->nowMs, B / Ms + 4000);
        QCOMPARE(panel.summary()->topLevelItemCount(), 2);
        QCOMPARE(rowTexts(panel.summary(), 0),
                 (QStringList{u"t/0"_s, u"7"_s, u"4"_s, u"3"_s, u"489"_s, u"279"_s, u"210"_s, u"1.000 / 0.5"_s,
                              u"cleaned: dirty ratio 1.000 > min.cleanable.dirty.ratio 0.5"_s, u"3 (estimated) → 2 → 1"_s}));
        QCOMPARE(rowTexts(panel.summary(), 1),
                 (QStringList{u"Total"_s, u"7"_s, u"4"_s, u"3"_s, u"489"_s, u"279"_s, u"210"_s, u"1.000"_s, u"1 of 1 cleaned"_s,
                              QString()}));
        QCOMPARE(panel.configEdit(u"min.cleanable.dirty.ratio"_s)->placeholderText(), u"0.5"_s);
        QCOMPARE(panel.configEdit(u"segment.ms"_s)->placeholderText(), u"1000"_s);
        QVERIFY(panel.statusLabel()->text().contains(u"configs: broker (tape metadata)"_s));
        QCOMPARE(bits(panel.result().removedNext), (QList<qint64>{0, 1, 2}));
        QCOMPARE(bits(panel.result().removedFull), (QList<qint64>{0, 1, 2, 3}));
    }

    void whatIfDirtyRatioFlipsTheDecision()
    {
        CompactionPanel panel;
        panel.setTape(m_tape);
        waitForResult(panel);
        QCOMPARE(panel.summary()->topLevelItem(0)->text(8), u"cleaned: dirty ratio 1.000 > min.cleanable.dirty.ratio 0.5"_s);
        // A first pass always sees 1.0 (nothing clean yet): a minimum of 1 keeps the cleaner away.
        QSignalSpy results(&panel, &CompactionPanel::resultReady);
        panel.setConfigValue(u"min.cleanable.dirty.ratio"_s, u"1"_s);
        waitForResult(panel);
        QCOMPARE(results.size(), 1); // one edit, one job
        QCOMPARE(panel.summary()->topLevelItem(0)->text(8), u"not cleaned: dirty ratio 1.000 <= min.cleanable.dirty.ratio 1"_s);
        QCOMPARE(panel.summary()->topLevelItem(0)->text(2), u"7"_s);
        QCOMPARE(panel.summary()->topLevelItem(1)->text(8), u"0 of 1 cleaned"_s);
        QVERIFY(bits(panel.result().removedNext).isEmpty());
        // Invalid input is flagged and ignored; clearing goes back to the tape's value.
        panel.setConfigValue(u"min.cleanable.dirty.ratio"_s, u"2"_s);
        waitForResult(panel);
        QVERIFY(panel.configEdit(u"min.cleanable.dirty.ratio"_s)->toolTip().contains(u"not a number between 0 and 1"_s));
        QCOMPARE(panel.summary()->topLevelItem(0)->text(8), u"cleaned: dirty ratio 1.000 > min.cleanable.dirty.ratio 0.5"_s);
        panel.setConfigValue(u"min.cleanable.dirty.ratio"_s, u"1"_s);
        waitForResult(panel);
        panel.setConfigValue(u"min.cleanable.dirty.ratio"_s, QString());
        waitForResult(panel);
        QCOMPARE(panel.summary()->topLevelItem(0)->text(8), u"cleaned: dirty ratio 1.000 > min.cleanable.dirty.ratio 0.5"_s);

        // Bursts coalesce: three edits in a row start one job.
        results.clear();
        panel.setConfigValue(u"segment.ms"_s, u"100"_s);
        panel.setConfigValue(u"segment.ms"_s, u"10000"_s);
        panel.setConfigValue(u"segment.ms"_s, u"100000"_s);
        waitForResult(panel);
        QCOMPARE(results.size(), 1);
        // One segment only: the active one, nothing to clean.
        QCOMPARE(panel.summary()->topLevelItem(0)->text(8), u"not cleaned: nothing below the active segment"_s);
    }

    void keyHistoryTexts()
    {
        CompactionPanel panel;
        panel.setTape(m_tape);
        waitForResult(panel);
        panel.setCurrentSeq(2); // key a
        QCOMPARE(panel.historyTitle()->text(),
                 u"Key \"a\" in t/0: 3 version(s); after the next pass offset 5 remains; fully compacted offset 5 remains."_s);
        QCOMPARE(panel.history()->topLevelItemCount(), 3);
        const QString t0 = formatTimestampUs(B);
        QCOMPARE(rowTexts(panel.history(), 0),
                 (QStringList{u"0"_s, t0, u"value"_s, u"removed: superseded by offset 5"_s, u"removed: superseded by offset 5"_s}));
        QCOMPARE(rowTexts(panel.history(), 2).mid(3),
                 (QStringList{u"kept: latest record of its key"_s, u"kept: latest record of its key"_s}));

        panel.setCurrentSeq(3); // key b: the tombstone waits for its delete horizon (now + 60 s)
        QCOMPARE(panel.historyTitle()->text(),
                 u"Key \"b\" in t/0: 2 version(s); after the next pass offset 3 remains; fully compacted none remains."_s);
        QCOMPARE(rowTexts(panel.history(), 0).mid(3),
                 (QStringList{u"removed: superseded by offset 3"_s, u"removed: superseded by offset 3"_s}));
        QCOMPARE(rowTexts(panel.history(), 1).mid(2),
                 (QStringList{u"tombstone"_s, u"kept: tombstone until its delete horizon "_s + formatTimestampUs(B + 64000 * Ms),
                              u"removed: tombstone, gone once delete.retention.ms has passed"_s}));

        panel.setCurrentSeq(6); // key d, in the active segment
        QCOMPARE(rowTexts(panel.history(), 0).mid(3),
                 (QStringList{u"kept: in the active segment, which is never cleaned"_s, u"kept: latest record of its key"_s}));

        // Stepping through passes. With min.compaction.lag.ms 3 s, pass 1 at the
        // last record cleans only the first segment (c and a=3 are too new): the
        // tombstone stays and gets its horizon. Pass 2, a minute later, cleans
        // the second segment and, past the horizon, drops the tombstone.
        panel.setConfigValue(u"min.compaction.lag.ms"_s, u"3000"_s);
        waitForResult(panel);
        panel.addPass();
        waitForResult(panel);
        QCOMPARE(rowTexts(panel.passList(), 0), (QStringList{u"1"_s, formatTimestampUs(B + 4000 * Ms), u"1 of 1"_s, u"5"_s, u"349"_s}));
        panel.setCurrentSeq(3);
        QCOMPARE(rowTexts(panel.history(), 1).at(3), u"kept: tombstone until its delete horizon "_s + formatTimestampUs(B + 64000 * Ms));
        panel.setNowMs(B / Ms + 65000);
        panel.addPass();
        waitForResult(panel);
        QCOMPARE(panel.passList()->topLevelItemCount(), 2);
        QCOMPARE(rowTexts(panel.passList(), 1), (QStringList{u"2"_s, formatTimestampUs(B + 65000 * Ms), u"1 of 1"_s, u"3"_s, u"210"_s}));
        QCOMPARE(rowTexts(panel.history(), 1).at(3), u"removed: tombstone past its delete horizon "_s + formatTimestampUs(B + 64000 * Ms));
        // What-if during the steps: a longer delete.retention.ms keeps it through pass 2.
        panel.setConfigValue(u"delete.retention.ms"_s, u"100000"_s);
        waitForResult(panel);
        QCOMPARE(rowTexts(panel.history(), 1).at(3), u"kept: tombstone until its delete horizon "_s + formatTimestampUs(B + 104000 * Ms));
        panel.removeLastPass();
        waitForResult(panel);
        QCOMPARE(panel.passList()->topLevelItemCount(), 1);
        panel.clearPasses();
        waitForResult(panel);
        QCOMPARE(rowTexts(panel.passList(), 0).at(0), u"next"_s);
    }

    void followsTheSelection()
    {
        CompactionPanel panel;
        panel.setTape(m_tape);
        waitForResult(panel);
        EventSelection selection;
        selection.axis = AxisKind::Time;
        selection.range = {B + 2000 * Ms, B + 4001 * Ms};
        panel.setSelection(selection);
        waitForResult(panel);
        QCOMPARE(rowTexts(panel.summary(), 0).mid(0, 4), (QStringList{u"t/0"_s, u"3"_s, u"3"_s, u"3"_s}));
        QVERIFY(panel.statusLabel()->text().contains(u"the timeline's selection"_s));
        panel.setCurrentSeq(0);
        QCOMPARE(panel.historyTitle()->text(), u"Event #0 is not in the preview (outside the selection)."_s);
        panel.setSelection({});
        waitForResult(panel);
        QCOMPARE(panel.summary()->topLevelItem(0)->text(1), u"7"_s);
    }

    void timelineDimsRemovedEvents()
    {
        CompactionPanel panel;
        panel.resize(1100, 650);
        TimelineView view;
        view.setUtc(true);
        TimelineWidget timeline(&view);
        timeline.resize(800, 200);
        timeline.lanes().setGrouping(TimelineLanes::Grouping::None);
        QSignalSpy built(timeline.aggregatesJob(), &TimelineAggregatesJob::finished);
        timeline.setTape(m_tape);
        QVERIFY(built.wait(10000));
        view.setVisibleRange({B - 500 * Ms, B + 4500 * Ms});
        QTRY_VERIFY(timeline.marks().covers(AxisKind::Time, view.visibleRange()));
        const QImage plain = timeline.renderImage(timeline.size());
        connect(&panel, &CompactionPanel::timelineDimmedChanged, &timeline, &TimelineWidget::setDimmedSequences);

        panel.setTape(m_tape);
        waitForResult(panel);
        QCOMPARE(bits(timeline.dimmedSequences()), (QList<qint64>{0, 1, 2}));
        const TimelineScene scene = timeline.scene();
        for (qint64 seq = 0; seq < 7; ++seq)
            QCOMPARE(scene.isDimmed(seq), seq < 3);
        const QImage dimmed = timeline.renderImage(timeline.size());
        savePng(dimmed, u"tapedeck-compaction-timeline.png"_s);
        const int y = timeline.laneRect(0).center().y();
        auto px = [&](const QImage &image, qint64 ms) { return QColor(image.pixel(timeline.xForValue(B + ms * Ms), y)).rgb(); };
        QVERIFY(px(dimmed, 0) != px(plain, 0));       // a=1 removed: washed out
        QVERIFY(px(dimmed, 200) != px(plain, 200));   // a=2 removed
        QCOMPARE(px(dimmed, 2000), px(plain, 2000));  // c=1 survives in its own colour
        QCOMPARE(px(dimmed, 4000), px(plain, 4000));  // d=1 survives

        panel.setTimelineMode(CompactionPanel::TimelineMode::FullyCompacted);
        QCOMPARE(bits(timeline.dimmedSequences()), (QList<qint64>{0, 1, 2, 3}));
        panel.setTimelineMode(CompactionPanel::TimelineMode::Off);
        QVERIFY(timeline.dimmedSequences().isEmpty());
        QCOMPARE(timeline.renderImage(timeline.size()), plain);
        panel.setTimelineMode(CompactionPanel::TimelineMode::NextPass);

        panel.setCurrentSeq(3);
        panel.grab().save(testing::shotPath(u"tapedeck-compaction-panel.png"_s));
    }

    void mainWindowAction()
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.resize(1400, 950);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.openFile(m_path));
        QAction *action = nullptr;
        for (QAction *menu : window.menuBar()->actions()) {
            if (!menu->menu())
                continue;
            for (QAction *a : menu->menu()->actions()) {
                if (a->text().remove(u'&') == u"Compaction Preview"_s)
                    action = a;
            }
        }
        QVERIFY2(action, "no Compaction Preview action in the menus");
        action->trigger();
        CompactionPanel *panel = window.findChild<CompactionPanel *>();
        QVERIFY(panel);
        QVERIFY(panel->isVisibleTo(&window));
        waitForResult(*panel);
        QCOMPARE(panel->summary()->topLevelItem(0)->text(1), u"7"_s);
        QCOMPARE(bits(window.timeline()->dimmedSequences()), (QList<qint64>{0, 1, 2}));
        // The panel follows the timeline's selection.
        EventSelection selection;
        selection.axis = AxisKind::Time;
        selection.range = {B + 2000 * Ms, B + 4001 * Ms};
        window.timelineView()->setSelection(selection);
        QTRY_COMPARE(panel->summary()->topLevelItem(0) ? panel->summary()->topLevelItem(0)->text(1) : QString(), u"3"_s);
        window.timelineView()->setSelection({});
        QTRY_COMPARE(panel->summary()->topLevelItem(0) ? panel->summary()->topLevelItem(0)->text(1) : QString(), u"7"_s);
        // The key history follows the current event.
        window.timelineView()->setCurrentSeq(2);
        QTRY_VERIFY(panel->historyTitle()->text().startsWith(u"Key \"a\" in t/0"_s));
        window.grab().save(testing::shotPath(u"tapedeck-compaction-window.png"_s));
        // Closing the panel stops the dimming.
        window.findChild<QDockWidget *>(u"compactionDock"_s)->close();
        QTRY_VERIFY(window.timeline()->dimmedSequences().isEmpty());
    }
};

QTEST_MAIN(TestCompactionPanel)
#include "tst_compactionpanel.moc"
