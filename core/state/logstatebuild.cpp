// LogState::build (logstate.md, "Design"): one pass over the tape into each
// table's key and event lists (Builder::scan), then per table the keys
// ranked in the key order, the per-key event index and the checkpoints
// (Builder::finish).

#include "core/state/logstate_p.h"

#include "core/base/rawjson.h"
#include "core/tape/tape.h"

#include <QHash>

#include <algorithm>
#include <numeric>

using namespace Qt::StringLiterals;

namespace tapedeck {

using namespace logstate;

namespace {

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

struct LogState::Builder
{
    // A table's keys while the tape is read: ids in order of appearance.
    struct Building
    {
        QHash<QByteArray, quint32> ids;
        std::vector<QByteArray> keys;
        std::vector<qint32> partition;
        bool columnsKnown = false;
    };

    LogState &state;
    const Tape &tape;
    std::vector<Building> building;
    std::vector<int> streamTable = {}; // stream id -> table index, -1 none, -2 unknown yet
    QByteArray keyText = {}, oldKeyText = {};
    Event event = {};

    bool scan(const std::function<bool(qint64, qint64)> &progress, QString *error);
    int tableFor(quint32 streamId);
    quint32 intern(int t, QByteArrayView key, qint32 partition);
    void addEvent(const Chunk &chunk, int i, quint32 seq);
    void addRecord(const Chunk &chunk, int i, int t, quint32 seq);
    void addChange(const Chunk &chunk, int i, int t, quint32 seq, Operation op);
    bool finish(const std::function<bool(qint64, qint64)> &progress, const Options &options, QString *error);
    std::vector<quint32> rankKeys(size_t t);
    static void indexEvents(TableData &d, const std::vector<quint32> &rank);
    static void addCheckpoints(TableData &d, const Options &options, qint64 allEvents);
};

std::shared_ptr<const LogState> LogState::build(std::shared_ptr<const Tape> tape, QString *error,
                                                const std::function<bool(qint64, qint64)> &progress, Options options)
{
    std::shared_ptr<LogState> state(new LogState);
    state->m_tape = tape;
    state->m_eventCount = tape->eventCount();
    Builder builder{*state, *tape, {}};
    if (!builder.scan(progress, error) || !builder.finish(progress, options, error))
        return nullptr;
    return state;
}

bool LogState::Builder::scan(const std::function<bool(qint64, qint64)> &progress, QString *error)
{
    const qint64 total = tape.eventCount();
    for (int ci = 0; ci < tape.chunkCount(); ++ci) {
        if (progress && ci % 16 == 0 && !progress(tape.chunkInfo(ci).firstSeq, total)) {
            *error = u"cancelled"_s;
            return false;
        }
        const std::shared_ptr<const Chunk> chunk = tape.chunk(ci, error);
        if (!chunk)
            return false;
        const qint64 first = tape.chunkInfo(ci).firstSeq;
        for (int i = 0; i < chunk->count(); ++i)
            addEvent(*chunk, i, quint32(first + i));
    }
    return true;
}

// The table of a stream, made when first seen; -1 for streams without one.
int LogState::Builder::tableFor(quint32 streamId)
{
    if (streamId >= streamTable.size())
        streamTable.resize(streamId + 1, -2);
    int &t = streamTable[streamId];
    if (t != -2)
        return t;
    const StreamKey &key = tape.streamKey(streamId);
    t = -1;
    if (key.topic.isEmpty())
        return t;
    const SourceKind kind = key.kind == SourceKind::File ? SourceKind::Kafka : key.kind;
    for (int i = 0; i < state.m_tables.size(); ++i) {
        if (state.m_tables[i].name == key.topic && state.m_tables[i].kind == kind)
            t = i;
    }
    if (t < 0) {
        LogStateTable info;
        info.name = key.topic;
        info.kind = kind;
        state.m_tables.append(info);
        state.m_data.push_back(std::make_unique<TableData>());
        building.emplace_back();
        t = int(state.m_tables.size() - 1);
    }
    LogStateTable &info = state.m_tables[t];
    const qint32 p = key.kind == SourceKind::Postgres ? 0 : key.partition;
    if (!info.partitions.contains(p)) {
        info.partitions.append(p);
        std::sort(info.partitions.begin(), info.partitions.end());
    }
    return t;
}

// The id of a table's key, made when first seen; a key seen in another
// partition than before gets partition -2.
quint32 LogState::Builder::intern(int t, QByteArrayView key, qint32 partition)
{
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
}

void LogState::Builder::addEvent(const Chunk &chunk, int i, quint32 seq)
{
    const int t = tableFor(chunk.streamId(i));
    if (t < 0)
        return;
    const Operation op = chunk.operation(i);
    if (op == Operation::Record) {
        addRecord(chunk, i, t, seq);
    } else if (op == Operation::Truncate) {
        TableData &d = *state.m_data[size_t(t)];
        d.truncates.push_back(quint32(d.evSeq.size()));
        d.evSeq.push_back(seq);
        d.evKey.push_back(TruncateEvent);
        ++state.m_tables[t].events;
    } else if (op == Operation::Insert || op == Operation::Update || op == Operation::Delete || op == Operation::Read) {
        addChange(chunk, i, t, seq, op);
    }
}

// A Kafka record: a value upserts the key, a tombstone deletes it.
void LogState::Builder::addRecord(const Chunk &chunk, int i, int t, quint32 seq)
{
    LogStateTable &info = state.m_tables[t];
    if (chunk.flags(i) & (Aborted | ControlRecord))
        return;
    if (!chunk.hasKey(i)) {
        ++info.unkeyedEvents;
        return;
    }
    const qint32 partition = tape.streamKey(chunk.streamId(i)).partition;
    const quint32 k = intern(t, chunk.key(i), partition);
    TableData &d = *state.m_data[size_t(t)];
    d.evSeq.push_back(seq);
    d.evKey.push_back(chunk.hasValue(i) ? k : (k | DeleteBit));
    ++info.events;
}

// A change event. Its CBOR is decoded only for a table's first event (the
// key columns) and for updates that may carry an old row (a changed key).
void LogState::Builder::addChange(const Chunk &chunk, int i, int t, quint32 seq, Operation op)
{
    LogStateTable &info = state.m_tables[t];
    TableData &d = *state.m_data[size_t(t)];
    Building &b = building[size_t(t)];
    const QByteArrayView ext = chunk.extension(i);
    const bool decode = !b.columnsKnown || (op == Operation::Update && mayHaveOldRow(ext));
    if (decode) {
        chunk.fill(i, &event);
        if (!b.columnsKnown && !event.primaryKey.isEmpty()) {
            info.keyColumns = event.primaryKey;
            b.columnsKnown = true;
        }
    }
    if (!chunk.hasKey(i) || !keyFromJson(chunk.key(i), &keyText)) {
        ++info.unkeyedEvents;
        return;
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

// Key ids become ranks in the key order; then per-key event lists and checkpoints.
bool LogState::Builder::finish(const std::function<bool(qint64, qint64)> &progress, const Options &options,
                               QString *error)
{
    const qint64 total = tape.eventCount();
    qint64 allEvents = 0;
    for (size_t t = 0; t < state.m_data.size(); ++t)
        allEvents += qint64(state.m_data[t]->evSeq.size());
    for (size_t t = 0; t < state.m_data.size(); ++t) {
        if (progress && !progress(total, total)) {
            *error = u"cancelled"_s;
            return false;
        }
        TableData &d = *state.m_data[t];
        indexEvents(d, rankKeys(t));
        addCheckpoints(d, options, allEvents);
    }
    return true;
}

// Table t's keys into its arena in the key order; returns id -> rank.
std::vector<quint32> LogState::Builder::rankKeys(size_t t)
{
    Building &b = building[t];
    TableData &d = *state.m_data[t];
    LogStateTable &info = state.m_tables[int(t)];
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
    return rank;
}

// The events' key ids as ranks, and the per-key event index (CSR).
void LogState::Builder::indexEvents(TableData &d, const std::vector<quint32> &rank)
{
    const quint32 n = quint32(rank.size());
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
}

// Checkpoints: this table's share of the budget, by its events.
void LogState::Builder::addCheckpoints(TableData &d, const Options &options, qint64 allEvents)
{
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

} // namespace tapedeck
