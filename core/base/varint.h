#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QtEndian>
#include <QtGlobal>

#include <cstdlib>
#include <cstring>

// LEB128 varints and zigzag, the integer encoding of tape chunks (tapeformat.md).
namespace tapedeck {

// A growable byte buffer with inline appends: the chunk encoder appends a
// dozen small fields per event, where QByteArray's out-of-line append cost
// more than the encoding itself (bench_kafka_record).
class ByteBuffer
{
public:
    ByteBuffer() = default;
    ByteBuffer(const ByteBuffer &) = delete;
    ByteBuffer &operator=(const ByteBuffer &) = delete;
    ~ByteBuffer() { std::free(m_data); }

    qsizetype size() const { return m_size; }
    const char *data() const { return m_data; }
    void clear() { m_size = 0; } // keeps the capacity
    void append(char c)
    {
        if (m_size == m_capacity)
            grow(1);
        m_data[m_size++] = c;
    }
    void append(const char *p, qsizetype n)
    {
        if (n <= 0)
            return;
        if (m_size + n > m_capacity)
            grow(n);
        std::memcpy(m_data + m_size, p, size_t(n));
        m_size += n;
    }
    void append(QByteArrayView v) { append(v.data(), v.size()); }
    // Room for `n` more bytes; returns where they go (then commit(n)).
    char *reserveTail(qsizetype n)
    {
        if (m_size + n > m_capacity)
            grow(n);
        return m_data + m_size;
    }
    void commit(qsizetype n) { m_size += n; }

private:
    void grow(qsizetype need)
    {
        qsizetype cap = m_capacity ? m_capacity * 2 : 256;
        while (cap < m_size + need)
            cap *= 2;
        auto *p = static_cast<char *>(std::realloc(m_data, size_t(cap)));
        if (!p)
            qFatal("out of memory growing a chunk buffer to %lld bytes", static_cast<long long>(cap));
        m_data = p;
        m_capacity = cap;
    }
    char *m_data = nullptr;
    qsizetype m_size = 0;
    qsizetype m_capacity = 0;
};

} // namespace tapedeck

namespace tapedeck::varint {

inline void put(ByteBuffer &out, quint64 v)
{
    char *p = out.reserveTail(10);
    int n = 0;
    while (v >= 0x80) {
        p[n++] = char(v | 0x80);
        v >>= 7;
    }
    p[n++] = char(v);
    out.commit(n);
}

inline void put(QByteArray &out, quint64 v)
{
    char buf[10];
    int n = 0;
    while (v >= 0x80) {
        buf[n++] = char(v | 0x80);
        v >>= 7;
    }
    buf[n++] = char(v);
    out.append(buf, n);
}

inline quint64 zigzag(qint64 v) { return (quint64(v) << 1) ^ quint64(v >> 63); }
inline qint64 unzigzag(quint64 v) { return qint64(v >> 1) ^ -qint64(v & 1); }
inline void putSigned(QByteArray &out, qint64 v) { put(out, zigzag(v)); }
inline void putSigned(ByteBuffer &out, qint64 v) { put(out, zigzag(v)); }

// A bounds-checked reader over a byte range; every read fails (ok() false)
// instead of reading past the end, so corrupt input cannot crash a decoder.
class Reader
{
public:
    Reader(const char *begin, const char *end) : m_p(begin), m_end(end) {}
    bool ok() const { return m_ok; }
    bool atEnd() const { return m_p >= m_end; }
    const char *pos() const { return m_p; }
    qint64 remaining() const { return m_end - m_p; }

    quint64 get()
    {
        quint64 v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_p >= m_end) {
                m_ok = false;
                return 0;
            }
            const quint8 b = quint8(*m_p++);
            v |= quint64(b & 0x7f) << shift;
            if (!(b & 0x80))
                return v;
        }
        m_ok = false;
        return 0;
    }
    qint64 getSigned() { return unzigzag(get()); }
    quint32 getU32()
    {
        if (m_end - m_p < 4) {
            m_ok = false;
            return 0;
        }
        quint32 v;
        std::memcpy(&v, m_p, 4);
        m_p += 4;
        return qFromLittleEndian(v);
    }
    const char *take(qint64 n)
    {
        if (n < 0 || m_end - m_p < n) {
            m_ok = false;
            return nullptr;
        }
        const char *p = m_p;
        m_p += n;
        return p;
    }

private:
    const char *m_p;
    const char *m_end;
    bool m_ok = true;
};

} // namespace tapedeck::varint
