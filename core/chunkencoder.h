#pragma once

#include "event.h"

#include <QByteArray>
#include <QHash>

namespace tapedeck {

// Accumulates events column by column and produces a chunk's raw payload and
// its summary (tapeformat.md, "Chunk block"). Reused after take().
class ChunkEncoder
{
public:
    ChunkEncoder();
    void add(quint32 streamId, const Event &event);
    int count() const { return m_count; }
    qsizetype rawBytes() const;
    // Returns the raw payload and fills `summary`, then resets for the next chunk.
    QByteArray take(qint64 firstSeq, QByteArray *summary, qint64 *minTsUs, qint64 *maxTsUs);

    // Section order inside a chunk payload; never reorder (it is the format).
    enum Section {
        StreamIds, Positions, Timestamps, TsTypes, Operations, Flags, Presence, Brokers, Epochs,
        KeyLengths, ValueLengths, HeaderCounts, ExtLengths, HeaderBytes, ExtBytes, Keys, Values,
        SectionCount
    };
    enum PresenceBit : quint8 { KeyPresent = 1, ValuePresent = 2, ExtPresent = 4 };

    static QByteArray encodeExtension(const Event &event); // empty when the event has none
    static bool decodeExtension(QByteArrayView bytes, Event *event);

private:
    struct StreamSummary
    {
        qint64 count = 0, minPos = 0, maxPos = 0, minTs = 0, maxTs = 0;
    };
    void reset();

    int m_count = 0;
    QByteArray m_sections[SectionCount];
    qint64 m_lastPosition = 0;
    qint64 m_lastTimestamp = 0;
    qint64 m_minTs = 0, m_maxTs = 0;
    QHash<quint32, StreamSummary> m_streams;
    QList<quint32> m_streamOrder;
};

} // namespace tapedeck
