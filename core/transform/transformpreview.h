#pragma once

#include "core/event/event.h"
#include "core/sink/sink.h"
#include "core/transform/transform.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <functional>

namespace tapedeck {

class Tape;

// The transform editor's live preview, computed off the GUI thread: a few
// events (the user's selection, capped) through a script, each with its
// outputs, error and console lines. A value; safe to pass between threads.
struct PreviewConsoleLine
{
    qint64 seq = -1; // -1: printed while the script was loaded
    Transform::ConsoleLevel level = Transform::ConsoleLevel::Log;
    QString text;
};

struct PreviewEvent
{
    enum class Status { Outputs, Dropped, Threw, Timeout, Invalid, NotRun };
    qint64 seq = -1;
    Event event;
    Status status = Status::NotRun;
    QList<SinkOutput> outputs;
    QString error;     // "event #12: transform threw ..." (as the replay reports it)
    int errorLine = 0; // script line of a thrown error, 0 unknown
};

struct TransformPreview
{
    QString compileError; // "orders.js:3: SyntaxError: ..." or empty
    int compileErrorLine = 0;
    QList<PreviewEvent> events;
    QList<PreviewConsoleLine> console; // at most MaxConsoleLines
    qint64 consoleDropped = 0;         // lines beyond that
    QString note;                      // e.g. why some events were not run

    static constexpr int MaxConsoleLines = 2000;
    static constexpr int MaxTimeouts = 3; // then the rest is not run
    int count(PreviewEvent::Status status) const;
};

struct PreviewRequest
{
    QString source;
    QString fileName = QStringLiteral("transform.js");
    Transform::Context context;
    int timeoutMs = 500;
    QList<qint64> seqs; // in tape order
};

// Runs `request` on the calling thread (a worker). `cancelled` is polled
// between events; a runaway call is stopped by the transform's watchdog.
TransformPreview runTransformPreview(const Tape &tape, const PreviewRequest &request,
                                     const std::function<bool()> &cancelled = {});

// JSON views for showing events and outputs side by side (and in tests).
// Byte strings are shown as text; bigints, LSNs and numerics stay strings.
QJsonObject eventToJson(const Event &event);
QJsonObject outputToJson(const SinkOutput &output);
// One output as a compact JSON line: outputToJson() plus its event's "seq",
// ending in '\n' (what `tape replay --dry-run` prints).
QByteArray outputJsonLine(const SinkOutput &output);

} // namespace tapedeck
