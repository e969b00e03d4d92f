#include "ui/browser/eventdetailpane.h"
#include "ui/browser/eventtablemodel.h"
#include "ui/browser/filterbar.h"
#include "ui/shell/mainwindow.h"
#include "ui/common/settings.h"
#include "tests/common/testtapes.h"

#include <QFile>
#include <QImage>
#include <QLineEdit>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestMainWindow : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_tapePath;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // Keep the user's settings and recent files out of it.
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir.filePath(u"config"_s)));
        QStandardPaths::setTestModeEnabled(true);
        m_tapePath = m_dir.filePath(u"sample.tape"_s);
        QString error;
        QVERIFY2(testtapes::writeSampleTape(m_tapePath, &error), qPrintable(error));
    }

    void browseAndFilter()
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.resize(1200, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));

        QVERIFY(window.openFile(m_tapePath));
        QCOMPARE(window.model()->rowCount(), 10);
        QVERIFY2(window.statusText().startsWith(u"10 events · 10 shown · "_s), qPrintable(window.statusText()));
        QVERIFY(window.statusText().endsWith(u" · test tape"_s));
        QCOMPARE(window.settings()->recentFiles().value(0), m_tapePath);
        QCOMPARE(window.windowTitle(), u"sample.tape — Tapedeck"_s);

        // Click row 2: the detail pane shows its value as indented JSON in the sender's key order.
        QTableView *view = window.tableView();
        const QModelIndex row2 = window.model()->index(2, EventTableModel::KeyColumn);
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->visualRect(row2).center());
        QCOMPARE(view->currentIndex().row(), 2);
        EventDetailPane *pane = window.detailPane();
        QCOMPARE(pane->valueText(), u"{\n"
                                    "    \"id\": 3,\n"
                                    "    \"status\": \"FAILED\",\n"
                                    "    \"customer\": {\n"
                                    "        \"name\": \"Zoë\",\n"
                                    "        \"vip\": true\n"
                                    "    },\n"
                                    "    \"tags\": []\n"
                                    "}\n"_s);
        QVERIFY(pane->isJson());
        QCOMPARE(pane->currentTab(), EventDetailPane::ValueTab);
        QCOMPARE(pane->field(u"Topic"_s), u"orders"_s);
        QCOMPARE(pane->field(u"Offset"_s), u"101"_s);
        QCOMPARE(pane->field(u"Key"_s), u"order-3"_s);
        QCOMPARE(pane->field(u"Headers"_s), u"2"_s);

        // Down arrow to the binary event 4 (via 3, the tombstone): the hex view is chosen.
        QTest::keyClick(view, Qt::Key_Down);
        QCOMPARE(pane->valueText(), u"(tombstone: null value)"_s);
        QTest::keyClick(view, Qt::Key_Down);
        QCOMPARE(view->currentIndex().row(), 4);
        QCOMPARE(pane->currentTab(), EventDetailPane::HexTab);
        QCOMPARE(pane->hexText(), u"00000000: 0001 02ff 7465 7874 5c                   ....text\\\n"_s);
        QCOMPARE(pane->field(u"Key"_s), u"\\x00\\xffk"_s);
        if (qEnvironmentVariableIsSet("TAPEDECK_SCREENSHOT"))
            window.grab().save(qEnvironmentVariable("TAPEDECK_SCREENSHOT").replace(u".png"_s, u"-all.png"_s));

        // An invalid filter is flagged as you type, with the column of the error.
        FilterBar *bar = window.filterBar();
        QCOMPARE(bar->state(), FilterBar::State::Empty);
        QTest::keyClicks(bar->lineEdit(), u"e.key =="_s);
        QTRY_COMPARE(bar->state(), FilterBar::State::Invalid);
        QCOMPARE(bar->message(), u"Column 9: Expected an expression"_s);
        QSignalSpy applied(bar, &FilterBar::filterApplied);
        QTest::keyClick(bar->lineEdit(), Qt::Key_Return);
        QTest::qWait(100);
        QCOMPARE(applied.size(), 0);
        QCOMPARE(window.model()->rowCount(), 10);

        // A valid one is applied in the background on Enter.
        bar->lineEdit()->clear();
        QTest::keyClicks(bar->lineEdit(), u"e.json?.status == \"FAILED\""_s);
        QTRY_COMPARE(bar->state(), FilterBar::State::Valid);
        QTest::keyClick(bar->lineEdit(), Qt::Key_Return);
        QVERIFY(applied.wait(10000));
        const FilterResult result = applied.at(0).at(0).value<FilterResult>();
        QCOMPARE(result.rows, (QVector<quint32>{1, 2}));
        QCOMPARE(window.model()->rowCount(), 2);
        QCOMPARE(window.model()->data(window.model()->index(1, EventTableModel::KeyColumn)).toString(), u"order-3"_s);
        QVERIFY2(window.statusText().startsWith(u"10 events · 2 shown · "_s), qPrintable(window.statusText()));
        QCOMPARE(bar->state(), FilterBar::State::Valid);
        QVERIFY2(bar->message().startsWith(u"2 of 10 events match"_s), qPrintable(bar->message()));
        // Event 4 was selected and is filtered out: the nearest shown event (2, the last) is selected.
        QCOMPARE(view->currentIndex().row(), 1);
        QCOMPARE(pane->field(u"Key"_s), u"order-3"_s);
        QCOMPARE(pane->currentTab(), EventDetailPane::ValueTab);

        // Screenshot for humans, and proof that the window paints.
        const QImage shot = window.grab().toImage();
        QCOMPARE(shot.size(), window.size() * shot.devicePixelRatio());
        const QString png = m_dir.filePath(u"mainwindow.png"_s);
        QVERIFY(shot.save(png));
        QVERIFY(QFileInfo(png).size() > 1000);
        if (qEnvironmentVariableIsSet("TAPEDECK_SCREENSHOT")) // to look at by hand
            shot.save(qEnvironmentVariable("TAPEDECK_SCREENSHOT"));

        // Escape removes the filter and keeps the selection.
        QSignalSpy cleared(bar, &FilterBar::filterCleared);
        window.tableView()->selectRow(1);
        QCOMPARE(window.model()->seqForRow(window.tableView()->currentIndex().row()), 2);
        bar->lineEdit()->setFocus();
        QTest::keyClick(bar->lineEdit(), Qt::Key_Escape);
        QCOMPARE(cleared.size(), 1);
        QCOMPARE(bar->state(), FilterBar::State::Empty);
        QCOMPARE(bar->text(), QString());
        QCOMPARE(window.model()->rowCount(), 10);
        QCOMPARE(window.tableView()->currentIndex().row(), 2);
    }

    void changeEventShowsRows()
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        QVERIFY(window.openFile(m_tapePath));
        window.tableView()->selectRow(7);
        EventDetailPane *pane = window.detailPane();
        QCOMPARE(pane->currentTab(), EventDetailPane::RowTab);
        QCOMPARE(pane->field(u"Operation"_s), u"update"_s);
        QCOMPARE(pane->field(u"LSN"_s), u"1/6B3848"_s);
    }

    void corruptTapeReportsError()
    {
        const QString path = m_dir.filePath(u"corrupt.tape"_s);
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray(4096, 'z'));
        file.close();
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        QVERIFY(window.openFile(m_tapePath));
        QVERIFY(!window.openFile(path));
        QVERIFY2(window.lastError().startsWith(path), qPrintable(window.lastError()));
        // The open tape stays.
        QCOMPARE(window.model()->rowCount(), 10);
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
