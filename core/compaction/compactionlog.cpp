#include "core/compaction/compactionlog.h"

#include "core/tape/tape.h"

#include <algorithm>

namespace tapedeck {

namespace {

qint64 varintBytes(qint64 signedValue)
{
    quint64 v = (quint64(signedValue) << 1) ^ quint64(signedValue >> 63); // zigzag, as Kafka's ByteUtils
    qint64 n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

qint64 varintBytesForCount(qint64 n)
{
    return varintBytes(n);
}

// Distinct keys of one partition: open addressing on a 96-bit hash. Only
// needed while building; the log keeps the dense ids.
class KeyTable
{
public:
    quint32 idFor(QByteArrayView key)
    {
        const quint64 a = qHashBits(key.data(), size_t(key.size()), 0x9e3779b97f4a7c15ull);
        const quint32 b = quint32(qHashBits(key.data(), size_t(key.size()), 0x2545f4914f6cdd1dull)) | 1u; // 0: empty slot
        if ((m_count + 1) * 10 > qint64(m_slots.size()) * 7)
            grow();
        const size_t mask = m_slots.size() - 1;
        for (size_t i = size_t(a) & mask;; i = (i + 1) & mask) {
            Slot &s = m_slots[i];
            if (s.b == 0) {
                s = {a, b, quint32(m_count++)};
                return s.id;
            }
            if (s.a == a && s.b == b)
                return s.id;
        }
    }
    quint32 count() const { return quint32(m_count); }

private:
    struct Slot
    {
        quint64 a = 0;
        quint32 b = 0;
        quint32 id = 0;
    };
    void grow()
    {
        std::vector<Slot> old;
        old.swap(m_slots);
        m_slots.resize(std::max<size_t>(1024, old.size() * 2));
        const size_t mask = m_slots.size() - 1;
        for (const Slot &s : old) {
            if (s.b == 0)
                continue;
            size_t i = size_t(s.a) & mask;
            while (m_slots[i].b != 0)
                i = (i + 1) & mask;
            m_slots[i] = s;
        }
    }
    std::vector<Slot> m_slots;
    qint64 m_count = 0;
};

} // namespace

qint64 kafkaRecordBytes(qint64 offsetDelta, qint64 timestampDelta, qint64 keySize, qint64 valueSize, qint64 headerBytes)
{
    const qint64 body = 1 + varintBytes(timestampDelta) + varintBytes(offsetDelta) + varintBytes(keySize) + std::max<qint64>(0, keySize)
        + varintBytes(valueSize) + std::max<qint64>(0, valueSize) + headerBytes;
    return varintBytes(body) + body;
}

qint64 kafkaHeaderBytes(QByteArrayView name, qint64 valueSize)
{
    return varintBytes(name.size()) + name.size() + varintBytes(valueSize) + std::max<qint64>(0, valueSize);
}

struct CompactionLogBuilder::Partition
{
    CompactionLog log;
    KeyTable keys;
    // The open (estimated) batch.
    qint64 batchBaseOffset = 0;
    qint64 batchBaseTimestamp = 0;
    qint64 batchBytes = 0;
    quint8 batchKind = 0xff; // Transactional|Aborted|Control bits of its records
    qint64 lastOffset = std::numeric_limits<qint64>::min();
    QHash<qint64, int> openTxn; // producer -> transaction number
};

CompactionLogBuilder::CompactionLogBuilder(const CompactionConfig &config) : m_config(config) {}
CompactionLogBuilder::~CompactionLogBuilder() = default;

CompactionLogBuilder::Partition &CompactionLogBuilder::partition(quint32 streamId, const StreamKey &stream)
{
    auto it = m_index.constFind(streamId);
    if (it != m_index.constEnd())
        return *m_partitions[size_t(*it)];
    m_index.insert(streamId, int(m_partitions.size()));
    m_partitions.push_back(std::make_unique<Partition>());
    Partition &p = *m_partitions.back();
    p.log.stream = stream;
    p.log.streamId = streamId;
    return p;
}

void CompactionLogBuilder::add(quint32 streamId, const StreamKey &stream, const Record &r)
{
    Partition &p = partition(streamId, stream);
    CompactionLog &log = p.log;
    const int index = log.count();
    quint8 f = 0;
    if (r.key)
        f |= CompactionLog::HasKey;
    if (r.valueSize >= 0)
        f |= CompactionLog::HasValue;
    if (r.eventFlags & tapedeck::Aborted)
        f |= CompactionLog::Aborted;
    if (r.eventFlags & tapedeck::Transactional)
        f |= CompactionLog::Transactional;
    if (r.eventFlags & tapedeck::ControlRecord) {
        f |= CompactionLog::Control;
        // The marker's key is the ControlRecordType: version int16, type int16 (0 = ABORT).
        const bool abortKey = r.key && r.key->size() == 4 && r.key->at(2) == 0 && r.key->at(3) == 0;
        if ((r.eventFlags & tapedeck::Aborted) || abortKey)
            f |= CompactionLog::AbortMarker;
    }
    switch (r.operation) {
    case Operation::Record: case Operation::Insert: case Operation::Update: case Operation::Delete: case Operation::Read:
        break;
    default:
        f |= CompactionLog::NotRowChange;
    }
    if (r.offset <= p.lastOffset)
        log.outOfOrder = true;
    p.lastOffset = r.offset;

    // Batch estimate: a producer batch collects records for linger.ms up to
    // batch.size; transaction markers are batches of their own, and a batch
    // never mixes transactional, aborted and plain records.
    const quint8 kind = f & (CompactionLog::Transactional | CompactionLog::Aborted | CompactionLog::Control);
    const qint64 keySize = r.key ? r.key->size() : -1;
    qint64 size = kafkaRecordBytes(r.offset - p.batchBaseOffset, r.timestampMs - p.batchBaseTimestamp, keySize, r.valueSize, r.headerBytes);
    const bool newBatch = index == 0 || kind != p.batchKind || (kind & CompactionLog::Control)
        || r.timestampMs - p.batchBaseTimestamp > m_config.producerLingerMs || r.timestampMs < p.batchBaseTimestamp
        || p.batchBytes + size > m_config.producerBatchBytes;
    if (newBatch) {
        f |= CompactionLog::BatchStart;
        p.batchBaseOffset = r.offset;
        p.batchBaseTimestamp = r.timestampMs;
        p.batchBytes = KafkaBatchOverhead;
        p.batchKind = kind;
        size = kafkaRecordBytes(0, 0, keySize, r.valueSize, r.headerBytes);
    }
    p.batchBytes += size;

    log.offsets.append(r.offset);
    log.timestampsMs.append(r.timestampMs);
    log.keyIds.append(r.key && !(f & CompactionLog::Control) ? p.keys.idFor(*r.key) : CompactionLog::NoKey);
    log.bytes.append(quint32(std::min<qint64>(size, 0xffffffffll)));
    log.flags.append(f);

    if (f & (CompactionLog::Transactional | CompactionLog::Control)) {
        auto open = p.openTxn.find(r.producerId);
        int txn;
        if (open == p.openTxn.end() || *open < 0) {
            txn = int(log.txnMarkers.size());
            log.txnMarkers.append(-1);
            p.openTxn.insert(r.producerId, txn);
        } else {
            txn = *open;
        }
        log.txnRecords.append({index, txn});
        if (f & CompactionLog::Control) {
            log.txnMarkers[txn] = index;
            p.openTxn.insert(r.producerId, -1);
        }
    }
}

void CompactionLogBuilder::add(quint32 streamId, const Event &e)
{
    Record r;
    r.offset = e.position;
    r.timestampMs = e.timestampUs < 0 ? -1 : e.timestampUs / 1000;
    if (e.key)
        r.key = QByteArrayView(*e.key);
    r.valueSize = e.value ? e.value->size() : -1;
    r.headerBytes = varintBytesForCount(e.headers.size());
    for (const Header &h : e.headers)
        r.headerBytes += kafkaHeaderBytes(h.name, h.value ? h.value->size() : -1);
    r.eventFlags = e.flags;
    r.operation = e.operation;
    r.producerId = e.transactionId;
    add(streamId, StreamKey{e.kind, e.cluster, e.topic, e.partition}, r);
}

QList<std::shared_ptr<const CompactionLog>> CompactionLogBuilder::take()
{
    QList<std::shared_ptr<const CompactionLog>> out;
    for (auto &p : m_partitions) {
        p->log.keyCount = p->keys.count();
        out.append(std::make_shared<const CompactionLog>(std::move(p->log)));
    }
    m_partitions.clear();
    m_index.clear();
    return out;
}

bool CompactionLogBuilder::fromTape(const Tape &tape, const CompactionConfig &config,
                                    QList<std::shared_ptr<const CompactionLog>> *out, QString *error)
{
    return fromTape(tape, config, EventSelection{}, out, nullptr, error);
}

bool CompactionLogBuilder::fromTape(const Tape &tape, const CompactionConfig &config, const EventSelection &selection,
                                    QList<std::shared_ptr<const CompactionLog>> *out, QList<QVector<qint64>> *sequences,
                                    QString *error)
{
    CompactionLogBuilder builder(config);
    const bool all = selection.isEmpty();
    QHash<quint32, QVector<qint64>> seqs;
    for (const StreamStats &s : tape.streams()) {
        if (!all)
            continue; // sizes unknown up front; streams appear as their events do
        if (sequences)
            seqs[s.id].reserve(s.count);
        // Exact sizes up front: no growth slack in 10 M-record columns.
        CompactionLog &log = builder.partition(s.id, s.key).log;
        log.offsets.reserve(s.count);
        log.timestampsMs.reserve(s.count);
        log.keyIds.reserve(s.count);
        log.bytes.reserve(s.count);
        log.flags.reserve(s.count);
    }
    Event event;
    for (int c = 0; c < tape.chunkCount(); ++c) {
        const auto chunk = tape.chunk(c, error);
        if (!chunk)
            return false;
        const qint64 firstSeq = tape.chunkInfo(c).firstSeq;
        for (int i = 0; i < chunk->count(); ++i) {
            if (!all && !selection.contains(chunk->streamId(i), firstSeq + i, chunk->timestampUs(i)))
                continue;
            Record r;
            r.offset = chunk->position(i);
            const qint64 us = chunk->timestampUs(i);
            r.timestampMs = us < 0 ? -1 : us / 1000;
            if (chunk->hasKey(i))
                r.key = chunk->key(i);
            r.valueSize = chunk->hasValue(i) ? chunk->valueSize(i) : -1;
            const int headerCount = chunk->headerCount(i);
            r.headerBytes = varintBytesForCount(headerCount);
            if (headerCount > 0) {
                for (const Header &h : chunk->headers(i))
                    r.headerBytes += kafkaHeaderBytes(h.name, h.value ? h.value->size() : -1);
            }
            r.eventFlags = chunk->flags(i);
            r.operation = chunk->operation(i);
            if (r.eventFlags & (tapedeck::Transactional | tapedeck::ControlRecord)) {
                chunk->fill(i, &event); // rare: the producer id lives with the change-event fields
                r.producerId = event.transactionId;
            }
            const quint32 sid = chunk->streamId(i);
            builder.add(sid, tape.streamKey(sid), r);
            if (sequences)
                seqs[sid].append(firstSeq + i);
        }
    }
    *out = builder.take();
    if (!all)
        out->removeIf([](const std::shared_ptr<const CompactionLog> &log) { return log->count() == 0; });
    if (sequences) {
        sequences->clear();
        for (const auto &log : std::as_const(*out))
            sequences->append(seqs.take(log->streamId));
    }
    return true;
}

} // namespace tapedeck
