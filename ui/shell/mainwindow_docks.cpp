// MainWindow's docks and panels made on first use: compaction, state, compare, transform, replay.

#include "ui/shell/mainwindow.h"

#include "ui/browser/eventtablemodel.h"
#include "ui/browser/filterbar.h"
#include "ui/common/settings.h"
#include "ui/common/tapedocument.h"
#include "ui/compaction/compactionpanel.h"
#include "ui/replay/replaydialog.h"
#include "ui/state/diffdialog.h"
#include "ui/state/stateview.h"
#include "ui/timeline/timelineview.h"
#include "ui/timeline/timelinewidget.h"
#include "ui/transform/transformeditor.h"
#include "core/tape/tape.h"
#include "core/timeline/timeaxis.h"
#include "core/timeline/timelinemarks.h"

#include <QBitArray>
#include <QComboBox>
#include <QDockWidget>
#include <QFileInfo>
#include <QLineEdit>
#include <QLocale>
#include <QTableView>

using namespace Qt::StringLiterals;

namespace tapedeck {

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
        m_compaction->setTape(tape());
        connect(m_document, &TapeDocument::tapeChanged, m_compaction, &CompactionPanel::setTape);
        connect(m_document, &TapeDocument::tapeCompleted, m_compaction, &CompactionPanel::setTape);
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
        m_stateView->setTape(tape());
        // The state is indexed again once, on the complete tape.
        connect(m_document, &TapeDocument::tapeChanged, m_stateView, &StateView::setTape);
        connect(m_document, &TapeDocument::tapeCompleted, m_stateView, &StateView::setTape);
    }
    m_stateDock->show();
    m_stateDock->raise();
}

void MainWindow::showEventsOf(const QString &expression, const QList<qint64> &seqs)
{
    if (!tape() || seqs.isEmpty())
        return;
    // The key's last event becomes current, then the table filters to the key's events
    // (applyVisibleRows keeps the current event); the timeline greys every other event.
    selectSeqInTable(seqs.last());
    if (!expression.isEmpty()) {
        m_filterBar->setText(expression);
        m_filterBar->apply();
    }
    QBitArray dimmed(int(tape()->eventCount()), true);
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
            m_compareDialog->setState(m_stateView->state(), tape() ? QFileInfo(tape()->path()).completeBaseName() : QString());
        });
        connect(m_stateView, &StateView::frameReady, m_compareDialog, [this] { m_compareDialog->setPoint(m_stateView->model()->frame().snapshot.end()); });
    }
    m_compareDialog->setState(m_stateView->state(), tape() ? QFileInfo(tape()->path()).completeBaseName() : QString());
    m_compareDialog->setPoint(m_stateView->model()->frame().snapshot.isValid() ? m_stateView->model()->frame().snapshot.end() : -1);
    if (tape() && !m_demoOrdersPath.isEmpty() && QFileInfo(tape()->path()).absolutePath() == QFileInfo(m_demoOrdersPath).absolutePath()
        && m_compareDialog->sqlitePathEdit()->text().isEmpty()) {
        // The demo's dual-write story: its log table against the SQLite copy that lost writes.
        m_compareDialog->setSqliteTarget(m_demoOrdersPath, u"orders"_s);
        m_compareDialog->setStateTable(u"public.orders"_s);
    }
    m_compareDialog->show();
    m_compareDialog->raise();
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
        m_transformEditor->setTape(tape());
        // A recording's tape is neither edited nor replayed while it grows.
        connect(m_document, &TapeDocument::tapeChanged, m_transformEditor, [this](std::shared_ptr<const Tape> shown) {
            m_transformEditor->setTape(m_document->isLive() ? nullptr : std::move(shown));
        });
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
        m_replayDialog->setTape(tape());
        connect(m_document, &TapeDocument::tapeChanged, m_replayDialog, [this](std::shared_ptr<const Tape> shown) {
            m_replayDialog->setTape(m_document->isLive() ? nullptr : std::move(shown));
        });
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
    const bool selectionKnown = m_document->isSelectionKnown();
    const QVector<quint32> &selectionRows = m_document->selectionRows();
    if (m_replayDialog)
        m_replayDialog->setSelection(selection, selectionKnown ? qint64(selectionRows.size()) : -1, selectionText);
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
        if (selectionKnown && !selectionRows.isEmpty()) {
            for (int i = 0; i < selectionRows.size() && seqs.size() < TransformEditor::MaxPreviewEvents; ++i)
                seqs << qint64(selectionRows[i]);
            description = selectionRows.size() > seqs.size()
                ? u"the first %1 of %2 events in the timeline selection"_s.arg(seqs.size()).arg(locale.toString(selectionRows.size()))
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

} // namespace tapedeck
