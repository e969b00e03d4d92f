#pragma once

#include "ui/compaction/compactionjob.h"

#include <QMap>
#include <QWidget>

#include <memory>

class QComboBox;
class QDateTimeEdit;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSlider;
class QSplitter;
class QTimer;
class QTreeWidget;

namespace tapedeck {

class JobTracker;

// The compaction preview of a tape (or of the timeline's selection): per
// partition and in total what the next cleaner pass at "now" and the fully
// compacted log keep; the selected event's key history with the reason each
// version stays or goes; what-if topic configs and "now"; stepping through
// passes. Every change recomputes in the background (JobTracker, coalesced on
// a short timer); the GUI never waits. Thread: GUI thread.
class CompactionPanel : public QWidget
{
    Q_OBJECT
public:
    static constexpr int CoalesceMs = 120;
    // The configs the what-if editor offers (Kafka names).
    static QStringList editableConfigs();
    enum class TimelineMode { NextPass, FullyCompacted, Off };

    explicit CompactionPanel(QWidget *parent = nullptr);
    ~CompactionPanel() override;

    void setTape(std::shared_ptr<const Tape> tape);
    void setSelection(const EventSelection &selection); // empty: the whole tape
    void setCurrentSeq(qint64 seq);                     // the key history follows it
    void setNowMs(qint64 nowMs);                        // < 0: the latest record timestamp
    qint64 nowMs() const { return m_nowMs; }
    // What-if: a config value (Kafka name) as the user would type it; empty: the tape's.
    void setConfigValue(const QString &name, const QString &value);
    void addPass();        // a pass at the current "now"
    void removeLastPass();
    void clearPasses();
    void setTimelineMode(TimelineMode mode);

    bool isBusy() const;
    std::shared_ptr<const CompactionPreview> preview() const { return m_result.preview; }
    const CompactionJobResult &result() const { return m_result; }
    QBitArray timelineDimmed() const; // what the timeline should grey, per the mode

    // For tests and the main window.
    QTreeWidget *summary() const { return m_summary; }
    QTreeWidget *history() const { return m_history; }
    QTreeWidget *passList() const { return m_passes; }
    QLabel *historyTitle() const { return m_historyTitle; }
    QLabel *statusLabel() const { return m_status; }
    QLineEdit *configEdit(const QString &name) const { return m_edits.value(name); }

Q_SIGNALS:
    // A new answer is shown (also after a failed one: result().ok is false).
    void resultReady();
    // The timeline should grey these sequence numbers (empty: none).
    void timelineDimmedChanged(const QBitArray &dimmed);

private:
    // The constructor's parts, called in this order (widget creation order).
    QGroupBox *createWhatIfGroup();
    QGroupBox *createNowGroup();
    void wireNowControls();
    void createSummaryTree(QSplitter *splitter);
    void createPassBox(QSplitter *splitter);
    void createHistoryBox(QSplitter *splitter);

    void schedule(bool rebuildLogs);
    void start();
    void onResult(CompactionJobResult result);
    void showSummary();
    void showPasses();
    void showHistory();
    void showNow();
    void fillConfigEdits();
    void validateEdit(const QString &name);
    QList<QPair<QString, QString>> overrides() const;

    std::shared_ptr<const Tape> m_tape;
    EventSelection m_selection;
    qint64 m_currentSeq = -1;
    qint64 m_nowMs = -1;
    QList<qint64> m_passTimes;
    TimelineMode m_timelineMode = TimelineMode::NextPass;
    bool m_rebuildLogs = true;
    std::shared_ptr<const CompactionPreview> m_logs; // logs for m_tape + m_selection
    CompactionJobResult m_result;
    std::unique_ptr<JobTracker> m_jobs;
    bool m_running = false;
    QTimer *m_coalesce = nullptr;

    QLabel *m_title = nullptr;
    QLabel *m_status = nullptr;
    QMap<QString, QLineEdit *> m_edits;
    QDateTimeEdit *m_nowEdit = nullptr;
    QSlider *m_nowSlider = nullptr;
    qint64 m_sliderFrom = 0, m_sliderTo = 0;
    QComboBox *m_timelineCombo = nullptr;
    QTreeWidget *m_summary = nullptr;
    QTreeWidget *m_passes = nullptr;
    QPushButton *m_undoPass = nullptr;
    QPushButton *m_clearPasses = nullptr;
    QLabel *m_historyTitle = nullptr;
    QTreeWidget *m_history = nullptr;
};

} // namespace tapedeck
