#pragma once

// What the text decoders' fuzz targets (wal2json, test_decoding) share:
// the input split at newlines, one message each, through one decoder,
// until it refuses one. Any bytes, never a crash.
#include "connectors/postgres/decode/pgdecoder.h"

#include <cstddef>
#include <cstdint>

namespace tapedeck::fuzz {

inline int decodeLines(PgDecoder &decoder, const uint8_t *data, size_t size)
{
    QList<Event> out;
    QString error;
    const QByteArrayView all(reinterpret_cast<const char *>(data), qsizetype(size));
    qint64 lsn = 0;
    for (qsizetype start = 0; start <= all.size();) {
        qsizetype nl = all.indexOf('\n', start);
        if (nl < 0)
            nl = all.size();
        if (!decoder.decode(++lsn, all.sliced(start, nl - start), &out, &error))
            break;
        start = nl + 1;
        if (out.size() > 1000)
            out.clear();
    }
    return 0;
}

} // namespace tapedeck::fuzz
