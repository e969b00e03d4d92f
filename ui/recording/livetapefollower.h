#pragma once

#include <QObject>

#include <memory>

class QTimer;

namespace tapedeck {

class RecordingController;
class SessionHost;
class Tape;

// Shows a recording in the main window while it runs: each new snapshot goes
// to the document (the table follows it), and to the timeline at most four times a second (the timeline
// aggregates only the new chunks). Stops following when the user opens another
// tape; the recording goes on. Shared by the Kafka and PostgreSQL sessions.
// Thread: GUI thread.
class LiveTapeFollower : public QObject
{
    Q_OBJECT
public:
    LiveTapeFollower(SessionHost *host, RecordingController *recording, QObject *parent = nullptr);

    // Call when a recording starts: the window follows it from its first snapshot.
    void start() { m_following = true; }

private:
    void onSnapshot(std::shared_ptr<const Tape> tape);

    SessionHost *m_host;
    RecordingController *m_recording;
    QTimer *m_timelineTimer;
    bool m_following = false; // the window shows the recording (until the user opens another tape)
};

} // namespace tapedeck
