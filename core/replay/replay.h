#pragma once

#include "core/event/eventselection.h"
#include "core/sink/sink.h"
#include "core/event/stream.h"
#include "core/transform/transform.h"

#include <QString>
#include <QStringList>

#include <atomic>
#include <functional>
#include <limits>
#include <memory>

namespace tapedeck {

class Tape;
class TransformPool;

struct ReplayOptions
{
    QString replayId;            // names the progress rows; rerunning with it resumes
    QString transformSource;     // empty: identityOutputs()
    QString transformFile;       // labels transform errors
    QString kafkaTopic;          // the target topic (identity into Kafka)
    QString target;              // ctx.target: "postgresql", "sqlite", "kafka"
    qint64 fromPosition = std::numeric_limits<qint64>::min(); // inclusive bounds on event positions
    qint64 toPosition = std::numeric_limits<qint64>::max();
    qint64 fromTimeMs = std::numeric_limits<qint64>::min();   // inclusive bounds on event timestamps
    qint64 toTimeMs = std::numeric_limits<qint64>::max();
    // A timeline selection (a sequence or µs time range, optionally some
    // lanes), and-ed with the bounds above; empty: no limit. A sequence range
    // also bounds what is read.
    EventSelection selection;
    int batchEvents = 5000;      // events read per batch (one sink transaction)
    // A rebuild's first pass (replay.md, "Rebuilds") holds every key of the
    // range, about 75 bytes each; beyond this many keys it gives up.
    qint64 maxRebuildKeys = qint64(1) << 21;
    int threads = 1;             // transform engines, events sharded by stream and key
    int timeoutMs = 1000;        // per transform call
    qint64 heapLimit = qint64(512) << 20; // JavaScript heap per transform engine
    bool dryRun = false;         // transform, but write nothing (see setOutputObserver)
    enum class OnError { Stop, Skip } onError = OnError::Stop;
    QString deadLetterPath;      // with Skip: JSON lines {event, error}
};

struct ReplayStats
{
    qint64 totalEvents = 0;  // events in the tape after the resume point
    qint64 events = 0;       // read so far (after the resume point)
    qint64 inRange = 0;      // of those, inside --from/--to
    qint64 outputs = 0;      // produced by the transform
    qint64 written = 0;      // committed to the sink
    qint64 skipped = 0;      // events whose transform failed and were skipped
    qint64 dropped = 0;      // events in range the transform ran on that gave no output
    qint64 batches = 0;
    qint64 resumedAfterSeq = -1; // last committed sequence number found on open, -1 none
    double seconds = 0;
};

// Replays a tape's events through a transform into a Sink, in tape order, in
// batches; each batch is written together with the position of its last event
// per stream, so a rerun with the same replay id continues after the last
// committed batch (exactly-once; see replay.md).
//
// Thread: run() blocks; call it on a worker thread in a GUI. cancel() is
// thread-safe; the progress callback is called on run()'s thread after each batch.
class ReplayEngine
{
public:
    ReplayEngine(std::shared_ptr<const Tape> tape, ReplayOptions options);
    ~ReplayEngine();

    void setProgressCallback(std::function<void(const ReplayStats &)> callback) { m_progress = std::move(callback); }
    // Sees every output in order (dry run: instead of a sink).
    void setOutputObserver(std::function<void(const SinkOutput &)> observer) { m_observer = std::move(observer); }

    // `sink` may be null in a dry run. false + *error on the first error that
    // stops the replay (what was committed before it stays committed).
    bool run(Sink *sink, QString *error);
    void cancel();
    bool cancelled() const { return m_cancel.load(); }
    const ReplayStats &stats() const { return m_stats; }
    // Per-event errors (skipped events), first 100.
    const QStringList &errors() const { return m_errors; }

    // "kafka/cluster/topic/partition" or "postgres/db/schema.table/0".
    static QString streamName(const StreamKey &key);

private:
    struct Run; // one run()'s state and stages (replay.cpp)
    std::shared_ptr<const Tape> m_tape;
    ReplayOptions m_options;
    std::function<void(const ReplayStats &)> m_progress;
    std::function<void(const SinkOutput &)> m_observer;
    std::atomic<bool> m_cancel{false};
    std::unique_ptr<TransformPool> m_pool;
    ReplayStats m_stats;
    QStringList m_errors;
};

} // namespace tapedeck
