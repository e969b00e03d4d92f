#pragma once

#include "core/sink/sink.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>
#include <limits>
#include <optional>
#include <vector>

namespace tapedeck {

class LogState;

struct TableColumn
{
    QString name;
    QString type; // PostgreSQL format_type(), or SQLite's declared type
    bool operator==(const TableColumn &) const = default;
};

// Rows of a live table, a batch at a time: cells as the database prints them
// (text), in one buffer. `null` cells have no bytes.
struct TableBatch
{
    int columns = 0;
    QByteArray data;
    std::vector<qint32> offsets; // per cell; -1: NULL
    std::vector<qint32> sizes;

    int rows() const { return columns ? int(offsets.size()) / columns : 0; }
    bool isNull(int row, int column) const { return offsets[size_t(row * columns + column)] < 0; }
    QByteArrayView cell(int row, int column) const
    {
        const size_t i = size_t(row * columns + column);
        return offsets[i] < 0 ? QByteArrayView() : QByteArrayView(data.constData() + offsets[i], sizes[i]);
    }
    void clear() // keeps the capacity
    {
        data.resize(0);
        offsets.clear();
        sizes.clear();
    }
    void append(QByteArrayView cell)
    {
        offsets.push_back(qint32(data.size()));
        sizes.push_back(qint32(cell.size()));
        data.append(cell);
    }
    void appendNull()
    {
        offsets.push_back(-1);
        sizes.push_back(0);
    }
};

// A live table read in key order, in batches, never whole (connectors:
// PgTableReader streams COPY (SELECT ... ORDER BY key) TO STDOUT, SqliteTableReader
// steps one SELECT ... ORDER BY key). One thread at a time uses a reader:
// TableDiff::run calls open() on its own thread, then start() and next() on a
// worker thread that reads ahead while the state side is built.
class TableReader
{
public:
    virtual ~TableReader() = default;
    virtual QString describe() const = 0;
    virtual QString dialect() const = 0; // "postgresql" or "sqlite"
    // Connects and reads the table's columns and primary key. `table` is
    // "schema.table" or "table" (SQLite drops the schema).
    virtual bool open(const QString &table, QString *error) = 0;
    virtual QList<TableColumn> columns() const = 0;
    virtual QStringList primaryKey() const = 0;
    // The table name as a quoted SQL identifier ("public"."orders").
    virtual QByteArray quotedTable() const = 0;
    // Starts reading `columns`, ordered by `keyColumns`.
    virtual bool start(const QStringList &columns, const QStringList &keyColumns, QString *error) = 0;
    // The next batch of at most `maxRows` rows; an empty batch at the end.
    virtual bool next(TableBatch *batch, int maxRows, QString *error) = 0;
};

// Where a table column's value comes from in the state. Change tables: a
// column of the row ("name"). Kafka: "key" (the key as text), "key.FIELD"
// (a field of a JSON key), "value" (the whole value), "value.FIELD.SUB" (a
// field of a JSON value; dotted paths go into nested objects).
struct ColumnMapping
{
    QString column;
    QString source;
    bool operator==(const ColumnMapping &) const = default;
};

struct DiffOptions
{
    QString stateTable;       // the state's table or topic
    QStringList keyColumns;   // empty: the table's primary key
    QList<ColumnMapping> map; // empty: the default mapping (tablediff.md)
    qint64 end = std::numeric_limits<qint64>::max(); // the state after events [0, end)
    int batchRows = 20000;
    int maxEntries = -1;      // keep at most this many entries (-1: all); counts stay exact
    int threads = 0;          // threads reading the state side (0: idealThreadCount(), at most 4)
};

struct ColumnDifference
{
    QString column;
    std::optional<QByteArray> state; // nullopt: NULL
    std::optional<QByteArray> table;
    bool operator==(const ColumnDifference &) const = default;
};

struct DiffEntry
{
    enum class Kind : quint8 { Missing, Extra, Differs };
    Kind kind = Kind::Missing;
    QList<std::optional<QByteArray>> key;          // key column values (the table's text form)
    QList<ColumnDifference> differences;           // Differs: the differing columns
    QList<std::optional<QByteArray>> stateRow;     // Missing, Differs: every compared column, from the state
    QList<qint64> lastEvents;                      // the key's last events (up to 3, ascending), any kind
    bool operator==(const DiffEntry &) const = default;
};

struct DiffResult
{
    QString table;             // the database table
    QString stateTable;
    QByteArray quotedTable;
    QString dialect;
    qint64 end = 0;
    QStringList keyColumns;
    QList<TableColumn> columns;  // compared columns, keys first
    QList<ColumnMapping> mapping; // where each compared column comes from
    qint64 stateRows = 0;
    qint64 tableRows = 0;
    qint64 equalRows = 0;
    qint64 missing = 0, extra = 0, differing = 0;
    qint64 unmappable = 0;     // state rows whose key columns could not be mapped (not compared)
    qint64 keyCollisions = 0;  // state keys that map to the same table key (the later event wins)
    QList<DiffEntry> entries;  // key order of the table, then missing keys in state order
    double seconds = 0;
    double stateSeconds = 0;   // of which reading the state's rows from the tape
    bool equal() const { return missing == 0 && extra == 0 && differing == 0; }
};

// Compares the state of a LogState table at a point with a live table: by
// primary key (or `keyColumns`), values compared as text after the
// normalisation of tablediff.md. The table is streamed once in batches; the
// state side keeps a 64-bit digest per live key (values are read back from
// the tape only for the keys that differ).
class TableDiff
{
public:
    // false + *error on a read error or a mapping that cannot work.
    static bool run(const LogState &state, TableReader &reader, const QString &table, const DiffOptions &options,
                    DiffResult *result, QString *error, const std::function<bool(qint64 rows)> &progress = {});

    // Text the two sides compare by (tablediff.md): booleans, numbers,
    // timestamps with time zone and JSON are normalised; the rest is exact.
    static QByteArray normalise(QByteArrayView value, const QString &type, const QString &dialect);

    // A script that makes the table equal the state: one transaction, quoted
    // identifiers, escaped literals.
    static QByteArray repairSql(const DiffResult &result, const QString &header);
    // The same as sink outputs (upserts for missing and differing keys,
    // deletes for extra ones), for a replay Sink.
    static QList<SinkOutput> repairOutputs(const DiffResult &result);
    // Writes repairOutputs() through `sink` in batches, each committed with
    // the progress row "repair/<table>" (position: the state point) under `replayId`.
    static bool repair(Sink &sink, const DiffResult &result, const QString &replayId, qint64 *written, QString *error);
};

} // namespace tapedeck
