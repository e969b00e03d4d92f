#include "core/tape/tapeformat.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace tapedeck::format {

namespace {

// CRC-32C (Castagnoli): the SSE4.2 instruction where the CPU has it (about
// 10 GB/s), otherwise a slice-by-1 table. Both give the same value.
constexpr std::array<quint32, 256> makeTable()
{
    std::array<quint32, 256> table{};
    for (quint32 i = 0; i < 256; ++i) {
        quint32 c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        table[i] = c;
    }
    return table;
}
constexpr auto Table = makeTable();

quint32 crcSoftware(const unsigned char *p, qsizetype n, quint32 crc)
{
    while (n--)
        crc = Table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) quint32 crcHardware(const unsigned char *p, qsizetype n, quint32 crc)
{
    quint64 c = crc;
    while (n >= 8) {
        quint64 v;
        std::memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    quint32 c32 = quint32(c);
    while (n--)
        c32 = _mm_crc32_u8(c32, *p++);
    return c32;
}
const bool HaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

} // namespace

quint32 crc32c(const char *data, qsizetype size, quint32 crc)
{
    const auto *p = reinterpret_cast<const unsigned char *>(data);
    crc = ~crc;
#if defined(__x86_64__)
    if (HaveSse42)
        return ~crcHardware(p, size, crc);
#endif
    return ~crcSoftware(p, size, crc);
}

} // namespace tapedeck::format
