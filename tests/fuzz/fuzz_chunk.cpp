// libFuzzer target for a chunk's columns and the change fields (CBOR) of
// each event: a decompressed chunk payload, never a crash; every accessor of
// every event it accepts.
#include "core/tape/chunk.h"
#include "core/tape/chunkencoder.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace tapedeck;
    Chunk chunk;
    QString error;
    if (!chunk.decode(QByteArray(reinterpret_cast<const char *>(data), qsizetype(size)), &error))
        return 0;
    Event e;
    ChunkEncoder::ChangeCells cells;
    for (int i = 0; i < chunk.count(); ++i) {
        chunk.fill(i, &e);
        (void)chunk.headers(i);
        const QByteArrayView ext = chunk.extension(i);
        if (!ext.isEmpty() && !ChunkEncoder::changeCells(ext, &cells)) {
            Event x;
            ChunkEncoder::decodeExtension(ext, &x);
        }
    }
    return 0;
}
