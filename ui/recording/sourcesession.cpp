#include "ui/common/palette.h"
#include "ui/recording/sourcesession.h"

#include "ui/common/tapedocument.h"
#include "ui/recording/livetapefollower.h"
#include "ui/recording/recordingcontroller.h"
#include "ui/recording/sessionhost.h"
#include "core/tape/recordingsource.h"
#include "core/tape/tape.h"

#include <QAction>
#include <QCoreApplication>
#include <QDockWidget>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QStatusBar>

using namespace Qt::StringLiterals;

namespace tapedeck {

SourceSession::SourceSession(SessionHost *host, QWidget *browser, const Names &names)
    : QObject(host->hostWindow())
    , m_host(host)
    , m_window(host->hostWindow())
    , m_names(names)
{
    m_dock = new QDockWidget(names.dockTitle, m_window);
    m_dock->setObjectName(names.dockObjectName);
    m_dock->setWidget(browser);
    m_dock->setAllowedAreas(Qt::LeftDockWidgetArea | Qt::RightDockWidgetArea | Qt::BottomDockWidgetArea);
    m_window->addDockWidget(Qt::RightDockWidgetArea, m_dock);
    m_dock->hide();

    m_recording = new RecordingController(this);
    m_follower = new LiveTapeFollower(host, m_recording, this);
    connect(m_recording, &RecordingController::started, this, [this](const QString &, const QStringList &warnings) {
        if (!warnings.isEmpty())
            m_window->statusBar()->showMessage(u"Recording: "_s + warnings.join(u"; "_s), 10000);
    });
    connect(m_recording, &RecordingController::progress, this, [this](qint64 events, double rate) {
        setStatus(u"● Recording %1 · %2 %4 · %3 %4/s"_s.arg(recordingWhat(), QLocale().toString(events),
                                                         QLocale().toString(rate, 'f', 0), m_names.eventNoun));
    });
    connect(m_recording, &RecordingController::finished, this, &SourceSession::onRecordingFinished);

    m_status = new QLabel(m_window);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_window->statusBar()->addPermanentWidget(m_status);
    m_status->hide();

    m_menu = new QMenu(names.menuTitle, m_window);
    m_connectAction = m_menu->addAction(QIcon::fromTheme(u"network-connect"_s), u"&Connect…"_s, this,
                                        [this] { showConnectDialog(); });
    QAction *browse = m_dock->toggleViewAction();
    browse->setText(names.browseText);
    m_menu->addAction(browse);
    m_recordAction = m_menu->addAction(QIcon::fromTheme(u"media-record"_s), names.recordText, this,
                                       [this] { showRecordDialogForSelection(); });
    m_stopAction = m_menu->addAction(QIcon::fromTheme(u"media-playback-stop"_s), u"&Stop Recording"_s, this,
                                     &SourceSession::stopRecording);

    // Before Help, the last menu by convention.
    QMenuBar *bar = m_window->menuBar();
    const QList<QAction *> menus = bar->actions();
    bar->insertMenu(menus.isEmpty() ? nullptr : menus.constLast(), m_menu);
}

SourceSession::~SourceSession() = default;

void SourceSession::updateActions()
{
    const bool recording = m_recording->isRunning();
    m_recordAction->setEnabled(!recording && canRecord());
    m_stopAction->setEnabled(recording && !m_recording->isStopping());
}

void SourceSession::setStatus(const QString &text, bool error)
{
    m_status->setText(text);
    Palette::setStyleSheet(m_status, error ? u"color: %1;"_s : QString(), {Palette::Role::Error});
    m_status->setToolTip(text);
    m_status->setVisible(!text.isEmpty());
}

QString SourceSession::statusText() const
{
    return m_status->text();
}

void SourceSession::showDock(int minWidth)
{
    if (!m_dock->isVisible()) {
        m_dock->show();
        m_window->resizeDocks({m_dock}, {std::max(m_dock->width(), minWidth)}, Qt::Horizontal);
    }
    m_dock->raise();
}

bool SourceSession::startRecordingFrom(std::unique_ptr<RecordingSource> source, const QString &preparing)
{
    const QString path = RecordingController::temporaryTapePath(m_names.tapePrefix);
    m_lastError.clear();
    m_follower->start();
    if (!m_recording->start(std::move(source), path, u"tapedeck "_s + QCoreApplication::applicationVersion())) {
        m_lastError = u"Cannot start recording"_s;
        setStatus(m_lastError, true);
        return false;
    }
    m_host->hostDocument()->setRecordingSource(m_names.source);
    setStatus(preparing);
    updateActions();
    return true;
}

void SourceSession::stopRecording()
{
    m_recording->stop();
    updateActions();
}

bool SourceSession::isRecording() const
{
    return m_recording->isRunning();
}

void SourceSession::onRecordingFinished(const QString &error)
{
    const qint64 events = m_recording->tape() ? m_recording->tape()->eventCount() : 0;
    const QString where = QFileInfo(m_recording->tapePath()).fileName();
    const QString noun = m_names.eventNoun;
    if (!error.isEmpty() && !m_recording->tape()) {
        m_lastError = error;
        setStatus(u"Recording failed: "_s + error, true);
    } else if (!error.isEmpty()) {
        m_lastError = error;
        setStatus(u"Recording failed: %1 · %2 %4 kept in %3"_s.arg(error, QLocale().toString(events), where, noun), true);
    } else {
        setStatus(u"Recorded %1 %3 into the temporary tape %2 · File › Save As keeps it"_s
                      .arg(QLocale().toString(events), where, noun));
    }
    if (m_host->hostDocument()->recordingSource() == m_names.source)
        m_host->hostDocument()->setRecordingSource({});
    updateActions();
    afterRecording();
    Q_EMIT recordingFinished(error);
}

} // namespace tapedeck
