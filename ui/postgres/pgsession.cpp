#include "ui/postgres/pgsession.h"

#include "ui/postgres/pgconnectiondialog.h"
#include "ui/postgres/pgrecorddialog.h"
#include "ui/postgres/pgslotbrowser.h"
#include "core/postgres/postgresservice.h"
#include "ui/recording/recordingcontroller.h"
#include "ui/recording/sessionhost.h"
#include "ui/common/tapedocument.h"
#include "core/tape/tape.h"

#include <QAction>
#include <QCoreApplication>
#include <QDockWidget>
#include <QFileInfo>
#include <QLocale>
#include <QMainWindow>
#include <QMenu>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

SourceSession::Names postgresNames()
{
    return {u"PostgreSQL"_s, u"&PostgreSQL"_s, u"PostgreSQL Slots"_s, u"pgSlotDock"_s, u"&Slot Browser"_s,
            u"&Record from Slot…"_s, u"events"_s, u"postgres"_s};
}

} // namespace

PgSession::PgSession(SessionHost *host, PostgresService *service)
    : SourceSession(host, new PgSlotBrowser(host->hostWindow()), postgresNames())
    , m_service(service)
    , m_browser(static_cast<PgSlotBrowser *>(browserDock()->widget()))
{
    m_browser->setService(service);
    connect(m_browser, &PgSlotBrowser::recordRequested, this, &PgSession::showRecordDialog);
    connect(m_browser, &PgSlotBrowser::loaded, this, &PgSession::updateActions);
    updateActions();
}

PgSession::~PgSession() = default;

PgConnectionDialog *PgSession::connectionDialog() const
{
    return m_connectionDialog;
}

PgRecordDialog *PgSession::recordDialog() const
{
    return m_recordDialog;
}

bool PgSession::canRecord() const
{
    return m_browser->serverInfo().has_value();
}

void PgSession::showRecordDialogForSelection()
{
    showRecordDialog(m_browser->selectedSlot());
}

void PgSession::showConnectDialog()
{
    if (m_connectionDialog) {
        m_connectionDialog->raise();
        return;
    }
    auto *dialog = new PgConnectionDialog(m_host->hostSettings(), m_window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_connectionDialog = dialog;
    connect(dialog, &QDialog::accepted, this, [this, dialog] { connectTo(dialog->dsn()); });
    dialog->open();
}

void PgSession::connectTo(const QString &dsn)
{
    showDock(640); // wide enough for the LSN columns and the explanations
    m_browser->setDsn(dsn);
    updateActions();
}

void PgSession::showRecordDialog(const QString &slot)
{
    const std::optional<PgServerInfo> server = m_browser->serverInfo();
    if (!server || recording()->isRunning())
        return;
    if (m_recordDialog) {
        m_recordDialog->raise();
        return;
    }
    auto *dialog = new PgRecordDialog(*server, m_browser->slotList(), m_browser->publicationList(), m_window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (!slot.isEmpty())
        dialog->setSlot(slot);
    m_recordDialog = dialog;
    connect(dialog, &QDialog::accepted, this, [this, dialog] { startRecording(dialog->options()); });
    dialog->open();
}

bool PgSession::startRecording(PgRecordOptions options)
{
    if (recording()->isRunning())
        return false;
    // One recording follows the window at a time.
    if (const QString other = m_host->hostDocument()->recordingSource(); !other.isEmpty()) {
        setLastError(u"A %1 recording is running: stop it first (%1 › Stop Recording)"_s.arg(other));
        setStatus(lastError(), true);
        return false;
    }
    options.dsn = m_browser->dsn();
    const QString server = m_browser->serverName();
    m_recordingWhat = u"%1 %2 (%3)"_s.arg(server, options.slot.isEmpty() ? u"temporary slot"_s : u"slot "_s + options.slot,
                                         toString(options.mode));
    return startRecordingFrom(m_service->recorder(options), u"● Preparing %1…"_s.arg(m_recordingWhat));
}

void PgSession::afterRecording()
{
    m_browser->refresh();
}

} // namespace tapedeck
