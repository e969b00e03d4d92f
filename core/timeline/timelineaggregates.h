#pragma once

#include "core/timeline/countpyramid.h"
#include "core/event/eventselection.h"
#include "core/event/stream.h"

#include <QList>
#include <QMetaType>

namespace tapedeck {

class Chunk;

// The per-lane figures of one lane (stream) of a tape.
struct LaneAggregate
{
    qint64 count = 0;
    qint64 untimed = 0;         // events without a timestamp (not on the time axis)
    qint64 minTimeUs = 0;       // of the events with a timestamp
    qint64 maxTimeUs = -1;
    CountPyramid byTime{10};    // over microseconds since the epoch
    CountPyramid byPosition{0}; // over sequence numbers
};

// What the timeline draws when zoomed out: per lane, count pyramids over time
// and over position, built once per tape from the chunks (in a worker, see
// TimelineAggregatesJob) and extended when the tape grows. A copy is a cheap
// snapshot (copy-on-write blocks), so the worker hands immutable copies to the
// GUI. Memory stays at about 4 bytes per event (EventsPerBucket).
// Not thread-safe; copies are independent values.
class TimelineAggregates
{
public:
    // Level-0 buckets hold this many events of the lane on average (at most).
    static constexpr qint64 EventsPerBucket = 8;

    // Chooses resolutions and memory budgets from the tape's stream table
    // (call before the first append and again when the tape has grown).
    void plan(const QList<StreamStats> &streams, qint64 tapeEventCount);
    // Adds the events of the next chunk, whose first event is `firstSeq`.
    void append(const Chunk &chunk, qint64 firstSeq);
    // Brings the coarser levels up to date; call after a batch of appends.
    void finishBatch();

    qint64 eventCount() const { return m_eventCount; }
    int chunkCount() const { return m_chunkCount; }
    qint64 timedCount() const { return m_timed; }
    // [first, last + 1) of the timestamps; empty when no event has one.
    AxisRange timeRange() const { return m_timed ? AxisRange{m_minTimeUs, m_maxTimeUs + 1} : AxisRange{}; }
    AxisRange range(AxisKind axis) const { return axis == AxisKind::Time ? timeRange() : AxisRange{0, m_eventCount}; }

    int laneCount() const { return int(m_lanes.size()); }
    const LaneAggregate &lane(quint32 stream) const;
    const CountPyramid &pyramid(quint32 stream, AxisKind axis) const;

    // Adds, per pixel column of `m`, the events of `streams` (empty: all lanes).
    void addColumns(AxisKind axis, const QList<quint32> &streams, const AxisMapping &m, float *counts,
                    float *special) const;
    // About how many events of `streams` (empty: all) fall in `range`.
    double estimate(AxisKind axis, AxisRange range, const QList<quint32> &streams = {}) const;

    qint64 memoryBytes() const;

private:
    LaneAggregate &laneFor(quint32 stream);

    QList<LaneAggregate> m_lanes;
    qint64 m_eventCount = 0;
    int m_chunkCount = 0;
    qint64 m_timed = 0;
    qint64 m_minTimeUs = 0, m_maxTimeUs = -1;
};

} // namespace tapedeck

Q_DECLARE_METATYPE(tapedeck::TimelineAggregates)
