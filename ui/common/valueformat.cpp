#include "ui/common/valueformat.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QLocale>
#include <QStringDecoder>

using namespace Qt::StringLiterals;

namespace tapedeck::ValueFormat {

namespace {

constexpr char s_hexDigits[] = "0123456789abcdef";

// Length of the longest prefix of `bytes` (at most `limit`) that does not
// cut a UTF-8 sequence in two.
qsizetype utf8Prefix(QByteArrayView bytes, qsizetype limit)
{
    if (bytes.size() <= limit)
        return bytes.size();
    qsizetype end = limit;
    // Step back over continuation bytes to the start of the sequence that was cut.
    int back = 0;
    while (end > 0 && back < 4 && (quint8(bytes[end]) & 0xC0) == 0x80) {
        --end;
        ++back;
    }
    return end;
}

void appendEscapedByte(QString &out, quint8 b)
{
    out += u"\\x"_s;
    out += QLatin1Char(s_hexDigits[b >> 4]);
    out += QLatin1Char(s_hexDigits[b & 0xF]);
}

} // namespace

bool isText(QByteArrayView bytes)
{
    for (char ch : bytes) {
        const quint8 b = quint8(ch);
        if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7F)
            return false;
    }
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = decoder(bytes);
    Q_UNUSED(text)
    return !decoder.hasError();
}

QString escaped(QByteArrayView bytes, int maxChars)
{
    QString out;
    out.reserve(std::min<qsizetype>(bytes.size(), maxChars < 0 ? bytes.size() : maxChars) + 8);
    for (char ch : bytes) {
        if (maxChars >= 0 && out.size() >= maxChars) {
            out += u'…';
            break;
        }
        const quint8 b = quint8(ch);
        if (b == '\\')
            out += u"\\\\"_s;
        else if (b >= 0x20 && b < 0x7F)
            out += QLatin1Char(char(b));
        else
            appendEscapedByte(out, b);
    }
    return out;
}

QString preview(QByteArrayView bytes, int maxChars)
{
    // Decoding 4 bytes per character is enough for any UTF-8 text.
    const QByteArrayView head = bytes.first(utf8Prefix(bytes, qsizetype(maxChars) * 4 + 4));
    if (!isText(head))
        return escaped(bytes.first(std::min<qsizetype>(bytes.size(), qsizetype(maxChars) * 4)), maxChars);
    QString text = QString::fromUtf8(head);
    bool cut = head.size() < bytes.size();
    if (text.size() > maxChars) {
        text.truncate(maxChars);
        cut = true;
    }
    for (QChar &c : text) {
        if (c == u'\n' || c == u'\r' || c == u'\t')
            c = u' ';
    }
    if (cut)
        text += u'…';
    return text;
}

QString hexDump(QByteArrayView bytes, int maxBytes)
{
    const qsizetype n = std::min<qsizetype>(bytes.size(), maxBytes);
    QString out;
    out.reserve((n / 16 + 1) * 68);
    for (qsizetype line = 0; line < n; line += 16) {
        out += u"%1: "_s.arg(line, 8, 16, QLatin1Char('0'));
        for (int i = 0; i < 16; ++i) {
            if (line + i < n) {
                const quint8 b = quint8(bytes[line + i]);
                out += QLatin1Char(s_hexDigits[b >> 4]);
                out += QLatin1Char(s_hexDigits[b & 0xF]);
            } else {
                out += u"  "_s;
            }
            if (i % 2 == 1)
                out += u' ';
        }
        out += u' ';
        for (int i = 0; i < 16 && line + i < n; ++i) {
            const quint8 b = quint8(bytes[line + i]);
            out += (b >= 0x20 && b < 0x7F) ? QLatin1Char(char(b)) : QLatin1Char('.');
        }
        out += u'\n';
    }
    if (n < bytes.size())
        out += u"… %1 more bytes not shown\n"_s.arg(bytes.size() - n);
    return out;
}

QString prettyJson(QByteArrayView bytes)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || doc.isNull())
        return {};
    // The text is valid JSON, so a token-level re-indent is safe and keeps
    // the sender's key order and number spelling (QJsonObject sorts keys).
    const QString text = QString::fromUtf8(bytes);
    QString out;
    out.reserve(text.size() * 2);
    int depth = 0;
    auto newline = [&] {
        out += u'\n';
        for (int i = 0; i < depth; ++i)
            out += u"    "_s;
    };
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n; ++i) {
        const QChar c = text.at(i);
        switch (c.unicode()) {
        case '"': {
            const qsizetype start = i++;
            while (i < n && text.at(i) != u'"') {
                if (text.at(i) == u'\\')
                    ++i;
                ++i;
            }
            out += QStringView(text).mid(start, i - start + 1);
            break;
        }
        case '{':
        case '[': {
            // Empty containers stay on one line, as QJsonDocument writes them.
            qsizetype j = i + 1;
            while (j < n && text.at(j).isSpace())
                ++j;
            const QChar close = c == u'{' ? u'}' : u']';
            if (j < n && text.at(j) == close) {
                out += c;
                out += close;
                i = j;
                break;
            }
            out += c;
            ++depth;
            newline();
            break;
        }
        case '}':
        case ']':
            --depth;
            newline();
            out += c;
            break;
        case ',':
            out += c;
            newline();
            break;
        case ':':
            out += u": "_s;
            break;
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            break;
        default:
            out += c;
        }
    }
    out += u'\n';
    return out;
}

QString humanSize(qint64 bytes)
{
    return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeSIFormat);
}

QString count(qint64 n, const QString &one, const QString &many)
{
    return QLocale().toString(n) + u' ' + (n == 1 ? one : many);
}

} // namespace tapedeck::ValueFormat
