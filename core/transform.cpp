#include "transform.h"

#include "jsconsole.h"
#include "jswatchdog.h"

#include <QDateTime>
#include <QJSEngine>
#include <QJSValueIterator>

#include <cmath>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

QJSValue text(const std::optional<QByteArray> &bytes)
{
    return bytes ? QJSValue(QString::fromUtf8(*bytes)) : QJSValue(QJSValue::NullValue);
}

// 64-bit numbers cross into JavaScript as decimal strings: a JS number holds
// integers exactly only below 2^53.
QJSValue bigText(qint64 v)
{
    return QJSValue(QString::number(v));
}

// A table without a schema given by a transform stays as written.
QString outputError(qint64 seq, const QString &what)
{
    return u"event #%1: transform returned an invalid output: %2"_s.arg(seq).arg(what);
}

// Builds the global `console`; its functions reach the host only
// through the closure's `host` (a JsConsole), never through a global name.
// Arguments are joined with spaces, non-strings as JSON (as browsers print them).
const char *const ConsolePrelude =
    "(function (host) {\n"
    "  function text(a) {\n"
    "    if (typeof a === 'string') return a;\n"
    "    if (a === undefined || typeof a === 'function' || typeof a === 'bigint' || typeof a === 'symbol' || a instanceof Error) return String(a);\n"
    "    try { const s = JSON.stringify(a); return s === undefined ? String(a) : s; } catch (e) { return String(a); }\n"
    "  }\n"
    "  function line(level) { return function () { host.write(level, Array.prototype.map.call(arguments, text).join(' ')); }; }\n"
    "  return { log: line(0), info: line(0), debug: line(0), warn: line(1), error: line(2) };\n"
    "})";

// Builds the event object in JavaScript from plain arguments: property
// names in a literal are interned once when this compiles, where
// QJSValue::setProperty() would convert every name to a JS string per event.
// Column names and types come as arrays that are built once per row shape
// (see Transform::Private::shapeArrays). Same properties, same order as the
// contract in the README.
const char *const EventFactory =
    "(function () {\n"
    "  function row(names, values) {\n"
    "    var o = {};\n"
    "    for (var i = 0; i < names.length; ++i) { var v = values[i]; if (v !== undefined) o[names[i]] = v; }\n"
    "    return o;\n"
    "  }\n"
    "  return function (kind, topic, partition, position, timestamp, timestampUs, key, value, json, keyJson, flags, headers, op,\n"
    "                   txid, commitLsn, primaryKey, oldNames, oldValues, oldTypes, newNames, newValues, newTypes) {\n"
    "    var o = {kind: kind, topic: topic, partition: partition, position: position, offset: position, timestamp: timestamp,\n"
    "             timestampUs: timestampUs, key: key, value: value};\n"
    "    if (flags & 1) o.json = json;\n"
    "    if (flags & 2) o.keyJson = keyJson;\n"
    "    o.headers = headers === null ? {} : headers;\n"
    "    o.op = op;\n"
    "    if (flags & 4) {\n"
    "      o.table = topic;\n"
    "      o.txid = txid;\n"
    "      o.commitLsn = commitLsn;\n"
    "      o.primaryKey = primaryKey.slice();\n"
    "      o.old = oldNames === null ? null : row(oldNames, oldValues);\n"
    "      o.new = newNames === null ? null : row(newNames, newValues);\n"
    "      var types = {};\n"
    "      if (oldNames !== null) for (var i = 0; i < oldNames.length; ++i) types[oldNames[i]] = oldTypes[i];\n"
    "      if (newNames !== null) for (var j = 0; j < newNames.length; ++j) types[newNames[j]] = newTypes[j];\n"
    "      o.types = types;\n"
    "    }\n"
    "    return o;\n"
    "  };\n"
    "})()";

} // namespace

struct Transform::Private
{
    QJSEngine engine;
    QJSValue function;
    QJSValue context;
    QJSValue jsonParse;
    QJSValue jsonStringify;
    QString fileName;
    JsConsole console;
    qint64 currentSeq = -1;
    Transform::ConsoleCallback consoleCallback;
    bool wantJson = true;
    bool wantKeyJson = true;
    JsCallGuard guard{&engine};

    QJSValue parseJson(const std::optional<QByteArray> &bytes)
    {
        if (!bytes || bytes->isEmpty())
            return QJSValue(QJSValue::UndefinedValue);
        QJSValue parsed = jsonParse.call({QJSValue(QString::fromUtf8(*bytes))});
        return parsed.isError() ? QJSValue(QJSValue::UndefinedValue) : parsed;
    }

    // Column names and types of a row shape (and primary-key lists) as JS
    // arrays, built once: the factory only reads them.
    struct ShapeArrays
    {
        size_t hash = 0;
        QStringList names, types;
        QJSValue jsNames, jsTypes;
    };
    std::vector<ShapeArrays> shapes;
    QJSValue factory;

    const ShapeArrays &shapeArrays(const Row &row)
    {
        size_t h = size_t(row.size());
        for (const Column &c : row)
            h = qHashMulti(h, c.name, c.type);
        auto same = [&](const ShapeArrays &s) {
            if (s.hash != h || s.names.size() != row.size())
                return false;
            for (qsizetype i = 0; i < row.size(); ++i) {
                if (s.names[i] != row[i].name || s.types[i] != row[i].type)
                    return false;
            }
            return true;
        };
        for (const ShapeArrays &s : shapes) {
            if (same(s))
                return s;
        }
        if (shapes.size() >= 256)
            shapes.clear();
        ShapeArrays s;
        s.hash = h;
        s.jsNames = engine.newArray(uint(row.size()));
        s.jsTypes = engine.newArray(uint(row.size()));
        for (qsizetype i = 0; i < row.size(); ++i) {
            s.names.append(QString(row[i].name.constData(), row[i].name.size())); // owned: the cache outlives events
            s.types.append(QString(row[i].type.constData(), row[i].type.size()));
            s.jsNames.setProperty(quint32(i), row[i].name);
            s.jsTypes.setProperty(quint32(i), row[i].type);
        }
        shapes.push_back(std::move(s));
        return shapes.back();
    }

    QJSValue primaryKeyArray(const QStringList &pk)
    {
        if (pk == lastPk.names)
            return lastPk.jsNames;
        lastPk.names = QStringList();
        for (const QString &k : pk)
            lastPk.names.append(QString(k.constData(), k.size()));
        lastPk.jsNames = engine.newArray(uint(pk.size()));
        for (int i = 0; i < pk.size(); ++i)
            lastPk.jsNames.setProperty(quint32(i), pk[i]);
        return lastPk.jsNames;
    }
    ShapeArrays lastPk;

    QJSValue values(const Row &row)
    {
        QJSValue a = engine.newArray(uint(row.size()));
        for (qsizetype i = 0; i < row.size(); ++i) {
            const Column &c = row[i];
            a.setProperty(quint32(i), c.unchangedToast ? QJSValue(QJSValue::UndefinedValue) : text(c.value));
        }
        return a;
    }

    QJSValue toJs(const Event &e)
    {
        const qint64 ms = e.timestampMs();
        QJSValue headers(QJSValue::NullValue);
        if (!e.headers.isEmpty()) {
            headers = engine.newObject();
            for (const Header &h : e.headers)
                headers.setProperty(QString::fromUtf8(h.name), text(h.value));
        }
        const QJSValue null(QJSValue::NullValue);
        QJSValueList args{toString(e.kind), e.topic, e.partition, bigText(e.position), double(ms), bigText(e.timestampUs),
                          text(e.key), text(e.value),
                          wantJson ? parseJson(e.value) : QJSValue(), wantKeyJson ? parseJson(e.key) : QJSValue(),
                          (wantJson ? 1 : 0) | (wantKeyJson ? 2 : 0) | (e.isChange() ? 4 : 0), headers, toString(e.operation)};
        if (e.isChange()) {
            args << bigText(e.transactionId) << bigText(e.commitLsn) << primaryKeyArray(e.primaryKey);
            for (const Row *row : {&e.oldRow, &e.newRow}) {
                if (row->isEmpty()) {
                    args << null << null << null;
                } else {
                    const ShapeArrays &s = shapeArrays(*row);
                    args << s.jsNames << values(*row) << s.jsTypes;
                }
            }
        }
        return factory.call(args);
    }

    bool sqlValue(const QJSValue &v, SinkValue *out, QString *why)
    {
        if (v.isNull() || v.isUndefined()) {
            out->text = std::nullopt;
        } else if (v.isBool()) {
            out->text = v.toBool() ? QByteArrayLiteral("true") : QByteArrayLiteral("false");
            out->type = u"boolean"_s;
        } else if (v.isNumber()) {
            const double d = v.toNumber();
            if (!std::isfinite(d)) {
                *why = u"a number that is not finite"_s;
                return false;
            }
            if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
                out->text = QByteArray::number(qint64(d));
                out->type = u"bigint"_s;
            } else {
                out->text = QByteArray::number(d, 'g', 17);
                out->type = u"double precision"_s;
            }
        } else if (v.isString()) {
            out->text = v.toString().toUtf8();
            out->type = u"text"_s;
        } else if (v.isDate()) {
            out->text = v.toDateTime().toUTC().toString(Qt::ISODateWithMs).toUtf8();
            out->type = u"timestamptz"_s;
        } else if (v.isObject() && !v.isCallable()) {
            out->text = jsonStringify.call({v}).toString().toUtf8();
            out->type = u"jsonb"_s;
        } else {
            *why = u"a value of an unsupported type"_s;
            return false;
        }
        return true;
    }

    bool fields(const QJSValue &object, const char *what, QList<SinkField> *out, QString *why)
    {
        if (object.isUndefined() || object.isNull())
            return true;
        if (!object.isObject() || object.isArray()) {
            *why = u"\"%1\" must be an object of column: value"_s.arg(QLatin1StringView(what));
            return false;
        }
        QJSValueIterator it(object);
        out->reserve(out->size() + 8); // most outputs have a handful of columns: no regrowing per field
        while (it.hasNext()) {
            it.next();
            SinkField f;
            f.name = it.name();
            if (!sqlValue(it.value(), &f.value, why)) {
                *why = u"\"%1.%2\" is %3"_s.arg(QLatin1StringView(what), f.name, *why);
                return false;
            }
            out->append(std::move(f));
        }
        return true;
    }

    std::optional<QByteArray> bytes(const QJSValue &v)
    {
        if (v.isNull() || v.isUndefined())
            return std::nullopt;
        if (v.isObject() && !v.isCallable())
            return jsonStringify.call({v}).toString().toUtf8();
        return v.toString().toUtf8();
    }

    bool output(const QJSValue &v, qint64 seq, SinkOutput *out, QString *error)
    {
        QString why;
        if (!v.isObject() || v.isArray() || v.isCallable()) {
            *error = outputError(seq, u"expected an object with \"table\" (SQL) or \"topic\" (Kafka), got %1"_s
                                          .arg(v.isArray() ? u"a nested array"_s : v.toString()));
            return false;
        }
        out->seq = seq;
        const QJSValue table = v.property(u"table"_s);
        const QJSValue topic = v.property(u"topic"_s);
        if (!table.isUndefined()) {
            if (!table.isString() || table.toString().isEmpty()) {
                *error = outputError(seq, u"\"table\" must be a non-empty string"_s);
                return false;
            }
            out->kind = SinkOutput::Kind::Sql;
            out->table = table.toString();
            const QJSValue op = v.property(u"op"_s);
            const QString opName = op.isUndefined() ? u"upsert"_s : op.toString();
            if (opName == u"upsert")
                out->op = SqlOp::Upsert;
            else if (opName == u"insert")
                out->op = SqlOp::Insert;
            else if (opName == u"delete")
                out->op = SqlOp::Delete;
            else {
                *error = outputError(seq, u"\"op\" must be \"upsert\", \"insert\" or \"delete\", not \"%1\""_s.arg(opName));
                return false;
            }
            if (!fields(v.property(u"key"_s), "key", &out->key, &why) || !fields(v.property(u"row"_s), "row", &out->row, &why)) {
                *error = outputError(seq, why);
                return false;
            }
            if (out->op != SqlOp::Insert && out->key.isEmpty()) {
                *error = outputError(seq, u"\"%1\" needs a non-empty \"key\""_s.arg(opName));
                return false;
            }
            if (out->op != SqlOp::Delete && out->row.isEmpty() && out->key.isEmpty()) {
                *error = outputError(seq, u"\"%1\" needs a non-empty \"row\""_s.arg(opName));
                return false;
            }
            // An upsert writes the key columns too, whether or not the row repeats them.
            if (out->op == SqlOp::Upsert) {
                for (const SinkField &k : std::as_const(out->key)) {
                    const bool inRow = std::any_of(out->row.cbegin(), out->row.cend(),
                                                   [&](const SinkField &f) { return f.name == k.name; });
                    if (!inRow)
                        out->row.prepend(k);
                }
            }
            return true;
        }
        if (!topic.isUndefined()) {
            if (!topic.isString() || topic.toString().isEmpty()) {
                *error = outputError(seq, u"\"topic\" must be a non-empty string"_s);
                return false;
            }
            out->kind = SinkOutput::Kind::Kafka;
            out->topic = topic.toString();
            const QJSValue partition = v.property(u"partition"_s);
            if (!partition.isUndefined() && !partition.isNull()) {
                if (!partition.isNumber() || partition.toNumber() != std::floor(partition.toNumber()) || partition.toNumber() < 0) {
                    *error = outputError(seq, u"\"partition\" must be a non-negative integer"_s);
                    return false;
                }
                out->partition = partition.toInt();
            }
            out->kafkaKey = bytes(v.property(u"key"_s));
            out->kafkaValue = bytes(v.property(u"value"_s));
            const QJSValue headers = v.property(u"headers"_s);
            if (headers.isObject()) {
                QJSValueIterator it(headers);
                while (it.hasNext()) {
                    it.next();
                    out->headers.append(Header{it.name().toUtf8(), bytes(it.value())});
                }
            }
            return true;
        }
        *error = outputError(seq, u"expected an object with \"table\" (SQL) or \"topic\" (Kafka)"_s);
        return false;
    }
};

Transform::Transform() : d(std::make_unique<Private>())
{
}

Transform::~Transform() = default;

bool Transform::compile(const QString &source, const QString &fileName, const Context &context, QString *error)
{
    d->fileName = fileName;
    m_lastErrorLine = 0;
    d->currentSeq = -1;
    QJSEngine::setObjectOwnership(&d->console, QJSEngine::CppOwnership);
    d->engine.globalObject().setProperty(
        u"console"_s, d->engine.evaluate(QString::fromLatin1(ConsolePrelude)).call({d->engine.newQObject(&d->console)}));
    d->factory = d->engine.evaluate(QString::fromLatin1(EventFactory));
    const QJSValue result = d->engine.evaluate(source, fileName);
    if (result.isError()) {
        m_lastErrorLine = result.property(u"lineNumber"_s).toInt();
        *error = u"%1:%2: %3"_s.arg(fileName).arg(m_lastErrorLine).arg(result.toString());
        return false;
    }
    QJSValue global = d->engine.globalObject();
    d->function = global.property(u"transform"_s);
    if (!d->function.isCallable()) {
        *error = u"%1: defines no function transform(event, ctx)"_s.arg(fileName);
        return false;
    }
    d->jsonParse = global.property(u"JSON"_s).property(u"parse"_s);
    d->jsonStringify = global.property(u"JSON"_s).property(u"stringify"_s);
    d->context = d->engine.newObject();
    d->context.setProperty(u"replayId"_s, context.replayId);
    d->context.setProperty(u"target"_s, context.target);
    d->context.setProperty(u"dryRun"_s, context.dryRun);
    d->context.setProperty(u"state"_s, d->engine.newObject());
    // Parsing JSON costs; a script that never says "json" never needs it.
    d->wantJson = source.contains(u"json"_s, Qt::CaseInsensitive);
    d->wantKeyJson = source.contains(u"keyJson"_s);
    return true;
}

void Transform::cancel()
{
    d->guard.cancel();
}

void Transform::setConsoleCallback(ConsoleCallback callback)
{
    d->consoleCallback = std::move(callback);
    if (!d->consoleCallback) {
        d->console.sink = nullptr;
        return;
    }
    Private *p = d.get();
    d->console.sink = [p](int level, const QString &text) {
        p->consoleCallback(p->currentSeq, level == 2 ? ConsoleLevel::Error : level == 1 ? ConsoleLevel::Warn : ConsoleLevel::Log,
                           text);
    };
}

qint64 Transform::consoleLines() const
{
    return d->console.lines;
}

Transform::Result Transform::run(const Event &event, qint64 seq, QList<SinkOutput> *outputs, QString *error)
{
    if (d->guard.cancelled())
        return Result::Cancelled;
    const QJSValue e = d->toJs(event);
    m_lastErrorLine = 0;
    d->currentSeq = seq;
    d->guard.begin(m_timeoutMs);
    const QJSValue result = d->function.call({e, d->context});
    const bool fired = d->guard.end();
    if (d->guard.cancelled())
        return Result::Cancelled;
    if (fired) {
        *error = u"event #%1: transform took longer than %2 ms and was interrupted"_s.arg(seq).arg(m_timeoutMs);
        return Result::Timeout;
    }
    if (result.isError()) {
        const int line = result.property(u"lineNumber"_s).toInt();
        m_lastErrorLine = line;
        *error = u"event #%1: transform threw %2"_s.arg(seq).arg(result.toString());
        if (line > 0)
            *error += u" (%1:%2)"_s.arg(d->fileName).arg(line);
        return Result::Error;
    }
    if (result.isNull() || result.isUndefined())
        return Result::Ok;
    const qsizetype before = outputs->size();
    auto fail = [&] {
        outputs->resize(before);
        return Result::Error;
    };
    if (result.isArray()) {
        const int n = result.property(u"length"_s).toInt();
        for (int i = 0; i < n; ++i) {
            const QJSValue item = result.property(quint32(i));
            if (item.isNull() || item.isUndefined())
                continue;
            SinkOutput out;
            if (!d->output(item, seq, &out, error))
                return fail();
            outputs->append(std::move(out));
        }
        return Result::Ok;
    }
    SinkOutput out;
    if (!d->output(result, seq, &out, error))
        return fail();
    outputs->append(std::move(out));
    return Result::Ok;
}

bool identityOutputs(const Event &event, qint64 seq, const QString &kafkaTopic, QList<SinkOutput> *outputs, QString *error)
{
    if (!event.isChange()) {
        if (kafkaTopic.isEmpty()) {
            *error = u"event #%1 is a Kafka record: replaying records into SQL needs --transform"_s.arg(seq);
            return false;
        }
        SinkOutput out;
        out.kind = SinkOutput::Kind::Kafka;
        out.seq = seq;
        out.topic = kafkaTopic;
        out.kafkaKey = event.key;
        out.kafkaValue = event.value;
        out.headers = event.headers;
        outputs->append(std::move(out));
        return true;
    }
    switch (event.operation) {
    case Operation::Insert:
    case Operation::Update:
    case Operation::Read:
    case Operation::Delete:
        break;
    default:
        return true; // Begin, Commit, Message, Truncate: nothing to write (replay.md)
    }
    if (!kafkaTopic.isEmpty()) {
        // Into Kafka a change event becomes key = PK JSON, value = new row JSON (null: delete).
        SinkOutput out;
        out.kind = SinkOutput::Kind::Kafka;
        out.seq = seq;
        out.topic = kafkaTopic;
        out.kafkaKey = event.key;
        out.kafkaValue = event.value;
        outputs->append(std::move(out));
        return true;
    }
    SinkOutput out;
    out.seq = seq;
    out.table = event.topic;
    out.key.reserve(event.primaryKey.size());
    out.row.reserve(event.newRow.size());
    auto field = [](const Column &c) { return SinkField{c.name, SinkValue{c.value, c.type}}; };
    const bool isDelete = event.operation == Operation::Delete;
    for (const QString &name : event.primaryKey) {
        const Column *found = nullptr;
        if (!isDelete) {
            for (const Column &c : event.newRow) {
                if (c.name == name && !c.unchangedToast)
                    found = &c;
            }
        }
        if (!found) {
            for (const Column &c : event.oldRow) {
                if (c.name == name && !c.unchangedToast)
                    found = &c;
            }
        }
        if (!found) {
            *error = u"event #%1: %2 %3 lacks key column \"%4\""_s.arg(seq).arg(toString(event.operation), event.topic, name);
            return false;
        }
        out.key.append(field(*found));
    }
    if (isDelete) {
        if (out.key.isEmpty()) {
            *error = u"event #%1: delete from %2, a table without primary key or replica identity, cannot be replayed"_s
                         .arg(seq).arg(event.topic);
            return false;
        }
        out.op = SqlOp::Delete;
    } else {
        out.op = out.key.isEmpty() ? SqlOp::Insert : SqlOp::Upsert;
        if (event.operation == Operation::Update && out.key.isEmpty()) {
            *error = u"event #%1: update of %2, a table without primary key or replica identity, cannot be replayed"_s
                         .arg(seq).arg(event.topic);
            return false;
        }
        for (const Column &c : event.newRow) {
            if (!c.unchangedToast)
                out.row.append(field(c));
        }
        // A primary-key change: the row left its old key.
        if (event.operation == Operation::Update && !out.key.isEmpty()) {
            SinkOutput gone;
            gone.seq = seq;
            gone.table = event.topic;
            gone.op = SqlOp::Delete;
            for (const QString &name : event.primaryKey) {
                const Column *found = nullptr;
                for (const Column &c : event.oldRow) {
                    if (c.name == name && !c.unchangedToast)
                        found = &c; // the last, as for the key itself
                }
                if (found)
                    gone.key.append(field(*found));
            }
            if (gone.key.size() == out.key.size() && gone.key != out.key)
                outputs->append(std::move(gone));
        }
    }
    outputs->append(std::move(out));
    return true;
}

} // namespace tapedeck
