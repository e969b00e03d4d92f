#include "app/tape/commands.h"

#include "app/tape/cli.h"

#include "app/tape/progress.h"

#include "core/base/writefully.h"
#include "core/compaction/compactionreport.h"
#include "connectors/sqlite/demoorders.h"
#include "core/demo/demotape.h"
#include "core/kcat/kcatjson.h"
#include "core/tape/tape.h"
#include "core/tape/tapeinfo.h"
#include "core/tape/tapewriter.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>

#include <cstdio>

using namespace tapedeck;

namespace {

using cli::error;
using cli::parseArgs;
using cli::usage;
using cli::PartialTape;
using cli::partialPath;
using cli::commitPartial;

// `tape import`: kcat -J lines from `input` into `writer`, in blocks of
// 4 MiB, a line at a time; a malformed line stops the import (its file and
// line number in *why) unless skipBad.
struct KcatImport
{
    QString inputPath;
    QString cluster;
    bool skipBad = false;
    qint64 skipped = 0;
    QString firstSkipped;
    qint64 lineNo = 0;

    bool run(QFile &input, TapeWriter &writer, QString *why)
    {
        const qint64 totalBytes = input.isSequential() ? 0 : input.size();
        Progress progress(QStringLiteral("importing"));
        qint64 readBytes = 0;
        QByteArray buffer;
        for (bool eof = false; !eof;) {
            QByteArray block = input.read(4 << 20);
            if (block.isEmpty()) {
                if (input.error() != QFileDevice::NoError && !input.atEnd()) {
                    *why = QStringLiteral("%1: %2").arg(inputPath, input.errorString());
                    return false;
                }
                eof = true;
                if (buffer.isEmpty())
                    break;
                block = "\n"; // the last line may lack its newline
            }
            readBytes += block.size();
            buffer.append(block);
            const qsizetype used = lines(buffer, writer, why);
            if (used < 0)
                return false;
            buffer.remove(0, used);
            progress.update(readBytes, totalBytes, QStringLiteral("bytes"));
        }
        progress.finish();
        return true;
    }

    // Appends the complete lines of `buffer`; returns the bytes used, -1 on an error.
    qsizetype lines(const QByteArray &buffer, TapeWriter &writer, QString *why)
    {
        qsizetype start = 0;
        for (qsizetype nl; (nl = buffer.indexOf('\n', start)) >= 0;) {
            QByteArrayView line(buffer.constData() + start, nl - start);
            start = nl + 1;
            ++lineNo;
            if (line.endsWith('\r'))
                line.chop(1);
            if (line.trimmed().isEmpty())
                continue;
            QString parseError;
            auto event = kcatjson::parse(line, &parseError);
            if (!event) {
                const QString where = QStringLiteral("%1:%2: %3").arg(inputPath).arg(lineNo).arg(parseError);
                if (!skipBad) {
                    *why = where + QStringLiteral(" (nothing was written; --skip-bad skips such lines)");
                    return -1;
                }
                if (skipped++ == 0)
                    firstSkipped = where;
                continue;
            }
            if (!cluster.isEmpty())
                event->cluster = cluster;
            if (!writer.append(*event)) {
                *why = writer.errorString();
                return -1;
            }
        }
        return start;
    }
};

// `tape compact -o`: the records the preview keeps (the next pass, or the
// fully compacted log), in tape order.
bool writeSurvivors(const Tape &tape, const CompactionPreview &preview, bool converged, TapeWriter &writer, QString *why)
{
    QHash<quint32, int> partOf;
    for (int p = 0; p < preview.partitions.size(); ++p)
        partOf.insert(preview.partitions[p].log->streamId, p);
    QVector<int> next(preview.partitions.size(), 0);
    Event event;
    for (int c = 0; c < tape.chunkCount(); ++c) {
        const auto chunk = tape.chunk(c, why);
        if (!chunk)
            return false;
        for (int i = 0; i < chunk->count(); ++i) {
            const int p = partOf.value(chunk->streamId(i), -1);
            if (p < 0)
                continue;
            const auto &part = preview.partitions[p];
            const int index = next[p]++;
            if (!(converged ? part.converged : part.nextPass).isKept(index))
                continue;
            chunk->fill(i, &event);
            const StreamKey &key = tape.streamKey(chunk->streamId(i));
            event.kind = key.kind;
            event.cluster = key.cluster;
            event.topic = key.topic;
            event.partition = key.partition;
            if (!writer.append(event)) {
                *why = writer.errorString();
                return false;
            }
        }
    }
    return true;
}

} // namespace

namespace commands {

int importJson(const QStringList &args)
{
    QCommandLineParser parser;
    QCommandLineOption out({QStringLiteral("o"), QStringLiteral("output")}, QString(), QStringLiteral("OUT.tape"));
    QCommandLineOption cluster(QStringLiteral("cluster"), QString(), QStringLiteral("NAME"));
    QCommandLineOption skipBad(QStringLiteral("skip-bad"));
    parser.addOptions({out, cluster, skipBad});
    QString why;
    if (!parseArgs(parser, QStringLiteral("import"), args, 1, &why))
        return usage(why);
    if (!parser.isSet(out))
        return usage(QStringLiteral("import needs -o OUT.tape"));
    const QString inputPath = parser.positionalArguments().constFirst();

    QFile input;
    if (inputPath == QLatin1String("-")) {
        if (!input.open(stdin, QIODevice::ReadOnly))
            return error(QStringLiteral("cannot read standard input"));
    } else {
        input.setFileName(inputPath);
        if (!input.open(QIODevice::ReadOnly))
            return error(QStringLiteral("%1: %2").arg(inputPath, input.errorString()));
    }
    TapeMetadata meta;
    meta.sourceKind = SourceKind::File;
    meta.source = QStringLiteral("kcat JSON file %1").arg(inputPath == QLatin1String("-") ? QStringLiteral("(stdin)") : QFileInfo(inputPath).fileName());
    meta.recordedAt = QDateTime::currentDateTimeUtc();
    meta.createdBy = QStringLiteral("tape " TAPEDECK_VERSION);
    // The file's name only: a tape is shared, and a local path tells who made it and where.
    meta.parameters = QJsonObject{{QStringLiteral("importedFrom"),
                                   inputPath == QLatin1String("-") ? QStringLiteral("(stdin)") : QFileInfo(inputPath).fileName()}};
    PartialTape tape(parser.value(out));
    if (!tape.create(meta, &why))
        return error(why);
    KcatImport import{inputPath, parser.value(cluster), parser.isSet(skipBad)};
    if (!import.run(input, tape.writer(), &why))
        return error(why);
    const qint64 events = tape.writer().eventCount();
    if (!tape.commit(&why))
        return error(why);
    std::fprintf(stderr, "imported %lld events into %s\n", static_cast<long long>(events), tape.target().toLocal8Bit().constData());
    if (import.skipped)
        std::fprintf(stderr, "skipped %lld malformed lines; the first: %s\n", static_cast<long long>(import.skipped),
                     import.firstSkipped.toLocal8Bit().constData());
    return 0;
}

int exportJson(const QStringList &args)
{
    QCommandLineParser parser;
    QCommandLineOption out({QStringLiteral("o"), QStringLiteral("output")}, QString(), QStringLiteral("FILE"));
    parser.addOption(out);
    QString why;
    if (!parseArgs(parser, QStringLiteral("export"), args, 1, &why))
        return usage(why);
    const auto tape = Tape::open(parser.positionalArguments().constFirst(), &why);
    if (!tape)
        return error(why);
    for (const QString &w : tape->warnings())
        std::fprintf(stderr, "tape: warning: %s: %s\n", tape->path().toLocal8Bit().constData(), w.toLocal8Bit().constData());

    QFile output;
    const QString target = parser.value(out);
    const bool toStdout = target.isEmpty() || target == QLatin1String("-");
    const QString partial = toStdout ? QString() : partialPath(target);
    if (toStdout) {
        if (!output.open(stdout, QIODevice::WriteOnly | QIODevice::Unbuffered))
            return error(QStringLiteral("cannot write standard output"));
    } else {
        output.setFileName(partial);
        if (!output.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Unbuffered))
            return error(QStringLiteral("%1: %2").arg(target, output.errorString()));
    }
    auto abandon = [&](const QString &message) {
        output.close();
        if (!partial.isEmpty())
            QFile::remove(partial);
        return error(message);
    };
    Progress progress(QStringLiteral("exporting"));
    QByteArray buffer;
    Event event;
    qint64 done = 0;
    for (int c = 0; c < tape->chunkCount(); ++c) {
        const auto chunk = tape->chunk(c, &why);
        if (!chunk)
            return abandon(why);
        for (int i = 0; i < chunk->count(); ++i) {
            chunk->fill(i, &event);
            const StreamKey &key = tape->streamKey(chunk->streamId(i));
            event.kind = key.kind;
            event.cluster = key.cluster;
            event.topic = key.topic;
            event.partition = key.partition;
            buffer.append(kcatjson::serialize(event));
            buffer.append('\n');
        }
        done += chunk->count();
        if (buffer.size() > (1 << 20) || c + 1 == tape->chunkCount()) {
            if (const QString cause = writeFully(output.handle(), buffer.constData(), buffer.size()); !cause.isEmpty())
                return abandon(QStringLiteral("%1: %2").arg(toStdout ? QStringLiteral("standard output") : partial, cause));
            buffer.clear();
        }
        progress.update(done, tape->eventCount(), QStringLiteral("events"));
    }
    output.close();
    if (!partial.isEmpty() && !commitPartial(partial, target, &why))
        return error(why);
    return 0;
}

int info(const QStringList &args)
{
    QCommandLineParser parser;
    QCommandLineOption json(QStringLiteral("json"));
    parser.addOption(json);
    QString why;
    if (!parseArgs(parser, QStringLiteral("info"), args, 1, &why))
        return usage(why);
    const auto tape = Tape::open(parser.positionalArguments().constFirst(), &why);
    if (!tape)
        return error(why);
    const QByteArray text = parser.isSet(json) ? QJsonDocument(tapeInfoJson(*tape)).toJson(QJsonDocument::Indented)
                                               : tapeInfoText(*tape).toUtf8();
    std::fwrite(text.constData(), 1, size_t(text.size()), stdout);
    return 0;
}

int verify(const QStringList &args)
{
    QCommandLineParser parser;
    QString why;
    if (!parseArgs(parser, QStringLiteral("verify"), args, 1, &why))
        return usage(why);
    const auto tape = Tape::open(parser.positionalArguments().constFirst(), &why);
    if (!tape)
        return error(why);
    Progress progress(QStringLiteral("verifying"));
    qint64 done = 0;
    for (int c = 0; c < tape->chunkCount(); ++c) {
        if (!tape->chunk(c, &why))
            return error(why);
        done += tape->chunkInfo(c).count;
        progress.update(done, tape->eventCount(), QStringLiteral("events"));
    }
    progress.finish();
    for (const QString &w : tape->warnings())
        std::fprintf(stderr, "tape: warning: %s: %s\n", tape->path().toLocal8Bit().constData(), w.toLocal8Bit().constData());
    std::printf("%s: %lld events in %d chunks, all checksums good%s\n", tape->path().toLocal8Bit().constData(),
                static_cast<long long>(tape->eventCount()), tape->chunkCount(),
                tape->isComplete() ? "" : " (the tape was not closed: recording or interrupted)");
    return 0;
}

int makeDemo(const QStringList &args)
{
    QCommandLineParser parser;
    QCommandLineOption out({QStringLiteral("o"), QStringLiteral("output")}, QString(), QStringLiteral("OUT.tape"));
    QCommandLineOption sqlite(QStringLiteral("sqlite"), QString(), QStringLiteral("ORDERS.sqlite"));
    parser.addOptions({out, sqlite});
    QString why;
    if (!parseArgs(parser, QStringLiteral("make-demo"), args, 0, &why))
        return usage(why);
    if (!parser.isSet(out))
        return usage(QStringLiteral("make-demo needs -o OUT.tape"));
    const QString target = parser.value(out);
    const QString partial = partialPath(target);
    if (!writeDemoTape(partial, &why)) {
        QFile::remove(partial);
        return error(why);
    }
    if (!commitPartial(partial, target, &why))
        return error(why);
    if (parser.isSet(sqlite)) {
        // The dual-write story's SQLite copy, which lost and garbled some writes (demoorders.h).
        const QString db = parser.value(sqlite);
        const QString dbPartial = partialPath(db);
        if (!writeDemoOrdersSqlite(target, dbPartial, &why)) {
            QFile::remove(dbPartial);
            return error(why);
        }
        if (!commitPartial(dbPartial, db, &why))
            return error(why);
    }
    return 0;
}

int compact(const QStringList &args)
{
    QCommandLineParser parser;
    QCommandLineOption json(QStringLiteral("json"));
    QCommandLineOption now(QStringLiteral("now"), QString(), QStringLiteral("MS"));
    QCommandLineOption full(QStringLiteral("full"));
    QCommandLineOption set(QStringLiteral("set"), QString(), QStringLiteral("NAME=VALUE"));
    QCommandLineOption out({QStringLiteral("o"), QStringLiteral("output")}, QString(), QStringLiteral("OUT.tape"));
    parser.addOptions({json, now, full, set, out});
    QString why;
    if (!parseArgs(parser, QStringLiteral("compact"), args, 1, &why))
        return usage(why);
    qint64 nowMs = -1;
    if (parser.isSet(now)) {
        bool ok = false;
        nowMs = parser.value(now).toLongLong(&ok);
        if (!ok || nowMs < 0)
            return usage(QStringLiteral("--now takes milliseconds since the Unix epoch, not '%1'").arg(parser.value(now)));
    }
    QList<QPair<QString, QString>> overrides;
    for (const QString &s : parser.values(set)) {
        const qsizetype eq = s.indexOf(QLatin1Char('='));
        if (eq <= 0)
            return usage(QStringLiteral("--set takes name=value, not '%1'").arg(s));
        overrides.append({s.left(eq).trimmed(), s.mid(eq + 1)});
        CompactionConfig probe;
        if (!probe.set(overrides.constLast().first, overrides.constLast().second, &why))
            return usage(why);
    }
    const auto tape = Tape::open(parser.positionalArguments().constFirst(), &why);
    if (!tape)
        return error(why);
    CompactionPreview preview;
    if (!CompactionPreview::build(*tape, overrides, nowMs, &preview, &why))
        return error(why);
    for (const QString &w : tape->warnings())
        preview.warnings.prepend(QStringLiteral("%1: %2").arg(tape->path(), w));
    const QByteArray text = parser.isSet(json) ? QJsonDocument(preview.toJson(true)).toJson(QJsonDocument::Indented)
                                               : preview.toText(true).toUtf8();
    std::fwrite(text.constData(), 1, size_t(text.size()), stdout);
    if (!parser.isSet(out))
        return 0;

    // The surviving records, in tape order, as a new tape.
    const bool converged = parser.isSet(full);
    TapeMetadata meta = tape->metadata();
    meta.createdBy = QStringLiteral("tape " TAPEDECK_VERSION);
    meta.parameters.insert(QStringLiteral("compactedFrom"), QFileInfo(tape->path()).fileName()); // no local path
    meta.parameters.insert(QStringLiteral("compaction"), QJsonObject{
        {QStringLiteral("view"), converged ? QStringLiteral("fully-compacted") : QStringLiteral("next-pass")},
        {QStringLiteral("nowMs"), preview.nowMs},
    });
    PartialTape survivors(parser.value(out));
    if (!survivors.create(meta, &why) || !writeSurvivors(*tape, preview, converged, survivors.writer(), &why))
        return error(why);
    const qint64 written = survivors.writer().eventCount();
    if (!survivors.commit(&why))
        return error(why);
    std::fprintf(stderr, "wrote %lld of %lld events (%s) to %s\n", static_cast<long long>(written),
                 static_cast<long long>(tape->eventCount()), converged ? "fully compacted" : "after the next pass",
                 survivors.target().toLocal8Bit().constData());
    return 0;
}

} // namespace commands
