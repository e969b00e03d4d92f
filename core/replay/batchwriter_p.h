#pragma once

#include "core/sink/sink.h"
#include "core/sink/sqlrows.h"

#include <QList>
#include <QString>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace tapedeck {

// Calls Sink::write() on its own thread, one batch at a time in submission
// order, so that the sink's round trips (COPY, the commit's fsync) overlap
// with reading and transforming the next batch. The sink is used by this
// thread only while a batch is submitted and not yet waited for.
//
// Thread: submit() and wait() are called by one thread (the replay's), in
// turns: submit, wait, submit, ...
class BatchWriter
{
public:
    explicit BatchWriter(Sink *sink);
    ~BatchWriter(); // after a batch in progress is written (or failed)
    BatchWriter(const BatchWriter &) = delete;
    BatchWriter &operator=(const BatchWriter &) = delete;

    // rowsMode: Sink::writeRows(rows) instead of Sink::write(data).
    void submit(QList<SinkOutput> data, SqlBatch rows, bool rowsMode, QList<ReplayPosition> progress);
    // Waits for the submitted batch: false + *error if it was not committed.
    bool wait(QString *error);

private:
    void loop();

    Sink *m_sink;
    std::mutex m_mutex;
    std::condition_variable m_wake, m_done;
    QList<SinkOutput> m_data;
    SqlBatch m_rows;
    bool m_rowsMode = false;
    QList<ReplayPosition> m_progress;
    bool m_pending = false, m_busy = false, m_stop = false, m_ok = true;
    QString m_error;
    std::thread m_thread; // last: starts after the members it uses
};

} // namespace tapedeck
