#include "core/replay/batchwriter_p.h"

namespace tapedeck {

BatchWriter::BatchWriter(Sink *sink) : m_sink(sink), m_thread([this] { loop(); }) {}

BatchWriter::~BatchWriter()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void BatchWriter::submit(QList<SinkOutput> data, SqlBatch rows, bool rowsMode, QList<ReplayPosition> progress)
{
    {
        std::lock_guard lock(m_mutex);
        m_data = std::move(data);
        m_rows = std::move(rows);
        m_rowsMode = rowsMode;
        m_progress = std::move(progress);
        m_pending = true;
        m_busy = true;
    }
    m_wake.notify_all();
}

bool BatchWriter::wait(QString *error)
{
    std::unique_lock lock(m_mutex);
    m_done.wait(lock, [&] { return !m_busy; });
    if (m_ok)
        return true;
    *error = m_error;
    return false;
}

void BatchWriter::loop()
{
    while (true) {
        QList<SinkOutput> data;
        SqlBatch rows;
        bool rowsMode;
        QList<ReplayPosition> progress;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] { return m_stop || m_pending; });
            if (!m_pending)
                return;
            m_pending = false;
            data = std::move(m_data);
            rows = std::move(m_rows);
            rowsMode = m_rowsMode;
            progress = std::move(m_progress);
        }
        QString error;
        const bool ok = rowsMode ? m_sink->writeRows(rows, progress, &error) : m_sink->write(data, progress, &error);
        data = {}; // freed here rather than on the reading thread
        rows = {};
        {
            std::lock_guard lock(m_mutex);
            m_ok = ok;
            m_error = error;
            m_busy = false;
        }
        m_done.notify_all();
    }
}

} // namespace tapedeck
