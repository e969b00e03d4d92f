#pragma once

#include "core/event/axisrange.h"

#include <QList>
#include <QString>
#include <QTimeZone>

namespace tapedeck {

// The pure mapping between axis values and pixels (as hotspot's TimeLineData):
// no widget, no state beyond the range and the width, so it is tested with
// tables and shared by painting, hit testing and export.
struct AxisMapping
{
    AxisRange range;
    double width = 1; // pixels

    AxisMapping() = default;
    AxisMapping(AxisRange r, double w) : range(r), width(w > 0 ? w : 1) {}

    double perPixel() const { return double(std::max<qint64>(range.span(), 1)) / width; }
    double toX(qint64 v) const { return double(v - range.from) / perPixel(); }
    // The value at pixel position x (x = 0 is range.from).
    qint64 toValue(double x) const;
    // The values covered by the pixel column [x0, x1), as [from, to).
    AxisRange valuesOf(double x0, double x1) const { return {toValue(x0), toValue(x1)}; }
};

namespace axis {

// Zooms by `factor` (> 1 zooms in) keeping the value under `anchor`
// (0 = left edge, 1 = right edge) where it is. The span never drops below minSpan.
AxisRange zoomed(AxisRange r, double anchor, double factor, qint64 minSpan = 1);
// Moves the range by `fraction` of its span (positive: later).
AxisRange panned(AxisRange r, double fraction);
// Keeps a view inside `bounds` (plus a margin of 5 % of the bounds) and no wider than it.
AxisRange clampedTo(AxisRange r, AxisRange bounds);
// The range that shows `data` with a small margin on both sides.
AxisRange fitted(AxisRange data);

} // namespace axis

struct AxisTick
{
    qint64 value = 0;
    double x = 0;
    QString label; // empty for minor ticks
    bool major = false;
    bool operator==(const AxisTick &) const = default;
};

// Tick generation for the time axis in a time zone (local time or UTC) and for
// the position axis. Steps run from 1 µs to centuries; steps of up to an hour
// are fixed durations aligned to the zone's wall clock (so an hourly axis shows
// 01:00, 03:00 on the night clocks go forward, and 02:00 twice when they go
// back); longer steps follow the calendar (6-hourly ticks at 00, 06, 12, 18
// local time, days at local midnight, months on the 1st).
namespace ticks {

struct Options
{
    double charWidthPx = 7;   // average width of a digit in the label font
    double minMinorSpacingPx = 6;
};

// Major ticks carry labels, minor ticks subdivide them; sorted by value.
QList<AxisTick> timeTicks(const AxisMapping &m, const QTimeZone &zone, const Options &options = {});
QList<AxisTick> positionTicks(const AxisMapping &m, const Options &options = {});
// The step of the major ticks, e.g. "5 min", "2 h", "1 month".
QString timeStepName(const AxisMapping &m, const Options &options = {});
// What the labels leave out: e.g. "Sun 29 Mar 2026 · UTC+02:00" (date of the left edge).
QString timeContext(const AxisMapping &m, const QTimeZone &zone);
// "2026-03-29 02:59:59.123456" in the zone, for tooltips.
QString formatTimeUs(qint64 us, const QTimeZone &zone);
// "1.2 s", "350 ms", "3 d 4 h": a duration for humans.
QString formatDuration(qint64 us);

} // namespace ticks

} // namespace tapedeck
