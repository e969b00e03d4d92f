#pragma once

#include "core/event/event.h"
#include "core/sink/sink.h"
#include "core/sink/sqlrows.h"

#include <QString>

#include <functional>
#include <memory>
#include <span>

namespace tapedeck {

// Runs a user's JavaScript transform (contract: README "Transforms") on
// events and turns what it returns into SinkOutputs.
//
// Thread: a Transform (and its QJSEngine) belongs to the thread that created
// it; only cancel() may be called from another thread. The replay engine runs
// one Transform per worker thread.
//
// Sandbox: ECMAScript built-ins plus `console.log/info/warn/error` (no
// file, process or network access); the shared JsCallGuard watchdog
// interrupts a call that runs longer than timeoutMs(). Console output goes
// to the console callback when one is set (the editor), and is only counted
// otherwise (replay, CLI).
class Transform
{
public:
    // NotRun: with setStopAtFailure(), an event after one that failed.
    enum class Result { Ok, Error, Timeout, Cancelled, NotRun };

    struct Context
    {
        QString replayId;
        QString target; // "postgresql", "sqlite", "kafka", "" in a dry run without target
        bool dryRun = false;
    };

    Transform();
    ~Transform();
    Transform(const Transform &) = delete;
    Transform &operator=(const Transform &) = delete;

    // Evaluates the script; it must define a function `transform(event, ctx)`.
    // `fileName` labels errors. false + *error ("orders.js:3: SyntaxError: ...").
    bool compile(const QString &source, const QString &fileName, const Context &context, QString *error);
    void setTimeoutMs(int ms) { m_timeoutMs = ms; }
    int timeoutMs() const { return m_timeoutMs; }
    // After an event fails (throws, times out, or its output cannot be
    // read in time), the later events of the same runMany() are not run
    // (Result::NotRun): a replay that stops at its first error then pays one
    // time limit for a batch of looping events, not one per event.
    void setStopAtFailure(bool on) { m_stopAtFailure = on; }
    // The JavaScript heap this engine may hold (JsCallGuard::DefaultHeapLimit,
    // 512 MB; 0: none): a call that grows it past the limit is stopped and
    // its event fails with "transform's JavaScript heap grew past N MB".
    void setHeapLimit(qint64 bytes);
    qint64 heapLimit() const;

    // Appends the outputs of one event. On failure *error is the exact message
    // that the CLI prints and the dead-letter file holds, e.g.
    // "event #12: transform threw Error: no total (orders.js:3)".
    Result run(const Event &event, qint64 seq, QList<SinkOutput> *outputs, QString *error);

    struct Outcome
    {
        Result result = Result::Ok;
        QList<SinkOutput> outputs;
        QString error;     // as run() gives it
        int errorLine = 0; // as lastErrorLine()
        // With runMany(..., rows): the event's outputs are instead
        // rows->outputs[firstRow .. firstRow + rowCount) (when rowCount > 0,
        // `outputs` is empty).
        qint32 firstRow = 0;
        qint32 rowCount = 0;
    };
    // The plain SQL outputs of a runMany() as rows of cells, for a sink that
    // takes SqlRows (the replay's rows path): no SinkOutput is built, and the
    // values are converted to UTF-8 once, into memory the rows share. An
    // output's cells are its shape's columns (for an upsert, key columns the
    // row lacks come first, as SinkOutputs get them), then its key columns.
    struct Rows
    {
        struct Output
        {
            quint32 firstCell = 0;
            quint32 owner = 0; // in owners
            quint32 table = 0; // in tables
            quint32 shape = 0; // in shapes
            SqlOp op = SqlOp::Upsert;
        };
        struct Shape
        {
            std::vector<QByteArray> names, types; // columns then key; types of its first output's values
            std::vector<QByteArrayView> nameViews, typeViews;
            int columns = 0, keys = 0;
        };
        std::vector<Output> outputs;
        std::vector<SqlCell> cells;
        std::vector<std::shared_ptr<const void>> owners; // what cells point into
        QList<QString> tables;
        std::vector<Shape> shapes;
        void clear();
        // Output k as a SinkOutput (what the sink gets without a rows path).
        SinkOutput output(size_t k, qint64 seq) const;
    };
    // run() for many events at once, in order, with one call into the engine
    // per run of events rather than one per event (the replay's way: much
    // faster). Each event keeps its own time limit; a timeout or an error is
    // that event's outcome and the others go on. A cancel() during the call
    // makes every event of its run (up to 512) Cancelled, with no outputs.
    // The spans have one element per event.
    // With `rows`, an event whose outputs are all plain SQL outputs (strings,
    // numbers, booleans and nulls as values) gets them there (cleared first).
    // With `extensions` (one per event; the replay's way), an event whose
    // extension is not empty takes its change fields (rows, key names, txid,
    // LSN) from those stored bytes (Chunk::extension()) rather than from the
    // Event, which then needs none of them (Chunk::fill(..., change = false)).
    void runMany(std::span<const Event *const> events, std::span<const qint64> seqs, std::span<Outcome *const> outcomes,
                 Rows *rows = nullptr, std::span<const QByteArrayView> extensions = {});

    // Thread-safe: stops the running call and every later one.
    void cancel();

    enum class ConsoleLevel { Log, Warn, Error };
    // Opt-in: receives every console.log/info (Log), console.warn (Warn) and
    // console.error (Error) line with the sequence number of the event being
    // transformed (-1 while compile() evaluates the script). Called on the
    // Transform's thread, during compile() and run(). Set it before compile().
    using ConsoleCallback = std::function<void(qint64 seq, ConsoleLevel level, const QString &text)>;
    void setConsoleCallback(ConsoleCallback callback);
    // console.* calls so far (with or without a callback).
    qint64 consoleLines() const;
    // The script line of the last compile() or run() error, 0 when unknown
    // (e.g. a timeout, an invalid output) or when there was none.
    int lastErrorLine() const { return m_lastErrorLine; }

private:
    void runRun(std::span<const Event *const> events, std::span<const qint64> seqs, std::span<Outcome *const> outcomes, Rows *rows,
                std::span<const QByteArrayView> extensions);
    struct Private;
    std::unique_ptr<Private> d;
    int m_timeoutMs = 1000;
    bool m_stopAtFailure = false;
    int m_lastErrorLine = 0;
};

// The replay without a transform: a change event goes to the same table with
// the same operation (insert and update become an upsert by primary key, a
// table without one gets plain inserts; an update that changes the primary
// key first deletes the old key, as the source did). Begin, Commit, Message and Truncate
// give no output (false is not returned for them). A Kafka record is copied
// as is when `kafkaTopic` is set (a Kafka target), and is an error otherwise;
// into Kafka a change event becomes its key JSON and new row JSON (null for a
// delete), after a tombstone for the old key when an update changed the key.
bool identityOutputs(const Event &event, qint64 seq, const QString &kafkaTopic, QList<SinkOutput> *outputs,
                     QString *error);

} // namespace tapedeck
