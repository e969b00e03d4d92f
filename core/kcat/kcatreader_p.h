#pragma once

// kcatjson's reader of one envelope, private to the room (Qt's _p.h
// convention). Defined in the header so that parse() inlines it: it runs
// once per byte of every line.

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <cstring>
#include <optional>

namespace tapedeck::kcatjson {

// A small JSON reader for one envelope. It exists (rather than QJsonDocument)
// because kcat emits raw, possibly invalid UTF-8 inside strings, and those
// bytes must come back exactly; QJsonDocument would replace them.
class Reader
{
public:
    explicit Reader(QByteArrayView text) : m_begin(text.data()), m_p(text.data()), m_end(text.data() + text.size()) {}

    bool failed() const { return !m_error.isEmpty(); }
    QString error() const { return m_error; }
    bool fail(const QString &what)
    {
        if (m_error.isEmpty())
            m_error = QStringLiteral("column %1: %2").arg(m_p - m_begin + 1).arg(what);
        return false;
    }
    void ws()
    {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\r' || *m_p == '\n'))
            ++m_p;
    }
    bool peek(char c)
    {
        ws();
        return m_p < m_end && *m_p == c;
    }
    bool expect(char c)
    {
        ws();
        if (m_p < m_end && *m_p == c) {
            ++m_p;
            return true;
        }
        return fail(m_p < m_end ? QStringLiteral("expected '%1', found '%2'").arg(QLatin1Char(c)).arg(QLatin1Char(*m_p))
                                : QStringLiteral("expected '%1', found the end of the line").arg(QLatin1Char(c)));
    }
    bool literal(const char *word)
    {
        ws();
        const qsizetype n = qsizetype(std::strlen(word));
        if (m_end - m_p >= n && std::memcmp(m_p, word, size_t(n)) == 0) {
            m_p += n;
            return true;
        }
        return false;
    }
    bool isNull()
    {
        return literal("null");
    }

    static void putUtf8(QByteArray &out, quint32 cp)
    {
        if (cp < 0x80) {
            out.append(char(cp));
        } else if (cp < 0x800) {
            out.append(char(0xc0 | (cp >> 6)));
            out.append(char(0x80 | (cp & 0x3f)));
        } else if (cp < 0x10000) {
            out.append(char(0xe0 | (cp >> 12)));
            out.append(char(0x80 | ((cp >> 6) & 0x3f)));
            out.append(char(0x80 | (cp & 0x3f)));
        } else {
            out.append(char(0xf0 | (cp >> 18)));
            out.append(char(0x80 | ((cp >> 12) & 0x3f)));
            out.append(char(0x80 | ((cp >> 6) & 0x3f)));
            out.append(char(0x80 | (cp & 0x3f)));
        }
    }
    bool hex4(quint32 *out)
    {
        if (m_end - m_p < 4)
            return fail(QStringLiteral("incomplete \\u escape"));
        quint32 v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = *m_p++;
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= quint32(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= quint32(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= quint32(c - 'A' + 10);
            else
                return fail(QStringLiteral("bad \\u escape"));
        }
        *out = v;
        return true;
    }
    // A string's bytes, escapes decoded, everything else copied as it is.
    bool string(QByteArray *out)
    {
        if (!expect('"'))
            return false;
        out->clear();
        while (true) {
            const char *start = m_p;
            while (m_p < m_end && *m_p != '"' && *m_p != '\\')
                ++m_p;
            out->append(start, m_p - start);
            if (m_p >= m_end)
                return fail(QStringLiteral("unterminated string"));
            if (*m_p == '"') {
                ++m_p;
                return true;
            }
            ++m_p; // backslash
            if (m_p >= m_end)
                return fail(QStringLiteral("unterminated string"));
            const char c = *m_p++;
            switch (c) {
            case '"': out->append('"'); break;
            case '\\': out->append('\\'); break;
            case '/': out->append('/'); break;
            case 'b': out->append('\b'); break;
            case 'f': out->append('\f'); break;
            case 'n': out->append('\n'); break;
            case 'r': out->append('\r'); break;
            case 't': out->append('\t'); break;
            case 'u': {
                quint32 cp;
                if (!hex4(&cp))
                    return false;
                if (cp >= 0xd800 && cp < 0xdc00 && m_end - m_p >= 6 && m_p[0] == '\\' && m_p[1] == 'u') {
                    const char *save = m_p;
                    m_p += 2;
                    quint32 low;
                    if (!hex4(&low))
                        return false;
                    if (low >= 0xdc00 && low < 0xe000)
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                    else
                        m_p = save;
                }
                putUtf8(*out, cp);
                break;
            }
            default:
                --m_p;
                return fail(QStringLiteral("unknown escape \\%1").arg(QLatin1Char(c)));
            }
        }
    }
    bool integer(qint64 *out)
    {
        ws();
        const char *start = m_p;
        if (m_p < m_end && *m_p == '-')
            ++m_p;
        while (m_p < m_end && *m_p >= '0' && *m_p <= '9')
            ++m_p;
        if (m_p < m_end && (*m_p == '.' || *m_p == 'e' || *m_p == 'E')) {
            m_p = start;
            return fail(QStringLiteral("expected a whole number"));
        }
        bool ok = false;
        *out = QByteArrayView(start, m_p - start).toLongLong(&ok);
        if (!ok) {
            m_p = start;
            return fail(QStringLiteral("expected a whole number"));
        }
        return true;
    }
    bool stringOrNull(std::optional<QByteArray> *out)
    {
        if (isNull()) {
            out->reset();
            return true;
        }
        QByteArray s;
        if (!string(&s))
            return false;
        *out = std::move(s);
        return true;
    }
    // Skips any JSON value; returns the bytes it spanned.
    bool skip(QByteArrayView *span = nullptr, int depth = 0)
    {
        ws();
        const char *start = m_p;
        if (depth > 64)
            return fail(QStringLiteral("nesting too deep"));
        if (m_p >= m_end)
            return fail(QStringLiteral("expected a value"));
        bool ok = true;
        if (*m_p == '"') {
            QByteArray ignored;
            ok = string(&ignored);
        } else if (*m_p == '{' || *m_p == '[') {
            const char close = *m_p == '{' ? '}' : ']';
            const bool object = *m_p == '{';
            ++m_p;
            if (!peek(close)) {
                do {
                    if (object) {
                        QByteArray k;
                        if (!string(&k) || !expect(':'))
                            return false;
                    }
                    if (!skip(nullptr, depth + 1))
                        return false;
                } while (peek(',') && expect(','));
            }
            ok = expect(close);
        } else if (literal("null") || literal("true") || literal("false")) {
        } else {
            while (m_p < m_end && (std::strchr("+-.eE", *m_p) || (*m_p >= '0' && *m_p <= '9')))
                ++m_p;
            if (m_p == start)
                return fail(QStringLiteral("unexpected character '%1'").arg(QLatin1Char(*m_p)));
        }
        if (span)
            *span = QByteArrayView(start, m_p - start);
        return ok;
    }
    bool atEnd()
    {
        ws();
        return m_p >= m_end;
    }

private:
    const char *m_begin;
    const char *m_p;
    const char *m_end;
    QString m_error;
};

} // namespace tapedeck::kcatjson
