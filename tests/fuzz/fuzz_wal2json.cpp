// libFuzzer target for the wal2json decoder (format-version 1 and 2 JSON):
// any bytes, never a crash. Messages are split at newlines.
#include "connectors/postgres/decode/wal2jsondecoder.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace tapedeck;
    Wal2JsonDecoder decoder(PgCatalog{});
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
