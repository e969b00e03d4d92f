#include "core/transform/transformpreview.h"

#include "core/tape/tape.h"

#include <QJsonArray>
#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

QJsonValue text(const std::optional<QByteArray> &bytes)
{
    return bytes ? QJsonValue(QString::fromUtf8(*bytes)) : QJsonValue(QJsonValue::Null);
}

QJsonObject rowJson(const Row &row)
{
    QJsonObject o;
    for (const Column &c : row)
        o.insert(c.name, c.unchangedToast ? QJsonValue(u"(unchanged TOAST)"_s) : text(c.value));
    return o;
}

QJsonObject fieldsJson(const QList<SinkField> &fields)
{
    QJsonObject o;
    for (const SinkField &f : fields)
        o.insert(f.name, text(f.value.text));
    return o;
}

QString opName(SqlOp op)
{
    switch (op) {
    case SqlOp::Upsert: return u"upsert"_s;
    case SqlOp::Insert: return u"insert"_s;
    case SqlOp::Delete: return u"delete"_s;
    }
    return {};
}

} // namespace

int TransformPreview::count(PreviewEvent::Status status) const
{
    return int(std::count_if(events.cbegin(), events.cend(), [&](const PreviewEvent &e) { return e.status == status; }));
}

QJsonObject eventToJson(const Event &e)
{
    QJsonObject o{{u"kind"_s, toString(e.kind)}, {u"topic"_s, e.topic}, {u"partition"_s, e.partition},
                  {u"position"_s, QString::number(e.position)}, {u"timestamp"_s, double(e.timestampMs())},
                  {u"op"_s, toString(e.operation)}};
    if (e.isChange()) {
        if (!e.primaryKey.isEmpty())
            o.insert(u"primaryKey"_s, QJsonArray::fromStringList(e.primaryKey));
        o.insert(u"old"_s, e.oldRow.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(rowJson(e.oldRow)));
        o.insert(u"new"_s, e.newRow.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(rowJson(e.newRow)));
    } else {
        o.insert(u"key"_s, text(e.key));
        o.insert(u"value"_s, text(e.value));
        if (!e.headers.isEmpty()) {
            QJsonObject h;
            for (const Header &x : e.headers)
                h.insert(QString::fromUtf8(x.name), text(x.value));
            o.insert(u"headers"_s, h);
        }
    }
    return o;
}

QJsonObject outputToJson(const SinkOutput &out)
{
    QJsonObject o;
    if (out.kind == SinkOutput::Kind::Sql) {
        o.insert(u"table"_s, out.table);
        o.insert(u"op"_s, opName(out.op));
        if (!out.key.isEmpty())
            o.insert(u"key"_s, fieldsJson(out.key));
        if (!out.row.isEmpty())
            o.insert(u"row"_s, fieldsJson(out.row));
        return o;
    }
    o.insert(u"topic"_s, out.topic);
    if (out.partition >= 0)
        o.insert(u"partition"_s, out.partition);
    o.insert(u"key"_s, text(out.kafkaKey));
    o.insert(u"value"_s, text(out.kafkaValue));
    if (!out.headers.isEmpty()) {
        QJsonObject h;
        for (const Header &x : out.headers)
            h.insert(QString::fromUtf8(x.name), text(x.value));
        o.insert(u"headers"_s, h);
    }
    return o;
}

QByteArray outputJsonLine(const SinkOutput &out)
{
    QJsonObject o = outputToJson(out);
    o.insert(u"seq"_s, out.seq);
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

TransformPreview runTransformPreview(const Tape &tape, const PreviewRequest &request, const std::function<bool()> &cancelled)
{
    TransformPreview preview;
    Transform transform;
    transform.setTimeoutMs(request.timeoutMs);
    qint64 consoleTotal = 0;
    transform.setConsoleCallback([&](qint64 seq, Transform::ConsoleLevel level, const QString &line) {
        if (++consoleTotal > TransformPreview::MaxConsoleLines)
            ++preview.consoleDropped;
        else
            preview.console.append(PreviewConsoleLine{seq, level, line});
    });
    QString error;
    const bool compiled = transform.compile(request.source, request.fileName, request.context, &error);
    if (!compiled) {
        preview.compileError = error;
        preview.compileErrorLine = transform.lastErrorLine();
    }
    int timeouts = 0;
    for (const qint64 seq : request.seqs) {
        if (cancelled && cancelled())
            break;
        PreviewEvent p;
        p.seq = seq;
        if (!tape.event(seq, &p.event, &error)) {
            p.error = error;
            preview.events.append(std::move(p));
            continue;
        }
        if (!compiled || timeouts >= TransformPreview::MaxTimeouts) {
            preview.events.append(std::move(p));
            continue;
        }
        switch (transform.run(p.event, seq, &p.outputs, &p.error)) {
        case Transform::Result::Ok:
            p.status = p.outputs.isEmpty() ? PreviewEvent::Status::Dropped : PreviewEvent::Status::Outputs;
            break;
        case Transform::Result::Timeout:
            p.status = PreviewEvent::Status::Timeout;
            ++timeouts;
            break;
        case Transform::Result::Error:
            p.errorLine = transform.lastErrorLine();
            p.status = p.error.contains(u": transform threw "_s) ? PreviewEvent::Status::Threw : PreviewEvent::Status::Invalid;
            break;
        case Transform::Result::Cancelled:
        case Transform::Result::NotRun: // never without setStopAtFailure()
            break;
        }
        preview.events.append(std::move(p));
    }
    if (timeouts >= TransformPreview::MaxTimeouts) {
        const int notRun = preview.count(PreviewEvent::Status::NotRun);
        if (notRun > 0)
            preview.note = u"%1 events timed out; the other %2 were not run"_s.arg(timeouts).arg(notRun);
    }
    return preview;
}

} // namespace tapedeck
