#include "ui/timeline/timelinerenderer.h"

#include "core/event/event.h"
#include "core/timeline/timelineaggregates.h"
#include "core/timeline/timelinemarks.h"
#include "ui/common/palette.h"

#include <QFontMetrics>
#include <QPainter>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

// The palette's current set, asked for at each paint (a palette change repaints).
QColor c(Palette::Role role)
{
    return Palette::color(role);
}


QRect laneRect(const TimelineRenderer::Layout &l, const TimelineRow &row, int scrollY)
{
    return {l.lanes.left(), l.lanes.top() + row.y - scrollY, l.lanes.width(), row.height};
}

bool rowSelected(const TimelineScene &scene, const TimelineRow &row)
{
    if (scene.selection.streams.isEmpty())
        return true;
    return std::any_of(row.streams.cbegin(), row.streams.cend(),
                       [&](quint32 s) { return scene.selection.includesStream(s); });
}

QString compactCount(double v)
{
    if (v >= 1e6)
        return QString::number(v / 1e6, 'f', 1) + u'M';
    if (v >= 1e4)
        return QString::number(v / 1e3, 'f', 0) + u'k';
    if (v >= 1e3)
        return QString::number(v / 1e3, 'f', 1) + u'k';
    if (v < 10 && std::abs(v - std::round(v)) > 0.05)
        return QString::number(v, 'f', 1);
    return QString::number(qint64(std::llround(v)));
}

} // namespace

TimelineRenderer::Layout TimelineRenderer::layout(QSize size)
{
    Layout l;
    const int w = size.width(), h = size.height();
    const int labelW = std::min(LabelWidth, std::max(60, w / 4));
    l.corner = QRect(0, 0, labelW, AxisHeight);
    l.axis = QRect(labelW, 0, std::max(1, w - labelW), AxisHeight);
    l.overview = QRect(labelW, std::max(AxisHeight, h - OverviewHeight), std::max(1, w - labelW), OverviewHeight);
    l.labels = QRect(0, AxisHeight, labelW, std::max(0, l.overview.top() - AxisHeight));
    l.lanes = QRect(labelW, AxisHeight, std::max(1, w - labelW), std::max(0, l.overview.top() - AxisHeight));
    return l;
}

bool TimelineRenderer::usesMarks(const TimelineScene &scene)
{
    return scene.marks && scene.marks->covers(scene.axis, scene.visible);
}

QColor TimelineRenderer::densityColor()
{
    return c(Palette::Role::TimelineDensity);
}

QColor TimelineRenderer::specialColor()
{
    return c(Palette::Role::TimelineSpecial);
}

QColor TimelineRenderer::keyColor(quint32 keyHash)
{
    if (keyHash == 0)
        return c(Palette::Role::TimelineNullKey);
    const quint32 h = keyHash * 2654435761u; // spread similar hashes apart
    return QColor::fromHsv(int(h % 360), 140 + int((h >> 9) % 90), 150 + int((h >> 17) % 70));
}

QColor TimelineRenderer::operationColor(int operation)
{
    switch (Operation(operation)) {
    case Operation::Record: return c(Palette::Role::OperationRecord);
    case Operation::Insert: return c(Palette::Role::OperationInsert);
    case Operation::Update: return c(Palette::Role::OperationUpdate);
    case Operation::Delete: return c(Palette::Role::OperationDelete);
    case Operation::Truncate: return c(Palette::Role::OperationTruncate);
    case Operation::Begin:
    case Operation::Commit: return c(Palette::Role::OperationTransaction);
    case Operation::Message: return c(Palette::Role::OperationMessage);
    case Operation::Read: return c(Palette::Role::OperationRead);
    }
    return c(Palette::Role::OperationUnknown);
}

QColor TimelineRenderer::sizeColor(qint32 valueSize)
{
    // Viridis stops from small (yellow) to large (purple) on a log scale up to 1 MiB.
    const QColor stops[] = {c(Palette::Role::Size0), c(Palette::Role::Size1), c(Palette::Role::Size2),
                            c(Palette::Role::Size3), c(Palette::Role::Size4)};
    if (valueSize < 0)
        return c(Palette::Role::TimelineNullKey);
    const double t = std::clamp(std::log2(double(valueSize) + 1) / 20.0, 0.0, 1.0) * 4;
    const int i = std::min(3, int(t));
    const double f = t - i;
    const QColor &a = stops[i], &b = stops[i + 1];
    return QColor(int(a.red() + (b.red() - a.red()) * f), int(a.green() + (b.green() - a.green()) * f),
                  int(a.blue() + (b.blue() - a.blue()) * f));
}

QColor TimelineRenderer::markColor(const TimelineMark &mark, TimelineScene::ColorBy by)
{
    switch (by) {
    case TimelineScene::ColorBy::Key: return keyColor(mark.keyHash);
    case TimelineScene::ColorBy::Operation: return operationColor(mark.operation);
    case TimelineScene::ColorBy::Size: return sizeColor(mark.valueSize);
    }
    return c(Palette::Role::OperationUnknown);
}

void TimelineRenderer::paint(QPainter &p, QSize size, const TimelineScene &scene) const
{
    const Layout l = layout(size);
    p.save();
    p.fillRect(QRect(QPoint(0, 0), size), c(Palette::Role::TimelineBackground));
    paintRows(p, l, scene);
    paintAxis(p, l, scene);
    paintOverview(p, l, scene);
    // Corner: what the tick labels leave out.
    p.fillRect(l.corner, c(Palette::Role::TimelineRuler));
    p.setPen(c(Palette::Role::TimelineDim));
    QFont small = p.font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    p.setFont(small);
    const QString context = scene.axis == AxisKind::Time
        ? ticks::timeContext(AxisMapping(scene.visible, l.lanes.width()), scene.zone)
        : u"position (event #)"_s;
    p.drawText(l.corner.adjusted(6, 0, -4, 0), Qt::AlignVCenter | Qt::AlignLeft,
               QFontMetrics(small).elidedText(context, Qt::ElideRight, l.corner.width() - 10));
    p.setPen(c(Palette::Role::TimelineGrid));
    p.drawLine(l.labels.topRight(), l.labels.bottomRight());
    if (!scene.message.isEmpty()) {
        p.setPen(c(Palette::Role::TimelineDim));
        p.drawText(l.lanes, Qt::AlignCenter, scene.message);
    }
    p.restore();
}

void TimelineRenderer::paintAxis(QPainter &p, const Layout &l, const TimelineScene &scene) const
{
    p.fillRect(l.axis, c(Palette::Role::TimelineRuler));
    if (scene.visible.isEmpty())
        return;
    const AxisMapping m(scene.visible, l.lanes.width());
    ticks::Options o;
    o.charWidthPx = QFontMetrics(p.font()).horizontalAdvance(u"0123456789"_s) / 10.0;
    const QList<AxisTick> ts = scene.axis == AxisKind::Time ? ticks::timeTicks(m, scene.zone, o) : ticks::positionTicks(m, o);
    p.save();
    p.setClipRect(l.axis.united(l.lanes));
    for (const AxisTick &t : ts) {
        const int x = l.axis.left() + int(std::floor(t.x));
        if (x < l.axis.left() || x > l.axis.right())
            continue;
        if (t.major) {
            p.setPen(c(Palette::Role::TimelineDim));
            p.drawLine(x, l.axis.bottom() - 7, x, l.axis.bottom());
            p.setPen(c(Palette::Role::TimelineText));
            if (x + 3 + p.fontMetrics().horizontalAdvance(t.label) <= l.axis.right())
                p.drawText(QRect(x + 3, l.axis.top(), 200, l.axis.height() - 4), Qt::AlignLeft | Qt::AlignVCenter, t.label);
        } else {
            p.setPen(c(Palette::Role::TimelineDim));
            p.drawLine(x, l.axis.bottom() - 3, x, l.axis.bottom());
        }
    }
    p.setPen(c(Palette::Role::TimelineGrid));
    p.drawLine(l.axis.bottomLeft(), l.axis.bottomRight());
    // The selection on the ruler too.
    if (!scene.selection.isEmpty() && scene.selection.axis == scene.axis) {
        const double x0 = std::max(-1.0, m.toX(scene.selection.range.from));
        const double x1 = std::min(double(l.axis.width()) + 1, m.toX(scene.selection.range.to));
        if (x1 > x0)
            p.fillRect(QRectF(l.axis.left() + x0, l.axis.bottom() - 4, std::max(1.0, x1 - x0), 4), c(Palette::Role::TimelineSelectionEdge));
    }
    p.restore();
}

void TimelineRenderer::paintRows(QPainter &p, const Layout &l, const TimelineScene &scene) const
{
    const QList<AxisTick> gridTicks = majorTicks(p, l, scene);
    // The labels' metrics and bold face come from the painter's font as given.
    const QFontMetrics fm(p.font());
    QFont bold = p.font();
    bold.setBold(true);
    p.save();
    p.setClipRect(l.labels.united(l.lanes));
    for (int i = 0; i < scene.rows.size(); ++i) {
        const QRect r = laneRect(l, scene.rows[i], scene.scrollY);
        if (r.bottom() < l.lanes.top() || r.top() > l.lanes.bottom())
            continue;
        paintRow(p, l, scene, i, r, gridTicks, fm, bold);
    }
    // Selection, current event and hover line over the lanes.
    p.setClipRect(l.lanes);
    paintOverlays(p, l, scene);
    p.restore();
}

// The axis's major ticks: where the lanes get their grid lines.
QList<AxisTick> TimelineRenderer::majorTicks(QPainter &p, const Layout &l, const TimelineScene &scene) const
{
    QList<AxisTick> gridTicks;
    if (scene.visible.isEmpty())
        return gridTicks;
    const QFontMetrics fm(p.font());
    const AxisMapping m(scene.visible, l.lanes.width());
    ticks::Options o;
    o.charWidthPx = fm.horizontalAdvance(u"0123456789"_s) / 10.0;
    const QList<AxisTick> all = scene.axis == AxisKind::Time ? ticks::timeTicks(m, scene.zone, o) : ticks::positionTicks(m, o);
    for (const AxisTick &t : all) {
        if (t.major)
            gridTicks << t;
    }
    return gridTicks;
}

// One row: its label (with the group's arrow) and its lane (marks or density).
void TimelineRenderer::paintRow(QPainter &p, const Layout &l, const TimelineScene &scene, int i, QRect r,
                                const QList<AxisTick> &gridTicks, const QFontMetrics &fm, const QFont &bold) const
{
    const TimelineRow &row = scene.rows[i];
    const bool marks = usesMarks(scene);
    const QFont plain(p.font().family(), p.font().pointSize());
    const bool group = row.kind == TimelineRow::Kind::Group;
    const QRect label(l.labels.left(), r.top(), l.labels.width(), r.height());
    const QColor background = group ? c(Palette::Role::TimelineGroup)
                                    : (i % 2 ? c(Palette::Role::TimelineAlternate) : c(Palette::Role::TimelineBackground));
    p.fillRect(label, background);
    p.fillRect(r, background);
    // Grid lines under the data, so that they never cut through a mark.
    p.setPen(c(Palette::Role::TimelineGrid));
    for (const AxisTick &t : gridTicks)
        p.drawLine(l.lanes.left() + int(std::floor(t.x)), r.top(), l.lanes.left() + int(std::floor(t.x)), r.bottom());
    // Label column.
    p.setPen(c(Palette::Role::TimelineText));
    p.setFont(group ? bold : plain);
    int x = label.left() + 6 + row.depth * 14;
    if (group) {
        p.drawText(QRect(x, label.top(), 12, label.height()), Qt::AlignCenter, row.collapsed ? u"▸"_s : u"▾"_s);
        x += 14;
    }
    // Leave room at the right for the density scale.
    const int room = label.right() - x - (marks ? 4 : 64);
    p.drawText(QRect(x, label.top(), room, label.height()), Qt::AlignVCenter | Qt::AlignLeft,
               fm.elidedText(row.label, Qt::ElideMiddle, room));
    p.setFont(plain);
    // Lane.
    if (scene.aggregates && !scene.visible.isEmpty()) {
        if (marks)
            paintMarks(p, r, scene, row);
        else
            paintDensity(p, r, scene, row);
    }
    p.setPen(c(Palette::Role::TimelineGrid));
    p.drawLine(l.labels.left(), r.bottom(), l.lanes.right(), r.bottom());
}

void TimelineRenderer::paintOverlays(QPainter &p, const Layout &l, const TimelineScene &scene) const
{
    const AxisMapping m(scene.visible, l.lanes.width());
    if (!scene.selection.isEmpty() && scene.selection.axis == scene.axis) {
        const double x0 = std::max(-2.0, m.toX(scene.selection.range.from));
        const double x1 = std::min(double(l.lanes.width()) + 2, m.toX(scene.selection.range.to));
        if (x1 > x0) {
            for (const TimelineRow &row : scene.rows) {
                if (!rowSelected(scene, row))
                    continue;
                const QRect r = laneRect(l, row, scene.scrollY);
                p.fillRect(QRectF(r.left() + x0, r.top(), std::max(1.0, x1 - x0), r.height()), c(Palette::Role::TimelineSelection));
            }
            p.setPen(QPen(c(Palette::Role::TimelineSelectionEdge), 1));
            p.drawLine(QPointF(l.lanes.left() + x0, l.lanes.top()), QPointF(l.lanes.left() + x0, l.lanes.bottom()));
            p.drawLine(QPointF(l.lanes.left() + x1, l.lanes.top()), QPointF(l.lanes.left() + x1, l.lanes.bottom()));
        }
    }
    if (scene.currentAt >= 0 && scene.visible.contains(scene.currentAt)) {
        const double x = l.lanes.left() + m.toX(scene.currentAt);
        p.setPen(QPen(c(Palette::Role::TimelineCurrent), 1.5));
        p.drawLine(QPointF(x, l.lanes.top()), QPointF(x, l.lanes.bottom()));
    }
    if (scene.hoverX >= l.lanes.left() && scene.hoverX <= l.lanes.right()) {
        p.setPen(QPen(c(Palette::Role::TimelineHover), 1, Qt::DashLine));
        p.drawLine(scene.hoverX, l.lanes.top(), scene.hoverX, l.lanes.bottom());
    }
}

void TimelineRenderer::paintDensity(QPainter &p, QRect r, const TimelineScene &scene, const TimelineRow &row) const
{
    const int w = r.width();
    std::vector<float> counts(size_t(w), 0.f), special(size_t(w), 0.f);
    scene.aggregates->addColumns(scene.axis, row.streams, AxisMapping(scene.visible, w), counts.data(), special.data());
    const float max = *std::max_element(counts.cbegin(), counts.cend());
    if (max <= 0)
        return;
    const int top = r.top() + 3, height = r.height() - 6, bottom = top + height;
    const QColor base = densityColor(), red = specialColor();
    const QColor low = c(Palette::Role::TimelineHeatLow), high = c(Palette::Role::TimelineHeatHigh);
    if (scene.densityStyle == TimelineScene::DensityStyle::HeatStrip) {
        const double logMax = std::log1p(double(max));
        for (int c = 0; c < w;) {
            if (counts[size_t(c)] <= 0) {
                ++c;
                continue;
            }
            const int level = std::clamp(int(std::lround(std::log1p(double(counts[size_t(c)])) / logMax * 12)), 1, 12);
            int e = c + 1;
            while (e < w && special[size_t(e)] <= 0 && special[size_t(c)] <= 0 && counts[size_t(e)] > 0
                   && std::clamp(int(std::lround(std::log1p(double(counts[size_t(e)])) / logMax * 12)), 1, 12) == level)
                ++e;
            const double t = level / 12.0;
            const QColor color(int(low.red() + (high.red() - low.red()) * t), int(low.green() + (high.green() - low.green()) * t),
                               int(low.blue() + (high.blue() - low.blue()) * t));
            p.fillRect(QRect(r.left() + c, top, e - c, height), color);
            if (special[size_t(c)] > 0)
                p.fillRect(QRect(r.left() + c, bottom - 3, 1, 3), red);
            c = e;
        }
    } else {
        for (int c = 0; c < w;) {
            const float v = counts[size_t(c)];
            if (v <= 0) {
                ++c;
                continue;
            }
            const int h = std::max(1, int(std::lround(double(v) / double(max) * height)));
            int e = c + 1;
            if (special[size_t(c)] <= 0) {
                while (e < w && special[size_t(e)] <= 0 && counts[size_t(e)] > 0
                       && std::max(1, int(std::lround(double(counts[size_t(e)]) / double(max) * height))) == h)
                    ++e;
            }
            p.fillRect(QRect(r.left() + c, bottom - h, e - c, h), base);
            if (special[size_t(c)] > 0) {
                const int sh = std::clamp(int(std::lround(double(special[size_t(c)]) / double(v) * h)), 1, h);
                p.fillRect(QRect(r.left() + c, bottom - h, 1, sh), red);
            }
            c = e;
        }
    }
    // The scale, so that heights can be read.
    QFont f = p.font();
    f.setPointSizeF(f.pointSizeF() * 0.8);
    p.setFont(f);
    p.setPen(c(Palette::Role::TimelineDim));
    p.drawText(QRect(r.left() - 64, r.top(), 60, r.height()), Qt::AlignVCenter | Qt::AlignRight, compactCount(max) + u"/px"_s);
    f.setPointSizeF(f.pointSizeF() / 0.8);
    p.setFont(f);
}

void TimelineRenderer::paintMarks(QPainter &p, QRect r, const TimelineScene &scene, const TimelineRow &row) const
{
    const TimelineMarks &all = *scene.marks;
    const AxisMapping m(scene.visible, r.width());
    const double perPx = m.perPixel();
    const int top = r.top() + 5, height = r.height() - 9;
    // Brackets (transactions) first, under the marks.
    for (const TimelineBracket &b : all.brackets) {
        if (!row.streams.contains(b.stream) || b.to < scene.visible.from || b.from >= scene.visible.to)
            continue;
        const double x0 = r.left() + std::max(-2.0, m.toX(b.from)), x1 = r.left() + std::min(r.width() + 2.0, m.toX(b.to));
        QPen pen(b.aborted ? specialColor() : c(Palette::Role::TimelineBracket), 1.5, b.aborted ? Qt::DashLine : Qt::SolidLine);
        p.setPen(pen);
        const double y = r.top() + 2.5;
        p.drawLine(QPointF(x0, y), QPointF(std::max(x0 + 1, x1), y));
        if (!b.openStart)
            p.drawLine(QPointF(x0, y), QPointF(x0, r.bottom() - 2));
        if (!b.openEnd)
            p.drawLine(QPointF(x1, y), QPointF(x1, r.bottom() - 2));
    }
    for (quint32 stream : row.streams) {
        const auto begin = all.marks.cbegin() + all.begin(stream), end = all.marks.cbegin() + all.end(stream);
        auto lower = [&](auto from, qint64 v) {
            return std::lower_bound(from, end, v, [](const TimelineMark &mk, qint64 value) { return mk.at < value; });
        };
        auto it = lower(begin, scene.visible.from - qint64(std::ceil(perPx * 3)));
        // Gap to the next event decides the width: wide marks when there is room.
        while (it != end && it->at < scene.visible.to + qint64(perPx * 3)) {
            const double x = r.left() + m.toX(it->at);
            const int col = int(std::floor(x));
            const auto next = it + 1;
            const double gap = next != end ? (double(next->at - it->at) / perPx) : 8.0;
            const int mw = gap >= 8 ? 5 : (gap >= 4 ? 3 : 1);
            const QRect box(col - mw / 2, top, mw, height);
            const auto op = Operation(it->operation);
            const bool removal = it->isTombstone() || op == Operation::Delete;
            if (op == Operation::Begin || op == Operation::Commit || (it->flags & ControlRecord)) {
                p.fillRect(QRect(col, r.top() + 2, 1, r.height() - 4), c(Palette::Role::TimelineBracket));
            } else if (removal) {
                // Tombstones and deletes: a red outline with a cross, hollow.
                p.setPen(QPen(specialColor(), 1));
                p.setBrush(Qt::NoBrush);
                if (mw >= 3) {
                    p.drawRect(QRectF(box).adjusted(0.5, 0.5, -0.5, -0.5));
                    p.drawLine(box.topLeft(), box.bottomRight());
                } else {
                    p.fillRect(QRect(col, top, 1, height), specialColor());
                }
            } else {
                QColor color = markColor(*it, scene.colorBy);
                if (it->flags & Aborted)
                    color.setAlpha(90);
                p.fillRect(box, color);
            }
            if (!scene.dimmed.isEmpty()) {
                if (scene.isDimmed(it->seq)) {
                    p.fillRect(box, c(Palette::Role::TimelineCompacted)); // removed by compaction: washed out
                } else {
                    p.setPen(QPen(c(Palette::Role::TimelineSurvives), 1)); // survives: a green frame
                    p.setBrush(Qt::NoBrush);
                    p.drawRect(QRectF(box).adjusted(-1.5, -1.5, 1.5, 1.5));
                }
            }
            if (it->seq == scene.currentSeq) {
                p.setPen(QPen(c(Palette::Role::TimelineCurrent), 2));
                p.setBrush(Qt::NoBrush);
                p.drawRect(box.adjusted(-2, -2, 2, 2));
            }
            // At most one mark per pixel column: jump to the next column.
            it = lower(next, m.toValue(double(col - r.left() + 1)));
        }
    }
}

void TimelineRenderer::paintOverview(QPainter &p, const Layout &l, const TimelineScene &scene) const
{
    const QRect o = l.overview;
    p.fillRect(QRect(0, o.top(), o.right() + 1, o.height()), c(Palette::Role::TimelineRuler));
    p.setPen(c(Palette::Role::TimelineGrid));
    p.drawLine(0, o.top(), o.right(), o.top());
    p.setPen(c(Palette::Role::TimelineDim));
    p.drawText(QRect(6, o.top(), l.labels.width() - 10, o.height()), Qt::AlignVCenter | Qt::AlignLeft, u"whole tape"_s);
    if (!scene.aggregates || scene.data.isEmpty())
        return;
    const AxisRange all = axis::fitted(scene.data);
    const AxisMapping m(all, o.width());
    const int w = o.width();
    std::vector<float> counts(size_t(w), 0.f), special(size_t(w), 0.f);
    QList<quint32> streams;
    for (const TimelineRow &row : scene.rows)
        streams += row.streams;
    std::sort(streams.begin(), streams.end());
    streams.erase(std::unique(streams.begin(), streams.end()), streams.end());
    if (!streams.isEmpty())
        scene.aggregates->addColumns(scene.axis, streams, m, counts.data(), special.data());
    const float max = *std::max_element(counts.cbegin(), counts.cend());
    const int height = o.height() - 6, bottom = o.bottom() - 2;
    const QColor bar = c(Palette::Role::TimelineOverviewBar);
    if (max > 0) {
        for (int c = 0; c < w; ++c) {
            if (counts[size_t(c)] <= 0)
                continue;
            const int h = std::max(1, int(std::lround(std::sqrt(double(counts[size_t(c)]) / double(max)) * height)));
            p.fillRect(QRect(o.left() + c, bottom - h, 1, h), bar);
        }
    }
    // The visible window; outside it dimmed.
    const double x0 = std::clamp(m.toX(scene.visible.from), 0.0, double(w)), x1 = std::clamp(m.toX(scene.visible.to), 0.0, double(w));
    p.fillRect(QRectF(o.left(), o.top() + 1, x0, o.height() - 1), c(Palette::Role::TimelineOutside));
    p.fillRect(QRectF(o.left() + x1, o.top() + 1, w - x1, o.height() - 1), c(Palette::Role::TimelineOutside));
    p.setPen(QPen(c(Palette::Role::TimelineSelectionEdge), 1.5));
    p.setBrush(Qt::NoBrush);
    p.drawRect(QRectF(o.left() + x0, o.top() + 2, std::max(2.0, x1 - x0), o.height() - 4));
    if (!scene.selection.isEmpty() && scene.selection.axis == scene.axis) {
        const double s0 = std::clamp(m.toX(scene.selection.range.from), 0.0, double(w));
        const double s1 = std::clamp(m.toX(scene.selection.range.to), 0.0, double(w));
        p.fillRect(QRectF(o.left() + s0, o.top() + 1, std::max(1.0, s1 - s0), o.height() - 1), c(Palette::Role::TimelineSelection));
    }
}

TimelineRenderer::Hit TimelineRenderer::hitTest(QPoint pos, QSize size, const TimelineScene &scene, int tolerancePx)
{
    const Layout l = layout(size);
    Hit hit;
    if (l.corner.contains(pos)) {
        hit.area = Hit::Area::Corner;
        return hit;
    }
    if (l.overview.contains(pos) || (pos.y() >= l.overview.top() && pos.x() < l.overview.left())) {
        hit.area = Hit::Area::Overview;
        if (!scene.data.isEmpty())
            hit.value = AxisMapping(axis::fitted(scene.data), l.overview.width()).toValue(pos.x() - l.overview.left());
        return hit;
    }
    const AxisMapping m(scene.visible, l.lanes.width());
    hit.value = m.toValue(pos.x() - l.lanes.left());
    if (l.axis.contains(pos)) {
        hit.area = Hit::Area::Axis;
        return hit;
    }
    QList<TimelineRow> rows = scene.rows;
    const int rowIndex = TimelineLanes::rowAt(rows, pos.y() - l.lanes.top() + scene.scrollY);
    hit.row = rowIndex;
    if (l.labels.contains(pos)) {
        hit.area = Hit::Area::Label;
        return hit;
    }
    if (!l.lanes.contains(pos))
        return hit;
    hit.area = Hit::Area::Lanes;
    if (rowIndex < 0 || scene.visible.isEmpty())
        return hit;
    const TimelineRow &row = scene.rows[rowIndex];
    const double px = pos.x() - l.lanes.left();
    hit.columnRange = m.valuesOf(std::floor(px), std::floor(px) + 1);
    const bool expandedGroup = row.kind == TimelineRow::Kind::Group && !row.collapsed;
    if (usesMarks(scene) && !expandedGroup) {
        const TimelineMarks &all = *scene.marks;
        double best = tolerancePx + 0.5;
        for (quint32 stream : row.streams) {
            const auto begin = all.marks.cbegin() + all.begin(stream), end = all.marks.cbegin() + all.end(stream);
            const qint64 lo = m.toValue(px - tolerancePx - 1);
            for (auto it = std::lower_bound(begin, end, lo, [](const TimelineMark &mk, qint64 v) { return mk.at < v; });
                 it != end && m.toX(it->at) <= px + tolerancePx + 1; ++it) {
                const double d = std::abs(std::floor(m.toX(it->at)) - std::floor(px));
                if (d < best) {
                    best = d;
                    hit.mark = &*it;
                    hit.seq = it->seq;
                }
            }
        }
        return hit;
    }
    if (scene.aggregates) {
        float c = 0, s = 0;
        const AxisMapping one(hit.columnRange, 1);
        scene.aggregates->addColumns(scene.axis, row.streams, one, &c, &s);
        hit.count = c;
        hit.special = s;
    }
    return hit;
}

} // namespace tapedeck
