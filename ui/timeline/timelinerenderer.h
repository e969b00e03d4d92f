#pragma once

#include "core/event/eventselection.h"
#include "ui/timeline/timelinelanes.h"

#include <QBitArray>
#include <QColor>
#include <QRect>
#include <QTimeZone>

class QFont;
class QFontMetrics;
class QPainter;

namespace tapedeck {

class TimelineAggregates;
struct AxisTick;
struct TimelineMarks;
struct TimelineMark;

// Everything one frame of the timeline shows. Plain data: the widget, the
// exporter, the tests and the benchmark build one and hand it to the renderer.
struct TimelineScene
{
    enum class ColorBy { Key, Operation, Size };
    enum class DensityStyle { Histogram, HeatStrip };

    const TimelineAggregates *aggregates = nullptr;
    const TimelineMarks *marks = nullptr; // drawn when it covers the visible range
    AxisKind axis = AxisKind::Time;
    AxisRange visible;
    AxisRange data; // for the overview strip
    QTimeZone zone = QTimeZone::utc();
    QList<TimelineRow> rows;
    int scrollY = 0;
    EventSelection selection;
    qint64 currentSeq = -1;
    qint64 currentAt = -1; // axis value of the current event; -1: unknown
    int hoverX = -1;       // widget x of the hover line; -1: none
    ColorBy colorBy = ColorBy::Key;
    DensityStyle densityStyle = DensityStyle::Histogram;
    QString message;       // shown over an empty timeline, e.g. while building
    // Compaction preview: events whose bit is set (by sequence number) are drawn
    // greyed, the others highlighted; empty: no dimming (density is never dimmed).
    QBitArray dimmed;
    bool isDimmed(qint64 seq) const { return seq >= 0 && seq < dimmed.size() && dimmed.testBit(qsizetype(seq)); }
};

// Paints a TimelineScene with QPainter (screen, QImage, QSvgGenerator) and
// answers hit tests on the same geometry. Painting reads only the aggregates
// (about two buckets per pixel column and row) or, zoomed in, the marks of the
// visible range (at most one per pixel column and lane), so a frame costs the
// same whatever the size of the tape. Stateless; any thread with a QImage.
class TimelineRenderer
{
public:
    static constexpr int LabelWidth = 170;
    static constexpr int AxisHeight = 26;
    static constexpr int OverviewHeight = 34;
    static constexpr int LaneHeight = 26;
    static constexpr int GroupHeight = 24;

    struct Layout
    {
        QRect corner, labels, axis, lanes, overview;
    };
    static Layout layout(QSize size);
    static bool usesMarks(const TimelineScene &scene);

    void paint(QPainter &p, QSize size, const TimelineScene &scene) const;

    struct Hit
    {
        enum class Area { None, Corner, Label, Axis, Lanes, Overview };
        Area area = Area::None;
        int row = -1;           // index in scene.rows (Label, Lanes)
        qint64 value = 0;       // axis value under the point (Axis, Lanes, Overview)
        qint64 seq = -1;        // the event under the point (Lanes, zoomed in), else -1
        const TimelineMark *mark = nullptr;
        double count = 0;       // Lanes, zoomed out: events in the pixel column
        double special = 0;     // ... of which tombstones or deletes
        AxisRange columnRange;  // the values of the pixel column
    };
    static Hit hitTest(QPoint pos, QSize size, const TimelineScene &scene, int tolerancePx = 4);

    // Colours: stable per key (the same key has the same colour in every run).
    static QColor keyColor(quint32 keyHash);
    static QColor operationColor(int operation);
    static QColor sizeColor(qint32 valueSize);
    static QColor markColor(const TimelineMark &mark, TimelineScene::ColorBy by);
    static QColor densityColor();
    static QColor specialColor();

private:
    void paintAxis(QPainter &p, const Layout &l, const TimelineScene &scene) const;
    void paintRows(QPainter &p, const Layout &l, const TimelineScene &scene) const;
    QList<AxisTick> majorTicks(QPainter &p, const Layout &l, const TimelineScene &scene) const;
    void paintRow(QPainter &p, const Layout &l, const TimelineScene &scene, int i, QRect r,
                  const QList<AxisTick> &gridTicks, const QFontMetrics &fm, const QFont &bold) const;
    void paintOverlays(QPainter &p, const Layout &l, const TimelineScene &scene) const;
    void paintDensity(QPainter &p, QRect r, const TimelineScene &scene, const TimelineRow &row) const;
    void paintMarks(QPainter &p, QRect r, const TimelineScene &scene, const TimelineRow &row) const;
    void paintOverview(QPainter &p, const Layout &l, const TimelineScene &scene) const;
};

} // namespace tapedeck
