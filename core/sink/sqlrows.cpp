#include "core/sink/sqlrows.h"

#include <QHash>

namespace tapedeck {

size_t SqlRows::hashKey(const SqlCell *cells, qsizetype n)
{
    size_t h = 0x51ed270b;
    for (qsizetype i = 0; i < n; ++i)
        h = cells[i].isNull() ? (h ^ 0x9e3779b97f4a7c15u) * 31 : qHash(cells[i].view(), h);
    return h;
}

bool SqlRows::sameKey(const Row &a, const SqlRows &bRows, const Row &b) const
{
    const qsizetype n = shape(a).key.size();
    if (n != bRows.shape(b).key.size())
        return false;
    const SqlCell *x = keyCells(a);
    const SqlCell *y = bRows.keyCells(b);
    for (qsizetype i = 0; i < n; ++i) {
        if (x[i].isNull() != y[i].isNull() || x[i].view() != y[i].view())
            return false;
    }
    return true;
}

void SqlRows::append(const SinkOutput &o)
{
    const qsizetype columns = o.row.size(), keys = o.key.size();
    qsizetype found = -1;
    for (qsizetype s = m_shapes.size() - 1; s >= 0 && found < 0; --s) {
        const Shape &sh = m_shapes[s];
        if (sh.columns.size() != columns || sh.key.size() != keys)
            continue;
        bool same = true;
        for (qsizetype i = 0; i < columns && same; ++i)
            same = sameName(sh.columns[i], o.row[i].name);
        for (qsizetype i = 0; i < keys && same; ++i)
            same = sameName(sh.key[i], o.key[i].name);
        if (same)
            found = s;
    }
    if (found < 0) {
        Shape sh;
        for (const SinkField &f : o.row) {
            sh.columns.append(f.name);
            sh.columnTypes.append(f.value.type);
            sh.utf8.append(f.name.toUtf8());
        }
        for (const SinkField &f : o.key) {
            sh.key.append(f.name);
            sh.keyTypes.append(f.value.type);
            sh.utf8.append(f.name.toUtf8());
        }
        m_shapes.append(std::move(sh));
        found = m_shapes.size() - 1;
    }
    Row r;
    r.seq = o.seq;
    r.op = o.op;
    r.shape = quint16(found);
    r.firstCell = quint32(m_cells.size());
    auto add = [&](const SinkField &f) {
        if (!f.value.text) {
            m_cells.push_back(SqlCell{});
            return;
        }
        m_owned.append(*f.value.text); // shared, so the cell's pointer stays valid
        m_cells.push_back(SqlCell{m_owned.last().constData(), qint32(m_owned.last().size())});
    };
    for (const SinkField &f : o.row)
        add(f);
    for (const SinkField &f : o.key)
        add(f);
    r.keyHash = hashKey(m_cells.data() + r.firstCell + columns, keys);
    m_rows.push_back(r);
}

SinkOutput SqlRows::output(const Row &r) const
{
    const Shape &sh = shape(r);
    SinkOutput o;
    o.seq = r.seq;
    o.table = m_table;
    o.op = r.op;
    const SqlCell *c = cells(r);
    for (qsizetype i = 0; i < sh.columns.size(); ++i)
        o.row.append(SinkField{sh.columns[i], SinkValue{c[i].toByteArray(), sh.columnTypes[i]}});
    c += sh.columns.size();
    for (qsizetype i = 0; i < sh.key.size(); ++i)
        o.key.append(SinkField{sh.key[i], SinkValue{c[i].toByteArray(), sh.keyTypes[i]}});
    return o;
}

quint16 SqlRows::shapeFor(const QByteArrayView *names, const QByteArrayView *types, int columns, int keys)
{
    for (qsizetype s = m_shapes.size() - 1; s >= 0; --s) {
        const Shape &sh = m_shapes[s];
        if (sh.columns.size() != columns || sh.key.size() != keys)
            continue;
        bool same = true;
        for (int i = 0; i < columns + keys && same; ++i)
            same = sh.utf8[i] == names[i];
        if (same)
            return quint16(s);
    }
    Shape sh;
    for (int i = 0; i < columns + keys; ++i) {
        const QString name = QString::fromUtf8(names[i]);
        const QString type = QString::fromUtf8(types[i]);
        // Columns share one QString per name, so later comparisons end at the pointer.
        qsizetype same = sh.columns.indexOf(name);
        (i < columns ? sh.columns : sh.key).append(i >= columns && same >= 0 ? sh.columns[same] : name);
        (i < columns ? sh.columnTypes : sh.keyTypes).append(type);
        sh.utf8.append(names[i].toByteArray());
    }
    m_shapes.append(std::move(sh));
    return quint16(m_shapes.size() - 1);
}

void SqlRows::appendRow(qint64 seq, SqlOp op, quint16 shape, const SqlCell *cells, const std::shared_ptr<const void> &owner,
                        bool superseded)
{
    const Shape &sh = m_shapes[shape];
    const qsizetype columns = sh.columns.size(), keys = sh.key.size();
    if (m_owners.empty() || m_owners.back() != owner)
        m_owners.push_back(owner);
    Row r;
    r.seq = seq;
    r.op = op;
    r.shape = shape;
    r.superseded = superseded;
    r.firstCell = quint32(m_cells.size());
    m_cells.insert(m_cells.end(), cells, cells + columns + keys);
    r.keyHash = hashKey(cells + columns, keys);
    m_rows.push_back(r);
}

SqlBatch toSqlBatch(const QList<SinkOutput> &outputs)
{
    SqlBatch batch;
    for (const SinkOutput &o : outputs) {
        if (batch.empty() || !sameName(batch.back().table(), o.table))
            batch.emplace_back(o.table);
        batch.back().append(o);
    }
    return batch;
}

} // namespace tapedeck

namespace tapedeck {

bool Sink::writeRows(const std::vector<SqlRows> &rows, const QList<ReplayPosition> &progress, QString *error)
{
    QList<SinkOutput> outputs;
    for (const SqlRows &t : rows) {
        for (const SqlRows::Row &r : t.rows())
            outputs.append(t.output(r));
    }
    return write(outputs, progress, error);
}

} // namespace tapedeck
