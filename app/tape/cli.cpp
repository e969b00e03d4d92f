#include "app/tape/cli.h"

#include "app/tape/progress.h"

#include <QFile>
#include <QFileInfo>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

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
    // The data first (writers that did not sync, such as the SQLite demo),
    // then the rename, then the directory entry: after a power loss the
    // target is the old file or the whole new one, never an empty one.
    const QByteArray from = QFile::encodeName(partial), to = QFile::encodeName(target);
    const int fd = ::open(from.constData(), O_RDONLY | O_CLOEXEC);
    const bool synced = fd >= 0 && (::fsync(fd) == 0 || errno == EINVAL);
    const int syncErrno = errno;
    if (fd >= 0)
        ::close(fd);
    if (!synced) {
        *why = QStringLiteral("%1: %2").arg(partial, QString::fromLocal8Bit(strerror(syncErrno)));
        QFile::remove(partial);
        return false;
    }
    if (::rename(from.constData(), to.constData()) != 0) {
        *why = QStringLiteral("cannot rename %1 to %2: %3").arg(partial, target, QString::fromLocal8Bit(strerror(errno)));
        QFile::remove(partial);
        return false;
    }
    const QByteArray dir = QFile::encodeName(QFileInfo(target).absolutePath());
    const int dfd = ::open(dir.constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd); // best effort: some file systems refuse to sync a directory
        ::close(dfd);
    }
    return true;
}

PartialTape::PartialTape(QString target)
    : m_target(std::move(target))
    , m_partial(partialPath(m_target))
{
}

PartialTape::~PartialTape()
{
    if (!m_open)
        return;
    m_writer.close();
    QFile::remove(m_partial);
}

bool PartialTape::create(const tapedeck::TapeMetadata &meta, QString *why)
{
    m_open = m_writer.create(m_partial, meta);
    if (!m_open)
        *why = m_writer.errorString();
    return m_open;
}

bool PartialTape::commit(QString *why)
{
    m_open = false;
    if (!m_writer.close()) {
        *why = m_writer.errorString();
        QFile::remove(m_partial);
        return false;
    }
    return commitPartial(m_partial, m_target, why);
}

namespace {
std::atomic<bool> g_interrupted{false};
void onSignal(int)
{
    g_interrupted = true;
}
} // namespace

const std::atomic<bool> *interruptOnSignals()
{
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    return &g_interrupted;
}

int recordToTape(tapedeck::RecordingSource &source, const QString &target, const QString &noun,
                 const QString &progressUnit,
                 const std::function<qint64(const tapedeck::RecordingSource::Progress &)> &progressCount)
{
    QString why;
    if (!source.prepare(&why))
        return error(why);
    for (const QString &w : source.warnings())
        std::fprintf(stderr, "tape: warning: %s\n", w.toLocal8Bit().constData());
    tapedeck::TapeMetadata meta = source.metadata();
    meta.createdBy = QStringLiteral("tape " TAPEDECK_VERSION);
    tapedeck::TapeWriter writer;
    if (!writer.create(target, meta)) {
        // A header that did not fit (disk full) would leave a file that is not a tape.
        writer.close();
        QFile::remove(target);
        return error(writer.errorString());
    }
    const std::atomic<bool> *interrupted = interruptOnSignals();
    Progress progress(QStringLiteral("recording"));
    const bool ok = source.record(writer, interrupted, [&](const tapedeck::RecordingSource::Progress &p) {
        progress.update(progressCount(p), 0, progressUnit);
    }, &why);
    progress.finish();
    const qint64 events = writer.eventCount();
    if (!writer.close())
        return error(writer.errorString());
    if (!ok)
        return error(why + QStringLiteral(" (the %1 %2 before the error are in %3)").arg(events).arg(noun, target));
    std::fprintf(stderr, "recorded %lld %s into %s%s\n", static_cast<long long>(events), noun.toLocal8Bit().constData(),
                 target.toLocal8Bit().constData(), interrupted->load() ? " (interrupted)" : "");
    return 0;
}

} // namespace cli
