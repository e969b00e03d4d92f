#pragma once

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

} // namespace cli
