#pragma once

#include "core/event/event.h"
#include "core/base/varint.h"

#include <QByteArray>
#include <vector>

namespace tapedeck {

// A record as a source delivers it, without copies: what a connector hands to
// TapeWriter::appendRecord() on its hot path (Kafka records, no change fields).
struct HeaderView
{
    QByteArrayView name;
    std::optional<QByteArrayView> value;
};
struct RecordView
{
    qint64 position = -1;
    qint64 timestampUs = -1;
    TimestampType timestampType = TimestampType::NotAvailable;
    quint8 flags = NoFlags;
    qint32 broker = -1;
    qint32 leaderEpoch = -1;
    std::optional<QByteArrayView> key;
    std::optional<QByteArrayView> value;
    const HeaderView *headers = nullptr;
    int headerCount = 0;
};

// Accumulates events column by column and produces a chunk's raw payload and
// its summary (tapeformat.md, "Chunk block"). Reused after take().
class ChunkEncoder
{
public:
    ChunkEncoder();
    void add(quint32 streamId, const Event &event);
    void add(quint32 streamId, const RecordView &record);
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
    // One column of a change event's new row, read in place (a view into the
    // extension bytes; no copies, no QString).
    struct CellView
    {
        enum State : quint8 { Absent, Null, Value, UnchangedToast };
        State state = Absent;
        QByteArrayView value;
    };
    // All of a change event's rows and key names, read in place (views into
    // `bytes`; the vectors keep their capacity between calls). False when the
    // bytes are not what encodeExtension() writes (decode them with
    // decodeExtension() then).
    struct ChangeCell
    {
        QByteArrayView name, type, value;
        CellView::State state = CellView::Absent;
    };
    struct ChangeCells
    {
        qint64 transactionId = -1, commitLsn = -1, commitTimeUs = -1;
        std::vector<ChangeCell> oldRow, newRow;
        std::vector<QByteArrayView> primaryKey;
    };
    static bool changeCells(QByteArrayView bytes, ChangeCells *out);

private:
    struct StreamSummary
    {
        qint64 count = 0, minPos = 0, maxPos = 0, minTs = 0, maxTs = 0;
    };
    void reset();
    void addCommon(quint32 streamId, qint64 position, qint64 timestampUs, TimestampType tsType, Operation op,
                   quint8 flags, qint32 broker, qint32 leaderEpoch, std::optional<QByteArrayView> key,
                   std::optional<QByteArrayView> value, const QByteArray &ext);

    int m_count = 0;
    ByteBuffer m_sections[SectionCount];
    qint64 m_lastPosition = 0;
    qint64 m_lastTimestamp = 0;
    qint64 m_minTs = 0, m_maxTs = 0;
    struct StreamSlot
    {
        bool present = false;
        StreamSummary summary;
    };
    std::vector<StreamSlot> m_streams; // by stream id
    QList<quint32> m_streamOrder;
};

} // namespace tapedeck
