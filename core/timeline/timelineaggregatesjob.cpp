#include "core/timeline/timelineaggregatesjob.h"

#include "core/tape/chunk.h"
#include "core/base/jobtracker.h"
#include "core/base/logging.h"
#include "core/tape/tape.h"

#include <QElapsedTimer>
#include <QThread>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentMap>

namespace tapedeck {

// The builder's state, owned by one worker at a time.
struct TimelineAggregatesJob::Build
{
    std::shared_ptr<const Tape> tape;
    TimelineAggregates aggregates;
};

namespace {

struct Delivery
{
    TimelineAggregates snapshot;
    bool done = false;
    qint64 elapsedMs = 0;
    qint64 doneEvents = 0, totalEvents = 0;
};

} // namespace

TimelineAggregatesJob::TimelineAggregatesJob(QObject *parent)
    : QObject(parent)
    , m_decodePool(new QThreadPool(this))
    , m_jobs(std::make_unique<JobTracker>(this))
{
    m_decodePool->setMaxThreadCount(std::max(1, QThread::idealThreadCount()));
}

TimelineAggregatesJob::~TimelineAggregatesJob()
{
    m_jobs.reset(); // cancels and waits before the decode pool goes
}

void TimelineAggregatesJob::setTape(std::shared_ptr<const Tape> tape)
{
    m_jobs->cancel();
    m_tape = std::move(tape);
    m_aggregates = {};
    m_pending = false;
    m_building = false;
    m_build.reset();
    if (m_tape) {
        m_build = std::make_shared<Build>();
        m_build->tape = m_tape;
    }
    Q_EMIT aggregatesChanged();
    if (m_tape)
        startWorker();
}

void TimelineAggregatesJob::update()
{
    if (!m_tape)
        return;
    if (isRunning()) {
        m_pending = true;
        return;
    }
    startWorker();
}

void TimelineAggregatesJob::grow(std::shared_ptr<const Tape> grown)
{
    if (!grown || !m_tape || !m_build || grown->path() != m_tape->path() || grown->eventCount() < m_tape->eventCount()) {
        setTape(std::move(grown));
        return;
    }
    // Snapshots are immutable and share the chunks already aggregated, so the
    // worker (when it next starts) continues where it stopped.
    m_tape = std::move(grown);
    update();
}

bool TimelineAggregatesJob::isRunning() const
{
    // Not m_jobs->isRunning(): a worker that delivered its result is done with the tape.
    return m_building || m_pending;
}

void TimelineAggregatesJob::startWorker()
{
    m_pending = false;
    m_building = true;
    m_build->tape = m_tape; // no worker runs now: the latest snapshot (see grow())
    // Captured here, in the thread that owns the tape, so the worker does not
    // read the stream table while it may change.
    const int chunkTarget = m_tape->chunkCount();
    const QList<StreamStats> streams = m_tape->streams();
    const qint64 totalEvents = m_tape->eventCount();
    std::shared_ptr<Build> build = m_build;
    QThreadPool *pool = m_decodePool;
    QPointer<TimelineAggregatesJob> self(this);

    m_jobs->start(
        [build, chunkTarget, streams, totalEvents, pool, self](const std::function<bool()> &cancelled) {
            QElapsedTimer clock, sinceSnapshot;
            clock.start();
            sinceSnapshot.start();
            const Tape &tape = *build->tape;
            TimelineAggregates &agg = build->aggregates;
            agg.plan(streams, totalEvents);
            const int batch = std::max(4, pool->maxThreadCount() * 4);
            for (int first = agg.chunkCount(); first < chunkTarget && !cancelled(); first += batch) {
                QList<int> indices;
                for (int i = first; i < std::min(chunkTarget, first + batch); ++i)
                    indices << i;
                const QList<std::shared_ptr<const Chunk>> chunks = QtConcurrent::blockingMapped<QList<std::shared_ptr<const Chunk>>>(
                    pool, indices, [&tape](int i) {
                        QString error;
                        auto c = tape.chunk(i, &error);
                        if (!c)
                            qCWarning(lcTape).noquote() << error;
                        return c;
                    });
                for (qsizetype k = 0; k < chunks.size(); ++k) {
                    if (chunks[k]) {
                        agg.append(*chunks[k], tape.chunkInfo(indices[k]).firstSeq);
                    } else {
                        // A corrupt chunk: skip it, keep the counts of the rest.
                        Chunk empty;
                        agg.append(empty, tape.chunkInfo(indices[k]).firstSeq);
                    }
                }
                if (sinceSnapshot.elapsed() >= SnapshotIntervalMs && !cancelled()) {
                    sinceSnapshot.restart();
                    agg.finishBatch();
                    Delivery partial{agg, false, clock.elapsed(), agg.eventCount(), totalEvents};
                    QMetaObject::invokeMethod(self, [self, cancelled, partial]() {
                        if (!self || cancelled())
                            return;
                        self->m_aggregates = partial.snapshot;
                        Q_EMIT self->progress(partial.doneEvents, partial.totalEvents);
                        Q_EMIT self->aggregatesChanged();
                    }, Qt::QueuedConnection);
                }
            }
            agg.finishBatch();
            return Delivery{agg, true, clock.elapsed(), agg.eventCount(), totalEvents};
        },
        [this](Delivery result) {
            m_building = false;
            m_aggregates = std::move(result.snapshot);
            m_lastBuildMs = result.elapsedMs;
            qCDebug(lcTape) << "timeline aggregates:" << m_aggregates.eventCount() << "events in" << result.elapsedMs
                            << "ms," << m_aggregates.memoryBytes() << "bytes";
            Q_EMIT progress(result.doneEvents, result.totalEvents);
            Q_EMIT aggregatesChanged();
            if (m_pending)
                startWorker();
            else
                Q_EMIT finished();
        });
}

} // namespace tapedeck
