// DiffRun's setup stages (diffrun_p.h): the table's columns and key, the
// snapshot, and the mapping of table columns to the state's (tablediff.md,
// "Matching").

#include "core/diff/diffrun_p.h"

#include <algorithm>

using namespace Qt::StringLiterals;

namespace tapedeck::tablediff {

namespace {

bool hasField(const QList<std::pair<QByteArray, RawJson>> &fields, const QString &name)
{
    const QByteArray n = name.toUtf8();
    return std::any_of(fields.cbegin(), fields.cend(), [&](const auto &f) { return f.first == n; });
}

} // namespace

DiffRun::DiffRun(const LogState &state, TableReader &reader, const QString &table, const DiffOptions &options,
                 DiffResult *result, QString *error)
    : m_state(state), m_reader(reader), m_table(table), m_options(options), m_result(result), m_error(error)
{
    m_timer.start();
    *m_result = DiffResult{};
}

std::optional<TableColumn> DiffRun::columnOf(const QString &name) const
{
    for (const TableColumn &c : m_tableColumns) {
        if (c.name == name)
            return c;
    }
    return std::nullopt;
}

std::optional<QString> DiffRun::mappedSource(const QString &column) const
{
    for (const ColumnMapping &m : m_options.map) {
        if (m.column == column)
            return m.source;
    }
    return std::nullopt;
}

bool DiffRun::open()
{
    m_ti = m_state.tableIndex(m_options.stateTable);
    if (m_ti < 0) {
        *m_error = u"the tape has no table or topic \"%1\""_s.arg(m_options.stateTable);
        return false;
    }
    m_info = &m_state.tables()[m_ti];
    m_change = m_info->kind == SourceKind::Postgres;
    if (!m_reader.open(m_table, m_error))
        return false;
    m_dialect = m_reader.dialect();
    m_tableColumns = m_reader.columns();
    m_keyColumns = m_options.keyColumns.isEmpty() ? m_reader.primaryKey() : m_options.keyColumns;
    if (m_keyColumns.isEmpty()) {
        *m_error = u"%1 has no primary key: name the key columns with --key COL[,COL]"_s.arg(m_table);
        return false;
    }
    for (const QString &k : std::as_const(m_keyColumns)) {
        if (!columnOf(k)) {
            *m_error = u"%1 has no column \"%2\""_s.arg(m_table, k);
            return false;
        }
    }
    m_snapshot = m_state.snapshot(m_ti, std::min(m_options.end, m_state.eventCount()));
    m_result->table = m_table;
    m_result->stateTable = m_info->name;
    m_result->quotedTable = m_reader.quotedTable();
    m_result->dialect = m_dialect;
    m_result->end = m_snapshot.end();
    m_result->keyColumns = m_keyColumns;
    m_result->stateRows = m_snapshot.rowCount();
    return true;
}

// Every --map names a column of the table and a source that can work.
bool DiffRun::checkMap() const
{
    for (const ColumnMapping &m : m_options.map) {
        if (!columnOf(m.column)) {
            *m_error = u"%1 has no column \"%2\" (in --map)"_s.arg(m_table, m.column);
            return false;
        }
        if (!parseSource(m.source, m_change)) {
            *m_error = u"--map %1=%2: a Kafka source is key, key.FIELD, value or value.FIELD"_s.arg(m.column, m.source);
            return false;
        }
    }
    return true;
}

bool DiffRun::mapKeyColumns(const QList<std::pair<QByteArray, RawJson>> &sampleKeyFields,
                            QList<ColumnMapping> *mapping) const
{
    for (const QString &k : m_keyColumns) {
        if (auto s = mappedSource(k)) {
            mapping->append({k, *s});
        } else if (m_change) {
            mapping->append({k, k});
        } else if (hasField(sampleKeyFields, k)) {
            mapping->append({k, u"key."_s + k});
        } else if (m_keyColumns.size() == 1) {
            mapping->append({k, u"key"_s});
        } else {
            *m_error = u"key column \"%1\": say where it comes from with --map %1=key.FIELD|value.FIELD"_s.arg(k);
            return false;
        }
    }
    return true;
}

// With --map only the mapped columns; else the columns the sample row has.
void DiffRun::mapOtherColumns(const std::optional<LogStateRow> &sample,
                              const QList<std::pair<QByteArray, RawJson>> &sampleValueFields,
                              QList<ColumnMapping> *mapping) const
{
    for (const TableColumn &c : m_tableColumns) {
        if (m_keyColumns.contains(c.name))
            continue;
        if (!m_options.map.isEmpty()) {
            if (auto s = mappedSource(c.name))
                mapping->append({c.name, *s});
            continue;
        }
        if (m_change && sample) {
            if (std::any_of(sample->row.cbegin(), sample->row.cend(), [&](const Column &x) { return x.name == c.name; }))
                mapping->append({c.name, c.name});
        } else if (!m_change && hasField(sampleValueFields, c.name)) {
            mapping->append({c.name, u"value."_s + c.name});
        }
    }
}

bool DiffRun::mapColumns()
{
    // A sample row for the default mapping.
    std::optional<LogStateRow> sample;
    if (m_snapshot.rowCount() > 0) {
        sample = m_state.row(m_snapshot, m_snapshot.keyAt(0), m_error);
        if (!sample)
            return false;
    }
    if (!checkMap())
        return false;
    QList<std::pair<QByteArray, RawJson>> sampleValueFields, sampleKeyFields;
    if (sample && !m_change) {
        if (sample->value)
            rawjson::objectFields(*sample->value, &sampleValueFields);
        const QByteArray keyBytes = m_state.keyText(m_ti, sample->keyId);
        rawjson::objectFields(keyBytes, &sampleKeyFields);
    }
    QList<ColumnMapping> mapping;
    if (!mapKeyColumns(sampleKeyFields, &mapping))
        return false;
    mapOtherColumns(sample, sampleValueFields, &mapping);
    m_result->mapping = mapping;
    for (const ColumnMapping &m : std::as_const(mapping)) {
        m_sources.append(*parseSource(m.source, m_change));
        m_result->columns.append(*columnOf(m.column));
        m_columnNames.append(m.column);
    }
    m_nKeys = int(m_keyColumns.size());
    m_nCols = int(m_result->columns.size());
    for (const TableColumn &c : std::as_const(m_result->columns))
        m_classes.push_back(CanonicalRow::classify(c.type, m_dialect));
    return true;
}

} // namespace tapedeck::tablediff
