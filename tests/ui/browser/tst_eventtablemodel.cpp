#include "ui/browser/eventtablemodel.h"
#include "ui/common/roledelegate.h"
#include "core/tape/tape.h"
#include "tests/common/testtapes.h"

#include <QAbstractItemModelTester>
#include <QBrush>
#include <QFont>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestEventTableModel : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::shared_ptr<Tape> m_tape;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QString error;
        const QString path = m_dir.filePath(u"sample.tape"_s);
        QVERIFY2(testtapes::writeSampleTape(path, &error), qPrintable(error));
        m_tape = Tape::open(path, &error);
        QVERIFY2(m_tape, qPrintable(error));
    }

    void modelTester()
    {
        EventTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setTape(m_tape);
        QCOMPARE(model.rowCount(), 10);
        QCOMPARE(model.columnCount(), 8);
        model.setVisibleRows({1, 3, 8});
        QCOMPARE(model.rowCount(), 3);
        model.setUtc(true);
        model.clearFilter();
        QCOMPARE(model.rowCount(), 10);
        model.setTape(nullptr);
        QCOMPARE(model.rowCount(), 0);
    }

    void headers()
    {
        EventTableModel model;
        QStringList names;
        for (int c = 0; c < model.columnCount(); ++c)
            names << model.headerData(c, Qt::Horizontal).toString();
        QCOMPARE(names, (QStringList{u"Time"_s, u"Topic/Table"_s, u"Partition"_s, u"Position"_s, u"Key"_s,
                                     u"Value"_s, u"Size"_s, u"Headers"_s}));
    }

    void display_data()
    {
        QTest::addColumn<int>("row");
        QTest::addColumn<int>("column");
        QTest::addColumn<QString>("text");

        using M = EventTableModel;
        QTest::newRow("time utc") << 0 << int(M::TimeColumn) << u"2026-03-01 12:34:56.789"_s;
        QTest::newRow("time +1 ms") << 1 << int(M::TimeColumn) << u"2026-03-01 12:34:56.790"_s;
        QTest::newRow("no timestamp") << 5 << int(M::TimeColumn) << QString();
        QTest::newRow("topic") << 0 << int(M::TopicColumn) << u"orders"_s;
        QTest::newRow("table") << 6 << int(M::TopicColumn) << u"public.users"_s;
        QTest::newRow("partition") << 4 << int(M::PartitionColumn) << u"2"_s;
        QTest::newRow("no partition (postgres)") << 6 << int(M::PartitionColumn) << QString();
        QTest::newRow("offset") << 0 << int(M::PositionColumn) << u"100"_s;
        QTest::newRow("lsn") << 6 << int(M::PositionColumn) << u"1/6B3748"_s;
        QTest::newRow("key") << 0 << int(M::KeyColumn) << u"order-1"_s;
        QTest::newRow("null key") << 1 << int(M::KeyColumn) << QString();
        QTest::newRow("binary key") << 4 << int(M::KeyColumn) << u"\\x00\\xffk"_s;
        QTest::newRow("json value") << 0 << int(M::ValueColumn) << u"{\"id\":1,\"status\":\"NEW\",\"amount\":12.5}"_s;
        QTest::newRow("tombstone") << 3 << int(M::ValueColumn) << u"(tombstone)"_s;
        QTest::newRow("binary value") << 4 << int(M::ValueColumn) << u"\\x00\\x01\\x02\\xfftext\\\\"_s;
        QTest::newRow("newline in value") << 5 << int(M::ValueColumn) << u"hello world"_s;
        QTest::newRow("insert row") << 6 << int(M::ValueColumn) << u"INSERT id=1, name=alice, email=NULL"_s;
        QTest::newRow("update row") << 7 << int(M::ValueColumn) << u"UPDATE id=1, name=alicia, email=NULL"_s;
        QTest::newRow("long value") << 9 << int(M::ValueColumn) << QString(200, u'x') + u'…';
        QTest::newRow("size") << 0 << int(M::SizeColumn) << u"44"_s;
        QTest::newRow("size tombstone") << 3 << int(M::SizeColumn) << u"7"_s;
        QTest::newRow("one header") << 0 << int(M::HeadersColumn) << u"trace=abc"_s;
        QTest::newRow("two headers") << 2 << int(M::HeadersColumn) << u"a=1, b=2"_s;
        QTest::newRow("null header") << 4 << int(M::HeadersColumn) << u"retry=null"_s;
        QTest::newRow("many headers") << 8 << int(M::HeadersColumn) << u"8 headers"_s;
        QTest::newRow("no headers") << 1 << int(M::HeadersColumn) << QString();
    }

    void display()
    {
        QFETCH(int, row);
        QFETCH(int, column);
        QFETCH(QString, text);
        EventTableModel model;
        model.setUtc(true);
        model.setTape(m_tape);
        QCOMPARE(model.data(model.index(row, column)).toString(), text);
    }

    void localTime()
    {
        EventTableModel model;
        model.setTape(m_tape);
        QVERIFY(!model.isUtc());
        const QString expected = QDateTime::fromMSecsSinceEpoch(testtapes::BaseTimeUs / 1000)
                                     .toLocalTime()
                                     .toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s);
        QCOMPARE(model.data(model.index(0, EventTableModel::TimeColumn)).toString(), expected);
        QCOMPARE(model.headerData(EventTableModel::TimeColumn, Qt::Horizontal).toString(), u"Time"_s);
        model.setUtc(true);
        QCOMPARE(model.headerData(EventTableModel::TimeColumn, Qt::Horizontal).toString(), u"Time (UTC)"_s);
    }

    void roles()
    {
        EventTableModel model;
        model.setTape(m_tape);
        const QModelIndex tombstone = model.index(3, EventTableModel::ValueColumn);
        QCOMPARE(model.data(tombstone, EventTableModel::TombstoneRole).toBool(), true);
        // The model names states; the delegate gives them their looks from the palette.
        QVERIFY(!model.data(tombstone, Qt::FontRole).isValid());
        QVERIFY(!model.data(tombstone, Qt::ForegroundRole).isValid());
        std::unique_ptr<QStyledItemDelegate> delegate(EventTableModel::createDelegate(nullptr));
        auto *roles = qobject_cast<RoleDelegate *>(delegate.get());
        QVERIFY(roles);
        QCOMPARE(roles->styleOption(tombstone).font.italic(), true);
        QCOMPARE(roles->styleOption(tombstone).palette.color(QPalette::Text), Palette::color(Palette::Role::Tombstone));
        const QModelIndex normal = model.index(0, EventTableModel::ValueColumn);
        QCOMPARE(model.data(normal, EventTableModel::TombstoneRole).toBool(), false);
        QCOMPARE(roles->styleOption(normal).font.italic(), false);
        QCOMPARE(model.data(normal, EventTableModel::AbortedRole).toBool(), false);
        // A change event without a value is not a tombstone.
        QCOMPARE(model.data(model.index(6, 0), EventTableModel::TombstoneRole).toBool(), false);
        QCOMPARE(model.data(model.index(7, 0), EventTableModel::OperationRole).toInt(), int(Operation::Update));
        QCOMPARE(model.data(model.index(0, 0), EventTableModel::OperationRole).toInt(), int(Operation::Record));
        QCOMPARE(model.data(model.index(4, 0), EventTableModel::RawValueRole).toByteArray(),
                 QByteArray("\x00\x01\x02\xfftext\\", 9));
        QCOMPARE(model.data(model.index(5, 0), EventTableModel::SeqRole).toLongLong(), 5);
    }

    void visibleRows()
    {
        EventTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setUtc(true);
        model.setTape(m_tape);
        model.setVisibleRows({2, 4, 8});
        QVERIFY(model.isFiltered());
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.data(model.index(0, EventTableModel::KeyColumn)).toString(), u"order-3"_s);
        QCOMPARE(model.data(model.index(1, EventTableModel::TopicColumn)).toString(), u"payments"_s);
        QCOMPARE(model.data(model.index(2, EventTableModel::HeadersColumn)).toString(), u"8 headers"_s);
        QCOMPARE(model.data(model.index(2, 0), EventTableModel::SeqRole).toLongLong(), 8);
        QCOMPARE(model.seqForRow(1), 4);
        QCOMPARE(model.rowForSeq(8), 2);
        QCOMPARE(model.rowForSeq(3), -1);
        QCOMPARE(model.rowForSeq(100), -1);
        model.clearFilter();
        QCOMPARE(model.rowCount(), 10);
        QCOMPARE(model.rowForSeq(8), 8);
        QCOMPARE(model.rowForSeq(10), -1);
        model.setVisibleRows({});
        QCOMPARE(model.rowCount(), 0);
    }
};

QTEST_MAIN(TestEventTableModel)
#include "tst_eventtablemodel.moc"
