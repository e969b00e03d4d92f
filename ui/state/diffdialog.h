#pragma once

#include "core/replay/replaytarget.h"
#include "core/diff/tablediff.h"

#include <QDialog>

#include <functional>
#include <memory>

class QCheckBox;
class QComboBox;
class QFormLayout;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace tapedeck {

class JobTracker;
class LogState;
class Settings;
class TargetPicker;

// "Compare with Table…": the state of one of the tape's tables or topics
// (at the end of the tape, or at the State dock's point) against a live
// table in an SQLite file or a PostgreSQL connection (profile), matched by
// primary key or by the key columns and mapping typed here. The diff runs on
// a worker (rows read so far, Cancel); the results list missing, extra and
// differing keys, each with its differing columns and its last events (a
// click asks the window to jump to them). "Write Repair SQL…" saves the
// script; "Repair by Replay…" asks an explicit confirmation naming the target,
// writes the repair through the replay sinks (same batches, progress table
// and replay id as a replay) and compares again. Readers and sinks come from
// injected factories: ui never links libpq or sqlite3. Thread: GUI thread.
class DiffDialog : public QDialog
{
    Q_OBJECT
public:
    DiffDialog(Settings *settings, QWidget *parent = nullptr);
    ~DiffDialog() override;

    void setFactories(TableReaderFactory readers, SinkFactory sinks);
    void setState(std::shared_ptr<const LogState> state, const QString &tapeName);
    // The State dock's point (events [0, end)); -1: none (only the end of the tape).
    void setPoint(qint64 end);
    void setStateTable(const QString &name);
    void setSqliteTarget(const QString &path, const QString &table);
    // Tests answer the repair confirmation (and read the question).
    void setConfirmHandler(std::function<bool(const QString &question)> handler) { m_confirm = std::move(handler); }
    QString lastQuestion() const { return m_lastQuestion; }

    bool buildRequest(ReplayTarget *target, QString *table, DiffOptions *options, QString *problem) const;
    void compare();
    void cancel();
    bool writeRepairSql(const QString &path, QString *error);
    void repairByReplay();
    bool isRunning() const { return m_running; }

    const DiffResult &result() const { return m_result; }
    bool hasResult() const { return m_hasResult; }
    QString lastError() const { return m_error; }
    QTreeWidget *resultTree() const { return m_tree; }
    QLabel *summaryLabel() const { return m_summary; }
    QLabel *problemLabel() const { return m_problem; }
    QComboBox *stateTableBox() const { return m_stateTable; }
    QComboBox *targetBox() const;
    QLineEdit *sqlitePathEdit() const;
    QLineEdit *tableEdit() const { return m_table; }
    QLineEdit *keyEdit() const { return m_key; }
    QLineEdit *mapEdit() const { return m_map; }
    QCheckBox *atPointBox() const { return m_atPoint; }
    QPushButton *compareButton() const { return m_compareButton; }
    QPushButton *repairSqlButton() const { return m_repairSql; }
    QPushButton *repairReplayButton() const { return m_repairReplay; }

Q_SIGNALS:
    void finished(bool ok);          // a comparison (or a repair and its comparison) ended
    // A result's events: the window makes the last one current and marks them.
    void jumpToEvents(const QString &filterExpression, const QList<qint64> &seqs);

private:
    // The constructor's parts, called in this order (widget creation order).
    QFormLayout *createForm();
    QHBoxLayout *createButtons();
    void createResultView();
    void wireSignals();

    void validate();
    void setRunning(bool running);
    void showResult();
    // Keeps a finished diff's result and shows it.
    void showResult(DiffResult result, const ReplayTarget &target);
    void showError(const QString &error);
    void entryActivated(QTreeWidgetItem *item);
    QString filterFor(const DiffEntry &entry) const;

    Settings *m_settings = nullptr;
    TableReaderFactory m_readers;
    SinkFactory m_sinks;
    std::shared_ptr<const LogState> m_state;
    QString m_tapeName;
    qint64 m_point = -1;
    QComboBox *m_stateTable = nullptr;
    QCheckBox *m_atPoint = nullptr;
    TargetPicker *m_targetPicker = nullptr;
    QLineEdit *m_table = nullptr;
    QLineEdit *m_key = nullptr;
    QLineEdit *m_map = nullptr;
    QLabel *m_problem = nullptr;
    QPushButton *m_compareButton = nullptr;
    QPushButton *m_cancelButton = nullptr;
    QPushButton *m_repairSql = nullptr;
    QPushButton *m_repairReplay = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_summary = nullptr;
    QTreeWidget *m_tree = nullptr;
    std::unique_ptr<JobTracker> m_jobs;
    std::shared_ptr<std::atomic<qint64>> m_rowsRead;
    QTimer *m_progressTimer = nullptr;
    bool m_running = false;
    DiffResult m_result;
    ReplayTarget m_resultTarget;
    bool m_hasResult = false;
    QString m_error;
    std::function<bool(const QString &)> m_confirm;
    QString m_lastQuestion;
};

} // namespace tapedeck
