#include "core/diff/canonicalrow.h"

#include <QJsonDocument>
#include <QLocale>

#include <algorithm>
#include <charconv>

using namespace Qt::StringLiterals;

namespace tapedeck {

void ByteSink::grow(qsizetype more)
{
    const qsizetype capacity = std::max<qsizetype>({m_capacity * 2, m_size + more, 256});
    std::unique_ptr<char[]> data(new char[size_t(capacity)]);
    if (m_size)
        std::memcpy(data.get(), m_data.get(), size_t(m_size));
    m_data = std::move(data);
    m_capacity = capacity;
}

CanonicalRow::ValueClass CanonicalRow::classify(const QString &type, const QString &dialect)
{
    const QString t = type.toLower();
    if (dialect == u"sqlite") {
        if (t.contains(u"bool"))
            return ValueClass::Bool;
        if (t.contains(u"real") || t.contains(u"floa") || t.contains(u"doub"))
            return ValueClass::Float;
        if (t.contains(u"int") || t.contains(u"num") || t.contains(u"dec"))
            return ValueClass::Number;
        if (t.contains(u"json"))
            return ValueClass::Json;
        if (t.contains(u"timestamptz") || t.contains(u"with time zone"))
            return ValueClass::TimestampTz;
        return ValueClass::Text;
    }
    if (t == u"boolean" || t == u"bool")
        return ValueClass::Bool;
    if (t == u"real" || t == u"double precision" || t == u"float4" || t == u"float8")
        return ValueClass::Float;
    if (t == u"smallint" || t == u"integer" || t == u"bigint" || t.startsWith(u"numeric") || t.startsWith(u"decimal")
        || t == u"int2" || t == u"int4" || t == u"int8")
        return ValueClass::Number;
    if (t == u"timestamp with time zone" || (t.startsWith(u"timestamp(") && t.endsWith(u"with time zone"))
        || t == u"timestamptz")
        return ValueClass::TimestampTz;
    if (t == u"json" || t == u"jsonb")
        return ValueClass::Json;
    return ValueClass::Text;
}

namespace {

using ValueClass = CanonicalRow::ValueClass;


// Appends the canonical text of a number to *out; false (nothing appended) when `v` is not one.
// True when `v` is already canonical: -?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?, not "-0"
// (what PostgreSQL prints for integers and for most numerics).
bool canonicalAlready(QByteArrayView v)
{
    const char *p = v.data(), *const end = p + v.size();
    const bool negative = p < end && *p == '-';
    p += negative;
    const char *const intStart = p;
    while (p < end && unsigned(*p - '0') < 10)
        ++p;
    if (p == intStart || (*intStart == '0' && p - intStart > 1))
        return false;
    if (p == end)
        return !(negative && *intStart == '0');
    if (*p != '.')
        return false;
    const char *const fracStart = ++p;
    while (p < end && unsigned(*p - '0') < 10)
        ++p;
    return p == end && p > fracStart && p[-1] != '0';
}

bool canonicalNumber(QByteArrayView v, ByteSink *out)
{
    if (canonicalAlready(v)) {
        out->append(v);
        return true;
    }
    qsizetype i = 0;
    bool negative = false;
    if (i < v.size() && (v[i] == '+' || v[i] == '-'))
        negative = v[i++] == '-';
    const qsizetype intStart = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9')
        ++i;
    QByteArrayView intPart = v.sliced(intStart, i - intStart), frac;
    if (i < v.size() && v[i] == '.') {
        const qsizetype f = ++i;
        while (i < v.size() && v[i] >= '0' && v[i] <= '9')
            ++i;
        frac = v.sliced(f, i - f);
    }
    if (intPart.isEmpty() && frac.isEmpty())
        return false;
    if (i < v.size()) {
        if (v[i] != 'e' && v[i] != 'E')
            return false;
        // An exponent: compare as the shortest text of the double (the database printed a float).
        bool ok = false;
        const double d = v.toByteArray().toDouble(&ok);
        if (!ok)
            return false;
        out->append(QByteArray::number(d, 'g', QLocale::FloatingPointShortest));
        return true;
    }
    while (intPart.size() > 1 && intPart[0] == '0')
        intPart = intPart.sliced(1);
    while (!frac.isEmpty() && frac.back() == '0')
        frac.chop(1);
    const bool zero = (intPart.isEmpty() || intPart == "0") && frac.isEmpty();
    if (negative && !zero)
        out->append('-');
    out->append(intPart.isEmpty() ? QByteArrayView("0") : intPart);
    if (!frac.isEmpty()) {
        out->append('.');
        out->append(frac);
    }
    return true;
}

qint64 daysFromCivil(qint64 y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const qint64 era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = unsigned(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + qint64(doe) - 719468;
}

// "@" and µs since the epoch as decimal text, appended to *out.
inline void appendInstant(qint64 value, ByteSink *out)
{
    // The decimal text, two digits per step by multiplication (std::to_chars
    // compiled to a 64-bit division per pair here: most of this function's time).
    static constexpr char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                    "8081828384858687888990919293949596979899";
    quint64 u = value < 0 ? 0 - quint64(value) : quint64(value);
    char text[24];
    char *const end = text + sizeof text;
    char *p = end;
    while (u >= 100) {
        const size_t r = size_t(u % 100);
        u /= 100;
        p -= 2;
        std::memcpy(p, pairs + 2 * r, 2);
    }
    if (u >= 10) {
        p -= 2;
        std::memcpy(p, pairs + 2 * u, 2);
    } else {
        *--p = char('0' + u);
    }
    if (value < 0)
        *--p = '-';
    *--p = '@';
    out->append(p, qsizetype(end - p));
}

// "2024-01-02 03:04:05.123456+02[:30]" (or 'T', 'Z') -> µs since the epoch, as text
// ("@" and the number) appended to *out; false (nothing appended) when `v` is not one.
bool canonicalTimestampTz(QByteArrayView v, ByteSink *out)
{
    const char *s = v.data();
    const qsizetype n = v.size();
    if (n < 19)
        return false;
    unsigned bad = 0; // digits checked without branches, the verdict taken once
    auto digit = [&](qsizetype at) {
        const unsigned d = unsigned(uchar(s[at])) - unsigned('0');
        bad |= unsigned(d > 9);
        return d;
    };
    auto two = [&](qsizetype at) { return int(digit(at) * 10 + digit(at + 1)); };
    const int y = int(digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3));
    const int mo = two(5), d = two(8), h = two(11), mi = two(14), sec = two(17);
    if (bad || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
        return false;
    qsizetype i = 19;
    qint64 micros = 0;
    if (i < n && s[i] == '.') {
        ++i;
        int k = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (k < 6) {
                micros = micros * 10 + (s[i] - '0');
                ++k;
            }
            ++i;
        }
        for (; k < 6; ++k)
            micros *= 10;
    }
    qint64 offset = 0;
    if (i < n && s[i] == 'Z') {
        ++i;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        const int sign = s[i] == '-' ? -1 : 1;
        if (i + 3 > n)
            return false;
        const int oh = two(i + 1);
        i += 3;
        int om = 0, os = 0;
        if (i < n && s[i] == ':') {
            if (i + 3 > n)
                return false;
            om = two(i + 1);
            i += 3;
            if (i < n && s[i] == ':') {
                if (i + 3 > n)
                    return false;
                os = two(i + 1);
                i += 3;
            }
        }
        offset = sign * (oh * 3600 + om * 60 + os);
    } else {
        return false; // no zone: not an instant
    }
    if (bad || i != n)
        return false;
    const qint64 secs = daysFromCivil(y, unsigned(mo), unsigned(d)) * 86400 + h * 3600 + mi * 60 + sec - offset;
    appendInstant(secs * 1000000 + micros, out);
    return true;
}

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

} // namespace

// Without temporary allocations for the common classes.
void CanonicalRow::normalise(ByteSink *out, QByteArrayView value, ValueClass cls)
{
    switch (cls) {
    case ValueClass::Bool: {
        QByteArrayView v = value;
        while (!v.isEmpty() && isSpace(v.front()))
            v = v.sliced(1);
        while (!v.isEmpty() && isSpace(v.back()))
            v.chop(1);
        if (v.size() <= 5) {
            char lower[5];
            for (qsizetype i = 0; i < v.size(); ++i)
                lower[i] = (v[i] >= 'A' && v[i] <= 'Z') ? char(v[i] - 'A' + 'a') : v[i];
            const QByteArrayView l(lower, v.size());
            if (l == "t" || l == "true" || l == "1" || l == "y" || l == "yes" || l == "on") {
                out->append('t');
                return;
            }
            if (l == "f" || l == "false" || l == "0" || l == "n" || l == "no" || l == "off") {
                out->append('f');
                return;
            }
        }
        break;
    }
    case ValueClass::Number:
        if (canonicalNumber(value, out))
            return;
        break;
    case ValueClass::Float: {
        // Floats compare as doubles (SQLite prints 1e20 as 1.0e+20, PostgreSQL as 1e+20).
        bool ok = false;
        const double d = value.toByteArray().trimmed().toDouble(&ok);
        if (ok) {
            out->append(QByteArray::number(d, 'g', QLocale::FloatingPointShortest));
            return;
        }
        break;
    }
    case ValueClass::TimestampTz:
        if (canonicalTimestampTz(value, out))
            return;
        break;
    case ValueClass::Json: {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(value.toByteArray(), &error);
        if (error.error == QJsonParseError::NoError) {
            out->append(doc.toJson(QJsonDocument::Compact));
            return;
        }
        break;
    }
    case ValueClass::Text: break;
    }
    out->append(value);
}


QByteArray CanonicalRow::normalised(QByteArrayView value, ValueClass cls)
{
    ByteSink out;
    normalise(&out, value, cls);
    return out.toByteArray();
}

namespace {

// wyhash (public domain, Wang Yi) in its final-4 form: 128-bit multiply, fold.
__extension__ typedef unsigned __int128 u128;

inline void mum(quint64 *a, quint64 *b)
{
    const u128 r = u128(*a) * *b;
    *a = quint64(r);
    *b = quint64(r >> 64);
}
inline quint64 mix(quint64 a, quint64 b)
{
    mum(&a, &b);
    return a ^ b;
}
inline quint64 read8(const uchar *p)
{
    quint64 v;
    std::memcpy(&v, p, 8);
    return v;
}
inline quint64 read4(const uchar *p)
{
    quint32 v;
    std::memcpy(&v, p, 4);
    return v;
}

} // namespace

quint64 CanonicalRow::digest(QByteArrayView bytes, quint64 seed)
{
    constexpr quint64 s0 = 0x2d358dccaa6c78a5ull, s1 = 0x8bb84b93962eacc9ull, s2 = 0x4b33a62ed433d4a3ull,
                      s3 = 0x4d5a2da51de1aa47ull;
    const uchar *p = reinterpret_cast<const uchar *>(bytes.data());
    const size_t len = size_t(bytes.size());
    seed ^= mix(seed ^ s0, s1);
    quint64 a = 0, b = 0;
    if (len <= 16) {
        if (len >= 4) {
            const size_t shift = (len >> 3) << 2;
            a = (read4(p) << 32) | read4(p + shift);
            b = (read4(p + len - 4) << 32) | read4(p + len - 4 - shift);
        } else if (len > 0) {
            a = (quint64(p[0]) << 16) | (quint64(p[len >> 1]) << 8) | p[len - 1];
        }
    } else {
        size_t i = len;
        if (i >= 48) {
            quint64 see1 = seed, see2 = seed;
            do {
                seed = mix(read8(p) ^ s1, read8(p + 8) ^ seed);
                see1 = mix(read8(p + 16) ^ s2, read8(p + 24) ^ see1);
                see2 = mix(read8(p + 32) ^ s3, read8(p + 40) ^ see2);
                p += 48;
                i -= 48;
            } while (i >= 48);
            seed ^= see1 ^ see2;
        }
        while (i > 16) {
            seed = mix(read8(p) ^ s1, read8(p + 8) ^ seed);
            i -= 16;
            p += 16;
        }
        a = read8(p + i - 16);
        b = read8(p + i - 8);
    }
    a ^= s1;
    b ^= seed;
    mum(&a, &b);
    return mix(a ^ s0 ^ len, b ^ s1);
}
} // namespace tapedeck
