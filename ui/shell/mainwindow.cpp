#include "ui/shell/mainwindow.h"

#include "ui/compaction/compactionpanel.h"
#include "ui/browser/eventdetailpane.h"
#include "ui/browser/eventtablemodel.h"
#include "ui/browser/filterbar.h"
#include "core/base/jobtracker.h"
#include "ui/kafka/kafkasession.h"
#include "ui/postgres/pgsession.h"
#include "ui/replay/replaydialog.h"
#include "ui/common/palette.h"
#include "ui/common/settings.h"
#include "ui/state/stateview.h"
#include "ui/state/diffdialog.h"
#include "core/tape/tape.h"
#include "core/timeline/timelinemarks.h"
#include "ui/timeline/timelineview.h"
#include "ui/timeline/timelinewidget.h"
#include "ui/transform/transformeditor.h"
#include "ui/common/valueformat.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QScrollBar>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

QStringList tapeFilesIn(const QMimeData *mime)
{
    QStringList files;
    if (!mime || !mime->hasUrls())
        return files;
    const QList<QUrl> urls = mime->urls();
    for (const QUrl &url : urls) {
        if (url.isLocalFile() && url.toLocalFile().endsWith(u".tape"_s, Qt::CaseInsensitive))
            files << url.toLocalFile();
    }
    return files;
}

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_settings(new Settings(this))
{
    setAcceptDrops(true);
    setWindowIcon(QIcon::fromTheme(u"media-tape"_s));

    m_model = new EventTableModel(this);
    m_model->setUtc(m_settings->utcTime());

    m_table = new QTableView(this);
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    // Several rows may be selected: the transform editor previews them.
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideRight);
    m_table->setShowGrid(false);
    m_table->setAlternatingRowColors(true);
    m_table->setItemDelegate(EventTableModel::createDelegate(m_table)); // tombstones and aborted records
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    // Uniform row heights: the view never measures rows, which keeps millions of rows cheap.
    QHeaderView *rows = m_table->verticalHeader();
    rows->setSectionResizeMode(QHeaderView::Fixed);
    rows->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    rows->hide();
    applyDefaultColumnWidths();

    m_detail = new EventDetailPane(this);
    m_detail->setUtc(m_settings->utcTime());

    m_filterBar = new FilterBar(this);

    auto *top = new QWidget(this);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->setSpacing(0);
    topLayout->addWidget(m_filterBar);
    topLayout->addWidget(m_table, 1);

    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->addWidget(top);
    m_splitter->addWidget(m_detail);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);
    m_splitter->setChildrenCollapsible(false);
    setCentralWidget(m_splitter);

    m_status = new QLabel(this);
    m_warnings = new QLabel(this);
    Palette::setStyleSheet(m_warnings, u"color: %1;"_s, {Palette::Role::Warning});
    statusBar()->addWidget(m_status, 1);
    statusBar()->addPermanentWidget(m_warnings);

    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &MainWindow::showCurrentEvent);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::updateReplaySources);
    connect(m_filterBar, &FilterBar::filterApplied, this, [this](const FilterResult &result) {
        m_filterRows = result.rows;
        m_filterActive = true;
        applyVisibleRows();
    });
    connect(m_filterBar, &FilterBar::filterCleared, this, [this] {
        m_filterRows.clear();
        m_filterActive = false;
        applyVisibleRows();
    });

    // The timeline, docked above the table. It shares a TimelineView with
    // the window: a click selects the event in the table and the detail pane,
    // the current row shows on the timeline, and a brushed range filters the
    // table (intersected with the JavaScript filter).
    m_timelineView = new TimelineView(this);
    m_timelineView->setUtc(m_settings->utcTime());
    m_timeline = new TimelineWidget(m_timelineView, this);
    auto *timelineBox = new QWidget(this);
    auto *timelineLayout = new QVBoxLayout(timelineBox);
    timelineLayout->setContentsMargins(0, 0, 0, 0);
    timelineLayout->setSpacing(0);
    timelineLayout->addWidget(m_timeline->createToolBar(timelineBox));
    timelineLayout->addWidget(m_timeline, 1);
    m_timelineDock = new QDockWidget(u"Timeline"_s, this);
    m_timelineDock->setObjectName(u"timelineDock"_s);
    m_timelineDock->setWidget(timelineBox);
    m_timelineDock->setAllowedAreas(Qt::TopDockWidgetArea | Qt::BottomDockWidgetArea);
    addDockWidget(Qt::TopDockWidgetArea, m_timelineDock);
    resizeDocks({m_timelineDock}, {320}, Qt::Vertical);
    m_timeline->setMinimumHeight(180);
    m_selectionJobs = std::make_unique<JobTracker>(this);
    m_selectionTimer = new QTimer(this);
    m_selectionTimer->setSingleShot(true);
    m_selectionTimer->setInterval(120); // a brush being dragged is looked up once it rests
    connect(m_selectionTimer, &QTimer::timeout, this, &MainWindow::startSelectionJob);
    connect(m_timelineView, &TimelineView::selectionChanged, this, [this] {
        m_selectionPending = true;
        m_selectionTimer->start();
    });
    connect(m_timeline, &TimelineWidget::eventClicked, this, &MainWindow::selectSeqInTable);

    connect(m_settings, &Settings::recentFilesChanged, this, &MainWindow::updateRecentMenu);
    connect(m_settings, &Settings::utcTimeChanged, this, [this](bool utc) {
        m_model->setUtc(utc);
        m_detail->setUtc(utc);
        m_timelineView->setUtc(utc);
        showCurrentEvent();
    });

    createMenus();
    updateStatus();
    updateTitle();

    resize(1280, 800);
    if (!m_settings->windowGeometry().isEmpty())
        restoreGeometry(m_settings->windowGeometry());
    if (!m_settings->windowState().isEmpty())
        restoreState(m_settings->windowState());
    if (!m_settings->splitterState().isEmpty())
        m_splitter->restoreState(m_settings->splitterState());
    else
        m_splitter->setSizes({480, 320});
}

MainWindow::~MainWindow() = default;

void MainWindow::applyDefaultColumnWidths()
{
    const QFontMetrics fm = m_table->fontMetrics();
    const int pad = 16;
    m_table->setColumnWidth(EventTableModel::TimeColumn, fm.horizontalAdvance(u"2026-01-01 00:00:00.000"_s) + pad);
    m_table->setColumnWidth(EventTableModel::TopicColumn, fm.horizontalAdvance(u"orders.payments-v2"_s) + pad);
    m_table->setColumnWidth(EventTableModel::PartitionColumn, fm.horizontalAdvance(u"Partition"_s) + pad);
    m_table->setColumnWidth(EventTableModel::PositionColumn, fm.horizontalAdvance(u"0000000000"_s) + pad);
    m_table->setColumnWidth(EventTableModel::KeyColumn, fm.horizontalAdvance(u"customer-000000"_s) + pad);
    m_table->setColumnWidth(EventTableModel::ValueColumn, fm.horizontalAdvance(u"x"_s) * 60 + pad);
    m_table->setColumnWidth(EventTableModel::SizeColumn, fm.horizontalAdvance(u"000000"_s) + pad);
}

void MainWindow::createMenus()
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

    QMenu *view = menuBar()->addMenu(u"&View"_s);
    QAction *utc = view->addAction(u"Show Times in &UTC"_s);
    utc->setCheckable(true);
    utc->setChecked(m_settings->utcTime());
    connect(utc, &QAction::toggled, m_settings, &Settings::setUtcTime);
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

    updateRecentMenu();
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

bool MainWindow::openFile(const QString &path)
{
    QString error;
    std::shared_ptr<Tape> tape = Tape::open(path, &error);
    if (!tape) {
        showError(u"Cannot open tape"_s, error.isEmpty() ? u"%1: cannot open"_s.arg(path) : error);
        if (!QFileInfo::exists(path))
            m_settings->removeRecentFile(path);
        return false;
    }
    m_tape = std::move(tape);
    m_filterBar->clearFilter();
    m_filterRows.clear();
    m_filterActive = false;
    m_selectionRows.clear();
    m_selectionActive = false;
    m_model->setTape(m_tape);
    m_filterBar->setTape(m_tape);
    m_timeline->setTape(m_tape);
    if (m_compaction)
        m_compaction->setTape(m_tape);
    if (m_transformEditor)
        m_transformEditor->setTape(m_tape);
    if (m_replayDialog)
        m_replayDialog->setTape(m_tape);
    if (m_stateView)
        m_stateView->setTape(m_tape);
    m_detail->clear();
    m_settings->addRecentFile(path);
    updateStatus();
    updateTitle();
    if (m_model->rowCount() > 0)
        m_table->selectRow(0);
    return true;
}

void MainWindow::showCompactionPreview()
{
    if (!m_compaction) {
        // Docked below the table; it follows the tape, the timeline's selection
        // and the current event, and greys on the timeline what compaction removes.
        m_compaction = new CompactionPanel(this);
        m_compactionDock = new QDockWidget(u"Compaction Preview"_s, this);
        m_compactionDock->setObjectName(u"compactionDock"_s);
        m_compactionDock->setWidget(m_compaction);
        addDockWidget(Qt::BottomDockWidgetArea, m_compactionDock);
        connect(m_compaction, &CompactionPanel::timelineDimmedChanged, this, [this](const QBitArray &dimmed) {
            m_timeline->setDimmedSequences(m_compactionDock->isVisibleTo(this) ? dimmed : QBitArray());
        });
        connect(m_compactionDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
            m_timeline->setDimmedSequences(visible ? m_compaction->timelineDimmed() : QBitArray());
        });
        connect(m_timelineView, &TimelineView::selectionChanged, m_compaction, &CompactionPanel::setSelection);
        connect(m_timelineView, &TimelineView::currentSeqChanged, m_compaction, &CompactionPanel::setCurrentSeq);
        m_compaction->setSelection(m_timelineView->selection());
        m_compaction->setTape(m_tape);
        m_compaction->setCurrentSeq(m_timelineView->currentSeq());
    }
    m_compactionDock->show();
    m_compactionDock->raise();
}

void MainWindow::showStateView()
{
    if (!m_stateView) {
        // Docked at the right; its point is the current event (the table's
        // current row and the timeline's cursor), its slider scrubs.
        m_stateView = new StateView(this);
        m_stateView->setUtc(m_settings->utcTime());
        m_stateDock = new QDockWidget(u"State"_s, this);
        m_stateDock->setObjectName(u"stateDock"_s);
        m_stateDock->setWidget(m_stateView);
        addDockWidget(Qt::RightDockWidgetArea, m_stateDock);
        resizeDocks({m_stateDock}, {560}, Qt::Horizontal);
        connect(m_timelineView, &TimelineView::currentSeqChanged, m_stateView, &StateView::setCurrentSeq);
        connect(m_settings, &Settings::utcTimeChanged, m_stateView, &StateView::setUtc);
        connect(m_stateView, &StateView::currentSeqRequested, this, [this](qint64 seq) {
            if (seq >= 0)
                selectSeqInTable(seq);
        });
        connect(m_stateView, &StateView::showKeyEvents, this, &MainWindow::showEventsOf);
        connect(m_stateView, &StateView::compareRequested, this, &MainWindow::showCompareDialog);
        connect(m_stateDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
            if (!visible && !(m_compactionDock && m_compactionDock->isVisibleTo(this)))
                m_timeline->setDimmedSequences(QBitArray());
        });
        m_stateView->setCurrentSeq(m_timelineView->currentSeq());
        m_stateView->setTape(m_tape);
    }
    m_stateDock->show();
    m_stateDock->raise();
}

void MainWindow::showEventsOf(const QString &expression, const QList<qint64> &seqs)
{
    if (!m_tape || seqs.isEmpty())
        return;
    // The key's last event becomes current, then the table filters to the key's events
    // (applyVisibleRows keeps the current event); the timeline greys every other event.
    selectSeqInTable(seqs.last());
    if (!expression.isEmpty()) {
        m_filterBar->setText(expression);
        m_filterBar->apply();
    }
    QBitArray dimmed(int(m_tape->eventCount()), true);
    for (qint64 s : seqs) {
        if (s >= 0 && s < dimmed.size())
            dimmed.clearBit(int(s));
    }
    m_timeline->setDimmedSequences(dimmed);
}

void MainWindow::showCompareDialog()
{
    showStateView();
    if (!m_compareDialog) {
        m_compareDialog = new DiffDialog(m_settings, this);
        m_compareDialog->setFactories(m_tableReaderFactory, m_sinkFactory);
        connect(m_compareDialog, &DiffDialog::jumpToEvents, this, &MainWindow::showEventsOf);
        connect(m_stateView, &StateView::stateReady, m_compareDialog, [this] {
            m_compareDialog->setState(m_stateView->state(), m_tape ? QFileInfo(m_tape->path()).completeBaseName() : QString());
        });
        connect(m_stateView, &StateView::frameReady, m_compareDialog, [this] { m_compareDialog->setPoint(m_stateView->model()->frame().snapshot.end()); });
    }
    m_compareDialog->setState(m_stateView->state(), m_tape ? QFileInfo(m_tape->path()).completeBaseName() : QString());
    m_compareDialog->setPoint(m_stateView->model()->frame().snapshot.isValid() ? m_stateView->model()->frame().snapshot.end() : -1);
    if (m_tape && !m_demoOrdersPath.isEmpty() && QFileInfo(m_tape->path()).absolutePath() == QFileInfo(m_demoOrdersPath).absolutePath()
        && m_compareDialog->sqlitePathEdit()->text().isEmpty()) {
        // The demo's dual-write story: its log table against the SQLite copy that lost writes.
        m_compareDialog->setSqliteTarget(m_demoOrdersPath, u"orders"_s);
        m_compareDialog->setStateTable(u"public.orders"_s);
    }
    m_compareDialog->show();
    m_compareDialog->raise();
}

QString MainWindow::demoResourcePath()
{
    return u":/demo/demo.tape"_s;
}

QString MainWindow::demoOrdersResourcePath()
{
    return u":/demo/demo-orders.sqlite"_s;
}

bool MainWindow::openDemo()
{
    if (!QFile::exists(demoResourcePath())) {
        showError(u"No demo tape"_s, u"This build of Tapedeck has no demo tape."_s);
        return false;
    }
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    QDir().mkpath(dir);
    const QString target = dir + u"/demo.tape"_s;
    // Resource files are read-only; a fresh copy each time keeps the demo pristine.
    if (QFile::exists(target)) {
        QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner);
        QFile::remove(target);
    }
    if (!QFile::copy(demoResourcePath(), target)) {
        showError(u"No demo tape"_s, u"Cannot copy the demo tape to %1."_s.arg(target));
        return false;
    }
    QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther);
    // The dual-write story's SQLite orders: a writable copy, since the repair writes to it.
    m_demoOrdersPath.clear();
    if (QFile::exists(demoOrdersResourcePath())) {
        const QString orders = dir + u"/demo-orders.sqlite"_s;
        QFile::remove(orders);
        if (QFile::copy(demoOrdersResourcePath(), orders)) {
            QFile::setPermissions(orders, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther);
            m_demoOrdersPath = orders;
        }
    }
    m_settings->setDemoShown(true);
    return openFile(target);
}

void MainWindow::closeFile()
{
    m_filterBar->clearFilter();
    m_tape.reset();
    m_filterRows.clear();
    m_filterActive = false;
    m_selectionRows.clear();
    m_selectionActive = false;
    m_model->setTape(nullptr);
    m_filterBar->setTape(nullptr);
    m_timeline->setTape(nullptr);
    if (m_compaction)
        m_compaction->setTape(nullptr);
    if (m_transformEditor)
        m_transformEditor->setTape(nullptr);
    if (m_replayDialog)
        m_replayDialog->setTape(nullptr);
    if (m_stateView)
        m_stateView->setTape(nullptr);
    m_detail->clear();
    updateStatus();
    updateTitle();
}

void MainWindow::showLiveTape(std::shared_ptr<const Tape> tape)
{
    if (!tape)
        return;
    if (!m_tape || m_tape->path() != tape->path()) {
        closeFile();
        m_tape = std::move(tape);
        m_model->setTape(m_tape);
        m_filterBar->setTape(m_tape);
        m_timeline->setTape(m_tape);
        if (m_compaction)
            m_compaction->setTape(m_tape);
        if (m_stateView)
            m_stateView->setTape(m_tape);
        updateStatus();
        updateTitle();
        return;
    }
    const QScrollBar *bar = m_table->verticalScrollBar();
    const bool atBottom = bar->value() >= bar->maximum();
    m_tape = std::move(tape);
    m_model->appendSnapshot(m_tape);
    // The filter and the timeline are rebuilt once, when the recording is complete.
    if (m_tape->isComplete()) {
        m_filterBar->setTape(m_tape);
        m_timeline->setTape(m_tape);
        if (m_compaction)
            m_compaction->setTape(m_tape);
        // The state is indexed again once, on the complete tape.
        if (m_stateView)
            m_stateView->setTape(m_tape);
    }
    if (atBottom)
        m_table->scrollToBottom();
    updateStatus();
}

void MainWindow::setKafkaService(KafkaService *service)
{
    if (!m_kafka && service)
        m_kafka = new KafkaSession(this, service);
}

void MainWindow::setPostgresService(PostgresService *service)
{
    if (!m_postgres && service)
        m_postgres = new PgSession(this, service);
}

void MainWindow::setSinkFactory(SinkFactory factory)
{
    m_sinkFactory = std::move(factory);
    if (m_replayDialog)
        m_replayDialog->setSinkFactory(m_sinkFactory);
}

void MainWindow::showTransformEditor()
{
    if (!m_transformEditor) {
        m_transformEditor = new TransformEditor(this);
        m_transformDock = new QDockWidget(u"Transform"_s, this);
        m_transformDock->setObjectName(u"transformDock"_s);
        m_transformDock->setWidget(m_transformEditor);
        // Where the user last put it (saved with the window state); the first
        // time, floating at a working size (docked under the table it is cramped).
        if (!restoreDockWidget(m_transformDock)) {
            addDockWidget(Qt::BottomDockWidgetArea, m_transformDock);
            m_transformDock->setFloating(true);
            const QRect frame = geometry();
            const QSize size(std::min(1200, std::max(900, frame.width() - 120)), std::min(760, std::max(600, frame.height() - 120)));
            m_transformDock->resize(size);
            m_transformDock->move(frame.center() - QPoint(size.width() / 2, size.height() / 2));
        }
        connect(m_transformEditor, &TransformEditor::titleChanged, m_transformDock, &QDockWidget::setWindowTitle);
        connect(m_transformEditor, &TransformEditor::replayRequested, this, [this] {
            showReplayDialog();
            m_replayDialog->transformBox()->setCurrentIndex(int(ReplayDialog::TransformChoice::Editor));
        });
        m_transformEditor->setTape(m_tape);
        if (m_replayDialog)
            m_replayDialog->setTransformEditor(m_transformEditor);
        updateReplaySources();
    }
    m_transformDock->show();
    m_transformDock->raise();
}

void MainWindow::showReplayDialog()
{
    if (!m_replayDialog) {
        m_replayDialog = new ReplayDialog(m_settings, this);
        m_replayDialog->setSinkFactory(m_sinkFactory);
        m_replayDialog->setTransformEditor(m_transformEditor);
        m_replayDialog->setTape(m_tape);
        updateReplaySources();
    }
    m_replayDialog->show();
    m_replayDialog->raise();
    m_replayDialog->activateWindow();
}

void MainWindow::updateReplaySources()
{
    if (!m_transformEditor && !m_replayDialog)
        return;
    const QLocale locale;
    const EventSelection selection = m_timelineView->selection();
    QString selectionText;
    if (!selection.isEmpty()) {
        selectionText = selection.axis == AxisKind::Time
            ? u"%1 from %2"_s.arg(ticks::formatDuration(selection.range.span()),
                                  ticks::formatTimeUs(selection.range.from, m_timelineView->zone()).left(23))
            : u"events #%1 to #%2"_s.arg(selection.range.from).arg(selection.range.to - 1);
        if (!selection.streams.isEmpty())
            selectionText += u" in %1 lanes"_s.arg(selection.streams.size());
    }
    const bool selectionKnown = m_selectionActive && !m_selectionPending;
    if (m_replayDialog)
        m_replayDialog->setSelection(selection, selectionKnown ? qint64(m_selectionRows.size()) : -1, selectionText);
    if (!m_transformEditor)
        return;
    // Preview: the rows selected in the table (several), else the timeline
    // selection, else the current event and the ones after it.
    QList<qint64> seqs;
    qint64 tableSelected = 0;
    qint64 minSeq = -1, maxSeq = -1;
    const QItemSelection rows = m_table->selectionModel()->selection();
    for (const QItemSelectionRange &r : rows) {
        tableSelected += r.bottom() - r.top() + 1;
        for (int row = r.top(); row <= r.bottom() && seqs.size() < TransformEditor::MaxPreviewEvents; ++row)
            seqs << m_model->seqForRow(row);
        const qint64 first = m_model->seqForRow(r.top()), last = m_model->seqForRow(r.bottom());
        minSeq = minSeq < 0 ? first : std::min(minSeq, first);
        maxSeq = std::max(maxSeq, last);
    }
    std::sort(seqs.begin(), seqs.end());
    QString description;
    if (tableSelected > 1) {
        description = tableSelected > seqs.size()
            ? u"the first %1 of %2 events selected in the table"_s.arg(seqs.size()).arg(locale.toString(tableSelected))
            : u"%1 events selected in the table"_s.arg(seqs.size());
        EventSelection range;
        range.axis = AxisKind::Position;
        range.range = AxisRange{minSeq, maxSeq + 1};
        m_transformEditor->setTestSelection(range, u"events #%1 to #%2"_s.arg(minSeq).arg(maxSeq));
    } else {
        seqs.clear();
        if (selectionKnown && !m_selectionRows.isEmpty()) {
            for (int i = 0; i < m_selectionRows.size() && seqs.size() < TransformEditor::MaxPreviewEvents; ++i)
                seqs << qint64(m_selectionRows[i]);
            description = m_selectionRows.size() > seqs.size()
                ? u"the first %1 of %2 events in the timeline selection"_s.arg(seqs.size()).arg(locale.toString(m_selectionRows.size()))
                : u"%1 events in the timeline selection"_s.arg(seqs.size());
        } else {
            const int current = std::max(0, m_table->currentIndex().row());
            for (int row = current; row < m_model->rowCount() && seqs.size() < TransformEditor::MaxPreviewEvents; ++row)
                seqs << m_model->seqForRow(row);
            if (!seqs.isEmpty())
                description = u"event #%1 and the %2 after it in the table"_s.arg(seqs.first()).arg(seqs.size() - 1);
        }
        m_transformEditor->setTestSelection(selection, selection.isEmpty() ? QString() : u"the timeline selection ("_s + selectionText + u')');
    }
    m_transformEditor->setPreviewEvents(seqs, description);
}

void MainWindow::saveAs()
{
    if (!m_tape)
        return;
    const QString target = QFileDialog::getSaveFileName(this, u"Save tape as"_s,
                                                        QFileInfo(m_tape->path()).absoluteFilePath(),
                                                        u"Tapes (*.tape)"_s);
    if (target.isEmpty() || QFileInfo(target) == QFileInfo(m_tape->path()))
        return;
    // The dialog already asked about overwriting.
    if (QFile::exists(target) && !QFile::remove(target)) {
        showError(u"Cannot save tape"_s, u"%1: cannot replace the existing file"_s.arg(target));
        return;
    }
    if (!QFile::copy(m_tape->path(), target)) {
        showError(u"Cannot save tape"_s, u"%1: cannot copy the tape there"_s.arg(target));
        return;
    }
    m_settings->addRecentFile(target);
}

void MainWindow::showError(const QString &title, const QString &message)
{
    m_lastError = message;
    if (m_errorDialogs)
        QMessageBox::warning(this, title, message);
}

QString MainWindow::statusText() const
{
    return m_status->text();
}

void MainWindow::updateStatus()
{
    m_saveAsAction->setEnabled(m_tape != nullptr);
    m_closeAction->setEnabled(m_tape != nullptr);
    if (!m_tape) {
        m_status->setText(u"No tape open · drop a .tape file here or use File › Open"_s);
        m_warnings->clear();
        m_warnings->setToolTip({});
        return;
    }
    const QLocale locale;
    QString text = u"%1 events · %2 shown · %3"_s.arg(locale.toString(m_tape->eventCount()))
                       .arg(locale.toString(m_model->rowCount()))
                       .arg(ValueFormat::humanSize(m_tape->fileSize()));
    const EventSelection selection = m_timelineView->selection();
    if (!selection.isEmpty()) {
        text += selection.axis == AxisKind::Time
            ? u" · selected %1 from %2"_s.arg(ticks::formatDuration(selection.range.span()),
                                              ticks::formatTimeUs(selection.range.from, m_timelineView->zone()).left(23))
            : u" · selected events %1 to %2"_s.arg(locale.toString(selection.range.from)).arg(locale.toString(selection.range.to - 1));
        if (!selection.streams.isEmpty())
            text += u" in %1 lanes"_s.arg(selection.streams.size());
    }
    if (!m_tape->metadata().source.isEmpty())
        text += u" · "_s + m_tape->metadata().source;
    if (!m_tape->isComplete())
        text += u" · incomplete (recording or crashed)"_s;
    m_status->setText(text);
    const QStringList warnings = m_tape->warnings();
    m_warnings->setText(warnings.isEmpty() ? QString()
                        : warnings.size() == 1 ? u"⚠ "_s + warnings.constFirst()
                                               : u"⚠ %1 warnings"_s.arg(warnings.size()));
    m_warnings->setToolTip(warnings.join(u'\n'));
}

void MainWindow::updateTitle()
{
    setWindowTitle(m_tape ? u"%1 — Tapedeck"_s.arg(QFileInfo(m_tape->path()).fileName()) : u"Tapedeck"_s);
    setWindowFilePath(m_tape ? m_tape->path() : QString());
}

bool MainWindow::isSelectionPending() const
{
    return m_selectionPending || m_selectionTimer->isActive() || m_selectionJobs->isRunning();
}

void MainWindow::applyVisibleRows()
{
    const qint64 selected = m_model->seqForRow(m_table->currentIndex().row());
    if (!m_filterActive && !m_selectionActive) {
        m_model->clearFilter();
        if (selected >= 0) {
            m_table->selectRow(int(selected));
            m_table->scrollTo(m_model->index(int(selected), 0), QAbstractItemView::PositionAtCenter);
        }
        updateStatus();
        return;
    }
    const QVector<quint32> rows = !m_selectionActive ? m_filterRows
        : !m_filterActive                             ? m_selectionRows
                                                      : timelinescan::intersect(m_filterRows, m_selectionRows);
    m_model->setVisibleRows(rows);
    // Keep the selected event, or the nearest one after it, in view (as Wireshark does).
    int row = -1;
    if (!rows.isEmpty()) {
        const auto it = std::lower_bound(rows.cbegin(), rows.cend(), quint32(std::max<qint64>(selected, 0)));
        row = it == rows.cend() ? int(rows.size()) - 1 : int(it - rows.cbegin());
    }
    if (row >= 0) {
        m_table->selectRow(row);
        m_table->scrollTo(m_model->index(row, 0), QAbstractItemView::PositionAtCenter);
    } else {
        m_detail->clear();
    }
    updateStatus();
}

void MainWindow::startSelectionJob()
{
    const EventSelection selection = m_timelineView->selection();
    if (!m_tape || selection.isEmpty()) {
        m_selectionJobs->cancel();
        m_selectionPending = false;
        m_selectionRows.clear();
        const bool was = m_selectionActive;
        m_selectionActive = false;
        if (was)
            applyVisibleRows();
        updateStatus();
        updateReplaySources();
        return;
    }
    const std::shared_ptr<const Tape> tape = m_tape;
    m_selectionJobs->start(
        [tape, selection](const std::function<bool()> &cancelled) {
            return timelinescan::selectEvents(*tape, selection, cancelled);
        },
        [this](QVector<quint32> rows) {
            m_selectionPending = false;
            m_selectionRows = std::move(rows);
            m_selectionActive = true;
            applyVisibleRows();
            updateReplaySources();
        });
}

void MainWindow::selectSeqInTable(qint64 seq)
{
    const int row = m_model->rowForSeq(seq);
    if (row >= 0) {
        m_table->selectRow(row);
        m_table->scrollTo(m_model->index(row, 0), QAbstractItemView::PositionAtCenter);
        return;
    }
    // Hidden by the filter or the selection: still show it in the detail pane.
    Event event;
    QString error;
    if (m_tape && m_tape->event(seq, &event, &error)) {
        m_detail->setEvent(event, seq);
        statusBar()->showMessage(u"Event #%1 is not in the table (filtered out)"_s.arg(seq), 5000);
    }
}

void MainWindow::showCurrentEvent()
{
    const qint64 seq = m_model->seqForRow(m_table->currentIndex().row());
    if (seq >= 0)
        m_timelineView->setCurrentSeq(seq);
    if (!m_tape || seq < 0) {
        m_detail->clear();
        return;
    }
    Event event;
    QString error;
    if (!m_tape->event(seq, &event, &error)) {
        m_detail->clear();
        statusBar()->showMessage(error, 5000);
        return;
    }
    m_detail->setEvent(event, seq);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    m_settings->setWindowGeometry(saveGeometry());
    m_settings->setWindowState(saveState());
    m_settings->setSplitterState(m_splitter->saveState());
    QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (!tapeFilesIn(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const QStringList files = tapeFilesIn(event->mimeData());
    if (files.isEmpty())
        return;
    event->acceptProposedAction();
    // Opened after the drop returns, so a message box never runs inside the drag.
    const QString path = files.constFirst();
    QMetaObject::invokeMethod(this, [this, path] { openFile(path); }, Qt::QueuedConnection);
}

} // namespace tapedeck
