#include "ui/common/valueformat.h"

#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestValueFormat : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void preview_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("maxChars");
        QTest::addColumn<QString>("expected");
        QTest::newRow("text") << QByteArray("hello") << 200 << u"hello"_s;
        QTest::newRow("line breaks") << QByteArray("a\r\nb\tc") << 200 << u"a  b c"_s;
        QTest::newRow("utf-8") << QByteArray("Zo\xc3\xab") << 200 << u"Zoë"_s;
        QTest::newRow("cut") << QByteArray("abcdef") << 3 << u"abc…"_s;
        QTest::newRow("cut inside utf-8") << QByteArray("\xc3\xab\xc3\xab\xc3\xab") << 2 << u"ëë…"_s;
        QTest::newRow("binary") << QByteArray("\x00\xffok\\", 5) << 200 << u"\\x00\\xffok\\\\"_s;
        QTest::newRow("invalid utf-8") << QByteArray("ab\xc3(") << 200 << u"ab\\xc3("_s;
        QTest::newRow("binary cut") << QByteArray(10, '\x01') << 8 << u"\\x01\\x01…"_s;
        QTest::newRow("empty") << QByteArray() << 200 << QString();
    }

    void preview()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(int, maxChars);
        QFETCH(QString, expected);
        QCOMPARE(ValueFormat::preview(bytes, maxChars), expected);
    }

    void hexDump()
    {
        // Same layout as `xxd`.
        QCOMPARE(ValueFormat::hexDump(QByteArray("0123456789abcdefXYZ")),
                 u"00000000: 3031 3233 3435 3637 3839 6162 6364 6566  0123456789abcdef\n"
                 "00000010: 5859 5a                                  XYZ\n"_s);
        QCOMPARE(ValueFormat::hexDump(QByteArray("abcdef"), 4), u"00000000: 6162 6364                                abcd\n"
                                                                "… 2 more bytes not shown\n"_s);
        QCOMPARE(ValueFormat::hexDump(QByteArray()), QString());
    }

    void prettyJson_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("key order and numbers kept")
            << QByteArray(R"({"z":1,"a":12345678901234567890,"m":1.50})")
            << u"{\n    \"z\": 1,\n    \"a\": 12345678901234567890,\n    \"m\": 1.50\n}\n"_s;
        QTest::newRow("escapes in strings") << QByteArray(R"({"s":"a \"{,:}\" b"})")
                                            << u"{\n    \"s\": \"a \\\"{,:}\\\" b\"\n}\n"_s;
        QTest::newRow("empty containers") << QByteArray(R"({"a":[],"b":{ },"c":[1]})")
                                          << u"{\n    \"a\": [],\n    \"b\": {},\n    \"c\": [\n        1\n    ]\n}\n"_s;
        QTest::newRow("whitespace dropped") << QByteArray("[ 1 ,\n 2 ]") << u"[\n    1,\n    2\n]\n"_s;
        QTest::newRow("not json") << QByteArray("{nope}") << QString();
        QTest::newRow("scalar") << QByteArray("42") << QString();
    }

    void prettyJson()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, expected);
        const QString pretty = ValueFormat::prettyJson(json);
        QCOMPARE(pretty, expected);
        QCOMPARE(pretty.isNull(), expected.isNull());
    }

    void isText()
    {
        QVERIFY(ValueFormat::isText("plain\ttext\n"));
        QVERIFY(ValueFormat::isText("Zo\xc3\xab"));
        QVERIFY(!ValueFormat::isText(QByteArray("a\0b", 3)));
        QVERIFY(!ValueFormat::isText("\xff\xfe"));
        QVERIFY(!ValueFormat::isText("bell\a"));
    }
};

QTEST_GUILESS_MAIN(TestValueFormat)
#include "tst_valueformat.moc"
