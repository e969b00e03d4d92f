#include "ui/common/replayrunner.h"

#include "core/tape/tape.h"

#include <QPointer>
#include <QThread>

#include <condition_variable>
#include <mutex>

using namespace Qt::StringLiterals;

namespace tapedeck {

// The engine pointer, guarded so that cancel() never races its destruction;
// and the answer to a question asked on the GUI thread (cancel() answers no,
// so the destructor never waits on a worker that waits on the GUI).
struct ReplayRunner::Shared
{
    std::mutex mutex;
    std::condition_variable answered;
    ReplayEngine *engine = nullptr;
    bool cancelled = false;
    int answer = -1; // -1 pending, 0 no, 1 yes
};

ReplayRunner::ReplayRunner(QObject *parent) : QObject(parent), m_shared(std::make_shared<Shared>())
{
    qRegisterMetaType<ReplayReport>();
}

ReplayRunner::~ReplayRunner()
{
    cancel();
    if (m_thread)
        m_thread->wait();
}

void ReplayRunner::cancel()
{
    std::lock_guard lock(m_shared->mutex);
    m_shared->cancelled = true;
    if (m_shared->engine)
        m_shared->engine->cancel();
    m_shared->answered.notify_all();
}

bool ReplayRunner::start(std::shared_ptr<const Tape> tape, const ReplayOptions &options, const ReplayTarget &target,
                         SinkFactory factory)
{
    if (m_running || !tape)
        return false;
    if (m_thread)
        m_thread->wait();
    m_shared = std::make_shared<Shared>();
    m_running = true;
    m_report = {};
    m_report.dryRun = options.dryRun;
    ReplayTarget sinkTarget = target;
    if (m_createTable && sinkTarget.createTables)
        sinkTarget.confirmCreateTable = confirmOnGuiThread();
    m_thread.reset(QThread::create([self = QPointer<ReplayRunner>(this), shared = m_shared, tape = std::move(tape),
                                    options, target = std::move(sinkTarget), factory = std::move(factory)] {
        work(self, shared, tape, options, target, factory);
    }));
    m_thread->setObjectName(u"replay"_s);
    m_thread->start();
    return true;
}

// The create-table question, asked from the worker: the handler runs on the
// GUI thread and the worker waits for its answer (or for cancel()).
std::function<bool(const QString &, const QString &)> ReplayRunner::confirmOnGuiThread()
{
    return [self = QPointer<ReplayRunner>(this), shared = m_shared, handler = m_createTable](const QString &table,
                                                                                             const QString &sql) {
        {
            std::lock_guard lock(shared->mutex);
            if (shared->cancelled)
                return false;
            shared->answer = -1;
        }
        if (!self)
            return false;
        QMetaObject::invokeMethod(
            self.data(),
            [shared, handler, table, sql] {
                const bool yes = handler(table, sql);
                std::lock_guard lock(shared->mutex);
                shared->answer = yes ? 1 : 0;
                shared->answered.notify_all();
            },
            Qt::QueuedConnection);
        std::unique_lock lock(shared->mutex);
        shared->answered.wait(lock, [&] { return shared->answer >= 0 || shared->cancelled; });
        return shared->answer == 1 && !shared->cancelled;
    };
}

// Hands a report to the runner on its own thread; the last one ends the run.
void ReplayRunner::post(const QPointer<ReplayRunner> &self, ReplayReport r, bool last)
{
    QMetaObject::invokeMethod(
        self.data(),
        [self, r = std::move(r), last] {
            if (!self)
                return;
            self->m_report = r;
            if (last) {
                if (self->m_thread)
                    self->m_thread->wait(); // it ends right after posting this
                self->m_running = false;
                Q_EMIT self->finished(r);
            } else {
                Q_EMIT self->progress(r);
            }
        },
        Qt::QueuedConnection);
}

// The worker thread's whole life: open the sink, run the engine, report.
void ReplayRunner::work(const QPointer<ReplayRunner> &self, const std::shared_ptr<Shared> &shared,
                        const std::shared_ptr<const Tape> &tape, const ReplayOptions &options,
                        const ReplayTarget &target, const SinkFactory &factory)
{
    ReplayReport report;
    report.dryRun = options.dryRun;
    ReplayEngine engine(tape, options);
    {
        std::lock_guard lock(shared->mutex);
        shared->engine = &engine;
        if (shared->cancelled)
            engine.cancel();
    }
    // Outputs are counted as the engine hands them over, and moved to
    // the report when their batch is committed (the progress callback).
    QMap<QString, qint64> pending;
    qint64 pendingEvents = 0;
    qint64 lastSeq = -1;
    engine.setOutputObserver([&](const SinkOutput &out) {
        ++pending[out.kind == SinkOutput::Kind::Sql ? out.table : out.topic];
        if (out.seq != lastSeq) {
            lastSeq = out.seq;
            ++pendingEvents;
        }
    });
    engine.setProgressCallback([&](const ReplayStats &stats) {
        for (auto it = pending.cbegin(); it != pending.cend(); ++it)
            report.perTarget[it.key()] += it.value();
        pending.clear();
        report.eventsWithOutputs += pendingEvents;
        pendingEvents = 0;
        report.stats = stats;
        report.drops = stats.dropped;
        report.errors = engine.errors();
        post(self, report, false);
    });
    QString error;
    std::unique_ptr<Sink> sink;
    bool ok = false;
    if (!options.dryRun) {
        sink = factory ? factory(target, &error) : nullptr;
        if (!sink && error.isEmpty())
            error = u"no target to replay into"_s;
        // The target as the user named it (a sink may only know its name once open).
        report.target = target.describe();
    }
    if (options.dryRun || sink)
        ok = engine.run(sink.get(), &error);
    if (sink)
        sink->close();
    {
        std::lock_guard lock(shared->mutex);
        shared->engine = nullptr;
    }
    report.stats = engine.stats();
    report.errors = engine.errors();
    report.finished = true;
    report.ok = ok;
    report.cancelled = !ok && engine.cancelled();
    report.error = ok ? QString() : error;
    report.drops = report.stats.dropped;
    post(self, report, true);
}

} // namespace tapedeck
