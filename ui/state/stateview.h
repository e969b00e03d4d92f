#pragma once

#include "ui/state/statemodel.h"

#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSlider;
class QTableView;
class QTimer;

namespace tapedeck {

class JobTracker;
class Tape;

// The "State" dock: the table the log implies at a point of the tape.
// The point follows the current event (the event table's current row and the
// timeline's cursor, one TimelineView::currentSeq): the state after that event.
// The slider scrubs without moving the current event; releasing it makes the
// point the current event, so the table and the timeline follow.
// Rows that changed since the previous point are highlighted; the search box
// keeps the keys (or values) that contain its text. Everything that reads the
// tape runs on workers (LogState build, snapshots, searches, row windows,
// exports); stale results are dropped. Thread: GUI thread.
class StateView : public QWidget
{
    Q_OBJECT
public:
    explicit StateView(QWidget *parent = nullptr);
    ~StateView() override;

    void setTape(std::shared_ptr<const Tape> tape);
    std::shared_ptr<const LogState> state() const { return m_state; }
    // The state after events [0, end).
    void setEnd(qint64 end);
    qint64 end() const { return m_end; }
    // The state after event #seq (the current event); -1: the whole tape.
    void setCurrentSeq(qint64 seq);
    bool setTable(const QString &name);
    QString tableName() const;
    void setSearch(const QString &text);
    void setUtc(bool utc);

    StateModel *model() const { return m_model; }
    QTableView *tableView() const { return m_view; }
    QComboBox *tableBox() const { return m_table; }
    QSlider *slider() const { return m_slider; }
    QLineEdit *searchEdit() const { return m_search; }
    QPushButton *showEventsButton() const { return m_showEvents; }
    QLabel *statusLabel() const { return m_status; }
    // Building the index or computing a frame.
    bool isBusy() const;

    // The events of the key on `row` (ascending sequence numbers).
    QList<qint64> eventsOfRow(int row) const;
    // A JavaScript filter expression that matches the events of the key on `row`.
    QString filterForRow(int row) const;
    // Writes the shown rows (search applied) as CSV or JSON lines, on a
    // worker; exportFinished reports the rows written or an error.
    void exportRows(const QString &path, bool jsonLines);

public Q_SLOTS:
    void showEventsOfCurrentKey();
    void exportDialog();

Q_SIGNALS:
    void stateReady();
    void frameReady();
    // "Show events of this key": the window filters the table with
    // `filterExpression` and marks `seqs` on the timeline.
    void showKeyEvents(const QString &filterExpression, const QList<qint64> &seqs);
    // The user released the slider: make this event current (-1: none).
    void currentSeqRequested(qint64 seq);
    void exportFinished(qint64 rows, const QString &error);
    void compareRequested(); // "Compare with Table…"


private:
    // The constructor's parts, called in this order (widget creation order).
    void createControls();
    void createTableView();
    void layOut();
    void wireSignals();

    void scheduleFrame();
    void startFrame();
    void updateStatus();
    void tablesChanged();

    std::shared_ptr<const Tape> m_tape;
    std::shared_ptr<const LogState> m_state;
    StateModel *m_model = nullptr;
    QTableView *m_view = nullptr;
    QComboBox *m_table = nullptr;
    QSlider *m_slider = nullptr;
    QLabel *m_point = nullptr;
    QLineEdit *m_search = nullptr;
    QPushButton *m_showEvents = nullptr;
    QPushButton *m_export = nullptr;
    QPushButton *m_compare = nullptr;
    QLabel *m_status = nullptr;
    QProgressBar *m_progress = nullptr;
    QTimer *m_frameTimer = nullptr;
    std::unique_ptr<JobTracker> m_buildJobs;
    std::unique_ptr<JobTracker> m_frameJobs;
    std::unique_ptr<JobTracker> m_exportJobs;
    qint64 m_end = -1;          // -1: the end of the tape
    qint64 m_shownEnd = -1;     // the end of the frame shown
    int m_shownTable = -1;
    QString m_shownSearch;
    bool m_frameRunning = false;
    bool m_building = false;
    bool m_utc = false;
    QString m_error;
};

} // namespace tapedeck
