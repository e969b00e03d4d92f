// DiffRun's state side (diffrun_p.h): every live key's canonical table key
// and a digest of its other columns, read in tape order (each chunk decoded
// once). The keys are cut into parts at chunk boundaries, read on up to
// idealThreadCount() threads and merged in order, so a later event still
// wins a key collision as in one pass (tablediff.md, "Cost").

#include "core/diff/diffrun_p.h"

#include <QThread>

#include <algorithm>
#include <limits>
#include <thread>

namespace tapedeck::tablediff {

// The canonical cells of one state row: the key columns into `keys`, the
// others into `rest`; keyOk turns false when a key column is NULL.
struct DiffRun::RowCells
{
    ByteSink *keys;
    ByteSink *rest;
    const std::vector<ValueClass> &classes;
    int nKeys;
    bool keyOk = true;

    void add(int c, bool null, QByteArrayView v)
    {
        if (c < nKeys) {
            keyOk = keyOk && !null;
            CanonicalRow::appendCell(keys, null, v, classes[size_t(c)]);
        } else {
            CanonicalRow::appendCell(rest, null, v, classes[size_t(c)]);
        }
    }
};

bool DiffRun::readState()
{
    m_byKey.emplace(size_t(m_snapshot.rowCount()));
    const Order order = stateOrder();
    std::vector<StatePart> parts = cutParts(order);
    {
        std::vector<std::thread> workers;
        for (size_t p = 1; p < parts.size(); ++p)
            workers.emplace_back([this, &order, part = &parts[p]] { readPart(order, part); });
        readPart(order, &parts[0]);
        for (std::thread &w : workers)
            w.join();
    }
    m_entries.reserve(order.size());
    return mergeParts(parts);
}

// The live keys by their last event: tape order.
DiffRun::Order DiffRun::stateOrder() const
{
    const qint64 n = m_snapshot.rowCount();
    Order order;
    order.reserve(size_t(n));
    const QList<quint32> keys = m_snapshot.keys(0, int(std::min<qint64>(n, std::numeric_limits<int>::max())));
    for (quint32 k : keys)
        order.emplace_back(m_snapshot.lastSeq(k), k);
    if (!std::is_sorted(order.begin(), order.end()))
        std::sort(order.begin(), order.end());
    return order;
}

// Parts cut where a chunk ends; by default of at least 16384 keys.
std::vector<DiffRun::StatePart> DiffRun::cutParts(const Order &order) const
{
    const Tape &tape = *m_state.tape();
    const size_t nParts = m_options.threads > 0
        ? size_t(m_options.threads)
        : std::clamp<size_t>(order.size() / 16384, 1, size_t(std::clamp(QThread::idealThreadCount(), 1, 4)));
    std::vector<StatePart> parts(nParts);
    for (size_t p = 0; p < nParts; ++p) {
        size_t to = p + 1 == nParts ? order.size() : std::max(parts[p].from, order.size() * (p + 1) / nParts);
        while (p + 1 < nParts && to > parts[p].from && to < order.size()
               && tape.chunkIndexOf(order[to].first) == tape.chunkIndexOf(order[to - 1].first))
            ++to;
        parts[p].to = to;
        if (p + 1 < nParts)
            parts[p + 1].from = to;
    }
    return parts;
}

// Change rows: the mapped columns read straight from the event's CBOR
// (RowColumns); Kafka: the key and value bytes in place (kafkaCells); change
// rows that RowColumns cannot read or that hold unchanged TOAST values: the
// decoded event (eventCells).
void DiffRun::readPart(const Order &order, StatePart *part) const
{
    const Tape &tape = *m_state.tape();
    std::shared_ptr<const Chunk> chunk;
    int chunkIndex = -1;
    Event e;
    ByteSink rest;
    RowColumns columns(m_sources);
    const size_t count = part->to - part->from;
    part->keyIds.reserve(count);
    part->digests.reserve(count);
    part->keyHashes.reserve(count);
    part->keyEnds.reserve(count);
    for (size_t i = part->from; i < part->to; ++i) {
        const auto [seq, keyId] = order[i];
        const int ci = tape.chunkIndexOf(seq);
        if (ci != chunkIndex) {
            chunk = tape.chunk(ci, &part->error);
            if (!chunk) {
                part->failed = true;
                return;
            }
            chunkIndex = ci;
        }
        const int at = int(seq - tape.chunkInfo(ci).firstSeq);
        const qsizetype keyStart = part->keys.size();
        rest.clear();
        RowCells cells{&part->keys, &rest, m_classes, m_nKeys};
        bool unchanged = false;
        if (m_change && columns.read(chunk->extension(at), &unchanged) && !unchanged) {
            for (int c = 0; c < m_nCols; ++c) {
                const ChunkEncoder::CellView &cell = columns.cell(c);
                cells.add(c, cell.state != ChunkEncoder::CellView::Value, cell.value);
            }
        } else if (!m_change) {
            kafkaCells(*chunk, at, &cells);
        } else if (!eventCells(*chunk, at, keyId, &e, &cells, &part->error)) {
            part->failed = true;
            return;
        }
        if (!cells.keyOk) {
            ++part->unmappable;
            part->keys.truncate(keyStart);
            continue;
        }
        part->keyIds.push_back(keyId);
        part->digests.push_back(CanonicalRow::digest(rest.view(), DigestSeed));
        part->keyHashes.push_back(KeyTable::hashOf(part->keys.view().sliced(keyStart)));
        part->keyEnds.push_back(part->keys.size());
    }
}

// A Kafka record's mapped cells, from its key and value bytes in place.
void DiffRun::kafkaCells(const Chunk &chunk, int at, RowCells *cells) const
{
    const bool hasKey = chunk.hasKey(at), hasValue = chunk.hasValue(at);
    const QByteArrayView key = chunk.key(at), value = chunk.value(at);
    for (int c = 0; c < m_nCols; ++c) {
        const Mapped &m = m_sources[c];
        switch (m.from) {
        case Mapped::From::Key: cells->add(c, !hasKey, key); break;
        case Mapped::From::Value: cells->add(c, !hasValue, value); break;
        case Mapped::From::KeyField:
        case Mapped::From::ValueField: {
            const bool present = m.from == Mapped::From::KeyField ? hasKey : hasValue;
            const std::optional<RawJson> v =
                present ? rawjson::path(m.from == Mapped::From::KeyField ? key : value, m.path) : std::nullopt;
            const bool null = !v || v->type == RawJson::Type::Null;
            cells->add(c, null, null ? QByteArrayView() : QByteArrayView(v->text));
            break;
        }
        case Mapped::From::Column: cells->add(c, true, {}); break;
        }
    }
}

// A change row's mapped cells from the decoded event; unchanged TOAST values
// the slow way, from the key's full row. False + *error when the tape cannot be read.
bool DiffRun::eventCells(const Chunk &chunk, int at, quint32 keyId, Event *e, RowCells *cells, QString *error) const
{
    chunk.fill(at, e);
    if (std::any_of(e->newRow.cbegin(), e->newRow.cend(), [](const Column &c) { return c.unchangedToast; })) {
        const auto full = m_state.row(m_snapshot, keyId, error);
        if (!full)
            return false;
        e->newRow = full->row;
    }
    for (int c = 0; c < m_nCols; ++c) {
        const std::optional<QByteArray> v = mappedValue(m_sources[c], *e);
        cells->add(c, !v.has_value(), v ? QByteArrayView(*v) : QByteArrayView());
    }
    return true;
}

// The parts' keys into the key table, in tape order: a later state key that
// maps to the same table key shadows the earlier one.
bool DiffRun::mergeParts(std::vector<StatePart> &parts)
{
    KeyTable &byKey = *m_byKey;
    for (StatePart &part : parts) {
        if (part.failed) {
            *m_error = part.error;
            return false;
        }
        m_result->unmappable += part.unmappable;
        const size_t m = part.keyIds.size();
        qsizetype start = 0;
        for (size_t i = 0; i < m; ++i) {
            if (i + 8 < m)
                byKey.prefetch(part.keyHashes[i + 8]);
            const QByteArrayView key(part.keys.data() + start, part.keyEnds[i] - start);
            start = part.keyEnds[i];
            const quint32 index = quint32(m_entries.size());
            m_entries.push_back({part.keyIds[i], part.digests[i], false, false});
            bool inserted = false;
            quint32 *it = byKey.insert(key, part.keyHashes[i], index, &inserted);
            if (!inserted) {
                ++m_result->keyCollisions;
                m_entries[*it].shadowed = true;
                *it = index;
            }
        }
        part = StatePart{};
    }
    return true;
}

} // namespace tapedeck::tablediff
