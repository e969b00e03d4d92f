#include "ui/recording/livetapefollower.h"

#include "ui/common/tapedocument.h"
#include "ui/recording/recordingcontroller.h"
#include "ui/recording/sessionhost.h"

#include "core/tape/tape.h"

#include <QTimer>

namespace tapedeck {

LiveTapeFollower::LiveTapeFollower(SessionHost *host, RecordingController *recording, QObject *parent)
    : QObject(parent), m_host(host), m_recording(recording), m_timelineTimer(new QTimer(this))
{
    connect(m_recording, &RecordingController::snapshot, this, &LiveTapeFollower::onSnapshot);
    m_timelineTimer->setSingleShot(true);
    m_timelineTimer->setInterval(250);
    connect(m_timelineTimer, &QTimer::timeout, this, [this] {
        const std::shared_ptr<const Tape> shown = m_host->hostDocument()->tape();
        if (m_following && m_recording->isRunning() && shown && shown->path() == m_recording->tapePath())
            m_host->appendTimelineSnapshot(shown); // aggregates only the new chunks
    });
}

void LiveTapeFollower::onSnapshot(std::shared_ptr<const Tape> tape)
{
    if (!m_following)
        return;
    // The user opened another tape: leave the window alone; the recording goes on.
    const std::shared_ptr<const Tape> shown = m_host->hostDocument()->tape();
    if (shown && shown->path() != tape->path() && shown->path() != m_recording->tapePath()) {
        m_following = false;
        return;
    }
    m_host->hostDocument()->showLiveTape(std::move(tape));
    // The timeline gets the latest snapshot at most four times a second (and
    // the complete tape from showLiveTape() when the recording ends).
    if (!m_timelineTimer->isActive())
        m_timelineTimer->start();
}

} // namespace tapedeck
