#include "connectors/postgres/decode/wal2jsondecoder.h"

#include <algorithm>
#include <cctype>

namespace tapedeck {
namespace {

// A small JSON reader that keeps numbers as their text, because QJsonValue
// turns 12345678901234567890.123456789 into a double.
struct Json
{
    enum Type { Null, Bool, Number, String, Array, Object } type = Null;
    QByteArray text; // Number: as written; String: decoded UTF-8; Bool: "t"/"f"
    QList<Json> items;
    QList<std::pair<QByteArray, Json>> members;

    const Json *member(QByteArrayView name) const
    {
        for (const auto &m : members) {
            if (m.first == name)
                return &m.second;
        }
        return nullptr;
    }
    QByteArray textOf(QByteArrayView name) const
    {
        const Json *m = member(name);
        return m ? m->text : QByteArray();
    }
};

struct JsonParser
{
    QByteArrayView s;
    qsizetype pos = 0;
    int depth = 0;

    void space()
    {
        while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\n' || s[pos] == '\r' || s[pos] == '\t'))
            ++pos;
    }
    bool literal(QByteArrayView word)
    {
        if (!s.sliced(pos).startsWith(word))
            return false;
        pos += word.size();
        return true;
    }
    static void appendUtf8(QByteArray &out, char32_t c)
    {
        out += QString::fromUcs4(&c, 1).toUtf8();
    }
    bool hex4(char32_t *out)
    {
        if (s.size() - pos < 4)
            return false;
        bool ok = false;
        *out = char32_t(s.sliced(pos, 4).toUInt(&ok, 16));
        pos += 4;
        return ok;
    }
    bool string(QByteArray *out)
    {
        if (pos >= s.size() || s[pos] != '"')
            return false;
        for (++pos; pos < s.size(); ++pos) {
            const char c = s[pos];
            if (c == '"') {
                ++pos;
                return true;
            }
            if (c != '\\') {
                *out += c;
                continue;
            }
            if (++pos >= s.size())
                return false;
            switch (s[pos]) {
            case '"': *out += '"'; break;
            case '\\': *out += '\\'; break;
            case '/': *out += '/'; break;
            case 'b': *out += '\b'; break;
            case 'f': *out += '\f'; break;
            case 'n': *out += '\n'; break;
            case 'r': *out += '\r'; break;
            case 't': *out += '\t'; break;
            case 'u': {
                ++pos;
                char32_t cp = 0;
                if (!hex4(&cp))
                    return false;
                if (cp >= 0xd800 && cp < 0xdc00 && literal("\\u")) {
                    char32_t low = 0;
                    if (!hex4(&low))
                        return false;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                }
                appendUtf8(*out, cp);
                --pos;
                break;
            }
            default:
                return false;
            }
        }
        return false;
    }
    bool value(Json *out)
    {
        if (++depth > 64)
            return false;
        space();
        bool ok = true;
        if (pos >= s.size()) {
            ok = false;
        } else if (s[pos] == '{') {
            out->type = Json::Object;
            ++pos;
            space();
            if (pos < s.size() && s[pos] == '}') {
                ++pos;
            } else {
                for (;;) {
                    space();
                    std::pair<QByteArray, Json> m;
                    if (!string(&m.first)) {
                        ok = false;
                        break;
                    }
                    space();
                    if (!literal(":") || !value(&m.second)) {
                        ok = false;
                        break;
                    }
                    out->members.append(std::move(m));
                    space();
                    if (literal(","))
                        continue;
                    ok = literal("}");
                    break;
                }
            }
        } else if (s[pos] == '[') {
            out->type = Json::Array;
            ++pos;
            space();
            if (pos < s.size() && s[pos] == ']') {
                ++pos;
            } else {
                for (;;) {
                    Json item;
                    if (!value(&item)) {
                        ok = false;
                        break;
                    }
                    out->items.append(std::move(item));
                    space();
                    if (literal(","))
                        continue;
                    ok = literal("]");
                    break;
                }
            }
        } else if (s[pos] == '"') {
            out->type = Json::String;
            ok = string(&out->text);
        } else if (literal("null")) {
            out->type = Json::Null;
        } else if (literal("true")) {
            out->type = Json::Bool;
            out->text = "t";
        } else if (literal("false")) {
            out->type = Json::Bool;
            out->text = "f";
        } else {
            out->type = Json::Number;
            const qsizetype start = pos;
            while (pos < s.size() && (std::isdigit(static_cast<unsigned char>(s[pos])) || s[pos] == '-' || s[pos] == '+'
                                      || s[pos] == '.' || s[pos] == 'e' || s[pos] == 'E'))
                ++pos;
            out->text = s.sliced(start, pos - start).toByteArray();
            ok = pos > start;
        }
        --depth;
        return ok;
    }
};

Row row(const Json *columns, const PgCatalog &catalog)
{
    Row out;
    if (!columns)
        return out;
    for (const Json &c : columns->items) {
        Column col;
        col.name = QString::fromUtf8(c.textOf("name"));
        const QByteArray oid = c.textOf("typeoid");
        col.type = oid.isEmpty() ? QString::fromUtf8(c.textOf("type")) : catalog.typeName(oid.toUInt());
        const Json *v = c.member("value");
        if (v && v->type != Json::Null)
            col.value = pgchange::normaliseValue(col.type, v->text);
        out.append(std::move(col));
    }
    return out;
}

QStringList names(const Json *columns)
{
    QStringList out;
    if (columns) {
        for (const Json &c : columns->items)
            out.append(QString::fromUtf8(c.textOf("name")));
    }
    return out;
}

} // namespace

Wal2JsonDecoder::Wal2JsonDecoder(PgCatalog catalog)
    : m_catalog(std::move(catalog))
{
}

QList<std::pair<QByteArray, QByteArray>> Wal2JsonDecoder::options()
{
    return {{"format-version", "2"}, {"include-xids", "1"}, {"include-timestamp", "1"}, {"include-lsn", "1"},
            {"include-pk", "1"}, {"include-type-oids", "1"}, {"include-typmod", "0"}};
}

bool Wal2JsonDecoder::decode(qint64 lsn, QByteArrayView data, QList<Event> *out, QString *error)
{
    JsonParser parser{data};
    Json doc;
    bool ok = parser.value(&doc) && doc.type == Json::Object;
    const QByteArray action = ok ? doc.textOf("action") : QByteArray();
    if (action == "B" || action == "C") {
        m_txn.xid = doc.textOf("xid").toLongLong();
        m_txn.commitTimeUs = pgchange::parseTimestampUs(doc.textOf("timestamp"));
        m_txn.commitLsn = pgchange::parseLsn(doc.textOf("lsn"));
        out->append(pgchange::marker(m_catalog.database, action == "B" ? Operation::Begin : Operation::Commit, lsn, m_txn));
        if (action == "C") {
            m_lastCommitEnd = pgchange::parseLsn(doc.textOf("nextlsn"));
            m_txn = {};
        }
    } else if (action == "M") {
        const bool transactional = doc.textOf("transactional") == "t";
        out->append(pgchange::message(m_catalog.database, lsn, transactional ? m_txn : pgchange::TxnInfo{},
                                      doc.textOf("prefix"), doc.textOf("content")));
    } else if (action == "I" || action == "U" || action == "D" || action == "T") {
        const QString schema = QString::fromUtf8(doc.textOf("schema"));
        const QString table = QString::fromUtf8(doc.textOf("table"));
        const Operation op = action == "I" ? Operation::Insert : action == "U" ? Operation::Update
                           : action == "D" ? Operation::Delete : Operation::Truncate;
        Row newRow = row(doc.member("columns"), m_catalog);
        Row oldRow = row(doc.member("identity"), m_catalog);
        if (op == Operation::Update) {
            // wal2json leaves unchanged TOASTed values out of "columns".
            const QStringList all = m_catalog.columnNames.value(schema + QLatin1Char('.') + table);
            const QStringList types = m_catalog.columnTypes.value(schema + QLatin1Char('.') + table);
            if (!all.isEmpty() && all.size() != newRow.size()) {
                Row full;
                for (qsizetype i = 0; i < all.size(); ++i) {
                    const QString &name = all[i];
                    const auto it = std::find_if(newRow.cbegin(), newRow.cend(), [&](const Column &c) { return c.name == name; });
                    if (it != newRow.cend()) {
                        full.append(*it);
                    } else {
                        Column c;
                        c.name = name;
                        c.type = types.value(i);
                        c.unchangedToast = true;
                        full.append(c);
                    }
                }
                newRow = full;
            }
            // Without REPLICA IDENTITY FULL, "identity" repeats the key even when it did not change: not an old row.
            if (oldRow.size() < newRow.size()) {
                bool same = true;
                for (const Column &o : std::as_const(oldRow)) {
                    for (const Column &n : std::as_const(newRow)) {
                        if (n.name == o.name && n.value != o.value)
                            same = false;
                    }
                }
                if (same)
                    oldRow.clear();
            }
        }
        QStringList identity = names(doc.member("pk"));
        if (identity.isEmpty())
            identity = names(doc.member("identity"));
        out->append(pgchange::change(m_catalog, op, lsn, m_txn, schema, table, std::move(oldRow), std::move(newRow), identity));
    } else {
        ok = false;
    }
    if (!ok) {
        *error = cannotParse("wal2json", data, lsn);
        return false;
    }
    return true;
}

} // namespace tapedeck
