#include "ui/recording/recordingcontroller.h"

#include "core/tape/recordingsource.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <QDateTime>
#include <QDir>
#include <QLoggingCategory>
#include <QStandardPaths>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <mutex>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {
Q_LOGGING_CATEGORY(lcRecording, "tapedeck.recording")
} // namespace

// What the worker and the GUI thread share: a flag, counters and values
// under a mutex. The source and the writer never leave the worker.
struct RecordingController::Shared
{
    std::atomic<bool> cancel{false};
    std::atomic<qint64> events{0};
    std::mutex mutex;
    std::shared_ptr<const Tape> tape; // opened by the worker once the metadata is written
    QStringList warnings;
    QString error;
};

RecordingController::RecordingController(QObject *parent)
    : QObject(parent)
    , m_timer(new QTimer(this))
{
    m_timer->setInterval(40); // ~25 fps: rows are appended per batch, never per record
    connect(m_timer, &QTimer::timeout, this, &RecordingController::poll);
}

RecordingController::~RecordingController()
{
    if (m_thread) {
        m_shared->cancel = true;
        m_thread->wait();
        delete m_thread;
    }
}

void RecordingController::setRefreshInterval(int ms)
{
    m_timer->setInterval(ms);
}

QString RecordingController::temporaryTapePath(const QString &prefix)
{
    QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    if (dir.isEmpty())
        dir = QStandardPaths::writableLocation(QStandardPaths::TempLocation);
    dir += u"/recordings"_s;
    QDir().mkpath(dir);
    const QString stamp = QDateTime::currentDateTime().toString(u"yyyyMMdd-HHmmss"_s);
    QString path = u"%1/%2-%3.tape"_s.arg(dir, prefix, stamp);
    for (int i = 2; QFile::exists(path); ++i)
        path = u"%1/%2-%3-%4.tape"_s.arg(dir, prefix, stamp).arg(i);
    return path;
}

bool RecordingController::start(std::unique_ptr<RecordingSource> source, const QString &tapePath,
                                 const QString &createdBy)
{
    if (m_thread || !source)
        return false;
    m_shared = std::make_shared<Shared>();
    m_tapePath = tapePath;
    m_tape.reset();
    m_startedSignalled = false;
    m_warnings.clear();
    m_lastError.clear();
    m_rateSamples.clear();
    m_rate = 0;
    m_clock.start();

    std::shared_ptr<RecordingSource> src(std::move(source));
    const std::shared_ptr<Shared> shared = m_shared;
    m_thread = QThread::create([src, shared, tapePath, createdBy] {
        auto fail = [&](const QString &error) {
            std::lock_guard lock(shared->mutex);
            shared->error = error;
        };
        QString error;
        if (!src->prepare(&error))
            return fail(error);
        TapeMetadata metadata = src->metadata();
        metadata.createdBy = createdBy;
        TapeWriter writer;
        if (!writer.create(tapePath, metadata))
            return fail(writer.errorString());
        // Opened here, right after the metadata block, so that the GUI never
        // sees a half-written first block as damage.
        std::shared_ptr<const Tape> tape = Tape::open(tapePath, &error);
        if (!tape)
            return fail(error);
        {
            std::lock_guard lock(shared->mutex);
            shared->tape = tape;
            shared->warnings = src->warnings();
        }
        const bool ok = src->record(writer, &shared->cancel,
                                    [&shared](const RecordingSource::Progress &p) { shared->events = p.events; }, &error);
        shared->events = writer.eventCount();
        if (!writer.close() && ok)
            return fail(writer.errorString());
        if (!ok)
            fail(error.isEmpty() ? u"recording failed"_s : error);
    });
    m_thread->setObjectName(u"recording"_s);
    connect(m_thread, &QThread::finished, this, &RecordingController::onWorkerFinished);
    m_thread->start();
    m_timer->start();
    return true;
}

void RecordingController::stop()
{
    if (m_shared)
        m_shared->cancel = true;
}

bool RecordingController::isStopping() const
{
    return m_thread && m_shared && m_shared->cancel.load();
}

qint64 RecordingController::eventCount() const
{
    return m_shared ? m_shared->events.load() : 0;
}

void RecordingController::poll()
{
    if (!m_shared)
        return;
    if (!m_tape) {
        std::lock_guard lock(m_shared->mutex);
        m_tape = m_shared->tape;
        m_warnings = m_shared->warnings;
    }
    if (!m_tape)
        return; // still preparing
    if (!m_startedSignalled) {
        m_startedSignalled = true;
        Q_EMIT started(m_tapePath, m_warnings);
        Q_EMIT snapshot(m_tape);
    }
    QString error;
    std::shared_ptr<const Tape> next = m_tape->refreshed(&error);
    if (!next) {
        qCWarning(lcRecording) << "cannot follow" << m_tapePath << error;
        return;
    }
    const bool grew = next->eventCount() != m_tape->eventCount() || next->isComplete() != m_tape->isComplete();
    m_tape = std::move(next);
    if (grew)
        Q_EMIT snapshot(m_tape);

    const qint64 now = m_clock.elapsed();
    const qint64 events = std::max(m_tape->eventCount(), m_shared->events.load());
    m_rateSamples.append({now, events});
    while (m_rateSamples.size() > 2 && now - m_rateSamples.constFirst().first > 1000)
        m_rateSamples.removeFirst();
    const auto &[t0, e0] = m_rateSamples.constFirst();
    m_rate = now > t0 ? double(events - e0) * 1000.0 / double(now - t0) : 0.0;
    Q_EMIT progress(events, m_rate);
}

void RecordingController::onWorkerFinished()
{
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    m_timer->stop();
    poll(); // the last, complete snapshot
    {
        std::lock_guard lock(m_shared->mutex);
        m_lastError = m_shared->error;
    }
    m_rate = 0;
    Q_EMIT finished(m_lastError);
}

} // namespace tapedeck
