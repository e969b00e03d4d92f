// The one parser/formatter of positions, LSNs and times (core/event/bound).
#include "core/event/bound.h"

#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestBound : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void lsn_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("lsn"); // -1: refused
        QTest::newRow("typical") << u"16/B374D848"_s << ((qint64(0x16) << 32) | 0xB374D848);
        QTest::newRow("lower case") << u"16/b374d848"_s << ((qint64(0x16) << 32) | 0xB374D848);
        QTest::newRow("zero") << u"0/0"_s << qint64(0);
        QTest::newRow("largest") << u"7FFFFFFF/FFFFFFFF"_s << qint64(0x7FFFFFFFFFFFFFFF);
        QTest::newRow("high part too big") << u"80000000/0"_s << qint64(-1);
        QTest::newRow("nine digits") << u"1/123456789"_s << qint64(-1);
        QTest::newRow("no high part") << u"/1"_s << qint64(-1);
        QTest::newRow("no low part") << u"1/"_s << qint64(-1);
        QTest::newRow("not hex") << u"1/XYZ"_s << qint64(-1);
        QTest::newRow("offset") << u"42"_s << qint64(-1);
    }
    void lsn()
    {
        QFETCH(QString, text);
        QFETCH(qint64, lsn);
        QCOMPARE(bound::parseLsn(QStringView(text)).value_or(-1), lsn);
        QCOMPARE(bound::parseLsn(QByteArrayView(text.toLatin1())).value_or(-1), lsn);
        if (lsn >= 0)
            QCOMPARE(bound::parseLsn(QStringView(bound::formatLsn(lsn))).value_or(-1), lsn);
    }

    void formatLsn()
    {
        QCOMPARE(bound::formatLsn((qint64(0x16) << 32) | 0xB374D848), u"16/B374D848"_s);
        QCOMPARE(bound::formatLsn(0), u"0/0"_s);
        QCOMPARE(bound::formatLsn(-1), u"?"_s);
    }

    void position_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("position"); // -1: refused
        QTest::newRow("offset") << u"42"_s << qint64(42);
        QTest::newRow("spaces") << u"  42 "_s << qint64(42);
        QTest::newRow("lsn") << u"0/10"_s << qint64(16);
        QTest::newRow("negative") << u"-1"_s << qint64(-1);
        QTest::newRow("plus") << u"+1"_s << qint64(-1);
        QTest::newRow("word") << u"abc"_s << qint64(-1);
        QTest::newRow("empty") << QString() << qint64(-1);
    }
    void position()
    {
        QFETCH(QString, text);
        QFETCH(qint64, position);
        QString why;
        QCOMPARE(bound::parsePosition(text, &why).value_or(-1), position);
        if (position < 0)
            QCOMPARE(why, u"\"%1\" is not a position: give an offset (a number from 0) or an LSN such as 16/B374D848"_s.arg(text));
    }

    // The one rule: a time without a zone is UTC, on every machine.
    void time_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("ms"); // -1: refused
        const qint64 t = 1796638500000; // 2026-12-07T10:15:00Z
        QTest::newRow("ms") << u"1796638500000"_s << t;
        QTest::newRow("@ms") << u"@1796638500000"_s << t;
        QTest::newRow("zulu") << u"2026-12-07T10:15:00Z"_s << t;
        QTest::newRow("no zone is UTC") << u"2026-12-07T10:15:00"_s << t;
        QTest::newRow("space, no zone") << u"2026-12-07 10:15:00"_s << t;
        QTest::newRow("minutes only") << u"2026-12-07 10:15"_s << t;
        QTest::newRow("ms digits") << u"2026-12-07T10:15:00.250"_s << t + 250;
        QTest::newRow("plus zone") << u"2026-12-07T11:15:00+01:00"_s << t;
        QTest::newRow("minus zone") << u"2026-12-07T05:15:00-05:00"_s << t;
        QTest::newRow("@iso") << u"@2026-12-07T10:15:00Z"_s << t;
        QTest::newRow("date only") << u"2026-12-07"_s << t - (10 * 3600 + 15 * 60) * 1000LL;
        QTest::newRow("garbage") << u"yesterday"_s << qint64(-1);
        QTest::newRow("negative") << u"-5"_s << qint64(-1);
        QTest::newRow("bad month") << u"2026-13-07T10:15:00"_s << qint64(-1);
    }
    void time()
    {
        QFETCH(QString, text);
        QFETCH(qint64, ms);
        // The rule must not depend on the machine's zone.
        for (const QByteArray &tz : {QByteArray("UTC"), QByteArray("America/New_York"), QByteArray("Asia/Kolkata")}) {
            qputenv("TZ", tz);
            QString why;
            QCOMPARE(bound::parseTime(text, &why).value_or(-1), ms);
            if (ms < 0)
                QCOMPARE(why, u"\"%1\" is not a time: give ms since the epoch or ISO 8601 such as "
                              "2026-12-07T10:15:00Z; a time without a zone is UTC"_s.arg(text));
        }
        qunsetenv("TZ");
    }

    void formatTime()
    {
        const qint64 t = 1796638500250;
        QCOMPARE(bound::formatIsoTime(t), u"2026-12-07T10:15:00.250Z"_s);
        QCOMPARE(bound::parseTime(bound::formatIsoTime(t)).value_or(-1), t);
        QCOMPARE(bound::formatTime(t, bound::Zone::Utc), u"2026-12-07 10:15:00.250"_s);
        QCOMPARE(bound::parseTime(bound::formatTime(t, bound::Zone::Utc)).value_or(-1), t);
    }
};

QTEST_GUILESS_MAIN(TestBound)
#include "tst_bound.moc"
