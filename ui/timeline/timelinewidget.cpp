#include "ui/timeline/timelinewidget.h"

#include "core/tape/chunk.h"
#include "core/base/jobtracker.h"
#include "core/tape/tape.h"
#include "core/timeline/timelineaggregatesjob.h"
#include "ui/common/palette.h"
#include "ui/timeline/timelineview.h"

#include <QActionGroup>
#include <QComboBox>
#include <QContextMenuEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHelpEvent>
#include <QImage>
#include <QLocale>
#include <QMenu>
#include <QPainter>
#include <QSvgGenerator>
#include <QTimer>
#include <QToolBar>
#include <QToolTip>

#include <cmath>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

constexpr int DragThresholdPx = 3;

QString operationName(int op)
{
    return toString(Operation(op));
}

} // namespace

TimelineWidget::TimelineWidget(TimelineView *view, QWidget *parent)
    : QWidget(parent)
    , m_view(view)
    , m_aggregatesJob(new TimelineAggregatesJob(this))
    , m_marksJobs(std::make_unique<JobTracker>(this))
    , m_repaintTimer(new QTimer(this))
{
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMinimumHeight(TimelineRenderer::AxisHeight + TimelineRenderer::OverviewHeight + 2 * TimelineRenderer::LaneHeight);
    m_repaintTimer->setSingleShot(true);
    m_repaintTimer->setInterval(RepaintIntervalMs);
    connect(m_repaintTimer, &QTimer::timeout, this, &TimelineWidget::onRepaintTimer);

    connect(m_aggregatesJob, &TimelineAggregatesJob::aggregatesChanged, this, &TimelineWidget::onAggregatesChanged);
    connect(m_aggregatesJob, &TimelineAggregatesJob::progress, this, [this](qint64 done, qint64 total) {
        m_progressText = done < total ? u"Building timeline… %1 %"_s.arg(total ? done * 100 / total : 0) : QString();
        scheduleRepaint();
    });
    connect(m_view, &TimelineView::visibleRangeChanged, this, &TimelineWidget::scheduleRepaint);
    connect(m_view, &TimelineView::axisChanged, this, [this] {
        updateCurrentAt();
        scheduleRepaint();
        Q_EMIT optionsChanged();
    });
    connect(m_view, &TimelineView::selectionChanged, this, &TimelineWidget::scheduleRepaint);
    connect(m_view, &TimelineView::zoneChanged, this, &TimelineWidget::scheduleRepaint);
    connect(m_view, &TimelineView::currentSeqChanged, this, [this] {
        updateCurrentAt();
        if (m_currentAt >= 0)
            m_view->ensureVisible(m_currentAt);
        scheduleRepaint();
    });
    connect(m_view, &TimelineView::followHeadChanged, this, [this](bool follow) {
        if (follow && !m_view->dataRange().isEmpty() && !m_view->visibleRange().contains(m_view->dataRange().to - 1))
            m_view->ensureVisible(m_view->dataRange().to - 1);
        Q_EMIT optionsChanged();
    });
}

TimelineWidget::~TimelineWidget()
{
    m_marksJobs.reset(); // waits for a running collection before the members go
}

void TimelineWidget::setTape(std::shared_ptr<const Tape> tape)
{
    m_marksJobs->cancel();
    m_marks = {};
    m_marksRequested = {};
    m_marksRunning = false;
    m_tape = std::move(tape);
    m_currentAt = -1;
    m_scrollY = 0;
    m_lastDataEnd = 0;
    m_view->clearSelection();
    m_view->setDataRanges({}, {});
    m_lanes.setStreams(m_tape ? m_tape->streams() : QList<StreamStats>());
    m_rows = m_lanes.rows(TimelineRenderer::LaneHeight, TimelineRenderer::GroupHeight);
    m_progressText = m_tape ? u"Building timeline…"_s : u"No tape open"_s;
    m_aggregatesJob->setTape(m_tape);
    scheduleRepaint();
}

bool TimelineWidget::isBusy() const
{
    return m_aggregatesJob->isRunning() || m_marksJobs->isRunning() || m_marksRunning;
}

void TimelineWidget::updateLanes()
{
    m_rows = m_lanes.rows(TimelineRenderer::LaneHeight, TimelineRenderer::GroupHeight);
    setScrollY(m_scrollY);
    scheduleRepaint();
}

void TimelineWidget::setColorBy(TimelineScene::ColorBy by)
{
    if (by == m_colorBy)
        return;
    m_colorBy = by;
    scheduleRepaint();
    Q_EMIT optionsChanged();
}

void TimelineWidget::setDensityStyle(TimelineScene::DensityStyle style)
{
    if (style == m_densityStyle)
        return;
    m_densityStyle = style;
    scheduleRepaint();
    Q_EMIT optionsChanged();
}

void TimelineWidget::setGrouping(TimelineLanes::Grouping grouping)
{
    m_lanes.setGrouping(grouping);
    updateLanes();
    Q_EMIT optionsChanged();
}

void TimelineWidget::setFollowHead(bool follow)
{
    m_view->setFollowHead(follow);
}

void TimelineWidget::eventsAppended()
{
    if (!m_tape)
        return;
    m_lanes.setStreams(m_tape->streams());
    m_rows = m_lanes.rows(TimelineRenderer::LaneHeight, TimelineRenderer::GroupHeight);
    m_aggregatesJob->update();
}

void TimelineWidget::appendSnapshot(std::shared_ptr<const Tape> grown)
{
    if (!m_tape || !grown || grown->path() != m_tape->path()) {
        setTape(std::move(grown));
        return;
    }
    m_tape = grown;
    m_lanes.setStreams(m_tape->streams());
    m_rows = m_lanes.rows(TimelineRenderer::LaneHeight, TimelineRenderer::GroupHeight);
    m_aggregatesJob->grow(std::move(grown));
}

void TimelineWidget::onAggregatesChanged()
{
    const TimelineAggregates &agg = m_aggregatesJob->aggregates();
    const AxisRange before = m_view->dataRange();
    const AxisRange visible = m_view->visibleRange();
    const bool wasShowingAll = !before.isEmpty() && visible.from <= before.from && visible.to >= before.to;
    m_view->setDataRanges(agg.timeRange(), agg.range(AxisKind::Position));
    const AxisRange after = m_view->dataRange();
    if (m_view->followHead() && !before.isEmpty() && after.to > before.to) {
        if (wasShowingAll) {
            m_view->fitAll();
        } else {
            // Keep the zoom, move the right edge with the head.
            const qint64 margin = visible.span() / 50;
            m_view->setVisibleRange({after.to + margin - visible.span(), after.to + margin});
        }
    }
    if (m_aggregatesJob->aggregates().eventCount() > 0 || !m_aggregatesJob->isRunning())
        m_progressText.clear();
    if (m_tape && m_tape->eventCount() == 0)
        m_progressText = u"The tape is empty"_s;
    updateCurrentAt();
    scheduleRepaint();
}

void TimelineWidget::scheduleRepaint()
{
    if (!m_repaintTimer->isActive())
        m_repaintTimer->start();
}

void TimelineWidget::onRepaintTimer()
{
    requestMarksIfNeeded();
    update();
}

void TimelineWidget::requestMarksIfNeeded()
{
    if (!m_tape || m_view->visibleRange().isEmpty())
        return;
    const AxisKind axis = m_view->axis();
    const AxisRange visible = m_view->visibleRange();
    const TimelineAggregates &agg = m_aggregatesJob->aggregates();
    const qint64 tapeEvents = agg.eventCount();
    if (m_marks.covers(axis, visible) && m_marks.tapeEvents == tapeEvents)
        return;
    const QList<quint32> streams = m_lanes.visibleStreams();
    if (streams.isEmpty() || agg.estimate(axis, visible, streams) > MarkThreshold)
        return;
    // Collect a window three times the view, so panning and zooming out a
    // little still find marks; less when that would be over the cap.
    AxisRange want = {visible.from - visible.span(), visible.to + visible.span()};
    if (agg.estimate(axis, want) > 3 * MarkThreshold)
        want = {visible.from - visible.span() / 10, visible.to + visible.span() / 10};
    const MarksRequest request{axis, want, tapeEvents};
    if (m_marksRunning && m_marksRequested.axis == axis && m_marksRequested.range.from <= visible.from
        && m_marksRequested.range.to >= visible.to && m_marksRequested.tapeEvents == tapeEvents)
        return; // on its way
    if (request == m_marksRequested && !m_marksRunning)
        return; // tried, over the cap
    m_marksRequested = request;
    m_marksRunning = true;
    const std::shared_ptr<const Tape> tape = m_tape;
    m_marksJobs->start(
        [tape, axis, want](const std::function<bool()> &cancelled) {
            return TimelineMarks::collect(*tape, axis, want, 4 * MarkThreshold, cancelled);
        },
        [this](TimelineMarks marks) {
            m_marksRunning = false;
            if (marks.complete)
                m_marks = std::move(marks);
            scheduleRepaint();
        });
}

void TimelineWidget::updateCurrentAt()
{
    const qint64 seq = m_view->currentSeq();
    m_currentAt = -1;
    if (!m_tape || seq < 0 || seq >= m_tape->eventCount())
        return;
    if (m_view->axis() == AxisKind::Position) {
        m_currentAt = seq;
        return;
    }
    const int index = m_tape->chunkIndexOf(seq);
    QString error;
    if (const auto chunk = m_tape->chunk(index, &error))
        m_currentAt = chunk->timestampUs(int(seq - m_tape->chunkInfo(index).firstSeq));
}

TimelineScene TimelineWidget::scene() const
{
    TimelineScene s;
    s.aggregates = &m_aggregatesJob->aggregates();
    s.marks = &m_marks;
    s.axis = m_view->axis();
    s.visible = m_view->visibleRange();
    s.data = m_view->dataRange();
    s.zone = m_view->zone();
    s.rows = m_rows;
    s.scrollY = m_scrollY;
    s.selection = m_view->selection();
    s.currentSeq = m_view->currentSeq();
    s.currentAt = m_currentAt;
    s.hoverX = m_hoverX;
    s.colorBy = m_colorBy;
    s.densityStyle = m_densityStyle;
    s.message = m_progressText;
    s.dimmed = m_dimmed;
    return s;
}

void TimelineWidget::setDimmedSequences(const QBitArray &dimmed)
{
    if (dimmed == m_dimmed)
        return;
    m_dimmed = dimmed;
    scheduleRepaint();
}

QImage TimelineWidget::renderImage(QSize size) const
{
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Palette::color(Palette::Role::TimelineBackground)); // the renderer paints over it all
    QPainter p(&image);
    p.setFont(font());
    TimelineScene s = scene();
    s.hoverX = -1;
    m_renderer.paint(p, size, s);
    return image;
}

bool TimelineWidget::exportPng(const QString &path, QString *error) const
{
    const QImage image = renderImage(size());
    if (!image.save(path, "PNG")) {
        if (error)
            *error = u"%1: cannot write the image"_s.arg(path);
        return false;
    }
    return true;
}

bool TimelineWidget::exportSvg(const QString &path, QString *error) const
{
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(size());
    svg.setViewBox(QRect(QPoint(0, 0), size()));
    svg.setTitle(u"Tapedeck timeline"_s);
    svg.setDescription(m_tape ? QFileInfo(m_tape->path()).fileName() : QString());
    QPainter p;
    if (!p.begin(&svg)) {
        if (error)
            *error = u"%1: cannot write the SVG file"_s.arg(path);
        return false;
    }
    p.setFont(font());
    TimelineScene s = scene();
    s.hoverX = -1;
    m_renderer.paint(p, size(), s);
    p.end();
    if (!QFileInfo::exists(path)) {
        if (error)
            *error = u"%1: cannot write the SVG file"_s.arg(path);
        return false;
    }
    return true;
}

void TimelineWidget::exportDialog()
{
    const QString base = m_tape ? QFileInfo(m_tape->path()).completeBaseName() + u"-timeline.png"_s : u"timeline.png"_s;
    const QString path = QFileDialog::getSaveFileName(this, u"Export timeline"_s, base,
                                                      u"PNG image (*.png);;SVG drawing (*.svg)"_s);
    if (path.isEmpty())
        return;
    QString error;
    const bool ok = path.endsWith(u".svg"_s, Qt::CaseInsensitive) ? exportSvg(path, &error) : exportPng(path, &error);
    if (!ok)
        QToolTip::showText(mapToGlobal(rect().center()), error, this);
}

QRect TimelineWidget::laneRect(int row) const
{
    if (row < 0 || row >= m_rows.size())
        return {};
    const auto l = TimelineRenderer::layout(size());
    return {l.lanes.left(), l.lanes.top() + m_rows[row].y - m_scrollY, l.lanes.width(), m_rows[row].height};
}

int TimelineWidget::xForValue(qint64 value) const
{
    const auto l = TimelineRenderer::layout(size());
    return l.lanes.left() + int(std::floor(AxisMapping(m_view->visibleRange(), l.lanes.width()).toX(value)));
}

void TimelineWidget::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    m_renderer.paint(p, size(), scene());
}

void TimelineWidget::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    setScrollY(m_scrollY);
    scheduleRepaint();
}

void TimelineWidget::setScrollY(int y)
{
    const auto l = TimelineRenderer::layout(size());
    const int total = m_rows.isEmpty() ? 0 : m_rows.constLast().y + m_rows.constLast().height;
    m_scrollY = std::clamp(y, 0, std::max(0, total - l.lanes.height()));
}

void TimelineWidget::userNavigated()
{
    // Following the head stops when the user looks elsewhere and resumes when the head is back in view.
    const AxisRange data = m_view->dataRange();
    if (!data.isEmpty())
        m_view->setFollowHead(m_view->visibleRange().to >= data.to);
}

QList<quint32> TimelineWidget::streamsBetween(int y0, int y1) const
{
    const auto l = TimelineRenderer::layout(size());
    QList<quint32> out;
    for (const TimelineRow &r : m_rows) {
        const int top = l.lanes.top() + r.y - m_scrollY;
        if (top + r.height > std::min(y0, y1) && top <= std::max(y0, y1))
            out += r.streams;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void TimelineWidget::mousePressEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return QWidget::mousePressEvent(event);
    const TimelineScene s = scene();
    const auto hit = TimelineRenderer::hitTest(event->position().toPoint(), size(), s);
    m_pressPos = event->position().toPoint();
    m_pressRange = m_view->visibleRange();
    m_pressValue = hit.value;
    m_dragged = false;
    m_drag = Drag::None;
    switch (hit.area) {
    case TimelineRenderer::Hit::Area::Label:
        if (hit.row >= 0 && m_rows[hit.row].kind == TimelineRow::Kind::Group) {
            m_lanes.setCollapsed(m_rows[hit.row].key, !m_rows[hit.row].collapsed);
            updateLanes();
        }
        break;
    case TimelineRenderer::Hit::Area::Overview:
        m_drag = Drag::Overview;
        m_view->setVisibleRange({hit.value - m_pressRange.span() / 2, hit.value - m_pressRange.span() / 2 + m_pressRange.span()});
        userNavigated();
        break;
    case TimelineRenderer::Hit::Area::Axis:
        m_drag = Drag::Brush;
        break;
    case TimelineRenderer::Hit::Area::Lanes:
        if (event->modifiers() & Qt::ShiftModifier)
            m_drag = (event->modifiers() & Qt::ControlModifier) ? Drag::BrushLanes : Drag::Brush;
        else
            m_drag = Drag::Pan;
        break;
    case TimelineRenderer::Hit::Area::Corner:
    case TimelineRenderer::Hit::Area::None:
        break;
    }
}

void TimelineWidget::mouseMoveEvent(QMouseEvent *event)
{
    const QPoint pos = event->position().toPoint();
    if (m_hoverX != pos.x()) {
        m_hoverX = pos.x();
        scheduleRepaint();
    }
    if (m_drag == Drag::None)
        return;
    if (!m_dragged && (pos - m_pressPos).manhattanLength() < DragThresholdPx)
        return;
    m_dragged = true;
    const auto l = TimelineRenderer::layout(size());
    const AxisMapping m(m_pressRange, l.lanes.width());
    switch (m_drag) {
    case Drag::Pan: {
        const qint64 d = qint64(std::llround(double(pos.x() - m_pressPos.x()) * m.perPixel()));
        m_view->setVisibleRange({m_pressRange.from - d, m_pressRange.to - d});
        userNavigated();
        break;
    }
    case Drag::Brush:
    case Drag::BrushLanes: {
        const qint64 v = m.toValue(pos.x() - l.lanes.left());
        EventSelection sel;
        sel.axis = m_view->axis();
        sel.range = {std::min(v, m_pressValue), std::max(v, m_pressValue)};
        if (m_drag == Drag::BrushLanes)
            sel.streams = streamsBetween(m_pressPos.y(), pos.y());
        m_view->setSelection(sel);
        break;
    }
    case Drag::Overview: {
        const auto hit = TimelineRenderer::hitTest(QPoint(pos.x(), l.overview.center().y()), size(), scene());
        m_view->setVisibleRange({hit.value - m_pressRange.span() / 2, hit.value - m_pressRange.span() / 2 + m_pressRange.span()});
        userNavigated();
        break;
    }
    case Drag::None:
        break;
    }
}

void TimelineWidget::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return QWidget::mouseReleaseEvent(event);
    const Drag drag = std::exchange(m_drag, Drag::None);
    if (m_dragged)
        return;
    if (drag == Drag::Brush && !(event->modifiers() & Qt::ShiftModifier)) { // a click on the ruler
        m_view->clearSelection();
        return;
    }
    if (drag == Drag::Pan) {
        const auto hit = TimelineRenderer::hitTest(event->position().toPoint(), size(), scene());
        if (hit.seq >= 0) {
            m_view->setCurrentSeq(hit.seq);
            Q_EMIT eventClicked(hit.seq);
        }
    }
}

void TimelineWidget::mouseDoubleClickEvent(QMouseEvent *event)
{
    const auto hit = TimelineRenderer::hitTest(event->position().toPoint(), size(), scene());
    if (hit.area == TimelineRenderer::Hit::Area::Lanes && hit.seq < 0) {
        const auto l = TimelineRenderer::layout(size());
        m_view->zoom(double(event->position().x() - l.lanes.left()) / l.lanes.width(), 4);
        userNavigated();
    }
}

void TimelineWidget::wheelEvent(QWheelEvent *event)
{
    const auto l = TimelineRenderer::layout(size());
    const QPoint pos = event->position().toPoint();
    if (l.labels.contains(pos)) {
        setScrollY(m_scrollY - event->angleDelta().y() / 4);
        scheduleRepaint();
        event->accept();
        return;
    }
    if (event->angleDelta().x() != 0 && std::abs(event->angleDelta().x()) > std::abs(event->angleDelta().y())) {
        m_view->pan(-event->angleDelta().x() / 1200.0);
        userNavigated();
        event->accept();
        return;
    }
    // One notch (120) zooms by √2; the range changes now, the paint follows on the timer.
    m_wheelAccumulator += event->angleDelta().y();
    const double factor = std::pow(2.0, m_wheelAccumulator / 240.0);
    m_wheelAccumulator = 0;
    const double anchor = double(pos.x() - l.lanes.left()) / std::max(1, l.lanes.width());
    m_view->zoom(anchor, factor);
    userNavigated();
    event->accept();
}

void TimelineWidget::keyPressEvent(QKeyEvent *event)
{
    const AxisRange data = m_view->dataRange();
    const AxisRange visible = m_view->visibleRange();
    const double anchor = 0.5;
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        m_view->zoom(anchor, 1.5);
        break;
    case Qt::Key_Minus:
    case Qt::Key_Underscore:
        m_view->zoom(anchor, 1 / 1.5);
        break;
    case Qt::Key_Left:
        m_view->pan(event->modifiers() & Qt::ShiftModifier ? -0.5 : -0.1);
        break;
    case Qt::Key_Right:
        m_view->pan(event->modifiers() & Qt::ShiftModifier ? 0.5 : 0.1);
        break;
    case Qt::Key_Home:
        m_view->setVisibleRange({data.from - visible.span() / 50, data.from - visible.span() / 50 + visible.span()});
        break;
    case Qt::Key_End:
        m_view->setVisibleRange({data.to + visible.span() / 50 - visible.span(), data.to + visible.span() / 50});
        break;
    case Qt::Key_F:
    case Qt::Key_0:
        m_view->fitAll();
        break;
    case Qt::Key_Z:
        m_view->zoomToSelection();
        break;
    case Qt::Key_Escape:
        m_view->clearSelection();
        return;
    case Qt::Key_Up:
        setScrollY(m_scrollY - TimelineRenderer::LaneHeight);
        scheduleRepaint();
        return;
    case Qt::Key_Down:
        setScrollY(m_scrollY + TimelineRenderer::LaneHeight);
        scheduleRepaint();
        return;
    default:
        return QWidget::keyPressEvent(event);
    }
    userNavigated();
}

void TimelineWidget::contextMenuEvent(QContextMenuEvent *event)
{
    const auto hit = TimelineRenderer::hitTest(event->pos(), size(), scene());
    QMenu menu(this);
    if (hit.row >= 0 && (hit.area == TimelineRenderer::Hit::Area::Label || hit.area == TimelineRenderer::Hit::Area::Lanes)) {
        const TimelineRow row = m_rows[hit.row];
        if (row.kind == TimelineRow::Kind::Group) {
            menu.addAction(row.collapsed ? u"Expand “%1”"_s.arg(row.label) : u"Collapse “%1”"_s.arg(row.label), this, [this, row] {
                m_lanes.setCollapsed(row.key, !row.collapsed);
                updateLanes();
            });
        }
        menu.addAction(u"Hide “%1”"_s.arg(row.label), this, [this, row] {
            m_lanes.setHidden(row.key, true);
            updateLanes();
        });
        menu.addAction(u"Move Up"_s, this, [this, row] {
            m_lanes.move(row.key, -1);
            updateLanes();
        });
        menu.addAction(u"Move Down"_s, this, [this, row] {
            m_lanes.move(row.key, 1);
            updateLanes();
        });
        menu.addAction(u"Select Only This Lane's Events in the Range"_s, this, [this, row] {
            EventSelection sel = m_view->selection();
            if (sel.isEmpty()) {
                sel.axis = m_view->axis();
                sel.range = m_view->visibleRange();
            }
            sel.streams = row.streams;
            m_view->setSelection(sel);
        });
    }
    if (const int hidden = m_lanes.hiddenCount()) {
        menu.addAction(u"Show All Lanes (%1 hidden)"_s.arg(hidden), this, [this] {
            m_lanes.showAll();
            updateLanes();
        });
    }
    QMenu *group = menu.addMenu(u"Group Lanes By"_s);
    const std::pair<const char16_t *, TimelineLanes::Grouping> groupings[] = {
        {u"Nothing (one lane per partition or table)", TimelineLanes::Grouping::None},
        {u"Topic or Table", TimelineLanes::Grouping::Topic},
        {u"Source (cluster or database)", TimelineLanes::Grouping::Source}};
    for (const auto &[name, g] : groupings) {
        QAction *a = group->addAction(QString::fromUtf16(name), this, [this, g = g] { setGrouping(g); });
        a->setCheckable(true);
        a->setChecked(m_lanes.grouping() == g);
    }
    menu.addSeparator();
    menu.addAction(u"Fit All"_s, m_view, &TimelineView::fitAll)->setShortcut(Qt::Key_F);
    QAction *zoomSel = menu.addAction(u"Zoom to Selection"_s, m_view, &TimelineView::zoomToSelection);
    zoomSel->setShortcut(Qt::Key_Z);
    zoomSel->setEnabled(!m_view->selection().isEmpty());
    QAction *clearSel = menu.addAction(u"Clear Selection"_s, m_view, &TimelineView::clearSelection);
    clearSel->setEnabled(!m_view->selection().isEmpty());
    if (!m_selectionActions.isEmpty()) {
        menu.addSeparator();
        for (QAction *a : std::as_const(m_selectionActions)) {
            a->setEnabled(!m_view->selection().isEmpty());
            menu.addAction(a);
        }
    }
    menu.addSeparator();
    menu.addAction(u"Export Visible Timeline…"_s, this, &TimelineWidget::exportDialog);
    menu.exec(event->globalPos());
}

void TimelineWidget::leaveEvent(QEvent *event)
{
    m_hoverX = -1;
    scheduleRepaint();
    QWidget::leaveEvent(event);
}

bool TimelineWidget::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QString text = toolTipAt(help->pos());
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(event);
}

QString TimelineWidget::toolTipAt(QPoint pos) const
{
    const TimelineScene s = scene();
    const auto hit = TimelineRenderer::hitTest(pos, size(), s);
    const QLocale locale;
    const bool time = s.axis == AxisKind::Time;
    auto valueText = [&](qint64 v) { return time ? ticks::formatTimeUs(v, s.zone) : u"#"_s + locale.toString(v); };
    if (hit.area == TimelineRenderer::Hit::Area::Label && hit.row >= 0)
        return m_rows[hit.row].toolTip;
    if (hit.area != TimelineRenderer::Hit::Area::Lanes || hit.row < 0)
        return {};
    const TimelineRow &row = m_rows[hit.row];
    if (hit.mark && m_tape) {
        const TimelineMark &mk = *hit.mark;
        const StreamKey &key = m_tape->streamKey(mk.stream);
        QString keyText = u"(null)"_s;
        QString error;
        const int index = m_tape->chunkIndexOf(mk.seq);
        if (mk.hasKey) {
            if (const auto chunk = m_tape->chunk(index, &error)) {
                const QByteArrayView raw = chunk->key(int(mk.seq - m_tape->chunkInfo(index).firstSeq));
                keyText = QString::fromUtf8(raw.first(std::min<qsizetype>(raw.size(), 80)).toByteArray());
            }
        }
        Event e;
        QString pos2;
        if (m_tape->event(mk.seq, &e, &error))
            pos2 = key.kind == SourceKind::Postgres
                ? u"LSN %1/%2"_s.arg(quint32(quint64(e.position) >> 32), 0, 16).arg(quint32(e.position), 0, 16).toUpper()
                : u"partition %1, offset %2"_s.arg(e.partition).arg(e.position);
        QString what = mk.isTombstone() ? u"tombstone"_s : operationName(mk.operation);
        if (mk.flags & Transactional)
            what += (mk.flags & Aborted) ? u", aborted transaction"_s : u", transactional"_s;
        return u"<b>%1</b> %2<br>key: %3<br>%4<br>time: %5<br>event #%6 · %7 · %8 bytes"_s
            .arg(key.topic.toHtmlEscaped(), TimelineLanes::laneLabel(key, true).toHtmlEscaped(), keyText.toHtmlEscaped(), pos2,
                 e.timestampUs >= 0 ? ticks::formatTimeUs(e.timestampUs, s.zone) : u"(none)"_s, locale.toString(mk.seq), what)
            .arg(std::max(0, mk.valueSize));
    }
    if (TimelineRenderer::usesMarks(s))
        return u"%1<br>%2"_s.arg(row.label.toHtmlEscaped(), valueText(hit.value));
    QString text = u"<b>%1</b><br>%2 – %3<br>%4 events"_s.arg(row.label.toHtmlEscaped(), valueText(hit.columnRange.from),
                                                           valueText(hit.columnRange.to), locale.toString(qint64(std::llround(hit.count))));
    if (hit.special >= 0.5)
        text += u" (%1 tombstones or deletes)"_s.arg(locale.toString(qint64(std::llround(hit.special))));
    return text;
}

QToolBar *TimelineWidget::createToolBar(QWidget *parent)
{
    auto *bar = new QToolBar(parent);
    bar->setIconSize(QSize(16, 16));
    bar->setToolButtonStyle(Qt::ToolButtonTextOnly);

    auto *axis = new QComboBox(bar);
    axis->addItem(u"Time"_s);
    axis->addItem(u"Position order"_s);
    axis->setToolTip(u"X axis: event time, or the order in the tape"_s);
    connect(axis, &QComboBox::activated, this, [this](int i) { m_view->setAxis(i == 0 ? AxisKind::Time : AxisKind::Position); });
    bar->addWidget(axis);

    auto *color = new QComboBox(bar);
    color->addItems({u"Colour by key"_s, u"Colour by operation"_s, u"Colour by size"_s});
    connect(color, &QComboBox::activated, this, [this](int i) { setColorBy(TimelineScene::ColorBy(i)); });
    bar->addWidget(color);

    auto *density = new QComboBox(bar);
    density->addItems({u"Histogram"_s, u"Heat strip"_s});
    density->setToolTip(u"How density is drawn when zoomed out"_s);
    connect(density, &QComboBox::activated, this, [this](int i) { setDensityStyle(TimelineScene::DensityStyle(i)); });
    bar->addWidget(density);

    auto *grouping = new QComboBox(bar);
    grouping->addItems({u"No groups"_s, u"Group by topic/table"_s, u"Group by source"_s});
    grouping->setCurrentIndex(int(m_lanes.grouping()));
    connect(grouping, &QComboBox::activated, this, [this](int i) { setGrouping(TimelineLanes::Grouping(i)); });
    bar->addWidget(grouping);

    bar->addSeparator();
    bar->addAction(u"Fit All"_s, m_view, &TimelineView::fitAll)->setToolTip(u"Show the whole tape (F)"_s);
    bar->addAction(u"Zoom to Selection"_s, m_view, &TimelineView::zoomToSelection)->setToolTip(u"(Z)"_s);
    QAction *follow = bar->addAction(u"Follow Head"_s);
    follow->setCheckable(true);
    follow->setChecked(m_view->followHead());
    follow->setToolTip(u"While the tape grows, keep its newest events in view"_s);
    connect(follow, &QAction::toggled, this, &TimelineWidget::setFollowHead);
    bar->addAction(u"Export…"_s, this, &TimelineWidget::exportDialog)->setToolTip(u"Save the visible timeline as PNG or SVG"_s);

    connect(this, &TimelineWidget::optionsChanged, bar, [=, this] {
        axis->setCurrentIndex(m_view->axis() == AxisKind::Time ? 0 : 1);
        color->setCurrentIndex(int(m_colorBy));
        density->setCurrentIndex(int(m_densityStyle));
        grouping->setCurrentIndex(int(m_lanes.grouping()));
        const QSignalBlocker block(follow);
        follow->setChecked(m_view->followHead());
    });
    return bar;
}

} // namespace tapedeck
