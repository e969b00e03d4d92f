#include "core/base/printable.h"

namespace tapedeck {

namespace {

const char Hex[] = "0123456789abcdef";

// The escape of a backslash, a C0 character or DEL.
void appendEscape(QByteArray &out, uchar c)
{
    switch (c) {
    case '\\': out += "\\\\"; return;
    case '\t': out += "\\t"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    default: break;
    }
    out += "\\x";
    out += Hex[c >> 4];
    out += Hex[c & 15];
}

bool needsEscape(uchar c)
{
    return c < 0x20 || c == 0x7f || c == '\\';
}

} // namespace

QByteArray printable(QByteArrayView utf8)
{
    qsizetype i = 0;
    const qsizetype n = utf8.size();
    // Fast path: most values have nothing to escape.
    while (i < n && !needsEscape(uchar(utf8[i])) && !(uchar(utf8[i]) == 0xc2 && i + 1 < n && uchar(utf8[i + 1]) < 0xa0))
        ++i;
    if (i == n)
        return utf8.toByteArray();
    QByteArray out = utf8.first(i).toByteArray();
    out.reserve(n + 16);
    for (; i < n; ++i) {
        const uchar c = uchar(utf8[i]);
        if (needsEscape(c)) {
            appendEscape(out, c);
        } else if (c == 0xc2 && i + 1 < n && uchar(utf8[i + 1]) >= 0x80 && uchar(utf8[i + 1]) < 0xa0) {
            // U+0080..U+009F, the C1 controls, encoded as C2 80..C2 9F.
            const uchar c1 = uchar(utf8[++i]);
            out += "\\u00";
            out += Hex[c1 >> 4];
            out += Hex[c1 & 15];
        } else {
            out += char(c);
        }
    }
    return out;
}

QString printable(QStringView text)
{
    for (const QChar c : text) {
        if (c.unicode() < 0x20 || (c.unicode() >= 0x7f && c.unicode() < 0xa0) || c == u'\\')
            return QString::fromUtf8(printable(QByteArrayView(text.toUtf8())));
    }
    return text.toString();
}

} // namespace tapedeck
