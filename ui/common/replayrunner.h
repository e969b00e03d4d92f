#pragma once

#include "core/replay/replay.h"
#include "core/replay/replaytarget.h"

#include <QMap>
#include <QMetaType>
#include <QObject>
#include <QPointer>
#include <QStringList>

#include <functional>
#include <memory>

class QThread;

namespace tapedeck {

class Tape;

// What a replay (or a dry run) has done so far: values, sent from the worker.
struct ReplayReport
{
    ReplayStats stats;
    // Outputs per table or topic: committed ones (a replay) or produced ones (a dry run).
    QMap<QString, qint64> perTarget;
    qint64 eventsWithOutputs = 0;
    qint64 drops = 0;         // events in range the transform ran on that gave no output
    QStringList errors;       // first 100 per-event errors (skipped events)
    QString error;            // what stopped the run, empty on success
    bool finished = false;
    bool ok = false;
    bool cancelled = false;
    bool dryRun = false;
    QString target;           // describe() of the sink, "" in a dry run
};

// Runs one ReplayEngine on its own thread. The sink is created by the
// SinkFactory on that thread; the tape is shared (its const methods are
// thread-safe). progress() after each committed batch and finished() once,
// both delivered on the GUI thread. cancel() makes the engine stop at the
// next batch boundary or transform call; the batch being written is not
// committed. The destructor cancels and waits. Thread: GUI thread.
class ReplayRunner : public QObject
{
    Q_OBJECT
public:
    explicit ReplayRunner(QObject *parent = nullptr);
    ~ReplayRunner() override;

    // false when already running. `factory` may be empty for a dry run.
    bool start(std::shared_ptr<const Tape> tape, const ReplayOptions &options, const ReplayTarget &target,
               SinkFactory factory);
    void cancel();
    bool isRunning() const { return m_running; }
    // Asked on the GUI thread (the worker waits for the answer) before a SQL
    // target creates a missing table; unset: the target's createTables alone decides.
    void setCreateTableHandler(std::function<bool(const QString &table, const QString &statement)> handler)
    {
        m_createTable = std::move(handler);
    }
    const ReplayReport &report() const { return m_report; }

Q_SIGNALS:
    void progress(const tapedeck::ReplayReport &report);
    void finished(const tapedeck::ReplayReport &report);

private:
    struct Shared;
    std::function<bool(const QString &, const QString &)> confirmOnGuiThread();
    static void post(const QPointer<ReplayRunner> &self, ReplayReport r, bool last);
    static void work(const QPointer<ReplayRunner> &self, const std::shared_ptr<Shared> &shared,
                     const std::shared_ptr<const Tape> &tape, const ReplayOptions &options,
                     const ReplayTarget &target, const SinkFactory &factory);
    std::shared_ptr<Shared> m_shared;
    std::unique_ptr<QThread> m_thread; // the long run's own thread (core/base/jobtracker.h: the idioms)
    bool m_running = false;
    ReplayReport m_report;
    std::function<bool(const QString &, const QString &)> m_createTable;
};

} // namespace tapedeck

Q_DECLARE_METATYPE(tapedeck::ReplayReport)
