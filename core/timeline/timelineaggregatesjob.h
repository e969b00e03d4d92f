#pragma once

#include "core/timeline/timelineaggregates.h"

#include <QObject>

#include <memory>

class QThreadPool;

namespace tapedeck {

class JobTracker;
class Tape;

// Builds a tape's TimelineAggregates in the background and extends them when
// the tape grows. Chunks are decoded on all cores, counted in one worker, and
// snapshots are delivered every SnapshotIntervalMs while building, so the
// timeline fills in progressively; a redraw never waits for it.
//
// Thread: lives in (and is used from) the GUI thread. Tape::refresh() must
// not run while isRunning() (Tape is not safe to read while it refreshes);
// call update() after it.
class TimelineAggregatesJob : public QObject
{
    Q_OBJECT
public:
    static constexpr int SnapshotIntervalMs = 200;

    explicit TimelineAggregatesJob(QObject *parent = nullptr);
    ~TimelineAggregatesJob() override;

    // Starts from scratch (nullptr: clears).
    void setTape(std::shared_ptr<const Tape> tape);
    // Aggregates the chunks added since the last build (after Tape::refresh()).
    void update();
    // The same for a growing tape followed through snapshots (Tape::refreshed()):
    // `grown` is a later snapshot of the same file; only its new chunks are
    // aggregated. Anything else (another file, fewer events) starts from scratch.
    void grow(std::shared_ptr<const Tape> grown);
    bool isRunning() const;
    // The latest snapshot.
    const TimelineAggregates &aggregates() const { return m_aggregates; }
    qint64 lastBuildMs() const { return m_lastBuildMs; }

Q_SIGNALS:
    void progress(qint64 doneEvents, qint64 totalEvents);
    void aggregatesChanged();
    // A build or update finished; the aggregates cover every chunk it saw.
    void finished();

private:
    struct Build;
    void startWorker();

    std::shared_ptr<const Tape> m_tape;
    std::shared_ptr<Build> m_build;
    TimelineAggregates m_aggregates;
    QThreadPool *m_decodePool = nullptr;
    std::unique_ptr<JobTracker> m_jobs;
    bool m_pending = false;
    bool m_building = false;
    qint64 m_lastBuildMs = 0;
};

} // namespace tapedeck
