// "Compare with Table…" end to end on the bundled demo (embedded in this test
// as in the app): open the demo, compare public.orders with the demo's SQLite
// orders, get exactly the injected keys, jump to a key's events, write the
// repair SQL, repair by replay (with the confirmation naming the target),
// compare again: equal.
#include "tests/common/shots.h"
#include "ui/state/diffdialog.h"
#include "ui/browser/eventtablemodel.h"
#include "ui/browser/filterbar.h"
#include "ui/shell/mainwindow.h"
#include "ui/state/stateview.h"
#include "ui/timeline/timelineview.h"

#include "connectors/sinks/sinkfactory.h"
#include "core/tape/tape.h"

#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

QStringList summary(const DiffResult &r)
{
    QStringList out;
    for (const DiffEntry &e : r.entries) {
        QString line = QString::fromUtf8(e.key.value(0).value_or("NULL"));
        line += e.kind == DiffEntry::Kind::Missing ? u" missing"_s : e.kind == DiffEntry::Kind::Extra ? u" extra"_s : u" differs"_s;
        for (const ColumnDifference &d : e.differences)
            line += u' ' + d.column;
        out.append(line);
    }
    out.sort();
    return out;
}

} // namespace

class TestDiffUi : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY2(QFile::exists(MainWindow::demoResourcePath()), "the demo tape is embedded in this test");
        QVERIFY(QFile::exists(MainWindow::demoOrdersResourcePath()));
    }

    void demoCompareRepairCompare()
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.setSinkFactory(&createSink);
        window.setTableReaderFactory(&createTableReader);
        QVERIFY(window.openDemo());
        QVERIFY(QFile::exists(window.demoOrdersPath()));
        QVERIFY(QFileInfo(window.demoOrdersPath()).isWritable());

        window.showCompareDialog();
        DiffDialog *dialog = window.compareDialog();
        QVERIFY(dialog);
        QVERIFY(window.stateView());
        QVERIFY(QTest::qWaitFor([&] { return dialog->stateTableBox()->count() > 0; }, 10000));
        // The demo's story is filled in.
        QCOMPARE(dialog->sqlitePathEdit()->text(), window.demoOrdersPath());
        QCOMPARE(dialog->tableEdit()->text(), u"orders"_s);
        QCOMPARE(dialog->stateTableBox()->currentData().toString(), u"public.orders"_s);
        QVERIFY(dialog->compareButton()->isEnabled());
        QVERIFY(!dialog->repairReplayButton()->isEnabled());

        QSignalSpy finished(dialog, &DiffDialog::finished);
        dialog->compareButton()->click();
        QVERIFY(dialog->isRunning());
        QVERIFY(finished.wait(20000));
        QVERIFY2(finished.constLast().at(0).toBool(), qPrintable(dialog->lastError()));
        QCOMPARE(summary(dialog->result()), (QStringList{u"1002 differs customer"_s, u"1005 differs status"_s, u"1006 extra"_s, u"1008 missing"_s}));
        QCOMPARE(dialog->resultTree()->topLevelItemCount(), 4);
        QVERIFY2(dialog->summaryLabel()->text().contains(u"4 differences"_s), qPrintable(dialog->summaryLabel()->text()));
        QVERIFY(dialog->repairSqlButton()->isEnabled());
        QVERIFY(dialog->repairReplayButton()->isEnabled());
        dialog->resize(1000, 560);
        QVERIFY(dialog->grab().save(testing::shotPath(u"state-diff.png"_s)));

        // A click on 1005 jumps to its events: the table filters to them, the last is current.
        QTreeWidgetItem *stale = nullptr;
        for (int i = 0; i < dialog->resultTree()->topLevelItemCount(); ++i) {
            if (dialog->resultTree()->topLevelItem(i)->text(0) == u"1005"_s)
                stale = dialog->resultTree()->topLevelItem(i);
        }
        QVERIFY(stale);
        QCOMPARE(stale->text(1), u"differs: status"_s);
        QCOMPARE(stale->text(2), u"shipped"_s); // in the log
        QCOMPARE(stale->text(3), u"paid"_s);    // in the table
        QCOMPARE(stale->childCount(), 0);       // one column: on the key's own line
        Q_EMIT dialog->resultTree()->itemActivated(stale, 0);
        const auto state = window.stateView()->state();
        const int table = state->tableIndex(u"public.orders"_s);
        const QList<qint64> events = state->keyEvents(table, *state->findKey(table, "1005"));
        QCOMPARE(events.size(), 3);
        QVERIFY(QTest::qWaitFor([&] { return window.model()->rowCount() == events.size(); }, 10000));
        QCOMPARE(window.timelineView()->currentSeq(), events.last());

        // The repair script.
        QTemporaryDir dir;
        const QString script = dir.filePath(u"repair.sql"_s);
        QString error;
        QVERIFY2(dialog->writeRepairSql(script, &error), qPrintable(error));
        QFile f(script);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray sql = f.readAll();
        QVERIFY2(sql.contains("BEGIN;") && sql.contains("COMMIT;") && sql.contains("DELETE FROM \"orders\""), sql.constData());

        // Repair by replay: refused first (nothing written), then confirmed.
        dialog->setConfirmHandler([](const QString &) { return false; });
        dialog->repairReplayButton()->click();
        QVERIFY(!dialog->isRunning());
        QVERIFY2(dialog->lastQuestion().contains(u"Repair the table orders in sqlite:%1?"_s.arg(window.demoOrdersPath())),
                 qPrintable(dialog->lastQuestion()));
        QVERIFY(dialog->lastQuestion().contains(u"1 inserts of missing rows, 2 updates of differing rows, 1 deletes of extra rows"_s));
        dialog->setConfirmHandler([](const QString &) { return true; });
        dialog->repairReplayButton()->click();
        QVERIFY(dialog->isRunning());
        QVERIFY(finished.wait(20000));
        QVERIFY2(finished.constLast().at(0).toBool(), qPrintable(dialog->lastError()));
        QVERIFY(dialog->result().equal());
        QVERIFY2(dialog->summaryLabel()->text().startsWith(u"Repaired: 4 rows written"_s), qPrintable(dialog->summaryLabel()->text()));
        QCOMPARE(dialog->resultTree()->topLevelItemCount(), 0);
        QVERIFY(!dialog->repairReplayButton()->isEnabled());
        dialog->grab().save(testing::shotPath(u"state-diff-repaired.png"_s));

        // Compare again, from scratch: equal.
        dialog->compareButton()->click();
        QVERIFY(finished.wait(20000));
        QVERIFY(dialog->result().equal());
        QCOMPARE(dialog->result().equalRows, 7);
        QVERIFY2(dialog->summaryLabel()->text().contains(u"Equal"_s), qPrintable(dialog->summaryLabel()->text()));

        window.resize(1500, 900);
        QVERIFY(window.grab().save(testing::shotPath(u"state-demo-window.png"_s)));
    }

    void errorsShownInline()
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.setSinkFactory(&createSink);
        window.setTableReaderFactory(&createTableReader);
        QVERIFY(window.openDemo());
        window.showCompareDialog();
        DiffDialog *dialog = window.compareDialog();
        QVERIFY(QTest::qWaitFor([&] { return dialog->stateTableBox()->count() > 0; }, 10000));
        dialog->tableEdit()->setText(u"nope"_s);
        QSignalSpy finished(dialog, &DiffDialog::finished);
        dialog->compareButton()->click();
        QVERIFY(finished.wait(20000));
        QVERIFY(!finished.constLast().at(0).toBool());
        QVERIFY2(!dialog->lastError().isEmpty() && dialog->summaryLabel()->text().contains(u"nope"_s), qPrintable(dialog->summaryLabel()->text()));
        dialog->sqlitePathEdit()->setText(u"/nonexistent/x.sqlite"_s);
        QVERIFY(!dialog->compareButton()->isEnabled());
        QCOMPARE(dialog->problemLabel()->text(), u"/nonexistent/x.sqlite does not exist."_s);
    }
};

QTEST_MAIN(TestDiffUi)
#include "tst_diffui.moc"
