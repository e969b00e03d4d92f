#pragma once

#include "core/postgres/pgtypes.h"

#include <QObject>
#include <QPointer>

#include <memory>

class QAction;
class QDockWidget;
class QLabel;
class QMainWindow;
class QMenu;

namespace tapedeck {

class PgConnectionDialog;
class PgRecordDialog;
class PgSlotBrowser;
class PostgresService;
class LiveTapeFollower;
class RecordingController;
class SessionHost;
class Tape;

// The PostgreSQL side of a main window: the PostgreSQL menu, the slot
// browser (a dock), the connection in use (its password in memory only) and
// a recording of a slot into a temporary tape that the window's table
// follows live, run by the same RecordingController as Kafka recordings. It
// talks to PostgreSQL only through PostgresService, from worker threads.
// Connector errors become messages (status bar, browser), never dialogs of
// their own. Thread: GUI thread.
class PgSession : public QObject
{
    Q_OBJECT
public:
    PgSession(SessionHost *host, PostgresService *service);
    // Stops a recording (keeping its tape) and waits for workers.
    ~PgSession() override;

    QMenu *menu() const { return m_menu; }
    PgSlotBrowser *browser() const { return m_browser; }
    QDockWidget *browserDock() const { return m_dock; }
    RecordingController *recording() const { return m_recording; }

    // Opens the connection dialog (window-modal, not blocking); connects on OK.
    void showConnectDialog();
    PgConnectionDialog *connectionDialog() const;
    // Shows the slot browser on `dsn` (may carry a password) and loads it.
    void connectTo(const QString &dsn);

    // Opens the record dialog for the browsed server (not blocking);
    // recording starts when it is accepted.
    void showRecordDialog(const QString &slot = {});
    PgRecordDialog *recordDialog() const;
    // Records with `options` (the browser's connection string is filled in).
    bool startRecording(PgRecordOptions options);
    void stopRecording();
    bool isRecording() const;

    QString statusText() const;
    QString lastError() const { return m_lastError; }

Q_SIGNALS:
    void recordingFinished(const QString &error);

private:
    void onRecordingFinished(const QString &error);
    void setStatus(const QString &text, bool error = false);
    void updateActions();

    SessionHost *m_host;
    QMainWindow *m_window;
    PostgresService *m_service;
    QMenu *m_menu = nullptr;
    QDockWidget *m_dock = nullptr;
    PgSlotBrowser *m_browser = nullptr;
    RecordingController *m_recording = nullptr;
    QLabel *m_status = nullptr;
    QPointer<PgConnectionDialog> m_connectionDialog;
    QPointer<PgRecordDialog> m_recordDialog;
    QString m_recordingWhat;
    LiveTapeFollower *m_follower = nullptr;
    QString m_lastError;

    QAction *m_connectAction = nullptr;
    QAction *m_recordAction = nullptr;
    QAction *m_stopAction = nullptr;
};

} // namespace tapedeck
