#include "core/transform/changerowjson.h"

namespace tapedeck {

namespace {

bool isNumericType(const QString &type)
{
    static const QStringList Numeric{QStringLiteral("smallint"), QStringLiteral("integer"), QStringLiteral("bigint"),
                                     QStringLiteral("numeric"), QStringLiteral("real"), QStringLiteral("double precision"),
                                     QStringLiteral("oid")};
    return Numeric.contains(type);
}

// JSON's number grammar; NaN and Infinity (valid numerics) are not numbers in JSON.
bool isJsonNumber(QByteArrayView s)
{
    qsizetype i = 0;
    const qsizetype n = s.size();
    auto digits = [&] {
        const qsizetype start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            ++i;
        return i > start;
    };
    if (i < n && s[i] == '-')
        ++i;
    if (i < n && s[i] == '0')
        ++i;
    else if (!digits())
        return false;
    if (i < n && s[i] == '.') {
        ++i;
        if (!digits())
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            ++i;
        if (!digits())
            return false;
    }
    return i == n;
}

void appendJsonString(QByteArray &out, QByteArrayView s)
{
    out += '"';
    for (const char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                static const char Hex[] = "0123456789abcdef";
                out += "\\u00";
                out += Hex[(c >> 4) & 0xf];
                out += Hex[c & 0xf];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

} // namespace

QByteArray changeRowJson(const Row &row, const QStringList &onlyColumns)
{
    QByteArray out("{");
    bool first = true;
    for (const Column &c : row) {
        if (c.unchangedToast || (!onlyColumns.isEmpty() && !onlyColumns.contains(c.name)))
            continue;
        if (!first)
            out += ',';
        first = false;
        appendJsonString(out, c.name.toUtf8());
        out += ':';
        if (!c.value)
            out += "null";
        else if (c.type == QLatin1String("boolean") && (*c.value == "t" || *c.value == "f"))
            out += *c.value == "t" ? "true" : "false";
        else if (isNumericType(c.type) && isJsonNumber(*c.value))
            out += *c.value;
        else
            appendJsonString(out, *c.value);
    }
    out += '}';
    return out;
}

} // namespace tapedeck
