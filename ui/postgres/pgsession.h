#pragma once

#include "core/postgres/pgtypes.h"
#include "ui/recording/sourcesession.h"

#include <QObject>
#include <QPointer>

#include <memory>

namespace tapedeck {

class PgConnectionDialog;
class PgRecordDialog;
class PgSlotBrowser;
class PostgresService;

// The PostgreSQL side of a main window: the PostgreSQL menu, the slot
// browser (a dock), the connection in use (its password in memory only) and
// a recording of a slot into a temporary tape that the window follows
// live (the SourceSession shared with Kafka). It
// talks to PostgreSQL only through PostgresService, from worker threads.
// Connector errors become messages (status bar, browser), never dialogs of
// their own. Thread: GUI thread.
class PgSession : public SourceSession
{
    Q_OBJECT
public:
    PgSession(SessionHost *host, PostgresService *service);
    ~PgSession() override;

    PgSlotBrowser *browser() const { return m_browser; }

    // Opens the connection dialog (window-modal, not blocking); connects on OK.
    void showConnectDialog() override;
    PgConnectionDialog *connectionDialog() const;
    // Shows the slot browser on `dsn` (may carry a password) and loads it.
    void connectTo(const QString &dsn);

    // Opens the record dialog for the browsed server (not blocking);
    // recording starts when it is accepted.
    void showRecordDialog(const QString &slot = {});
    PgRecordDialog *recordDialog() const;
    // Records with `options` (the browser's connection string is filled in).
    bool startRecording(PgRecordOptions options);

protected:
    void showRecordDialogForSelection() override;
    bool canRecord() const override;
    QString recordingWhat() const override { return m_recordingWhat; }
    // A copy or consume reading may have changed what the browser shows (temporary slots gone, positions).
    void afterRecording() override;

private:
    PostgresService *m_service;
    PgSlotBrowser *m_browser = nullptr;
    QPointer<PgConnectionDialog> m_connectionDialog;
    QPointer<PgRecordDialog> m_recordDialog;
    QString m_recordingWhat;
};

} // namespace tapedeck
