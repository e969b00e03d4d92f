#pragma once

#include "core/filter/filterjob.h"
#include "core/replay/replaytarget.h"
#include "ui/recording/sessionhost.h"

#include <QMainWindow>

#include <memory>

class QDockWidget;
class QLabel;
class QMenu;
class QSplitter;
class QTableView;
class QTimer;

namespace tapedeck {

class CompactionPanel;
class EventDetailPane;
class EventTableModel;
class FilterBar;
class JobTracker;
class KafkaService;
class KafkaSession;
class PgSession;
class PostgresService;
class ReplayDialog;
class Settings;
class StateView;
class TapeDocument;
class DiffDialog;
class Tape;
class TimelineView;
class TimelineWidget;
class TransformEditor;

// The browser window: filter bar, packet list and detail pane. The only
// place that shows errors in dialogs. Thread: GUI thread.
class MainWindow : public QMainWindow, private SessionHost
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Opens a tape; on failure shows the error in a message box (unless
    // error dialogs are off, for tests) and returns false.
    bool openFile(const QString &path);
    // Copies the built-in demo tape to the cache directory and opens it.
    bool openDemo();
    void closeFile();
    // Shows a tape being recorded: a new tape is shown like openFile() (but
    // not added to the recent files); a newer snapshot of the shown tape
    // appends its rows, keeping the selection, and stays at the bottom if
    // the table was there.
    void showLiveTape(std::shared_ptr<const Tape> tape);
    // Adds the Kafka menu and cluster browser (the service outlives the window).
    void setKafkaService(KafkaService *service);
    KafkaSession *kafka() const { return m_kafka; }
    // Adds the PostgreSQL menu and slot browser (the service outlives the window).
    void setPostgresService(PostgresService *service);
    PgSession *postgres() const { return m_postgres; }

    // Lets the replay panel write (sinks live in connectors; app/tapedeck injects them).
    void setSinkFactory(SinkFactory factory);
    // Opens (or raises) the transform editor, docked; it previews the
    // selected events and dry-runs the selection.
    void showTransformEditor();
    TransformEditor *transformEditor() const { return m_transformEditor; }
    // Opens (or raises) the replay panel for the current tape and selection.
    void showReplayDialog();
    ReplayDialog *replayDialog() const { return m_replayDialog; }

    void setErrorDialogsEnabled(bool enabled) { m_errorDialogs = enabled; }
    QString lastError() const { return m_lastError; }

    // The open tape, its filter and selection rows: what the panels follow.
    TapeDocument *document() const { return m_document; }
    std::shared_ptr<const Tape> tape() const;
    QTableView *tableView() const { return m_table; }
    EventTableModel *model() const { return m_model; }
    EventDetailPane *detailPane() const { return m_detail; }
    FilterBar *filterBar() const { return m_filterBar; }
    Settings *settings() const { return m_settings; }
    TimelineWidget *timeline() const { return m_timeline; }
    TimelineView *timelineView() const { return m_timelineView; }
    QDockWidget *timelineDock() const { return m_timelineDock; }
    // Opens (or raises) the compaction preview of the current tape, docked.
    void showCompactionPreview();
    CompactionPanel *compactionPanel() const { return m_compaction; }
    // Opens (or raises) the "State" dock: the table the log implies at the current event.
    void showStateView();
    StateView *stateView() const { return m_stateView; }
    // "Compare with Table…": the diff of a log table against SQLite or PostgreSQL
    // (opens the State dock too: it owns the tape's LogState). With the demo
    // open, the demo's SQLite orders are filled in.
    void showCompareDialog();
    DiffDialog *compareDialog() const { return m_compareDialog; }
    void setTableReaderFactory(TableReaderFactory factory) { m_tableReaderFactory = std::move(factory); }
    // The brushed selection's events are being looked up.
    bool isSelectionPending() const;
    QString statusText() const;

    static QString demoResourcePath();
    // The demo's SQLite orders (the dual-write story), and its writable copy
    // made by openDemo() (empty before, or when the build has none).
    static QString demoOrdersResourcePath();
    QString demoOrdersPath() const { return m_demoOrdersPath; }

protected:
    // SessionHost: what the Kafka and PostgreSQL sessions see of the window.
    QMainWindow *hostWindow() override { return this; }
    Settings *hostSettings() override { return m_settings; }
    TapeDocument *hostDocument() override { return m_document; }
    void appendTimelineSnapshot(std::shared_ptr<const Tape> tape) override;

    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void createTable();
    // The timeline, docked above the table, sharing a TimelineView with the window.
    void createTimelineDock();
    void createMenus();
    void createFileMenu();
    void createViewMenu();
    void addThemeMenu(QMenu *view);
    void createReplayMenu();
    void createHelpMenu();
    void updateRecentMenu();
    void updateStatus();
    void updateTitle();
    void showCurrentEvent();
    void saveAs();
    void showError(const QString &title, const QString &message);
    void applyDefaultColumnWidths();
    // Subscribes the table, the filter bar and the timeline to the document.
    void connectDocument();
    // Shows the rows of the JavaScript filter and the timeline selection (intersected).
    void applyVisibleRows();
    void selectSeqInTable(qint64 seq);
    // Makes the last of `seqs` current, filters the table with `expression`
    // (when not empty) and greys the other events on the timeline.
    void showEventsOf(const QString &expression, const QList<qint64> &seqs);
    // Feeds the table / timeline selection to the transform editor and the replay panel.
    void updateReplaySources();

    Settings *m_settings = nullptr;
    TapeDocument *m_document = nullptr;
    EventTableModel *m_model = nullptr;
    QTableView *m_table = nullptr;
    EventDetailPane *m_detail = nullptr;
    FilterBar *m_filterBar = nullptr;
    QSplitter *m_splitter = nullptr;
    TimelineView *m_timelineView = nullptr;
    TimelineWidget *m_timeline = nullptr;
    QDockWidget *m_timelineDock = nullptr;
    CompactionPanel *m_compaction = nullptr;
    QDockWidget *m_compactionDock = nullptr;
    StateView *m_stateView = nullptr;
    DiffDialog *m_compareDialog = nullptr;
    TableReaderFactory m_tableReaderFactory;
    QDockWidget *m_stateDock = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_warnings = nullptr;
    QMenu *m_recentMenu = nullptr;
    QAction *m_saveAsAction = nullptr;
    QAction *m_closeAction = nullptr;
    KafkaSession *m_kafka = nullptr;
    PgSession *m_postgres = nullptr;
    TransformEditor *m_transformEditor = nullptr;
    QDockWidget *m_transformDock = nullptr;
    ReplayDialog *m_replayDialog = nullptr;
    SinkFactory m_sinkFactory;
    bool m_errorDialogs = true;
    QString m_lastError;
    QString m_demoOrdersPath;
};

} // namespace tapedeck
