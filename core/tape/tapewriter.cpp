#include "core/tape/tapewriter.h"

#include "core/base/writefully.h"
#include "core/tape/chunkencoder.h"
#include "core/tape/tapeformat.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <zstd.h>

#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace tapedeck {

TapeWriter::TapeWriter() = default;

TapeWriter::~TapeWriter()
{
    if (isOpen())
        close();
    stopWorker();
}

bool TapeWriter::fail(const QString &message)
{
    std::lock_guard lock(m_mutex);
    if (m_error.isEmpty())
        m_error = m_file.fileName() + QStringLiteral(": ") + message;
    return false;
}

bool TapeWriter::failed() const
{
    std::lock_guard lock(m_mutex);
    return !m_error.isEmpty();
}

QString TapeWriter::errorString() const
{
    std::lock_guard lock(m_mutex);
    return m_error;
}

void TapeWriter::workerLoop()
{
    std::unique_lock lock(m_mutex);
    while (true) {
        m_wake.wait(lock, [this] { return m_stop || !m_queue.empty(); });
        if (m_queue.empty())
            return; // stopping, nothing left
        Block block = std::move(m_queue.front());
        m_queue.pop_front();
        m_busy = true;
        lock.unlock();
        const QString why = writeBlockNow(block);
        lock.lock();
        m_busy = false;
        if (!why.isEmpty() && m_error.isEmpty())
            m_error = m_file.fileName() + QStringLiteral(": ") + why;
        m_done.notify_all();
    }
}

void TapeWriter::stopWorker()
{
    if (!m_worker.joinable())
        return;
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_worker.join();
}

bool TapeWriter::drain()
{
    std::unique_lock lock(m_mutex);
    m_done.wait(lock, [this] { return m_queue.empty() && !m_busy; });
    return m_error.isEmpty();
}

bool TapeWriter::create(const QString &path, const TapeMetadata &metadata, const Options &options)
{
    m_options = options;
    m_chunk = std::make_unique<ChunkEncoder>();
    m_streamIds.clear();
    m_pendingStreams.clear();
    stopWorker();
    m_eventCount = 0;
    m_bytesWritten = 0;
    m_error.clear();
    m_queue.clear();
    m_busy = m_stop = false;
    m_file.setFileName(path);
    // Unbuffered: every block goes to the OS in one write(), so a killed
    // process leaves at most one incomplete block at the end of the file.
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Unbuffered))
        return fail(m_file.errorString());
    char header[format::FileHeaderSize] = {};
    std::memcpy(header, format::FileMagic, 8);
    format::putU16(header + 8, format::Version);
    format::putU32(header + 12, format::crc32c(header, 12));
    if (const QString why = writeFully(m_file.handle(), header, sizeof header); !why.isEmpty())
        return fail(why);
    m_bytesWritten += sizeof header;
    QJsonObject meta = metadata.toJson();
    meta.insert(QStringLiteral("format"), int(format::Version));
    if (!writeBlock(format::Meta, {}, QJsonDocument(meta).toJson(QJsonDocument::Compact)))
        return false;
    if (m_options.backgroundWrites)
        m_worker = std::thread([this] { workerLoop(); });
    return true;
}

quint32 TapeWriter::streamIdFor(const Event &event)
{
    return streamId(StreamKey{event.kind, event.cluster, event.topic, event.partition});
}

quint32 TapeWriter::streamId(const StreamKey &key)
{
    auto it = m_streamIds.constFind(key);
    if (it != m_streamIds.constEnd())
        return *it;
    const auto id = quint32(m_streamIds.size());
    m_streamIds.insert(key, id);
    m_pendingStreams.append(key);
    return id;
}

bool TapeWriter::append(const Event &event)
{
    if (!isOpen())
        return fail(QStringLiteral("tape is not open for writing"));
    if (m_eventCount >= qint64(0xffffffffu))
        return fail(QStringLiteral("a tape holds at most 4294967295 events"));
    m_chunk->add(streamIdFor(event), event);
    ++m_eventCount;
    if (m_chunk->count() >= m_options.maxChunkEvents || m_chunk->rawBytes() >= m_options.maxChunkBytes)
        return sealChunk();
    return true;
}

bool TapeWriter::appendRecord(quint32 stream, const RecordView &record)
{
    if (!isOpen())
        return fail(QStringLiteral("tape is not open for writing"));
    if (m_eventCount >= qint64(0xffffffffu))
        return fail(QStringLiteral("a tape holds at most 4294967295 events"));
    if (stream >= quint32(m_streamIds.size()))
        return fail(QStringLiteral("unknown stream id %1").arg(stream));
    m_chunk->add(stream, record);
    ++m_eventCount;
    if (m_chunk->count() >= m_options.maxChunkEvents || m_chunk->rawBytes() >= m_options.maxChunkBytes)
        return sealChunk();
    return true;
}

bool TapeWriter::sealChunk()
{
    if (!isOpen())
        return fail(QStringLiteral("tape is not open for writing"));
    if (m_chunk->count() > 0) {
        if (!m_pendingStreams.isEmpty()) {
            QJsonArray defs;
            const quint32 firstId = quint32(m_streamIds.size() - m_pendingStreams.size());
            for (qsizetype i = 0; i < m_pendingStreams.size(); ++i) {
                const StreamKey &k = m_pendingStreams[i];
                defs.append(QJsonObject{{QStringLiteral("id"), qint64(firstId + i)},
                                        {QStringLiteral("kind"), toString(k.kind)},
                                        {QStringLiteral("cluster"), k.cluster},
                                        {QStringLiteral("topic"), k.topic},
                                        {QStringLiteral("partition"), k.partition}});
            }
            if (!writeBlock(format::Streams, {}, QJsonDocument(defs).toJson(QJsonDocument::Compact)))
                return false;
            m_pendingStreams.clear();
        }
        const qint64 firstSeq = m_eventCount - m_chunk->count();
        QByteArray summary;
        qint64 minTs, maxTs;
        const QByteArray raw = m_chunk->take(firstSeq, &summary, &minTs, &maxTs);
        if (!writeBlock(format::Chunk, summary, raw))
            return false;
    }
    return !failed();
}

bool TapeWriter::flush()
{
    if (!sealChunk() || !drain())
        return false;
    if (m_options.syncOnFlush && ::fdatasync(m_file.handle()) != 0)
        return fail(QStringLiteral("fdatasync failed: %1").arg(QString::fromLocal8Bit(strerror(errno))));
    return true;
}

bool TapeWriter::writeBlock(quint8 type, const QByteArray &summary, const QByteArray &payload)
{
    if (!m_worker.joinable()) {
        const QString why = writeBlockNow(Block{type, summary, payload});
        return why.isEmpty() ? true : fail(why);
    }
    std::unique_lock lock(m_mutex);
    // Backpressure: at most a few chunks wait, so memory stays bounded.
    m_done.wait(lock, [this] { return m_queue.size() < 4; });
    if (!m_error.isEmpty())
        return false;
    m_queue.push_back(Block{type, summary, payload});
    lock.unlock();
    m_wake.notify_one();
    return true;
}

QString TapeWriter::writeBlockNow(const Block &b)
{
    const quint8 type = b.type;
    const QByteArray &summary = b.summary;
    const QByteArray &payload = b.payload;
    if (payload.size() > qsizetype(format::MaxBlockBytes) || summary.size() > qsizetype(format::MaxBlockBytes))
        return QStringLiteral("block of %1 bytes is larger than a tape allows").arg(payload.size());
    quint8 codec = format::Stored;
    QByteArray stored;
    if (type == format::Chunk && m_options.compressionLevel > 0 && payload.size() > 64) {
        stored.resize(qsizetype(ZSTD_compressBound(size_t(payload.size()))));
        const size_t n = ZSTD_compress(stored.data(), size_t(stored.size()), payload.constData(),
                                       size_t(payload.size()), m_options.compressionLevel);
        if (!ZSTD_isError(n) && qsizetype(n) < payload.size()
            && format::plausibleCompression(quint32(n), quint32(payload.size()))) {
            stored.resize(qsizetype(n));
            codec = format::Zstd;
        }
    }
    const QByteArray &body = codec == format::Stored ? payload : stored;

    QByteArray block(format::BlockHeaderSize, Qt::Uninitialized);
    char *h = block.data();
    std::memset(h, 0, format::BlockHeaderSize);
    format::putU32(h, format::BlockMagic);
    h[4] = char(type);
    h[5] = char(codec);
    format::putU32(h + 8, quint32(summary.size()));
    format::putU32(h + 12, quint32(body.size()));
    format::putU32(h + 16, quint32(payload.size()));
    format::putU32(h + 20, format::crc32c(body));
    format::putU32(h + 28, format::crc32c(summary, format::crc32c(h, 28)));
    block.reserve(block.size() + summary.size() + body.size());
    block.append(summary);
    block.append(body);
    // QFile is unbuffered here: one write() per block, from one thread at a time.
    if (const QString why = writeFully(m_file.handle(), block.constData(), block.size()); !why.isEmpty())
        return why;
    m_bytesWritten += block.size();
    return QString();
}

bool TapeWriter::close()
{
    if (!isOpen())
        return true;
    bool ok = flush();
    if (ok) {
        const QJsonObject end{{QStringLiteral("events"), m_eventCount}};
        ok = writeBlock(format::End, {}, QJsonDocument(end).toJson(QJsonDocument::Compact));
    }
    ok = drain() && ok;
    stopWorker();
    // Always at the end, whatever syncOnFlush says: a tape that was closed
    // (and then renamed into place by the caller) survives a power loss.
    if (ok && ::fdatasync(m_file.handle()) != 0 && errno != EINVAL) // EINVAL: a device, such as /dev/null
        ok = fail(QStringLiteral("fdatasync failed: %1").arg(QString::fromLocal8Bit(strerror(errno))));
    m_file.close();
    return ok;
}

} // namespace tapedeck
