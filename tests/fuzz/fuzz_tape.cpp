// libFuzzer target for the tape reader: the input is a whole .tape file.
// Checksums are fixed up before it is opened (file header and every block
// that starts with the block magic), so the fuzzer reaches the parsers
// behind them instead of stopping at checksum rejection. Then what a
// reader does: open, read every event, decode every chunk.
#include "core/tape/tape.h"
#include "core/tape/tapeformat.h"

#include <QFile>
#include <QTemporaryDir>

#include <cstddef>
#include <cstdint>

namespace {

quint32 u32(const QByteArray &b, qsizetype at)
{
    return quint32(uchar(b[at])) | quint32(uchar(b[at + 1])) << 8 | quint32(uchar(b[at + 2])) << 16
        | quint32(uchar(b[at + 3])) << 24;
}

void fixChecksums(QByteArray &b)
{
    using namespace tapedeck;
    if (b.size() < format::FileHeaderSize)
        return;
    format::putU32(b.data() + 12, format::crc32c(b.constData(), 12));
    qsizetype at = format::FileHeaderSize;
    while (at + format::BlockHeaderSize <= b.size() && u32(b, at) == format::BlockMagic) {
        const qint64 summary = u32(b, at + 8), body = u32(b, at + 12);
        const qint64 end = at + format::BlockHeaderSize + summary + body;
        if (end > b.size())
            break;
        char *h = b.data() + at;
        format::putU32(h + 20, format::crc32c(h + format::BlockHeaderSize + summary, body));
        format::putU32(h + 28, format::crc32c(h + format::BlockHeaderSize, summary, format::crc32c(h, 28)));
        at = end;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace tapedeck;
    static QTemporaryDir dir;
    QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    fixChecksums(bytes);
    const QString path = dir.filePath(QStringLiteral("fuzz.tape"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return 0;
    f.write(bytes);
    f.close();
    QString error;
    const auto tape = Tape::open(path, &error);
    if (!tape)
        return 0;
    Event e;
    for (qint64 s = 0; s < std::min<qint64>(tape->eventCount(), 100000); ++s) {
        if (!tape->event(s, &e, &error))
            break;
    }
    for (int c = 0; c < tape->chunkCount(); ++c)
        (void)tape->chunk(c, &error);
    return 0;
}
