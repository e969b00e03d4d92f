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
    JsEventFields f;
    f.topic = f.partition = f.position = f.timestamp = false;
    f.key = f.value = f.json = f.headers = f.size = false;
    f.tombstone = f.op = f.kind = false;

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
        } else if (word == u"key") {
            f.key = true;
        } else if (word == u"value") {
            f.value = true;
        } else if (word == u"json") {
            f.json = true;
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

QJSValue toJsEvent(QJSEngine &engine, const StreamKey &stream, const Chunk &chunk, int index,
                   const JsEventFields &fields)
{
    QJSValue e = engine.newObject();
    if (fields.topic)
        e.setProperty(u"topic"_s, stream.topic);
    if (fields.partition)
        e.setProperty(u"partition"_s, stream.partition);
    if (fields.position) {
        const QJSValue position(double(chunk.position(index)));
        e.setProperty(u"offset"_s, position);
        e.setProperty(u"position"_s, position);
    }
    if (fields.timestamp) {
        const qint64 us = chunk.timestampUs(index);
        // Floor division so that times before 1970 stay monotonic.
        const qint64 ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
        e.setProperty(u"timestamp"_s, double(ms));
    }
    if (fields.key)
        e.setProperty(u"key"_s, chunk.hasKey(index) ? QJSValue(QString::fromUtf8(chunk.key(index)))
                                                     : QJSValue(QJSValue::NullValue));
    if (fields.value || fields.json) {
        const bool hasValue = chunk.hasValue(index);
        const QString text = hasValue ? QString::fromUtf8(chunk.value(index)) : QString();
        if (fields.value)
            e.setProperty(u"value"_s, hasValue ? QJSValue(text) : QJSValue(QJSValue::NullValue));
        if (fields.json) {
            QJSValue json(QJSValue::UndefinedValue);
            if (hasValue && !text.isEmpty()) {
                // JSON.parse keeps key order, unlike QJsonObject; a parse error leaves undefined.
                QJSValue parse = engine.globalObject().property(u"JSON"_s).property(u"parse"_s);
                QJSValue parsed = parse.call({QJSValue(text)});
                if (!parsed.isError())
                    json = parsed;
            }
            e.setProperty(u"json"_s, json);
        }
    }
    if (fields.headers) {
        QJSValue headers = engine.newObject();
        if (chunk.headerCount(index) > 0) {
            const QList<Header> list = chunk.headers(index);
            for (const Header &h : list)
                headers.setProperty(QString::fromUtf8(h.name), jsString(h.value));
        }
        e.setProperty(u"headers"_s, headers);
    }
    if (fields.size) {
        const qint64 size = (chunk.hasKey(index) ? chunk.keySize(index) : 0)
                            + (chunk.hasValue(index) ? chunk.valueSize(index) : 0);
        e.setProperty(u"size"_s, double(size));
    }
    // A tombstone is a Kafka record with a null value; a change event without a value is not one.
    if (fields.tombstone)
        e.setProperty(u"tombstone"_s, !chunk.hasValue(index) && chunk.operation(index) == Operation::Record);
    if (fields.op)
        e.setProperty(u"op"_s, toString(chunk.operation(index)));
    if (fields.kind)
        e.setProperty(u"kind"_s, toString(stream.kind));
    return e;
}

} // namespace tapedeck
