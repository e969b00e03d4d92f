// The Kafka GUI over the built-in demo cluster (librdkafka's mock cluster in
// this process): cluster browser, connection profiles, recording from the
// dialog, a live (follow) recording and an unreachable broker.
#include "tests/common/shots.h"
#include "ui/browser/eventtablemodel.h"
#include "ui/kafka/kafkaclusterbrowser.h"
#include "ui/kafka/kafkaconnectiondialog.h"
#include "ui/kafka/kafkarecorddialog.h"
#include "ui/kafka/kafkasession.h"
#include "ui/shell/mainwindow.h"
#include "ui/recording/recordingcontroller.h"
#include "ui/common/settings.h"

#include "core/demo/demotape.h"
#include "connectors/kafka/kafkaproducer.h"
#include "connectors/kafka/rdkafkaservice.h"
#include "core/tape/tape.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QTreeWidget>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

constexpr int KafkaTimeoutMs = 20000;

QTreeWidgetItem *child(QTreeWidgetItem *parent, const QString &name)
{
    for (int i = 0; i < parent->childCount(); ++i) {
        if (parent->child(i)->text(KafkaClusterBrowser::NameColumn) == name)
            return parent->child(i);
    }
    return nullptr;
}

QTreeWidgetItem *topLevel(QTreeWidget *tree, const QString &name)
{
    for (int i = 0; i < tree->topLevelItemCount(); ++i) {
        if (tree->topLevelItem(i)->text(KafkaClusterBrowser::NameColumn) == name)
            return tree->topLevelItem(i);
    }
    return nullptr;
}

} // namespace

class TestKafkaUi : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_demoTape;

    // A window with the service, browsing a freshly started demo cluster.
    bool startDemo(MainWindow &window, RdKafkaService &service)
    {
        window.setErrorDialogsEnabled(false);
        window.setKafkaService(&service);
        window.resize(1400, 860);
        window.show();
        if (!QTest::qWaitForWindowExposed(&window))
            return false;
        window.kafka()->startDemoCluster(m_demoTape);
        KafkaClusterBrowser *browser = window.kafka()->browser();
        if (!QTest::qWaitFor([&] { return browser->clusterInfo().has_value() || !browser->errorText().isEmpty(); },
                             KafkaTimeoutMs)) {
            qWarning() << "demo cluster not described:" << window.kafka()->statusText();
            return false;
        }
        if (!browser->errorText().isEmpty())
            qWarning() << browser->errorText();
        return browser->clusterInfo().has_value();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir.filePath(u"config"_s)));
        qputenv("XDG_CACHE_HOME", QFile::encodeName(m_dir.filePath(u"cache"_s)));
        QStandardPaths::setTestModeEnabled(true);
        m_demoTape = m_dir.filePath(u"demo.tape"_s);
        QString error;
        QVERIFY2(writeDemoTape(m_demoTape, &error), qPrintable(error));
    }

    void browserShowsDemoCluster()
    {
        RdKafkaService service;
        MainWindow window;
        QVERIFY(startDemo(window, service));
        KafkaSession *kafka = window.kafka();
        KafkaClusterBrowser *browser = kafka->browser();
        QVERIFY(kafka->browserDock()->isVisible());
        const QString bootstrap = kafka->demoBootstrap();
        QVERIFY2(bootstrap.startsWith(u"127.0.0.1:"_s), qPrintable(bootstrap));
        QVERIFY2(kafka->statusText().contains(bootstrap), qPrintable(kafka->statusText()));
        QVERIFY2(browser->headerText().contains(u"kcat -b %1 -L"_s.arg(bootstrap)), qPrintable(browser->headerText()));
        QVERIFY(browser->errorText().isEmpty());

        QTreeWidget *tree = browser->tree();
        QTreeWidgetItem *brokers = topLevel(tree, u"Brokers"_s);
        QVERIFY(brokers);
        QVERIFY(brokers->childCount() >= 1);
        QTreeWidgetItem *topics = topLevel(tree, u"Topics"_s);
        QVERIFY(topics);
        QStringList names;
        for (int i = 0; i < topics->childCount(); ++i)
            names.append(topics->child(i)->text(KafkaClusterBrowser::NameColumn));
        QCOMPARE(names, (QStringList{u"customers"_s, u"orders"_s, u"payments"_s}));

        struct Expected
        {
            QString topic;
            int partition;
            QString low, high;
        };
        const QList<Expected> expected = {{u"customers"_s, 0, u"0"_s, u"13"_s},
                                          {u"orders"_s, 0, u"0"_s, u"11"_s},
                                          {u"orders"_s, 1, u"0"_s, u"12"_s},
                                          {u"payments"_s, 0, u"0"_s, u"10"_s}};
        for (const Expected &e : expected) {
            QTreeWidgetItem *topic = child(topics, e.topic);
            QVERIFY(topic);
            QTreeWidgetItem *partition = child(topic, u"partition %1"_s.arg(e.partition));
            QVERIFY2(partition, qPrintable(e.topic));
            QCOMPARE(partition->text(KafkaClusterBrowser::LowColumn), e.low);
            QCOMPARE(partition->text(KafkaClusterBrowser::HighColumn), e.high);
        }
        QTreeWidgetItem *orders = child(topics, u"orders"_s);
        QVERIFY2(orders->text(KafkaClusterBrowser::DetailColumn).startsWith(u"2 partitions · replication 1"_s),
                 qPrintable(orders->text(KafkaClusterBrowser::DetailColumn)));
        QCOMPARE(orders->text(KafkaClusterBrowser::RecordsColumn), u"23"_s);
        // The demo cluster does not answer DescribeConfigs: said so, not an error.
        QVERIFY(child(orders, u"configs"_s)->text(KafkaClusterBrowser::DetailColumn).startsWith(u"not read"_s));

        // Two refreshes in a row: the first result is stale and dropped.
        QSignalSpy loaded(browser, &KafkaClusterBrowser::loaded);
        browser->refresh();
        browser->refresh();
        QVERIFY(browser->isLoading());
        QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, KafkaTimeoutMs);
        QTest::qWait(300);
        QCOMPARE(loaded.size(), 1);
        QCOMPARE(browser->clusterInfo()->topics.size(), 3);

        window.grab().save(testing::shotPath(u"tapedeck-kafka-browser.png"_s));
    }

    void recordFromDialog()
    {
        RdKafkaService service;
        MainWindow window;
        QVERIFY(startDemo(window, service));
        KafkaSession *kafka = window.kafka();
        kafka->showRecordDialog();
        KafkaRecordDialog *dialog = kafka->recordDialog();
        QVERIFY(dialog);
        QVERIFY(dialog->isVisible());
        QCOMPARE(dialog->topicList()->count(), 3);
        // Nothing ticked: cannot record, and the dialog says why.
        QVERIFY(!dialog->recordButton()->isEnabled());
        QVERIFY(dialog->messageLabel()->text().contains(u"Tick the topics"_s));
        for (int i = 0; i < dialog->topicList()->count(); ++i)
            dialog->topicList()->item(i)->setCheckState(Qt::Checked);
        QVERIFY(dialog->recordButton()->isEnabled());

        // An offset start needs an offset.
        dialog->startCombo()->setCurrentIndex(KafkaRecordDialog::StartOffset);
        QVERIFY(!dialog->recordButton()->isEnabled());
        QVERIFY(dialog->messageLabel()->text().contains(u"Start at"_s));
        QTest::keyClicks(dialog->startEdit(), u"x"_s);
        QVERIFY(!dialog->recordButton()->isEnabled());
        dialog->startEdit()->clear();
        QTest::keyClicks(dialog->startEdit(), u"0"_s);
        QVERIFY(dialog->recordButton()->isEnabled());
        // A partition that no ticked topic has.
        QTest::keyClicks(dialog->partitionsEdit(), u"5"_s);
        QVERIFY(!dialog->recordButton()->isEnabled());
        dialog->partitionsEdit()->clear();
        dialog->startCombo()->setCurrentIndex(KafkaRecordDialog::StartBeginning);
        QCOMPARE(dialog->stopCombo()->currentIndex(), int(KafkaRecordDialog::StopEndNow));
        dialog->isolationCombo()->setCurrentIndex(1);
        const KafkaRecordOptions options = dialog->options();
        QCOMPARE(options.topics, (QStringList{u"customers"_s, u"orders"_s, u"payments"_s}));
        QVERIFY(!options.follow);
        QVERIFY(!options.readCommitted);
        QVERIFY(!options.readConfigs);

        QSignalSpy finished(kafka, &KafkaSession::recordingFinished);
        QTest::mouseClick(dialog->recordButton(), Qt::LeftButton);
        QVERIFY(kafka->isRecording());
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, KafkaTimeoutMs);
        QCOMPARE(finished.at(0).at(0).toString(), QString());
        QCOMPARE(window.model()->rowCount(), 46);

        const QString path = kafka->recording()->tapePath();
        QVERIFY2(path.startsWith(QStandardPaths::writableLocation(QStandardPaths::CacheLocation)), qPrintable(path));
        QCOMPARE(window.tape()->path(), path);
        QVERIFY(window.tape()->isComplete());
        QString error;
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        QCOMPARE(tape->eventCount(), 46);
        QVERIFY(tape->isComplete());
        QVERIFY2(kafka->statusText().startsWith(u"Recorded 46 records"_s), qPrintable(kafka->statusText()));
        // Not a recent file: it is temporary until saved.
        QVERIFY(!window.settings()->recentFiles().contains(path));
    }

    void followAppendsRows()
    {
        RdKafkaService service;
        MainWindow window;
        QVERIFY(startDemo(window, service));
        KafkaSession *kafka = window.kafka();
        QAbstractItemModelTester tester(window.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        kafka->browser()->tree()->clearSelection();
        kafka->showRecordDialog({u"orders"_s});
        KafkaRecordDialog *dialog = kafka->recordDialog();
        QVERIFY(dialog);
        dialog->stopCombo()->setCurrentIndex(KafkaRecordDialog::StopFollow);
        // Marking aborted records needs a bounded range.
        QVERIFY(!dialog->showAbortedCheckBox()->isEnabled());
        QVERIFY(dialog->recordButton()->isEnabled());
        QTest::mouseClick(dialog->recordButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(window.model()->rowCount(), 23, KafkaTimeoutMs);
        QVERIFY(kafka->isRecording());

        QTableView *view = window.tableView();
        view->selectRow(2);
        view->scrollToBottom();
        QCOMPARE(view->verticalScrollBar()->value(), view->verticalScrollBar()->maximum());
        QSignalSpy inserted(window.model(), &QAbstractItemModel::rowsInserted);
        QSignalSpy reset(window.model(), &QAbstractItemModel::modelReset);

        KafkaProducer producer(*service.demoCluster());
        QString error;
        QVERIFY2(producer.open(&error), qPrintable(error));
        constexpr int Produced = 200;
        for (int i = 0; i < Produced; ++i) {
            const QByteArray key = "order-" + QByteArray::number(2000 + i);
            const QByteArray value = R"({"id":)" + QByteArray::number(2000 + i) + R"(,"status":"NEW","live":true})";
            QVERIFY2(producer.produce(u"orders"_s, i % 2, key, value, {}, 0, &error), qPrintable(error));
        }
        QVERIFY2(producer.flush(&error), qPrintable(error));
        QTRY_COMPARE_WITH_TIMEOUT(window.model()->rowCount(), 23 + Produced, KafkaTimeoutMs);
        // Appended in batches (at ~25 fps), never reset, never one by one.
        QVERIFY(inserted.size() >= 1);
        QVERIFY2(inserted.size() < Produced / 4, qPrintable(QString::number(inserted.size())));
        QCOMPARE(reset.size(), 0);
        QCOMPARE(view->currentIndex().row(), 2);
        QTRY_COMPARE(view->verticalScrollBar()->value(), view->verticalScrollBar()->maximum());
        QVERIFY(view->verticalScrollBar()->maximum() > 0);
        QVERIFY2(kafka->statusText().contains(u"223 records"_s), qPrintable(kafka->statusText()));
        QVERIFY2(window.statusText().contains(u"incomplete"_s), qPrintable(window.statusText()));
        QTest::qWait(1300); // the timeline takes a snapshot a second
        window.grab().save(testing::shotPath(u"tapedeck-kafka-recording.png"_s));

        // Stop, from the menu.
        QSignalSpy finished(kafka, &KafkaSession::recordingFinished);
        QAction *stop = nullptr;
        const QList<QAction *> actions = kafka->menu()->actions();
        for (QAction *a : actions) {
            if (a->text() == u"&Stop Recording"_s)
                stop = a;
        }
        QVERIFY(stop && stop->isEnabled());
        stop->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, KafkaTimeoutMs);
        QCOMPARE(finished.at(0).at(0).toString(), QString());
        QVERIFY(!stop->isEnabled());
        QVERIFY(window.tape()->isComplete());
        QCOMPARE(window.tape()->eventCount(), 23 + Produced);
        QCOMPARE(window.model()->rowCount(), 23 + Produced);
    }

    void recordingErrorIsShown()
    {
        RdKafkaService service;
        MainWindow window;
        QVERIFY(startDemo(window, service));
        KafkaSession *kafka = window.kafka();
        KafkaRecordOptions options;
        options.connection = *service.demoCluster();
        options.topics = {u"no-such-topic"_s};
        options.timeoutMs = 3000;
        QSignalSpy finished(kafka, &KafkaSession::recordingFinished);
        QVERIFY(kafka->startRecording(options));
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, KafkaTimeoutMs);
        const QString error = finished.at(0).at(0).toString();
        QVERIFY(!error.isEmpty());
        QVERIFY2(kafka->statusText().startsWith(u"Recording failed: "_s), qPrintable(kafka->statusText()));
        QCOMPARE(kafka->lastError(), error);
        QVERIFY(!kafka->isRecording());
    }

    void profilesSaveNoSecrets()
    {
        const QString propertiesFile = m_dir.filePath(u"client.properties"_s);
        {
            QFile f(propertiesFile);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("# as kcat -F reads it\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"
                    "sasl.username=alice\nsasl.password=hunter2\n");
        }
        QString settingsPath;
        {
            Settings settings;
            KafkaConnectionDialog dialog(&settings);
            QVERIFY(!dialog.connectButton()->isEnabled()); // no bootstrap servers yet
            QTest::keyClicks(dialog.nameEdit(), u"staging"_s);
            QTest::keyClicks(dialog.bootstrapEdit(), u"broker1:9093,broker2:9093"_s);
            QString error;
            QVERIFY2(dialog.loadPropertiesFile(propertiesFile, &error), qPrintable(error));
            QVERIFY(dialog.connectButton()->isEnabled());
            QVERIFY2(dialog.messageLabel()->text().contains(u"sasl.password"_s), qPrintable(dialog.messageLabel()->text()));
            // A broken line says where.
            dialog.propertiesEdit()->appendPlainText(u"oops"_s);
            QVERIFY(!dialog.connectButton()->isEnabled());
            QVERIFY2(dialog.messageLabel()->text().contains(u"line 6: expected name=value, got &quot;oops&quot;"_s),
                     qPrintable(dialog.messageLabel()->text()));
            dialog.propertiesEdit()->setPlainText(dialog.propertiesEdit()->toPlainText().remove(u"\noops"_s));
            QVERIFY(dialog.connectButton()->isEnabled());
            const KafkaConnection c = dialog.connection();
            QVERIFY(c.properties.contains(std::pair(u"sasl.password"_s, u"hunter2"_s)));
            dialog.accept();
            QCOMPARE(settings.kafkaProfileNames(), QStringList{u"staging"_s});
            QStringList secretNames;
            const auto profile = settings.kafkaProfile(u"staging"_s, &secretNames);
            QVERIFY(profile);
            QCOMPARE(profile->bootstrap, u"broker1:9093,broker2:9093"_s);
            QCOMPARE(profile->properties.size(), 3);
            QCOMPARE(secretNames, QStringList{u"sasl.password"_s});
            settingsPath = QSettings(u"Tapedeck"_s, u"tapedeck"_s).fileName();
        }
        // On disk: the user name, never the password.
        QFile file(settingsPath);
        QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(settingsPath));
        const QByteArray text = file.readAll();
        QVERIFY(text.contains("sasl.username=alice"));
        QVERIFY(text.contains("sasl.password")); // its name, so that the dialog asks for it
        QVERIFY(!text.contains("hunter2"));

        // Using the profile asks for the secret.
        Settings settings;
        KafkaConnectionDialog dialog(&settings);
        QCOMPARE(dialog.profileCombo()->currentText(), u"staging"_s); // the last one used
        QLineEdit *password = dialog.secretEdit(u"sasl.password"_s);
        QVERIFY(password);
        QCOMPARE(password->echoMode(), QLineEdit::Password);
        QVERIFY(!dialog.connectButton()->isEnabled());
        QVERIFY(dialog.messageLabel()->text().contains(u"sasl.password"_s));
        QTest::keyClicks(password, u"hunter2"_s);
        QVERIFY(dialog.connectButton()->isEnabled());
        const KafkaConnection c = dialog.connection();
        QCOMPARE(c.bootstrapServers(), u"broker1:9093,broker2:9093"_s);
        QVERIFY(c.properties.contains(std::pair(u"sasl.username"_s, u"alice"_s)));
        QVERIFY(c.properties.contains(std::pair(u"sasl.password"_s, u"hunter2"_s)));
        settings.removeKafkaProfile(u"staging"_s);
        QVERIFY(settings.kafkaProfileNames().isEmpty());
    }

    void unreachableBrokerShowsError()
    {
        RdKafkaService service;
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.setKafkaService(&service);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        KafkaConnection connection;
        connection.bootstrap = u"127.0.0.1:1"_s;
        connection.properties.append({u"socket.connection.setup.timeout.ms"_s, u"1000"_s});
        KafkaClusterBrowser *browser = window.kafka()->browser();
        // The GUI thread keeps running while the worker waits for the broker.
        int ticks = 0;
        QTimer ticker;
        connect(&ticker, &QTimer::timeout, this, [&] { ++ticks; });
        ticker.start(50);
        window.kafka()->connectTo(connection);
        QVERIFY(browser->isLoading());
        QVERIFY(browser->headerText().contains(u"loading"_s));
        QTRY_VERIFY_WITH_TIMEOUT(!browser->errorText().isEmpty(), 60000);
        QVERIFY2(ticks >= 10, qPrintable(QString::number(ticks)));
        QVERIFY(!browser->isLoading());
        QCOMPARE(browser->tree()->topLevelItemCount(), 0);
        QVERIFY(!browser->recordButton()->isEnabled());
        QVERIFY(browser->findChild<QLabel *>() != nullptr);
        window.grab().save(testing::shotPath(u"tapedeck-kafka-error.png"_s));
        qInfo() << "error shown:" << browser->errorText() << "after" << ticks << "ticks";
    }
};

QTEST_MAIN(TestKafkaUi)
#include "tst_kafkaui.moc"
