#pragma once

#include "ui/timeline/timelinelanes.h"
#include "core/timeline/timelinemarks.h"
#include "ui/timeline/timelinerenderer.h"

#include <QBitArray>
#include <QWidget>

#include <memory>

class QTimer;
class QAction;
class QToolBar;

namespace tapedeck {

class JobTracker;
class Tape;
class TimelineAggregatesJob;
class TimelineView;

// The timeline: one lane per stream on a zoomable time (or position) axis,
// density when zoomed out, events as marks when zoomed in, an overview strip,
// brushing, and export to PNG and SVG.
//
// Painting reads the aggregates (built by a TimelineAggregatesJob) and the
// marks of the visible range (collected by a numbered background job when
// few enough events are in view); until the marks arrive it shows density,
// so nothing waits. Input changes the shared TimelineView; repaints are
// coalesced on a timer (RepaintIntervalMs), never one per wheel step.
//
// Mouse: wheel zooms around the cursor (over the lane names it scrolls),
// drag pans, Shift+drag brushes a range (Ctrl+Shift+drag: range and lanes),
// dragging on the ruler brushes too, click selects an event, the overview
// strip moves the window. Keys: + − zoom, ← → pan, Home End, F fit all,
// Z zoom to selection, Esc clears the selection.
// Thread: GUI thread.
class TimelineWidget : public QWidget
{
    Q_OBJECT
public:
    static constexpr int RepaintIntervalMs = 30;
    // Marks are drawn when at most this many events are in view.
    static constexpr qint64 MarkThreshold = 60000;

    explicit TimelineWidget(TimelineView *view, QWidget *parent = nullptr);
    ~TimelineWidget() override;

    void setTape(std::shared_ptr<const Tape> tape);
    std::shared_ptr<const Tape> tape() const { return m_tape; }
    TimelineView *view() const { return m_view; }
    TimelineAggregatesJob *aggregatesJob() const { return m_aggregatesJob; }
    const TimelineMarks &marks() const { return m_marks; }
    // Background work pending (aggregates or marks).
    bool isBusy() const;

    TimelineLanes &lanes() { return m_lanes; }
    void updateLanes(); // after changing lanes()
    TimelineScene::ColorBy colorBy() const { return m_colorBy; }
    void setColorBy(TimelineScene::ColorBy by);
    TimelineScene::DensityStyle densityStyle() const { return m_densityStyle; }
    void setDensityStyle(TimelineScene::DensityStyle style);
    void setGrouping(TimelineLanes::Grouping grouping);

    // Greys the events whose bit is set (by sequence number), highlights the
    // rest; an empty array turns it off. The compaction preview uses it.
    void setDimmedSequences(const QBitArray &dimmed);
    QBitArray dimmedSequences() const { return m_dimmed; }

    // The frame as it would be painted now, for a widget of `size`.
    TimelineScene scene() const;
    QList<TimelineRow> rows() const { return m_rows; }
    QImage renderImage(QSize size) const;
    bool exportPng(const QString &path, QString *error) const;
    bool exportSvg(const QString &path, QString *error) const;
    // Actions added to the context menu, enabled when a range is brushed
    // (the window's "Replay Selection…").
    void setSelectionActions(const QList<QAction *> &actions) { m_selectionActions = actions; }
    // A tool bar with the timeline's options, for the window to place.
    QToolBar *createToolBar(QWidget *parent);

    // Widget geometry of a value / a row, for tests and tooltips.
    QRect laneRect(int row) const;
    int xForValue(qint64 value) const;

public Q_SLOTS:
    // The tape grew (call after Tape::refresh()): aggregates catch up and, when
    // following the head, the view moves with it.
    void eventsAppended();
    // The same for a growing tape followed through immutable snapshots
    // (Tape::refreshed()): aggregates only the new chunks.
    void appendSnapshot(std::shared_ptr<const Tape> grown);
    void setFollowHead(bool follow);
    void exportDialog();

Q_SIGNALS:
    // The user clicked an event (already set as the view's current event).
    void eventClicked(qint64 seq);
    void optionsChanged();

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;
    void leaveEvent(QEvent *event) override;
    bool event(QEvent *event) override;

private:
    enum class Drag { None, Pan, Brush, BrushLanes, Overview };

    void scheduleRepaint();
    void onRepaintTimer();
    void onAggregatesChanged();
    void requestMarksIfNeeded();
    void updateCurrentAt();
    void userNavigated();
    void setScrollY(int y);
    QString toolTipAt(QPoint pos) const;
    QList<quint32> streamsBetween(int y0, int y1) const;

    TimelineView *m_view = nullptr;
    std::shared_ptr<const Tape> m_tape;
    TimelineAggregatesJob *m_aggregatesJob = nullptr;
    std::unique_ptr<JobTracker> m_marksJobs;
    TimelineMarks m_marks;
    struct MarksRequest
    {
        AxisKind axis = AxisKind::Time;
        AxisRange range;
        qint64 tapeEvents = -1;
        bool operator==(const MarksRequest &) const = default;
    };
    MarksRequest m_marksRequested;
    bool m_marksRunning = false;
    TimelineLanes m_lanes;
    QList<TimelineRow> m_rows;
    TimelineRenderer m_renderer;
    TimelineScene::ColorBy m_colorBy = TimelineScene::ColorBy::Key;
    TimelineScene::DensityStyle m_densityStyle = TimelineScene::DensityStyle::Histogram;
    QTimer *m_repaintTimer = nullptr;
    qint64 m_currentAt = -1;
    int m_scrollY = 0;
    int m_hoverX = -1;
    qint64 m_lastDataEnd = 0;
    QString m_progressText;
    QBitArray m_dimmed;
    QList<QAction *> m_selectionActions;

    Drag m_drag = Drag::None;
    QPoint m_pressPos;
    AxisRange m_pressRange;
    qint64 m_pressValue = 0;
    bool m_dragged = false;
    double m_wheelAccumulator = 0;
};

} // namespace tapedeck
