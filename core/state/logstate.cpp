#include "core/state/logstate.h"

#include "core/state/logstate_p.h"

#include "core/base/leafpool.h"
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

using namespace logstate;

namespace {

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

} // namespace

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
    using Order = std::vector<std::pair<qint64, qsizetype>>; // (seq, index into keyIds)
    static quint64 slot(int table, qint64 seq) { return (quint64(quint32(table)) << 40) ^ quint64(seq); }

    // The rows of `order` found here into *out; `order` keeps the others.
    void take(int table, const QList<quint32> &keyIds, Order *order, QList<LogStateRow> *out)
    {
        std::lock_guard lock(mutex);
        qsizetype kept = 0;
        for (const auto &[seq, i] : *order) {
            const auto it = rows.constFind(slot(table, seq));
            if (it != rows.cend() && it->keyId == keyIds[i])
                (*out)[i] = *it;
            else
                (*order)[size_t(kept++)] = {seq, i};
        }
        order->resize(size_t(kept));
    }
    void put(int table, const Order &order, const QList<LogStateRow> &out)
    {
        std::lock_guard lock(mutex);
        for (const auto &[seq, i] : order) {
            const quint64 s = slot(table, seq);
            if (rows.contains(s))
                continue;
            rows.insert(s, out[i]);
            fifo.push_back(s);
            while (fifo.size() > Capacity) {
                rows.remove(fifo.front());
                fifo.pop_front();
            }
        }
    }

    std::mutex mutex;
    QHash<quint64, LogStateRow> rows;
    std::deque<quint64> fifo; // insertion order
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

namespace {

// The keys' last events in tape order (so that every chunk is decoded once);
// false + *error when a key has no row at the snapshot.
bool tapeOrder(const LogState &state, const LogStateSnapshot &snapshot, const QList<quint32> &keyIds,
               std::vector<std::pair<qint64, qsizetype>> *order, QString *error)
{
    const int table = snapshot.table();
    order->reserve(size_t(keyIds.size()));
    for (qsizetype i = 0; i < keyIds.size(); ++i) {
        if (!snapshot.isLive(keyIds[i])) {
            *error = u"key %1 of %2 has no row at event #%3"_s.arg(QString::fromUtf8(state.keyText(table, keyIds[i])),
                                                                   state.tables()[table].name)
                         .arg(snapshot.end());
            return false;
        }
        order->emplace_back(snapshot.lastSeq(keyIds[i]), i);
    }
    return true;
}

// Decodes the chunks the rows of `order` (sorted) live in, in parallel, and
// holds them (the tape's chunk cache is smaller than a window's chunks).
bool loadChunks(const Tape &tape, const std::vector<std::pair<qint64, qsizetype>> &order, std::vector<int> *chunkIndex,
                std::vector<std::shared_ptr<const Chunk>> *chunks, QString *error)
{
    for (const auto &[seq, i] : order) {
        const int ci = tape.chunkIndexOf(seq);
        if (chunkIndex->empty() || chunkIndex->back() != ci)
            chunkIndex->push_back(ci);
    }
    chunks->resize(chunkIndex->size());
    std::vector<QString> chunkErrors(chunkIndex->size());
    std::vector<size_t> jobs(chunkIndex->size());
    std::iota(jobs.begin(), jobs.end(), size_t(0));
    auto load = [&](size_t j) { (*chunks)[j] = tape.chunk((*chunkIndex)[j], &chunkErrors[j]); };
    // On the leaf pool: rows() itself runs on pool threads (the State view's jobs).
    if (jobs.size() > 1)
        QtConcurrent::blockingMap(leafPool(), jobs, load);
    else if (jobs.size() == 1)
        load(0);
    for (size_t j = 0; j < chunks->size(); ++j) {
        if (!(*chunks)[j]) {
            *error = chunkErrors[j];
            return false;
        }
    }
    return true;
}

} // namespace

bool LogState::TableData::fillUnchangedToast(const Tape &tape, qint64 seq, LogStateRow *row, QString *error) const
{
    bool missing = std::any_of(row->row.cbegin(), row->row.cend(), [](const Column &c) { return c.unchangedToast; });
    qint64 ev = lastEventOf(row->keyId, seq);
    Event older;
    while (missing && ev >= qint64(keyStart[row->keyId])) {
        const quint32 idx = keyEv[size_t(ev)];
        --ev;
        if (evKey[idx] & DeleteBit)
            break; // a deleted row's values do not carry over
        if (!tape.event(evSeq[idx], &older, error))
            return false;
        missing = false;
        for (Column &c : row->row) {
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
    return true;
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
    RowCache::Order order;
    if (!tapeOrder(*this, snapshot, keyIds, &order, error))
        return false;
    out->resize(keyIds.size());
    // Rows already read (by this or an earlier step) come from the cache.
    const bool useCache = keyIds.size() <= RowCache::MaxCachedRead;
    if (useCache)
        m_rowCache->take(table, keyIds, &order, out);
    std::sort(order.begin(), order.end());
    std::vector<int> chunkIndex;
    std::vector<std::shared_ptr<const Chunk>> chunks;
    if (!loadChunks(*m_tape, order, &chunkIndex, &chunks, error))
        return false;
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
        // Unchanged TOAST values: take them from the key's earlier events.
        if (change && !t.fillUnchangedToast(*m_tape, seq, &r, error))
            return false;
    }
    if (useCache && !order.empty())
        m_rowCache->put(table, order, *out);
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
