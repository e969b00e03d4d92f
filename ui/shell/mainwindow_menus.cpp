// MainWindow's menus and actions (the sources add theirs before Help).

#include "ui/shell/mainwindow.h"

#include "ui/browser/eventdetailpane.h"
#include "ui/browser/filterbar.h"
#include "ui/common/palette.h"
#include "ui/common/settings.h"
#include "ui/timeline/timelinewidget.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>

using namespace Qt::StringLiterals;

namespace tapedeck {

void MainWindow::createMenus()
{
    createFileMenu();
    createViewMenu();
    createReplayMenu();
    createHelpMenu();
    updateRecentMenu();
}

void MainWindow::createFileMenu()
{
    QMenu *file = menuBar()->addMenu(u"&File"_s);
    QAction *open = file->addAction(QIcon::fromTheme(u"document-open"_s), u"&Open…"_s, this, [this] {
        const QString dir = m_settings->recentFiles().isEmpty() ? QDir::homePath()
                                                                : QFileInfo(m_settings->recentFiles().constFirst()).absolutePath();
        const QString path = QFileDialog::getOpenFileName(this, u"Open tape"_s, dir,
                                                          u"Tapes (*.tape);;All files (*)"_s);
        if (!path.isEmpty())
            openFile(path);
    });
    open->setShortcut(QKeySequence::Open);
    m_recentMenu = file->addMenu(u"Open &Recent"_s);
    m_saveAsAction = file->addAction(QIcon::fromTheme(u"document-save-as"_s), u"Save &As…"_s, this, &MainWindow::saveAs);
    m_saveAsAction->setShortcut(QKeySequence::SaveAs);
    m_closeAction = file->addAction(QIcon::fromTheme(u"document-close"_s), u"&Close"_s, this, &MainWindow::closeFile);
    m_closeAction->setShortcut(QKeySequence::Close);
    QAction *exportTimeline = file->addAction(u"&Export Timeline…"_s, m_timeline, &TimelineWidget::exportDialog);
    exportTimeline->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    file->addSeparator();
    QAction *quit = file->addAction(QIcon::fromTheme(u"application-exit"_s), u"&Quit"_s, this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
}

void MainWindow::createViewMenu()
{
    QMenu *view = menuBar()->addMenu(u"&View"_s);
    QAction *utc = view->addAction(u"Show Times in &UTC"_s);
    utc->setCheckable(true);
    utc->setChecked(m_settings->utcTime());
    connect(utc, &QAction::toggled, m_settings, &Settings::setUtcTime);
    addThemeMenu(view);
    QAction *details = view->addAction(u"Show &Detail Pane"_s);
    details->setCheckable(true);
    details->setChecked(true);
    connect(details, &QAction::toggled, m_detail, &QWidget::setVisible);
    QAction *timeline = m_timelineDock->toggleViewAction();
    timeline->setText(u"Show &Timeline"_s);
    timeline->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
    view->addAction(timeline);
    QAction *filter = view->addAction(u"&Filter…"_s, this, [this] {
        m_filterBar->lineEdit()->setFocus();
        m_filterBar->lineEdit()->selectAll();
    });
    filter->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Slash));
    view->addAction(u"&Reset Column Widths"_s, this, &MainWindow::applyDefaultColumnWidths);
    view->addSeparator();
    view->addAction(u"&Compaction Preview"_s, this, &MainWindow::showCompactionPreview);
    QAction *state = view->addAction(u"&State at the Current Event"_s, this, &MainWindow::showStateView);
    state->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K));
    view->addAction(u"Compare &with Table…"_s, this, &MainWindow::showCompareDialog);
}

// System, Light or Dark: remembered, and applied at once.
void MainWindow::addThemeMenu(QMenu *view)
{
    QMenu *theme = view->addMenu(u"&Theme"_s);
    auto *themes = new QActionGroup(theme);
    for (const auto &[name, label] : {std::pair{u"auto"_s, u"&System"_s}, {u"light"_s, u"&Light"_s}, {u"dark"_s, u"&Dark"_s}}) {
        QAction *a = theme->addAction(label);
        a->setCheckable(true);
        a->setChecked(m_settings->theme() == name);
        a->setObjectName(u"theme-"_s + name);
        themes->addAction(a);
        connect(a, &QAction::triggered, this, [this, name] {
            m_settings->setTheme(name);
            Palette::setTheme(*Palette::parseTheme(name));
        });
    }
}

void MainWindow::createReplayMenu()
{
    QMenu *replay = menuBar()->addMenu(u"&Replay"_s);
    QAction *editor = replay->addAction(u"&Transform Editor"_s, this, &MainWindow::showTransformEditor);
    editor->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T));
    QAction *replayAction = replay->addAction(u"&Replay…"_s, this, &MainWindow::showReplayDialog);
    replayAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    // Also from the timeline's context menu, for a brushed range.
    auto *replaySelection = new QAction(u"Replay Selection…"_s, this);
    connect(replaySelection, &QAction::triggered, this, &MainWindow::showReplayDialog);
    auto *previewSelection = new QAction(u"Preview Selection in the Transform Editor"_s, this);
    connect(previewSelection, &QAction::triggered, this, &MainWindow::showTransformEditor);
    m_timeline->setSelectionActions({previewSelection, replaySelection});
}

void MainWindow::createHelpMenu()
{
    QMenu *help = menuBar()->addMenu(u"&Help"_s);
    help->addAction(u"Open &Demo Tape"_s, this, &MainWindow::openDemo);
    help->addAction(u"&About Tapedeck"_s, this, [this] {
        QMessageBox::about(this, u"About Tapedeck"_s,
                           u"<h3>Tapedeck %1</h3><p>Wireshark for event streams: records Kafka records and "
                           "Postgres change events into <tt>.tape</tt> files and browses them.</p>"
                           "<p>Filter with JavaScript expressions over <tt>e</tt>, e.g. "
                           "<tt>e.json.status == \"FAILED\"</tt>.</p>"_s.arg(QCoreApplication::applicationVersion()));
    });
    help->addAction(u"About &Qt"_s, qApp, &QApplication::aboutQt);
}

void MainWindow::updateRecentMenu()
{
    m_recentMenu->clear();
    const QStringList files = m_settings->recentFiles();
    for (int i = 0; i < files.size(); ++i) {
        const QString path = files[i];
        QAction *action = m_recentMenu->addAction(u"&%1 %2"_s.arg((i + 1) % 10).arg(QDir::toNativeSeparators(path)),
                                                  this, [this, path] { openFile(path); });
        action->setToolTip(path);
    }
    if (!files.isEmpty()) {
        m_recentMenu->addSeparator();
        m_recentMenu->addAction(u"Clear List"_s, m_settings, &Settings::clearRecentFiles);
    }
    m_recentMenu->setEnabled(!files.isEmpty());
}

} // namespace tapedeck
