#include "core/kcat/kcatjson.h"

#include "core/kcat/kcatreader_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <limits>

namespace tapedeck::kcatjson {

namespace {

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

// What parse() gathers besides the event: the encodings and timestamps that
// are applied once the whole object is read.
struct Envelope
{
    Event e;
    bool sawTopic = false, keyB64 = false, payloadB64 = false;
    qint64 tsMs = -1, tsUs = -1;
    bool haveTsUs = false;
    QList<qint64> headersB64;
    QByteArrayView changeSpan;
};

// `[item, item, ...]`, each item read by `item()`, which returns false on an error.
template<typename Item>
inline bool list(Reader &r, Item item)
{
    if (!r.expect('['))
        return false;
    if (!r.peek(']')) {
        do {
            if (!item())
                return false;
        } while (r.peek(',') && r.expect(','));
    }
    return r.expect(']');
}

// A whole number of 32 bits: kcat's partition, broker and leader epoch. A
// larger one was once truncated silently (4294967297 became 1).
inline bool int32Field(Reader &r, const char *name, qint32 *out)
{
    qint64 n = 0;
    if (!r.integer(&n))
        return false;
    if (n < std::numeric_limits<qint32>::min() || n > std::numeric_limits<qint32>::max()) {
        r.fail(QStringLiteral("%1 %2 is out of range (a 32-bit number)").arg(QLatin1String(name)).arg(n));
        return false;
    }
    *out = qint32(n);
    return true;
}

// The value of the field `name`; false with r's error on bad JSON or an unknown encoding.
// Over 80 lines: one short branch per field of the envelope (kcatjson.md), read top to bottom.
inline bool field(Reader &r, const QByteArray &name, Envelope &env)
{
    Event &e = env.e;
    qint64 n = 0;
    QByteArray text;
    if (name == "topic") {
        if (!r.string(&text))
            return false;
        e.topic = QString::fromUtf8(text);
        env.sawTopic = true;
    } else if (name == "partition") {
        return int32Field(r, "partition", &e.partition);
    } else if (name == "offset") {
        return r.integer(&e.position);
    } else if (name == "tstype") {
        if (!r.string(&text))
            return false;
        const auto type = timestampTypeFrom(text);
        if (!type) {
            r.fail(QStringLiteral("unknown tstype \"%1\"").arg(QString::fromUtf8(text)));
            return false;
        }
        e.timestampType = *type;
    } else if (name == "ts") {
        if (!r.integer(&env.tsMs))
            return false;
        if (env.tsMs < -1 || env.tsMs > std::numeric_limits<qint64>::max() / 1000) { // µs must fit in 64 bits
            r.fail(QStringLiteral("ts %1 is out of range (ms since the epoch)").arg(env.tsMs));
            return false;
        }
    } else if (name == "ts_us") {
        if (!r.integer(&env.tsUs))
            return false;
        env.haveTsUs = true;
    } else if (name == "broker") {
        return int32Field(r, "broker", &e.broker);
    } else if (name == "leader_epoch") {
        return int32Field(r, "leader_epoch", &e.leaderEpoch);
    } else if (name == "headers") {
        return list(r, [&] {
            Header h;
            if (!r.string(&h.name) || !r.expect(',') || !r.stringOrNull(&h.value))
                return false;
            e.headers.append(std::move(h));
            return true;
        });
    } else if (name == "key") {
        return r.stringOrNull(&e.key);
    } else if (name == "payload") {
        return r.stringOrNull(&e.value);
    } else if (name == "key_encoding" || name == "payload_encoding") {
        if (!r.string(&text))
            return false;
        if (text != "base64") {
            r.fail(QStringLiteral("unknown %1 \"%2\"").arg(QString::fromUtf8(name), QString::fromUtf8(text)));
            return false;
        }
        (name == "key_encoding" ? env.keyB64 : env.payloadB64) = true;
    } else if (name == "headers_base64") {
        return list(r, [&] {
            if (!r.integer(&n))
                return false;
            env.headersB64.append(n);
            return true;
        });
    } else if (name == "flags") {
        return list(r, [&] {
            QByteArray f;
            if (!r.string(&f))
                return false;
            if (f == "transactional")
                e.flags |= Transactional;
            else if (f == "aborted")
                e.flags |= Aborted;
            else if (f == "control")
                e.flags |= ControlRecord;
            return true;
        });
    } else if (name == "kind") {
        if (!r.string(&text))
            return false;
        e.kind = sourceKindFromString(QString::fromUtf8(text)).value_or(SourceKind::Unknown);
    } else if (name == "change") {
        return r.skip(&env.changeSpan);
    } else {
        // kcat adds e.g. key_schema_id or payload_error: not part of the event.
        return r.skip();
    }
    return true;
}

inline bool decode64(std::optional<QByteArray> &v, const char *what, QString *error)
{
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
}

// The envelope's base64 fields decoded, its timestamp and change applied.
inline bool finish(Envelope &env, QString *error)
{
    Event &e = env.e;
    if (env.keyB64 && !decode64(e.key, "key", error))
        return false;
    if (env.payloadB64 && !decode64(e.value, "payload", error))
        return false;
    for (qint64 i : std::as_const(env.headersB64)) {
        if (i < 0 || i >= 2 * e.headers.size()) {
            if (error)
                *error = QStringLiteral("headers_base64 index %1 out of range").arg(i);
            return false;
        }
        Header &h = e.headers[qsizetype(i / 2)];
        if (i % 2 == 0) {
            std::optional<QByteArray> name = h.name;
            if (!decode64(name, "header name", error))
                return false;
            h.name = *name;
        } else if (!decode64(h.value, "header value", error)) {
            return false;
        }
    }
    e.timestampUs = env.haveTsUs ? env.tsUs : (env.tsMs == -1 && e.timestampType == TimestampType::NotAvailable ? -1 : env.tsMs * 1000);
    if (!env.changeSpan.isEmpty()) {
        QString why;
        if (!parseChange(env.changeSpan, &e, &why)) {
            if (error)
                *error = why;
            return false;
        }
    }
    return true;
}

} // namespace

std::optional<Event> parse(QByteArrayView line, QString *error)
{
    Reader r(line);
    Envelope env;
    env.e.kind = SourceKind::Kafka;
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
            if (!r.string(&name) || !r.expect(':') || !field(r, name, env))
                return failed();
        } while (r.peek(',') && r.expect(','));
    }
    if (!r.expect('}'))
        return failed();
    if (!r.atEnd()) {
        r.fail(QStringLiteral("unexpected text after the JSON object"));
        return failed();
    }
    if (!env.sawTopic) {
        if (error)
            *error = QStringLiteral("no \"topic\" field: not a kcat -J envelope");
        return std::nullopt;
    }
    if (!finish(env, error))
        return std::nullopt;
    return std::move(env.e);
}

namespace {

// `,"headers":[name,value,...]`; names and values that are not UTF-8 go as
// base64, their indexes into *headersB64.
inline void putHeaders(QByteArray &out, const QList<Header> &headers, QList<int> *headersB64)
{
    out.append(",\"headers\":[");
    for (qsizetype i = 0; i < headers.size(); ++i) {
        const Header &h = headers[i];
        if (i)
            out.append(',');
        const bool nameB64 = !isValidUtf8(h.name);
        putBytes(out, h.name, nameB64);
        if (nameB64)
            headersB64->append(int(2 * i));
        out.append(',');
        if (h.value) {
            const bool valueB64 = !isValidUtf8(*h.value);
            putBytes(out, *h.value, valueB64);
            if (valueB64)
                headersB64->append(int(2 * i + 1));
        } else {
            out.append("null");
        }
    }
    out.append(']');
}

// Extensions: written only when they carry information, so plain Kafka
// records come out exactly as kcat prints them.
inline void putExtensions(QByteArray &out, const Event &e, bool keyB64, bool payloadB64, const QList<int> &headersB64)
{
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
}

// `,"change":{...}` of a change event (or of any event with change fields).
void putChange(QByteArray &out, const Event &e)
{
    if (!(e.isChange() || e.transactionId >= 0 || !e.newRow.isEmpty() || !e.oldRow.isEmpty()))
        return;
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

} // namespace

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
    if (!e.headers.isEmpty())
        putHeaders(out, e.headers, &headersB64);
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
    putExtensions(out, e, keyB64, payloadB64, headersB64);
    putChange(out, e);
    out.append('}');
    return out;
}

} // namespace tapedeck::kcatjson
