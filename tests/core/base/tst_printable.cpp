// Text from a log made safe for a terminal (core/base/printable).
#include "core/base/printable.h"

#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestPrintable : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void bytes_data()
    {
        QTest::addColumn<QByteArray>("in");
        QTest::addColumn<QByteArray>("out");
        QTest::newRow("plain") << QByteArray("orders") << QByteArray("orders");
        QTest::newRow("utf-8 stays") << QByteArray("caf\xc3\xa9 \xe2\x82\xac") << QByteArray("caf\xc3\xa9 \xe2\x82\xac");
        QTest::newRow("invalid utf-8 stays") << QByteArray("a\xff\xfe") << QByteArray("a\xff\xfe");
        QTest::newRow("tsv escapes") << QByteArray("a\tb\nc\rd\\e") << QByteArray("a\\tb\\nc\\rd\\\\e");
        QTest::newRow("esc sequence") << QByteArray("\x1b]0;owned\x07red") << QByteArray("\\x1b]0;owned\\x07red");
        QTest::newRow("nul and del") << QByteArray("a\0b\x7f", 4) << QByteArray("a\\x00b\\x7f");
        QTest::newRow("c1 csi") << QByteArray("x\xc2\x9b""31m") << QByteArray("x\\u009b31m");
        QTest::newRow("not c1") << QByteArray("\xc2\xa0") << QByteArray("\xc2\xa0");
        QTest::newRow("lone c2 at the end") << QByteArray("\xc2") << QByteArray("\xc2");
    }
    void bytes()
    {
        QFETCH(QByteArray, in);
        QFETCH(QByteArray, out);
        QCOMPARE(printable(QByteArrayView(in)), out);
    }

    void text()
    {
        QCOMPARE(printable(u"orders"_s), u"orders"_s);
        QCOMPARE(printable(u"or\u001b[31mders\u0085"_s), u"or\\x1b[31mders\\u0085"_s);
    }
};

QTEST_GUILESS_MAIN(TestPrintable)
#include "tst_printable.moc"
