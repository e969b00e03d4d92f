#include "core/base/rawjson.h"

namespace tapedeck::rawjson {

namespace {

struct Scanner
{
    const char *p;
    const char *end;

    void ws()
    {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
            ++p;
    }

    static int hex(char c)
    {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    }

    static void utf8(QByteArray *out, uint cp)
    {
        if (cp < 0x80) {
            out->append(char(cp));
        } else if (cp < 0x800) {
            out->append(char(0xC0 | (cp >> 6)));
            out->append(char(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out->append(char(0xE0 | (cp >> 12)));
            out->append(char(0x80 | ((cp >> 6) & 0x3F)));
            out->append(char(0x80 | (cp & 0x3F)));
        } else {
            out->append(char(0xF0 | (cp >> 18)));
            out->append(char(0x80 | ((cp >> 12) & 0x3F)));
            out->append(char(0x80 | ((cp >> 6) & 0x3F)));
            out->append(char(0x80 | (cp & 0x3F)));
        }
    }

    bool hex4(uint *v)
    {
        if (end - p < 4)
            return false;
        *v = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hex(p[i]);
            if (h < 0)
                return false;
            *v = *v * 16 + uint(h);
        }
        p += 4;
        return true;
    }

    // At a '"'. `out` null: skip only.
    bool string(QByteArray *out)
    {
        ++p;
        const char *run = p;
        while (p < end) {
            const char c = *p;
            if (c == '"') {
                if (out)
                    out->append(run, p - run);
                ++p;
                return true;
            }
            if (c == '\\') {
                if (out)
                    out->append(run, p - run);
                ++p;
                if (p >= end)
                    return false;
                const char e = *p++;
                char plain = 0;
                switch (e) {
                case '"': plain = '"'; break;
                case '\\': plain = '\\'; break;
                case '/': plain = '/'; break;
                case 'b': plain = '\b'; break;
                case 'f': plain = '\f'; break;
                case 'n': plain = '\n'; break;
                case 'r': plain = '\r'; break;
                case 't': plain = '\t'; break;
                case 'u': {
                    uint cp = 0;
                    if (!hex4(&cp))
                        return false;
                    if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                        p += 2;
                        uint lo = 0;
                        if (!hex4(&lo))
                            return false;
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    if (out)
                        utf8(out, cp);
                    break;
                }
                default:
                    return false;
                }
                if (plain && out)
                    out->append(plain);
                run = p;
                continue;
            }
            ++p;
        }
        return false;
    }

    bool literal(const char *word)
    {
        const char *q = p;
        for (; *word; ++word, ++q) {
            if (q >= end || *q != *word)
                return false;
        }
        p = q;
        return true;
    }

    // Any value; `out` null: skip only.
    bool value(RawJson *out, int depth = 0)
    {
        ws();
        if (p >= end || depth > 200)
            return false;
        const char *start = p;
        const char c = *p;
        if (c == '"') {
            if (out) {
                out->type = RawJson::Type::String;
                out->text.clear();
            }
            return string(out ? &out->text : nullptr);
        }
        if (c == '{' || c == '[') {
            const char close = c == '{' ? '}' : ']';
            ++p;
            ws();
            if (p < end && *p == close) {
                ++p;
            } else {
                while (true) {
                    if (c == '{') {
                        ws();
                        if (p >= end || *p != '"' || !string(nullptr))
                            return false;
                        ws();
                        if (p >= end || *p != ':')
                            return false;
                        ++p;
                    }
                    if (!value(nullptr, depth + 1))
                        return false;
                    ws();
                    if (p < end && *p == ',') {
                        ++p;
                        continue;
                    }
                    if (p < end && *p == close) {
                        ++p;
                        break;
                    }
                    return false;
                }
            }
            if (out) {
                out->type = c == '{' ? RawJson::Type::Object : RawJson::Type::Array;
                out->text = QByteArray(start, p - start);
            }
            return true;
        }
        if (literal("true") || literal("false")) {
            if (out) {
                out->type = RawJson::Type::Bool;
                out->text = QByteArray(start, p - start);
            }
            return true;
        }
        if (literal("null")) {
            if (out) {
                out->type = RawJson::Type::Null;
                out->text = QByteArrayLiteral("null");
            }
            return true;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            ++p;
            while (p < end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-'))
                ++p;
            if (out) {
                out->type = RawJson::Type::Number;
                out->text = QByteArray(start, p - start);
            }
            return true;
        }
        return false;
    }

    bool atEnd()
    {
        ws();
        return p == end;
    }
};

// Finds `name` in the object at s.p; leaves s.p at its value.
bool seekField(Scanner &s, QByteArrayView name)
{
    s.ws();
    if (s.p >= s.end || *s.p != '{')
        return false;
    ++s.p;
    s.ws();
    if (s.p < s.end && *s.p == '}')
        return false;
    QByteArray fieldName;
    while (true) {
        s.ws();
        if (s.p >= s.end || *s.p != '"')
            return false;
        fieldName.clear();
        if (!s.string(&fieldName))
            return false;
        s.ws();
        if (s.p >= s.end || *s.p != ':')
            return false;
        ++s.p;
        if (fieldName == name)
            return true;
        if (!s.value(nullptr))
            return false;
        s.ws();
        if (s.p < s.end && *s.p == ',') {
            ++s.p;
            continue;
        }
        return false;
    }
}

} // namespace

bool objectFields(QByteArrayView json, QList<std::pair<QByteArray, RawJson>> *fields)
{
    Scanner s{json.data(), json.data() + json.size()};
    fields->clear();
    s.ws();
    if (s.p >= s.end || *s.p != '{')
        return false;
    ++s.p;
    s.ws();
    if (s.p < s.end && *s.p == '}') {
        ++s.p;
        return s.atEnd();
    }
    while (true) {
        s.ws();
        if (s.p >= s.end || *s.p != '"')
            return false;
        std::pair<QByteArray, RawJson> field;
        if (!s.string(&field.first))
            return false;
        s.ws();
        if (s.p >= s.end || *s.p != ':')
            return false;
        ++s.p;
        if (!s.value(&field.second))
            return false;
        fields->append(std::move(field));
        s.ws();
        if (s.p < s.end && *s.p == ',') {
            ++s.p;
            continue;
        }
        if (s.p < s.end && *s.p == '}') {
            ++s.p;
            return s.atEnd();
        }
        return false;
    }
}

std::optional<RawJson> path(QByteArrayView json, QByteArrayView dottedPath)
{
    Scanner s{json.data(), json.data() + json.size()};
    qsizetype from = 0;
    while (from < dottedPath.size()) {
        qsizetype dot = dottedPath.indexOf('.', from);
        if (dot < 0)
            dot = dottedPath.size();
        if (!seekField(s, dottedPath.sliced(from, dot - from)))
            return std::nullopt;
        from = dot + 1;
    }
    RawJson v;
    if (!s.value(&v))
        return std::nullopt;
    return v;
}

std::optional<RawJson> parse(QByteArrayView json)
{
    Scanner s{json.data(), json.data() + json.size()};
    RawJson v;
    if (!s.value(&v) || !s.atEnd())
        return std::nullopt;
    return v;
}

} // namespace tapedeck::rawjson
