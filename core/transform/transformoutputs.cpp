#include "core/transform/transform_p.h"

#include <QDateTime>
#include <QStringEncoder>

#include <algorithm>
#include <cmath>
#include <memory>

// What the runner returns: outputs it flattened (read in bulk, into
// SinkOutputs or Rows) and outputs it did not (checked and converted one by
// one). The protocol: core/transform/transform.md, "Outputs back".

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

QString outputError(qint64 seq, const QString &what)
{
    return u"event #%1: transform returned an invalid output: %2"_s.arg(seq).arg(what);
}

} // namespace

const QString &Transform::Private::notPlain()
{
    static const QString marker = u"\u0000tapedeck: not a plain value\u0000"_s;
    return marker;
}

void Transform::Private::numberValue(double d, SinkValue *out)
{
    if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
        out->text = QByteArray::number(qint64(d));
        out->type = u"bigint"_s;
    } else {
        out->text = QByteArray::number(d, 'g', 17);
        out->type = u"double precision"_s;
    }
}

void Transform::Private::flatValue(const double *dv, qsizetype count, const QByteArray &bytes, qsizetype at, SinkValue *v)
{
    const double d = at < count ? dv[2 * at] : -1;
    if (d >= 0) {
        v->text = QByteArray(bytes.constData() + qsizetype(dv[2 * at + 1]), qsizetype(d));
        v->type = u"text"_s;
    } else if (d == -2 || d == -3) {
        v->text = d == -2 ? QByteArrayLiteral("true") : QByteArrayLiteral("false");
        v->type = u"boolean"_s;
    } else if (d == -4) {
        numberValue(dv[2 * at + 1], v);
    } else {
        v->text = std::nullopt;
        v->type.clear();
    }
}

QByteArray Transform::Private::utf8(const QString &text)
{
    QStringEncoder encoder(QStringEncoder::Utf8, QStringEncoder::Flag::Stateless);
    return encoder.encode(text);
}

bool Transform::Private::sqlValue(const QJSValue &v, SinkValue *out, QString *why)
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
        numberValue(d, out);
    } else if (v.isString()) {
        out->text = utf8(v.toString());
        out->type = u"text"_s;
    } else if (v.isDate()) {
        out->text = v.toDateTime().toUTC().toString(Qt::ISODateWithMs).toUtf8();
        out->type = u"timestamptz"_s;
    } else if (v.isObject() && !v.isCallable()) {
        out->text = utf8(jsonStringify.call({v}).toString());
        out->type = u"jsonb"_s;
    } else {
        *why = u"a value of an unsupported type"_s;
        return false;
    }
    return true;
}

QStringList Transform::Private::ownKeys(const QJSValue &object)
{
    return engine.fromScriptValue<QStringList>(objectKeys.call({object}));
}

bool Transform::Private::fields(const QJSValue &object, const char *what, QList<SinkField> *out, QString *why)
{
    if (object.isUndefined() || object.isNull())
        return true;
    if (!object.isObject() || object.isArray()) {
        *why = u"\"%1\" must be an object of column: value"_s.arg(QLatin1StringView(what));
        return false;
    }
    const QStringList names = ownKeys(object);
    out->reserve(out->size() + names.size());
    for (const QString &name : names) {
        SinkField f;
        f.name = name;
        if (!sqlValue(object.property(name), &f.value, why)) {
            *why = u"\"%1.%2\" is %3"_s.arg(QLatin1StringView(what), f.name, *why);
            return false;
        }
        out->append(std::move(f));
    }
    return true;
}

std::optional<QByteArray> Transform::Private::bytes(const QJSValue &v)
{
    if (v.isNull() || v.isUndefined())
        return std::nullopt;
    if (v.isObject() && !v.isCallable())
        return utf8(jsonStringify.call({v}).toString());
    return utf8(v.toString());
}

void Transform::Private::collect(std::span<const qint64> seqs, std::span<Transform::Outcome *const> outcomes, Transform::Rows *rows,
                                 int timeoutMs, bool stopAtFailure)
{
    readOutShapes();
    readErrors(seqs, outcomes);
    const qsizetype n = qsizetype(outcomes.size());
    const QByteArray outBytes = engine.fromScriptValue<QByteArray>(packFn.call());
    const QJSValue items = io.property(u"items"_s);
    std::vector<double> outNumbers(reinterpret_cast<const double *>(outBytes.constData()),
                                   reinterpret_cast<const double *>(outBytes.constData()) + outBytes.size() / qsizetype(sizeof(double)));
    double *out = outNumbers.data();
    const qsizetype outCount = qsizetype(outNumbers.size());
    const QVariantList values = io.property(u"vals"_s).toVariant().toList();
    RowsBuild build;
    const std::vector<double> descriptors = describeValues(values, &build.bytes);
    const double *dv = descriptors.data();
    const qsizetype valueCount = values.size();
    // With rows, an event with an output that is not plain keeps all its
    // outputs as SinkOutputs, in their order.
    const std::vector<char> mixed = markNotPlain(out, outCount, dv, valueCount, rows ? n : 0);
    if (rows)
        build.begin(rows);
    QString table; // shared between the outputs that name the same table
    QByteArray tableUtf8;
    for (qsizetype j = 0; j + 4 < outCount; j += 5) {
        const qsizetype i = qsizetype(out[j]);
        const int code = int(out[j + 1]);
        const int id = int(out[j + 2]);
        const qsizetype at = qsizetype(out[j + 3]);
        if (i < 0 || i >= n)
            continue;
        Transform::Outcome &o = *outcomes[size_t(i)];
        if (o.result != Result::Ok)
            continue; // a timeout or an invalid output: none of the event's outputs count
        const SqlOp op = code == 0 ? SqlOp::Upsert : code == 1 ? SqlOp::Insert : SqlOp::Delete;
        if (rows && code != 3 && !mixed[size_t(i)]) {
            if (o.rowCount == 0)
                o.firstRow = qint32(rows->outputs.size());
            ++o.rowCount;
            addRow(build, id, op, at, dv, valueCount);
            continue;
        }
        SinkOutput so;
        if (code != 3) {
            so.seq = seqs[size_t(i)];
            flatOutput(build, id, op, at, dv, valueCount, &table, &tableUtf8, &so);
        } else {
            // An output that is not plain is read here, after the runner:
            // its getters, toString and toJSON are the user's code, so the
            // reading has the event's time limit too.
            guard.begin(timeoutMs);
            const bool ok = output(items.property(quint32(out[j + 4])), seqs[size_t(i)], &so, &o.error);
            const bool fired = guard.end();
            if (guard.cancelled())
                return; // runRun() reports the whole run as cancelled
            if (fired) {
                o.result = guard.heapExceeded() ? Result::Error : Result::Timeout;
                o.error = guard.heapExceeded()
                              ? heapError(seqs[size_t(i)])
                              : u"event #%1: reading the transform's output took longer than %2 ms and was interrupted "
                                u"(a getter, toString or toJSON in it)"_s.arg(seqs[size_t(i)]).arg(timeoutMs);
                if (guard.heapExceeded())
                    engine.collectGarbage();
                o.outputs.clear();
                if (stopAtFailure) {
                    for (qsizetype later = i + 1; later < n; ++later)
                        notRun(outcomes[size_t(later)]);
                }
                continue;
            }
            if (!ok) {
                o.result = Result::Error;
                o.outputs.clear();
                continue;
            }
        }
        o.outputs.append(std::move(so));
    }
    if (rows)
        build.end();
}

void Transform::Private::readOutShapes()
{
    const QJSValue shapesIn = io.property(u"newShapes"_s);
    const int shapeCount = shapesIn.property(u"length"_s).toInt();
    for (int j = 0; j + 2 < shapeCount; j += 3) {
        const int id = shapesIn.property(quint32(j)).toInt();
        if (size_t(id) >= outShapes.size())
            outShapes.resize(size_t(id) + 1);
        outShapes[size_t(id)] = OutShape{engine.fromScriptValue<QStringList>(shapesIn.property(quint32(j + 1))),
                                         engine.fromScriptValue<QStringList>(shapesIn.property(quint32(j + 2)))};
    }
}

void Transform::Private::readErrors(std::span<const qint64> seqs, std::span<Transform::Outcome *const> outcomes)
{
    const qsizetype n = qsizetype(outcomes.size());
    const QVariantList errs = io.property(u"errs"_s).toVariant().toList();
    for (qsizetype j = 0; j + 2 < errs.size(); j += 3) {
        const qsizetype i = errs[j].toInt();
        if (i < 0 || i >= n)
            continue;
        Transform::Outcome &o = *outcomes[size_t(i)];
        o.result = Result::Error;
        o.errorLine = line(errs[j + 2].toInt());
        o.error = u"event #%1: transform threw %2"_s.arg(seqs[size_t(i)]).arg(errs[j + 1].toString());
        if (o.errorLine > 0)
            o.error += u" (%1:%2)"_s.arg(fileName).arg(o.errorLine);
    }
}

// The values: per value two numbers (a string's UTF-8 length and where
// it starts in *bytes; -1 null or undefined, -2 true, -3 false,
// -4 and the number, -5 anything else). The strings' UTF-8 go one after the
// other (numbers' text goes after them, see addRow()).
std::vector<double> Transform::Private::describeValues(const QVariantList &values, QByteArray *bytes)
{
    std::vector<double> descriptors(size_t(2 * values.size()));
    qsizetype bound = 0;
    for (const QVariant &v : values) {
        if (v.typeId() == QMetaType::QString)
            bound += 3 * static_cast<const QString *>(v.constData())->size();
    }
    bytes->resize(bound);
    char *const utf8 = bytes->data();
    char *w = utf8;
    QStringEncoder encoder(QStringEncoder::Utf8, QStringEncoder::Flag::Stateless);
    for (qsizetype j = 0; j < values.size(); ++j) {
        const QVariant &v = values[j];
        double *d = descriptors.data() + 2 * j;
        switch (v.typeId()) {
        case QMetaType::QString: {
            const QString &text = *static_cast<const QString *>(v.constData());
            if (text.size() == notPlain().size() && (text.constData() == notPlain().constData() || text == notPlain())) {
                d[0] = -5;
                break;
            }
            char *const start = w;
            w = encoder.appendToBuffer(w, text);
            d[0] = double(w - start);
            d[1] = double(start - utf8);
            break;
        }
        case QMetaType::Bool:
            d[0] = v.toBool() ? -2 : -3;
            break;
        case QMetaType::Int:
        case QMetaType::UInt:
        case QMetaType::LongLong:
        case QMetaType::ULongLong:
        case QMetaType::Double:
            d[0] = -4;
            d[1] = v.toDouble();
            break;
        case QMetaType::UnknownType: // undefined
        case QMetaType::Nullptr:
            d[0] = -1;
            break;
        default:
            d[0] = -5; // not plain: the output goes by output()
        }
        if (d[0] == -4 && !std::isfinite(d[1]))
            d[0] = -5;
    }
    bytes->resize(w - utf8);
    return descriptors;
}

// An output with a value that is not plain goes by output() (code 3), as
// one the script did not flatten.
std::vector<char> Transform::Private::markNotPlain(double *out, qsizetype outCount, const double *dv, qsizetype valueCount,
                                                   qsizetype events) const
{
    std::vector<char> mixed(size_t(events), 0);
    for (qsizetype j = 0; j + 4 < outCount; j += 5) {
        const int id = int(out[j + 2]);
        const qsizetype at = qsizetype(out[j + 3]);
        if (int(out[j + 1]) != 3) {
            const qsizetype end = id >= 0 && size_t(id) < outShapes.size()
                                      ? at + 1 + outShapes[size_t(id)].key.size() + outShapes[size_t(id)].row.size()
                                      : valueCount + 1;
            bool plain = end <= valueCount;
            for (qsizetype v = at; v < end && plain; ++v)
                plain = dv[2 * v] != -5;
            if (!plain)
                out[j + 1] = 3;
        }
        const qsizetype i = qsizetype(out[j]);
        if (i >= 0 && i < events && int(out[j + 1]) == 3)
            mixed[size_t(i)] = 1;
    }
    return mixed;
}

void Transform::Private::flatOutput(const RowsBuild &build, int id, SqlOp op, qsizetype at, const double *dv, qsizetype valueCount,
                                    QString *table, QByteArray *tableUtf8, SinkOutput *so) const
{
    // Value `at`, as sqlValue() converts it.
    auto value = [&](qsizetype v, SinkValue *into) { flatValue(dv, valueCount, build.bytes, v, into); };
    const OutShape &shape = outShapes.at(size_t(id));
    const QByteArrayView name = at < valueCount && dv[2 * at] >= 0
                                    ? QByteArrayView(build.bytes.constData() + qsizetype(dv[2 * at + 1]), qsizetype(dv[2 * at]))
                                    : QByteArrayView();
    ++at;
    if (*tableUtf8 != name) {
        *tableUtf8 = name.toByteArray();
        *table = QString::fromUtf8(name);
    }
    so->table = *table;
    so->op = op;
    so->key.resize(shape.key.size());
    for (qsizetype c = 0; c < shape.key.size(); ++c) {
        so->key[c].name = shape.key[c];
        value(at++, &so->key[c].value);
    }
    so->row.resize(shape.row.size());
    for (qsizetype c = 0; c < shape.row.size(); ++c) {
        so->row[c].name = shape.row[c];
        value(at++, &so->row[c].value);
    }
    keyIntoRow(so);
}

void Transform::Private::RowsBuild::begin(Transform::Rows *r)
{
    rows = r;
    firstCell = rows->cells.size();
    offsets.clear();
}

void Transform::Private::RowsBuild::end()
{
    auto owner = std::make_shared<const QByteArray>(std::move(bytes));
    const char *base = owner->constData();
    for (size_t k = 0; k < offsets.size(); ++k) {
        if (offsets[k] >= 0)
            rows->cells[firstCell + k].data = base + offsets[k];
    }
    rows->owners.push_back(std::move(owner));
}

void Transform::Private::addRow(RowsBuild &build, int id, SqlOp op, qsizetype at, const double *dv, qsizetype valueCount)
{
    Transform::Rows &rows = *build.rows;
    auto kind = [&](qsizetype v) { return v < valueCount ? dv[2 * v] : -1.0; };
    const QByteArrayView name = kind(at) >= 0 ? QByteArrayView(build.bytes.constData() + qsizetype(dv[2 * at + 1]), qsizetype(dv[2 * at]))
                                              : QByteArrayView();
    const quint32 t = rowsTable(name, rows);
    const RowsShape &rs = rowsShape(build, t, id, op, at, dv, valueCount);
    rows.outputs.push_back(Transform::Rows::Output{quint32(rows.cells.size()), quint32(rows.owners.size()), t, quint32(rs.shape), op});
    for (const int source : rs.sources) {
        const qsizetype v = at + source;
        const double d = kind(v);
        SqlCell cell;
        qsizetype offset = -1;
        if (d >= 0) {
            offset = qsizetype(dv[2 * v + 1]);
            cell.size = qint32(d);
        } else if (d == -2 || d == -3) {
            static const char yes[] = "true", no[] = "false";
            cell.data = d == -2 ? yes : no;
            cell.size = d == -2 ? 4 : 5;
        } else if (d == -4) {
            SinkValue number;
            numberValue(dv[2 * v + 1], &number);
            offset = build.bytes.size();
            build.bytes += *number.text;
            cell.size = qint32(number.text->size());
        }
        rows.cells.push_back(cell);
        build.offsets.push_back(offset);
    }
}

quint32 Transform::Private::rowsTable(QByteArrayView name, Transform::Rows &rows)
{
    qsizetype t = tablesUtf8.empty() ? -1 : qsizetype(tablesUtf8.size()) - 1;
    if (t < 0 || tablesUtf8[size_t(t)] != name) {
        t = std::find(tablesUtf8.begin(), tablesUtf8.end(), name) - tablesUtf8.begin();
        if (t == qsizetype(tablesUtf8.size())) {
            tablesUtf8.push_back(name.toByteArray());
            rows.tables.append(QString::fromUtf8(name));
        }
    }
    return quint32(t);
}

// Per table: a table's types come from its own first output.
Transform::Private::RowsShape &Transform::Private::rowsShape(RowsBuild &build, quint32 table, int id, SqlOp op, qsizetype at,
                                                             const double *dv, qsizetype valueCount)
{
    if (rowsShapes.size() <= size_t(table))
        rowsShapes.resize(size_t(table) + 1);
    std::vector<RowsShape> &ofTable = rowsShapes[size_t(table)];
    const size_t slot = size_t(id) * 2 + (op == SqlOp::Upsert ? 1 : 0);
    if (ofTable.size() <= slot)
        ofTable.resize(slot + 1);
    RowsShape &rs = ofTable[slot];
    if (rs.shape >= 0)
        return rs;
    const OutShape &shape = outShapes.at(size_t(id));
    const qsizetype keys = shape.key.size();
    Transform::Rows::Shape sh;
    rs.sources.clear();
    auto typeOf = [&](qsizetype v) {
        SinkValue value;
        flatValue(dv, valueCount, build.bytes, v, &value);
        return value.type.toUtf8();
    };
    auto column = [&](const QString &n, qsizetype source) {
        sh.names.push_back(n.toUtf8());
        sh.types.push_back(typeOf(at + source));
        rs.sources.push_back(int(source));
    };
    // As keyIntoRow(): key columns the row lacks, each put first.
    if (op == SqlOp::Upsert) {
        for (qsizetype k = keys - 1; k >= 0; --k) {
            bool inRow = false;
            for (qsizetype c = 0; c < shape.row.size() && !inRow; ++c)
                inRow = shape.row[c] == shape.key[k];
            if (!inRow)
                column(shape.key[k], 1 + k); // (names of an object's keys are distinct)
        }
    }
    for (qsizetype c = 0; c < shape.row.size(); ++c)
        column(shape.row[c], 1 + keys + c);
    sh.columns = int(sh.names.size());
    for (qsizetype k = 0; k < keys; ++k)
        column(shape.key[k], 1 + k);
    sh.keys = int(keys);
    for (size_t c = 0; c < sh.names.size(); ++c) {
        sh.nameViews.push_back(sh.names[c]);
        sh.typeViews.push_back(sh.types[c]);
    }
    rs.shape = int(build.rows->shapes.size());
    build.rows->shapes.push_back(std::move(sh));
    return rs;
}

void Transform::Private::keyIntoRow(SinkOutput *out)
{
    if (out->op != SqlOp::Upsert)
        return;
    for (const SinkField &k : std::as_const(out->key)) {
        const bool inRow = std::any_of(out->row.cbegin(), out->row.cend(), [&](const SinkField &f) { return f.name == k.name; });
        if (!inRow)
            out->row.prepend(k);
    }
}

bool Transform::Private::output(const QJSValue &v, qint64 seq, SinkOutput *out, QString *error)
{
    if (!v.isObject() || v.isArray() || v.isCallable()) {
        *error = outputError(seq, u"expected an object with \"table\" (SQL) or \"topic\" (Kafka), got %1"_s
                                      .arg(v.isArray() ? u"a nested array"_s : v.toString()));
        return false;
    }
    out->seq = seq;
    const QJSValue table = v.property(u"table"_s);
    const QJSValue topic = v.property(u"topic"_s);
    if (!table.isUndefined())
        return sqlOutput(v, table, seq, out, error);
    if (!topic.isUndefined())
        return kafkaOutput(v, topic, seq, out, error);
    *error = outputError(seq, u"expected an object with \"table\" (SQL) or \"topic\" (Kafka)"_s);
    return false;
}

bool Transform::Private::sqlOutput(const QJSValue &v, const QJSValue &table, qint64 seq, SinkOutput *out, QString *error)
{
    QString why;
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
    keyIntoRow(out);
    return true;
}

bool Transform::Private::kafkaOutput(const QJSValue &v, const QJSValue &topic, qint64 seq, SinkOutput *out, QString *error)
{
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
        for (const QString &name : ownKeys(headers))
            out->headers.append(Header{name.toUtf8(), bytes(headers.property(name))});
    }
    return true;
}

void Transform::Rows::clear()
{
    outputs.clear();
    cells.clear();
    owners.clear();
    tables.clear();
    shapes.clear();
}

SinkOutput Transform::Rows::output(size_t k, qint64 seq) const
{
    const Output &o = outputs.at(k);
    const Shape &sh = shapes.at(o.shape);
    SinkOutput out;
    out.seq = seq;
    out.table = tables.at(o.table);
    out.op = o.op;
    const SqlCell *c = cells.data() + o.firstCell;
    for (int i = 0; i < sh.columns + sh.keys; ++i) {
        SinkField f{QString::fromUtf8(sh.names[size_t(i)]), SinkValue{c[i].toByteArray(), QString::fromUtf8(sh.types[size_t(i)])}};
        (i < sh.columns ? out.row : out.key).append(std::move(f));
    }
    return out;
}

} // namespace tapedeck
