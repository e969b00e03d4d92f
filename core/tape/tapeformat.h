#pragma once

#include <QByteArray>
#include <QtEndian>
#include <QtGlobal>

// Constants of the tape file format; tapeformat.md describes it.
namespace tapedeck::format {

inline constexpr char FileMagic[8] = {'T', 'A', 'P', 'E', 'D', 'E', 'C', 'K'};
inline constexpr quint16 Version = 1;       // written by this build
inline constexpr quint16 ReadableVersion = 1; // newest version this build reads
inline constexpr int FileHeaderSize = 16;   // magic, u16 version, u16 reserved, u32 flags, u32 header crc

inline constexpr quint32 BlockMagic = 0x314b4c42; // "BLK1" as little-endian bytes
inline constexpr int BlockHeaderSize = 32;
// Block header, little-endian:
//   0 u32 magic | 4 u8 type | 5 u8 codec | 6 u16 flags | 8 u32 summarySize
//  12 u32 storedSize | 16 u32 rawSize | 20 u32 payloadCrc | 24 u32 reserved | 28 u32 headerCrc
// headerCrc covers bytes 0..27 and the summary that follows the header.
// Then: summary (summarySize bytes), payload (storedSize bytes).

enum BlockType : quint8 { Meta = 1, Streams = 2, Chunk = 3, End = 4 };
enum Codec : quint8 { Stored = 0, Zstd = 1 };
enum BlockFlag : quint16 { Critical = 1 }; // a reader that does not know the type must refuse the tape

inline constexpr quint32 MaxBlockBytes = 1u << 30; // sanity bound for sizes read from disk
// A compressed chunk above MaxUncheckedRawBytes may not claim more than
// MaxCompressionRatio times its stored size: a few bytes of zstd can claim a
// gigabyte (a decompression bomb). The writer stores a chunk that would
// compress better than that uncompressed, so every tape it writes passes.
inline constexpr quint32 MaxCompressionRatio = 1024;
inline constexpr quint32 MaxUncheckedRawBytes = 1u << 20;
inline constexpr bool plausibleCompression(quint32 storedSize, quint32 rawSize)
{
    return rawSize <= MaxUncheckedRawBytes || quint64(rawSize) <= quint64(storedSize) * MaxCompressionRatio;
}
// Every event takes at least this many bytes of a chunk's payload (its
// timestamp-type, operation, flags and presence bytes).
inline constexpr quint32 MinEventBytes = 4;

quint32 crc32c(const char *data, qsizetype size, quint32 crc = 0);
inline quint32 crc32c(const QByteArray &data, quint32 crc = 0) { return crc32c(data.constData(), data.size(), crc); }

inline void putU16(char *p, quint16 v) { qToLittleEndian(v, p); }
inline void putU32(char *p, quint32 v) { qToLittleEndian(v, p); }
inline quint16 getU16(const char *p) { return qFromLittleEndian<quint16>(p); }
inline quint32 getU32(const char *p) { return qFromLittleEndian<quint32>(p); }

} // namespace tapedeck::format
