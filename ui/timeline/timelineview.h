#pragma once

#include "core/event/eventselection.h"

#include <QObject>
#include <QTimeZone>

namespace tapedeck {

// The state the timeline shares with the rest of the window (as hotspot's
// FilterAndZoomStack): axis, visible range, the brushed selection (what the
// table filters to, and what compaction and replay act on), the current event,
// whether to follow the head of a growing tape, and the time zone.
// Setters emit only on change. Thread: GUI thread.
class TimelineView : public QObject
{
    Q_OBJECT
public:
    explicit TimelineView(QObject *parent = nullptr);

    AxisKind axis() const { return m_axis; }
    void setAxis(AxisKind axis);

    // Bounds of the data on each axis; the visible range is kept near them.
    AxisRange dataRange(AxisKind axis) const { return axis == AxisKind::Time ? m_timeData : m_positionData; }
    AxisRange dataRange() const { return dataRange(m_axis); }
    void setDataRanges(AxisRange time, AxisRange position);

    AxisRange visibleRange() const { return m_visible; }
    void setVisibleRange(AxisRange range); // clamped to the data (with a margin)
    void fitAll();
    void zoom(double anchor, double factor);
    void pan(double fraction);
    void zoomToSelection();
    // Keeps the zoom, moves so that `value` is in view (centred if it was not).
    void ensureVisible(qint64 value);

    EventSelection selection() const { return m_selection; }
    void setSelection(const EventSelection &selection);
    void clearSelection() { setSelection({}); }

    qint64 currentSeq() const { return m_currentSeq; }
    void setCurrentSeq(qint64 seq);

    bool followHead() const { return m_followHead; }
    void setFollowHead(bool follow);

    bool isUtc() const { return m_utc; }
    void setUtc(bool utc);
    // For tests: a fixed zone instead of the system one (invalid: back to local time).
    void setLocalZone(const QTimeZone &zone);
    QTimeZone localZone() const { return m_localZone.isValid() ? m_localZone : QTimeZone::systemTimeZone(); }
    QTimeZone zone() const { return m_utc ? QTimeZone::utc() : localZone(); }

    // The smallest span the zoom goes down to: 1 µs or 1 event across ~10 pixels.
    static constexpr qint64 MinSpan = 10;

Q_SIGNALS:
    void axisChanged(tapedeck::AxisKind axis);
    void visibleRangeChanged(tapedeck::AxisRange range);
    void selectionChanged(const tapedeck::EventSelection &selection);
    void currentSeqChanged(qint64 seq);
    void followHeadChanged(bool follow);
    void zoneChanged();

private:
    AxisKind m_axis = AxisKind::Time;
    AxisRange m_timeData, m_positionData;
    AxisRange m_visible;
    AxisRange m_otherAxisVisible; // restored when switching back
    EventSelection m_selection;
    qint64 m_currentSeq = -1;
    bool m_followHead = true;
    bool m_utc = false;
    QTimeZone m_localZone;
};

} // namespace tapedeck
