#include "core/timeline/timeaxis.h"

#include <QDateTime>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

constexpr qint64 Ms = 1000;
constexpr qint64 Sec = 1000 * Ms;
constexpr qint64 Min = 60 * Sec;
constexpr qint64 Hour = 60 * Min;
constexpr qint64 Day = 24 * Hour;

qint64 floorDiv(qint64 a, qint64 b)
{
    const qint64 q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

qint64 ceilAlign(qint64 v, qint64 step)
{
    return -floorDiv(-v, step) * step;
}

} // namespace

qint64 AxisMapping::toValue(double x) const
{
    const double v = double(range.from) + std::floor(x * perPixel());
    if (v >= 9.2e18)
        return std::numeric_limits<qint64>::max();
    if (v <= -9.2e18)
        return std::numeric_limits<qint64>::min();
    return qint64(v);
}

namespace axis {

AxisRange zoomed(AxisRange r, double anchor, double factor, qint64 minSpan)
{
    if (factor <= 0 || r.isEmpty())
        return r;
    anchor = std::clamp(anchor, 0.0, 1.0);
    const double span = double(r.span());
    const double newSpan = std::max(span / factor, double(std::max<qint64>(minSpan, 1)));
    const double at = double(r.from) + anchor * span;
    const qint64 from = qint64(std::llround(at - anchor * newSpan));
    return {from, from + qint64(std::llround(newSpan))};
}

AxisRange panned(AxisRange r, double fraction)
{
    const qint64 d = qint64(std::llround(double(r.span()) * fraction));
    return {r.from + d, r.to + d};
}

AxisRange clampedTo(AxisRange r, AxisRange bounds)
{
    if (bounds.isEmpty())
        bounds.to = bounds.from + 1;
    const qint64 margin = std::max<qint64>(bounds.span() / 20, 1);
    const AxisRange outer{bounds.from - margin, bounds.to + margin};
    if (r.span() > outer.span() || r.isEmpty())
        return outer;
    if (r.from < outer.from)
        return {outer.from, outer.from + r.span()};
    if (r.to > outer.to)
        return {outer.to - r.span(), outer.to};
    return r;
}

AxisRange fitted(AxisRange data)
{
    if (data.isEmpty())
        data.to = data.from + 1;
    const qint64 margin = std::max<qint64>(data.span() / 50, 1);
    return {data.from - margin, data.to + margin};
}

} // namespace axis

namespace ticks {

namespace {

enum class Unit { Fixed, Hours, Days, Weeks, Months, Years };

struct Step
{
    Unit unit;
    qint64 count; // Fixed: microseconds; otherwise hours, days, weeks, months or years
    qint64 approxUs;
    int labelChars;
    const char16_t *name;
};

// The ladder of major steps, finest first.
const Step kSteps[] = {
    {Unit::Fixed, 1, 1, 8, u"1 µs"}, {Unit::Fixed, 2, 2, 8, u"2 µs"}, {Unit::Fixed, 5, 5, 8, u"5 µs"},
    {Unit::Fixed, 10, 10, 8, u"10 µs"}, {Unit::Fixed, 20, 20, 8, u"20 µs"}, {Unit::Fixed, 50, 50, 8, u"50 µs"},
    {Unit::Fixed, 100, 100, 8, u"100 µs"}, {Unit::Fixed, 200, 200, 8, u"200 µs"}, {Unit::Fixed, 500, 500, 8, u"500 µs"},
    {Unit::Fixed, Ms, Ms, 8, u"1 ms"}, {Unit::Fixed, 2 * Ms, 2 * Ms, 8, u"2 ms"}, {Unit::Fixed, 5 * Ms, 5 * Ms, 8, u"5 ms"},
    {Unit::Fixed, 10 * Ms, 10 * Ms, 8, u"10 ms"}, {Unit::Fixed, 20 * Ms, 20 * Ms, 8, u"20 ms"},
    {Unit::Fixed, 50 * Ms, 50 * Ms, 8, u"50 ms"}, {Unit::Fixed, 100 * Ms, 100 * Ms, 8, u"100 ms"},
    {Unit::Fixed, 200 * Ms, 200 * Ms, 8, u"200 ms"}, {Unit::Fixed, 500 * Ms, 500 * Ms, 8, u"500 ms"},
    {Unit::Fixed, Sec, Sec, 8, u"1 s"}, {Unit::Fixed, 2 * Sec, 2 * Sec, 8, u"2 s"}, {Unit::Fixed, 5 * Sec, 5 * Sec, 8, u"5 s"},
    {Unit::Fixed, 10 * Sec, 10 * Sec, 8, u"10 s"}, {Unit::Fixed, 15 * Sec, 15 * Sec, 8, u"15 s"},
    {Unit::Fixed, 30 * Sec, 30 * Sec, 8, u"30 s"},
    {Unit::Fixed, Min, Min, 6, u"1 min"}, {Unit::Fixed, 2 * Min, 2 * Min, 6, u"2 min"}, {Unit::Fixed, 5 * Min, 5 * Min, 6, u"5 min"},
    {Unit::Fixed, 10 * Min, 10 * Min, 6, u"10 min"}, {Unit::Fixed, 15 * Min, 15 * Min, 6, u"15 min"},
    {Unit::Fixed, 30 * Min, 30 * Min, 6, u"30 min"}, {Unit::Fixed, Hour, Hour, 6, u"1 h"},
    {Unit::Hours, 2, 2 * Hour, 6, u"2 h"}, {Unit::Hours, 3, 3 * Hour, 6, u"3 h"}, {Unit::Hours, 6, 6 * Hour, 6, u"6 h"},
    {Unit::Hours, 12, 12 * Hour, 6, u"12 h"},
    {Unit::Days, 1, Day, 6, u"1 day"}, {Unit::Days, 2, 2 * Day, 6, u"2 days"}, {Unit::Weeks, 1, 7 * Day, 6, u"1 week"},
    {Unit::Months, 1, 30 * Day, 8, u"1 month"}, {Unit::Months, 2, 61 * Day, 8, u"2 months"},
    {Unit::Months, 3, 91 * Day, 8, u"3 months"}, {Unit::Months, 6, 182 * Day, 8, u"6 months"},
    {Unit::Years, 1, 365 * Day, 4, u"1 year"}, {Unit::Years, 2, 730 * Day, 4, u"2 years"},
    {Unit::Years, 5, 1826 * Day, 4, u"5 years"}, {Unit::Years, 10, 3652 * Day, 4, u"10 years"},
    {Unit::Years, 20, 7305 * Day, 4, u"20 years"}, {Unit::Years, 50, 18262 * Day, 4, u"50 years"},
    {Unit::Years, 100, 36524 * Day, 4, u"100 years"},
};
constexpr int kStepCount = int(std::size(kSteps));

int majorStepIndex(const AxisMapping &m, const Options &o)
{
    const double perPx = m.perPixel();
    for (int i = 0; i < kStepCount; ++i) {
        const double px = double(kSteps[i].approxUs) / perPx;
        if (px >= (kSteps[i].labelChars + 3) * o.charWidthPx)
            return i;
    }
    return kStepCount - 1;
}

qint64 offsetUs(const QTimeZone &zone, qint64 us)
{
    if (zone == QTimeZone::utc())
        return 0;
    return qint64(zone.offsetFromUtc(QDateTime::fromMSecsSinceEpoch(floorDiv(us, Ms), QTimeZone::utc()))) * Sec;
}

qint64 nextTransitionUs(const QTimeZone &zone, qint64 us)
{
    if (zone == QTimeZone::utc() || !zone.hasTransitions())
        return std::numeric_limits<qint64>::max();
    const QTimeZone::OffsetData next = zone.nextTransition(QDateTime::fromMSecsSinceEpoch(floorDiv(us, Ms), QTimeZone::utc()));
    if (!next.atUtc.isValid())
        return std::numeric_limits<qint64>::max();
    return next.atUtc.toMSecsSinceEpoch() * Ms;
}

QDateTime toDateTime(qint64 us, const QTimeZone &zone)
{
    return QDateTime::fromMSecsSinceEpoch(floorDiv(us, Ms), zone);
}

qint64 toUs(const QDateTime &dt)
{
    return dt.toMSecsSinceEpoch() * Ms;
}

// Tick values of one step within [from, to].
QList<qint64> stepValues(const Step &step, qint64 from, qint64 to, const QTimeZone &zone)
{
    QList<qint64> out;
    if (step.unit == Unit::Fixed) {
        // Aligned to multiples of the step in wall-clock time; the offset is
        // constant between transitions, so it is looked up once per transition.
        qint64 t = from;
        qint64 off = offsetUs(zone, t);
        qint64 nextTr = nextTransitionUs(zone, t);
        while (t <= to && out.size() < 100000) {
            const qint64 cand = ceilAlign(t + off, step.count) - off;
            if (cand >= nextTr) {
                t = std::max(nextTr, t);
                off = offsetUs(zone, t);
                nextTr = nextTransitionUs(zone, t);
                if (nextTr <= t)
                    nextTr = std::numeric_limits<qint64>::max();
                continue;
            }
            if (cand > to)
                break;
            out << cand;
            t = cand + 1;
        }
        return out;
    }
    // Calendar steps: walk local dates, starting a little before `from`.
    const QDate first = toDateTime(from, zone).date().addDays(-1);
    const QDate last = toDateTime(to, zone).date().addDays(1);
    auto push = [&](const QDateTime &dt) {
        if (!dt.isValid())
            return;
        const qint64 v = toUs(dt);
        if (v >= from && v <= to)
            out << v;
    };
    switch (step.unit) {
    case Unit::Hours:
        for (QDate d = first; d <= last && out.size() < 100000; d = d.addDays(1)) {
            for (int h = 0; h < 24; h += int(step.count))
                push(QDateTime(d, QTime(h, 0), zone));
        }
        break;
    case Unit::Days:
        for (QDate d = first; d <= last && out.size() < 100000; d = d.addDays(1)) {
            if (d.toJulianDay() % step.count == 0 || step.count == 1)
                push(d.startOfDay(zone));
        }
        break;
    case Unit::Weeks:
        for (QDate d = first.addDays(1 - first.dayOfWeek()); d <= last && out.size() < 100000; d = d.addDays(7))
            push(d.startOfDay(zone));
        break;
    case Unit::Months:
        for (QDate d(first.year(), first.month(), 1); d <= last && out.size() < 100000; d = d.addMonths(1)) {
            if ((d.month() - 1) % step.count == 0)
                push(d.startOfDay(zone));
        }
        break;
    case Unit::Years:
        for (int y = int(floorDiv(first.year(), step.count) * step.count); y <= last.year() && out.size() < 100000;
             y += int(step.count))
            push(QDate(y, 1, 1).startOfDay(zone));
        break;
    case Unit::Fixed:
        break;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

QString timeLabel(const Step &step, qint64 v, const QTimeZone &zone)
{
    const QDateTime dt = toDateTime(v, zone);
    const QTime t = dt.time();
    const bool midnight = t == QTime(0, 0);
    switch (step.unit) {
    case Unit::Years:
        return dt.toString(u"yyyy"_s);
    case Unit::Months:
        return dt.date().month() == 1 ? dt.toString(u"yyyy"_s) : dt.toString(u"MMM"_s);
    case Unit::Days:
    case Unit::Weeks:
        return dt.date().day() == 1 && dt.date().month() == 1 ? dt.toString(u"yyyy"_s) : dt.toString(u"d MMM"_s);
    case Unit::Hours:
        return midnight ? dt.toString(u"d MMM"_s) : dt.toString(u"HH:mm"_s);
    case Unit::Fixed:
        break;
    }
    const qint64 subSecondUs = v - floorDiv(v, Sec) * Sec;
    if (step.count >= Min)
        return midnight ? dt.toString(u"d MMM"_s) : dt.toString(u"HH:mm"_s);
    if (step.count >= Sec)
        return midnight ? dt.toString(u"d MMM"_s) : dt.toString(u"HH:mm:ss"_s);
    if (subSecondUs == 0)
        return midnight ? dt.toString(u"d MMM"_s) : dt.toString(u"HH:mm:ss"_s);
    if (step.count >= Ms)
        return u"."_s + QString::number(subSecondUs / Ms).rightJustified(3, u'0');
    return u"."_s + QString::number(subSecondUs).rightJustified(6, u'0');
}

// The finest step that subdivides `major` into at most 10 parts and stays
// at least minMinorSpacingPx apart; -1 for none.
int minorStepIndex(int major, const AxisMapping &m, const Options &o)
{
    for (int i = 0; i < major; ++i) {
        const Step &s = kSteps[i];
        if (double(s.approxUs) / m.perPixel() < o.minMinorSpacingPx)
            continue;
        const double parts = double(kSteps[major].approxUs) / double(s.approxUs);
        if (parts > 10.5)
            continue;
        const Step &M = kSteps[major];
        if (M.unit == Unit::Fixed && M.count % s.count != 0)
            continue;
        if (M.unit == s.unit && M.count % s.count != 0)
            continue;
        if (M.unit == Unit::Hours && s.unit == Unit::Fixed && Hour % s.count != 0)
            continue;
        if (M.unit == Unit::Weeks && s.unit == Unit::Days && s.count != 1)
            continue;
        if (M.unit == Unit::Months && s.unit != Unit::Months)
            continue; // weeks do not divide months
        return i;
    }
    return -1;
}

QList<AxisTick> merge(const AxisMapping &m, const QList<qint64> &majors, const QList<qint64> &minors,
                      const std::function<QString(qint64)> &label)
{
    QList<AxisTick> out;
    out.reserve(majors.size() + minors.size());
    for (qint64 v : majors)
        out << AxisTick{v, m.toX(v), label(v), true};
    for (qint64 v : minors) {
        if (!std::binary_search(majors.cbegin(), majors.cend(), v))
            out << AxisTick{v, m.toX(v), QString(), false};
    }
    std::sort(out.begin(), out.end(), [](const AxisTick &a, const AxisTick &b) { return a.value < b.value; });
    return out;
}

} // namespace

QList<AxisTick> timeTicks(const AxisMapping &m, const QTimeZone &zone, const Options &o)
{
    if (m.range.isEmpty())
        return {};
    const int major = majorStepIndex(m, o);
    const int minor = minorStepIndex(major, m, o);
    const QList<qint64> majors = stepValues(kSteps[major], m.range.from, m.range.to, zone);
    const QList<qint64> minors = minor >= 0 ? stepValues(kSteps[minor], m.range.from, m.range.to, zone) : QList<qint64>();
    return merge(m, majors, minors, [&](qint64 v) { return timeLabel(kSteps[major], v, zone); });
}

QString timeStepName(const AxisMapping &m, const Options &o)
{
    return QString::fromUtf16(kSteps[majorStepIndex(m, o)].name);
}

QList<AxisTick> positionTicks(const AxisMapping &m, const Options &o)
{
    if (m.range.isEmpty())
        return {};
    // 1-2-5 steps; labels like "12 500", "1.25M".
    auto label = [](qint64 v, qint64 step) -> QString {
        if (v == 0)
            return u"0"_s;
        if (step >= 1000000 && v % 1000000 == 0)
            return QString::number(v / 1000000) + u'M';
        if (step >= 100000 && v % 100000 == 0)
            return QString::number(double(v) / 1e6, 'f', 1) + u'M';
        if (step >= 10000 && v % 10000 == 0 && std::abs(v) >= 1000000)
            return QString::number(double(v) / 1e6, 'f', 2) + u'M';
        if (step >= 1000 && v % 1000 == 0)
            return QString::number(v / 1000) + u'k';
        return QString::number(v);
    };
    auto stepFor = [&](double minPx) {
        qint64 step = 1;
        for (int i = 0; i < 60; ++i) {
            for (qint64 f : {1, 2, 5}) {
                const qint64 s = step * f;
                if (double(s) / m.perPixel() >= minPx)
                    return s;
            }
            if (step > std::numeric_limits<qint64>::max() / 20)
                break;
            step *= 10;
        }
        return step;
    };
    const qint64 majorStep = stepFor(8 * o.charWidthPx);
    qint64 minorStep = majorStep / 5;
    if (majorStep % 5 != 0 || minorStep <= 0 || double(minorStep) / m.perPixel() < o.minMinorSpacingPx)
        minorStep = 0;
    QList<qint64> majors, minors;
    for (qint64 v = ceilAlign(m.range.from, majorStep); v <= m.range.to && majors.size() < 10000; v += majorStep)
        majors << v;
    if (minorStep > 0) {
        for (qint64 v = ceilAlign(m.range.from, minorStep); v <= m.range.to && minors.size() < 10000; v += minorStep)
            minors << v;
    }
    return merge(m, majors, minors, [&](qint64 v) { return label(v, majorStep); });
}

QString timeContext(const AxisMapping &m, const QTimeZone &zone)
{
    const QDateTime dt = toDateTime(std::max<qint64>(m.range.from, 0), zone);
    const int off = zone.offsetFromUtc(dt);
    const QString offText = off == 0 ? u"UTC"_s
                                     : u"UTC%1%2:%3"_s.arg(off < 0 ? QStringView(u"−") : QStringView(u"+"))
                                           .arg(std::abs(off) / 3600, 2, 10, QLatin1Char('0'))
                                           .arg(std::abs(off) % 3600 / 60, 2, 10, QLatin1Char('0'));
    return dt.toString(u"ddd d MMM yyyy"_s) + u" · "_s + offText;
}

QString formatTimeUs(qint64 us, const QTimeZone &zone)
{
    const QDateTime dt = toDateTime(us, zone);
    return dt.toString(u"yyyy-MM-dd HH:mm:ss"_s) + u'.'
        + QString::number(us - floorDiv(us, Sec) * Sec).rightJustified(6, u'0');
}

QString formatDuration(qint64 us)
{
    const qint64 a = std::abs(us);
    if (a < Ms)
        return QString::number(us) + u" µs"_s;
    if (a < Sec)
        return QString::number(double(us) / Ms, 'g', 3) + u" ms"_s;
    if (a < Min)
        return QString::number(double(us) / Sec, 'g', 3) + u" s"_s;
    if (a < Hour)
        return u"%1 min %2 s"_s.arg(us / Min).arg(a % Min / Sec);
    if (a < Day)
        return u"%1 h %2 min"_s.arg(us / Hour).arg(a % Hour / Min);
    return u"%1 d %2 h"_s.arg(us / Day).arg(a % Day / Hour);
}

} // namespace ticks

} // namespace tapedeck
