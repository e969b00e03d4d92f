#pragma once

#include "core/replay/lastversions_p.h"
#include "core/sink/sqlrows.h"
#include "core/tape/chunkencoder.h"
#include "core/tape/tape.h"

#include <memory>
#include <vector>

namespace tapedeck {

// The cell identityOutputs() takes for each primary-key column: from the new
// row unless it is a delete (and not an unchanged TOAST value), else from
// the old row. False when a column has none.
bool keyCells(const ChunkEncoder::ChangeCells &change, bool isDelete, std::vector<const ChunkEncoder::ChangeCell *> *out);

inline SqlCell cellOf(const ChunkEncoder::ChangeCell &c)
{
    return c.state == ChunkEncoder::CellView::Value ? SqlCell{c.value.data(), qint32(c.value.size())} : SqlCell{};
}

// The operations that change a row (the others write none).
inline bool rowOperation(Operation op)
{
    return op == Operation::Insert || op == Operation::Update || op == Operation::Read || op == Operation::Delete;
}

// The identity mapping of change events into SQL rows, read in place from
// the chunks: no Event and no SinkOutput per event (replay.md, "Rows"). It
// gives the same rows as identityOutputs(); what it does not handle (Kafka
// records, an encoding the fast reader refuses, a missing key column) goes
// through identityOutputs() and SqlRows::append() instead.
//
// Thread: one (the replay's), except keysOf(), which any may call.
class RowsBuilder
{
public:
    explicit RowsBuilder(const Tape &tape) : m_tape(tape) {}

    // Marks the upserts that a later event of their key overwrites.
    void setLastVersions(LastVersions *last) { m_last = last; }

    // The keys of a chunk's events for which `wanted(index)` holds (the
    // rebuild's first pass; thread-safe). Not usable when the rows path
    // would not handle an event.
    template<typename Wanted>
    static ChunkKeys keysOf(const Chunk &chunk, qint64 firstSeq, int from, Wanted wanted)
    {
        thread_local ChunkEncoder::ChangeCells change;
        thread_local std::vector<const ChunkEncoder::ChangeCell *> key;
        ChunkKeys out;
        for (int i = from; i < chunk.count(); ++i) {
            const Operation op = chunk.operation(i);
            if (!rowOperation(op) || !wanted(i))
                continue;
            if (!ChunkEncoder::changeCells(chunk.extension(i), &change) || !keyCells(change, op == Operation::Delete, &key)) {
                out.usable = false;
                break;
            }
            if (key.empty())
                continue; // no key, no versions: plain inserts
            bool partial = false;
            for (const ChunkEncoder::ChangeCell &c : change.newRow)
                partial = partial || c.state == ChunkEncoder::CellView::UnchangedToast;
            LastVersions::encode(&out.bytes, chunk.streamId(i), key);
            out.seqs.push_back(firstSeq + i);
            out.ends.push_back(quint32(out.bytes.size()));
            out.partial.push_back(partial);
        }
        return out;
    }

    // How many rows it added (0: nothing to write: begin, commit, message,
    // truncate; 2: an update that changed the key deletes the old one); -1:
    // not handled here.
    int add(const std::shared_ptr<const Chunk> &chunk, int index, quint32 streamId, qint64 seq);

    // The rows of a stream's table in this batch.
    SqlRows &rowsFor(quint32 streamId);
    // The batch so far, and a new one begins.
    SqlBatch take();

private:
    const Tape &m_tape;
    ChunkEncoder::ChangeCells m_change;
    std::vector<QByteArrayView> m_names, m_types;
    std::vector<SqlCell> m_cells;
    std::vector<SqlCell> m_oldKey;
    std::vector<const ChunkEncoder::ChangeCell *> m_key, m_oldKeyCells;
    LastVersions *m_last = nullptr;
    QByteArray m_keyBytes;
    std::vector<QByteArrayView> m_oldNames, m_oldTypes;
    std::vector<int> m_tableOf; // by stream id: index in m_batch, -1 none yet
    SqlBatch m_batch;
};

} // namespace tapedeck
