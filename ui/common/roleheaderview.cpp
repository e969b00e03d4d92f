#include "ui/common/roleheaderview.h"

#include <QPainter>

namespace tapedeck {

RoleHeaderView::RoleHeaderView(Qt::Orientation orientation, int boldRole, QWidget *parent)
    : QHeaderView(orientation, parent)
    , m_boldRole(boldRole)
{
    // As QTableView's own header.
    setSectionsClickable(true);
    setHighlightSections(true);
}

QFont RoleHeaderView::sectionFont(int logicalIndex) const
{
    // The application font, as a model's Qt::FontRole of QFont() gave it.
    QFont f;
    if (model() && model()->headerData(logicalIndex, orientation(), m_boldRole).toBool())
        f.setBold(true);
    else
        f = font();
    return f;
}

void RoleHeaderView::paintSection(QPainter *painter, const QRect &rect, int logicalIndex) const
{
    if (!model() || !model()->headerData(logicalIndex, orientation(), m_boldRole).toBool()) {
        QHeaderView::paintSection(painter, rect, logicalIndex);
        return;
    }
    painter->save();
    QFont bold; // as sectionFont() gives it, without asking the model twice
    bold.setBold(true);
    painter->setFont(bold);
    QHeaderView::paintSection(painter, rect, logicalIndex);
    painter->restore();
}

} // namespace tapedeck
