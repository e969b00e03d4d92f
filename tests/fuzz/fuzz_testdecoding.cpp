// libFuzzer target for the test_decoding decoder (its text lines):
// any bytes, never a crash. Messages are split at newlines.
#include "connectors/postgres/decode/testdecodingdecoder.h"
#include "tests/fuzz/decodelines.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tapedeck::TestDecodingDecoder decoder(tapedeck::PgCatalog{});
    return tapedeck::fuzz::decodeLines(decoder, data, size);
}
