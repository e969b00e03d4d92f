#include "core/tape/tape.h"

#include "core/base/logging.h"
#include "core/tape/tapeformat.h"
#include "core/base/varint.h"

#include <QJsonArray>
#include <QFile>
#include <QJsonDocument>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tapedeck {

// Decoded chunks, most recent first: at most Capacity of them and, beyond
// the newest, at most MaxBytes of payload (a chunk can hold a 100 MB value).
struct Tape::Cache
{
    static constexpr int Capacity = 32;
    static constexpr qint64 MaxBytes = 256LL << 20;
    std::mutex mutex;
    QList<std::pair<int, std::shared_ptr<const Chunk>>> entries;
    qint64 bytes = 0;

    static qint64 cost(const Chunk &c) { return c.rawSize() + qint64(c.count()) * 64; }
    void add(int index, std::shared_ptr<const Chunk> chunk)
    {
        bytes += cost(*chunk);
        entries.prepend({index, std::move(chunk)});
        while (entries.size() > 1 && (entries.size() > Capacity || bytes > MaxBytes)) {
            bytes -= cost(*entries.last().second);
            entries.removeLast();
        }
    }
};

struct Tape::File
{
    int fd = -1;
    ~File()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

Tape::Tape() : m_file(std::make_shared<File>()), m_cache(std::make_shared<Cache>()) {}

Tape::~Tape() = default;

std::shared_ptr<Tape> Tape::refreshed(QString *error) const
{
    std::shared_ptr<Tape> next(new Tape);
    next->m_path = m_path;
    next->m_file = m_file;
    next->m_fd = m_fd;
    next->m_formatVersion = m_formatVersion;
    next->m_metadata = m_metadata;
    next->m_complete = m_complete;
    next->m_warnings = m_warnings;
    next->m_eventCount = m_eventCount;
    next->m_fileSize = m_fileSize;
    next->m_scanOffset = m_scanOffset;
    next->m_chunks = m_chunks;
    next->m_streams = m_streams;
    next->m_cache = m_cache;
    if (next->refresh(error) < 0)
        return nullptr;
    return next;
}

QString Tape::fileError(const QString &what) const
{
    return m_path + QStringLiteral(": ") + what;
}

bool Tape::readAt(qint64 offset, char *buffer, qint64 size, QString *error) const
{
    qint64 done = 0;
    while (done < size) {
        const ssize_t n = ::pread(m_fd, buffer + done, size_t(size - done), off_t(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (error)
                *error = fileError(QStringLiteral("read error: %1").arg(QString::fromLocal8Bit(strerror(errno))));
            return false;
        }
        if (n == 0) {
            if (error)
                *error = fileError(QStringLiteral("unexpected end of file at byte %1").arg(offset + done));
            return false;
        }
        done += n;
    }
    return true;
}

std::shared_ptr<Tape> Tape::open(const QString &path, QString *error)
{
    std::shared_ptr<Tape> tape(new Tape);
    tape->m_path = path;
    auto fail = [&](const QString &what) -> std::shared_ptr<Tape> {
        if (error)
            *error = tape->fileError(what);
        return nullptr;
    };
    tape->m_fd = tape->m_file->fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    if (tape->m_fd < 0)
        return fail(QString::fromLocal8Bit(strerror(errno)));
    struct stat st;
    if (::fstat(tape->m_fd, &st) != 0)
        return fail(QString::fromLocal8Bit(strerror(errno)));
    if (S_ISDIR(st.st_mode))
        return fail(QStringLiteral("is a directory, not a tape file"));
    tape->m_fileSize = st.st_size;
    if (tape->m_fileSize == 0)
        return fail(QStringLiteral("is empty, not a tape file"));
    char header[format::FileHeaderSize];
    const qint64 headerBytes = std::min<qint64>(tape->m_fileSize, format::FileHeaderSize);
    if (!tape->readAt(0, header, headerBytes, error))
        return nullptr;
    if (headerBytes < 8 || std::memcmp(header, format::FileMagic, 8) != 0)
        return fail(QStringLiteral("is not a tape file (it does not start with the TAPEDECK signature)"));
    if (headerBytes < format::FileHeaderSize)
        return fail(QStringLiteral("is truncated: the file header is incomplete (%1 of %2 bytes)")
                        .arg(headerBytes).arg(format::FileHeaderSize));
    if (format::getU32(header + 12) != format::crc32c(header, 12))
        return fail(QStringLiteral("is corrupt: the file header fails its checksum"));
    tape->m_formatVersion = format::getU16(header + 8);
    if (tape->m_formatVersion > format::ReadableVersion)
        return fail(QStringLiteral("was written by a newer Tapedeck (tape format version %1; this build reads "
                                   "versions up to %2). Update Tapedeck to open it.")
                        .arg(tape->m_formatVersion).arg(format::ReadableVersion));
    if (tape->m_formatVersion == 0)
        return fail(QStringLiteral("is corrupt: format version 0"));
    tape->m_scanOffset = format::FileHeaderSize;
    if (!tape->scan(false, error))
        return nullptr;
    return tape;
}

// A block header as read by scan(), with the chunk summary that follows it.
struct Tape::Block
{
    qint64 offset = 0;
    char h[format::BlockHeaderSize];
    quint32 summarySize = 0, storedSize = 0, rawSize = 0;
    QByteArray summary;
    quint8 type() const { return quint8(h[4]); }
    quint8 codec() const { return quint8(h[5]); }
    qint64 payloadOffset() const { return offset + format::BlockHeaderSize + summarySize; }
};

bool Tape::scanFailed(QString *error, const QString &what) const
{
    if (error)
        *error = fileError(what);
    return false;
}

bool Tape::scan(bool live, QString *error)
{
    bool sawMeta = m_scanOffset > format::FileHeaderSize;
    while (m_scanOffset < m_fileSize) {
        Block b;
        b.offset = m_scanOffset;
        QString invalid; // why the block header is not valid, or empty when it is
        if (!readBlock(&b, &invalid, error))
            return false;
        if (!invalid.isEmpty()) {
            if (live)
                return true; // the writer may be half-way through this block; look again later
            return endAtInvalidBlock(b.offset, invalid, sawMeta, error);
        }
        if (!sawMeta && b.type() != format::Meta)
            return scanFailed(error, QStringLiteral("is corrupt: the first block is not the metadata block"));
        bool ok = true;
        switch (b.type()) {
        case format::Meta:
            ok = scanMeta(b, error);
            sawMeta = sawMeta || ok;
            break;
        case format::Streams:
            ok = scanStreams(b, error);
            break;
        case format::Chunk:
            ok = scanChunk(b, error);
            break;
        case format::End:
            m_complete = true;
            break;
        default:
            if (format::getU16(b.h + 6) & format::Critical)
                return scanFailed(error, QStringLiteral("needs a newer Tapedeck (unknown block type %1 at byte %2)").arg(b.type()).arg(b.offset));
            break; // an optional block of a later version: skip it
        }
        if (!ok)
            return false;
        m_scanOffset = b.payloadOffset() + b.storedSize;
    }
    if (!sawMeta)
        return scanFailed(error, QStringLiteral("is truncated: it has no metadata block"));
    return true;
}

bool Tape::readBlock(Block *b, QString *invalid, QString *error) const
{
    const qint64 remaining = m_fileSize - b->offset;
    if (remaining < format::BlockHeaderSize) {
        *invalid = QStringLiteral("incomplete block header");
        return true;
    }
    if (!readAt(b->offset, b->h, format::BlockHeaderSize, error))
        return false;
    const char *h = b->h;
    b->summarySize = format::getU32(h + 8);
    b->storedSize = format::getU32(h + 12);
    b->rawSize = format::getU32(h + 16);
    if (format::getU32(h) != format::BlockMagic)
        *invalid = QStringLiteral("no block signature");
    else if (b->summarySize > format::MaxBlockBytes || b->storedSize > format::MaxBlockBytes || b->rawSize > format::MaxBlockBytes)
        *invalid = QStringLiteral("block sizes out of range");
    else if (h[5] == char(format::Stored) && b->rawSize != b->storedSize)
        *invalid = QStringLiteral("uncompressed block whose sizes differ");
    else if (h[5] == char(format::Zstd) && !format::plausibleCompression(b->storedSize, b->rawSize))
        *invalid = QStringLiteral("block claims %1 bytes from %2 compressed (more than %3 times)")
                       .arg(b->rawSize).arg(b->storedSize).arg(format::MaxCompressionRatio);
    else if (format::BlockHeaderSize + qint64(b->summarySize) + qint64(b->storedSize) > remaining)
        *invalid = QStringLiteral("block runs past the end of the file");
    else {
        b->summary.resize(b->summarySize);
        if (!readAt(b->offset + format::BlockHeaderSize, b->summary.data(), b->summarySize, error))
            return false;
        if (format::getU32(h + 28) != format::crc32c(b->summary, format::crc32c(h, 28)))
            *invalid = QStringLiteral("block header fails its checksum");
    }
    return true;
}

bool Tape::endAtInvalidBlock(qint64 offset, const QString &invalid, bool sawMeta, QString *error)
{
    // An interrupted writer leaves one incomplete block at the end. Damage
    // with intact blocks after it is corruption, not interruption.
    const qint64 remaining = m_fileSize - offset;
    QByteArray rest(qsizetype(std::min<qint64>(remaining, 64 << 20)), Qt::Uninitialized);
    if (!readAt(offset, rest.data(), rest.size(), error))
        return false;
    char magic[4];
    format::putU32(magic, format::BlockMagic);
    const qsizetype later = rest.indexOf(QByteArrayView(magic, 4), 1);
    if (later > 0 && remaining - later >= format::BlockHeaderSize)
        return scanFailed(error, QStringLiteral("is corrupt: damaged block at byte %1 (%2), with more blocks after it").arg(offset).arg(invalid));
    if (!sawMeta)
        return scanFailed(error, QStringLiteral("is truncated: it ends before its metadata block is complete"));
    m_warnings.append(QStringLiteral("%1 bytes at the end of the tape (from byte %2) are an incomplete block "
                                     "and were ignored; the recording was probably interrupted")
                          .arg(remaining).arg(offset));
    return true;
}

bool Tape::readMetaPayload(const Block &b, QByteArray *out, QString *error) const
{
    out->resize(b.storedSize);
    if (!readAt(b.payloadOffset(), out->data(), b.storedSize, error))
        return false;
    if (format::crc32c(*out) != format::getU32(b.h + 20))
        return scanFailed(error, QStringLiteral("is corrupt: block at byte %1 fails its checksum").arg(b.offset));
    if (b.codec() != format::Stored)
        return scanFailed(error, QStringLiteral("is corrupt: compressed metadata block at byte %1").arg(b.offset));
    return true;
}

bool Tape::scanMeta(const Block &b, QString *error)
{
    QByteArray payload;
    if (!readMetaPayload(b, &payload, error))
        return false;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(payload, &parseError);
    if (!doc.isObject())
        return scanFailed(error, QStringLiteral("is corrupt: metadata is not JSON (%1)").arg(parseError.errorString()));
    m_metadata = TapeMetadata::fromJson(doc.object());
    return true;
}

bool Tape::scanStreams(const Block &b, QString *error)
{
    QByteArray payload;
    if (!readMetaPayload(b, &payload, error))
        return false;
    const QJsonDocument doc = QJsonDocument::fromJson(payload);
    if (!doc.isArray())
        return scanFailed(error, QStringLiteral("is corrupt: stream table at byte %1 is not JSON").arg(b.offset));
    for (const QJsonValue &v : doc.array()) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("id")).toInteger(-1) != m_streams.size())
            return scanFailed(error, QStringLiteral("is corrupt: stream ids out of order at byte %1").arg(b.offset));
        StreamStats s;
        s.id = quint32(m_streams.size());
        s.key.kind = sourceKindFromString(o.value(QStringLiteral("kind")).toString()).value_or(SourceKind::Unknown);
        s.key.cluster = o.value(QStringLiteral("cluster")).toString();
        s.key.topic = o.value(QStringLiteral("topic")).toString();
        s.key.partition = o.value(QStringLiteral("partition")).toInt(-1);
        m_streams.append(s);
    }
    return true;
}

bool Tape::scanChunk(const Block &b, QString *error)
{
    const qint64 offset = b.offset;
    if (b.codec() != format::Stored && b.codec() != format::Zstd)
        return scanFailed(error, QStringLiteral("uses an unknown compression (codec %1) at byte %2").arg(b.codec()).arg(offset));
    varint::Reader r(b.summary.constData(), b.summary.constData() + b.summary.size());
    ChunkInfo info;
    info.fileOffset = offset;
    info.payloadOffset = b.payloadOffset();
    info.firstSeq = qint64(r.get());
    info.count = qint32(r.get());
    info.minTimestampUs = r.getSigned();
    info.maxTimestampUs = r.getSigned();
    info.storedSize = qint32(b.storedSize);
    info.rawSize = qint32(b.rawSize);
    info.payloadCrc = format::getU32(b.h + 20);
    info.codec = b.codec();
    if (!r.ok() || info.firstSeq != m_eventCount || info.count <= 0)
        return scanFailed(error, QStringLiteral("is corrupt: chunk at byte %1 does not follow the previous one").arg(offset));
    // The summary is read before the payload: a count the payload cannot hold
    // (a crafted 422-byte tape claimed 2^31-1 events) is corruption here.
    if (quint64(info.count) * format::MinEventBytes > b.rawSize)
        return scanFailed(error, QStringLiteral("is corrupt: chunk at byte %1 claims %2 events in %3 bytes")
                                     .arg(offset).arg(info.count).arg(b.rawSize));
    const quint64 nStreams = r.get();
    for (quint64 i = 0; i < nStreams && r.ok(); ++i) {
        const quint64 id = r.get();
        const qint64 count = qint64(r.get());
        const qint64 minPos = r.getSigned(), maxPos = r.getSigned();
        const qint64 minTs = r.getSigned(), maxTs = r.getSigned();
        if (!r.ok() || id >= quint64(m_streams.size()))
            return scanFailed(error, QStringLiteral("is corrupt: chunk at byte %1 names an unknown stream").arg(offset));
        // A stream's count is part of the chunk's (a crafted one overflowed the sum, found by fuzz_tape).
        if (count < 0 || count > info.count)
            return scanFailed(error, QStringLiteral("is corrupt: chunk at byte %1 gives a stream %2 of its %3 events")
                                         .arg(offset).arg(count).arg(info.count));
        StreamStats &s = m_streams[qsizetype(id)];
        if (s.count == 0) {
            s.minPosition = minPos;
            s.maxPosition = maxPos;
            s.minTimestampUs = minTs;
            s.maxTimestampUs = maxTs;
        } else {
            s.minPosition = std::min(s.minPosition, minPos);
            s.maxPosition = std::max(s.maxPosition, maxPos);
            s.minTimestampUs = std::min(s.minTimestampUs, minTs);
            s.maxTimestampUs = std::max(s.maxTimestampUs, maxTs);
        }
        s.count += count;
    }
    if (!r.ok())
        return scanFailed(error, QStringLiteral("is corrupt: chunk summary at byte %1").arg(offset));
    m_chunks.append(info);
    m_eventCount += info.count;
    return true;
}

qint64 Tape::refresh(QString *error)
{
    if (m_complete)
        return 0;
    struct stat st;
    if (::fstat(m_fd, &st) != 0) {
        if (error)
            *error = fileError(QString::fromLocal8Bit(strerror(errno)));
        return -1;
    }
    if (st.st_size <= m_fileSize && m_scanOffset >= m_fileSize)
        return 0;
    const qint64 before = m_eventCount;
    m_fileSize = st.st_size;
    if (!scan(true, error))
        return -1;
    return m_eventCount - before;
}

qint64 Tape::minTimestampUs() const
{
    qint64 v = 0;
    for (qsizetype i = 0; i < m_chunks.size(); ++i)
        v = i == 0 ? m_chunks[i].minTimestampUs : std::min(v, m_chunks[i].minTimestampUs);
    return v;
}

qint64 Tape::maxTimestampUs() const
{
    qint64 v = 0;
    for (qsizetype i = 0; i < m_chunks.size(); ++i)
        v = i == 0 ? m_chunks[i].maxTimestampUs : std::max(v, m_chunks[i].maxTimestampUs);
    return v;
}

int Tape::chunkIndexOf(qint64 seq) const
{
    if (seq < 0 || seq >= m_eventCount)
        return -1;
    auto it = std::upper_bound(m_chunks.cbegin(), m_chunks.cend(), seq,
                               [](qint64 s, const ChunkInfo &c) { return s < c.firstSeq; });
    return int(it - m_chunks.cbegin()) - 1;
}

std::shared_ptr<const Chunk> Tape::chunk(int index, QString *error) const
{
    if (index < 0 || index >= m_chunks.size()) {
        if (error)
            *error = fileError(QStringLiteral("chunk %1 out of range").arg(index));
        return nullptr;
    }
    {
        std::lock_guard lock(m_cache->mutex);
        auto &entries = m_cache->entries;
        for (qsizetype i = 0; i < entries.size(); ++i) {
            if (entries[i].first == index) {
                auto hit = entries[i].second;
                if (i > 0)
                    entries.move(i, 0);
                return hit;
            }
        }
    }
    const ChunkInfo &info = m_chunks[index];
    auto corrupt = [&](const QString &what) -> std::shared_ptr<const Chunk> {
        if (error)
            *error = fileError(QStringLiteral("is corrupt: chunk %1 (events %2 to %3, at byte %4): %5")
                                   .arg(index).arg(info.firstSeq).arg(info.firstSeq + info.count - 1)
                                   .arg(info.fileOffset).arg(what));
        return nullptr;
    };
    QByteArray stored(info.storedSize, Qt::Uninitialized);
    if (!readAt(info.payloadOffset, stored.data(), info.storedSize, error))
        return nullptr;
    if (format::crc32c(stored) != info.payloadCrc)
        return corrupt(QStringLiteral("checksum mismatch"));
    QByteArray raw;
    if (info.codec == format::Zstd) {
        raw.resize(info.rawSize);
        const size_t n = ZSTD_decompress(raw.data(), size_t(raw.size()), stored.constData(), size_t(stored.size()));
        if (ZSTD_isError(n) || qint64(n) != info.rawSize)
            return corrupt(QStringLiteral("cannot decompress (%1)").arg(QString::fromLatin1(ZSTD_getErrorName(n))));
    } else {
        raw = std::move(stored);
    }
    auto decoded = std::make_shared<Chunk>();
    QString why;
    if (!decoded->decode(std::move(raw), &why))
        return corrupt(why);
    if (decoded->count() != info.count)
        return corrupt(QStringLiteral("holds %1 events, its summary says %2").arg(decoded->count()).arg(info.count));
    for (int i = 0; i < decoded->count(); ++i) {
        if (decoded->streamId(i) >= quint32(m_streams.size()))
            return corrupt(QStringLiteral("event %1 names an unknown stream").arg(i));
    }
    std::lock_guard lock(m_cache->mutex);
    m_cache->add(index, decoded);
    return decoded;
}

bool Tape::event(qint64 seq, Event *out, QString *error) const
{
    const int index = chunkIndexOf(seq);
    if (index < 0) {
        if (error)
            *error = fileError(QStringLiteral("no event #%1 (the tape holds %2)").arg(seq).arg(m_eventCount));
        return false;
    }
    const auto c = chunk(index, error);
    if (!c)
        return false;
    const int i = int(seq - m_chunks[index].firstSeq);
    c->fill(i, out);
    const StreamKey &key = m_streams[c->streamId(i)].key;
    out->kind = key.kind;
    out->cluster = key.cluster;
    out->topic = key.topic;
    out->partition = key.partition;
    return true;
}

} // namespace tapedeck
