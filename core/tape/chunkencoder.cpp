#include "core/tape/chunkencoder.h"

#include "core/tape/tapeformat.h"
#include "core/base/varint.h"

#include <QCborArray>
#include <QCborMap>
#include <QCborValue>
#include <QHash>

#include <limits>
#include <mutex>

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

namespace {

// Column names and type names repeat in every event of a table. They are
// interned once per process in a pool that is never freed, and handed out as
// QString::fromRawData() views of it: copying such a string touches no
// reference count, so the events and outputs that carry these names across
// the replay's threads share nothing that is written.
class NamePool
{
public:
    static NamePool &instance()
    {
        static NamePool *pool = new NamePool; // never destroyed: views of it may outlive static destruction
        return *pool;
    }
    QString get(QByteArrayView utf8)
    {
        std::lock_guard lock(m_mutex);
        auto it = m_names.constFind(utf8.toByteArray());
        if (it == m_names.cend()) {
            if (m_names.size() >= MaxNames)
                return QString::fromUtf8(utf8); // a tape with unbounded names: stop interning
            it = m_names.insert(utf8.toByteArray(), QString::fromUtf8(utf8));
        }
        return QString::fromRawData(it->constData(), it->size());
    }

private:
    static constexpr qsizetype MaxNames = 1 << 16;
    std::mutex m_mutex;
    QHash<QByteArray, QString> m_names;
};

// A per-thread direct-mapped cache in front of the pool (no lock on a hit).
class StringCache
{
public:
    QString get(QByteArrayView utf8)
    {
        if (utf8.isEmpty())
            return QString();
        Slot &s = m_slots[qHash(utf8) % Size];
        if (s.bytes != utf8) {
            s.bytes = utf8.toByteArray();
            s.text = NamePool::instance().get(utf8);
        }
        return s.text;
    }

private:
    static constexpr size_t Size = 512;
    struct Slot
    {
        QByteArray bytes;
        QString text;
    };
    Slot m_slots[Size];
};

// Reads the definite-length CBOR that encodeExtension() writes (QCborValue's
// encoder): returns false on anything else, and decodeExtension() then
// falls back to QCborValue, so any valid CBOR still decodes as before.
class CborReader
{
public:
    CborReader(QByteArrayView bytes) : m_p(bytes.data()), m_end(bytes.data() + bytes.size()) {}
    bool atEnd() const { return m_p == m_end; }

    // Major type and argument of the next item; simple values keep their
    // initial byte in `major` 7.
    bool head(int *major, quint64 *arg)
    {
        if (m_p >= m_end)
            return false;
        const quint8 b = quint8(*m_p++);
        *major = b >> 5;
        const quint8 info = b & 0x1f;
        if (info < 24) {
            *arg = info;
            return true;
        }
        int n = info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : info == 27 ? 8 : 0;
        if (n == 0 || m_end - m_p < n)
            return false; // indefinite lengths, reserved values
        quint64 v = 0;
        for (int i = 0; i < n; ++i)
            v = (v << 8) | quint8(m_p[i]);
        m_p += n;
        *arg = v;
        return true;
    }
    bool integer(qint64 *v)
    {
        int major;
        quint64 arg;
        if (!head(&major, &arg) || major > 1 || arg > quint64(std::numeric_limits<qint64>::max()))
            return false;
        *v = major == 0 ? qint64(arg) : -1 - qint64(arg);
        return true;
    }
    // A text (3) or byte (2) string of the given major type.
    bool string(int wanted, QByteArrayView *out)
    {
        int major;
        quint64 arg;
        if (!head(&major, &arg) || major != wanted || arg > quint64(m_end - m_p))
            return false;
        *out = QByteArrayView(m_p, qsizetype(arg));
        m_p += arg;
        return true;
    }
    bool array(quint64 *n)
    {
        int major;
        return head(&major, n) && major == 4;
    }
    quint8 peek() const { return m_p < m_end ? quint8(*m_p) : 0xff; }
    void skipByte() { ++m_p; }

private:
    const char *m_p;
    const char *m_end;
};

thread_local StringCache t_strings;

bool rowCells(CborReader &r, std::vector<ChunkEncoder::ChangeCell> *row)
{
    quint64 n;
    if (!r.array(&n) || n > 100000)
        return false;
    row->resize(size_t(n));
    for (quint64 i = 0; i < n; ++i) {
        quint64 fields;
        ChunkEncoder::ChangeCell &cell = (*row)[size_t(i)];
        if (!r.array(&fields) || fields != 4 || !r.string(3, &cell.name) || !r.string(3, &cell.type))
            return false;
        if (r.peek() == 0xf6) {
            r.skipByte();
            cell.state = ChunkEncoder::CellView::Null;
            cell.value = {};
        } else {
            if (!r.string(2, &cell.value))
                return false;
            cell.state = ChunkEncoder::CellView::Value;
        }
        const quint8 b = r.peek();
        if (b != 0xf4 && b != 0xf5)
            return false;
        r.skipByte();
        if (b == 0xf5)
            cell.state = ChunkEncoder::CellView::UnchangedToast;
    }
    return true;
}

} // namespace

bool ChunkEncoder::changeCells(QByteArrayView bytes, ChangeCells *out)
{
    out->transactionId = out->commitLsn = out->commitTimeUs = -1;
    out->oldRow.clear();
    out->newRow.clear();
    out->primaryKey.clear();
    CborReader r(bytes);
    int major;
    quint64 n;
    if (!r.head(&major, &n) || major != 5 || n > 6)
        return false;
    quint8 seen = 0;
    for (quint64 i = 0; i < n; ++i) {
        QByteArrayView k;
        if (!r.string(3, &k) || k.size() != 1)
            return false;
        const char c = k[0];
        const int bit = c == 'x' ? 0 : c == 'l' ? 1 : c == 't' ? 2 : c == 'o' ? 3 : c == 'n' ? 4 : c == 'k' ? 5 : -1;
        if (bit < 0 || (seen & (1 << bit)))
            return false;
        seen |= quint8(1 << bit);
        if (c == 'o' || c == 'n') {
            if (!rowCells(r, c == 'o' ? &out->oldRow : &out->newRow))
                return false;
        } else if (c == 'k') {
            quint64 count;
            if (!r.array(&count) || count > 1000)
                return false;
            out->primaryKey.resize(size_t(count));
            for (quint64 j = 0; j < count; ++j) {
                if (!r.string(3, &out->primaryKey[size_t(j)]))
                    return false;
            }
        } else if (!r.integer(c == 'x' ? &out->transactionId : c == 'l' ? &out->commitLsn : &out->commitTimeUs)) {
            return false;
        }
    }
    return r.atEnd();
}

namespace {

// The event fields from changeCells(), names and types interned.
thread_local ChunkEncoder::ChangeCells t_cells;

void toRow(const std::vector<ChunkEncoder::ChangeCell> &cells, Row *row)
{
    row->reserve(qsizetype(cells.size()));
    for (const ChunkEncoder::ChangeCell &c : cells) {
        Column col;
        col.name = t_strings.get(c.name);
        col.type = t_strings.get(c.type);
        // An unchanged TOAST value may still carry bytes (a null view: none).
        if (c.state == ChunkEncoder::CellView::Value || (c.state == ChunkEncoder::CellView::UnchangedToast && c.value.data()))
            col.value = c.value.toByteArray();
        col.unchangedToast = c.state == ChunkEncoder::CellView::UnchangedToast;
        row->append(std::move(col));
    }
}

bool fastExtension(QByteArrayView bytes, Event *e)
{
    ChunkEncoder::ChangeCells &cells = t_cells;
    if (!ChunkEncoder::changeCells(bytes, &cells))
        return false;
    e->transactionId = cells.transactionId;
    e->commitLsn = cells.commitLsn;
    e->commitTimeUs = cells.commitTimeUs;
    toRow(cells.oldRow, &e->oldRow);
    toRow(cells.newRow, &e->newRow);
    e->primaryKey.reserve(qsizetype(cells.primaryKey.size()));
    for (const QByteArrayView name : cells.primaryKey)
        e->primaryKey.append(t_strings.get(name));
    return true;
}

} // namespace

bool ChunkEncoder::decodeExtension(QByteArrayView bytes, Event *e)
{
    if (fastExtension(bytes, e))
        return true;
    e->transactionId = e->commitLsn = e->commitTimeUs = -1;
    e->oldRow.clear();
    e->newRow.clear();
    e->primaryKey.clear();
    QCborParserError error;
    const QCborValue v = QCborValue::fromCbor(bytes.toByteArray(), &error);
    if (error.error != QCborError::NoError || !v.isMap())
        return false;
    const QCborMap m = v.toMap();
    // Integers only: QCborValue::toInteger() converts a double out of
    // qint64's range with undefined behaviour (found by fuzz_chunk).
    const auto integer = [&m](const QString &k) {
        const QCborValue x = m.value(k);
        return x.isInteger() ? x.toInteger() : qint64(-1);
    };
    e->transactionId = integer(QStringLiteral("x"));
    e->commitLsn = integer(QStringLiteral("l"));
    e->commitTimeUs = integer(QStringLiteral("t"));
    if (m.contains(QStringLiteral("o")) && !decodeRow(m.value(QStringLiteral("o")), &e->oldRow))
        return false;
    if (m.contains(QStringLiteral("n")) && !decodeRow(m.value(QStringLiteral("n")), &e->newRow))
        return false;
    for (const QCborValue &k : m.value(QStringLiteral("k")).toArray())
        e->primaryKey.append(k.toString());
    return true;
}

} // namespace tapedeck
