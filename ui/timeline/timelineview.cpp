#include "ui/timeline/timelineview.h"

#include "core/timeline/timeaxis.h"

namespace tapedeck {

TimelineView::TimelineView(QObject *parent)
    : QObject(parent)
{
}

void TimelineView::setAxis(AxisKind axis)
{
    if (axis == m_axis)
        return;
    const AxisRange previous = m_visible;
    m_axis = axis;
    m_visible = m_otherAxisVisible.isEmpty() ? axis::fitted(dataRange()) : m_otherAxisVisible;
    m_otherAxisVisible = previous;
    Q_EMIT axisChanged(axis);
    Q_EMIT visibleRangeChanged(m_visible);
}

void TimelineView::setDataRanges(AxisRange time, AxisRange position)
{
    const bool first = dataRange().isEmpty();
    m_timeData = time;
    m_positionData = position;
    if (first || m_visible.isEmpty())
        fitAll();
}

void TimelineView::setVisibleRange(AxisRange range)
{
    if (range.span() < MinSpan)
        range = axis::zoomed(range, 0.5, 1.0, MinSpan);
    if (!dataRange().isEmpty())
        range = axis::clampedTo(range, dataRange());
    if (range == m_visible)
        return;
    m_visible = range;
    Q_EMIT visibleRangeChanged(range);
}

void TimelineView::fitAll()
{
    if (dataRange().isEmpty()) {
        if (!m_visible.isEmpty()) {
            m_visible = {};
            Q_EMIT visibleRangeChanged(m_visible);
        }
        return;
    }
    setVisibleRange(axis::fitted(dataRange()));
}

void TimelineView::zoom(double anchor, double factor)
{
    setVisibleRange(axis::zoomed(m_visible, anchor, factor, MinSpan));
}

void TimelineView::pan(double fraction)
{
    setVisibleRange(axis::panned(m_visible, fraction));
}

void TimelineView::zoomToSelection()
{
    if (m_selection.isEmpty())
        return;
    if (m_selection.axis != m_axis)
        setAxis(m_selection.axis);
    const qint64 margin = std::max<qint64>(m_selection.range.span() / 20, 1);
    setVisibleRange({m_selection.range.from - margin, m_selection.range.to + margin});
}

void TimelineView::ensureVisible(qint64 value)
{
    if (m_visible.isEmpty() || m_visible.contains(value))
        return;
    const qint64 half = m_visible.span() / 2;
    setVisibleRange({value - half, value - half + m_visible.span()});
}

void TimelineView::setSelection(const EventSelection &selection)
{
    if (selection == m_selection)
        return;
    m_selection = selection;
    Q_EMIT selectionChanged(selection);
}

void TimelineView::setCurrentSeq(qint64 seq)
{
    if (seq == m_currentSeq)
        return;
    m_currentSeq = seq;
    Q_EMIT currentSeqChanged(seq);
}

void TimelineView::setFollowHead(bool follow)
{
    if (follow == m_followHead)
        return;
    m_followHead = follow;
    Q_EMIT followHeadChanged(follow);
}

void TimelineView::setUtc(bool utc)
{
    if (utc == m_utc)
        return;
    m_utc = utc;
    Q_EMIT zoneChanged();
}

void TimelineView::setLocalZone(const QTimeZone &zone)
{
    m_localZone = zone;
    Q_EMIT zoneChanged();
}

} // namespace tapedeck
