#pragma once

#include "core/compaction/compactionconfig.h"
#include "core/event/eventselection.h"
#include "core/event/stream.h"

#include <QByteArrayView>
#include <QHash>
#include <QList>
#include <QVector>

#include <memory>
#include <optional>
#include <vector>

namespace tapedeck {

class Tape;

// One Kafka partition (or one Postgres table) as the log cleaner sees it:
// compact columns, one entry per record in log order, about 26 bytes a
// record. Keys are not kept: each distinct key gets a dense id through a
// 96-bit hash of its bytes (compaction.md, "Keys"). Immutable once built;
// shared between simulations through shared_ptr<const CompactionLog>.
struct CompactionLog
{
    enum Flag : quint8 {
        HasKey = 1,
        HasValue = 2,        // false: a tombstone (or a Postgres delete)
        Aborted = 4,         // data of an aborted transaction
        Transactional = 8,
        Control = 16,        // a transaction marker
        AbortMarker = 32,    // with Control: an ABORT marker, else COMMIT
        BatchStart = 64,     // first record of an (estimated) record batch
        NotRowChange = 128,  // Postgres BEGIN/COMMIT/TRUNCATE/MESSAGE: no row, never compacted in
    };
    static constexpr quint32 NoKey = 0xffffffffu;

    StreamKey stream;
    quint32 streamId = 0;
    QVector<qint64> offsets;      // Kafka offset or Postgres LSN, ascending
    QVector<qint64> timestampsMs; // record timestamp, -1 when unknown
    QVector<quint32> keyIds;      // dense key id, NoKey for a null key
    QVector<quint32> bytes;       // estimated v2 record bytes, without the batch header
    QVector<quint8> flags;
    quint32 keyCount = 0;

    // Transactions, sparse (only transactional records and markers): record
    // index -> transaction number, ascending by record; per transaction the
    // record index of its marker or -1.
    QVector<QPair<int, int>> txnRecords;
    QVector<int> txnMarkers;

    // What the broker knows and a client does not; fill in when known.
    QVector<qint64> segmentBaseOffsets; // empty: estimated from the configs
    qint64 lastStableOffset = -1;       // -1: the log end (a read_committed recording)
    bool outOfOrder = false;            // offsets were not ascending: the model is unreliable

    int count() const { return int(offsets.size()); }
    qint64 logEndOffset() const { return offsets.isEmpty() ? 0 : offsets.constLast() + 1; }
    bool isTombstone(int i) const { return (flags[i] & (HasValue | Control)) == 0; }
};

// Kafka v2 record size: varint length, attributes, varint deltas, key, value, headers.
qint64 kafkaRecordBytes(qint64 offsetDelta, qint64 timestampDelta, qint64 keySize, qint64 valueSize, qint64 headerBytes);
qint64 kafkaHeaderBytes(QByteArrayView name, qint64 valueSize); // valueSize -1: null value
constexpr qint64 KafkaBatchOverhead = 61;

// Builds CompactionLogs one record at a time (records of a stream must come
// in log order). Used by fromTape() and by tests with hand-built events.
class CompactionLogBuilder
{
public:
    explicit CompactionLogBuilder(const CompactionConfig &config = {});
    ~CompactionLogBuilder();

    struct Record
    {
        qint64 offset = 0;
        qint64 timestampMs = -1;
        std::optional<QByteArrayView> key;
        qint64 valueSize = -1;   // -1: null value (tombstone)
        qint64 headerBytes = 1;  // kafkaHeaderBytes() sum plus the count varint; 1 for none
        quint8 eventFlags = 0;   // EventFlag bits
        Operation operation = Operation::Record;
        qint64 producerId = -1;  // pairs markers with their data; -1: one producer
    };
    void add(quint32 streamId, const StreamKey &stream, const Record &record);
    void add(quint32 streamId, const Event &event); // convenience for tests
    // The logs in order of first appearance; the builder is empty afterwards.
    QList<std::shared_ptr<const CompactionLog>> take();

    // Reads every chunk of the tape. nullptr-free list, or false with *error.
    static bool fromTape(const Tape &tape, const CompactionConfig &config, QList<std::shared_ptr<const CompactionLog>> *out,
                         QString *error);
    // Only the events of `selection` (all when it is empty); streams without
    // any are left out. With `sequences`, per log (same order as *out) the
    // tape sequence number of each of its records, for views that map records
    // back to events.
    static bool fromTape(const Tape &tape, const CompactionConfig &config, const EventSelection &selection,
                         QList<std::shared_ptr<const CompactionLog>> *out, QList<QVector<qint64>> *sequences, QString *error);

private:
    struct Partition;
    Partition &partition(quint32 streamId, const StreamKey &stream);
    CompactionConfig m_config;
    QHash<quint32, int> m_index;
    std::vector<std::unique_ptr<Partition>> m_partitions;
};

} // namespace tapedeck
