#include "core/timeline/timeaxis.h"

#include <QDateTime>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

qint64 utcUs(const QString &iso)
{
    QDateTime dt = QDateTime::fromString(iso, Qt::ISODateWithMs);
    dt.setTimeZone(QTimeZone::utc());
    return dt.toMSecsSinceEpoch() * 1000;
}

QStringList labels(const QList<AxisTick> &ticks)
{
    QStringList out;
    for (const AxisTick &t : ticks) {
        if (t.major)
            out << t.label;
    }
    return out;
}

QList<qint64> majorValues(const QList<AxisTick> &ticks)
{
    QList<qint64> out;
    for (const AxisTick &t : ticks) {
        if (t.major)
            out << t.value;
    }
    return out;
}

} // namespace

class TestTimeAxis : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mapping_data()
    {
        QTest::addColumn<qint64>("from");
        QTest::addColumn<qint64>("to");
        QTest::addColumn<double>("width");
        QTest::addColumn<qint64>("value");
        QTest::addColumn<double>("x");
        QTest::newRow("left edge") << qint64(1000) << qint64(2000) << 100.0 << qint64(1000) << 0.0;
        QTest::newRow("middle") << qint64(1000) << qint64(2000) << 100.0 << qint64(1500) << 50.0;
        QTest::newRow("right edge") << qint64(1000) << qint64(2000) << 100.0 << qint64(2000) << 100.0;
        QTest::newRow("left of view") << qint64(1000) << qint64(2000) << 100.0 << qint64(900) << -10.0;
        QTest::newRow("sub-pixel units") << qint64(0) << qint64(10) << 1000.0 << qint64(3) << 300.0;
        // Real timestamps: exact integer arithmetic before the division.
        QTest::newRow("epoch µs") << qint64(1772368496789000) << qint64(1772368496789000 + 1000000) << 1000.0
                                  << qint64(1772368496789000 + 250000) << 250.0;
        QTest::newRow("one µs deep zoom") << qint64(1772368496789000) << qint64(1772368496789010) << 1000.0
                                          << qint64(1772368496789007) << 700.0;
    }
    void mapping()
    {
        QFETCH(qint64, from);
        QFETCH(qint64, to);
        QFETCH(double, width);
        QFETCH(qint64, value);
        QFETCH(double, x);
        const AxisMapping m({from, to}, width);
        QCOMPARE(m.toX(value), x);
        QCOMPARE(m.toValue(x), value);
        // A pixel column covers the values that map into it.
        const AxisRange col = m.valuesOf(std::floor(x), std::floor(x) + 1);
        QVERIFY(col.from <= value);
    }

    void zoomKeepsAnchor_data()
    {
        QTest::addColumn<double>("anchor");
        QTest::addColumn<double>("factor");
        QTest::newRow("in at left quarter") << 0.25 << 2.0;
        QTest::newRow("out at right edge") << 1.0 << 0.5;
        QTest::newRow("in at centre, a lot") << 0.5 << 1000.0;
    }
    void zoomKeepsAnchor()
    {
        QFETCH(double, anchor);
        QFETCH(double, factor);
        const AxisRange r{1'000'000, 2'000'000};
        const AxisRange z = axis::zoomed(r, anchor, factor);
        const double before = double(r.from) + anchor * double(r.span());
        const double after = double(z.from) + anchor * double(z.span());
        QVERIFY2(std::abs(before - after) <= 1, qPrintable(u"%1 vs %2"_s.arg(before).arg(after)));
        QVERIFY(std::abs(double(z.span()) - double(r.span()) / factor) <= 1);
    }

    void zoomStopsAtMinSpan()
    {
        const AxisRange z = axis::zoomed({0, 100}, 0.5, 1e9, 10);
        QCOMPARE(z.span(), qint64(10));
        QCOMPARE(z.from, qint64(45));
    }

    void panAndClamp()
    {
        QCOMPARE(axis::panned({100, 200}, 0.5), (AxisRange{150, 250}));
        const AxisRange data{0, 1000};
        // Margin is 5 % of the data.
        QCOMPARE(axis::clampedTo({-500, -400}, data), (AxisRange{-50, 50}));
        QCOMPARE(axis::clampedTo({990, 1090}, data), (AxisRange{950, 1050}));
        QCOMPARE(axis::clampedTo({-5000, 5000}, data), (AxisRange{-50, 1050}));
        QCOMPARE(axis::clampedTo({100, 200}, data), (AxisRange{100, 200}));
    }

    void timeTicks_data()
    {
        QTest::addColumn<QString>("zone");
        QTest::addColumn<QString>("from");
        QTest::addColumn<QString>("to");
        QTest::addColumn<double>("width");
        QTest::addColumn<QStringList>("expectedLabels");
        QTest::addColumn<QStringList>("expectedUtc"); // of the major ticks, empty: not checked

        QTest::newRow("UTC milliseconds") << u"UTC"_s << u"2026-03-01T12:00:00.000"_s << u"2026-03-01T12:00:00.500"_s
                                          << 500.0
                                          << QStringList{u"12:00:00"_s, u".100"_s, u".200"_s, u".300"_s, u".400"_s, u".500"_s}
                                          << QStringList{};
        QTest::newRow("UTC microseconds") << u"UTC"_s << u"2026-03-01T12:00:00.000"_s << u"2026-03-01T12:00:00.000"_s
                                          << 1000.0 << QStringList{} << QStringList{};
        QTest::newRow("UTC seconds to minutes") << u"UTC"_s << u"2026-03-01T23:58:00.000"_s << u"2026-03-02T00:02:00.000"_s
                                                << 480.0
                                                << QStringList{u"23:58"_s, u"23:59"_s, u"2 Mar"_s, u"00:01"_s, u"00:02"_s}
                                                << QStringList{};
        // Berlin, clocks go forward at 01:00 UTC (02:00 CET -> 03:00 CEST): hourly ticks skip 02:00.
        QTest::newRow("DST spring, hourly") << u"Europe/Berlin"_s << u"2026-03-29T00:00:00.000"_s << u"2026-03-29T04:00:00.000"_s
                                            << 480.0
                                            << QStringList{u"01:00"_s, u"03:00"_s, u"04:00"_s, u"05:00"_s, u"06:00"_s}
                                            << QStringList{u"2026-03-29T00:00:00.000Z"_s, u"2026-03-29T01:00:00.000Z"_s,
                                                           u"2026-03-29T02:00:00.000Z"_s, u"2026-03-29T03:00:00.000Z"_s,
                                                           u"2026-03-29T04:00:00.000Z"_s};
        // ... and back at 01:00 UTC on 25 October: 02:00 twice.
        QTest::newRow("DST autumn, hourly") << u"Europe/Berlin"_s << u"2026-10-24T23:00:00.000"_s << u"2026-10-25T03:00:00.000"_s
                                            << 480.0
                                            << QStringList{u"01:00"_s, u"02:00"_s, u"02:00"_s, u"03:00"_s, u"04:00"_s}
                                            << QStringList{u"2026-10-24T23:00:00.000Z"_s, u"2026-10-25T00:00:00.000Z"_s,
                                                           u"2026-10-25T01:00:00.000Z"_s, u"2026-10-25T02:00:00.000Z"_s,
                                                           u"2026-10-25T03:00:00.000Z"_s};
        // Six-hourly ticks follow the wall clock: the DST night has a 5-hour gap.
        QTest::newRow("DST spring, 6-hourly") << u"Europe/Berlin"_s << u"2026-03-28T22:00:00.000"_s << u"2026-03-30T00:00:00.000"_s
                                              << 400.0
                                              << QStringList{u"29 Mar"_s, u"06:00"_s, u"12:00"_s, u"18:00"_s, u"30 Mar"_s}
                                              << QStringList{u"2026-03-28T23:00:00.000Z"_s, u"2026-03-29T04:00:00.000Z"_s,
                                                             u"2026-03-29T10:00:00.000Z"_s, u"2026-03-29T16:00:00.000Z"_s,
                                                             u"2026-03-29T22:00:00.000Z"_s};
        // Days start at local midnight: 23 hours apart across the change.
        QTest::newRow("DST spring, days") << u"Europe/Berlin"_s << u"2026-03-27T12:00:00.000"_s << u"2026-03-31T12:00:00.000"_s
                                          << 400.0
                                          << QStringList{u"28 Mar"_s, u"29 Mar"_s, u"30 Mar"_s, u"31 Mar"_s}
                                          << QStringList{u"2026-03-27T23:00:00.000Z"_s, u"2026-03-28T23:00:00.000Z"_s,
                                                         u"2026-03-29T22:00:00.000Z"_s, u"2026-03-30T22:00:00.000Z"_s};
        QTest::newRow("UTC days") << u"UTC"_s << u"2026-03-27T12:00:00.000"_s << u"2026-03-31T12:00:00.000"_s << 400.0
                                  << QStringList{u"28 Mar"_s, u"29 Mar"_s, u"30 Mar"_s, u"31 Mar"_s}
                                  << QStringList{u"2026-03-28T00:00:00.000Z"_s, u"2026-03-29T00:00:00.000Z"_s,
                                                 u"2026-03-30T00:00:00.000Z"_s, u"2026-03-31T00:00:00.000Z"_s};
        QTest::newRow("months") << u"UTC"_s << u"2025-11-15T00:00:00.000"_s << u"2026-05-15T00:00:00.000"_s << 600.0
                                << QStringList{u"Dec"_s, u"2026"_s, u"Feb"_s, u"Mar"_s, u"Apr"_s, u"May"_s} << QStringList{};
        QTest::newRow("years") << u"UTC"_s << u"2019-06-01T00:00:00.000"_s << u"2026-06-01T00:00:00.000"_s << 500.0
                               << QStringList{u"2020"_s, u"2021"_s, u"2022"_s, u"2023"_s, u"2024"_s, u"2025"_s, u"2026"_s}
                               << QStringList{};
        // India is UTC+05:30: half-hourly ticks sit on local half hours.
        QTest::newRow("half-hour offset") << u"Asia/Kolkata"_s << u"2026-03-01T00:00:00.000"_s << u"2026-03-01T02:00:00.000"_s
                                          << 320.0 << QStringList{u"05:30"_s, u"06:00"_s, u"06:30"_s, u"07:00"_s, u"07:30"_s}
                                          << QStringList{u"2026-03-01T00:00:00.000Z"_s, u"2026-03-01T00:30:00.000Z"_s, u"2026-03-01T01:00:00.000Z"_s,
                                                         u"2026-03-01T01:30:00.000Z"_s, u"2026-03-01T02:00:00.000Z"_s};
    }
    void timeTicks()
    {
        QFETCH(QString, zone);
        QFETCH(QString, from);
        QFETCH(QString, to);
        QFETCH(double, width);
        QFETCH(QStringList, expectedLabels);
        QFETCH(QStringList, expectedUtc);
        const QTimeZone tz = zone == u"UTC"_s ? QTimeZone::utc() : QTimeZone(zone.toLatin1());
        QVERIFY(tz.isValid());
        qint64 a = utcUs(from), b = utcUs(to);
        if (QByteArrayView(QTest::currentDataTag()) == "UTC microseconds")
            b = a + 100; // 100 µs
        const AxisMapping m({a, b}, width);
        const QList<AxisTick> ts = ticks::timeTicks(m, tz);
        QVERIFY(!ts.isEmpty());
        // Sorted, inside the range, majors not too close for their labels.
        for (qsizetype i = 1; i < ts.size(); ++i)
            QVERIFY(ts[i - 1].value < ts[i].value);
        for (const AxisTick &t : ts) {
            QVERIFY(t.value >= a && t.value <= b);
            QCOMPARE(t.x, m.toX(t.value));
        }
        if (QByteArrayView(QTest::currentDataTag()) == "UTC microseconds") {
            QCOMPARE(labels(ts).first(3), (QStringList{u"12:00:00"_s, u".000010"_s, u".000020"_s}));
            return;
        }
        QCOMPARE(labels(ts), expectedLabels);
        if (!expectedUtc.isEmpty()) {
            QStringList utc;
            for (qint64 v : majorValues(ts))
                utc << QDateTime::fromMSecsSinceEpoch(v / 1000, QTimeZone::utc()).toString(u"yyyy-MM-dd'T'HH:mm:ss.zzz'Z'"_s);
            QCOMPARE(utc, expectedUtc);
        }
    }

    void minorTicksSubdivide()
    {
        const qint64 a = utcUs(u"2026-03-01T12:00:00.000"_s);
        const AxisMapping m({a, a + 10'000'000}, 1000); // 10 s: majors every second, minors between
        const QList<AxisTick> ts = ticks::timeTicks(m, QTimeZone::utc());
        const qsizetype majors = majorValues(ts).size();
        QCOMPARE(majors, 11);
        QVERIFY(ts.size() > majors);
        for (const AxisTick &t : ts)
            QVERIFY(t.major || t.label.isEmpty());
        QCOMPARE(ticks::timeStepName(m), u"1 s"_s);
    }

    void positionTicks()
    {
        const QList<AxisTick> ts = ticks::positionTicks(AxisMapping({0, 10'000'001}, 1000));
        QCOMPARE(labels(ts), (QStringList{u"0"_s, u"1M"_s, u"2M"_s, u"3M"_s, u"4M"_s, u"5M"_s, u"6M"_s, u"7M"_s, u"8M"_s,
                                          u"9M"_s, u"10M"_s}));
        QCOMPARE(labels(ticks::positionTicks(AxisMapping({1000, 1101}, 1000))).first(3),
                 (QStringList{u"1000"_s, u"1010"_s, u"1020"_s}));
        QCOMPARE(labels(ticks::positionTicks(AxisMapping({0, 50001}, 500))).value(1), u"10k"_s);
    }

    void contextAndFormat()
    {
        const qint64 a = utcUs(u"2026-03-29T12:00:00.000"_s);
        QCOMPARE(ticks::timeContext(AxisMapping({a, a + 1000}, 100), QTimeZone("Europe/Berlin")), u"Sun 29 Mar 2026 · UTC+02:00"_s);
        QCOMPARE(ticks::timeContext(AxisMapping({a, a + 1000}, 100), QTimeZone::utc()), u"Sun 29 Mar 2026 · UTC"_s);
        QCOMPARE(ticks::formatTimeUs(a + 123456, QTimeZone::utc()), u"2026-03-29 12:00:00.123456"_s);
        QCOMPARE(ticks::formatDuration(1500), u"1.5 ms"_s);
        QCOMPARE(ticks::formatDuration(90'000'000), u"1 min 30 s"_s);
        QCOMPARE(ticks::formatDuration(qint64(26) * 3600 * 1000000), u"1 d 2 h"_s);
    }
};

QTEST_GUILESS_MAIN(TestTimeAxis)
#include "tst_timeaxis.moc"
