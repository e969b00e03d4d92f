#include "core/timeline/timelinemarks.h"

#include "core/tape/chunk.h"
#include "core/tape/tape.h"

#include <algorithm>

namespace tapedeck {

namespace timelinescan {

quint32 keyHash(QByteArrayView key)
{
    quint32 h = 2166136261u;
    for (char c : key) {
        h ^= quint8(c);
        h *= 16777619u;
    }
    return h ? h : 1; // 0 means "no key"
}

QVector<int> chunksOverlapping(const Tape &tape, AxisKind axis, AxisRange range)
{
    QVector<int> out;
    const int n = tape.chunkCount();
    if (axis == AxisKind::Position) {
        const int first = tape.chunkIndexOf(std::max<qint64>(range.from, 0));
        if (first < 0)
            return out;
        for (int i = first; i < n && tape.chunkInfo(i).firstSeq < range.to; ++i)
            out << i;
        return out;
    }
    // Chunks are in recording order and their timestamps mostly rise, but
    // partitions interleave, so test each chunk's bounds (a few dozen bytes
    // per chunk, a few thousand chunks per 10 M events).
    for (int i = 0; i < n; ++i) {
        const ChunkInfo &c = tape.chunkInfo(i);
        if (range.overlaps(c.minTimestampUs, c.maxTimestampUs))
            out << i;
    }
    return out;
}

QVector<quint32> selectEvents(const Tape &tape, const EventSelection &sel, const TimelineMarks::Cancelled &cancelled,
                              QString *error)
{
    QVector<quint32> rows;
    if (sel.isEmpty())
        return rows;
    const QVector<int> chunks = chunksOverlapping(tape, sel.axis, sel.range);
    for (int index : chunks) {
        if (cancelled && cancelled())
            return {};
        const ChunkInfo &info = tape.chunkInfo(index);
        const bool whole = sel.streams.isEmpty()
            && (sel.axis == AxisKind::Position
                    ? info.firstSeq >= sel.range.from && info.firstSeq + info.count <= sel.range.to
                    : info.minTimestampUs >= sel.range.from && info.maxTimestampUs < sel.range.to);
        if (whole) { // no need to decode it
            for (qint64 s = info.firstSeq; s < info.firstSeq + info.count; ++s)
                rows << quint32(s);
            continue;
        }
        const auto chunk = tape.chunk(index, error);
        if (!chunk)
            return {};
        for (int i = 0; i < chunk->count(); ++i) {
            const qint64 seq = info.firstSeq + i;
            if (sel.contains(chunk->streamId(i), seq, chunk->timestampUs(i)))
                rows << quint32(seq);
        }
    }
    return rows;
}

QVector<quint32> intersect(const QVector<quint32> &a, const QVector<quint32> &b)
{
    QVector<quint32> out;
    out.reserve(std::min(a.size(), b.size()));
    std::set_intersection(a.cbegin(), a.cend(), b.cbegin(), b.cend(), std::back_inserter(out));
    return out;
}

} // namespace timelinescan

TimelineMarks TimelineMarks::collect(const Tape &tape, AxisKind axis, AxisRange range, qsizetype maxMarks,
                                     const Cancelled &cancelled)
{
    TimelineMarks out;
    out.axis = axis;
    out.range = range;
    out.tapeEvents = tape.eventCount();
    const QVector<int> chunks = timelinescan::chunksOverlapping(tape, axis, range);
    struct Open
    {
        qint64 from = 0;
        bool openStart = false;
        bool active = false;
        bool aborted = false;
    };
    QVector<Open> open(tape.streams().size());
    QVector<TimelineMark> marks;
    for (int index : chunks) {
        if (cancelled && cancelled())
            return out;
        QString error;
        const auto chunk = tape.chunk(index, &error);
        if (!chunk) {
            out.error = error;
            return out;
        }
        const qint64 firstSeq = tape.chunkInfo(index).firstSeq;
        for (int i = 0; i < chunk->count(); ++i) {
            const qint64 seq = firstSeq + i;
            const qint64 at = axis == AxisKind::Time ? chunk->timestampUs(i) : seq;
            if (!range.contains(at) || (axis == AxisKind::Time && at < 0))
                continue;
            if (marks.size() >= maxMarks)
                return out; // too dense for marks: the caller keeps drawing density
            TimelineMark m;
            m.at = at;
            m.seq = seq;
            m.stream = chunk->streamId(i);
            m.hasKey = chunk->hasKey(i);
            m.keyHash = m.hasKey ? timelinescan::keyHash(chunk->key(i)) : 0;
            m.valueSize = chunk->hasValue(i) ? chunk->valueSize(i) : -1;
            m.operation = quint8(chunk->operation(i));
            m.flags = chunk->flags(i);
            marks << m;
        }
    }
    std::sort(marks.begin(), marks.end(), [](const TimelineMark &a, const TimelineMark &b) {
        return a.stream != b.stream ? a.stream < b.stream : (a.at != b.at ? a.at < b.at : a.seq < b.seq);
    });
    const qsizetype streams = tape.streams().size();
    out.streamBegin.fill(0, streams + 1);
    for (const TimelineMark &m : marks)
        ++out.streamBegin[qsizetype(m.stream) + 1];
    for (qsizetype s = 1; s <= streams; ++s)
        out.streamBegin[s] += out.streamBegin[s - 1];

    // Transactions, per lane in axis order.
    for (const TimelineMark &m : marks) {
        Open &o = open[qsizetype(m.stream)];
        const auto op = Operation(m.operation);
        const bool aborted = m.flags & Aborted;
        if (op == Operation::Begin) {
            o = {m.at, false, true, false};
        } else if (op == Operation::Commit) {
            out.brackets << TimelineBracket{m.stream, o.active ? o.from : range.from, m.at, false, !o.active, false};
            o.active = false;
        } else if (m.flags & ControlRecord) {
            out.brackets << TimelineBracket{m.stream, o.active ? o.from : range.from, m.at, aborted || (o.active && o.aborted),
                                            !o.active, false};
            o.active = false;
        } else if (m.flags & Transactional) {
            if (!o.active)
                o = {m.at, false, true, false};
            o.aborted = o.aborted || aborted;
        }
    }
    for (qsizetype s = 0; s < open.size(); ++s) {
        if (open[s].active)
            out.brackets << TimelineBracket{quint32(s), open[s].from, range.to, open[s].aborted, open[s].openStart, true};
    }
    out.marks = std::move(marks);
    out.complete = true;
    return out;
}

} // namespace tapedeck
