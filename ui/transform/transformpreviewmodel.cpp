#include "ui/transform/transformpreviewmodel.h"

#include "ui/common/roledelegate.h"
#include "ui/common/valueformat.h"

#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

QString bytes(const std::optional<QByteArray> &b)
{
    return b ? ValueFormat::preview(*b, 120) : u"null"_s;
}

QString compact(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

} // namespace

TransformPreviewModel::TransformPreviewModel(QObject *parent) : QAbstractTableModel(parent)
{
}

void TransformPreviewModel::setPreview(const TransformPreview &preview)
{
    beginResetModel();
    m_preview = preview;
    endResetModel();
}

const PreviewEvent *TransformPreviewModel::eventAt(int row) const
{
    return row >= 0 && row < m_preview.events.size() ? &m_preview.events[row] : nullptr;
}

int TransformPreviewModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_preview.events.size());
}

int TransformPreviewModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString TransformPreviewModel::statusName(PreviewEvent::Status status)
{
    switch (status) {
    case PreviewEvent::Status::Outputs: return u"outputs"_s;
    case PreviewEvent::Status::Dropped: return u"dropped"_s;
    case PreviewEvent::Status::Threw: return u"threw"_s;
    case PreviewEvent::Status::Timeout: return u"timeout"_s;
    case PreviewEvent::Status::Invalid: return u"invalid output"_s;
    case PreviewEvent::Status::NotRun: return u"not run"_s;
    }
    return {};
}

QString TransformPreviewModel::eventSummary(const Event &e)
{
    if (e.isChange()) {
        QStringList cols;
        const Row &row = e.newRow.isEmpty() ? e.oldRow : e.newRow;
        for (const tapedeck::Column &c : row)
            cols << c.name + u'=' + (c.value ? QString::fromUtf8(*c.value) : u"null"_s);
        return u"%1 %2 %3"_s.arg(toString(e.operation), e.topic, cols.join(u' '));
    }
    return u"%1/%2@%3 %4 → %5"_s.arg(e.topic).arg(e.partition).arg(e.position).arg(bytes(e.key), bytes(e.value));
}

QString TransformPreviewModel::resultSummary(const PreviewEvent &e)
{
    switch (e.status) {
    case PreviewEvent::Status::Outputs: {
        QStringList parts;
        for (const SinkOutput &out : e.outputs)
            parts << compact(outputToJson(out));
        return parts.join(u"  "_s);
    }
    case PreviewEvent::Status::Dropped: return u"(dropped)"_s;
    case PreviewEvent::Status::NotRun: return e.error.isEmpty() ? u"(not run)"_s : e.error;
    default: break;
    }
    return e.error;
}

QVariant TransformPreviewModel::data(const QModelIndex &index, int role) const
{
    const PreviewEvent *e = eventAt(index.row());
    if (!e || !index.isValid())
        return {};
    const bool failed = e->status == PreviewEvent::Status::Threw || e->status == PreviewEvent::Status::Timeout
                        || e->status == PreviewEvent::Status::Invalid;
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case SeqColumn: return e->seq;
        case EventColumn: return eventSummary(e->event);
        case ResultColumn: return resultSummary(*e);
        }
        break;
    case Qt::ToolTipRole:
        if (index.column() == ResultColumn)
            return QString(statusName(e->status) + (e->error.isEmpty() ? QString() : u": "_s + e->error));
        break;
    case Qt::TextAlignmentRole:
        if (index.column() == SeqColumn)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case StatusRole: return int(e->status);
    case SeqRole: return e->seq;
    case ErrorLineRole: return e->errorLine;
    case FailedRole: return failed;
    case NoOutputRole: return !failed && e->status != PreviewEvent::Status::Outputs;
    }
    return {};
}

QStyledItemDelegate *TransformPreviewModel::createDelegate(QObject *parent)
{
    auto *delegate = new RoleDelegate(parent);
    delegate->addRule({FailedRole, Palette::Role::PreviewFailed, false, RoleDelegate::Font::Unchanged, ResultColumn});
    delegate->addRule({NoOutputRole, Palette::Role::PreviewNoOutput, false, RoleDelegate::Font::Unchanged, ResultColumn});
    return delegate;
}

QVariant TransformPreviewModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case SeqColumn: return u"#"_s;
    case EventColumn: return u"Event (before)"_s;
    case ResultColumn: return u"Outputs (after)"_s;
    }
    return {};
}

} // namespace tapedeck
