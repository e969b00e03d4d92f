// TableFeed (tablefeed_p.h): the reading thread and the hand-over of batches.

#include "core/diff/tablefeed_p.h"

namespace tapedeck::tablediff {

TableFeed::TableFeed(TableReader &reader, QStringList columns, QStringList keys, int batchRows)
    : m_reader(reader), m_columns(std::move(columns)), m_keys(std::move(keys)), m_batchRows(batchRows)
{
    m_thread = std::thread([this] { run(); });
}

TableFeed::~TableFeed()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cond.notify_all();
    m_thread.join();
}

bool TableFeed::next(TableBatch *batch, QString *error)
{
    std::unique_lock lock(m_mutex);
    m_cond.wait(lock, [this] { return !m_ready.empty() || m_done; });
    if (m_ready.empty()) {
        if (m_failed) {
            *error = m_error;
            return false;
        }
        batch->clear();
        return true;
    }
    std::swap(*batch, m_ready.front());
    m_free.push_back(std::move(m_ready.front()));
    m_ready.pop_front();
    m_readyBytes -= bytesOf(*batch);
    lock.unlock();
    m_cond.notify_all();
    return true;
}

void TableFeed::run()
{
    QString error;
    const bool started = m_reader.start(m_columns, m_keys, &error);
    while (started) {
        TableBatch batch;
        {
            std::unique_lock lock(m_mutex);
            m_cond.wait(lock, [this] { return m_ready.size() < 2 || m_readyBytes < AheadBytes || m_stop; });
            if (m_stop)
                return;
            if (!m_free.empty()) {
                batch = std::move(m_free.back());
                m_free.pop_back();
            }
        }
        if (!m_reader.next(&batch, m_batchRows, &error))
            break;
        std::lock_guard lock(m_mutex);
        if (batch.rows() == 0) {
            m_done = true;
            m_cond.notify_all();
            return;
        }
        m_readyBytes += bytesOf(batch);
        m_ready.push_back(std::move(batch));
        m_cond.notify_all();
    }
    std::lock_guard lock(m_mutex);
    m_failed = m_done = true;
    m_error = error;
    m_cond.notify_all();
}

} // namespace tapedeck::tablediff
