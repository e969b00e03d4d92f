#pragma once

#include <QObject>
#include <QString>

#include <memory>

class QAction;
class QDockWidget;
class QLabel;
class QMainWindow;
class QMenu;
class QWidget;

namespace tapedeck {

class LiveTapeFollower;
class RecordingController;
class RecordingSource;
class SessionHost;

// What the Kafka and PostgreSQL sides of a main window share: the source's
// menu (Connect, its browser, Record, Stop; inserted before Help), its
// browser in a dock, a recording into a temporary tape that the document
// follows live, and a status label in the status bar. Connector errors
// become messages there, never dialogs of their own. A subclass adds the
// source's dialogs and what it records. Thread: GUI thread.
class SourceSession : public QObject
{
    Q_OBJECT
public:
    struct Names
    {
        QString source;          // "Kafka": the menu and the document's recording source
        QString menuTitle;       // "&Kafka"
        QString dockTitle;       // "Kafka Cluster"
        QString dockObjectName;  // saved with the window state
        QString browseText;      // the dock's toggle in the menu
        QString recordText;      // "&Record…"
        QString eventNoun;       // "records" or "events", in the status texts
        QString tapePrefix;      // of the temporary tape's file name
    };

    // `browser` becomes the dock's widget.
    SourceSession(SessionHost *host, QWidget *browser, const Names &names);
    // m_recording (a child) cancels and joins its worker; the tape keeps what was recorded.
    ~SourceSession() override;

    QMenu *menu() const { return m_menu; }
    QDockWidget *browserDock() const { return m_dock; }
    RecordingController *recording() const { return m_recording; }

    virtual void showConnectDialog() = 0;
    void stopRecording();
    bool isRecording() const;

    // The status bar text of the session (recording counts, errors...).
    QString statusText() const;
    QString lastError() const { return m_lastError; }

Q_SIGNALS:
    void recordingFinished(const QString &error);

protected:
    // The browser's selection into the record dialog (the menu's Record).
    virtual void showRecordDialogForSelection() = 0;
    // The browser knows enough of the server to record from it.
    virtual bool canRecord() const = 0;
    // What is being recorded, for the progress text.
    virtual QString recordingWhat() const = 0;
    // After a recording finished and the status says so.
    virtual void afterRecording() {}
    virtual void updateActions();

    // Shows and raises the dock, at least `minWidth` wide the first time.
    void showDock(int minWidth);
    // Records `source` into a fresh temporary tape that the document follows;
    // `preparing` names it until the first snapshot.
    bool startRecordingFrom(std::unique_ptr<RecordingSource> source, const QString &preparing);
    void setStatus(const QString &text, bool error = false);
    void setLastError(const QString &error) { m_lastError = error; }

    SessionHost *m_host;
    QMainWindow *m_window;
    QAction *m_connectAction = nullptr;
    QAction *m_recordAction = nullptr;
    QAction *m_stopAction = nullptr;

private:
    void onRecordingFinished(const QString &error);

    Names m_names;
    QMenu *m_menu = nullptr;
    QDockWidget *m_dock = nullptr;
    RecordingController *m_recording = nullptr;
    LiveTapeFollower *m_follower = nullptr;
    QLabel *m_status = nullptr;
    QString m_lastError;
};

} // namespace tapedeck
