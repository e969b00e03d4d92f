#pragma once

#include <QHeaderView>

namespace tapedeck {

// A header whose sections are bold where the model's headerData() says
// `boldRole` (e.g. StateModel::KeyColumnRole): the model names the key
// columns, the header chooses the font. Thread: GUI thread.
class RoleHeaderView : public QHeaderView
{
    Q_OBJECT
public:
    RoleHeaderView(Qt::Orientation orientation, int boldRole, QWidget *parent = nullptr);

    // The font a section is drawn in.
    QFont sectionFont(int logicalIndex) const;

protected:
    void paintSection(QPainter *painter, const QRect &rect, int logicalIndex) const override;

private:
    int m_boldRole;
};

} // namespace tapedeck
