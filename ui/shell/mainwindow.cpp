#include "ui/shell/mainwindow.h"

#include "ui/browser/eventdetailpane.h"
#include "ui/browser/eventtablemodel.h"
#include "ui/browser/filterbar.h"
#include "ui/kafka/kafkasession.h"
#include "ui/postgres/pgsession.h"
#include "ui/common/palette.h"
#include "ui/common/settings.h"
#include "ui/common/tapedocument.h"
#include "core/tape/tape.h"
#include "core/timeline/timeaxis.h"
#include "core/timeline/timelinemarks.h"
#include "ui/timeline/timelineview.h"
#include "ui/timeline/timelinewidget.h"
#include "ui/common/valueformat.h"

#include <QStyledItemDelegate>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QScrollBar>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace tapedeck {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_settings(new Settings(this))
    , m_document(new TapeDocument(this))
{
    setAcceptDrops(true);
    setWindowIcon(QIcon::fromTheme(u"media-tape"_s));

    m_model = new EventTableModel(this);
    m_model->setUtc(m_settings->utcTime());

    createTable();

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
    connect(m_filterBar, &FilterBar::filterApplied, m_document, [this](const FilterResult &result) { m_document->setFilterRows(result.rows); });
    connect(m_filterBar, &FilterBar::filterCleared, m_document, &TapeDocument::clearFilterRows);

    createTimelineDock();
    connect(m_timelineView, &TimelineView::selectionChanged, m_document, &TapeDocument::setSelection);
    connect(m_timeline, &TimelineWidget::eventClicked, this, &MainWindow::selectSeqInTable);
    connectDocument();

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

MainWindow::~MainWindow()
{
    // ~QWidget hides the docks after this object stopped being a MainWindow:
    // their visibilityChanged must not reach the lambdas above (UBSan, #20).
    for (QDockWidget *dock : findChildren<QDockWidget *>())
        dock->disconnect(this);
}

void MainWindow::createTable()
{
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
}

void MainWindow::createTimelineDock()
{
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
}

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

std::shared_ptr<const Tape> MainWindow::tape() const
{
    return m_document->tape();
}

void MainWindow::appendTimelineSnapshot(std::shared_ptr<const Tape> tape)
{
    m_timeline->appendSnapshot(std::move(tape));
}

void MainWindow::connectDocument()
{
    // In the order the window always updated its parts: the filter text
    // first, then the table, the filter bar and the timeline (the docks
    // subscribe when they are made), then the status.
    connect(m_document, &TapeDocument::tapeChanged, this, [this] { m_filterBar->clearFilter(); });
    connect(m_document, &TapeDocument::tapeChanged, m_model, &EventTableModel::setTape);
    connect(m_document, &TapeDocument::tapeChanged, m_filterBar, &FilterBar::setTape);
    connect(m_document, &TapeDocument::tapeChanged, m_timeline, &TimelineWidget::setTape);
    connect(m_document, &TapeDocument::tapeChanged, this, [this] {
        m_detail->clear();
        updateStatus();
        updateTitle();
    });
    connect(m_document, &TapeDocument::tapeGrew, this, [this](std::shared_ptr<const Tape> grown) {
        const QScrollBar *bar = m_table->verticalScrollBar();
        const bool atBottom = bar->value() >= bar->maximum();
        m_model->appendSnapshot(std::move(grown));
        if (atBottom)
            m_table->scrollToBottom();
        updateStatus();
    });
    // The filter and the timeline are rebuilt once, when the recording is complete.
    connect(m_document, &TapeDocument::tapeCompleted, m_filterBar, &FilterBar::setTape);
    connect(m_document, &TapeDocument::tapeCompleted, m_timeline, &TimelineWidget::setTape);
    connect(m_document, &TapeDocument::tapeCompleted, this, &MainWindow::updateStatus);
    connect(m_document, &TapeDocument::visibleRowsChanged, this, &MainWindow::applyVisibleRows);
    connect(m_document, &TapeDocument::selectionChanged, this, [this] {
        updateStatus();
        updateReplaySources();
    });
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
    m_saveAsAction->setEnabled(tape() != nullptr);
    m_closeAction->setEnabled(tape() != nullptr);
    if (!tape()) {
        m_status->setText(u"No tape open · drop a .tape file here or use File › Open"_s);
        m_warnings->clear();
        m_warnings->setToolTip({});
        return;
    }
    const QLocale locale;
    QString text = u"%1 events · %2 shown · %3"_s.arg(locale.toString(tape()->eventCount()))
                       .arg(locale.toString(m_model->rowCount()))
                       .arg(ValueFormat::humanSize(tape()->fileSize()));
    const EventSelection selection = m_timelineView->selection();
    if (!selection.isEmpty()) {
        text += selection.axis == AxisKind::Time
            ? u" · selected %1 from %2"_s.arg(ticks::formatDuration(selection.range.span()),
                                              ticks::formatTimeUs(selection.range.from, m_timelineView->zone()).left(23))
            : u" · selected events %1 to %2"_s.arg(locale.toString(selection.range.from)).arg(locale.toString(selection.range.to - 1));
        if (!selection.streams.isEmpty())
            text += u" in %1 lanes"_s.arg(selection.streams.size());
    }
    if (!tape()->metadata().source.isEmpty())
        text += u" · "_s + tape()->metadata().source;
    if (!tape()->isComplete())
        text += u" · incomplete (recording or crashed)"_s;
    m_status->setText(text);
    const QStringList warnings = tape()->warnings();
    m_warnings->setText(warnings.isEmpty() ? QString()
                        : warnings.size() == 1 ? u"⚠ "_s + warnings.constFirst()
                                               : u"⚠ %1 warnings"_s.arg(warnings.size()));
    m_warnings->setToolTip(warnings.join(u'\n'));
}

void MainWindow::updateTitle()
{
    setWindowTitle(tape() ? u"%1 — Tapedeck"_s.arg(QFileInfo(tape()->path()).fileName()) : u"Tapedeck"_s);
    setWindowFilePath(tape() ? tape()->path() : QString());
}

bool MainWindow::isSelectionPending() const
{
    return m_document->isSelectionPending();
}

void MainWindow::applyVisibleRows()
{
    const qint64 selected = m_model->seqForRow(m_table->currentIndex().row());
    if (!m_document->hasVisibleRows()) {
        m_model->clearFilter();
        if (selected >= 0) {
            m_table->selectRow(int(selected));
            m_table->scrollTo(m_model->index(int(selected), 0), QAbstractItemView::PositionAtCenter);
        }
        updateStatus();
        return;
    }
    const QVector<quint32> rows = m_document->visibleRows();
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
    if (tape() && tape()->event(seq, &event, &error)) {
        m_detail->setEvent(event, seq);
        statusBar()->showMessage(u"Event #%1 is not in the table (filtered out)"_s.arg(seq), 5000);
    }
}

void MainWindow::showCurrentEvent()
{
    const qint64 seq = m_model->seqForRow(m_table->currentIndex().row());
    if (seq >= 0)
        m_timelineView->setCurrentSeq(seq);
    if (!tape() || seq < 0) {
        m_detail->clear();
        return;
    }
    Event event;
    QString error;
    if (!tape()->event(seq, &event, &error)) {
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

} // namespace tapedeck
