#include "core/js/jsevent.h"

#include <QJSEngine>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

bool isIdentChar(QChar c)
{
    return c.isLetterOrNumber() || c == u'_' || c == u'$';
}

QJSValue jsString(const std::optional<QByteArray> &bytes)
{
    if (!bytes)
        return QJSValue(QJSValue::NullValue);
    return QJSValue(QString::fromUtf8(*bytes));
}

} // namespace

JsEventFields JsEventFields::usedBy(const QString &expression)
{
    JsEventFields f = usedNames(expression);
    f.json = wantsJson(expression);
    f.keyJson = wantsKeyJson(expression);
    return f;
}

// Every field but json and keyJson, which usedBy() takes from wantsJson()/wantsKeyJson().
JsEventFields JsEventFields::usedNames(const QString &expression)
{
    JsEventFields f;
    f.topic = f.partition = f.position = f.timestamp = f.timestampUs = false;
    f.key = f.value = f.json = f.keyJson = f.headers = f.size = false;
    f.tombstone = f.op = f.kind = f.change = false;

    const int n = int(expression.size());
    int i = 0;
    while (i < n) {
        const QChar c = expression.at(i);
        if (!isIdentChar(c) || (i > 0 && isIdentChar(expression.at(i - 1)))) {
            ++i;
            continue;
        }
        int end = i;
        while (end < n && isIdentChar(expression.at(end)))
            ++end;
        const QStringView word = QStringView(expression).mid(i, end - i);
        // A word right after a '.' is a property name, so `x.e` is not the event.
        int before = i - 1;
        while (before >= 0 && expression.at(before).isSpace())
            --before;
        const bool isMember = before >= 0 && expression.at(before) == u'.'
                              && !(before > 0 && expression.at(before - 1) == u'.'); // not spread `...e`
        if (word == u"e" && !isMember) {
            // `e` used as a whole (JSON.stringify(e), e[...], {...e}) needs every field.
            int after = end;
            while (after < n && expression.at(after).isSpace())
                ++after;
            const bool dot = after < n && expression.at(after) == u'.'
                             && !(after + 1 < n && expression.at(after + 1).isDigit());
            const bool optionalDot = after + 1 < n && expression.at(after) == u'?' && expression.at(after + 1) == u'.';
            if (!dot && !optionalDot)
                return all();
        } else if (word == u"arguments" || word == u"this" || word == u"eval" || word == u"Function") {
            return all();
        } else if (word == u"topic") {
            f.topic = true;
        } else if (word == u"partition") {
            f.partition = true;
        } else if (word == u"offset" || word == u"position") {
            f.position = true;
        } else if (word == u"timestamp") {
            f.timestamp = true;
        } else if (word == u"timestampUs") {
            f.timestampUs = true;
        } else if (word == u"table" || word == u"txid" || word == u"commitLsn" || word == u"primaryKey" || word == u"old"
                   || word == u"new" || word == u"types") {
            f.change = true;
        } else if (word == u"key") {
            f.key = true;
        } else if (word == u"value") {
            f.value = true;
        } else if (word == u"headers") {
            f.headers = true;
        } else if (word == u"size") {
            f.size = true;
        } else if (word == u"tombstone") {
            f.tombstone = true;
        } else if (word == u"op") {
            f.op = true;
        } else if (word == u"kind") {
            f.kind = true;
        }
        i = end;
    }
    return f;
}

namespace {

QJSValue parseJson(QJSEngine &engine, bool has, QByteArrayView bytes)
{
    if (!has || bytes.isEmpty())
        return QJSValue(QJSValue::UndefinedValue);
    // JSON.parse keeps key order, unlike QJsonObject; a parse error leaves undefined.
    QJSValue parse = engine.globalObject().property(u"JSON"_s).property(u"parse"_s);
    QJSValue parsed = parse.call({QJSValue(QString::fromUtf8(bytes))});
    return parsed.isError() ? QJSValue(QJSValue::UndefinedValue) : parsed;
}

// A row as the transform's runner builds it: column -> text or null, in
// the row's order; an unchanged TOASTed column is absent.
QJSValue jsRow(QJSEngine &engine, const Row &row)
{
    QJSValue o = engine.newObject();
    for (const Column &c : row) {
        if (!c.unchangedToast)
            o.setProperty(c.name, jsString(c.value));
    }
    return o;
}

void setChangeFields(QJSEngine &engine, QJSValue &e, const StreamKey &stream, const Chunk &chunk, int index)
{
    Event event;
    chunk.fill(index, &event, false, true);
    e.setProperty(u"table"_s, stream.topic);
    e.setProperty(u"txid"_s, QString::number(event.transactionId));
    e.setProperty(u"commitLsn"_s, QString::number(event.commitLsn));
    QJSValue pk = engine.newArray(uint(event.primaryKey.size()));
    for (qsizetype i = 0; i < event.primaryKey.size(); ++i)
        pk.setProperty(quint32(i), event.primaryKey.at(i));
    e.setProperty(u"primaryKey"_s, pk);
    e.setProperty(u"old"_s, event.oldRow.isEmpty() ? QJSValue(QJSValue::NullValue) : jsRow(engine, event.oldRow));
    e.setProperty(u"new"_s, event.newRow.isEmpty() ? QJSValue(QJSValue::NullValue) : jsRow(engine, event.newRow));
    // Old row's columns first, then the new row's; a name in both keeps its first place and the new row's type.
    QJSValue types = engine.newObject();
    for (const Row *row : {&event.oldRow, &event.newRow}) {
        for (const Column &c : *row)
            types.setProperty(c.name, c.type);
    }
    e.setProperty(u"types"_s, types);
}

} // namespace

QJSValue toJsEvent(QJSEngine &engine, const StreamKey &stream, const Chunk &chunk, int index,
                   const JsEventFields &fields)
{
    // In the order of the transform's runner, so that JSON.stringify(e) is the same text.
    QJSValue e = engine.newObject();
    if (fields.kind)
        e.setProperty(u"kind"_s, toString(stream.kind));
    if (fields.topic)
        e.setProperty(u"topic"_s, stream.topic);
    if (fields.partition)
        e.setProperty(u"partition"_s, stream.partition);
    if (fields.position) {
        const QJSValue position(QString::number(chunk.position(index)));
        e.setProperty(u"position"_s, position);
        e.setProperty(u"offset"_s, position);
    }
    const qint64 us = chunk.timestampUs(index);
    if (fields.timestamp)
        e.setProperty(u"timestamp"_s, double(floorMs(us)));
    if (fields.timestampUs)
        e.setProperty(u"timestampUs"_s, QString::number(us));
    const bool hasKey = chunk.hasKey(index), hasValue = chunk.hasValue(index);
    if (fields.key)
        e.setProperty(u"key"_s, hasKey ? QJSValue(QString::fromUtf8(chunk.key(index))) : QJSValue(QJSValue::NullValue));
    if (fields.value)
        e.setProperty(u"value"_s, hasValue ? QJSValue(QString::fromUtf8(chunk.value(index))) : QJSValue(QJSValue::NullValue));
    if (fields.json)
        e.setProperty(u"json"_s, parseJson(engine, hasValue, chunk.value(index)));
    if (fields.keyJson)
        e.setProperty(u"keyJson"_s, parseJson(engine, hasKey, chunk.key(index)));
    if (fields.headers) {
        QJSValue headers = engine.newObject();
        if (chunk.headerCount(index) > 0) {
            const QList<Header> list = chunk.headers(index);
            for (const Header &h : list)
                headers.setProperty(QString::fromUtf8(h.name), jsString(h.value));
        }
        e.setProperty(u"headers"_s, headers);
    }
    const Operation op = chunk.operation(index);
    if (fields.op)
        e.setProperty(u"op"_s, toString(op));
    if (fields.size)
        e.setProperty(u"size"_s, double((hasKey ? chunk.keySize(index) : 0) + (hasValue ? chunk.valueSize(index) : 0)));
    // A tombstone is a Kafka record with a null value; a change event without a value is not one.
    if (fields.tombstone)
        e.setProperty(u"tombstone"_s, !hasValue && op == Operation::Record);
    if (fields.change && op != Operation::Record)
        setChangeFields(engine, e, stream, chunk, index);
    return e;
}

} // namespace tapedeck
