#include "tests/common/shots.h"
#include "ui/browser/eventtablemodel.h"
#include "ui/compaction/compactionpanel.h"
#include "ui/shell/mainwindow.h"
#include "ui/state/stateview.h"
#include "core/demo/demotape.h"
#include "core/event/event.h"

#include <QApplication>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace tapedeck;

class TestPalette : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_demo;

    // The main window on the demo tape with the timeline, compaction and
    // state docks and an update in the detail pane, grabbed to `name`.
    void shootMainWindow(const QString &name)
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.resize(1600, 1400);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.openFile(m_demo));
        window.showCompactionPreview();
        window.showStateView();
        QTRY_VERIFY_WITH_TIMEOUT(!window.compactionPanel()->isBusy(), 10000);
        // The last update, so that the detail pane shows a changed cell.
        EventTableModel *model = window.model();
        int update = -1;
        for (int r = 0; r < model->rowCount(); ++r) {
            if (model->index(r, 0).data(EventTableModel::OperationRole).toInt() == int(Operation::Update))
                update = r;
        }
        QVERIFY(update >= 0);
        window.tableView()->selectRow(update);
        QTRY_VERIFY_WITH_TIMEOUT(!window.stateView()->isBusy(), 10000);
        QTest::qWait(500);
        QVERIFY(window.grab().save(testing::shotPath(name)));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir.filePath(u"config"_s)));
        QStandardPaths::setTestModeEnabled(true);
        m_demo = m_dir.filePath(u"demo.tape"_s);
        QString error;
        QVERIFY2(writeDemoTape(m_demo, &error), qPrintable(error));
    }

    void mainWindowLight() { shootMainWindow(u"tapedeck-light.png"_s); }
};

QTEST_MAIN(TestPalette)
#include "tst_palette.moc"
