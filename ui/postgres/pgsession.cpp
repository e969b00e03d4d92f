#include "ui/postgres/pgsession.h"

#include "ui/kafka/kafkasession.h"
#include "ui/shell/mainwindow.h"
#include "ui/postgres/pgconnectiondialog.h"
#include "ui/postgres/pgrecorddialog.h"
#include "ui/postgres/pgslotbrowser.h"
#include "core/postgres/postgresservice.h"
#include "ui/recording/livetapefollower.h"
#include "ui/recording/recordingcontroller.h"
#include "core/tape/tape.h"
#include "ui/timeline/timelinewidget.h"
#include "ui/common/palette.h"

#include <QAction>
#include <QCoreApplication>
#include <QDockWidget>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QStatusBar>

using namespace Qt::StringLiterals;

namespace tapedeck {

PgSession::PgSession(MainWindow *window, PostgresService *service)
    : QObject(window)
    , m_window(window)
    , m_service(service)
{
    m_browser = new PgSlotBrowser(window);
    m_browser->setService(service);
    m_dock = new QDockWidget(u"PostgreSQL Slots"_s, window);
    m_dock->setObjectName(u"pgSlotDock"_s);
    m_dock->setWidget(m_browser);
    m_dock->setAllowedAreas(Qt::LeftDockWidgetArea | Qt::RightDockWidgetArea | Qt::BottomDockWidgetArea);
    window->addDockWidget(Qt::RightDockWidgetArea, m_dock);
    m_dock->hide();
    connect(m_browser, &PgSlotBrowser::recordRequested, this, &PgSession::showRecordDialog);
    connect(m_browser, &PgSlotBrowser::loaded, this, &PgSession::updateActions);

    m_recording = new RecordingController(this);
    m_follower = new LiveTapeFollower(window, m_recording, this);
    connect(m_recording, &RecordingController::started, this, [this](const QString &, const QStringList &warnings) {
        if (!warnings.isEmpty())
            m_window->statusBar()->showMessage(u"Recording: "_s + warnings.join(u"; "_s), 10000);
    });
    connect(m_recording, &RecordingController::progress, this, [this](qint64 events, double rate) {
        setStatus(u"● Recording %1 · %2 events · %3 events/s"_s.arg(m_recordingWhat, QLocale().toString(events),
                                                                  QLocale().toString(rate, 'f', 0)));
    });
    connect(m_recording, &RecordingController::finished, this, &PgSession::onRecordingFinished);

    m_status = new QLabel(window);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    window->statusBar()->addPermanentWidget(m_status);
    m_status->hide();

    m_menu = new QMenu(u"&PostgreSQL"_s, window);
    m_connectAction = m_menu->addAction(QIcon::fromTheme(u"network-connect"_s), u"&Connect…"_s, this,
                                        &PgSession::showConnectDialog);
    QAction *browse = m_dock->toggleViewAction();
    browse->setText(u"&Slot Browser"_s);
    m_menu->addAction(browse);
    m_recordAction = m_menu->addAction(QIcon::fromTheme(u"media-record"_s), u"&Record from Slot…"_s, this,
                                       [this] { showRecordDialog(m_browser->selectedSlot()); });
    m_stopAction = m_menu->addAction(QIcon::fromTheme(u"media-playback-stop"_s), u"&Stop Recording"_s, this,
                                     &PgSession::stopRecording);

    // Before Help, the last menu by convention.
    QMenuBar *bar = window->menuBar();
    const QList<QAction *> menus = bar->actions();
    bar->insertMenu(menus.isEmpty() ? nullptr : menus.constLast(), m_menu);
    updateActions();
}

PgSession::~PgSession() = default; // m_recording (a child) cancels and joins its worker

PgConnectionDialog *PgSession::connectionDialog() const
{
    return m_connectionDialog;
}

PgRecordDialog *PgSession::recordDialog() const
{
    return m_recordDialog;
}

void PgSession::updateActions()
{
    const bool recording = m_recording->isRunning();
    m_recordAction->setEnabled(!recording && m_browser->serverInfo().has_value());
    m_stopAction->setEnabled(recording && !m_recording->isStopping());
}

void PgSession::setStatus(const QString &text, bool error)
{
    m_status->setText(text);
    Palette::setStyleSheet(m_status, error ? u"color: %1;"_s : QString(), {Palette::Role::Error});
    m_status->setToolTip(text);
    m_status->setVisible(!text.isEmpty());
}

QString PgSession::statusText() const
{
    return m_status->text();
}

void PgSession::showConnectDialog()
{
    if (m_connectionDialog) {
        m_connectionDialog->raise();
        return;
    }
    auto *dialog = new PgConnectionDialog(m_window->settings(), m_window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_connectionDialog = dialog;
    connect(dialog, &QDialog::accepted, this, [this, dialog] { connectTo(dialog->dsn()); });
    dialog->open();
}

void PgSession::connectTo(const QString &dsn)
{
    if (!m_dock->isVisible()) {
        m_dock->show();
        // Wide enough for the LSN columns and the explanations.
        m_window->resizeDocks({m_dock}, {std::max(m_dock->width(), 640)}, Qt::Horizontal);
    }
    m_dock->raise();
    m_browser->setDsn(dsn);
    updateActions();
}

void PgSession::showRecordDialog(const QString &slot)
{
    const std::optional<PgServerInfo> server = m_browser->serverInfo();
    if (!server || m_recording->isRunning())
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
    if (m_recording->isRunning())
        return false;
    // One recording follows the window at a time.
    if (m_window->kafka() && m_window->kafka()->isRecording()) {
        m_lastError = u"A Kafka recording is running: stop it first (Kafka › Stop Recording)"_s;
        setStatus(m_lastError, true);
        return false;
    }
    options.dsn = m_browser->dsn();
    const QString server = m_browser->serverName();
    m_recordingWhat = u"%1 %2 (%3)"_s.arg(server, options.slot.isEmpty() ? u"temporary slot"_s : u"slot "_s + options.slot,
                                         toString(options.mode));
    const QString path = RecordingController::temporaryTapePath(u"postgres"_s);
    m_lastError.clear();
    m_follower->start();
    if (!m_recording->start(m_service->recorder(options), path, u"tapedeck "_s + QCoreApplication::applicationVersion())) {
        m_lastError = u"Cannot start recording"_s;
        setStatus(m_lastError, true);
        return false;
    }
    setStatus(u"● Preparing %1…"_s.arg(m_recordingWhat));
    updateActions();
    return true;
}

void PgSession::stopRecording()
{
    m_recording->stop();
    updateActions();
}

bool PgSession::isRecording() const
{
    return m_recording->isRunning();
}

void PgSession::onRecordingFinished(const QString &error)
{
    const qint64 events = m_recording->tape() ? m_recording->tape()->eventCount() : 0;
    const QString where = QFileInfo(m_recording->tapePath()).fileName();
    if (!error.isEmpty() && !m_recording->tape()) {
        m_lastError = error;
        setStatus(u"Recording failed: "_s + error, true);
    } else if (!error.isEmpty()) {
        m_lastError = error;
        setStatus(u"Recording failed: %1 · %2 events kept in %3"_s.arg(error, QLocale().toString(events), where), true);
    } else {
        setStatus(u"Recorded %1 events into the temporary tape %2 · File › Save As keeps it"_s
                      .arg(QLocale().toString(events), where));
    }
    updateActions();
    // A copy or consume reading may have changed what the browser shows (temporary slots gone, positions).
    m_browser->refresh();
    Q_EMIT recordingFinished(error);
}

} // namespace tapedeck
