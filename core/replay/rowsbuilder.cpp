#include "core/replay/rowsbuilder_p.h"

#include <utility>

namespace tapedeck {

bool keyCells(const ChunkEncoder::ChangeCells &change, bool isDelete, std::vector<const ChunkEncoder::ChangeCell *> *out)
{
    out->clear();
    for (const QByteArrayView name : change.primaryKey) {
        const ChunkEncoder::ChangeCell *found = nullptr;
        if (!isDelete) {
            for (const ChunkEncoder::ChangeCell &c : change.newRow) {
                if (c.name == name && c.state != ChunkEncoder::CellView::UnchangedToast)
                    found = &c;
            }
        }
        if (!found) {
            for (const ChunkEncoder::ChangeCell &c : change.oldRow) {
                if (c.name == name && c.state != ChunkEncoder::CellView::UnchangedToast)
                    found = &c;
            }
        }
        if (!found)
            return false;
        out->push_back(found);
    }
    return true;
}

int RowsBuilder::add(const std::shared_ptr<const Chunk> &chunk, int index, quint32 streamId, qint64 seq)
{
    const Operation op = chunk->operation(index);
    if (op == Operation::Record)
        return -1;
    if (!rowOperation(op))
        return 0;
    if (!ChunkEncoder::changeCells(chunk->extension(index), &m_change))
        return -1;
    m_names.clear();
    m_types.clear();
    m_cells.clear();
    auto add = [&](const ChunkEncoder::ChangeCell &c) {
        m_names.push_back(c.name);
        m_types.push_back(c.type);
        m_cells.push_back(cellOf(c));
    };
    const bool isDelete = op == Operation::Delete;
    if (!isDelete) {
        for (const ChunkEncoder::ChangeCell &c : m_change.newRow) {
            if (c.state != ChunkEncoder::CellView::UnchangedToast)
                add(c);
        }
    }
    const int columns = int(m_names.size());
    if (!keyCells(m_change, isDelete, &m_key))
        return -1;
    for (const ChunkEncoder::ChangeCell *c : m_key)
        add(*c);
    const int keys = int(m_names.size()) - columns;
    if (keys == 0 && (isDelete || op == Operation::Update))
        return -1; // the error identityOutputs() gives
    const SqlOp sqlOp = isDelete ? SqlOp::Delete : keys == 0 ? SqlOp::Insert : SqlOp::Upsert;
    SqlRows &rows = rowsFor(streamId);
    int added = 0;
    if (op == Operation::Update && keys > 0 && !m_change.oldRow.empty()) {
        // A primary-key change: the row left its old key (as identityOutputs()).
        if (keyCells(m_change, true, &m_oldKeyCells)) {
            bool changed = false;
            for (int k = 0; k < keys; ++k) {
                const ChunkEncoder::ChangeCell &was = *m_oldKeyCells[size_t(k)], &now = *m_key[size_t(k)];
                changed = changed || was.name != now.name || was.type != now.type || cellOf(was).isNull() != cellOf(now).isNull()
                          || cellOf(was).view() != cellOf(now).view();
            }
            if (changed) {
                m_oldKey.clear();
                m_oldNames.clear();
                m_oldTypes.clear();
                for (const ChunkEncoder::ChangeCell *c : m_oldKeyCells) {
                    m_oldKey.push_back(cellOf(*c));
                    m_oldNames.push_back(c->name);
                    m_oldTypes.push_back(c->type);
                }
                const quint16 gone = rows.shapeFor(m_oldNames.data(), m_oldTypes.data(), 0, keys);
                rows.appendRow(seq, SqlOp::Delete, gone, m_oldKey.data(), chunk);
                added = 1;
            }
        }
    }
    const quint16 shape = rows.shapeFor(m_names.data(), m_types.data(), columns, keys);
    bool superseded = false;
    if (m_last && sqlOp == SqlOp::Upsert) {
        m_keyBytes.clear();
        LastVersions::encode(&m_keyBytes, streamId, m_key);
        superseded = m_last->superseded(m_keyBytes, seq);
    }
    rows.appendRow(seq, sqlOp, shape, m_cells.data(), chunk, superseded);
    return added + 1;
}

SqlRows &RowsBuilder::rowsFor(quint32 streamId)
{
    if (m_tableOf.size() <= streamId)
        m_tableOf.resize(streamId + 1, -1);
    int &t = m_tableOf[streamId];
    if (t < 0) {
        t = int(m_batch.size());
        m_batch.emplace_back(m_tape.streamKey(streamId).topic);
    }
    return m_batch[size_t(t)];
}

SqlBatch RowsBuilder::take()
{
    m_tableOf.assign(m_tableOf.size(), -1);
    return std::exchange(m_batch, {});
}

} // namespace tapedeck
