#pragma once

#include "core/tape/recordingsource.h"
#include "core/tape/tapewriter.h"

#include <QCommandLineParser>
#include <QString>
#include <QStringList>

// What every `tape` command shares: one-line errors, exit codes, argument
// parsing, and outputs that appear only when a command succeeds.
namespace cli {

int error(const QString &message); // "tape: message" on stderr; returns 1
int usage(const QString &message); // "tape: message (see 'tape --help')"; returns 2

// Parses `args` of `command` (options also with a single dash); false + *why.
bool parseArgs(QCommandLineParser &parser, const QString &command, const QStringList &args, QString *why);
// The same, and checks that exactly `positional` positional arguments were given.
bool parseArgs(QCommandLineParser &parser, const QString &command, const QStringList &args, int positional, QString *why);

// A temporary sibling of `target`, renamed over it only when the command
// succeeds, so a failed command never leaves a half-written output behind.
QString partialPath(const QString &target);
bool commitPartial(const QString &partial, const QString &target, QString *why);

// A tape a command writes as its output: under partialPath(target) until
// commit() closes it and renames it over `target`. Abandoned (destroyed
// without a successful commit), it closes and removes the partial file, so
// every early return of a command leaves nothing behind.
class PartialTape
{
public:
    explicit PartialTape(QString target);
    ~PartialTape();
    PartialTape(const PartialTape &) = delete;
    PartialTape &operator=(const PartialTape &) = delete;

    bool create(const tapedeck::TapeMetadata &meta, QString *why);
    tapedeck::TapeWriter &writer() { return m_writer; }
    const QString &target() const { return m_target; }
    // Closes the writer and renames the file; false + *why (nothing left behind).
    bool commit(QString *why);

private:
    QString m_target;
    QString m_partial;
    tapedeck::TapeWriter m_writer;
    bool m_open = false;
};

// Installs SIGINT/SIGTERM handlers that set the returned flag (Ctrl-C ends a
// follow recording or the demo cluster cleanly).
const std::atomic<bool> *interruptOnSignals();

// Prepares `source` and records it into `target` until it ends or Ctrl-C:
// warnings and progress ("recording: N <progressUnit>", from progressCount)
// on stderr, then "recorded N <noun> into TARGET". While recording the tape
// lives under its final name so that the GUI can follow it; a failed
// recording keeps what was flushed (it is a valid tape). Returns the exit code.
int recordToTape(tapedeck::RecordingSource &source, const QString &target, const QString &noun,
                 const QString &progressUnit,
                 const std::function<qint64(const tapedeck::RecordingSource::Progress &)> &progressCount);

} // namespace cli
