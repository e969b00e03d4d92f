#pragma once

#include "core/base/jobtracker.h"
#include "core/kafka/kafkatypes.h"
#include "ui/recording/sourcesession.h"

#include <QObject>
#include <QPointer>

#include <memory>

class QAction;

namespace tapedeck {

class KafkaClusterBrowser;
class KafkaConnectionDialog;
class KafkaRecordDialog;
class KafkaService;

// The Kafka side of a main window (a SourceSession): the Kafka menu, the
// cluster browser (a dock), the connection in use, the built-in demo
// cluster, and a recording into a temporary tape that the window follows live. It talks to
// Kafka only through KafkaService, from worker threads. Connector errors
// become messages (status bar, browser), never dialogs of their own.
// Thread: GUI thread.
class KafkaSession : public SourceSession
{
    Q_OBJECT
public:
    KafkaSession(SessionHost *host, KafkaService *service);
    // Stops a recording (keeping its tape) and waits for workers.
    ~KafkaSession() override;

    KafkaClusterBrowser *browser() const { return m_browser; }

    // Opens the connection dialog (window-modal, not blocking); connects on OK.
    void showConnectDialog() override;
    KafkaConnectionDialog *connectionDialog() const;
    // Shows the browser on `connection` and describes the cluster.
    void connectTo(const KafkaConnection &connection, const KafkaDescribeOptions &options = {}, const QString &note = {});

    // Starts the demo cluster in the background, seeded from `seedTape` (the
    // bundled demo tape when empty), then browses it.
    void startDemoCluster(const QString &seedTape = {});
    void stopDemoCluster();
    bool isDemoStarting() const { return m_demoStarting; }
    QString demoBootstrap() const { return m_demoBootstrap; }

    // Opens the record dialog for the browsed cluster (not blocking);
    // recording starts when it is accepted.
    void showRecordDialog(const QStringList &topics = {});
    KafkaRecordDialog *recordDialog() const;
    bool startRecording(const KafkaRecordOptions &options);

Q_SIGNALS:
    void demoClusterStarted(const QString &bootstrap);

protected:
    void showRecordDialogForSelection() override;
    bool canRecord() const override;
    QString recordingWhat() const override;
    void updateActions() override;

private:
    QString seedTapePath(QString *error) const;
    bool isDemoConnection(const KafkaConnection &connection) const;

    KafkaService *m_service;
    KafkaClusterBrowser *m_browser = nullptr;
    QPointer<KafkaConnectionDialog> m_connectionDialog;
    QPointer<KafkaRecordDialog> m_recordDialog;
    std::unique_ptr<JobTracker> m_demoJobs;
    bool m_demoStarting = false;
    QString m_demoBootstrap;

    QAction *m_startDemoAction = nullptr;
    QAction *m_stopDemoAction = nullptr;
};

} // namespace tapedeck
