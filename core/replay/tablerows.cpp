#include "core/replay/tablerows_p.h"

namespace tapedeck {

void TableRows::add(int worker, const Transform::Rows &rows, size_t k, qint64 seq)
{
    const Transform::Rows::Output &o = rows.outputs[k];
    SqlRows &table = forTable(rows.tables[o.table]);
    // The worker's shape in this table's SqlRows, looked up once.
    std::vector<std::pair<int, quint16>> &cache = m_shapes[size_t(worker)];
    if (cache.size() <= o.shape)
        cache.resize(size_t(o.shape) + 1, {-1, 0});
    std::pair<int, quint16> &shape = cache[o.shape];
    if (shape.first != m_last) {
        const Transform::Rows::Shape &sh = rows.shapes[o.shape];
        shape = {m_last, table.shapeFor(sh.nameViews.data(), sh.typeViews.data(), sh.columns, sh.keys)};
    }
    table.appendRow(seq, o.op, shape.second, rows.cells.data() + o.firstCell, rows.owners[o.owner]);
}

SqlBatch TableRows::take()
{
    m_index.clear();
    m_last = -1;
    for (auto &cache : m_shapes)
        cache.clear();
    return std::exchange(m_batch, {});
}

} // namespace tapedeck
