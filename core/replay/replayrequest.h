#pragma once

#include "core/replay/replay.h"

#include <QString>

namespace tapedeck {

// A replay as a person states it: the texts and choices of the replay
// dialog's form or of `tape replay`'s options, before anything is parsed.
// toOptions() turns it into ReplayOptions by one set of rules, so that the
// GUI and the CLI accept the same ranges, limits and transform files and say
// the same when something is wrong. Targets are read by ReplayTarget::fromUrl
// (CLI) or the form's target picker (GUI); the range from a timeline
// selection is the dialog's own and is and-ed in afterwards.
struct ReplayRequest
{
    // How from/to are read: as positions (offsets or LSNs), as times, or by
    // their spelling ("@..." a time, anything else a position; the CLI's way).
    enum class Unit { Positions, Times, BySpelling };
    Unit unit = Unit::BySpelling;
    QString from, to;             // empty: open (the start / the end)
    QString fromLabel = QStringLiteral("From"), toLabel = QStringLiteral("To"); // name the field in problems

    QString replayId;
    QString transformPath;        // a .js file to read; empty: transformSource as given
    QString transformSource;      // empty (and no path): the identity outputs
    QString transformName;        // labels transform errors (the file name)
    bool skipErrors = false;      // else stop at the first event whose transform fails
    QString deadLetterPath;       // with skipErrors: JSON lines {event, error}
    int batchEvents = 5000;
    int threads = 1;
    int timeoutMs = 1000;
    int heapMb = 512;             // JavaScript heap per engine (Transform::setHeapLimit)
    bool dryRun = false;
};

// The limits both front ends offer (spin box ranges, CLI checks).
inline constexpr int MaxReplayThreads = 64;
inline constexpr int MaxReplayConnections = 64;

// false + *problem naming the field ("From: “abc” is not a position (an
// offset or an LSN such as 16/B374D848)"); *options is then unspecified.
// Reads the transform file when one is named; *unreadable tells a file that
// cannot be read ("PATH: No such file or directory") from a mistyped form.
bool toOptions(const ReplayRequest &request, ReplayOptions *options, QString *problem, bool *unreadable = nullptr);

} // namespace tapedeck
