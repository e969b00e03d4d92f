#include "replayrunner.h"

#include "tape.h"

#include <QPointer>

#include <mutex>

using namespace Qt::StringLiterals;

namespace tapedeck {

// The engine pointer, guarded so that cancel() never races its destruction.
struct ReplayRunner::Shared
{
    std::mutex mutex;
    ReplayEngine *engine = nullptr;
    bool cancelled = false;
};

ReplayRunner::ReplayRunner(QObject *parent) : QObject(parent), m_shared(std::make_shared<Shared>())
{
    qRegisterMetaType<ReplayReport>();
}

ReplayRunner::~ReplayRunner()
{
    cancel();
    if (m_thread.joinable())
        m_thread.join();
}

void ReplayRunner::cancel()
{
    std::lock_guard lock(m_shared->mutex);
    m_shared->cancelled = true;
    if (m_shared->engine)
        m_shared->engine->cancel();
}

bool ReplayRunner::start(std::shared_ptr<const Tape> tape, const ReplayOptions &options, const ReplayTarget &target,
                         SinkFactory factory)
{
    if (m_running || !tape)
        return false;
    if (m_thread.joinable())
        m_thread.join();
    m_shared = std::make_shared<Shared>();
    m_running = true;
    m_report = {};
    m_report.dryRun = options.dryRun;
    QPointer<ReplayRunner> self(this);
    std::shared_ptr<Shared> shared = m_shared;
    m_thread = std::thread([self, shared, tape = std::move(tape), options, target, factory = std::move(factory)] {
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
        auto post = [self](ReplayReport r, bool last) {
            QMetaObject::invokeMethod(
                self.data(),
                [self, r = std::move(r), last] {
                    if (!self)
                        return;
                    self->m_report = r;
                    if (last) {
                        if (self->m_thread.joinable())
                            self->m_thread.join();
                        self->m_running = false;
                        Q_EMIT self->finished(r);
                    } else {
                        Q_EMIT self->progress(r);
                    }
                },
                Qt::QueuedConnection);
        };
        engine.setProgressCallback([&](const ReplayStats &stats) {
            for (auto it = pending.cbegin(); it != pending.cend(); ++it)
                report.perTarget[it.key()] += it.value();
            pending.clear();
            report.eventsWithOutputs += pendingEvents;
            pendingEvents = 0;
            report.stats = stats;
            report.drops = stats.inRange - stats.skipped - report.eventsWithOutputs;
            report.errors = engine.errors();
            post(report, false);
        });
        QString error;
        std::unique_ptr<Sink> sink;
        bool ok = false;
        if (!options.dryRun) {
            sink = factory ? factory(target, &error) : nullptr;
            if (!sink && error.isEmpty())
                error = u"no target to replay into"_s;
            if (sink)
                report.target = sink->describe();
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
        if (!ok && !report.cancelled)
            report.drops = -1; // the failing batch's events after the error were read but not run
        post(report, true);
    });
    return true;
}

} // namespace tapedeck
