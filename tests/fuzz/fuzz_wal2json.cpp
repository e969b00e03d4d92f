// libFuzzer target for the wal2json decoder (format-version 1 and 2 JSON):
// any bytes, never a crash. Messages are split at newlines.
#include "connectors/postgres/decode/wal2jsondecoder.h"
#include "tests/fuzz/decodelines.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tapedeck::Wal2JsonDecoder decoder(tapedeck::PgCatalog{});
    return tapedeck::fuzz::decodeLines(decoder, data, size);
}
