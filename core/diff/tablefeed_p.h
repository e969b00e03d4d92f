#pragma once

// TableFeed: the live table read ahead on a thread of its own, for
// TableDiff::run's table side. Private to TableDiff.

#include "core/diff/tablediff.h"

#include <QString>
#include <QStringList>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace tapedeck::tablediff {

// Reads the table on its own thread (the reader's start() and next(), a batch
// at a time) from the moment the columns are known: the table streams while
// the state side is read, and the COPY text is received and parsed while the
// caller canonicalises and looks up the batch before. The batches waiting
// hold at most AheadBytes (or 2 batches), so the table is never held whole.
// Buffers go round (no reallocation).
//
// Threads: next() is called by the thread that made the feed; the reader is
// used by the feed's own thread only, until the feed is destroyed.
class TableFeed
{
public:
    static constexpr qsizetype AheadBytes = 64 << 20;
    TableFeed(TableReader &reader, QStringList columns, QStringList keys, int batchRows);
    ~TableFeed(); // stops the reading thread and joins it
    TableFeed(const TableFeed &) = delete;
    TableFeed &operator=(const TableFeed &) = delete;
    // The next batch into *batch (whose buffers are recycled); an empty batch
    // at the end; false + *error when the table cannot be read.
    bool next(TableBatch *batch, QString *error);

private:
    static qsizetype bytesOf(const TableBatch &b)
    {
        return b.data.size() + qsizetype((b.offsets.size() + b.sizes.size()) * sizeof(qint32));
    }
    void run();

    TableReader &m_reader;
    const QStringList m_columns, m_keys;
    const int m_batchRows;
    std::mutex m_mutex;
    std::condition_variable m_cond;
    std::deque<TableBatch> m_ready;
    std::vector<TableBatch> m_free;
    qsizetype m_readyBytes = 0;
    bool m_stop = false, m_done = false, m_failed = false;
    QString m_error;
    std::thread m_thread; // last: starts after the members it uses
};

} // namespace tapedeck::tablediff
