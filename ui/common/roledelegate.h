#pragma once

#include "ui/common/palette.h"

#include <QList>
#include <QStyledItemDelegate>

namespace tapedeck {

// Draws what a model says by its semantic roles: each rule names a boolean
// model role and, for the items where it is true, a palette colour for the
// text or the background, and an italic or bold font. Models name states
// (TombstoneRole, ChangedRole …); this is where they get their looks.
// Thread: GUI thread.
class RoleDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    enum class Font { Unchanged, Italic, Bold };
    struct Rule
    {
        int modelRole = -1;
        Palette::Role color = Palette::Role::Count; // Count: no colour
        bool background = false;                    // fill the item (unless selected) instead of colouring its text
        Font font = Font::Unchanged;
        int column = -1;                            // -1: every column
    };

    using QStyledItemDelegate::QStyledItemDelegate;

    // Rules apply in order; the first matching one with a colour gives the
    // text colour (or the background), fonts add up.
    void addRule(const Rule &rule) { m_rules.append(rule); }

    // The option an item is drawn with (its font and text colour): what tests check.
    QStyleOptionViewItem styleOption(const QModelIndex &index) const;

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override;

private:
    bool matches(const Rule &rule, const QModelIndex &index) const;

    QList<Rule> m_rules;
};

} // namespace tapedeck
