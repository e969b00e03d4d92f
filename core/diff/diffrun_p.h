#pragma once

// DiffRun: one TableDiff::run, as named stages over the state they share.
// The stages live in diffsetup.cpp (columns, key and mapping), diffstate.cpp
// (the state side) and tablediff.cpp (the table side and the report).
// Private to TableDiff.

#include "core/base/rawjson.h"
#include "core/diff/canonicalrow.h"
#include "core/diff/keytable_p.h"
#include "core/diff/statecolumns_p.h"
#include "core/diff/tablediff.h"
#include "core/state/logstate.h"
#include "core/tape/tape.h"

#include <QElapsedTimer>

#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace tapedeck::tablediff {

class TableFeed;
using ValueClass = CanonicalRow::ValueClass;

constexpr quint64 DigestSeed = 0x7461706564656b; // of the non-key columns' canonical text

// Thread: one, the caller's; readState() runs readPart() on worker threads
// that only read the run's members and write their own StatePart.
class DiffRun
{
public:
    DiffRun(const LogState &state, TableReader &reader, const QString &table, const DiffOptions &options,
            DiffResult *result, QString *error);

    // Opens the table, checks the key columns, takes the snapshot and fills
    // the result's header (diffsetup.cpp).
    bool open();
    // The compared columns and where each comes from: --map, else the
    // default mapping of tablediff.md (diffsetup.cpp).
    bool mapColumns();
    const QStringList &keyColumns() const { return m_keyColumns; }
    const QStringList &columnNames() const { return m_columnNames; }
    // Every live key's canonical table key and the digest of its other
    // columns, into the key table (diffstate.cpp).
    bool readState();
    // Streams the table and looks every row up (tablediff.cpp).
    bool compareTable(TableFeed &feed, const std::function<bool(qint64)> &progress);
    // The entries: the state's values of missing and differing keys read
    // back from the tape, the extra keys' events, in key order (tablediff.cpp).
    bool report();
    double elapsed() const { return double(m_timer.nsecsElapsed()) / 1e9; }

private:
    struct StateEntry
    {
        quint32 keyId;
        quint64 digest;
        bool matched = false;
        bool shadowed = false; // another state key maps to the same table key and came later
    };
    // The keys of order[from, to), read by one thread.
    struct StatePart
    {
        size_t from = 0, to = 0; // in `order`
        std::vector<quint32> keyIds;
        std::vector<quint64> digests, keyHashes;
        std::vector<qsizetype> keyEnds; // in `keys`
        ByteSink keys;
        qint64 unmappable = 0;
        bool failed = false;
        QString error;
    };
    using Order = std::vector<std::pair<qint64, quint32>>; // (last seq, key id), tape order
    struct RowCells;
    struct BatchKeys;
    struct Found
    {
        quint32 entry;
        QList<std::optional<QByteArray>> tableRow;
    };

    // diffsetup.cpp
    std::optional<TableColumn> columnOf(const QString &name) const;
    std::optional<QString> mappedSource(const QString &column) const;
    bool checkMap() const;
    bool mapKeyColumns(const QList<std::pair<QByteArray, RawJson>> &sampleKeyFields, QList<ColumnMapping> *mapping) const;
    void mapOtherColumns(const std::optional<LogStateRow> &sample,
                         const QList<std::pair<QByteArray, RawJson>> &sampleValueFields,
                         QList<ColumnMapping> *mapping) const;
    // diffstate.cpp
    Order stateOrder() const;
    std::vector<StatePart> cutParts(const Order &order) const;
    void readPart(const Order &order, StatePart *part) const;
    void kafkaCells(const Chunk &chunk, int at, RowCells *cells) const;
    bool eventCells(const Chunk &chunk, int at, quint32 keyId, Event *e, RowCells *cells, QString *error) const;
    bool mergeParts(std::vector<StatePart> &parts);
    // tablediff.cpp
    void canonicalise(const TableBatch &batch, BatchKeys *keys) const;
    void lookUp(const TableBatch &batch, const BatchKeys &keys);
    QList<quint32> missingEntries();
    QList<qint64> lastEvents(quint32 keyId) const;
    DiffEntry stateEntry(const LogStateRow &row, const QList<quint32> &missing, qsizetype i) const;
    void addExtras(QList<DiffEntry> *out);

    const LogState &m_state;
    TableReader &m_reader;
    const QString &m_table;
    const DiffOptions &m_options;
    DiffResult *m_result;
    QString *m_error;
    QElapsedTimer m_timer;

    // open()
    int m_ti = -1;
    const LogStateTable *m_info = nullptr;
    bool m_change = false; // a change table (else a Kafka topic)
    QString m_dialect;
    QList<TableColumn> m_tableColumns;
    QStringList m_keyColumns;
    LogStateSnapshot m_snapshot;
    // mapColumns()
    QList<Mapped> m_sources; // per compared column, keys first
    QStringList m_columnNames;
    std::vector<ValueClass> m_classes;
    int m_nKeys = 0, m_nCols = 0;
    // readState()
    std::vector<StateEntry> m_entries;
    std::optional<KeyTable> m_byKey;
    // compareTable()
    QList<Found> m_differing;
    QList<DiffEntry> m_extras;
};

} // namespace tapedeck::tablediff
