#include "core/event/event.h"
#include "tests/common/testevents.h"

#include <QTest>

using namespace tapedeck;

class TestEvent : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void operationNamesRoundTrip_data()
    {
        QTest::addColumn<int>("op");
        QTest::addColumn<QString>("name");
        QTest::newRow("record") << int(Operation::Record) << u"record"_qs;
        QTest::newRow("insert") << int(Operation::Insert) << u"insert"_qs;
        QTest::newRow("update") << int(Operation::Update) << u"update"_qs;
        QTest::newRow("delete") << int(Operation::Delete) << u"delete"_qs;
        QTest::newRow("truncate") << int(Operation::Truncate) << u"truncate"_qs;
        QTest::newRow("begin") << int(Operation::Begin) << u"begin"_qs;
        QTest::newRow("commit") << int(Operation::Commit) << u"commit"_qs;
        QTest::newRow("message") << int(Operation::Message) << u"message"_qs;
        QTest::newRow("read") << int(Operation::Read) << u"read"_qs;
    }
    void operationNamesRoundTrip()
    {
        QFETCH(int, op);
        QFETCH(QString, name);
        QCOMPARE(toString(Operation(op)), name);
        QVERIFY(operationFromString(name) == std::optional<Operation>(Operation(op)));
    }
    void unknownNames()
    {
        QVERIFY(!operationFromString(u"upsert"));
        QVERIFY(!sourceKindFromString(u"mysql"));
        QVERIFY(sourceKindFromString(u"postgres") == std::optional<SourceKind>(SourceKind::Postgres));
    }
    void nullAndEmptyDiffer()
    {
        Event a = testing::kafkaEvent(1);
        Event b = a;
        QCOMPARE(a, b);
        a.value = QByteArray();
        b.value = std::nullopt;
        QVERIFY(!a.isTombstone());
        QVERIFY(b.isTombstone());
        QVERIFY(a != b);
        a.headers = {{"h", std::nullopt}};
        b.headers = {{"h", QByteArray("")}};
        b.value = QByteArray();
        QVERIFY(a != b);
    }
    void timestampMillisRoundsDown_data()
    {
        QTest::addColumn<qint64>("us");
        QTest::addColumn<qint64>("ms");
        QTest::newRow("exact") << qint64(1767261600000000) << qint64(1767261600000);
        QTest::newRow("fraction") << qint64(1767261600000999) << qint64(1767261600000);
        QTest::newRow("negative") << qint64(-1500) << qint64(-2);
        QTest::newRow("minus one ms") << qint64(-1000) << qint64(-1);
    }
    void timestampMillisRoundsDown()
    {
        QFETCH(qint64, us);
        QFETCH(qint64, ms);
        Event e;
        e.timestampUs = us;
        QCOMPARE(e.timestampMs(), ms);
    }
};

QTEST_GUILESS_MAIN(TestEvent)
#include "tst_event.moc"
