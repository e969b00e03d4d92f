#pragma once

#include <QtGlobal>

namespace tapedeck {

// A half-open interval [from, to) on the timeline's x axis. The unit is
// microseconds since the epoch (time axis) or sequence numbers (position axis).
struct AxisRange
{
    qint64 from = 0;
    qint64 to = 0;

    qint64 span() const { return to - from; }
    bool isEmpty() const { return to <= from; }
    bool contains(qint64 v) const { return v >= from && v < to; }
    bool overlaps(qint64 lo, qint64 hi) const { return lo < to && hi >= from; } // [lo, hi] closed
    bool operator==(const AxisRange &) const = default;
};

} // namespace tapedeck
