#include "core/tape/chunk.h"

#include "core/tape/chunkencoder.h"
#include "core/tape/tapeformat.h"
#include "core/base/varint.h"

namespace tapedeck {

namespace {
using Enc = ChunkEncoder;

// The next of a section's length-prefixed byte runs (keys, values,
// change-event bytes), or `absent` when the event has none; false when it
// runs past the section's end. Inline in the event loop of decode().
inline bool takeRun(bool present, varint::Reader &lengths, qint64 &pos, qsizetype end, qint32 absent, qint32 *offset, qint32 *size)
{
    if (!present) {
        *offset = absent;
        *size = 0;
        return true;
    }
    const quint64 len = lengths.get();
    if (len > quint64(end - pos))
        return false;
    *offset = qint32(pos);
    *size = qint32(len);
    pos += qint64(len);
    return true;
}

// Steps over one event's headers (name length, name, value length + 1 or 0
// for null, value); the reader's ok() says whether they were there.
inline void skipHeaders(varint::Reader &headerBytes, quint64 count)
{
    for (quint64 h = 0; h < count; ++h) {
        headerBytes.take(qint64(headerBytes.get()));
        const quint64 vl = headerBytes.get();
        if (vl)
            headerBytes.take(qint64(vl - 1));
    }
}
} // namespace

bool Chunk::decode(QByteArray raw, QString *error)
{
    auto fail = [error](const QString &what) {
        if (error)
            *error = what;
        return false;
    };
    m_raw = std::move(raw);
    const char *base = m_raw.constData();
    const qsizetype headerSize = 4 + 4 * Enc::SectionCount;
    if (m_raw.size() < headerSize)
        return fail(QStringLiteral("chunk payload too short"));
    const quint32 count = format::getU32(base);
    if (count > quint32(m_raw.size()))
        return fail(QStringLiteral("chunk claims %1 events in %2 bytes").arg(count).arg(m_raw.size()));
    qsizetype offsets[Enc::SectionCount + 1];
    offsets[0] = headerSize;
    for (int s = 0; s < Enc::SectionCount; ++s) {
        const quint32 len = format::getU32(base + 4 + 4 * s);
        offsets[s + 1] = offsets[s] + len;
        if (offsets[s + 1] > m_raw.size())
            return fail(QStringLiteral("chunk section %1 runs past the payload").arg(s));
    }
    auto bytes = [&](int s) { return offsets[s + 1] - offsets[s]; };
    const int n = int(count);
    if (bytes(Enc::TsTypes) != n || bytes(Enc::Operations) != n || bytes(Enc::Flags) != n || bytes(Enc::Presence) != n)
        return fail(QStringLiteral("chunk byte columns do not match its event count"));
    resizeColumns(n);
    return decodeEvents(offsets, error);
}

void Chunk::resizeColumns(int n)
{
    m_count = n;
    m_streamId.resize(n);
    m_position.resize(n);
    m_timestampUs.resize(n);
    m_tsType.resize(n);
    m_operation.resize(n);
    m_flags.resize(n);
    m_broker.resize(n);
    m_leaderEpoch.resize(n);
    m_keyOffset.resize(n);
    m_keySize.resize(n);
    m_valueOffset.resize(n);
    m_valueSize.resize(n);
    m_headersOffset.resize(n);
    m_headerCount.resize(n);
    m_extOffset.resize(n);
    m_extSize.resize(n);
}

bool Chunk::decodeEvents(const qsizetype *offsets, QString *error)
{
    auto fail = [error](const QString &what) {
        if (error)
            *error = what;
        return false;
    };
    const char *base = m_raw.constData();
    const int n = m_count;
    auto section = [&](int s) { return varint::Reader(base + offsets[s], base + offsets[s + 1]); };
    auto streams = section(Enc::StreamIds), positions = section(Enc::Positions),
         timestamps = section(Enc::Timestamps), brokers = section(Enc::Brokers), epochs = section(Enc::Epochs),
         keyLengths = section(Enc::KeyLengths), valueLengths = section(Enc::ValueLengths),
         headerCounts = section(Enc::HeaderCounts), extLengths = section(Enc::ExtLengths),
         headerBytes = section(Enc::HeaderBytes);
    const char *tsTypes = base + offsets[Enc::TsTypes];
    const char *ops = base + offsets[Enc::Operations];
    const char *flags = base + offsets[Enc::Flags];
    const char *presence = base + offsets[Enc::Presence];
    qint64 keyPos = offsets[Enc::Keys], valuePos = offsets[Enc::Values], extPos = offsets[Enc::ExtBytes];
    qint64 position = 0, timestamp = 0;
    for (int i = 0; i < n; ++i) {
        const quint64 sid = streams.get();
        if (sid > 0xffffffffu)
            return fail(QStringLiteral("chunk has a stream id out of range"));
        m_streamId[i] = quint32(sid);
        // Deltas add modulo 2^64: a crafted chunk wraps instead of
        // overflowing (undefined behaviour, found by fuzz_chunk).
        position = qint64(quint64(position) + quint64(positions.getSigned()));
        timestamp = qint64(quint64(timestamp) + quint64(timestamps.getSigned()));
        m_position[i] = position;
        m_timestampUs[i] = timestamp;
        m_tsType[i] = quint8(tsTypes[i]);
        m_operation[i] = quint8(ops[i]);
        if (m_tsType[i] > quint8(TimestampType::CommitTime) || m_operation[i] > quint8(Operation::Read))
            return fail(QStringLiteral("chunk has an unknown timestamp type or operation"));
        m_flags[i] = quint8(flags[i]);
        m_broker[i] = qint32(brokers.getSigned());
        m_leaderEpoch[i] = qint32(epochs.getSigned());
        const quint8 p = quint8(presence[i]);
        if (!takeRun(p & Enc::KeyPresent, keyLengths, keyPos, offsets[Enc::Keys + 1], -1, &m_keyOffset[i], &m_keySize[i]))
            return fail(QStringLiteral("chunk key bytes run past their section"));
        if (!takeRun(p & Enc::ValuePresent, valueLengths, valuePos, offsets[Enc::Values + 1], -1, &m_valueOffset[i], &m_valueSize[i]))
            return fail(QStringLiteral("chunk value bytes run past their section"));
        const quint64 hc = headerCounts.get();
        if (hc > quint64(headerBytes.remaining()))
            return fail(QStringLiteral("chunk header count out of range"));
        m_headerCount[i] = qint32(hc);
        m_headersOffset[i] = qint32(headerBytes.pos() - base);
        skipHeaders(headerBytes, hc);
        if (!takeRun(p & Enc::ExtPresent, extLengths, extPos, offsets[Enc::ExtBytes + 1], 0, &m_extOffset[i], &m_extSize[i]))
            return fail(QStringLiteral("chunk change-event bytes run past their section"));
        if (!streams.ok() || !positions.ok() || !timestamps.ok() || !brokers.ok() || !epochs.ok()
            || !keyLengths.ok() || !valueLengths.ok() || !headerCounts.ok() || !headerBytes.ok() || !extLengths.ok())
            return fail(QStringLiteral("chunk columns end early (event %1 of %2)").arg(i).arg(n));
    }
    return true;
}

QByteArrayView Chunk::key(int i) const
{
    return m_keyOffset[i] < 0 ? QByteArrayView() : QByteArrayView(m_raw.constData() + m_keyOffset[i], m_keySize[i]);
}

QByteArrayView Chunk::value(int i) const
{
    return m_valueOffset[i] < 0 ? QByteArrayView() : QByteArrayView(m_raw.constData() + m_valueOffset[i], m_valueSize[i]);
}

QList<Header> Chunk::headers(int i) const
{
    QList<Header> out;
    const int n = m_headerCount[i];
    if (n == 0)
        return out;
    out.reserve(n);
    // Bounds were checked in decode(), so this walk stays inside m_raw.
    varint::Reader r(m_raw.constData() + m_headersOffset[i], m_raw.constData() + m_raw.size());
    for (int h = 0; h < n; ++h) {
        Header header;
        const qint64 nameLen = qint64(r.get());
        header.name = QByteArray(r.take(nameLen), nameLen);
        const quint64 vl = r.get();
        if (vl)
            header.value = QByteArray(r.take(qint64(vl - 1)), qsizetype(vl - 1));
        out.append(std::move(header));
    }
    return out;
}

void Chunk::fill(int i, Event *e, bool payload, bool change) const
{
    e->position = m_position[i];
    e->timestampUs = m_timestampUs[i];
    e->timestampType = TimestampType(m_tsType[i]);
    e->operation = Operation(m_operation[i]);
    e->flags = m_flags[i];
    e->broker = m_broker[i];
    e->leaderEpoch = m_leaderEpoch[i];
    if (payload) {
        e->key = hasKey(i) ? std::optional<QByteArray>(key(i).toByteArray()) : std::nullopt;
        e->value = hasValue(i) ? std::optional<QByteArray>(value(i).toByteArray()) : std::nullopt;
        e->headers = headers(i);
    } else {
        e->key = e->value = std::nullopt;
        e->headers.clear();
    }
    e->transactionId = e->commitLsn = e->commitTimeUs = -1;
    e->oldRow.clear();
    e->newRow.clear();
    e->primaryKey.clear();
    if (change && m_extSize[i] > 0)
        ChunkEncoder::decodeExtension(QByteArrayView(m_raw.constData() + m_extOffset[i], m_extSize[i]), e);
}

} // namespace tapedeck
