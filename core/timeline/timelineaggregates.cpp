#include "core/timeline/timelineaggregates.h"

#include "core/tape/chunk.h"

#include <bit>

namespace tapedeck {

namespace {

// The shift whose buckets put about `perBucket` events in a bucket when
// `count` events spread over `span` units.
int shiftFor(qint64 span, qint64 count, qint64 perBucket)
{
    if (span <= 0 || count <= 0)
        return 0;
    // Small lanes get a block's worth of buckets: memory is no issue there, resolution is.
    const qint64 buckets = std::max<qint64>(count / perBucket, CountPyramid::BlockSize);
    const qint64 width = std::max<qint64>(span / buckets, 1);
    return std::bit_width(quint64(width)) - 1;
}

qint64 blockBudget(qint64 count)
{
    // Two blocks at least, so that a lane straddling a block edge is not coarsened needlessly.
    return std::max<qint64>(2, count / TimelineAggregates::EventsPerBucket / CountPyramid::BlockSize + 1);
}

const LaneAggregate &emptyLane()
{
    static const LaneAggregate lane;
    return lane;
}

} // namespace

void TimelineAggregates::plan(const QList<StreamStats> &streams, qint64 tapeEventCount)
{
    for (const StreamStats &s : streams) {
        LaneAggregate &lane = laneFor(s.id);
        if (lane.count == 0 && s.count > 0) {
            // First sight of the lane: start near the right resolution, so the
            // budget rarely has to coarsen it.
            if (s.minTimestampUs >= 0)
                lane.byTime = CountPyramid(std::max(0, shiftFor(s.maxTimestampUs - s.minTimestampUs, s.count, EventsPerBucket)));
            lane.byPosition = CountPyramid(std::max(0, shiftFor(tapeEventCount, s.count, EventsPerBucket)));
        }
        lane.byTime.setBlockBudget(blockBudget(s.count));
        lane.byPosition.setBlockBudget(blockBudget(s.count));
    }
}

LaneAggregate &TimelineAggregates::laneFor(quint32 stream)
{
    while (m_lanes.size() <= qsizetype(stream))
        m_lanes.emplace_back();
    return m_lanes[qsizetype(stream)];
}

void TimelineAggregates::append(const Chunk &chunk, qint64 firstSeq)
{
    LaneAggregate *lane = nullptr;
    quint32 laneId = quint32(-1);
    for (int i = 0; i < chunk.count(); ++i) {
        const quint32 stream = chunk.streamId(i);
        if (stream != laneId || !lane) {
            lane = &laneFor(stream);
            laneId = stream;
        }
        const Operation op = chunk.operation(i);
        const bool special = op == Operation::Delete || op == Operation::Truncate
            || (op == Operation::Record && !chunk.hasValue(i));
        const qint64 ts = chunk.timestampUs(i);
        ++lane->count;
        lane->byPosition.add(firstSeq + i, special);
        if (ts < 0) {
            ++lane->untimed;
            continue;
        }
        lane->byTime.add(ts, special);
        if (lane->maxTimeUs < lane->minTimeUs) {
            lane->minTimeUs = lane->maxTimeUs = ts;
        } else {
            lane->minTimeUs = std::min(lane->minTimeUs, ts);
            lane->maxTimeUs = std::max(lane->maxTimeUs, ts);
        }
        if (m_timed == 0) {
            m_minTimeUs = m_maxTimeUs = ts;
        } else {
            m_minTimeUs = std::min(m_minTimeUs, ts);
            m_maxTimeUs = std::max(m_maxTimeUs, ts);
        }
        ++m_timed;
    }
    m_eventCount = std::max(m_eventCount, firstSeq + chunk.count());
    ++m_chunkCount;
}

void TimelineAggregates::finishBatch()
{
    for (LaneAggregate &lane : m_lanes) {
        lane.byTime.updateLevels();
        lane.byPosition.updateLevels();
    }
}

const LaneAggregate &TimelineAggregates::lane(quint32 stream) const
{
    return stream < quint32(m_lanes.size()) ? m_lanes[qsizetype(stream)] : emptyLane();
}

const CountPyramid &TimelineAggregates::pyramid(quint32 stream, AxisKind axis) const
{
    const LaneAggregate &l = lane(stream);
    return axis == AxisKind::Time ? l.byTime : l.byPosition;
}

void TimelineAggregates::addColumns(AxisKind axis, const QList<quint32> &streams, const AxisMapping &m,
                                    float *counts, float *special) const
{
    if (streams.isEmpty()) {
        for (qsizetype s = 0; s < m_lanes.size(); ++s)
            pyramid(quint32(s), axis).addColumns(m, counts, special);
        return;
    }
    for (quint32 s : streams)
        pyramid(s, axis).addColumns(m, counts, special);
}

double TimelineAggregates::estimate(AxisKind axis, AxisRange range, const QList<quint32> &streams) const
{
    double sum = 0;
    if (streams.isEmpty()) {
        for (qsizetype s = 0; s < m_lanes.size(); ++s)
            sum += pyramid(quint32(s), axis).estimate(range.from, range.to);
    } else {
        for (quint32 s : streams)
            sum += pyramid(s, axis).estimate(range.from, range.to);
    }
    return sum;
}

qint64 TimelineAggregates::memoryBytes() const
{
    qint64 bytes = qint64(sizeof(*this));
    for (const LaneAggregate &l : m_lanes)
        bytes += l.byTime.memoryBytes() + l.byPosition.memoryBytes();
    return bytes;
}

} // namespace tapedeck
