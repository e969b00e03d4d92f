#pragma once

#include "core/transform/transformpreview.h"

#include <QAbstractTableModel>

class QStyledItemDelegate;

namespace tapedeck {

// The live preview's rows: one per previewed event, the event on the left
// and what the transform made of it on the right (outputs, "dropped", or the
// error). Thread: GUI thread.
class TransformPreviewModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { SeqColumn, EventColumn, ResultColumn, ColumnCount };
    enum Role {
        StatusRole = Qt::UserRole + 1, // int: PreviewEvent::Status
        SeqRole,
        ErrorLineRole,
        FailedRole,                    // bool: the transform threw, timed out or returned something invalid
        NoOutputRole,                  // bool: it ran but wrote no outputs (dropped)
    };

    explicit TransformPreviewModel(QObject *parent = nullptr);

    void setPreview(const TransformPreview &preview);
    const TransformPreview &preview() const { return m_preview; }
    const PreviewEvent *eventAt(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // One-line texts, shared with the tests.
    static QString eventSummary(const Event &event);
    static QString resultSummary(const PreviewEvent &event);
    static QString statusName(PreviewEvent::Status status);
    // The looks of FailedRole and NoOutputRole in the result column (the palette's PreviewFailed, PreviewNoOutput).
    static QStyledItemDelegate *createDelegate(QObject *parent);

private:
    TransformPreview m_preview;
};

} // namespace tapedeck
