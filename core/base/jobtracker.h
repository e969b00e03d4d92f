#pragma once

#include <QMetaObject>
#include <QObject>
#include <QPointer>
#include <QThreadPool>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace tapedeck {

// The one way off the GUI thread for request/answer work (docs/architecture.md,
// "Threads"): computing jobs run in the global pool (as many threads as
// cores; a job there never waits on another job of the pool), jobs that wait
// on a server (describe a cluster, start the demo cluster) in blockingPool(),
// so a slow broker never holds a core's thread. Long runs with progress and
// cancel (recording, replay) are not jobs: each has a QThread of its own,
// owned by its runner (RecordingController, ReplayRunner).
//
// Numbered background jobs, as hotspot's JobTracker: start() runs a job in a
// thread pool and delivers its result to `then` in the context object's
// thread, unless a later start() or cancel() superseded it (stale results are
// dropped). The job gets a `cancelled()` callable to poll. The destructor
// cancels and waits for running jobs. Thread: the context object's thread.
class JobTracker
{
public:
    explicit JobTracker(QObject *context, QThreadPool *pool = QThreadPool::globalInstance())
        : m_context(context), m_pool(pool)
    {
    }
    ~JobTracker()
    {
        cancel();
        std::unique_lock lock(m_state->mutex);
        m_state->idle.wait(lock, [this] { return m_state->running == 0; });
    }
    JobTracker(const JobTracker &) = delete;
    JobTracker &operator=(const JobTracker &) = delete;

    // job: Result(const std::function<bool()> &cancelled); then: void(Result)
    template<typename Job, typename Then>
    quint64 start(Job job, Then then)
    {
        const quint64 id = ++m_state->current;
        std::shared_ptr<State> state = m_state;
        auto cancelled = [state, id] { return state->current.load(std::memory_order_relaxed) != id; };
        {
            std::lock_guard lock(state->mutex);
            ++state->running;
        }
        QPointer<QObject> context = m_context;
        m_pool->start([state, cancelled, context, job = std::move(job), then = std::move(then)]() mutable {
            auto result = job(std::function<bool()>(cancelled));
            if (!cancelled() && context) {
                QMetaObject::invokeMethod(
                    context.data(),
                    [cancelled, then = std::move(then), result = std::move(result)]() mutable {
                        if (!cancelled())
                            then(std::move(result));
                    },
                    Qt::QueuedConnection);
            }
            std::lock_guard lock(state->mutex);
            if (--state->running == 0)
                state->idle.notify_all();
        });
        return id;
    }

    void cancel() { ++m_state->current; }

    // For jobs that wait on a server: threads that only wait, up to 16, never the global pool's.
    static QThreadPool *blockingPool()
    {
        static QThreadPool *const pool = [] {
            auto *p = new QThreadPool; // never deleted: jobs may still wait in it at exit
            p->setMaxThreadCount(16);
            return p;
        }();
        return pool;
    }
    bool isRunning() const
    {
        std::lock_guard lock(m_state->mutex);
        return m_state->running > 0;
    }
    quint64 currentId() const { return m_state->current; }

private:
    struct State
    {
        std::atomic<quint64> current{0};
        std::mutex mutex;
        std::condition_variable idle;
        int running = 0;
    };
    QObject *m_context;
    QThreadPool *m_pool;
    std::shared_ptr<State> m_state = std::make_shared<State>();
};

} // namespace tapedeck
