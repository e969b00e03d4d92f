// TableDiff::run as the stages of a DiffRun (diffrun_p.h), with the table
// side and the report; the setup is in diffsetup.cpp, the state side in
// diffstate.cpp, the repair in tablediffrepair.cpp.

#include "core/diff/tablediff.h"

#include "core/diff/canonicalrow.h"
#include "core/diff/diffrun_p.h"
#include "core/diff/tablefeed_p.h"
#include "core/state/logstate.h"

#include <algorithm>

using namespace Qt::StringLiterals;

namespace tapedeck {

QByteArray TableDiff::normalise(QByteArrayView value, const QString &type, const QString &dialect)
{
    return CanonicalRow::normalised(value, CanonicalRow::classify(type, dialect));
}

bool TableDiff::run(const LogState &state, TableReader &reader, const QString &table, const DiffOptions &options,
                    DiffResult *result, QString *error, const std::function<bool(qint64)> &progress)
{
    tablediff::DiffRun run(state, reader, table, options, result, error);
    if (!run.open() || !run.mapColumns())
        return false;
    // The table streams on its own thread while the state side is read.
    tablediff::TableFeed feed(reader, run.columnNames(), run.keyColumns(), options.batchRows);
    if (!run.readState())
        return false;
    result->stateSeconds = run.elapsed();
    if (!run.compareTable(feed, progress) || !run.report())
        return false;
    result->seconds = run.elapsed();
    return true;
}

namespace tablediff {

namespace {

QList<std::optional<QByteArray>> rowValues(const TableBatch &batch, int r, int nCols)
{
    QList<std::optional<QByteArray>> row;
    row.reserve(nCols);
    for (int c = 0; c < nCols; ++c)
        row.append(batch.isNull(r, c) ? std::nullopt : std::optional<QByteArray>(batch.cell(r, c).toByteArray()));
    return row;
}

// The key's text in LogState's form (parts joined by KeySeparator), NULL parts empty.
QByteArray keyString(const DiffEntry &d)
{
    QByteArray s;
    for (qsizetype i = 0; i < d.key.size(); ++i)
        s += (i ? QByteArray(1, LogState::KeySeparator) : QByteArray()) + d.key[i].value_or(QByteArray());
    return s;
}

} // namespace

// Per batch: first every row's canonical key, its hash and the digest of
// the other columns; then the lookups, each slot prefetched a few rows ahead.
struct DiffRun::BatchKeys
{
    ByteSink keys, rest;
    std::vector<qsizetype> keyEnds;
    std::vector<quint64> keyHashes, digests;
};

bool DiffRun::compareTable(TableFeed &feed, const std::function<bool(qint64)> &progress)
{
    TableBatch batch;
    BatchKeys keys;
    while (true) {
        if (!feed.next(&batch, m_error))
            return false;
        const int rows = batch.rows();
        if (rows == 0)
            break;
        canonicalise(batch, &keys);
        lookUp(batch, keys);
        m_result->tableRows += rows;
        if (progress && !progress(m_result->tableRows)) {
            *m_error = u"cancelled"_s;
            return false;
        }
    }
    return true;
}

void DiffRun::canonicalise(const TableBatch &batch, BatchKeys *keys) const
{
    const int rows = batch.rows();
    keys->keys.clear();
    keys->keyEnds.resize(size_t(rows));
    keys->keyHashes.resize(size_t(rows));
    keys->digests.resize(size_t(rows));
    for (int r = 0; r < rows; ++r) {
        const qsizetype keyStart = keys->keys.size();
        keys->rest.clear();
        for (int c = 0; c < m_nCols; ++c)
            CanonicalRow::appendCell(c < m_nKeys ? &keys->keys : &keys->rest, batch.isNull(r, c), batch.cell(r, c),
                                     m_classes[size_t(c)]);
        keys->keyEnds[size_t(r)] = keys->keys.size();
        keys->keyHashes[size_t(r)] = KeyTable::hashOf(keys->keys.view().sliced(keyStart));
        keys->digests[size_t(r)] = CanonicalRow::digest(keys->rest.view(), DigestSeed);
    }
}

// Each row of the batch: extra (no such state key), equal, or differing.
void DiffRun::lookUp(const TableBatch &batch, const BatchKeys &keys)
{
    const KeyTable &byKey = *m_byKey;
    const int rows = batch.rows();
    qsizetype keyStart = 0;
    for (int r = 0; r < rows; ++r) {
        if (r + 8 < rows)
            byKey.prefetch(keys.keyHashes[size_t(r + 8)]);
        const QByteArrayView keyText(keys.keys.data() + keyStart, keys.keyEnds[size_t(r)] - keyStart);
        keyStart = keys.keyEnds[size_t(r)];
        const quint32 *it = byKey.find(keyText, keys.keyHashes[size_t(r)]);
        if (!it) {
            ++m_result->extra;
            if (m_options.maxEntries < 0 || m_extras.size() < m_options.maxEntries) {
                DiffEntry d;
                d.kind = DiffEntry::Kind::Extra;
                d.key = rowValues(batch, r, m_nCols).mid(0, m_nKeys);
                m_extras.append(std::move(d));
            }
            continue;
        }
        StateEntry &s = m_entries[*it];
        s.matched = true;
        if (s.digest == keys.digests[size_t(r)]) {
            ++m_result->equalRows;
        } else {
            ++m_result->differing;
            m_differing.append({*it, rowValues(batch, r, m_nCols)});
        }
    }
}

// The state keys the table lacks (counted, then kept up to maxEntries, as
// are the differing keys).
QList<quint32> DiffRun::missingEntries()
{
    QList<quint32> missing;
    for (quint32 i = 0; i < quint32(m_entries.size()); ++i) {
        if (!m_entries[i].matched && !m_entries[i].shadowed)
            missing.append(i);
    }
    m_result->missing = missing.size();
    if (m_options.maxEntries >= 0) {
        missing.resize(std::min<qsizetype>(missing.size(), m_options.maxEntries));
        m_differing.resize(std::min<qsizetype>(m_differing.size(), m_options.maxEntries));
    }
    return missing;
}

QList<qint64> DiffRun::lastEvents(quint32 keyId) const
{
    const QList<qint64> all = m_state.keyEvents(m_ti, keyId, 0, m_snapshot.end());
    return all.mid(std::max<qsizetype>(0, all.size() - 3));
}

// Entry i of the details: a missing key (i < missing.size()), else a differing one.
DiffEntry DiffRun::stateEntry(const LogStateRow &row, const QList<quint32> &missing, qsizetype i) const
{
    Event e;
    e.key = m_state.keyText(m_ti, row.keyId);
    e.value = row.value;
    e.newRow = row.row;
    DiffEntry d;
    for (int c = 0; c < m_nCols; ++c)
        d.stateRow.append(mappedValue(m_sources[c], e));
    d.lastEvents = lastEvents(row.keyId);
    if (i < missing.size()) {
        d.kind = DiffEntry::Kind::Missing;
        d.key = d.stateRow.mid(0, m_nKeys);
        return d;
    }
    const Found &f = m_differing[i - missing.size()];
    d.kind = DiffEntry::Kind::Differs;
    d.key = f.tableRow.mid(0, m_nKeys);
    for (int c = m_nKeys; c < m_nCols; ++c) {
        const auto &a = d.stateRow[c], &b = f.tableRow[c];
        const TableColumn &column = m_result->columns[c];
        const bool same = a.has_value() == b.has_value()
            && (!a || TableDiff::normalise(*a, column.type, m_dialect) == TableDiff::normalise(*b, column.type, m_dialect));
        if (!same)
            d.differences.append({column.name, a, b});
    }
    return d;
}

// Extra keys: their events, when the table key is also the state's key.
void DiffRun::addExtras(QList<DiffEntry> *out)
{
    const bool sameKey = m_change ? m_keyColumns == m_info->keyColumns
                                  : (m_nKeys == 1 && m_sources[0].from == Mapped::From::Key);
    for (DiffEntry &d : m_extras) {
        if (sameKey && std::all_of(d.key.cbegin(), d.key.cend(), [](const auto &v) { return v.has_value(); })) {
            QByteArray text;
            for (qsizetype i = 0; i < d.key.size(); ++i)
                text += (i ? QByteArray(1, LogState::KeySeparator) : QByteArray()) + *d.key[i];
            if (const auto k = m_state.findKey(m_ti, text))
                d.lastEvents = lastEvents(*k);
        }
        out->append(std::move(d));
    }
}

bool DiffRun::report()
{
    const QList<quint32> missing = missingEntries();
    QList<quint32> detailKeys;
    for (quint32 i : missing)
        detailKeys.append(m_entries[i].keyId);
    for (const Found &f : std::as_const(m_differing))
        detailKeys.append(m_entries[f.entry].keyId);
    QList<LogStateRow> stateRows;
    if (!m_state.rows(m_snapshot, detailKeys, &stateRows, m_error))
        return false;
    QList<DiffEntry> out;
    for (qsizetype i = 0; i < stateRows.size(); ++i)
        out.append(stateEntry(stateRows[i], missing, i));
    addExtras(&out);
    std::stable_sort(out.begin(), out.end(), [](const DiffEntry &a, const DiffEntry &b) {
        return LogState::compareKeys(keyString(a), keyString(b)) < 0;
    });
    m_result->entries = std::move(out);
    return true;
}

} // namespace tablediff

} // namespace tapedeck
