#pragma once

#include "core/kafka/kafkatypes.h"

#include <QObject>
#include <QPointer>

#include <memory>

class QAction;
class QDockWidget;
class QLabel;
class QMainWindow;
class QMenu;
class QThread;

namespace tapedeck {

class KafkaClusterBrowser;
class KafkaConnectionDialog;
class KafkaRecordDialog;
class KafkaService;
class LiveTapeFollower;
class RecordingController;
class SessionHost;
class Tape;

// The Kafka side of a main window: the Kafka menu, the cluster browser (a
// dock), the connection in use, the built-in demo cluster, and a recording
// into a temporary tape that the window's table follows live. It talks to
// Kafka only through KafkaService, from worker threads. Connector errors
// become messages (status bar, browser), never dialogs of their own.
// Thread: GUI thread.
class KafkaSession : public QObject
{
    Q_OBJECT
public:
    KafkaSession(SessionHost *host, KafkaService *service);
    // Stops a recording (keeping its tape) and waits for workers.
    ~KafkaSession() override;

    QMenu *menu() const { return m_menu; }
    KafkaClusterBrowser *browser() const { return m_browser; }
    QDockWidget *browserDock() const { return m_dock; }
    RecordingController *recording() const { return m_recording; }

    // Opens the connection dialog (window-modal, not blocking); connects on OK.
    void showConnectDialog();
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
    void stopRecording();
    bool isRecording() const;

    // The status bar text of the session (recording counts, demo address, errors).
    QString statusText() const;
    QString lastError() const { return m_lastError; }

Q_SIGNALS:
    void demoClusterStarted(const QString &bootstrap);
    void recordingFinished(const QString &error);

private:
    void onRecordingFinished(const QString &error);
    void setStatus(const QString &text, bool error = false);
    void updateActions();
    QString seedTapePath(QString *error) const;
    bool isDemoConnection(const KafkaConnection &connection) const;

    SessionHost *m_host;
    QMainWindow *m_window;
    KafkaService *m_service;
    QMenu *m_menu = nullptr;
    QDockWidget *m_dock = nullptr;
    KafkaClusterBrowser *m_browser = nullptr;
    RecordingController *m_recording = nullptr;
    QLabel *m_status = nullptr;
    QPointer<KafkaConnectionDialog> m_connectionDialog;
    QPointer<KafkaRecordDialog> m_recordDialog;
    QThread *m_demoWorker = nullptr;
    bool m_demoStarting = false;
    QString m_demoBootstrap;
    LiveTapeFollower *m_follower = nullptr;
    QString m_lastError;

    QAction *m_connectAction = nullptr;
    QAction *m_recordAction = nullptr;
    QAction *m_stopAction = nullptr;
    QAction *m_startDemoAction = nullptr;
    QAction *m_stopDemoAction = nullptr;
};

} // namespace tapedeck
