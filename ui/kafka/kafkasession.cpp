#include "ui/kafka/kafkasession.h"

#include "ui/kafka/kafkaclusterbrowser.h"
#include "ui/kafka/kafkaconnectiondialog.h"
#include "ui/kafka/kafkarecorddialog.h"
#include "core/kafka/kafkaservice.h"
#include "ui/recording/recordingcontroller.h"
#include "ui/recording/sessionhost.h"
#include "ui/common/tapedocument.h"
#include "ui/common/settings.h"
#include "core/tape/tape.h"

#include <QAction>
#include <QCoreApplication>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QLocale>
#include <QMainWindow>
#include <QMenu>
#include <QStandardPaths>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

SourceSession::Names kafkaNames()
{
    return {u"Kafka"_s, u"&Kafka"_s, u"Kafka Cluster"_s, u"kafkaClusterDock"_s, u"Cluster &Browser"_s, u"&Record…"_s,
            u"records"_s, u"kafka"_s};
}

} // namespace

KafkaSession::KafkaSession(SessionHost *host, KafkaService *service)
    : SourceSession(host, new KafkaClusterBrowser(host->hostWindow()), kafkaNames())
    , m_service(service)
    , m_browser(static_cast<KafkaClusterBrowser *>(browserDock()->widget()))
    , m_demoJobs(std::make_unique<JobTracker>(this, JobTracker::blockingPool()))
{
    m_browser->setService(service);
    connect(m_browser, &KafkaClusterBrowser::recordRequested, this, &KafkaSession::showRecordDialog);

    m_connectAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K));
    m_recordAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_stopAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    menu()->addSeparator();
    m_startDemoAction = menu()->addAction(u"Start &Demo Cluster"_s, this, [this] { startDemoCluster(); });
    m_stopDemoAction = menu()->addAction(u"Stop D&emo Cluster"_s, this, &KafkaSession::stopDemoCluster);

    connect(m_browser, &KafkaClusterBrowser::loaded, this, &KafkaSession::updateActions);
    updateActions();
}

KafkaSession::~KafkaSession()
{
    m_demoJobs.reset(); // waits for a demo cluster being started
    // SourceSession's recording (a child) cancels and joins its worker; the tape keeps what was recorded.
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
    SourceSession::updateActions();
    m_startDemoAction->setEnabled(!m_demoStarting && m_demoBootstrap.isEmpty());
    m_stopDemoAction->setEnabled(!m_demoBootstrap.isEmpty());
}

bool KafkaSession::canRecord() const
{
    return m_browser->clusterInfo().has_value();
}

QString KafkaSession::recordingWhat() const
{
    return m_browser->connection().describe();
}

void KafkaSession::showRecordDialogForSelection()
{
    showRecordDialog(m_browser->selectedTopics());
}

void KafkaSession::showConnectDialog()
{
    if (m_connectionDialog) {
        m_connectionDialog->raise();
        return;
    }
    auto *dialog = new KafkaConnectionDialog(m_host->hostSettings(), m_window);
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
    showDock(540); // wide enough for names, watermarks and the topic details
    m_browser->setConnection(connection, o, n);
    updateActions();
}

QString KafkaSession::seedTapePath(QString *error) const
{
    const QString resource = TapeDocument::demoResourcePath();
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
        setLastError(u"Cannot start the demo cluster: "_s + error);
        setStatus(lastError(), true);
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
    KafkaService *service = m_service;
    m_demoJobs->start(
        [service, seed](const std::function<bool()> &) {
            Result r;
            r.connection = service->startDemoCluster(seed, &r.error);
            return r;
        },
        [this](Result result) {
            m_demoStarting = false;
            if (!result.connection) {
                setLastError(u"Cannot start the demo cluster: "_s + result.error);
                setStatus(lastError(), true);
                updateActions();
                return;
            }
            m_demoBootstrap = result.connection->bootstrapServers();
            setStatus(u"Demo cluster at %1 (kcat -b %1 -L)"_s.arg(m_demoBootstrap));
            connectTo(*result.connection);
            Q_EMIT demoClusterStarted(m_demoBootstrap);
        });
}

void KafkaSession::stopDemoCluster()
{
    if (m_demoBootstrap.isEmpty())
        return;
    if (recording()->isRunning() && isDemoConnection(m_browser->connection()))
        stopRecording();
    // Quick: the mock cluster lives in this process.
    m_service->stopDemoCluster();
    m_demoBootstrap.clear();
    if (!recording()->isRunning())
        setStatus(u"Demo cluster stopped"_s);
    updateActions();
}

void KafkaSession::showRecordDialog(const QStringList &topics)
{
    const std::optional<KafkaClusterInfo> info = m_browser->clusterInfo();
    if (!info || recording()->isRunning())
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
    if (recording()->isRunning())
        return false;
    KafkaRecordOptions o = options;
    if (isDemoConnection(o.connection))
        o.readConfigs = false;
    return startRecordingFrom(m_service->recorder(o),
                              u"● Preparing %1 (%2)…"_s.arg(o.connection.describe(), o.topics.join(u", "_s)));
}

} // namespace tapedeck
