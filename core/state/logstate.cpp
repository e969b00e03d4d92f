#include "core/state/logstate.h"

#include "core/base/leafpool.h"
#include "core/base/rawjson.h"
#include "core/tape/tape.h"

#include <QHash>
#include <QtConcurrent/QtConcurrentMap>

#include <algorithm>
#include <deque>
#include <mutex>
#include <bit>
#include <numeric>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

constexpr quint32 DeleteBit = 0x80000000u;   // in TableData::evKey
constexpr quint32 TruncateEvent = 0xFFFFFFFFu; // evKey of a truncate
constexpr int WordsPerBlock = 8;               // rank directory: one entry per 512 keys

bool isInteger(QByteArrayView s)
{
    qsizetype i = 0;
    if (s.size() > 0 && s[0] == '-')
        i = 1;
    if (i >= s.size() || s.size() - i > 40)
        return false;
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

int compareIntegers(QByteArrayView a, QByteArrayView b)
{
    const bool na = a[0] == '-', nb = b[0] == '-';
    if (na != nb)
        return na ? -1 : 1;
    auto digits = [](QByteArrayView s, bool neg) {
        s = s.sliced(neg ? 1 : 0);
        while (s.size() > 1 && s[0] == '0')
            s = s.sliced(1);
        return s;
    };
    const QByteArrayView da = digits(a, na), db = digits(b, nb);
    int c = da.size() != db.size() ? (da.size() < db.size() ? -1 : 1) : da.compare(db);
    return na ? -c : c;
}

int comparePart(QByteArrayView a, QByteArrayView b)
{
    if (isInteger(a) && isInteger(b)) {
        if (const int c = compareIntegers(a, b))
            return c;
    }
    const int c = a.compare(b);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// The canonical key text of a change event: its key JSON (pgchange::rowJson
// of the primary-key columns) turned into the values joined by KeySeparator.
// Booleans go back to PostgreSQL's t/f.
bool keyFromJson(QByteArrayView json, QByteArray *out)
{
    QList<std::pair<QByteArray, RawJson>> fields;
    if (!rawjson::objectFields(json, &fields) || fields.isEmpty())
        return false;
    out->clear();
    for (qsizetype i = 0; i < fields.size(); ++i) {
        if (i)
            out->append(LogState::KeySeparator);
        const RawJson &v = fields[i].second;
        if (v.type == RawJson::Type::Bool)
            out->append(v.text == "true" ? 't' : 'f');
        else
            out->append(v.text);
    }
    return true;
}

bool keyFromRow(const Row &row, const QStringList &columns, QByteArray *out)
{
    out->clear();
    for (qsizetype i = 0; i < columns.size(); ++i) {
        const Column *found = nullptr;
        for (const Column &c : row) {
            if (c.name == columns[i] && !c.unchangedToast)
                found = &c;
        }
        if (!found || !found->value)
            return false;
        if (i)
            out->append(LogState::KeySeparator);
        out->append(*found->value);
    }
    return !columns.isEmpty();
}

// A cheap test before decoding a change event's CBOR: does it have an old row
// ("o" as a one-letter text key)? False positives only cost a decode.
bool mayHaveOldRow(QByteArrayView ext)
{
    return ext.contains(QByteArrayView("\x61o", 2));
}

} // namespace

struct LogState::TableData
{
    // Keys in rank order.
    QByteArray keyArena;
    std::vector<quint32> keyOffsets; // keys + 1
    std::vector<qint32> keyPartition;
    // State-changing events in tape order: seq and key id (| DeleteBit), or TruncateEvent.
    std::vector<quint32> evSeq;
    std::vector<quint32> evKey;
    std::vector<quint32> truncates; // event indices of truncates
    // Per key, its event indices (ascending): keyEv[keyStart[k] .. keyStart[k+1]).
    std::vector<quint32> keyStart;
    std::vector<quint32> keyEv;
    // Checkpoint i holds the live bitmap after the first i * interval events.
    qint64 interval = 1;
    struct Checkpoint
    {
        std::vector<quint64> bits;
        qint64 live = 0;
    };
    std::vector<Checkpoint> checkpoints;

    quint32 keyCount() const { return quint32(keyOffsets.size() - 1); }
    QByteArrayView key(quint32 k) const
    {
        return QByteArrayView(keyArena.constData() + keyOffsets[k], keyOffsets[k + 1] - keyOffsets[k]);
    }
    size_t words() const { return (keyCount() + 63) / 64; }
    // Number of events with seq < end.
    quint32 eventsBefore(qint64 end) const
    {
        if (end <= 0)
            return 0;
        const quint64 e = quint64(std::min<qint64>(end, qint64(std::numeric_limits<quint32>::max()) + 1));
        return quint32(std::lower_bound(evSeq.begin(), evSeq.end(), e, [](quint32 s, quint64 v) { return s < v; })
                       - evSeq.begin());
    }
    void apply(std::vector<quint64> &bits, qint64 &live, quint32 from, quint32 to) const
    {
        for (quint32 i = from; i < to; ++i) {
            const quint32 k = evKey[i];
            if (k == TruncateEvent) {
                std::fill(bits.begin(), bits.end(), 0);
                live = 0;
                continue;
            }
            const quint32 id = k & ~DeleteBit;
            quint64 &w = bits[id >> 6];
            const quint64 m = quint64(1) << (id & 63);
            if (k & DeleteBit) {
                if (w & m) {
                    w &= ~m;
                    --live;
                }
            } else if (!(w & m)) {
                w |= m;
                ++live;
            }
        }
    }
    // Index into keyEv of the key's last event with seq < end, or -1.
    qint64 lastEventOf(quint32 key, qint64 end) const
    {
        const quint32 *b = keyEv.data() + keyStart[key], *e = keyEv.data() + keyStart[key + 1];
        const quint32 *it = std::lower_bound(b, e, end, [this](quint32 ev, qint64 v) { return qint64(evSeq[ev]) < v; });
        return it == b ? -1 : qint64(it - keyEv.data()) - 1;
    }
};

struct LogStateSnapshot::Data
{
    std::shared_ptr<const LogState> owner;
    const LogState::TableData *table = nullptr;
    int tableIndex = -1;
    qint64 end = 0;
    quint32 evEnd = 0;
    std::vector<quint64> bits;
    std::vector<quint32> blockRank; // live keys before each block of WordsPerBlock words
    qint64 live = 0;
};

int LogStateSnapshot::table() const { return m_d ? m_d->tableIndex : -1; }
qint64 LogStateSnapshot::end() const { return m_d ? m_d->end : 0; }
qint64 LogStateSnapshot::rowCount() const { return m_d ? m_d->live : 0; }

bool LogStateSnapshot::isLive(quint32 keyId) const
{
    return m_d && keyId < m_d->table->keyCount() && (m_d->bits[keyId >> 6] >> (keyId & 63)) & 1;
}

qint64 LogStateSnapshot::rowOf(quint32 keyId) const
{
    if (!isLive(keyId))
        return -1;
    const size_t word = keyId >> 6;
    const size_t block = word / WordsPerBlock;
    qint64 rank = m_d->blockRank[block];
    for (size_t w = block * WordsPerBlock; w < word; ++w)
        rank += std::popcount(m_d->bits[w]);
    const quint64 below = (keyId & 63) ? m_d->bits[word] & ((quint64(1) << (keyId & 63)) - 1) : 0;
    return rank + std::popcount(below);
}

quint32 LogStateSnapshot::keyAt(qint64 row) const
{
    Q_ASSERT(m_d && row >= 0 && row < m_d->live);
    const auto &rank = m_d->blockRank;
    const size_t block = size_t(std::upper_bound(rank.begin(), rank.end(), quint32(row)) - rank.begin()) - 1;
    qint64 left = row - rank[block];
    for (size_t w = block * WordsPerBlock; w < m_d->bits.size(); ++w) {
        quint64 bits = m_d->bits[w];
        const int n = std::popcount(bits);
        if (left < n) {
            for (; left > 0; --left)
                bits &= bits - 1; // drop the lowest set bit
            return quint32(w * 64 + size_t(std::countr_zero(bits)));
        }
        left -= n;
    }
    return 0;
}

QList<quint32> LogStateSnapshot::keys(qint64 firstRow, int count) const
{
    QList<quint32> out;
    if (!m_d || firstRow < 0 || firstRow >= m_d->live || count <= 0)
        return out;
    count = int(std::min<qint64>(count, m_d->live - firstRow));
    out.reserve(count);
    quint32 k = keyAt(firstRow);
    out.append(k);
    // Walk the bitmap from there instead of selecting every row again.
    size_t w = k >> 6;
    quint64 bits = m_d->bits[w] & (k % 64 == 63 ? 0 : ~((quint64(2) << (k & 63)) - 1));
    while (out.size() < count) {
        while (!bits)
            bits = m_d->bits[++w];
        out.append(quint32(w * 64 + size_t(std::countr_zero(bits))));
        bits &= bits - 1;
    }
    return out;
}

qint64 LogStateSnapshot::lastSeq(quint32 keyId) const
{
    if (!m_d || keyId >= m_d->table->keyCount())
        return -1;
    const qint64 i = m_d->table->lastEventOf(keyId, m_d->end);
    return i < 0 ? -1 : qint64(m_d->table->evSeq[m_d->table->keyEv[size_t(i)]]);
}

bool LogStateSnapshot::changedSince(quint32 keyId, qint64 from) const
{
    return lastSeq(keyId) >= from;
}

// Rows by (table, last event): a row never changes once its event is written.
// FIFO eviction; big reads (exports, searches) bypass it so that they do not
// push out the visible window.
struct LogState::RowCache
{
    static constexpr size_t Capacity = 8192;
    static constexpr qsizetype MaxCachedRead = 1024;
    static quint64 slot(int table, qint64 seq) { return (quint64(quint32(table)) << 40) ^ quint64(seq); }
    std::mutex mutex;
    QHash<quint64, LogStateRow> rows;
    std::deque<quint64> order;
};

LogState::LogState() : m_rowCache(std::make_unique<RowCache>()) {}

LogState::~LogState() = default;

int LogState::tableIndex(const QString &name) const
{
    for (int i = 0; i < m_tables.size(); ++i) {
        if (m_tables[i].name == name)
            return i;
    }
    return -1;
}

int LogState::compareKeys(QByteArrayView a, QByteArrayView b)
{
    while (true) {
        const qsizetype ia = a.indexOf(KeySeparator), ib = b.indexOf(KeySeparator);
        const QByteArrayView pa = ia < 0 ? a : a.first(ia), pb = ib < 0 ? b : b.first(ib);
        if (const int c = comparePart(pa, pb))
            return c;
        if (ia < 0 || ib < 0)
            return ia < 0 && ib < 0 ? 0 : (ia < 0 ? -1 : 1);
        a = a.sliced(ia + 1);
        b = b.sliced(ib + 1);
    }
}

QByteArray LogState::keyText(int table, quint32 keyId) const
{
    return m_data[size_t(table)]->key(keyId).toByteArray();
}

QStringList LogState::keyValues(int table, quint32 keyId) const
{
    const QByteArrayView k = m_data[size_t(table)]->key(keyId);
    if (m_tables[table].keyColumns.isEmpty())
        return {QString::fromUtf8(k)};
    QStringList out;
    for (const QByteArrayView part : QByteArray::fromRawData(k.data(), k.size()).split(KeySeparator))
        out.append(QString::fromUtf8(part));
    return out;
}

std::optional<quint32> LogState::findKey(int table, QByteArrayView keyText) const
{
    const TableData &d = *m_data[size_t(table)];
    quint32 lo = 0, hi = d.keyCount();
    while (lo < hi) {
        const quint32 mid = lo + (hi - lo) / 2;
        const int c = compareKeys(d.key(mid), keyText);
        if (c == 0 && d.key(mid) == keyText)
            return mid;
        if (c < 0 || (c == 0 && d.key(mid).compare(keyText) < 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return std::nullopt;
}

qint32 LogState::keyPartition(int table, quint32 keyId) const
{
    return m_data[size_t(table)]->keyPartition[keyId];
}

std::shared_ptr<const LogState> LogState::build(std::shared_ptr<const Tape> tape, QString *error,
                                                const std::function<bool(qint64, qint64)> &progress, Options options)
{
    std::shared_ptr<LogState> state(new LogState);
    state->m_tape = tape;
    state->m_eventCount = tape->eventCount();

    struct Building
    {
        QHash<QByteArray, quint32> ids;
        std::vector<QByteArray> keys;
        std::vector<qint32> partition;
        bool columnsKnown = false;
    };
    std::vector<Building> building;
    std::vector<int> streamTable; // stream id -> table index, -1 none, -2 unknown yet
    auto tableFor = [&](quint32 streamId) -> int {
        if (streamId >= streamTable.size())
            streamTable.resize(streamId + 1, -2);
        int &t = streamTable[streamId];
        if (t != -2)
            return t;
        const StreamKey &key = tape->streamKey(streamId);
        t = -1;
        if (key.topic.isEmpty())
            return t;
        const SourceKind kind = key.kind == SourceKind::File ? SourceKind::Kafka : key.kind;
        for (int i = 0; i < state->m_tables.size(); ++i) {
            if (state->m_tables[i].name == key.topic && state->m_tables[i].kind == kind)
                t = i;
        }
        if (t < 0) {
            LogStateTable info;
            info.name = key.topic;
            info.kind = kind;
            state->m_tables.append(info);
            state->m_data.push_back(std::make_unique<TableData>());
            building.emplace_back();
            t = int(state->m_tables.size() - 1);
        }
        LogStateTable &info = state->m_tables[t];
        const qint32 p = key.kind == SourceKind::Postgres ? 0 : key.partition;
        if (!info.partitions.contains(p)) {
            info.partitions.append(p);
            std::sort(info.partitions.begin(), info.partitions.end());
        }
        return t;
    };

    auto intern = [&](int t, QByteArrayView key, qint32 partition) -> quint32 {
        Building &b = building[size_t(t)];
        auto it = b.ids.constFind(QByteArray::fromRawData(key.data(), key.size()));
        if (it != b.ids.cend()) {
            qint32 &p = b.partition[*it];
            if (p != partition && p != -2)
                p = -2;
            return *it;
        }
        const quint32 id = quint32(b.keys.size());
        b.keys.push_back(key.toByteArray());
        b.partition.push_back(partition);
        b.ids.insert(b.keys.back(), id);
        return id;
    };

    const qint64 total = tape->eventCount();
    QByteArray keyText, oldKeyText;
    Event event;
    for (int ci = 0; ci < tape->chunkCount(); ++ci) {
        if (progress && ci % 16 == 0 && !progress(tape->chunkInfo(ci).firstSeq, total)) {
            *error = u"cancelled"_s;
            return nullptr;
        }
        const std::shared_ptr<const Chunk> chunk = tape->chunk(ci, error);
        if (!chunk)
            return nullptr;
        const qint64 first = tape->chunkInfo(ci).firstSeq;
        for (int i = 0; i < chunk->count(); ++i) {
            const int t = tableFor(chunk->streamId(i));
            if (t < 0)
                continue;
            const quint32 seq = quint32(first + i);
            LogStateTable &info = state->m_tables[t];
            TableData &d = *state->m_data[size_t(t)];
            const Operation op = chunk->operation(i);
            const qint32 partition = tape->streamKey(chunk->streamId(i)).partition;
            if (op == Operation::Record) {
                if (chunk->flags(i) & (Aborted | ControlRecord))
                    continue;
                if (!chunk->hasKey(i)) {
                    ++info.unkeyedEvents;
                    continue;
                }
                const quint32 k = intern(t, chunk->key(i), partition);
                d.evSeq.push_back(seq);
                d.evKey.push_back(chunk->hasValue(i) ? k : (k | DeleteBit));
                ++info.events;
                continue;
            }
            if (op == Operation::Truncate) {
                d.truncates.push_back(quint32(d.evSeq.size()));
                d.evSeq.push_back(seq);
                d.evKey.push_back(TruncateEvent);
                ++info.events;
                continue;
            }
            if (op != Operation::Insert && op != Operation::Update && op != Operation::Delete && op != Operation::Read)
                continue;
            Building &b = building[size_t(t)];
            const QByteArrayView ext = chunk->extension(i);
            const bool decode = !b.columnsKnown || (op == Operation::Update && mayHaveOldRow(ext));
            if (decode) {
                chunk->fill(i, &event);
                if (!b.columnsKnown && !event.primaryKey.isEmpty()) {
                    info.keyColumns = event.primaryKey;
                    b.columnsKnown = true;
                }
            }
            if (!chunk->hasKey(i) || !keyFromJson(chunk->key(i), &keyText)) {
                ++info.unkeyedEvents;
                continue;
            }
            const quint32 k = intern(t, keyText, 0);
            if (decode && op == Operation::Update && !event.oldRow.isEmpty()
                && keyFromRow(event.oldRow, event.primaryKey, &oldKeyText) && oldKeyText != keyText) {
                // The primary key changed: the old key goes, in the same event.
                const quint32 old = intern(t, oldKeyText, 0);
                d.evSeq.push_back(seq);
                d.evKey.push_back(old | DeleteBit);
                ++info.events;
            }
            d.evSeq.push_back(seq);
            d.evKey.push_back(op == Operation::Delete ? (k | DeleteBit) : k);
            ++info.events;
        }
    }

    // Key ids become ranks in the key order; then per-key event lists and checkpoints.
    qint64 bitmapBytes = 0, allEvents = 0;
    for (size_t t = 0; t < state->m_data.size(); ++t) {
        bitmapBytes += qint64((building[t].keys.size() + 63) / 64 * 8);
        allEvents += qint64(state->m_data[t]->evSeq.size());
    }
    for (size_t t = 0; t < state->m_data.size(); ++t) {
        if (progress && !progress(total, total)) {
            *error = u"cancelled"_s;
            return nullptr;
        }
        Building &b = building[t];
        TableData &d = *state->m_data[t];
        LogStateTable &info = state->m_tables[int(t)];
        b.ids.clear();
        const quint32 n = quint32(b.keys.size());
        std::vector<quint32> order(n);
        std::iota(order.begin(), order.end(), 0u);
        std::sort(order.begin(), order.end(), [&](quint32 x, quint32 y) {
            const int c = compareKeys(b.keys[x], b.keys[y]);
            return c != 0 ? c < 0 : b.keys[x] < b.keys[y];
        });
        std::vector<quint32> rank(n);
        d.keyOffsets.resize(size_t(n) + 1);
        d.keyPartition.resize(n);
        qsizetype arena = 0;
        for (const QByteArray &k : b.keys)
            arena += k.size();
        d.keyArena.reserve(arena);
        for (quint32 r = 0; r < n; ++r) {
            rank[order[r]] = r;
            d.keyOffsets[r] = quint32(d.keyArena.size());
            d.keyArena.append(b.keys[order[r]]);
            d.keyPartition[r] = b.partition[order[r]];
            if (b.partition[order[r]] == -2)
                ++info.multiPartitionKeys;
        }
        d.keyOffsets[n] = quint32(d.keyArena.size());
        b.keys = {};
        info.keys = n;
        std::vector<quint32> counts(size_t(n) + 1, 0);
        for (quint32 &k : d.evKey) {
            if (k == TruncateEvent)
                continue;
            k = rank[k & ~DeleteBit] | (k & DeleteBit);
            ++counts[k & ~DeleteBit];
        }
        d.keyStart.assign(size_t(n) + 1, 0);
        for (quint32 k = 0; k < n; ++k)
            d.keyStart[k + 1] = d.keyStart[k] + counts[k];
        d.keyEv.resize(d.keyStart[n]);
        std::vector<quint32> fill(d.keyStart.begin(), d.keyStart.end() - 1);
        for (quint32 i = 0; i < quint32(d.evKey.size()); ++i) {
            if (d.evKey[i] != TruncateEvent)
                d.keyEv[fill[d.evKey[i] & ~DeleteBit]++] = i;
        }
        d.evSeq.shrink_to_fit();
        d.evKey.shrink_to_fit();
        d.truncates.shrink_to_fit();
        // Checkpoints: this table's share of the budget, by its events.
        const qint64 events = qint64(d.evSeq.size());
        const qint64 bytes = qint64(d.words() * 8);
        const qint64 share = allEvents ? options.checkpointBudgetBytes * events / allEvents : 0;
        const qint64 count = bytes ? std::max<qint64>(1, share / bytes) : 1;
        d.interval = std::max<qint64>(options.minCheckpointEvents, (events + count - 1) / std::max<qint64>(1, count));
        TableData::Checkpoint cp;
        cp.bits.assign(d.words(), 0);
        for (qint64 at = 0;; at += d.interval) {
            d.checkpoints.push_back(cp);
            if (at + d.interval > events)
                break;
            d.apply(cp.bits, cp.live, quint32(at), quint32(at + d.interval));
        }
    }
    return state;
}

LogStateSnapshot LogState::snapshot(int table, qint64 end) const
{
    return snapshot(table, end, LogStateSnapshot());
}

LogStateSnapshot LogState::snapshot(int table, qint64 end, const LogStateSnapshot &near) const
{
    LogStateSnapshot s;
    if (table < 0 || table >= m_tables.size())
        return s;
    const TableData &t = *m_data[size_t(table)];
    auto d = std::make_shared<LogStateSnapshot::Data>();
    d->owner = shared_from_this();
    d->table = &t;
    d->tableIndex = table;
    d->end = std::clamp<qint64>(end, 0, m_eventCount);
    d->evEnd = t.eventsBefore(d->end);
    const size_t cpIndex = std::min(size_t(d->evEnd / t.interval), t.checkpoints.size() - 1);
    const quint32 cpEvents = quint32(qint64(cpIndex) * t.interval);
    if (near.m_d && near.m_d->table == &t && near.m_d->evEnd <= d->evEnd && near.m_d->evEnd >= cpEvents) {
        if (near.m_d->evEnd == d->evEnd) {
            // Same state: share everything but the point.
            auto same = std::make_shared<LogStateSnapshot::Data>(*near.m_d);
            same->end = d->end;
            s.m_d = same;
            return s;
        }
        d->bits = near.m_d->bits;
        d->live = near.m_d->live;
        t.apply(d->bits, d->live, near.m_d->evEnd, d->evEnd);
    } else {
        d->bits = t.checkpoints[cpIndex].bits;
        d->live = t.checkpoints[cpIndex].live;
        t.apply(d->bits, d->live, cpEvents, d->evEnd);
    }
    d->blockRank.resize((d->bits.size() + WordsPerBlock - 1) / WordsPerBlock);
    quint32 rank = 0;
    for (size_t b = 0; b < d->blockRank.size(); ++b) {
        d->blockRank[b] = rank;
        const size_t to = std::min(d->bits.size(), (b + 1) * WordsPerBlock);
        for (size_t w = b * WordsPerBlock; w < to; ++w)
            rank += quint32(std::popcount(d->bits[w]));
    }
    s.m_d = std::move(d);
    return s;
}

QList<qint64> LogState::keyEvents(int table, quint32 keyId, qint64 from, qint64 to) const
{
    QList<qint64> out;
    const TableData &t = *m_data[size_t(table)];
    if (keyId >= t.keyCount())
        return out;
    for (quint32 i = t.keyStart[keyId]; i < t.keyStart[keyId + 1]; ++i) {
        const qint64 seq = t.evSeq[t.keyEv[i]];
        if (seq >= from && seq < to)
            out.append(seq);
    }
    return out;
}

QList<quint32> LogState::keysChanged(int table, qint64 from, qint64 to, qint64 limit) const
{
    const TableData &t = *m_data[size_t(table)];
    const quint32 a = t.eventsBefore(from), b = t.eventsBefore(to);
    std::vector<quint32> keys;
    bool truncated = false;
    for (quint32 i = a; i < b; ++i) {
        if (t.evKey[i] == TruncateEvent)
            truncated = true;
        else
            keys.push_back(t.evKey[i] & ~DeleteBit);
    }
    if (truncated) {
        // A truncate changes every key that was live before it.
        const LogStateSnapshot before = snapshot(table, from);
        for (qint64 r = 0; r < before.rowCount(); ++r)
            keys.push_back(before.keyAt(r));
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    if (limit >= 0 && qint64(keys.size()) > limit)
        keys.resize(size_t(limit));
    return QList<quint32>(keys.begin(), keys.end());
}

qint64 LogState::eventsBetween(int table, qint64 from, qint64 to) const
{
    const TableData &t = *m_data[size_t(table)];
    return qint64(t.eventsBefore(to)) - qint64(t.eventsBefore(from));
}

std::optional<LogStateRow> LogState::row(const LogStateSnapshot &snapshot, quint32 keyId, QString *error) const
{
    QList<LogStateRow> out;
    if (!rows(snapshot, {keyId}, &out, error))
        return std::nullopt;
    return out.first();
}

bool LogState::rows(const LogStateSnapshot &snapshot, const QList<quint32> &keyIds, QList<LogStateRow> *out,
                    QString *error) const
{
    out->clear();
    if (!snapshot.isValid() || snapshot.m_d->owner.get() != this) {
        *error = u"the snapshot does not belong to this state"_s;
        return false;
    }
    const int table = snapshot.table();
    const TableData &t = *m_data[size_t(table)];
    const bool change = !m_tables[table].keyColumns.isEmpty() || m_tables[table].kind == SourceKind::Postgres;
    // Read in tape order so that every chunk is decoded once.
    std::vector<std::pair<qint64, qsizetype>> order;
    order.reserve(size_t(keyIds.size()));
    for (qsizetype i = 0; i < keyIds.size(); ++i) {
        if (!snapshot.isLive(keyIds[i])) {
            *error = u"key %1 of %2 has no row at event #%3"_s.arg(QString::fromUtf8(keyText(table, keyIds[i])),
                                                                   m_tables[table].name)
                         .arg(snapshot.end());
            return false;
        }
        order.emplace_back(snapshot.lastSeq(keyIds[i]), i);
    }
    out->resize(keyIds.size());
    // Rows already read (by this or an earlier step) come from the cache.
    const bool useCache = keyIds.size() <= RowCache::MaxCachedRead;
    if (useCache) {
        std::lock_guard lock(m_rowCache->mutex);
        qsizetype kept = 0;
        for (const auto &[seq, i] : order) {
            const auto it = m_rowCache->rows.constFind(RowCache::slot(table, seq));
            if (it != m_rowCache->rows.cend() && it->keyId == keyIds[i])
                (*out)[i] = *it;
            else
                order[size_t(kept++)] = {seq, i};
        }
        order.resize(size_t(kept));
    }
    std::sort(order.begin(), order.end());
    // Decode the chunks the missing rows live in, in parallel, and hold them
    // here (the tape's chunk cache is smaller than a window's chunks).
    std::vector<int> chunkIndex;
    for (const auto &[seq, i] : order) {
        const int ci = m_tape->chunkIndexOf(seq);
        if (chunkIndex.empty() || chunkIndex.back() != ci)
            chunkIndex.push_back(ci);
    }
    std::vector<std::shared_ptr<const Chunk>> chunks(chunkIndex.size());
    std::vector<QString> chunkErrors(chunkIndex.size());
    std::vector<size_t> jobs(chunkIndex.size());
    std::iota(jobs.begin(), jobs.end(), size_t(0));
    auto load = [&](size_t j) { chunks[j] = m_tape->chunk(chunkIndex[j], &chunkErrors[j]); };
    // On the leaf pool: rows() itself runs on pool threads (the State view's jobs).
    if (jobs.size() > 1)
        QtConcurrent::blockingMap(leafPool(), jobs, load);
    else if (jobs.size() == 1)
        load(0);
    for (size_t j = 0; j < chunks.size(); ++j) {
        if (!chunks[j]) {
            *error = chunkErrors[j];
            return false;
        }
    }
    Event e;
    size_t cj = 0;
    for (const auto &[seq, i] : order) {
        while (chunkIndex[cj] != m_tape->chunkIndexOf(seq))
            ++cj;
        const Chunk &c = *chunks[cj];
        const int at = int(seq - m_tape->chunkInfo(chunkIndex[cj]).firstSeq);
        c.fill(at, &e);
        LogStateRow &r = (*out)[i];
        r.keyId = keyIds[i];
        r.keyValues = keyValues(table, r.keyId);
        r.seq = seq;
        r.partition = m_tape->streamKey(c.streamId(at)).partition;
        r.timestampUs = e.timestampUs;
        r.operation = e.operation;
        r.value = e.value;
        r.headers = e.headers;
        r.row = e.newRow;
        if (!change)
            continue;
        // Unchanged TOAST values: take them from the key's earlier events.
        bool missing = std::any_of(r.row.cbegin(), r.row.cend(), [](const Column &c) { return c.unchangedToast; });
        qint64 ev = t.lastEventOf(r.keyId, seq);
        Event older;
        while (missing && ev >= qint64(t.keyStart[r.keyId])) {
            const quint32 idx = t.keyEv[size_t(ev)];
            --ev;
            if (t.evKey[idx] & DeleteBit)
                break; // a deleted row's values do not carry over
            if (!m_tape->event(t.evSeq[idx], &older, error))
                return false;
            missing = false;
            for (Column &c : r.row) {
                if (!c.unchangedToast)
                    continue;
                for (const Column &o : std::as_const(older.newRow)) {
                    if (o.name == c.name && !o.unchangedToast) {
                        c.value = o.value;
                        c.unchangedToast = false;
                    }
                }
                missing = missing || c.unchangedToast;
            }
        }
    }
    if (useCache && !order.empty()) {
        std::lock_guard lock(m_rowCache->mutex);
        for (const auto &[seq, i] : order) {
            const quint64 slot = RowCache::slot(table, seq);
            if (m_rowCache->rows.contains(slot))
                continue;
            m_rowCache->rows.insert(slot, (*out)[i]);
            m_rowCache->order.push_back(slot);
            while (m_rowCache->order.size() > RowCache::Capacity) {
                m_rowCache->rows.remove(m_rowCache->order.front());
                m_rowCache->order.pop_front();
            }
        }
    }
    return true;
}

qint64 LogState::endAtTimeMs(qint64 ms, QString *error) const
{
    const qint64 bound = ms >= std::numeric_limits<qint64>::max() / 1000 - 1 ? std::numeric_limits<qint64>::max()
                                                                             : (ms + 1) * 1000; // ts < bound
    for (int ci = m_tape->chunkCount() - 1; ci >= 0; --ci) {
        if (m_tape->chunkInfo(ci).minTimestampUs >= bound)
            continue;
        const auto chunk = m_tape->chunk(ci, error);
        if (!chunk)
            return -1;
        for (int i = chunk->count() - 1; i >= 0; --i) {
            if (chunk->timestampUs(i) < bound)
                return m_tape->chunkInfo(ci).firstSeq + i + 1;
        }
    }
    return 0;
}

qint64 LogState::endAtPosition(qint64 position, QString *error) const
{
    for (int ci = m_tape->chunkCount() - 1; ci >= 0; --ci) {
        const auto chunk = m_tape->chunk(ci, error);
        if (!chunk)
            return -1;
        for (int i = chunk->count() - 1; i >= 0; --i) {
            if (chunk->position(i) <= position)
                return m_tape->chunkInfo(ci).firstSeq + i + 1;
        }
    }
    return 0;
}

qint64 LogState::memoryBytes() const
{
    qint64 bytes = 0;
    for (const auto &t : m_data) {
        bytes += t->keyArena.capacity() + qint64(t->keyOffsets.capacity() * 4 + t->keyPartition.capacity() * 4);
        bytes += qint64(t->evSeq.capacity() * 4 + t->evKey.capacity() * 4 + t->truncates.capacity() * 4);
        bytes += qint64(t->keyStart.capacity() * 4 + t->keyEv.capacity() * 4);
        for (const auto &c : t->checkpoints)
            bytes += qint64(c.bits.capacity() * 8);
    }
    return bytes;
}

int LogState::checkpointCount(int table) const
{
    return int(m_data[size_t(table)]->checkpoints.size());
}

} // namespace tapedeck
