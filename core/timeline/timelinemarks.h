#pragma once

#include "core/event/eventselection.h"

#include <QMetaType>
#include <QVector>

#include <functional>

namespace tapedeck {

class Tape;

// One event as the zoomed-in timeline draws it (32 bytes).
struct TimelineMark
{
    qint64 at = 0;        // axis value: timestamp (µs) or sequence number
    qint64 seq = 0;
    quint32 stream = 0;
    quint32 keyHash = 0;  // stable across runs (FNV-1a of the key bytes); 0 for a null key
    qint32 valueSize = 0; // -1: tombstone / no value
    quint8 operation = 0; // tapedeck::Operation
    quint8 flags = 0;     // EventFlag bits
    bool hasKey = false;

    bool isTombstone() const { return valueSize < 0 && operation == 0; }
};

// A transaction on one lane: Postgres Begin..Commit, or a run of Kafka
// transactional records up to its control record (commit or abort marker).
struct TimelineBracket
{
    quint32 stream = 0;
    qint64 from = 0; // axis values
    qint64 to = 0;
    bool aborted = false;
    bool openStart = false; // began before the collected range
    bool openEnd = false;   // not finished within it
};

// The events of a range of a tape, for drawing marks: collected in a worker
// from the chunks that overlap the range (ChunkInfo's timestamp bounds), at
// most a cap of them. An immutable value.
struct TimelineMarks
{
    AxisKind axis = AxisKind::Time;
    AxisRange range;
    qint64 tapeEvents = 0;             // events in the tape when collected
    QVector<TimelineMark> marks;       // sorted by (stream, at)
    QVector<qsizetype> streamBegin;    // marks of stream s: [streamBegin[s], streamBegin[s + 1])
    QVector<TimelineBracket> brackets;
    bool complete = false;             // false: over the cap or cancelled, do not draw
    QString error;

    bool covers(AxisKind a, AxisRange r) const { return complete && a == axis && r.from >= range.from && r.to <= range.to; }
    qsizetype begin(quint32 stream) const { return stream + 1 < quint32(streamBegin.size()) ? streamBegin[stream] : 0; }
    qsizetype end(quint32 stream) const { return stream + 1 < quint32(streamBegin.size()) ? streamBegin[stream + 1] : 0; }

    using Cancelled = std::function<bool()>;
    static TimelineMarks collect(const Tape &tape, AxisKind axis, AxisRange range, qsizetype maxMarks,
                                 const Cancelled &cancelled = {});
};

namespace timelinescan {

quint32 keyHash(QByteArrayView key);
// Chunks that may hold events in `range` (by their timestamp or sequence bounds), ascending.
QVector<int> chunksOverlapping(const Tape &tape, AxisKind axis, AxisRange range);
// Sequence numbers of the selected events, ascending (for EventTableModel::setVisibleRows).
QVector<quint32> selectEvents(const Tape &tape, const EventSelection &selection,
                              const TimelineMarks::Cancelled &cancelled = {}, QString *error = nullptr);
// Sorted intersection of two ascending lists.
QVector<quint32> intersect(const QVector<quint32> &a, const QVector<quint32> &b);

} // namespace timelinescan

} // namespace tapedeck

Q_DECLARE_METATYPE(tapedeck::TimelineMarks)
