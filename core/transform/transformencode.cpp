#include "core/transform/transform_p.h"

#include <algorithm>
#include <cmath>

// The events of a run into the runner's batch: S (strings) and N (numbers),
// with the name and shape tables sent to the engine once
// (core/transform/transform.md, "Events in").

namespace tapedeck {

int Transform::Private::nameId(const QString &name)
{
    for (const RecentName &r : recentNames) {
        if (r.name.constData() == name.constData() && r.name.size() == name.size() && r.id >= 0)
            return r.id;
    }
    const int id = nameIdSlow(name);
    recentNames[recentNameNext++ % recentNames.size()] = RecentName{name, id};
    return id;
}

int Transform::Private::nameIdSlow(const QString &name)
{
    auto it = nameIds.constFind(name);
    if (it != nameIds.constEnd())
        return *it;
    const int id = int(nameIds.size());
    nameIds.insert(QString(name.constData(), name.size()), id);
    jsNames.setProperty(quint32(id), name);
    return id;
}

void Transform::Private::trimTables()
{
    if (nameIds.size() < 4096 && shapes.size() < 4096 && outShapes.size() < 4096 && !jsNames.isUndefined())
        return;
    nameIds.clear();
    shapes.clear();
    lastPkShape = -1;
    recentNames = {};
    recentCells = {};
    jsNames = engine.newArray();
    jsShapes = engine.newArray();
    runFn = QJSValue();
}

template<typename Name, typename Type>
int Transform::Private::shapeId(qsizetype n, Name name, Type type)
{
    size_t h = size_t(n);
    for (qsizetype i = 0; i < n; ++i)
        h = qHashMulti(h, name(i), type(i));
    for (size_t j = 0; j < shapes.size(); ++j) {
        const Shape &s = shapes[j];
        if (s.hash != h || s.names.size() != n)
            continue;
        bool same = true;
        for (qsizetype i = 0; i < n && same; ++i)
            same = s.names[i] == name(i) && s.types[i] == type(i);
        if (same)
            return int(j);
    }
    Shape s{h, {}, {}};
    QJSValue jn = engine.newArray(uint(n)), jt = engine.newArray(uint(n));
    for (qsizetype i = 0; i < n; ++i) {
        const QString &nm = name(i), &ty = type(i);
        s.names.append(QString(nm.constData(), nm.size())); // owned: the cache outlives events
        s.types.append(QString(ty.constData(), ty.size()));
        jn.setProperty(quint32(i), nm);
        jt.setProperty(quint32(i), ty);
    }
    const int id = int(shapes.size());
    shapes.push_back(std::move(s));
    QJSValue pair = engine.newArray(2);
    pair.setProperty(0, jn);
    pair.setProperty(1, jt);
    jsShapes.setProperty(quint32(id), pair);
    return id;
}

void Transform::Private::setLast(size_t i)
{
    auto value = [](bool have, qint64 v) { return have ? QJSValue(double(v)) : QJSValue(std::nan("")); };
    auto text = [](bool have, qint64 v) { return have ? QJSValue(QString::number(v)) : QJSValue(QString()); };
    constexpr double Safe = 9007199254740992.0;
    auto small = [&](qint64 v) { return double(v) < Safe && double(v) > -Safe; };
    const bool ts = i > 0 && small(encoded[i - 1].ts);
    const qint64 tsValue = i > 0 ? encoded[i - 1].ts : 0;
    const Encoded *change = nullptr;
    for (size_t j = i; j > 0 && !change; --j)
        change = encoded[j - 1].change ? &encoded[j - 1] : nullptr;
    const bool tx = change && small(change->tx), lsn = change && small(change->lsn);
    setLastFn.call({value(ts, tsValue), text(ts, tsValue), value(tx, tx ? change->tx : 0), text(tx, tx ? change->tx : 0),
                    value(lsn, lsn ? change->lsn : 0), text(lsn, lsn ? change->lsn : 0)});
}

void Transform::Private::encode(const Event &e, qint64 seq, const ChunkEncoder::ChangeCells &cells)
{
    sStart.push_back(S.size());
    kStart.push_back(qsizetype(N.size()));
    constexpr double Safe = 9007199254740992.0;
    // Time, txid and LSN: as a number, with the text in S when it differs
    // from the last event's (as the runner tracks them); beyond 2^53 as
    // text only (meta bit).
    auto num = [&](qint64 v, int bit, double *meta, Last *last) {
        if (double(v) < Safe && double(v) > -Safe) {
            if (!last->have || last->value != v) {
                S.append(QString::number(v));
                *last = Last{true, v};
            }
            return double(v);
        }
        *meta += bit;
        S.append(QString::number(v));
        last->have = false;
        return std::nan("");
    };
    double meta = e.isChange() ? 1 : 0;
    const size_t k = N.size();
    N.resize(k + (e.isChange() ? 12 : 10));
    N[k] = double(seq);
    N[k + 1] = e.partition;
    N[k + 2] = double(e.timestampMs());
    N[k + 4] = nameId(e.topic);
    N[k + 5] = nameId(toString(e.kind));
    N[k + 6] = nameId(toString(e.operation));
    S.append(QString::number(e.position));
    N[k + 8] = double((e.key ? e.key->size() : 0) + (e.value ? e.value->size() : 0));
    N[k + 9] = num(e.timestampUs, 64, &meta, &lastTs);
    Encoded done{e.isChange(), e.timestampUs, 0, 0};
    if (e.isChange()) {
        done.tx = cells.transactionId;
        done.lsn = cells.commitLsn;
        N[k + 10] = num(done.tx, 128, &meta, &lastTx);
        N[k + 11] = num(done.lsn, 256, &meta, &lastLsn);
    }
    encoded.push_back(done);
    if (e.key) {
        meta += 2;
        S.append(QString::fromUtf8(*e.key));
    }
    if (e.value) {
        meta += 4;
        S.append(QString::fromUtf8(*e.value));
    }
    if (!e.headers.isEmpty()) {
        meta += 1024.0 * double(e.headers.size());
        const bool nulls = std::any_of(e.headers.cbegin(), e.headers.cend(), [](const Header &h) { return !h.value; });
        if (nulls) {
            meta += 512;
            QString mask;
            for (const Header &h : e.headers)
                mask += h.value ? u'v' : u'n';
            S.append(mask);
        }
        for (const Header &h : e.headers) {
            S.append(QString::fromUtf8(h.name));
            S.append(h.value ? QString::fromUtf8(*h.value) : QString());
        }
    }
    if (e.isChange())
        encodeCells(cells, k, &meta);
    N[k + 3] = meta;
}

void Transform::Private::setPk(const std::vector<QByteArrayView> &utf8)
{
    bool same = lastPkShape >= 0 && lastPkUtf8.size() == utf8.size();
    for (size_t i = 0; i < utf8.size() && same; ++i)
        same = lastPkUtf8[i] == utf8[i];
    if (same)
        return;
    QStringList names;
    lastPkUtf8.clear();
    for (const QByteArrayView n : utf8) {
        names.append(QString::fromUtf8(n));
        lastPkUtf8.push_back(n.toByteArray());
    }
    static const QString none;
    lastPkShape = shapeId(names.size(), [&](qsizetype i) -> const QString & { return names[i]; },
                          [](qsizetype) -> const QString & { return none; });
}

void Transform::Private::encodeCells(const ChunkEncoder::ChangeCells &cells, size_t k, double *meta)
{
    setPk(cells.primaryKey);
    int rows[2] = {-1, -1};
    int bit = 8;
    using Cell = ChunkEncoder::ChangeCell;
    using State = ChunkEncoder::CellView::State;
    for (int r = 0; r < 2; ++r, bit *= 2) {
        const std::vector<Cell> &row = r == 0 ? cells.oldRow : cells.newRow;
        if (row.empty())
            continue;
        rows[r] = cellsShape(row);
        const bool special = std::any_of(row.cbegin(), row.cend(), [](const Cell &c) { return c.state != State::Value; });
        if (special) {
            *meta += bit;
            QString mask;
            for (const Cell &c : row)
                mask += c.state == State::UnchangedToast ? u'u' : c.state == State::Value ? u'v' : u'n';
            S.append(mask);
        }
        for (const Cell &c : row)
            S.append(c.state == State::Value ? QString::fromUtf8(c.value) : QString());
    }
    N[k + 7] = double(lastPkShape + 1) + 65536.0 * double(rows[0] + 1) + 4294967296.0 * double(rows[1] + 1);
}

int Transform::Private::cellsShape(const std::vector<ChunkEncoder::ChangeCell> &row)
{
    for (const RecentCells &r : recentCells) {
        if (r.id < 0 || r.names.size() != row.size())
            continue;
        bool same = true;
        for (size_t i = 0; i < row.size() && same; ++i)
            same = r.names[i] == row[i].name && r.types[i] == row[i].type;
        if (same)
            return r.id;
    }
    RecentCells r;
    QStringList names, types;
    for (const ChunkEncoder::ChangeCell &c : row) {
        r.names.push_back(c.name.toByteArray());
        r.types.push_back(c.type.toByteArray());
        names.append(QString::fromUtf8(c.name));
        types.append(QString::fromUtf8(c.type));
    }
    r.id = shapeId(names.size(), [&](qsizetype i) -> const QString & { return names[i]; },
                   [&](qsizetype i) -> const QString & { return types[i]; });
    const int id = r.id;
    recentCells[recentCellsNext++ % recentCells.size()] = std::move(r);
    return id;
}

void Transform::Private::clearCells()
{
    cells.transactionId = cells.commitLsn = cells.commitTimeUs = -1;
    cells.oldRow.clear();
    cells.newRow.clear();
    cells.primaryKey.clear();
}

void Transform::Private::encodeRun(std::span<const Event *const> events, std::span<const qint64> seqs,
                                   std::span<const QByteArrayView> extensions)
{
    const qsizetype n = qsizetype(events.size());
    S.clear();
    N.clear();
    encoded.clear();
    lastTs = lastTx = lastLsn = Last{};
    sStart.clear();
    kStart.clear();
    // A change event's fields are read in place from its stored bytes; an
    // Event without them (the editor's, a test's) is encoded as a tape would
    // store it, and so is one stored in an encoding the in-place reader does
    // not take.
    for (qsizetype i = 0; i < n; ++i) {
        const Event &e = *events[size_t(i)];
        const QByteArrayView stored = size_t(i) < extensions.size() ? extensions[size_t(i)] : QByteArrayView();
        if (e.isChange() && (stored.isEmpty() || !ChunkEncoder::changeCells(stored, &cells))) {
            Event decoded;
            if (!stored.isEmpty()) {
                decoded = e;
                ChunkEncoder::decodeExtension(stored, &decoded);
            }
            ownExtension = ChunkEncoder::encodeExtension(stored.isEmpty() ? e : decoded);
            if (!ChunkEncoder::changeCells(ownExtension, &cells)) // none (nothing stored), or not readable
                clearCells();
        }
        encode(e, seqs[size_t(i)], cells);
    }
    sStart.push_back(S.size());
    kStart.push_back(qsizetype(N.size()));
}

} // namespace tapedeck
