#pragma once

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QStringList>

#include <memory>

class QThread;
class QTimer;

namespace tapedeck {

class RecordingSource;
class Tape;

// Runs a RecordingSource (a Kafka recorder...) in a worker thread that owns
// the source and the TapeWriter, and follows the tape as it grows: a timer
// at ~25 fps takes Tape::refreshed() snapshots and hands them out as values.
// Thread: GUI thread. Nothing but the cancel flag and counters is shared
// with the worker.
class RecordingController : public QObject
{
    Q_OBJECT
public:
    explicit RecordingController(QObject *parent = nullptr);
    // Cancels a running recording and waits for the worker (the source
    // checks the flag between batches, so this is short).
    ~RecordingController() override;

    // Prepares the source and records into `tapePath` (created or truncated).
    // False when a recording is already running.
    bool start(std::unique_ptr<RecordingSource> source, const QString &tapePath, const QString &createdBy);
    // Asks the worker to stop; finished() follows.
    void stop();
    bool isRunning() const { return m_thread != nullptr; }
    bool isStopping() const;

    QString tapePath() const { return m_tapePath; }
    std::shared_ptr<const Tape> tape() const { return m_tape; }
    qint64 eventCount() const;
    double recordsPerSecond() const { return m_rate; }
    QStringList warnings() const { return m_warnings; }
    QString lastError() const { return m_lastError; }

    void setRefreshInterval(int ms);
    // A fresh file name for a recording in the cache directory.
    static QString temporaryTapePath(const QString &prefix);

Q_SIGNALS:
    // The source is prepared and the tape exists; `warnings` from prepare().
    void started(const QString &tapePath, const QStringList &warnings);
    void progress(qint64 events, double recordsPerSecond);
    // A newer snapshot of the tape being recorded (only when it grew), and a
    // last one, complete, before finished().
    void snapshot(std::shared_ptr<const Tape> tape);
    // Empty: every partition reached its stop, or stop() was called. Otherwise
    // the error, and the tape keeps what was recorded before it.
    void finished(const QString &error);

private:
    struct Shared;
    void poll();
    void onWorkerFinished();

    std::shared_ptr<Shared> m_shared;
    QThread *m_thread = nullptr;
    QTimer *m_timer = nullptr;
    QString m_tapePath;
    std::shared_ptr<const Tape> m_tape;
    bool m_startedSignalled = false;
    QStringList m_warnings;
    QString m_lastError;
    // (ms since start, events) over the last second, for records/s.
    QList<std::pair<qint64, qint64>> m_rateSamples;
    QElapsedTimer m_clock;
    double m_rate = 0;
};

} // namespace tapedeck
