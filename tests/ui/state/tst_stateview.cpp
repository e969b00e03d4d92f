// The "State" dock on the demo tape: the table the log implies at a point,
// scrubbing, the changed-rows highlight, search, export and "show events of
// this key" (through the window's filter bar and timeline).
#include "tests/common/shots.h"
#include "ui/browser/eventtablemodel.h"
#include "ui/browser/filterbar.h"
#include "ui/shell/mainwindow.h"
#include "ui/state/statemodel.h"
#include "ui/state/stateview.h"
#include "ui/timeline/timelineview.h"

#include "core/demo/demotape.h"
#include "core/state/logstate.h"
#include "core/tape/tape.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QDateTime>
#include <QFont>
#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestStateView : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_demo;
    std::shared_ptr<const Tape> m_tape;

    static bool settled(StateView &view)
    {
        return QTest::qWaitFor([&] {
            if (view.isBusy())
                return false;
            for (int r = 0; r < view.model()->rowCount(); ++r) {
                if (!view.model()->loadedRow(r))
                    return false;
            }
            return true;
        }, 10000);
    }
    static QStringList rowTexts(const StateModel *model, int row)
    {
        QStringList out;
        for (int c = 0; c < model->columnCount(); ++c)
            out << model->index(row, c).data().toString();
        return out;
    }
    static int rowWithKey(const StateModel *model, const QString &key)
    {
        for (int r = 0; r < model->rowCount(); ++r) {
            if (model->index(r, 0).data().toString() == key)
                return r;
        }
        return -1;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_demo = m_dir.filePath(u"demo.tape"_s);
        QString error;
        QVERIFY2(writeDemoTape(m_demo, &error), qPrintable(error));
        m_tape = Tape::open(m_demo, &error);
        QVERIFY2(m_tape, qPrintable(error));
    }

    void stateAtPoints()
    {
        StateView view;
        view.setUtc(true);
        QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy ready(&view, &StateView::stateReady);
        view.setTape(m_tape);
        QVERIFY(ready.wait(10000));
        QVERIFY(view.setTable(u"public.orders"_s));
        QVERIFY(settled(view));
        const StateModel *model = view.model();
        // The end of the tape: 8 orders, 1006 deleted.
        QCOMPARE(model->rowCount(), 7);
        QStringList headers;
        for (int c = 0; c < model->columnCount(); ++c)
            headers << model->headerData(c, Qt::Horizontal).toString();
        QCOMPARE(headers, (QStringList{u"id"_s, u"customer"_s, u"status"_s, u"amount"_s, u"Op"_s, u"Event"_s, u"Time"_s}));
        QVERIFY(model->headerData(0, Qt::Horizontal, StateModel::KeyColumnRole).toBool());
        QVERIFY(!model->headerData(1, Qt::Horizontal, StateModel::KeyColumnRole).toBool());
        const int r1004 = rowWithKey(model, u"1004"_s);
        QCOMPARE(r1004, 3);
        QCOMPARE(rowTexts(model, r1004).mid(0, 5), (QStringList{u"1004"_s, u"barbara"_s, u"cancelled"_s, u"1200.00"_s, u"update"_s}));
        QCOMPARE(rowWithKey(model, u"1006"_s), -1);

        // Scrub to just before the cancellation: 1004 is paid, and then the step to it highlights only 1004.
        const auto state = view.state();
        const int table = state->tableIndex(u"public.orders"_s);
        const quint32 key1004 = *state->findKey(table, "1004");
        const qint64 cancel = state->keyEvents(table, key1004).last();
        view.setEnd(cancel);
        QVERIFY(settled(view));
        QCOMPARE(view.slider()->value(), int(cancel));
        QCOMPARE(rowTexts(model, rowWithKey(model, u"1004"_s)).at(2), u"paid"_s);
        QCOMPARE(model->rowCount(), 8); // 1006 is not deleted yet
        view.setCurrentSeq(cancel); // the state after the cancel event
        QVERIFY(settled(view));
        QCOMPARE(view.end(), cancel + 1);
        QCOMPARE(rowTexts(model, rowWithKey(model, u"1004"_s)).at(2), u"cancelled"_s);
        for (int r = 0; r < model->rowCount(); ++r)
            QCOMPARE(model->index(r, 0).data(StateModel::ChangedRole).toBool(), r == rowWithKey(model, u"1004"_s));
        QVERIFY2(view.statusLabel()->text().contains(u"8 rows · 1 keys changed since the previous step"_s), qPrintable(view.statusLabel()->text()));

        // The slider scrubs (valueChanged) the same way.
        view.slider()->setValue(0);
        QVERIFY(settled(view));
        QCOMPARE(model->rowCount(), 0);
        view.slider()->setValue(view.slider()->maximum());
        QVERIFY(settled(view));
        QCOMPARE(model->rowCount(), 7);

        // Search: keys and values.
        view.setSearch(u"BARBARA"_s);
        QVERIFY(settled(view));
        QCOMPARE(model->rowCount(), 1);
        QCOMPARE(rowTexts(model, 0).at(0), u"1004"_s);
        view.setSearch(u"shipped"_s);
        QVERIFY(settled(view));
        QCOMPARE(model->rowCount(), 6);
        view.setSearch(u"1008"_s);
        QVERIFY(settled(view));
        QCOMPARE(model->rowCount(), 1);
        view.setSearch(QString());
        QVERIFY(settled(view));
        QCOMPARE(model->rowCount(), 7);

        // Kafka topics: key -> latest value, the tombstone deletes.
        QVERIFY(view.setTable(u"orders"_s));
        QVERIFY(settled(view));
        QCOMPARE(model->rowCount(), 7);
        QCOMPARE(model->headerData(0, Qt::Horizontal).toString(), u"Key"_s);
        QCOMPARE(rowTexts(model, rowWithKey(model, u"1004"_s)).at(1),
                 u"{\"id\":1004,\"customer\":\"barbara\",\"status\":\"paid\",\"amount\":\"1200.00\"}"_s);
    }

    void exportAndShowEvents()
    {
        StateView view;
        view.setUtc(true);
        QSignalSpy ready(&view, &StateView::stateReady);
        view.setTape(m_tape);
        QVERIFY(ready.wait(10000));
        QVERIFY(view.setTable(u"public.orders"_s));
        view.setSearch(u"barbara"_s);
        QVERIFY(settled(view));
        QCOMPARE(view.model()->rowCount(), 1);
        const LogStateRow row = *view.model()->loadedRow(0);
        const QString time = QDateTime::fromMSecsSinceEpoch(row.timestampUs / 1000, Qt::UTC).toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s);

        QSignalSpy exported(&view, &StateView::exportFinished);
        const QString csv = m_dir.filePath(u"state.csv"_s);
        view.exportRows(csv, false);
        QVERIFY(exported.wait(10000));
        QCOMPARE(exported.constLast().at(0).toLongLong(), 1);
        QVERIFY(exported.constLast().at(1).toString().isEmpty());
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), "id,customer,status,amount,Op,Event,Time\r\n1004,barbara,cancelled,1200.00,update," + QByteArray::number(row.seq)
                                  + ',' + time.toUtf8() + "\r\n");
        view.setSearch(QString());
        QVERIFY(settled(view));
        const QString jsonl = m_dir.filePath(u"state.jsonl"_s);
        view.exportRows(jsonl, true);
        QVERIFY(exported.wait(10000));
        QCOMPARE(exported.constLast().at(0).toLongLong(), 7);
        QFile j(jsonl);
        QVERIFY(j.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = j.readAll().split('\n');
        QCOMPARE(lines.size(), 8); // 7 rows and the final newline
        QCOMPARE(lines[3], "{\"id\":1004,\"customer\":\"barbara\",\"status\":\"cancelled\",\"amount\":\"1200.00\"}");
        QCOMPARE(view.statusLabel()->text(), u"Exported 7 rows."_s);

        // Show the events of the key.
        view.tableView()->setCurrentIndex(view.model()->index(3, 0));
        QSignalSpy show(&view, &StateView::showKeyEvents);
        view.showEventsButton()->click();
        QCOMPARE(show.size(), 1);
        const auto state = view.state();
        const int table = state->tableIndex(u"public.orders"_s);
        QCOMPARE(show.constFirst().at(1).value<QList<qint64>>(), state->keyEvents(table, *state->findKey(table, "1004")));
        QCOMPARE(show.constFirst().at(0).toString(), u"e.topic == \"public.orders\" && String(JSON.parse(e.key)[\"id\"]) == \"1004\""_s);
    }

    void inTheWindow()
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        QVERIFY(window.openFile(m_demo));
        window.showStateView();
        StateView *view = window.stateView();
        QVERIFY(view);
        QVERIFY(QTest::qWaitFor([&] { return view->state() != nullptr; }, 10000));
        QVERIFY(view->setTable(u"public.orders"_s));
        // The point follows the current event.
        window.tableView()->selectRow(10);
        QVERIFY(settled(*view));
        QCOMPARE(view->end(), 11);
        const auto state = view->state();
        const int table = state->tableIndex(u"public.orders"_s);
        const QList<qint64> events = state->keyEvents(table, *state->findKey(table, "1004"));
        // Show the events of 1004: the table filters to them, the last one is current.
        view->setCurrentSeq(-1);
        QVERIFY(settled(*view));
        view->tableView()->setCurrentIndex(view->model()->index(3, 0));
        view->showEventsButton()->click();
        QVERIFY(QTest::qWaitFor([&] { return window.model()->rowCount() == events.size(); }, 10000));
        QCOMPARE(window.filterBar()->appliedExpression(), view->filterForRow(3));
        for (int r = 0; r < events.size(); ++r)
            QCOMPARE(window.model()->seqForRow(r), events[r]);
        QCOMPARE(window.timelineView()->currentSeq(), events.last());
        QVERIFY(settled(*view));
        QCOMPARE(view->end(), events.last() + 1);
        window.resize(1500, 900);
        QVERIFY(window.grab().save(testing::shotPath(u"state-window.png"_s)));
        view->resize(700, 400);
        QVERIFY(view->grab().save(testing::shotPath(u"state-view.png"_s)));
    }
};

QTEST_MAIN(TestStateView)
#include "tst_stateview.moc"
