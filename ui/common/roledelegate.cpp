#include "ui/common/roledelegate.h"

#include <QPainter>

namespace tapedeck {

bool RoleDelegate::matches(const Rule &rule, const QModelIndex &index) const
{
    return (rule.column < 0 || rule.column == index.column()) && index.data(rule.modelRole).toBool();
}

QStyleOptionViewItem RoleDelegate::styleOption(const QModelIndex &index) const
{
    QStyleOptionViewItem option;
    initStyleOption(&option, index);
    return option;
}

void RoleDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    // A fill under the item, as the state view always drew it: the selection keeps its own colour.
    if (!(option.state & QStyle::State_Selected)) {
        for (const Rule &rule : m_rules) {
            if (rule.background && rule.color != Palette::Role::Count && matches(rule, index)) {
                painter->fillRect(option.rect, Palette::color(rule.color));
                break;
            }
        }
    }
    QStyledItemDelegate::paint(painter, option, index);
}

void RoleDelegate::initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const
{
    QStyledItemDelegate::initStyleOption(option, index);
    bool coloured = false, fontChanged = false;
    for (const Rule &rule : m_rules) {
        if (!matches(rule, index))
            continue;
        if (!rule.background && rule.color != Palette::Role::Count && !coloured) {
            // Where QStyledItemDelegate puts a model's Qt::ForegroundRole.
            option->palette.setBrush(QPalette::Text, Palette::color(rule.color));
            coloured = true;
        }
        if (rule.font == Font::Italic)
            option->font.setItalic(true);
        else if (rule.font == Font::Bold)
            option->font.setBold(true);
        fontChanged = fontChanged || rule.font != Font::Unchanged;
    }
    if (fontChanged)
        option->fontMetrics = QFontMetrics(option->font);
}

} // namespace tapedeck
