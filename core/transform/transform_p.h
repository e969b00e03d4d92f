#pragma once

// Transform's private part, shared by its files: transform.cpp (the engine,
// compile() and the calls into the runner), transformencode.cpp (events into
// the runner's batch) and transformoutputs.cpp (reading and checking what the
// runner returns). The batch protocol between them and
// js/batchrunner.js is core/transform/transform.md.

#include "core/transform/transform.h"

#include "core/js/jsconsole.h"
#include "core/js/jswatchdog.h"
#include "core/tape/chunkencoder.h"

#include <QHash>
#include <QJSEngine>
#include <QStringList>

#include <array>
#include <vector>

namespace tapedeck {

struct Transform::Private
{
    // Events per call into the engine at most; with the tables trimmed at
    // 4096 entries between runs, a run's shapes stay below the 65535 that
    // encode() packs per id.
    static constexpr size_t RunEvents = 512;
    QJSEngine engine;
    QJSValue function;
    QJSValue context;
    QJSValue jsonStringify;
    QJSValue objectKeys;
    QJSValue cur;  // {seq}: the event being transformed, for console lines
    QJSValue builtins; // what the runner uses, as they were before the script ran (it may replace them)
    // What the runner puts in `vals` for a value it does not flatten.
    static const QString &notPlain();
    QJSValue io;   // the BatchRunner's state and results
    QJSValue runFn, resetFn, packFn, setLastFn;
    QString fileName;
    int lineOffset = 0; // script line = engine line - lineOffset (see compile())
    int line(int engineLine) const { return engineLine > lineOffset ? engineLine - lineOffset : 0; }
    JsConsole console;
    Transform::ConsoleCallback consoleCallback;
    bool wantJson = true;
    bool wantKeyJson = true;
    JsCallGuard guard{&engine};

    // transform.cpp: the runner and the calls into it.
    bool ensureRunner();
    // Calls the runner until every event of the encoded run has run; false
    // when cancelled (the outcomes are then not read).
    bool callRunner(qsizetype n, std::span<const qint64> seqs, std::span<Transform::Outcome *const> outcomes, int timeoutMs,
                    bool stopAtFailure);
    static void notRun(Transform::Outcome *o);
    QString heapError(qint64 seq) const;

    // --- transformencode.cpp: the events of a run into S and N ---

    // Strings the runner looks up by id (kinds, operations, topics), and row
    // shapes (column names and types; primary-key lists), each sent to the
    // engine once.
    QHash<QString, int> nameIds;
    QJSValue jsNames;
    struct Shape
    {
        size_t hash = 0;
        QStringList names, types;
    };
    std::vector<Shape> shapes;
    QJSValue jsShapes;

    // Most names come as the same shared string event after event (a
    // stream's topic, the kind and operation names): found by their data.
    struct RecentName
    {
        QString name; // keeps the data alive, so its address stays unique
        int id = -1;
    };
    std::array<RecentName, 8> recentNames;
    unsigned recentNameNext = 0;
    int nameId(const QString &name);
    int nameIdSlow(const QString &name);

    // The tables only grow while a runMany() encodes; between runs they start
    // over when large (with a new runner, which holds them).
    void trimTables();

    // Finds or adds the shape of `n` names and types given by name(i), type(i).
    template<typename Name, typename Type>
    int shapeId(qsizetype n, Name name, Type type);

    // The encoding BatchRunner reads: per event 10 numbers (12 for a change
    // event) in N, its strings in S. The position goes as text; time, txid
    // and LSN as numbers below 2^53 (with their text when it changed, see
    // encode()) and as text only beyond (meta bits 64..256), as the
    // engine's own number-to-text conversion costs more than a string from
    // here; a row or header list with NULLs or unchanged TOAST values gets a
    // mask string ('v', 'n' NULL, 'u' left out).
    QStringList S;
    std::vector<double> N;
    std::vector<qsizetype> sStart, kStart;
    std::vector<QByteArray> lastPkUtf8; // the last event's key names
    int lastPkShape = -1;
    struct Last
    {
        bool have = false;
        qint64 value = 0;
    };
    Last lastTs, lastTx, lastLsn; // of the last event encoded, as the runner's lastTs, lastTx, lastLsn

    // The runner's lastTs .. lastLsnText as they are after events[0 .. i) of this run.
    void setLast(size_t i);
    // Per event of the run: the time, txid and LSN that encode() gave (for setLast()).
    struct Encoded
    {
        bool change = false;
        qint64 ts = 0, tx = 0, lsn = 0;
    };
    std::vector<Encoded> encoded;

    // Encodes a whole run (clearing what the last one left), with the end's
    // entries in sStart and kStart.
    void encodeRun(std::span<const Event *const> events, std::span<const qint64> seqs,
                   std::span<const QByteArrayView> extensions);
    // A change event's change fields (rows, key names, txid, LSN) come from
    // `cells` (its stored bytes, read in place), not from the Event.
    void encode(const Event &e, qint64 seq, const ChunkEncoder::ChangeCells &cells);
    // The key names' shape, when they are not the last event's.
    void setPk(const std::vector<QByteArrayView> &utf8);
    // encode()'s change part: every cell is a column (as Chunk::fill() makes
    // them; an absent one is NULL).
    void encodeCells(const ChunkEncoder::ChangeCells &cells, size_t k, double *meta);

    // A row's shape: the last ones seen, by their names' and types' bytes.
    struct RecentCells
    {
        std::vector<QByteArray> names, types;
        int id = -1;
    };
    std::array<RecentCells, 4> recentCells;
    unsigned recentCellsNext = 0;
    int cellsShape(const std::vector<ChunkEncoder::ChangeCell> &row);
    ChunkEncoder::ChangeCells cells; // encode()'s from the last extension
    QByteArray ownExtension;        // an Event's change fields encoded here (see encodeRun())
    void clearCells();

    // --- transformoutputs.cpp: what the runner returns ---

    // Output shapes (key names, row names) the runner reported, by its id.
    struct OutShape
    {
        QStringList key, row;
    };
    std::vector<OutShape> outShapes;

    // A finite number: an integer below 2^53 as a bigint, anything else as
    // a double (17 digits: it reads back as the same double).
    static void numberValue(double d, SinkValue *out);
    // Value `at` of collect()'s flattened values (see describeValues()), as sqlValue() converts it.
    static void flatValue(const double *dv, qsizetype count, const QByteArray &bytes, qsizetype at, SinkValue *v);
    // A script's text as UTF-8, the same way on every path (a lone surrogate becomes U+FFFD).
    static QByteArray utf8(const QString &text);
    bool sqlValue(const QJSValue &v, SinkValue *out, QString *why);
    // An object's own enumerable property names, in Object.keys() order (as
    // the script's fast path reads outputs, and JSON.stringify would).
    QStringList ownKeys(const QJSValue &object);
    bool fields(const QJSValue &object, const char *what, QList<SinkField> *out, QString *why);
    std::optional<QByteArray> bytes(const QJSValue &v);

    // Per table and output shape id and op (index id * 2 + upsert): its shape
    // in the current Rows and where each cell's value is (from the output's
    // first value, its table); -1 none yet.
    struct RowsShape
    {
        int shape = -1;
        std::vector<int> sources; // per cell: value offset
    };
    std::vector<std::vector<RowsShape>> rowsShapes; // per table of the current Rows
    std::vector<QByteArray> tablesUtf8; // the current Rows' tables, UTF-8

    // One collect()'s rows: cells first get offsets into `bytes` (or point
    // at static text), made pointers by end() once `bytes` is final.
    struct RowsBuild
    {
        Transform::Rows *rows = nullptr;
        QByteArray bytes; // the strings' UTF-8 (collect()), then numbers' text
        size_t firstCell = 0;
        std::vector<qsizetype> offsets; // per cell since firstCell; -1: data already set (or NULL)

        void begin(Transform::Rows *r);
        void end();
    };

    // Reads what the runner's calls of one runMany() left in `io`.
    void collect(std::span<const qint64> seqs, std::span<Transform::Outcome *const> outcomes, Transform::Rows *rows, int timeoutMs,
                 bool stopAtFailure);
    // collect()'s parts: the output shapes the runner made, the errors it caught.
    void readOutShapes();
    void readErrors(std::span<const qint64> seqs, std::span<Transform::Outcome *const> outcomes);
    // Per value of `values` two numbers (see collect()); strings' UTF-8 into *bytes.
    static std::vector<double> describeValues(const QVariantList &values, QByteArray *bytes);
    // Marks outputs with a value that is not plain as code 3; per event (when
    // events > 0), whether it has such an output.
    std::vector<char> markNotPlain(double *out, qsizetype outCount, const double *dv, qsizetype valueCount, qsizetype events) const;
    // The flattened output of shape `id` whose values start at `at` (its table) as a SinkOutput.
    void flatOutput(const RowsBuild &build, int id, SqlOp op, qsizetype at, const double *dv, qsizetype valueCount,
                    QString *table, QByteArray *tableUtf8, SinkOutput *so) const;
    // Appends the plain output whose values start at `at` (its table) to build.rows.
    void addRow(RowsBuild &build, int id, SqlOp op, qsizetype at, const double *dv, qsizetype valueCount);
    // addRow()'s parts: the table's index in the Rows, the shape of output shape `id` there.
    quint32 rowsTable(QByteArrayView name, Transform::Rows &rows);
    RowsShape &rowsShape(RowsBuild &build, quint32 table, int id, SqlOp op, qsizetype at, const double *dv, qsizetype valueCount);
    // An upsert writes the key columns too, whether or not the row repeats them.
    static void keyIntoRow(SinkOutput *out);
    // An output the runner did not flatten, checked and converted.
    bool output(const QJSValue &v, qint64 seq, SinkOutput *out, QString *error);
    bool sqlOutput(const QJSValue &v, const QJSValue &table, qint64 seq, SinkOutput *out, QString *error);
    bool kafkaOutput(const QJSValue &v, const QJSValue &topic, qint64 seq, SinkOutput *out, QString *error);
};

} // namespace tapedeck
