// LastVersions (replay.md, "Rebuilds"): which upserts a later event of the
// same key overwrites, byte-exact keys, partial rows, and growth.
#include "core/replay/lastversions_p.h"

#include <QTest>

using namespace tapedeck;

class TestLastVersions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void emptyTableSupersedesNothing()
    {
        LastVersions last;
        QVERIFY(!last.superseded("a", 0));
        QCOMPARE(last.keys(), qint64(0));
    }

    void laterEventOfTheKeySupersedes()
    {
        LastVersions last;
        last.add("a", 1, false);
        last.add("b", 2, false);
        last.add("a", 5, false);
        QCOMPARE(last.keys(), qint64(2));
        QVERIFY(last.superseded("a", 1));
        QVERIFY(!last.superseded("a", 5)); // the last version itself
        QVERIFY(!last.superseded("b", 2));
        QVERIFY(!last.superseded("c", 0)); // a key the range never had
        QVERIFY(!last.superseded("ab", 1)); // byte for byte, not a prefix
    }

    void partialLastVersionKeepsEveryVersion()
    {
        LastVersions last;
        last.add("k", 3, false);
        last.add("k", 7, true); // an unchanged TOAST column: needs the earlier value
        QVERIFY(!last.superseded("k", 3));
    }

    void encodedKeysSeparateStreamsAndNulls()
    {
        ChunkEncoder::ChangeCell value, null;
        value.state = ChunkEncoder::CellView::Value;
        value.value = "1";
        null.state = ChunkEncoder::CellView::Null;
        QByteArray s0, s1, n0;
        LastVersions::encode(&s0, 0, {&value});
        LastVersions::encode(&s1, 1, {&value});
        LastVersions::encode(&n0, 0, {&null});
        QVERIFY(s0 != s1);
        QVERIFY(s0 != n0);
        LastVersions last;
        last.add(s0, 1, false);
        last.add(s0, 2, false);
        QVERIFY(last.superseded(s0, 1));
        QVERIFY(!last.superseded(s1, 1));
        QVERIFY(!last.superseded(n0, 1));
    }

    void growthKeepsEveryKey()
    {
        LastVersions last;
        const int n = 5000; // several doublings past the first 1024 slots
        for (int i = 0; i < n; ++i)
            last.add(QByteArray::number(i), i, false);
        for (int i = 0; i < n; i += 2)
            last.add(QByteArray::number(i), n + i, false);
        QCOMPARE(last.keys(), qint64(n));
        for (int i = 0; i < n; ++i)
            QCOMPARE(last.superseded(QByteArray::number(i), i), i % 2 == 0);
    }
};

QTEST_GUILESS_MAIN(TestLastVersions)
#include "tst_lastversions.moc"
