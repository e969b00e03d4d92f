#include "ui/kafka/kafkasession.h"

#include "ui/kafka/kafkaclusterbrowser.h"
#include "ui/kafka/kafkaconnectiondialog.h"
#include "ui/kafka/kafkarecorddialog.h"
#include "core/kafka/kafkaservice.h"
#include "ui/shell/mainwindow.h"
#include "ui/recording/livetapefollower.h"
#include "ui/recording/recordingcontroller.h"
#include "ui/common/settings.h"
#include "core/tape/tape.h"
#include "ui/timeline/timelinewidget.h"
#include "ui/common/palette.h"

#include <QAction>
#include <QCoreApplication>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QStandardPaths>
#include <QStatusBar>
#include <QThread>

using namespace Qt::StringLiterals;

namespace tapedeck {

KafkaSession::KafkaSession(MainWindow *window, KafkaService *service)
    : QObject(window)
    , m_window(window)
    , m_service(service)
{
    m_browser = new KafkaClusterBrowser(window);
    m_browser->setService(service);
    m_dock = new QDockWidget(u"Kafka Cluster"_s, window);
    m_dock->setObjectName(u"kafkaClusterDock"_s);
    m_dock->setWidget(m_browser);
    m_dock->setAllowedAreas(Qt::LeftDockWidgetArea | Qt::RightDockWidgetArea | Qt::BottomDockWidgetArea);
    window->addDockWidget(Qt::RightDockWidgetArea, m_dock);
    m_dock->hide();
    connect(m_browser, &KafkaClusterBrowser::recordRequested, this, &KafkaSession::showRecordDialog);

    m_recording = new RecordingController(this);
    m_follower = new LiveTapeFollower(window, m_recording, this);
    connect(m_recording, &RecordingController::started, this, [this](const QString &, const QStringList &warnings) {
        if (!warnings.isEmpty())
            m_window->statusBar()->showMessage(u"Recording: "_s + warnings.join(u"; "_s), 10000);
    });
    connect(m_recording, &RecordingController::progress, this, [this](qint64 events, double rate) {
        setStatus(u"● Recording %1 · %2 records · %3 records/s"_s.arg(m_browser->connection().describe(),
                                                                   QLocale().toString(events),
                                                                   QLocale().toString(rate, 'f', 0)));
    });
    connect(m_recording, &RecordingController::finished, this, &KafkaSession::onRecordingFinished);

    m_status = new QLabel(window);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    window->statusBar()->addPermanentWidget(m_status);
    m_status->hide();

    m_menu = new QMenu(u"&Kafka"_s, window);
    m_connectAction = m_menu->addAction(QIcon::fromTheme(u"network-connect"_s), u"&Connect…"_s, this,
                                        &KafkaSession::showConnectDialog);
    m_connectAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K));
    QAction *browse = m_dock->toggleViewAction();
    browse->setText(u"Cluster &Browser"_s);
    m_menu->addAction(browse);
    m_recordAction = m_menu->addAction(QIcon::fromTheme(u"media-record"_s), u"&Record…"_s, this,
                                       [this] { showRecordDialog(m_browser->selectedTopics()); });
    m_recordAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_stopAction = m_menu->addAction(QIcon::fromTheme(u"media-playback-stop"_s), u"&Stop Recording"_s, this,
                                     &KafkaSession::stopRecording);
    m_stopAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    m_menu->addSeparator();
    m_startDemoAction = m_menu->addAction(u"Start &Demo Cluster"_s, this, [this] { startDemoCluster(); });
    m_stopDemoAction = m_menu->addAction(u"Stop D&emo Cluster"_s, this, &KafkaSession::stopDemoCluster);

    // Before Help, the last menu by convention.
    QMenuBar *bar = window->menuBar();
    const QList<QAction *> menus = bar->actions();
    bar->insertMenu(menus.isEmpty() ? nullptr : menus.constLast(), m_menu);

    connect(m_browser, &KafkaClusterBrowser::loaded, this, &KafkaSession::updateActions);
    updateActions();
}

KafkaSession::~KafkaSession()
{
    if (m_demoWorker) {
        disconnect(m_demoWorker, nullptr, this, nullptr);
        m_demoWorker->wait();
        delete m_demoWorker;
    }
    // m_recording (a child) cancels and joins its worker; the tape keeps what was recorded.
}

KafkaConnectionDialog *KafkaSession::connectionDialog() const
{
    return m_connectionDialog;
}

KafkaRecordDialog *KafkaSession::recordDialog() const
{
    return m_recordDialog;
}

void KafkaSession::updateActions()
{
    const bool recording = m_recording->isRunning();
    m_recordAction->setEnabled(!recording && m_browser->clusterInfo().has_value());
    m_stopAction->setEnabled(recording && !m_recording->isStopping());
    m_startDemoAction->setEnabled(!m_demoStarting && m_demoBootstrap.isEmpty());
    m_stopDemoAction->setEnabled(!m_demoBootstrap.isEmpty());
}

void KafkaSession::setStatus(const QString &text, bool error)
{
    m_status->setText(text);
    Palette::setStyleSheet(m_status, error ? u"color: %1;"_s : QString(), {Palette::Role::Error});
    m_status->setToolTip(text);
    m_status->setVisible(!text.isEmpty());
}

QString KafkaSession::statusText() const
{
    return m_status->text();
}

void KafkaSession::showConnectDialog()
{
    if (m_connectionDialog) {
        m_connectionDialog->raise();
        return;
    }
    auto *dialog = new KafkaConnectionDialog(m_window->settings(), m_window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_connectionDialog = dialog;
    connect(dialog, &QDialog::accepted, this, [this, dialog] { connectTo(dialog->connection()); });
    dialog->open();
}

bool KafkaSession::isDemoConnection(const KafkaConnection &connection) const
{
    return !m_demoBootstrap.isEmpty() && connection.bootstrapServers() == m_demoBootstrap;
}

void KafkaSession::connectTo(const KafkaConnection &connection, const KafkaDescribeOptions &options, const QString &note)
{
    KafkaDescribeOptions o = options;
    QString n = note;
    if (isDemoConnection(connection)) {
        o.configs = false; // the mock cluster does not answer DescribeConfigs
        if (n.isEmpty())
            n = u"Built-in demo cluster · try <tt>kcat -b %1 -L</tt>"_s.arg(m_demoBootstrap);
    }
    if (!m_dock->isVisible()) {
        m_dock->show();
        // Wide enough for names, watermarks and the topic details.
        m_window->resizeDocks({m_dock}, {std::max(m_dock->width(), 540)}, Qt::Horizontal);
    }
    m_dock->raise();
    m_browser->setConnection(connection, o, n);
    updateActions();
}

QString KafkaSession::seedTapePath(QString *error) const
{
    const QString resource = MainWindow::demoResourcePath();
    if (!QFile::exists(resource)) {
        *error = u"this build of Tapedeck has no demo tape"_s;
        return {};
    }
    if (!resource.startsWith(u':'))
        return resource;
    // librdkafka's mock cluster is seeded from a file, not from a Qt resource.
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    QDir().mkpath(dir);
    const QString target = dir + u"/demo-cluster-seed.tape"_s;
    if (QFile::exists(target)) {
        QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner);
        QFile::remove(target);
    }
    if (!QFile::copy(resource, target)) {
        *error = u"cannot copy the demo tape to %1"_s.arg(target);
        return {};
    }
    QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner);
    return target;
}

void KafkaSession::startDemoCluster(const QString &seedTape)
{
    if (m_demoStarting || !m_demoBootstrap.isEmpty())
        return;
    QString error;
    const QString seed = seedTape.isEmpty() ? seedTapePath(&error) : seedTape;
    if (seed.isEmpty()) {
        m_lastError = u"Cannot start the demo cluster: "_s + error;
        setStatus(m_lastError, true);
        return;
    }
    m_demoStarting = true;
    setStatus(u"Starting the demo cluster…"_s);
    updateActions();
    struct Result
    {
        std::optional<KafkaConnection> connection;
        QString error;
    };
    auto result = std::make_shared<Result>();
    KafkaService *service = m_service;
    m_demoWorker = QThread::create([service, seed, result] { result->connection = service->startDemoCluster(seed, &result->error); });
    m_demoWorker->setObjectName(u"demo-cluster"_s);
    connect(m_demoWorker, &QThread::finished, this, [this, result] {
        m_demoWorker->wait();
        m_demoWorker->deleteLater();
        m_demoWorker = nullptr;
        m_demoStarting = false;
        if (!result->connection) {
            m_lastError = u"Cannot start the demo cluster: "_s + result->error;
            setStatus(m_lastError, true);
            updateActions();
            return;
        }
        m_demoBootstrap = result->connection->bootstrapServers();
        setStatus(u"Demo cluster at %1 (kcat -b %1 -L)"_s.arg(m_demoBootstrap));
        connectTo(*result->connection);
        Q_EMIT demoClusterStarted(m_demoBootstrap);
    });
    m_demoWorker->start();
}

void KafkaSession::stopDemoCluster()
{
    if (m_demoBootstrap.isEmpty())
        return;
    if (m_recording->isRunning() && isDemoConnection(m_browser->connection()))
        stopRecording();
    // Quick: the mock cluster lives in this process.
    m_service->stopDemoCluster();
    m_demoBootstrap.clear();
    if (!m_recording->isRunning())
        setStatus(u"Demo cluster stopped"_s);
    updateActions();
}

void KafkaSession::showRecordDialog(const QStringList &topics)
{
    const std::optional<KafkaClusterInfo> info = m_browser->clusterInfo();
    if (!info || m_recording->isRunning())
        return;
    if (m_recordDialog) {
        m_recordDialog->raise();
        return;
    }
    auto *dialog = new KafkaRecordDialog(m_browser->connection(), *info, m_window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setReadConfigs(m_browser->describeOptions().configs);
    dialog->setSelectedTopics(topics);
    m_recordDialog = dialog;
    connect(dialog, &QDialog::accepted, this, [this, dialog] { startRecording(dialog->options()); });
    dialog->open();
}

bool KafkaSession::startRecording(const KafkaRecordOptions &options)
{
    if (m_recording->isRunning())
        return false;
    KafkaRecordOptions o = options;
    if (isDemoConnection(o.connection))
        o.readConfigs = false;
    const QString path = RecordingController::temporaryTapePath(u"kafka"_s);
    m_lastError.clear();
    m_follower->start();
    if (!m_recording->start(m_service->recorder(o), path, u"tapedeck "_s + QCoreApplication::applicationVersion())) {
        m_lastError = u"Cannot start recording"_s;
        setStatus(m_lastError, true);
        return false;
    }
    setStatus(u"● Preparing %1 (%2)…"_s.arg(o.connection.describe(), o.topics.join(u", "_s)));
    updateActions();
    return true;
}

void KafkaSession::stopRecording()
{
    m_recording->stop();
    updateActions();
}

bool KafkaSession::isRecording() const
{
    return m_recording->isRunning();
}

void KafkaSession::onRecordingFinished(const QString &error)
{
    const QString path = m_recording->tapePath();
    const qint64 events = m_recording->tape() ? m_recording->tape()->eventCount() : 0;
    const QString where = QFileInfo(path).fileName();
    if (!error.isEmpty() && !m_recording->tape()) {
        m_lastError = error;
        setStatus(u"Recording failed: "_s + error, true);
    } else if (!error.isEmpty()) {
        m_lastError = error;
        setStatus(u"Recording failed: %1 · %2 records kept in %3"_s.arg(error, QLocale().toString(events), where), true);
    } else {
        setStatus(u"Recorded %1 records into the temporary tape %2 · File › Save As keeps it"_s
                      .arg(QLocale().toString(events), where));
    }
    updateActions();
    Q_EMIT recordingFinished(error);
}

} // namespace tapedeck
