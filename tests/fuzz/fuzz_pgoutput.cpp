// libFuzzer target for the pgoutput decoder: any bytes, never a crash.
// The input is split into messages at a 2-byte big-endian length prefix so
// that relation messages can precede the changes that refer to them.
#include "connectors/postgres/decode/pgoutputdecoder.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace tapedeck;
    PgCatalog catalog;
    catalog.database = QStringLiteral("fuzz");
    catalog.typeNames.insert(23, QStringLiteral("integer"));
    PgOutputDecoder decoder(catalog);
    QList<Event> out;
    QString error;
    size_t pos = 0;
    qint64 lsn = 0;
    while (pos + 2 <= size) {
        const size_t len = (size_t(data[pos]) << 8) | data[pos + 1];
        pos += 2;
        const size_t n = std::min(len, size - pos);
        if (!decoder.decode(++lsn, QByteArrayView(reinterpret_cast<const char *>(data + pos), qsizetype(n)), &out, &error))
            break;
        pos += n;
        if (out.size() > 1000)
            out.clear();
    }
    return 0;
}
