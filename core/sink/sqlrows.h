#pragma once

#include "core/sink/sink.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <memory>
#include <vector>

namespace tapedeck {

class Chunk;

// One value of a row in SqlRows: a view (no copy) into bytes the SqlRows
// keeps alive. size < 0: SQL NULL.
struct SqlCell
{
    const char *data = nullptr;
    qint32 size = -1;
    bool isNull() const { return size < 0; }
    QByteArrayView view() const { return size < 0 ? QByteArrayView() : QByteArrayView(data, size); }
    std::optional<QByteArray> toByteArray() const
    {
        return size < 0 ? std::nullopt : std::optional<QByteArray>(QByteArray(data, size));
    }
};

// The SQL outputs of one table, as rows of cells rather than one SinkOutput
// each: what the identity mapping of change events becomes on the replay's
// fast path (replay.md, "Rows"), and what PgSink works on. A row's cells are
// its row columns, then its key columns (the shape says which). Cells point
// into the tape chunks (kept alive here) or into byte arrays owned here, so
// building a row copies no value.
// Thread: a value type; built on one thread, then read by the sink's.
class SqlRows
{
public:
    struct Shape
    {
        QList<QString> columns, columnTypes; // the row's columns (upsert, insert)
        QList<QString> key, keyTypes;        // the conflict/delete key
        QList<QByteArray> utf8;              // columns then key, UTF-8 (matching)
    };
    struct Row
    {
        qint64 seq = -1;
        size_t keyHash = 0;  // of the key cells' values (hashKey())
        quint32 firstCell = 0;
        quint16 shape = 0;
        SqlOp op = SqlOp::Upsert;
        // A later event of the replay writes this key again, whole: a sink
        // may leave the row out where the key cannot exist yet (replay.md, "Rebuilds").
        bool superseded = false;
    };

    explicit SqlRows(QString table = {}) : m_table(std::move(table)) {}

    const QString &table() const { return m_table; }
    const QList<Shape> &shapes() const { return m_shapes; }
    const std::vector<Row> &rows() const { return m_rows; }
    qsizetype size() const { return qsizetype(m_rows.size()); }
    bool isEmpty() const { return m_rows.empty(); }
    const Shape &shape(const Row &r) const { return m_shapes[r.shape]; }
    // The row's cells: shape(r).columns.size() row cells, then the key cells.
    const SqlCell *cells(const Row &r) const { return m_cells.data() + r.firstCell; }
    const SqlCell *keyCells(const Row &r) const { return cells(r) + m_shapes[r.shape].columns.size(); }
    bool sameKey(const Row &a, const SqlRows &bRows, const Row &b) const;

    // Appends an output of kind Sql for this table (its values are shared, not copied).
    void append(const SinkOutput &output);
    // The row back as a SinkOutput (sinks without a rows path).
    SinkOutput output(const Row &r) const;

    // Building rows from views: find or add the shape whose names (columns
    // then key, UTF-8) are `names`; `types` alike. The views must stay valid
    // for the call only.
    quint16 shapeFor(const QByteArrayView *names, const QByteArrayView *types, int columns, int keys);
    // Appends a row of `shape` whose cells point into `owner`'s memory.
    void appendRow(qint64 seq, SqlOp op, quint16 shape, const SqlCell *cells, const std::shared_ptr<const void> &owner,
                   bool superseded = false);

    static size_t hashKey(const SqlCell *cells, qsizetype n);

private:
    QString m_table;
    QList<Shape> m_shapes;
    std::vector<Row> m_rows;
    std::vector<SqlCell> m_cells;
    std::vector<std::shared_ptr<const void>> m_owners; // what cells point into (distinct, in order)
    QList<QByteArray> m_owned;                         // values of appended SinkOutputs
};

// Equal names; names shared from one QString (identity outputs, a shape's
// columns) end the comparison at the pointer.
inline bool sameName(const QString &a, const QString &b)
{
    return a.constData() == b.constData() ? a.size() == b.size() : a == b;
}

// A batch of rows in tape order: a table may appear in several SqlRows (the
// sink keeps the last operation per table and key across them).
using SqlBatch = std::vector<SqlRows>;

// Groups outputs into SqlRows per run of one table, in order.
SqlBatch toSqlBatch(const QList<SinkOutput> &outputs);

} // namespace tapedeck
