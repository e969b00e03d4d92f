#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <algorithm>
#include <cstring>
#include <memory>

namespace tapedeck {

// A growing byte buffer without QByteArray's sharing and detach checks: the
// diff builds a canonical row with a few small appends per cell, millions of
// times (tablediff.md, Cost). Keeps its capacity across clear().
class ByteSink
{
public:
    void clear() { m_size = 0; }
    void truncate(qsizetype size) { m_size = std::min(m_size, size); }
    qsizetype size() const { return m_size; }
    const char *data() const { return m_data.get(); }
    QByteArrayView view() const { return QByteArrayView(m_data.get(), m_size); }
    QByteArray toByteArray() const { return QByteArray(m_data.get(), m_size); }
    void append(char c)
    {
        if (m_size == m_capacity)
            grow(1);
        m_data[size_t(m_size++)] = c;
    }
    void append(QByteArrayView v)
    {
        if (v.isEmpty())
            return;
        if (m_size + v.size() > m_capacity)
            grow(v.size());
        std::memcpy(m_data.get() + m_size, v.data(), size_t(v.size()));
        m_size += v.size();
    }
    void append(const char *p, qsizetype n) { append(QByteArrayView(p, n)); }

private:
    void grow(qsizetype more);
    std::unique_ptr<char[]> m_data;
    qsizetype m_size = 0;
    qsizetype m_capacity = 0;
};

// What TableDiff compares: the canonical text of each cell, chosen by the
// table column's value class (tablediff.md, "How values compare"), and a
// 64-bit digest of a row's canonical text. Pure functions, any thread.
class CanonicalRow
{
public:
    enum class ValueClass : quint8 { Text, Bool, Number, Float, TimestampTz, Json };

    // The class of a column of `type` (PostgreSQL format_type() or SQLite's
    // declared type) in `dialect` ("postgresql" or "sqlite").
    static ValueClass classify(const QString &type, const QString &dialect);

    // Appends the text `value` compares by.
    static void normalise(ByteSink *out, QByteArrayView value, ValueClass cls);
    static QByteArray normalised(QByteArrayView value, ValueClass cls);

    // Appends one cell of a canonical row: NullMark for NULL, else the
    // normalised value; then Sep. Two rows are equal when their canonical
    // texts are.
    static void appendCell(ByteSink *out, bool null, QByteArrayView value, ValueClass cls)
    {
        if (null)
            out->append(NullMark);
        else if (cls == ValueClass::Text)
            out->append(value);
        else
            normalise(out, value, cls);
        out->append(Sep);
    }

    // A 64-bit hash of `bytes` (wyhash's construction: 128-bit multiply and
    // fold). Stable across runs and platforms of the same endianness.
    static quint64 digest(QByteArrayView bytes, quint64 seed = 0);

    static constexpr char Sep = '\x1f';
    static constexpr char NullMark = '\x1e';
};

} // namespace tapedeck
