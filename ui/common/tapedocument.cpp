#include "ui/common/tapedocument.h"

#include "core/base/jobtracker.h"
#include "core/tape/tape.h"
#include "core/timeline/timelinemarks.h"

#include <QTimer>

using namespace Qt::StringLiterals;

namespace tapedeck {

TapeDocument::TapeDocument(QObject *parent)
    : QObject(parent)
    , m_selectionJobs(std::make_unique<JobTracker>(this))
    , m_selectionTimer(new QTimer(this))
{
    m_selectionTimer->setSingleShot(true);
    m_selectionTimer->setInterval(120); // a brush being dragged is looked up once it rests
    connect(m_selectionTimer, &QTimer::timeout, this, &TapeDocument::startSelectionJob);
}

TapeDocument::~TapeDocument() = default;

QString TapeDocument::demoResourcePath()
{
    return u":/demo/demo.tape"_s;
}

QString TapeDocument::demoOrdersResourcePath()
{
    return u":/demo/demo-orders.sqlite"_s;
}

void TapeDocument::resetRows()
{
    m_filterRows.clear();
    m_filterActive = false;
    m_selectionRows.clear();
    m_selectionActive = false;
}

void TapeDocument::setTape(std::shared_ptr<const Tape> tape)
{
    show(std::move(tape), false);
}

void TapeDocument::show(std::shared_ptr<const Tape> tape, bool live)
{
    m_tape = std::move(tape);
    m_live = live;
    resetRows();
    Q_EMIT tapeChanged(m_tape);
}

void TapeDocument::showLiveTape(std::shared_ptr<const Tape> tape)
{
    if (!tape)
        return;
    if (!m_tape || m_tape->path() != tape->path()) {
        // As the window always did: the old tape is closed first, then the recording shown.
        setTape(nullptr);
        show(std::move(tape), true);
        return;
    }
    m_tape = std::move(tape);
    Q_EMIT tapeGrew(m_tape);
    // The filter, the timeline and the state are rebuilt once, when the recording is complete.
    if (m_tape->isComplete())
        Q_EMIT tapeCompleted(m_tape);
}

void TapeDocument::setFilterRows(QVector<quint32> rows)
{
    m_filterRows = std::move(rows);
    m_filterActive = true;
    Q_EMIT visibleRowsChanged();
}

void TapeDocument::clearFilterRows()
{
    m_filterRows.clear();
    m_filterActive = false;
    Q_EMIT visibleRowsChanged();
}

void TapeDocument::setSelection(const EventSelection &selection)
{
    m_selection = selection;
    m_selectionPending = true;
    m_selectionTimer->start();
}

bool TapeDocument::isSelectionPending() const
{
    return m_selectionPending || m_selectionTimer->isActive() || m_selectionJobs->isRunning();
}

QVector<quint32> TapeDocument::visibleRows() const
{
    return !m_selectionActive ? m_filterRows
        : !m_filterActive     ? m_selectionRows
                              : timelinescan::intersect(m_filterRows, m_selectionRows);
}

void TapeDocument::startSelectionJob()
{
    if (!m_tape || m_selection.isEmpty()) {
        m_selectionJobs->cancel();
        m_selectionPending = false;
        m_selectionRows.clear();
        const bool was = m_selectionActive;
        m_selectionActive = false;
        if (was)
            Q_EMIT visibleRowsChanged();
        Q_EMIT selectionChanged();
        return;
    }
    const std::shared_ptr<const Tape> tape = m_tape;
    const EventSelection selection = m_selection;
    m_selectionJobs->start(
        [tape, selection](const std::function<bool()> &cancelled) {
            return timelinescan::selectEvents(*tape, selection, cancelled);
        },
        [this](QVector<quint32> rows) {
            m_selectionPending = false;
            m_selectionRows = std::move(rows);
            m_selectionActive = true;
            Q_EMIT visibleRowsChanged();
            Q_EMIT selectionChanged();
        });
}

void TapeDocument::setRecordingSource(const QString &source)
{
    const bool was = isRecording();
    m_recordingSource = source;
    if (was != isRecording())
        Q_EMIT recordingChanged(isRecording());
}

} // namespace tapedeck
