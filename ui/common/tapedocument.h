#pragma once

#include "core/event/eventselection.h"

#include <QObject>
#include <QString>
#include <QVector>

#include <memory>

class QTimer;

namespace tapedeck {

class JobTracker;
class Tape;

// The open tape and what the window shows of it: the rows the JavaScript
// filter kept, the rows of the timeline's brushed selection (looked up in
// the background once the brush rests) and their intersection, and which
// source, if any, is recording. Views subscribe to its signals instead of
// having the tape pushed into them one by one. QtCore only.
// Thread: GUI thread (the selection lookup runs on the global pool).
class TapeDocument : public QObject
{
    Q_OBJECT
public:
    explicit TapeDocument(QObject *parent = nullptr);
    ~TapeDocument() override;

    std::shared_ptr<const Tape> tape() const { return m_tape; }
    // Shows another tape (or none): the filter and selection rows are
    // dropped, then tapeChanged().
    void setTape(std::shared_ptr<const Tape> tape);
    void close() { setTape(nullptr); }
    // A snapshot of a tape being recorded: a tape of another path is shown
    // like setTape() (isLive() then tells it came from a recording); a newer
    // snapshot of the shown tape replaces it and emits tapeGrew(), and
    // tapeCompleted() too when the recording is over.
    void showLiveTape(std::shared_ptr<const Tape> tape);
    // The shown tape came from showLiveTape(), not from a file the user opened.
    bool isLive() const { return m_live; }

    // The JavaScript filter's rows (ascending sequence numbers).
    void setFilterRows(QVector<quint32> rows);
    void clearFilterRows();
    bool isFilterActive() const { return m_filterActive; }

    // The timeline's brushed selection: its rows are looked up 120 ms after
    // the last change (a brush being dragged is looked up once it rests).
    void setSelection(const EventSelection &selection);
    bool isSelectionActive() const { return m_selectionActive; }
    // The brushed selection's events are being looked up.
    bool isSelectionPending() const;
    // The selection's rows are known and current.
    bool isSelectionKnown() const { return m_selectionActive && !m_selectionPending; }
    const QVector<quint32> &selectionRows() const { return m_selectionRows; }

    // The rows to show: the filter's, the selection's, or both intersected;
    // only meaningful when hasVisibleRows() (else every row is shown).
    bool hasVisibleRows() const { return m_filterActive || m_selectionActive; }
    QVector<quint32> visibleRows() const;

    // Which source records into a tape now ("Kafka", "PostgreSQL"), empty when none.
    void setRecordingSource(const QString &source);
    QString recordingSource() const { return m_recordingSource; }
    bool isRecording() const { return !m_recordingSource.isEmpty(); }

    // The bundled demo tape and the demo's SQLite orders (the dual-write story).
    static QString demoResourcePath();
    static QString demoOrdersResourcePath();

Q_SIGNALS:
    void tapeChanged(std::shared_ptr<const Tape> tape);
    void tapeGrew(std::shared_ptr<const Tape> tape);
    void tapeCompleted(std::shared_ptr<const Tape> tape);
    // The filter or the selection changed which rows are shown.
    void visibleRowsChanged();
    // The selection's rows were looked up, or the selection went away.
    void selectionChanged();
    void recordingChanged(bool recording);

private:
    void show(std::shared_ptr<const Tape> tape, bool live);
    void startSelectionJob();
    void resetRows();

    std::shared_ptr<const Tape> m_tape;
    bool m_live = false;
    std::unique_ptr<JobTracker> m_selectionJobs;
    QTimer *m_selectionTimer = nullptr;
    EventSelection m_selection;
    QVector<quint32> m_filterRows;
    bool m_filterActive = false;
    QVector<quint32> m_selectionRows;
    bool m_selectionActive = false;
    bool m_selectionPending = false;
    QString m_recordingSource;
};

} // namespace tapedeck
