#include "cli.h"

#include <QFile>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace cli {

int error(const QString &message)
{
    std::fprintf(stderr, "tape: %s\n", message.toLocal8Bit().constData());
    return 1;
}

int usage(const QString &message)
{
    std::fprintf(stderr, "tape: %s (see 'tape --help')\n", message.toLocal8Bit().constData());
    return 2;
}

bool parseArgs(QCommandLineParser &parser, const QString &command, const QStringList &args, QString *why)
{
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    if (!parser.parse(QStringList{QStringLiteral("tape ") + command} + args)) {
        *why = parser.errorText();
        return false;
    }
    return true;
}

bool parseArgs(QCommandLineParser &parser, const QString &command, const QStringList &args, int positional, QString *why)
{
    if (!parseArgs(parser, command, args, why))
        return false;
    if (parser.positionalArguments().size() != positional) {
        *why = positional == 1 ? QStringLiteral("%1 takes exactly one file").arg(command)
                               : QStringLiteral("%1 takes %2 arguments").arg(command).arg(positional);
        return false;
    }
    return true;
}

QString partialPath(const QString &target)
{
    return target + QStringLiteral(".partial");
}

bool commitPartial(const QString &partial, const QString &target, QString *why)
{
    if (::rename(QFile::encodeName(partial).constData(), QFile::encodeName(target).constData()) != 0) {
        *why = QStringLiteral("cannot rename %1 to %2: %3").arg(partial, target, QString::fromLocal8Bit(strerror(errno)));
        QFile::remove(partial);
        return false;
    }
    return true;
}

} // namespace cli
