#include "core/filter/filterjob.h"

#include "core/filter/eventfilter.h"
#include "core/tape/tape.h"

#include <QElapsedTimer>
#include <QThread>
#include <QThreadPool>
#include <QTimer>

#include <atomic>
#include <mutex>

using namespace Qt::StringLiterals;

namespace tapedeck {

// State shared by the workers of one scan; the last worker to finish builds the result.
struct FilterJob::Scan
{
    std::shared_ptr<const Tape> tape;
    QString expression;
    quint64 jobId = 0;
    int timeoutMs = 1000;
    qint64 total = 0;
    QElapsedTimer clock;

    std::atomic<int> nextChunk{0};
    std::atomic<qint64> done{0};
    std::atomic<bool> cancelled{false};
    std::atomic<bool> aborted{false}; // a timeout: no point in scanning further
    std::atomic<int> runningWorkers{0};

    std::mutex mutex; // guards the members below
    QVector<QVector<quint32>> perChunk;
    std::vector<EventFilter *> filters; // live filters, for cancel()
    qint64 errorCount = 0;
    qint64 firstErrorSeq = -1;
    QString firstError;
    bool timedOut = false;

    void addError(qint64 seq, qint64 count, const QString &message)
    {
        std::lock_guard lock(mutex);
        errorCount += count;
        // Keep the error of the earliest event, so that results do not depend on thread timing.
        if (!message.isEmpty() && !timedOut && (firstError.isEmpty() || seq < firstErrorSeq)) {
            firstErrorSeq = seq;
            firstError = message;
        }
    }

    void cancel()
    {
        cancelled = true;
        std::lock_guard lock(mutex);
        for (EventFilter *f : filters)
            f->interrupt();
    }

    void work();
    FilterResult result();
};

void FilterJob::Scan::work()
{
    EventFilter filter;
    filter.setTimeoutMs(timeoutMs);
    QString error;
    if (!filter.compile(expression, &error)) {
        addError(0, 0, error); // compile() in start() already passed; this is defensive
        return;
    }
    {
        std::lock_guard lock(mutex);
        filters.push_back(&filter);
    }
    if (cancelled) // cancel() may have run before this filter was registered
        filter.interrupt();

    const int chunkCount = tape->chunkCount();
    while (!cancelled && !aborted) {
        const int c = nextChunk.fetch_add(1);
        if (c >= chunkCount)
            break;
        const ChunkInfo &info = tape->chunkInfo(c);
        const std::shared_ptr<const Chunk> chunk = tape->chunk(c, &error);
        if (!chunk) {
            addError(info.firstSeq, info.count, error);
            done += info.count;
            continue;
        }
        QVector<quint32> rows;
        const int n = chunk->count();
        quint32 lastStream = std::numeric_limits<quint32>::max();
        const StreamKey *stream = nullptr;
        for (int i = 0; i < n && !cancelled; ++i) {
            const quint32 sid = chunk->streamId(i);
            if (sid != lastStream) {
                stream = &tape->streamKey(sid);
                lastStream = sid;
            }
            const qint64 seq = info.firstSeq + i;
            if (filter.matches(*stream, *chunk, i, seq))
                rows.append(quint32(seq));
            if (filter.timedOut()) {
                aborted = true;
                break;
            }
        }
        done += n;
        std::lock_guard lock(mutex);
        perChunk[c] = std::move(rows);
    }
    {
        std::lock_guard lock(mutex);
        std::erase(filters, &filter);
    }
    if (filter.timedOut()) {
        std::lock_guard lock(mutex);
        errorCount += filter.errorCount();
        // A timeout is what the user must see, whatever else went wrong.
        if (!timedOut) {
            timedOut = true;
            firstError = filter.firstError();
            firstErrorSeq = -1;
        }
    } else if (filter.errorCount() > 0) {
        addError(filter.firstErrorSeq(), filter.errorCount(), filter.firstError());
    }
}

FilterResult FilterJob::Scan::result()
{
    FilterResult r;
    r.expression = expression;
    r.jobId = jobId;
    r.cancelled = cancelled;
    std::lock_guard lock(mutex);
    r.errorCount = errorCount;
    r.firstError = firstError;
    r.timedOut = timedOut;
    r.failed = timedOut;
    if (!r.cancelled && !r.failed) {
        qsizetype size = 0;
        for (const QVector<quint32> &rows : std::as_const(perChunk))
            size += rows.size();
        r.rows.reserve(size);
        for (const QVector<quint32> &rows : std::as_const(perChunk))
            r.rows.append(rows);
    }
    r.matched = r.rows.size();
    r.scanned = done;
    r.elapsedMs = clock.elapsed();
    return r;
}

FilterJob::FilterJob(QObject *parent)
    : QObject(parent)
    , m_pool(new QThreadPool(this))
    , m_progressTimer(new QTimer(this))
{
    qRegisterMetaType<tapedeck::FilterResult>();
    m_pool->setMaxThreadCount(QThread::idealThreadCount());
    m_progressTimer->setInterval(100);
    connect(m_progressTimer, &QTimer::timeout, this, &FilterJob::emitProgress);
}

FilterJob::~FilterJob()
{
    if (m_scan)
        m_scan->cancel();
    m_pool->waitForDone();
}

int FilterJob::threadCount() const
{
    return m_threadCount > 0 ? m_threadCount : QThread::idealThreadCount();
}

bool FilterJob::isRunning() const
{
    return m_scan != nullptr;
}

void FilterJob::start(std::shared_ptr<const Tape> tape, const QString &expression)
{
    if (m_scan)
        m_scan->cancel(); // its result is dropped: the job id moves on
    m_scan.reset();
    const quint64 id = ++m_jobId;

    auto scan = std::make_shared<Scan>();
    scan->tape = std::move(tape);
    scan->expression = expression;
    scan->jobId = id;
    scan->timeoutMs = m_timeoutMs;
    scan->clock.start();

    QString error;
    const EventFilter::Check check = EventFilter::check(expression);
    if (!scan->tape || check.state != EventFilter::State::Valid) {
        FilterResult r;
        r.expression = expression;
        r.jobId = id;
        r.failed = true;
        r.firstError = !scan->tape ? u"no tape"_s
                       : check.state == EventFilter::State::Empty ? u"empty filter expression"_s
                       : check.column >= 0 ? u"column %1: %2"_s.arg(check.column + 1).arg(check.message)
                                           : check.message;
        QMetaObject::invokeMethod(this, [this, r] { deliver(r); }, Qt::QueuedConnection);
        return;
    }

    scan->total = scan->tape->eventCount();
    scan->perChunk.resize(scan->tape->chunkCount());
    const int workers = std::max(1, std::min(threadCount(), scan->tape->chunkCount()));
    m_pool->setMaxThreadCount(std::max(m_pool->maxThreadCount(), workers));
    scan->runningWorkers = workers;
    m_scan = scan;

    for (int w = 0; w < workers; ++w) {
        // `this` outlives the workers: the destructor cancels and waits for the pool.
        m_pool->start([scan, this] {
            scan->work();
            if (scan->runningWorkers.fetch_sub(1) == 1) {
                const FilterResult r = scan->result();
                QMetaObject::invokeMethod(this, [this, r] { deliver(r); }, Qt::QueuedConnection);
            }
        });
    }
    Q_EMIT progress(0, scan->total);
    m_progressTimer->start();
}

void FilterJob::cancel()
{
    if (m_scan)
        m_scan->cancel();
}

void FilterJob::emitProgress()
{
    if (!m_scan) {
        m_progressTimer->stop();
        return;
    }
    Q_EMIT progress(m_scan->done.load(), m_scan->total);
}

void FilterJob::deliver(const FilterResult &result)
{
    if (result.jobId != m_jobId)
        return; // superseded by a newer start()
    if (m_scan && m_scan->jobId == result.jobId) {
        m_scan.reset();
        m_progressTimer->stop();
        if (!result.cancelled && !result.failed)
            Q_EMIT progress(result.scanned, result.scanned);
    }
    Q_EMIT finished(result);
}

} // namespace tapedeck
