#include "chunkencoder.h"

#include "tapeformat.h"
#include "varint.h"

#include <QCborArray>
#include <QCborMap>
#include <QCborValue>

namespace tapedeck {

using varint::put;
using varint::putSigned;

ChunkEncoder::ChunkEncoder()
{
    reset();
}

void ChunkEncoder::reset()
{
    m_count = 0;
    // Keep the capacity: the next chunk needs about as much (no malloc churn).
    for (auto &s : m_sections)
        s.clear();
    m_lastPosition = 0;
    m_lastTimestamp = 0;
    for (quint32 id : std::as_const(m_streamOrder))
        m_streams[id].present = false;
    m_streamOrder.clear();
}

qsizetype ChunkEncoder::rawBytes() const
{
    // Called for every appended event: the byte sections plus a bound for the
    // small per-event columns is close enough for deciding when to seal.
    return m_sections[Keys].size() + m_sections[Values].size() + m_sections[HeaderBytes].size()
        + m_sections[ExtBytes].size() + qsizetype(m_count) * 24;
}

void ChunkEncoder::add(quint32 streamId, const Event &e)
{
    addCommon(streamId, e.position, e.timestampUs, e.timestampType, e.operation, e.flags, e.broker, e.leaderEpoch,
              e.key ? std::optional<QByteArrayView>(*e.key) : std::nullopt,
              e.value ? std::optional<QByteArrayView>(*e.value) : std::nullopt, encodeExtension(e));
    put(m_sections[HeaderCounts], quint64(e.headers.size()));
    for (const Header &h : e.headers) {
        put(m_sections[HeaderBytes], quint64(h.name.size()));
        m_sections[HeaderBytes].append(h.name);
        put(m_sections[HeaderBytes], h.value ? quint64(h.value->size()) + 1 : 0);
        if (h.value)
            m_sections[HeaderBytes].append(*h.value);
    }
}

void ChunkEncoder::add(quint32 streamId, const RecordView &r)
{
    addCommon(streamId, r.position, r.timestampUs, r.timestampType, Operation::Record, r.flags, r.broker,
              r.leaderEpoch, r.key, r.value, QByteArray());
    put(m_sections[HeaderCounts], quint64(r.headerCount));
    for (int i = 0; i < r.headerCount; ++i) {
        const HeaderView &h = r.headers[i];
        put(m_sections[HeaderBytes], quint64(h.name.size()));
        m_sections[HeaderBytes].append(h.name);
        put(m_sections[HeaderBytes], h.value ? quint64(h.value->size()) + 1 : 0);
        if (h.value)
            m_sections[HeaderBytes].append(*h.value);
    }
}

void ChunkEncoder::addCommon(quint32 streamId, qint64 position, qint64 timestampUs, TimestampType tsType,
                             Operation op, quint8 flags, qint32 broker, qint32 leaderEpoch,
                             std::optional<QByteArrayView> key, std::optional<QByteArrayView> value,
                             const QByteArray &ext)
{
    put(m_sections[StreamIds], streamId);
    putSigned(m_sections[Positions], position - m_lastPosition);
    putSigned(m_sections[Timestamps], timestampUs - m_lastTimestamp);
    m_lastPosition = position;
    m_lastTimestamp = timestampUs;
    m_sections[TsTypes].append(char(tsType));
    m_sections[Operations].append(char(op));
    m_sections[Flags].append(char(flags));
    quint8 presence = 0;
    if (key)
        presence |= KeyPresent;
    if (value)
        presence |= ValuePresent;
    if (!ext.isEmpty())
        presence |= ExtPresent;
    m_sections[Presence].append(char(presence));
    putSigned(m_sections[Brokers], broker);
    putSigned(m_sections[Epochs], leaderEpoch);
    if (key) {
        put(m_sections[KeyLengths], quint64(key->size()));
        m_sections[Keys].append(*key);
    }
    if (value) {
        put(m_sections[ValueLengths], quint64(value->size()));
        m_sections[Values].append(*value);
    }
    if (!ext.isEmpty()) {
        put(m_sections[ExtLengths], quint64(ext.size()));
        m_sections[ExtBytes].append(ext);
    }

    if (m_count == 0) {
        m_minTs = m_maxTs = timestampUs;
    } else {
        m_minTs = std::min(m_minTs, timestampUs);
        m_maxTs = std::max(m_maxTs, timestampUs);
    }
    if (streamId >= m_streams.size())
        m_streams.resize(size_t(streamId) + 1);
    StreamSlot &slot = m_streams[streamId];
    if (!slot.present) {
        slot.present = true;
        slot.summary = {1, position, position, timestampUs, timestampUs};
        m_streamOrder.append(streamId);
    } else {
        StreamSummary &it = slot.summary;
        ++it.count;
        it.minPos = std::min(it.minPos, position);
        it.maxPos = std::max(it.maxPos, position);
        it.minTs = std::min(it.minTs, timestampUs);
        it.maxTs = std::max(it.maxTs, timestampUs);
    }
    ++m_count;
}

QByteArray ChunkEncoder::take(qint64 firstSeq, QByteArray *summary, qint64 *minTsUs, qint64 *maxTsUs)
{
    QByteArray raw;
    qsizetype total = 4 + 4 * SectionCount;
    for (const auto &section : m_sections)
        total += section.size();
    raw.reserve(total);
    char buf[4];
    format::putU32(buf, quint32(m_count));
    raw.append(buf, 4);
    for (const auto &s : m_sections) {
        format::putU32(buf, quint32(s.size()));
        raw.append(buf, 4);
    }
    for (const auto &s : m_sections)
        raw.append(s.data(), s.size());

    summary->clear();
    put(*summary, quint64(firstSeq));
    put(*summary, quint64(m_count));
    putSigned(*summary, m_minTs);
    putSigned(*summary, m_maxTs);
    put(*summary, quint64(m_streamOrder.size()));
    for (quint32 id : std::as_const(m_streamOrder)) {
        const StreamSummary &s = m_streams[id].summary;
        put(*summary, id);
        put(*summary, quint64(s.count));
        putSigned(*summary, s.minPos);
        putSigned(*summary, s.maxPos);
        putSigned(*summary, s.minTs);
        putSigned(*summary, s.maxTs);
    }
    *minTsUs = m_minTs;
    *maxTsUs = m_maxTs;
    reset();
    return raw;
}

namespace {

QCborValue bytesOrNull(const std::optional<QByteArray> &v)
{
    return v ? QCborValue(*v) : QCborValue(QCborValue::Null);
}

QCborArray encodeRow(const Row &row)
{
    QCborArray out;
    for (const Column &c : row)
        out.append(QCborArray{c.name, c.type, bytesOrNull(c.value), c.unchangedToast});
    return out;
}

bool decodeRow(const QCborValue &v, Row *row)
{
    if (!v.isArray())
        return false;
    for (const QCborValue &c : v.toArray()) {
        const QCborArray a = c.toArray();
        if (a.size() != 4 || !a[0].isString())
            return false;
        Column col;
        col.name = a[0].toString();
        col.type = a[1].toString();
        if (a[2].isByteArray())
            col.value = a[2].toByteArray();
        col.unchangedToast = a[3].toBool();
        row->append(col);
    }
    return true;
}

} // namespace

// Change-event fields are rare next to Kafka records and have nested rows, so
// they are stored per event as a small CBOR map instead of in columns.
QByteArray ChunkEncoder::encodeExtension(const Event &e)
{
    if (e.transactionId < 0 && e.commitLsn < 0 && e.commitTimeUs < 0 && e.oldRow.isEmpty()
        && e.newRow.isEmpty() && e.primaryKey.isEmpty())
        return {};
    QCborMap m;
    if (e.transactionId >= 0)
        m.insert(QStringLiteral("x"), e.transactionId);
    if (e.commitLsn >= 0)
        m.insert(QStringLiteral("l"), e.commitLsn);
    if (e.commitTimeUs >= 0)
        m.insert(QStringLiteral("t"), e.commitTimeUs);
    if (!e.oldRow.isEmpty())
        m.insert(QStringLiteral("o"), encodeRow(e.oldRow));
    if (!e.newRow.isEmpty())
        m.insert(QStringLiteral("n"), encodeRow(e.newRow));
    if (!e.primaryKey.isEmpty())
        m.insert(QStringLiteral("k"), QCborArray::fromStringList(e.primaryKey));
    return m.toCborValue().toCbor();
}

bool ChunkEncoder::decodeExtension(QByteArrayView bytes, Event *e)
{
    QCborParserError error;
    const QCborValue v = QCborValue::fromCbor(bytes.toByteArray(), &error);
    if (error.error != QCborError::NoError || !v.isMap())
        return false;
    const QCborMap m = v.toMap();
    e->transactionId = m.value(QStringLiteral("x")).toInteger(-1);
    e->commitLsn = m.value(QStringLiteral("l")).toInteger(-1);
    e->commitTimeUs = m.value(QStringLiteral("t")).toInteger(-1);
    if (m.contains(QStringLiteral("o")) && !decodeRow(m.value(QStringLiteral("o")), &e->oldRow))
        return false;
    if (m.contains(QStringLiteral("n")) && !decodeRow(m.value(QStringLiteral("n")), &e->newRow))
        return false;
    for (const QCborValue &k : m.value(QStringLiteral("k")).toArray())
        e->primaryKey.append(k.toString());
    return true;
}

} // namespace tapedeck
