#pragma once

#include "core/sink/sqlrows.h"
#include "core/transform/transform.h"

#include <QHash>
#include <QString>

#include <utility>
#include <vector>

namespace tapedeck {

// A batch's transform outputs on the rows path, one SqlRows per table (in
// tape order within it: the sink keeps the last operation of a key).
//
// Thread: one (the replay's).
class TableRows
{
public:
    explicit TableRows(int workers) : m_shapes(size_t(workers)) {}

    // The rows of `table` in this batch (the table of the last call is checked first).
    SqlRows &forTable(const QString &table)
    {
        if (m_last >= 0 && sameName(m_batch[size_t(m_last)].table(), table))
            return m_batch[size_t(m_last)];
        auto it = m_index.constFind(table);
        if (it == m_index.constEnd()) {
            it = m_index.insert(table, int(m_batch.size()));
            m_batch.emplace_back(table);
        }
        m_last = *it;
        return m_batch[size_t(m_last)];
    }

    // Output k of a worker's rows, as event `seq`'s.
    void add(int worker, const Transform::Rows &rows, size_t k, qint64 seq);
    // The batch so far, and a new one begins.
    SqlBatch take();

private:
    SqlBatch m_batch;
    QHash<QString, int> m_index; // table -> index in m_batch
    int m_last = -1;             // the table of the last call
    std::vector<std::vector<std::pair<int, quint16>>> m_shapes; // per worker, per shape: (table, shape there)
};

} // namespace tapedeck
