#pragma once

#include <QMetaType>
#include <QObject>
#include <QString>
#include <QVector>

#include <memory>

class QThreadPool;
class QTimer;

namespace tapedeck {

class Tape;

// The outcome of one filter scan: an immutable value (QVector and QString are
// implicitly shared), safe to pass between threads.
struct FilterResult
{
    QString expression;
    QVector<quint32> rows; // matching sequence numbers, ascending
    qint64 matched = 0;
    qint64 scanned = 0;    // events evaluated
    qint64 errorCount = 0; // evaluations that threw (count as no match)
    QString firstError;    // first thrown error, compile error or timeout
    bool cancelled = false;
    bool timedOut = false; // the watchdog stopped the expression; the scan was abandoned
    bool failed = false;   // the expression did not compile or the scan was abandoned
    qint64 elapsedMs = 0;
    quint64 jobId = 0;
};

// Runs a filter expression over a whole tape in the background.
//
// Thread: a FilterJob lives in (and must be used from) the thread that
// created it, normally the GUI thread. The scan runs on up to
// QThread::idealThreadCount() workers of a private pool, each with its own
// EventFilter (QJSEngine); workers take chunks in order from a shared counter.
// Starting a new scan cancels the running one; results of a superseded or
// cancelled scan are never delivered (numbered jobs, as hotspot's JobTracker).
class FilterJob : public QObject
{
    Q_OBJECT
public:
    explicit FilterJob(QObject *parent = nullptr);
    ~FilterJob() override; // cancels and waits for the workers

    void start(std::shared_ptr<const Tape> tape, const QString &expression);
    void cancel();
    bool isRunning() const;
    quint64 currentJobId() const { return m_jobId; }

    // 0 (default): QThread::idealThreadCount().
    void setThreadCount(int count) { m_threadCount = count; }
    int threadCount() const;
    void setTimeoutMs(int ms) { m_timeoutMs = ms; }

    struct Scan;

Q_SIGNALS:
    // At most 10 times a second while scanning.
    void progress(qint64 done, qint64 total);
    // Once per started job unless it was superseded; `cancelled` is set when cancel() stopped it.
    void finished(const tapedeck::FilterResult &result);

private:
    void emitProgress();
    void deliver(const FilterResult &result);

    QThreadPool *m_pool = nullptr;
    QTimer *m_progressTimer = nullptr;
    std::shared_ptr<Scan> m_scan;
    quint64 m_jobId = 0;
    int m_threadCount = 0;
    int m_timeoutMs = 1000;
};

} // namespace tapedeck

Q_DECLARE_METATYPE(tapedeck::FilterResult)
