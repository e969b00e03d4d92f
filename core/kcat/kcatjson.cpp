#include "core/kcat/kcatjson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <limits>

namespace tapedeck::kcatjson {

namespace {

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

std::optional<TimestampType> timestampTypeFrom(QByteArrayView s)
{
    if (s == "create")
        return TimestampType::CreateTime;
    if (s == "logappend")
        return TimestampType::LogAppendTime;
    if (s == "commit")
        return TimestampType::CommitTime;
    if (s == "unknown" || s == "none")
        return TimestampType::NotAvailable;
    return std::nullopt;
}

bool rowFromJson(const QJsonValue &v, Row *row)
{
    if (v.isUndefined() || v.isNull())
        return true;
    if (!v.isArray())
        return false;
    for (const QJsonValue &c : v.toArray()) {
        const QJsonArray a = c.toArray();
        if (a.size() < 3 || !a[0].isString())
            return false;
        Column col{a[0].toString(), a[1].toString(), std::nullopt, a.size() > 3 && a[3].toBool()};
        if (a[2].isString())
            col.value = a[2].toString().toUtf8();
        row->append(col);
    }
    return true;
}

QJsonArray rowToJson(const Row &row)
{
    QJsonArray out;
    for (const Column &c : row) {
        QJsonArray col{c.name, c.type, c.value ? QJsonValue(QString::fromUtf8(*c.value)) : QJsonValue(QJsonValue::Null)};
        if (c.unchangedToast)
            col.append(true);
        out.append(col);
    }
    return out;
}

bool parseChange(QByteArrayView span, Event *e, QString *why)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(span.toByteArray(), &error);
    if (!doc.isObject()) {
        *why = QStringLiteral("\"change\" is not a JSON object");
        return false;
    }
    const QJsonObject o = doc.object();
    const auto op = operationFromString(o.value(QStringLiteral("op")).toString());
    if (!op) {
        *why = QStringLiteral("\"change\" has an unknown op \"%1\"").arg(o.value(QStringLiteral("op")).toString());
        return false;
    }
    e->operation = *op;
    // 64-bit numbers travel as strings so that no JSON reader rounds them.
    e->transactionId = o.value(QStringLiteral("txid")).toString(QStringLiteral("-1")).toLongLong();
    e->commitLsn = o.value(QStringLiteral("commit_lsn")).toString(QStringLiteral("-1")).toLongLong();
    e->commitTimeUs = o.value(QStringLiteral("commit_ts_us")).toString(QStringLiteral("-1")).toLongLong();
    for (const QJsonValue &k : o.value(QStringLiteral("pk")).toArray())
        e->primaryKey.append(k.toString());
    if (!rowFromJson(o.value(QStringLiteral("old")), &e->oldRow) || !rowFromJson(o.value(QStringLiteral("new")), &e->newRow)) {
        *why = QStringLiteral("\"change\" has a malformed row");
        return false;
    }
    return true;
}

bool isValidUtf8(QByteArrayView bytes)
{
    const auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
    const auto *end = p + bytes.size();
    while (p < end) {
        if (*p < 0x80) {
            ++p;
            continue;
        }
        int n;
        quint32 cp;
        if ((*p & 0xe0) == 0xc0) {
            n = 1;
            cp = *p & 0x1f;
        } else if ((*p & 0xf0) == 0xe0) {
            n = 2;
            cp = *p & 0x0f;
        } else if ((*p & 0xf8) == 0xf0) {
            n = 3;
            cp = *p & 0x07;
        } else {
            return false;
        }
        if (end - p <= n)
            return false;
        for (int i = 1; i <= n; ++i) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))
            || (cp >= 0xd800 && cp < 0xe000))
            return false;
        p += n + 1;
    }
    return true;
}

// Escapes as yajl (kcat's JSON generator) does, so that lines match kcat's.
void putString(QByteArray &out, QByteArrayView s)
{
    static const char hex[] = "0123456789ABCDEF";
    out.append('"');
    const char *p = s.data();
    const char *end = p + s.size();
    const char *run = p;
    for (; p < end; ++p) {
        const auto c = quint8(*p);
        const char *esc = nullptr;
        char buf[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                std::memcpy(buf, "\\u00", 4);
                buf[4] = hex[c >> 4];
                buf[5] = hex[c & 0xf];
                buf[6] = 0;
                esc = buf;
            }
        }
        if (esc) {
            out.append(run, p - run);
            out.append(esc);
            run = p + 1;
        }
    }
    out.append(run, end - run);
    out.append('"');
}

void putBytes(QByteArray &out, QByteArrayView s, bool base64)
{
    if (base64)
        putString(out, s.toByteArray().toBase64());
    else
        putString(out, s);
}

} // namespace

std::optional<Event> parse(QByteArrayView line, QString *error)
{
    Reader r(line);
    Event e;
    e.kind = SourceKind::Kafka;
    bool sawTopic = false, keyB64 = false, payloadB64 = false;
    qint64 tsMs = -1, tsUs = -1;
    bool haveTsUs = false;
    QList<qint64> headersB64;
    QByteArrayView changeSpan;
    auto failed = [&]() -> std::optional<Event> {
        if (error)
            *error = r.error();
        return std::nullopt;
    };
    if (!r.expect('{'))
        return failed();
    if (!r.peek('}')) {
        do {
            QByteArray name;
            if (!r.string(&name) || !r.expect(':'))
                return failed();
            qint64 n = 0;
            if (name == "topic") {
                QByteArray t;
                if (!r.string(&t))
                    return failed();
                e.topic = QString::fromUtf8(t);
                sawTopic = true;
            } else if (name == "partition") {
                if (!r.integer(&n))
                    return failed();
                if (n < std::numeric_limits<qint32>::min() || n > std::numeric_limits<qint32>::max()) {
                    r.fail(QStringLiteral("partition %1 is out of range (a 32-bit number)").arg(n));
                    return failed();
                }
                e.partition = qint32(n);
            } else if (name == "offset") {
                if (!r.integer(&e.position))
                    return failed();
            } else if (name == "tstype") {
                QByteArray t;
                if (!r.string(&t))
                    return failed();
                const auto type = timestampTypeFrom(t);
                if (!type) {
                    r.fail(QStringLiteral("unknown tstype \"%1\"").arg(QString::fromUtf8(t)));
                    return failed();
                }
                e.timestampType = *type;
            } else if (name == "ts") {
                if (!r.integer(&tsMs))
                    return failed();
                if (tsMs < -1 || tsMs > std::numeric_limits<qint64>::max() / 1000) {
                    r.fail(QStringLiteral("ts %1 is out of range (ms since the epoch)").arg(tsMs));
                    return failed();
                }
            } else if (name == "ts_us") {
                if (!r.integer(&tsUs))
                    return failed();
                haveTsUs = true;
            } else if (name == "broker") {
                if (!r.integer(&n))
                    return failed();
                if (n < std::numeric_limits<qint32>::min() || n > std::numeric_limits<qint32>::max()) {
                    r.fail(QStringLiteral("broker %1 is out of range (a 32-bit number)").arg(n));
                    return failed();
                }
                e.broker = qint32(n);
            } else if (name == "leader_epoch") {
                if (!r.integer(&n))
                    return failed();
                if (n < std::numeric_limits<qint32>::min() || n > std::numeric_limits<qint32>::max()) {
                    r.fail(QStringLiteral("leader_epoch %1 is out of range (a 32-bit number)").arg(n));
                    return failed();
                }
                e.leaderEpoch = qint32(n);
            } else if (name == "headers") {
                if (!r.expect('['))
                    return failed();
                if (!r.peek(']')) {
                    do {
                        Header h;
                        if (!r.string(&h.name) || !r.expect(',') || !r.stringOrNull(&h.value))
                            return failed();
                        e.headers.append(std::move(h));
                    } while (r.peek(',') && r.expect(','));
                }
                if (!r.expect(']'))
                    return failed();
            } else if (name == "key") {
                if (!r.stringOrNull(&e.key))
                    return failed();
            } else if (name == "payload") {
                if (!r.stringOrNull(&e.value))
                    return failed();
            } else if (name == "key_encoding" || name == "payload_encoding") {
                QByteArray enc;
                if (!r.string(&enc))
                    return failed();
                if (enc != "base64") {
                    r.fail(QStringLiteral("unknown %1 \"%2\"").arg(QString::fromUtf8(name), QString::fromUtf8(enc)));
                    return failed();
                }
                (name == "key_encoding" ? keyB64 : payloadB64) = true;
            } else if (name == "headers_base64") {
                if (!r.expect('['))
                    return failed();
                if (!r.peek(']')) {
                    do {
                        if (!r.integer(&n))
                            return failed();
                        headersB64.append(n);
                    } while (r.peek(',') && r.expect(','));
                }
                if (!r.expect(']'))
                    return failed();
            } else if (name == "flags") {
                if (!r.expect('['))
                    return failed();
                if (!r.peek(']')) {
                    do {
                        QByteArray f;
                        if (!r.string(&f))
                            return failed();
                        if (f == "transactional")
                            e.flags |= Transactional;
                        else if (f == "aborted")
                            e.flags |= Aborted;
                        else if (f == "control")
                            e.flags |= ControlRecord;
                    } while (r.peek(',') && r.expect(','));
                }
                if (!r.expect(']'))
                    return failed();
            } else if (name == "kind") {
                QByteArray k;
                if (!r.string(&k))
                    return failed();
                e.kind = sourceKindFromString(QString::fromUtf8(k)).value_or(SourceKind::Unknown);
            } else if (name == "change") {
                if (!r.skip(&changeSpan))
                    return failed();
            } else {
                // kcat adds e.g. key_schema_id or payload_error: not part of the event.
                if (!r.skip())
                    return failed();
            }
        } while (r.peek(',') && r.expect(','));
    }
    if (!r.expect('}'))
        return failed();
    if (!r.atEnd()) {
        r.fail(QStringLiteral("unexpected text after the JSON object"));
        return failed();
    }
    if (!sawTopic) {
        if (error)
            *error = QStringLiteral("no \"topic\" field: not a kcat -J envelope");
        return std::nullopt;
    }
    auto decode64 = [&](std::optional<QByteArray> &v, const char *what) {
        if (!v)
            return true;
        auto result = QByteArray::fromBase64Encoding(*v, QByteArray::AbortOnBase64DecodingErrors);
        if (!result) {
            if (error)
                *error = QStringLiteral("%1 is not valid base64").arg(QLatin1String(what));
            return false;
        }
        v = *result;
        return true;
    };
    if (keyB64 && !decode64(e.key, "key"))
        return std::nullopt;
    if (payloadB64 && !decode64(e.value, "payload"))
        return std::nullopt;
    for (qint64 i : std::as_const(headersB64)) {
        if (i < 0 || i >= 2 * e.headers.size()) {
            if (error)
                *error = QStringLiteral("headers_base64 index %1 out of range").arg(i);
            return std::nullopt;
        }
        Header &h = e.headers[qsizetype(i / 2)];
        if (i % 2 == 0) {
            std::optional<QByteArray> name = h.name;
            if (!decode64(name, "header name"))
                return std::nullopt;
            h.name = *name;
        } else if (!decode64(h.value, "header value")) {
            return std::nullopt;
        }
    }
    e.timestampUs = haveTsUs ? tsUs : (tsMs == -1 && e.timestampType == TimestampType::NotAvailable ? -1 : tsMs * 1000);
    if (!changeSpan.isEmpty()) {
        QString why;
        if (!parseChange(changeSpan, &e, &why)) {
            if (error)
                *error = why;
            return std::nullopt;
        }
    }
    return e;
}

QByteArray serialize(const Event &e)
{
    QByteArray out;
    out.reserve(96 + e.topic.size() + (e.key ? e.key->size() : 0) + (e.value ? e.value->size() : 0));
    out.append("{\"topic\":");
    putString(out, e.topic.toUtf8());
    out.append(",\"partition\":");
    out.append(QByteArray::number(e.partition));
    out.append(",\"offset\":");
    out.append(QByteArray::number(e.position));
    if (e.timestampType != TimestampType::NotAvailable) {
        out.append(",\"tstype\":\"");
        out.append(toString(e.timestampType).toLatin1());
        out.append("\",\"ts\":");
        out.append(QByteArray::number(e.timestampMs()));
    } else if (e.timestampUs >= 0) {
        // A time of unknown type (a line with "ts" but no "tstype") is kept.
        out.append(",\"ts\":");
        out.append(QByteArray::number(e.timestampMs()));
    }
    out.append(",\"broker\":");
    out.append(QByteArray::number(e.broker));
    QList<int> headersB64;
    if (!e.headers.isEmpty()) {
        out.append(",\"headers\":[");
        for (qsizetype i = 0; i < e.headers.size(); ++i) {
            const Header &h = e.headers[i];
            if (i)
                out.append(',');
            const bool nameB64 = !isValidUtf8(h.name);
            putBytes(out, h.name, nameB64);
            if (nameB64)
                headersB64.append(int(2 * i));
            out.append(',');
            if (h.value) {
                const bool valueB64 = !isValidUtf8(*h.value);
                putBytes(out, *h.value, valueB64);
                if (valueB64)
                    headersB64.append(int(2 * i + 1));
            } else {
                out.append("null");
            }
        }
        out.append(']');
    }
    const bool keyB64 = e.key && !isValidUtf8(*e.key);
    const bool payloadB64 = e.value && !isValidUtf8(*e.value);
    out.append(",\"key\":");
    if (e.key)
        putBytes(out, *e.key, keyB64);
    else
        out.append("null");
    out.append(",\"payload\":");
    if (e.value)
        putBytes(out, *e.value, payloadB64);
    else
        out.append("null");

    // Extensions: written only when they carry information, so plain Kafka
    // records come out exactly as kcat prints them.
    if (keyB64)
        out.append(",\"key_encoding\":\"base64\"");
    if (payloadB64)
        out.append(",\"payload_encoding\":\"base64\"");
    if (!headersB64.isEmpty()) {
        out.append(",\"headers_base64\":[");
        for (qsizetype i = 0; i < headersB64.size(); ++i) {
            if (i)
                out.append(',');
            out.append(QByteArray::number(headersB64[i]));
        }
        out.append(']');
    }
    if (e.timestampUs >= 0 && e.timestampUs % 1000 != 0) {
        out.append(",\"ts_us\":");
        out.append(QByteArray::number(e.timestampUs));
    }
    if (e.leaderEpoch >= 0) {
        out.append(",\"leader_epoch\":");
        out.append(QByteArray::number(e.leaderEpoch));
    }
    if (e.flags & (Transactional | Aborted | ControlRecord)) {
        QList<QByteArray> names;
        if (e.flags & Transactional)
            names.append("\"transactional\"");
        if (e.flags & Aborted)
            names.append("\"aborted\"");
        if (e.flags & ControlRecord)
            names.append("\"control\"");
        out.append(",\"flags\":[" + names.join(',') + ']');
    }
    if (e.kind != SourceKind::Kafka) {
        out.append(",\"kind\":\"");
        out.append(toString(e.kind).toLatin1());
        out.append('"');
    }
    if (e.isChange() || e.transactionId >= 0 || !e.newRow.isEmpty() || !e.oldRow.isEmpty()) {
        QJsonObject change{{QStringLiteral("op"), toString(e.operation)}};
        if (e.transactionId >= 0)
            change.insert(QStringLiteral("txid"), QString::number(e.transactionId));
        if (e.commitLsn >= 0)
            change.insert(QStringLiteral("commit_lsn"), QString::number(e.commitLsn));
        if (e.commitTimeUs >= 0)
            change.insert(QStringLiteral("commit_ts_us"), QString::number(e.commitTimeUs));
        if (!e.primaryKey.isEmpty())
            change.insert(QStringLiteral("pk"), QJsonArray::fromStringList(e.primaryKey));
        if (!e.oldRow.isEmpty())
            change.insert(QStringLiteral("old"), rowToJson(e.oldRow));
        if (!e.newRow.isEmpty())
            change.insert(QStringLiteral("new"), rowToJson(e.newRow));
        out.append(",\"change\":");
        out.append(QJsonDocument(change).toJson(QJsonDocument::Compact));
    }
    out.append('}');
    return out;
}

} // namespace tapedeck::kcatjson
