// Mapped sources and RowColumns (statecolumns_p.h): reading the compared
// columns out of a state row.

#include "core/diff/statecolumns_p.h"

#include "core/base/rawjson.h"

#include <algorithm>

namespace tapedeck::tablediff {

namespace {

std::optional<QByteArray> fromJson(const std::optional<RawJson> &v)
{
    if (!v || v->type == RawJson::Type::Null)
        return std::nullopt;
    return v->text;
}

} // namespace

std::optional<Mapped> parseSource(const QString &source, bool change)
{
    Mapped m;
    if (change) {
        m.column = source;
        return m;
    }
    if (source == u"key")
        m.from = Mapped::From::Key;
    else if (source == u"value")
        m.from = Mapped::From::Value;
    else if (source.startsWith(u"key.") && source.size() > 4)
        m.from = Mapped::From::KeyField, m.path = source.mid(4).toUtf8();
    else if (source.startsWith(u"value.") && source.size() > 6)
        m.from = Mapped::From::ValueField, m.path = source.mid(6).toUtf8();
    else
        return std::nullopt;
    return m;
}

std::optional<QByteArray> mappedValue(const Mapped &m, const Event &e)
{
    switch (m.from) {
    case Mapped::From::Column:
        for (const Column &c : e.newRow) {
            if (c.name == m.column)
                return c.value;
        }
        return std::nullopt;
    case Mapped::From::Key: return e.key;
    case Mapped::From::Value: return e.value;
    case Mapped::From::KeyField: return e.key ? fromJson(rawjson::path(*e.key, m.path)) : std::nullopt;
    case Mapped::From::ValueField: return e.value ? fromJson(rawjson::path(*e.value, m.path)) : std::nullopt;
    }
    return std::nullopt;
}

RowColumns::RowColumns(const QList<Mapped> &sources)
{
    for (const Mapped &m : sources) {
        const QByteArray name = m.column.toUtf8();
        const auto it = std::find(m_names.cbegin(), m_names.cend(), name);
        m_of.push_back(int(it - m_names.cbegin()));
        if (it == m_names.cend())
            m_names.push_back(name);
    }
    m_cells.resize(m_names.size());
}

bool RowColumns::read(QByteArrayView extension, bool *unchanged)
{
    if (!ChunkEncoder::changeCells(extension, &m_row))
        return false;
    std::fill(m_cells.begin(), m_cells.end(), ChunkEncoder::CellView{});
    *unchanged = false;
    if (m_layout.size() < m_row.newRow.size())
        m_layout.resize(m_row.newRow.size());
    for (size_t i = 0; i < m_row.newRow.size(); ++i) {
        const ChunkEncoder::ChangeCell &cell = m_row.newRow[i];
        *unchanged = *unchanged || cell.state == ChunkEncoder::CellView::UnchangedToast;
        Position &p = m_layout[i];
        if (!p.known || p.name != cell.name) {
            p.known = true;
            p.name = cell.name.toByteArray();
            const auto it = std::find(m_names.cbegin(), m_names.cend(), cell.name);
            p.column = it == m_names.cend() ? -1 : int(it - m_names.cbegin());
        }
        if (p.column >= 0 && m_cells[size_t(p.column)].state == ChunkEncoder::CellView::Absent) // the first of a name
            m_cells[size_t(p.column)] = ChunkEncoder::CellView{cell.state, cell.value};
    }
    return true;
}

} // namespace tapedeck::tablediff
