#pragma once

// Where a compared column comes from in the state (Mapped, parseSource,
// mappedValue) and RowColumns, which reads the mapped cells of a change
// event's row in place. Private to TableDiff.

#include "core/tape/chunkencoder.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <optional>
#include <vector>

namespace tapedeck::tablediff {

struct Mapped
{
    enum class From : quint8 { Column, Key, KeyField, Value, ValueField };
    From from = From::Column;
    QByteArray path; // JSON path
    QString column;  // change rows: the column's name
};

// A --map source (tablediff.md); nullopt when a Kafka source is none of
// key, key.FIELD, value, value.FIELD. Change rows: any column name.
std::optional<Mapped> parseSource(const QString &source, bool change);

// The value of one mapped column in a state row.
std::optional<QByteArray> mappedValue(const Mapped &m, const Event &e);

// The mapped columns of a change event's new row, read in place
// (ChunkEncoder::changeCells: views, no Event, no QString). The rows of a
// table share their column layout, so each position remembers the column
// name it had and which mapped column that fills: one name comparison per
// cell instead of one per cell and mapped column.
class RowColumns
{
public:
    explicit RowColumns(const QList<Mapped> &sources);
    // False when the extension is not in the form encodeExtension() writes
    // (decode it then). *unchanged: some cell of the row is an unchanged TOAST value.
    bool read(QByteArrayView extension, bool *unchanged);
    // Mapped column c of the row read last (Absent when the row has no such column).
    const ChunkEncoder::CellView &cell(int c) const { return m_cells[size_t(m_of[size_t(c)])]; }

private:
    struct Position
    {
        bool known = false;
        QByteArray name;
        int column = -1; // into m_names
    };
    std::vector<QByteArray> m_names; // distinct
    std::vector<int> m_of;           // mapped column -> m_names
    std::vector<ChunkEncoder::CellView> m_cells;
    std::vector<Position> m_layout;
    ChunkEncoder::ChangeCells m_row;
};

} // namespace tapedeck::tablediff
