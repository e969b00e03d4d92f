#pragma once

#include "core/tape/chunkencoder.h"
#include "core/event/event.h"
#include "core/event/stream.h"
#include "core/tape/tapemetadata.h"

#include <QFile>
#include <QHash>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace tapedeck {

// Appends events to a .tape file (format: tapeformat.md). Events are buffered
// into a chunk; a chunk is written when it is full or on flush(). After a
// crash (even kill -9) the tape holds every event of every completed flush.
// Not thread-safe: one thread owns a writer. Full chunks are compressed and
// written by a background thread (so a recorder can keep reading while zstd
// works); flush() waits for them.
class TapeWriter
{
public:
    struct Options
    {
        int maxChunkEvents = 4096;
        int maxChunkBytes = 1 << 20; // raw bytes before compression
        int compressionLevel = 1;    // zstd level; 0 = store uncompressed
        bool syncOnFlush = false;    // fsync on every flush (power-loss safety)
        bool backgroundWrites = true; // compress and write chunks in a helper thread
    };

    TapeWriter();
    ~TapeWriter(); // closes (and so finishes) the tape if still open
    TapeWriter(const TapeWriter &) = delete;
    TapeWriter &operator=(const TapeWriter &) = delete;

    // Creates (truncates) `path`. Returns false and sets errorString() on failure.
    bool create(const QString &path, const TapeMetadata &metadata, const Options &options);
    bool create(const QString &path, const TapeMetadata &metadata) { return create(path, metadata, Options{}); }

    bool append(const Event &event);
    // The hot path for connectors: no Event is built. `stream` comes from streamId().
    bool appendRecord(quint32 stream, const RecordView &record);
    quint32 streamId(const StreamKey &key);
    // Writes the pending chunk (if any) so that it survives a crash of this process.
    bool flush();
    // Flushes and writes the end marker. The tape then counts as complete.
    bool close();

    bool isOpen() const { return m_file.isOpen(); }
    qint64 eventCount() const { return m_eventCount; }
    qint64 bytesWritten() const { return m_bytesWritten.load(); }
    QString errorString() const;
    QString path() const { return m_file.fileName(); }

private:
    struct Block
    {
        quint8 type;
        QByteArray summary;
        QByteArray payload;
    };
    bool writeBlock(quint8 type, const QByteArray &summary, const QByteArray &payload);
    QString writeBlockNow(const Block &block); // error text, empty on success
    bool sealChunk();   // hands the pending chunk to the writer thread
    bool drain();       // waits until every queued block is written
    void stopWorker();
    void workerLoop();
    bool fail(const QString &message);
    bool failed() const;
    quint32 streamIdFor(const Event &event);

    QFile m_file;
    Options m_options;
    std::unique_ptr<ChunkEncoder> m_chunk;
    QHash<StreamKey, quint32> m_streamIds;
    QList<StreamKey> m_pendingStreams; // defined but not yet written
    qint64 m_eventCount = 0;
    std::atomic<qint64> m_bytesWritten{0};

    mutable std::mutex m_mutex; // guards the queue and m_error
    std::condition_variable m_wake, m_done;
    std::deque<Block> m_queue;
    bool m_busy = false;
    bool m_stop = false;
    std::thread m_worker;
    QString m_error;
};

} // namespace tapedeck
