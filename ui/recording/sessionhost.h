#pragma once

#include <memory>

class QMainWindow;

namespace tapedeck {

class Settings;
class Tape;
class TapeDocument;

// What a source session (Kafka, PostgreSQL) needs of the window it lives
// in, so that nothing below ui/shell knows MainWindow: a QMainWindow for its
// dock, menu, status label and dialogs, the settings, the document it
// records into, and the timeline's cheap catch-up on a growing tape.
// Thread: GUI thread.
class SessionHost
{
public:
    virtual QMainWindow *hostWindow() = 0;
    virtual Settings *hostSettings() = 0;
    virtual TapeDocument *hostDocument() = 0;
    // Aggregates only the new chunks of the shown, growing tape on the timeline.
    virtual void appendTimelineSnapshot(std::shared_ptr<const Tape> tape) = 0;

protected:
    ~SessionHost() = default;
};

} // namespace tapedeck
