#pragma once

#include "core/tape/chunk.h"
#include "core/event/event.h"
#include "core/event/stream.h"
#include "core/tape/tapemetadata.h"

#include <QList>
#include <QString>

#include <memory>
#include <mutex>

namespace tapedeck {

// Where a chunk lives and what it holds; kept in memory for every chunk
// (a few dozen bytes per chunk of thousands of events).
struct ChunkInfo
{
    qint64 fileOffset = 0;    // of the block header
    qint64 payloadOffset = 0; // of the (possibly compressed) payload
    qint64 firstSeq = 0;    // sequence number of the chunk's first event
    qint32 count = 0;
    qint32 storedSize = 0;
    qint32 rawSize = 0;
    quint32 payloadCrc = 0;
    quint8 codec = 0;
    qint64 minTimestampUs = 0;
    qint64 maxTimestampUs = 0;
};

// A read-only view of a tape file. Opening reads only block headers, so it is
// fast for any size; chunks are read, checked and decoded on demand and kept
// in a small LRU cache. All const methods are thread-safe.
class Tape
{
public:
    // Returns nullptr and sets *error ("<file>: <what is wrong>") on failure.
    static std::shared_ptr<Tape> open(const QString &path, QString *error);
    ~Tape();

    QString path() const { return m_path; }
    int formatVersion() const { return m_formatVersion; }
    const TapeMetadata &metadata() const { return m_metadata; }
    // True when the tape ends with the writer's end marker (recording finished).
    bool isComplete() const { return m_complete; }
    // Non-fatal problems found on open, e.g. an incomplete last block after a crash.
    QStringList warnings() const { return m_warnings; }

    qint64 eventCount() const { return m_eventCount; }
    qint64 fileSize() const { return m_fileSize; }
    qint64 minTimestampUs() const;
    qint64 maxTimestampUs() const;
    const QList<StreamStats> &streams() const { return m_streams; }
    const StreamKey &streamKey(quint32 id) const { return m_streams[int(id)].key; }

    int chunkCount() const { return int(m_chunks.size()); }
    const ChunkInfo &chunkInfo(int index) const { return m_chunks[index]; }
    int chunkIndexOf(qint64 seq) const; // -1 when out of range
    // Reads, verifies and decodes a chunk (cached). nullptr + *error on corruption.
    std::shared_ptr<const Chunk> chunk(int index, QString *error) const;

    // Random access by sequence number (0 .. eventCount()-1).
    bool event(qint64 seq, Event *out, QString *error) const;

    // Picks up events appended since open (a tape being recorded). Returns the
    // number of new events, or -1 with *error. Not thread-safe: call it from
    // the thread that owns the Tape while no other thread reads it.
    qint64 refresh(QString *error);
    // Thread-safe alternative for a tape shared between threads: a new,
    // immutable snapshot that includes what was appended since this one
    // (sharing the file handle and the chunk cache). nullptr + *error on a
    // read error; the same events when nothing was appended.
    std::shared_ptr<Tape> refreshed(QString *error) const;

private:
    Tape();
    // Reads the blocks from m_scanOffset on; `live`: a tape still being
    // written, whose last block may be incomplete.
    bool scan(bool live, QString *error);
    // scan(), in stages: a block header, the end at an invalid one, and each kind of block.
    struct Block;
    bool readBlock(Block *b, QString *invalid, QString *error) const;
    bool endAtInvalidBlock(qint64 offset, const QString &invalid, bool sawMeta, QString *error);
    bool readMetaPayload(const Block &b, QByteArray *out, QString *error) const;
    bool scanMeta(const Block &b, QString *error);
    bool scanStreams(const Block &b, QString *error);
    bool scanChunk(const Block &b, QString *error);
    bool scanFailed(QString *error, const QString &what) const;
    bool readAt(qint64 offset, char *buffer, qint64 size, QString *error) const;
    QString fileError(const QString &what) const;

    QString m_path;
    struct File;
    std::shared_ptr<File> m_file; // shared by snapshots
    int m_fd = -1;
    int m_formatVersion = 0;
    TapeMetadata m_metadata;
    bool m_complete = false;
    QStringList m_warnings;
    qint64 m_eventCount = 0;
    qint64 m_fileSize = 0;
    qint64 m_scanOffset = 0; // where the next block header is expected
    QList<ChunkInfo> m_chunks;
    QList<StreamStats> m_streams;

    struct Cache;
    std::shared_ptr<Cache> m_cache; // shared by snapshots: chunks never change once written
};

} // namespace tapedeck
