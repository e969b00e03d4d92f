#include "core/kcat/kcatjson.h"
#include "tests/common/testevents.h"

#include <QTest>

using namespace tapedeck;

class TestKcatJson : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // Lines as kcat -C -J prints them come back byte for byte.
    void kcatLinesRoundTrip_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::newRow("plain") << QByteArray("{\"topic\":\"orders\",\"partition\":0,\"offset\":42,\"tstype\":\"create\",\"ts\":1767261600123,\"broker\":1,\"key\":\"k1\",\"payload\":\"{\\\"status\\\":\\\"paid\\\"}\"}");
        QTest::newRow("headers") << QByteArray("{\"topic\":\"t\",\"partition\":3,\"offset\":0,\"tstype\":\"logappend\",\"ts\":1,\"broker\":-1,\"headers\":[\"a\",\"1\",\"a\",\"2\",\"n\",null,\"e\",\"\"],\"key\":null,\"payload\":\"x\"}");
        QTest::newRow("tombstone") << QByteArray("{\"topic\":\"t\",\"partition\":0,\"offset\":9,\"tstype\":\"create\",\"ts\":5,\"broker\":2,\"key\":\"k\",\"payload\":null}");
        QTest::newRow("no timestamp") << QByteArray("{\"topic\":\"t\",\"partition\":0,\"offset\":1,\"broker\":0,\"key\":\"\",\"payload\":\"\"}");
        QTest::newRow("escapes") << QByteArray("{\"topic\":\"t\",\"partition\":0,\"offset\":1,\"tstype\":\"create\",\"ts\":7,\"broker\":0,\"key\":\"tab\\there \\\"q\\\" back\\\\slash\",\"payload\":\"ctl\\u0001\\u001F nl\\n cr\\r ff\\f bs\\b / é ✓ 😀\"}");
    }
    void kcatLinesRoundTrip()
    {
        QFETCH(QByteArray, line);
        QString error;
        const auto event = kcatjson::parse(line, &error);
        QVERIFY2(event, qPrintable(error));
        QCOMPARE(kcatjson::serialize(*event), line);
    }

    void fieldsAreRead()
    {
        QString error;
        const auto e = kcatjson::parse("{\"topic\":\"orders\",\"partition\":2,\"offset\":9007199254740993,\"tstype\":\"logappend\",\"ts\":1767261600123,\"broker\":3,\"headers\":[\"a\",\"1\",\"n\",null],\"key\":\"k1\",\"payload\":null}", &error);
        QVERIFY2(e, qPrintable(error));
        QCOMPARE(e->topic, u"orders"_qs);
        QCOMPARE(e->partition, 2);
        QCOMPARE(e->position, Q_INT64_C(9007199254740993)); // beyond 2^53: exact
        QCOMPARE(toString(e->timestampType), u"logappend"_qs);
        QCOMPARE(e->timestampUs, Q_INT64_C(1767261600123000));
        QCOMPARE(e->broker, 3);
        QCOMPARE(e->headers.size(), 2);
        QCOMPARE(e->headers[0].name, QByteArray("a"));
        QCOMPARE(e->headers[0].value, std::optional<QByteArray>("1"));
        QCOMPARE(e->headers[1].value, std::nullopt);
        QCOMPARE(e->key, std::optional<QByteArray>("k1"));
        QVERIFY(e->isTombstone());
        QCOMPARE(toString(e->kind), u"kafka"_qs);
    }

    // kcat writes the raw bytes of a binary key or payload inside the JSON
    // string; they are imported exactly and exported with the base64 extension.
    void rawBinaryFromKcat()
    {
        const QByteArray binary("\x00\x01\xff\xfe\x80 \xc3\x28", 8);
        QByteArray line = QByteArray("{\"topic\":\"bin\",\"partition\":0,\"offset\":1,\"tstype\":\"create\",\"ts\":1,\"broker\":1,\"key\":\"")
            + QByteArray("\xff\xfe", 2) + "\",\"payload\":\"" + QByteArray("\\u0000\x01\xff\xfe\x80 \xc3\x28", 13) + "\"}";
        QString error;
        const auto e = kcatjson::parse(line, &error);
        QVERIFY2(e, qPrintable(error));
        QCOMPARE(*e->key, QByteArray("\xff\xfe", 2));
        QCOMPARE(*e->value, binary);
        const QByteArray out = kcatjson::serialize(*e);
        QCOMPARE(out, QByteArray("{\"topic\":\"bin\",\"partition\":0,\"offset\":1,\"tstype\":\"create\",\"ts\":1,\"broker\":1,\"key\":\"//4=\",\"payload\":\"AAH//oAgwyg=\",\"key_encoding\":\"base64\",\"payload_encoding\":\"base64\"}"));
        const auto again = kcatjson::parse(out, &error);
        QVERIFY2(again, qPrintable(error));
        QCOMPARE(*again, *e);
    }

    void binaryHeadersRoundTrip()
    {
        Event e = testing::kafkaEvent(1);
        e.headers = {{QByteArray("bin\xff", 4), QByteArray("\x00\x9f", 2)}, {"ok", QByteArray("fine")}, {"null", std::nullopt}};
        const QByteArray out = kcatjson::serialize(e);
        QVERIFY(out.contains("\"headers\":[\"Ymlu/w==\",\"AJ8=\",\"ok\",\"fine\",\"null\",null]"));
        QVERIFY(out.contains("\"headers_base64\":[0,1]"));
        QString error;
        const auto back = kcatjson::parse(out, &error);
        QVERIFY2(back, qPrintable(error));
        e.cluster.clear(); // not part of the envelope
        QCOMPARE(*back, e);
    }

    void changeEventsRoundTrip()
    {
        for (int i = 0; i < 6; ++i) {
            Event e = testing::changeEvent(i);
            e.cluster.clear();
            QString error;
            const auto back = kcatjson::parse(kcatjson::serialize(e), &error);
            QVERIFY2(back, qPrintable(error));
            QCOMPARE(*back, e);
        }
    }

    void unknownFieldsAreSkipped()
    {
        QString error;
        const auto e = kcatjson::parse("{\"topic\":\"t\",\"partition\":0,\"offset\":1,\"key_schema_id\":7,\"payload_error\":{\"nested\":[1,2,{\"x\":null}]},\"key\":\"k\",\"payload\":\"v\"}", &error);
        QVERIFY2(e, qPrintable(error));
        QCOMPARE(*e->value, QByteArray("v"));
    }

    // A "ts" without "tstype" (found by fuzz_kcat): the time survives export.
    void timeWithoutTypeRoundTrips()
    {
        QString error;
        const auto e = kcatjson::parse("{\"topic\":\"t\",\"partition\":0,\"offset\":1,\"ts\":1767261600500,\"key\":\"k\",\"payload\":\"v\"}", &error);
        QVERIFY2(e, qPrintable(error));
        QCOMPARE(e->timestampUs, 1767261600500000);
        const QByteArray line = kcatjson::serialize(*e);
        QCOMPARE(line, QByteArray("{\"topic\":\"t\",\"partition\":0,\"offset\":1,\"ts\":1767261600500,\"broker\":-1,\"key\":\"k\",\"payload\":\"v\"}"));
        const auto again = kcatjson::parse(line, &error);
        QVERIFY2(again, qPrintable(error));
        QCOMPARE(*again, *e);
    }

    void malformedLinesSayWhere_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("message");
        QTest::newRow("not json") << QByteArray("hello") << u"column 1: expected '{', found 'h'"_qs;
        QTest::newRow("cut") << QByteArray("{\"topic\":\"t\",\"partition\":0,\"offs") << u"column 33: unterminated string"_qs;
        QTest::newRow("bad number") << QByteArray("{\"topic\":\"t\",\"partition\":\"zero\"}") << u"column 26: expected a whole number"_qs;
        QTest::newRow("fraction") << QByteArray("{\"topic\":\"t\",\"offset\":1.5}") << u"column 23: expected a whole number"_qs;
        QTest::newRow("partition beyond 32 bits") << QByteArray("{\"topic\":\"t\",\"partition\":4294967297}")
                                                  << u"column 36: partition 4294967297 is out of range (a 32-bit number)"_qs;
        QTest::newRow("ts beyond 64 bits of us") << QByteArray("{\"topic\":\"t\",\"ts\":9223372036854776}")
                                                << u"column 35: ts 9223372036854776 is out of range (ms since the epoch)"_qs;
        QTest::newRow("no topic") << QByteArray("{\"partition\":0,\"offset\":1}") << u"no \"topic\" field: not a kcat -J envelope"_qs;
        QTest::newRow("trailing") << QByteArray("{\"topic\":\"t\"} x") << u"column 15: unexpected text after the JSON object"_qs;
        QTest::newRow("bad tstype") << QByteArray("{\"topic\":\"t\",\"tstype\":\"later\"}") << u"column 30: unknown tstype \"later\""_qs;
        QTest::newRow("bad base64") << QByteArray("{\"topic\":\"t\",\"payload\":\"!!\",\"payload_encoding\":\"base64\"}") << u"payload is not valid base64"_qs;
        QTest::newRow("headers odd") << QByteArray("{\"topic\":\"t\",\"headers\":[\"a\"]}") << u"column 28: expected ',', found ']'"_qs;
    }
    void malformedLinesSayWhere()
    {
        QFETCH(QByteArray, line);
        QFETCH(QString, message);
        QString error;
        QVERIFY(!kcatjson::parse(line, &error));
        QCOMPARE(error, message);
    }
};

QTEST_GUILESS_MAIN(TestKcatJson)
#include "tst_kcatjson.moc"
