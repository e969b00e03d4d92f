#include "core/replay/transformpool_p.h"

#include "core/replay/replay.h"

namespace tapedeck {

bool TransformPool::start(int n, const ReplayOptions &options, QString *error)
{
    m_workers.resize(size_t(n));
    m_rows.resize(size_t(n));
    for (int i = 0; i < n; ++i) {
        m_workers[size_t(i)].thread = std::thread([this, i, options] { loop(i, options); });
    }
    std::unique_lock lock(m_mutex);
    m_done.wait(lock, [&] { return m_ready == n; });
    if (!m_compileError.isEmpty()) {
        *error = m_compileError;
        return false;
    }
    return true;
}

void TransformPool::loop(int index, const ReplayOptions &options)
{
    Transform transform;
    transform.setTimeoutMs(options.timeoutMs);
    transform.setHeapLimit(options.heapLimit);
    transform.setStopAtFailure(options.onError == ReplayOptions::OnError::Stop);
    QString error;
    const bool ok = transform.compile(options.transformSource, options.transformFile,
                                      Transform::Context{options.replayId, options.target, options.dryRun}, &error);
    int seen = 0;
    {
        std::lock_guard lock(m_mutex);
        m_workers[size_t(index)].transform = &transform;
        if (!ok && m_compileError.isEmpty())
            m_compileError = error;
        ++m_ready;
    }
    m_done.notify_all();
    while (true) {
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] { return m_stop || m_generation != seen; });
            if (m_stop)
                break;
            seen = m_generation;
        }
        // This worker's events (runMany() calls into the engine once per run of them).
        const int n = int(m_events->size());
        std::vector<const Event *> mine;
        std::vector<qint64> mySeqs;
        std::vector<Transform::Outcome *> myResults;
        std::vector<QByteArrayView> myExtensions;
        for (int i = 0; i < n; ++i) {
            if ((*m_shard)[size_t(i)] != index)
                continue;
            mine.push_back(&(*m_events)[size_t(i)]);
            mySeqs.push_back((*m_seqs)[size_t(i)]);
            myResults.push_back(&(*m_results)[size_t(i)]);
            myExtensions.push_back((*m_extensions)[size_t(i)]);
        }
        transform.runMany(mine, mySeqs, myResults, m_asRows ? &m_rows[size_t(index)] : nullptr, myExtensions);
        {
            std::lock_guard lock(m_mutex);
            ++m_finished;
        }
        m_done.notify_all();
    }
    std::lock_guard lock(m_mutex);
    m_workers[size_t(index)].transform = nullptr;
}

void TransformPool::process(const std::vector<Event> &events, const std::vector<qint64> &seqs, const std::vector<int> &shard,
                            std::vector<Transform::Outcome> &results, const std::vector<QByteArrayView> &extensions, bool wantRows)
{
    std::unique_lock lock(m_mutex);
    m_asRows = wantRows;
    m_extensions = &extensions;
    m_events = &events;
    m_seqs = &seqs;
    m_shard = &shard;
    m_results = &results;
    m_finished = 0;
    ++m_generation;
    m_wake.notify_all();
    m_done.wait(lock, [&] { return m_finished == int(m_workers.size()); });
}

void TransformPool::cancel()
{
    std::lock_guard lock(m_mutex);
    for (Worker &w : m_workers) {
        if (w.transform)
            w.transform->cancel();
    }
}

TransformPool::~TransformPool()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    for (Worker &w : m_workers) {
        if (w.thread.joinable())
            w.thread.join();
    }
}

} // namespace tapedeck
