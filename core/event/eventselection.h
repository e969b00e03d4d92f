#pragma once

#include "core/event/axisrange.h"

#include <algorithm>

#include <QList>
#include <QMetaType>

namespace tapedeck {

// What the timeline's x axis shows: event time, or position order
// (sequence number in the tape, i.e. the order the recorder saw them).
enum class AxisKind : quint8 { Time, Position };

// A brushed part of a tape: a range on one axis and optionally a set of
// lanes. It is what the table filters to, and what compaction and replay
// will act on. An immutable value, safe to pass between threads.
struct EventSelection
{
    AxisKind axis = AxisKind::Time;
    AxisRange range;        // empty: nothing selected
    QList<quint32> streams; // sorted stream ids; empty: all lanes

    bool isEmpty() const { return range.isEmpty(); }
    bool includesStream(quint32 stream) const
    {
        return streams.isEmpty() || std::binary_search(streams.cbegin(), streams.cend(), stream);
    }
    // Events without a timestamp are never in a time selection.
    bool contains(quint32 stream, qint64 seq, qint64 timestampUs) const
    {
        if (isEmpty() || !includesStream(stream))
            return false;
        if (axis == AxisKind::Position)
            return range.contains(seq);
        return timestampUs >= 0 && range.contains(timestampUs);
    }
    bool operator==(const EventSelection &) const = default;
};

} // namespace tapedeck

Q_DECLARE_METATYPE(tapedeck::EventSelection)
