// `tape replay`: a tape (or a range of it) through a transform into
// PostgreSQL, SQLite or Kafka, resumable and exactly-once (core/replay/replay.md).
#include "app/tape/commands.h"

#include "app/tape/cli.h"

#include "app/tape/progress.h"

#include "connectors/sinks/sinkfactory.h"
#include "core/event/bound.h"
#include "core/replay/replay.h"
#include "core/replay/replayrequest.h"
#include "core/tape/tape.h"
#include "core/transform/transformpreview.h"

#include <QCommandLineParser>
#include <QFileInfo>

#include <csignal>
#include <cstdio>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

using cli::error;
using cli::usage;

ReplayEngine *g_engine = nullptr;

void onSignal(int)
{
    if (g_engine)
        g_engine->cancel();
}

// Runs the replay with progress on stderr (Ctrl-C cancels after the batch
// in flight), dry-run outputs as JSON lines on stdout, then the summary line.
int runReplay(const std::shared_ptr<const Tape> &tape, const ReplayOptions &o, Sink *sink)
{
    QString why;
    ReplayEngine engine(tape, o);
    Progress progress(u"replay"_s);
    engine.setProgressCallback([&](const ReplayStats &s) { progress.update(s.events, s.totalEvents, u"events"_s); });
    if (o.dryRun) {
        engine.setOutputObserver([](const SinkOutput &out) {
            const QByteArray line = outputJsonLine(out);
            std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
        });
    }
    g_engine = &engine;
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    const bool ok = engine.run(o.dryRun ? nullptr : sink, &why);
    g_engine = nullptr;
    progress.finish();
    std::fflush(stdout);
    const ReplayStats &s = engine.stats();
    for (const QString &e : engine.errors())
        std::fprintf(stderr, "tape: skipped %s\n", e.toLocal8Bit().constData());
    const QString summary = u"replay %1: %2 events read (%3 in range), %4 outputs, %5 written%6 in %7 batches, %8 skipped%9, %10 s"_s
                                .arg(o.replayId).arg(s.events).arg(s.inRange).arg(s.outputs).arg(s.written)
                                .arg(o.dryRun || !sink ? u" (dry run)"_s : u" to "_s + sink->describe())
                                .arg(s.batches).arg(s.skipped)
                                .arg(s.resumedAfterSeq >= 0 ? u", resumed after event #%1"_s.arg(s.resumedAfterSeq) : QString())
                                .arg(s.seconds, 0, 'f', 2);
    std::fprintf(stderr, "%s\n", summary.toLocal8Bit().constData());
    if (!ok)
        return error(why);
    return 0;
}

} // namespace

namespace commands {

int replay(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption transform(u"transform"_s, QString(), u"FILE"_s);
    const QCommandLineOption into(u"into"_s, QString(), u"TARGET"_s);
    const QCommandLineOption from(u"from"_s, QString(), u"POS"_s);
    const QCommandLineOption to(u"to"_s, QString(), u"POS"_s);
    const QCommandLineOption replayId(u"replay-id"_s, QString(), u"ID"_s);
    const QCommandLineOption dryRun(u"dry-run"_s);
    const QCommandLineOption onError(u"on-error"_s, QString(), u"MODE"_s, u"stop"_s);
    const QCommandLineOption deadLetter(u"dead-letter"_s, QString(), u"FILE"_s);
    const QCommandLineOption createTables(u"create-tables"_s);
    const QCommandLineOption batch(u"batch"_s, QString(), u"N"_s, u"5000"_s);
    const QCommandLineOption threads(u"threads"_s, QString(), u"N"_s, u"1"_s);
    const QCommandLineOption connections(u"connections"_s, QString(), u"N"_s, u"1"_s);
    const QCommandLineOption timeout(u"timeout-ms"_s, QString(), u"MS"_s, u"1000"_s);
    const QCommandLineOption heap(u"heap-mb"_s, QString(), u"MB"_s, u"512"_s);
    const QCommandLineOption property(u"X"_s, QString(), u"prop=val"_s);
    parser.addOptions({transform, into, from, to, replayId, dryRun, onError, deadLetter, createTables, batch, threads,
                       connections, timeout, heap, property});
    if (!parser.parse(QStringList{u"tape replay"_s} + args))
        return usage(parser.errorText());
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 1)
        return usage(u"replay takes one tape"_s);
    if (!parser.isSet(into) && !parser.isSet(dryRun))
        return usage(u"replay needs --into postgresql://...|sqlite:PATH|kafka://BROKERS/TOPIC (or --dry-run)"_s);

    const QString tapePath = positional.first();
    ReplayRequest request;
    request.from = parser.value(from);
    request.to = parser.value(to);
    request.fromLabel = u"--from"_s;
    request.toLabel = u"--to"_s;
    request.replayId = parser.isSet(replayId) ? parser.value(replayId) : QFileInfo(tapePath).fileName();
    request.transformPath = parser.value(transform);
    request.dryRun = parser.isSet(dryRun);
    bool ok1 = false, ok2 = false, ok3 = false, ok4 = false, ok5 = false;
    request.batchEvents = parser.value(batch).toInt(&ok1);
    request.threads = parser.value(threads).toInt(&ok2);
    request.timeoutMs = parser.value(timeout).toInt(&ok3);
    const int lanes = parser.value(connections).toInt(&ok4);
    request.heapMb = parser.value(heap).toInt(&ok5);
    if (!ok1 || !ok2 || !ok3 || !ok4 || !ok5 || lanes < 1 || lanes > MaxReplayConnections || request.heapMb < 1)
        return usage(u"--batch, --threads, --connections, --timeout-ms and --heap-mb take positive numbers"_s);
    const QString target = parser.value(into);
    const bool toPostgres = target.startsWith(u"postgresql://") || target.startsWith(u"postgres://");
    if (parser.isSet(connections) && !toPostgres)
        return usage(u"--connections is for PostgreSQL targets"_s);
    const QString mode = parser.value(onError);
    if (mode != u"skip" && mode != u"stop")
        return usage(u"--on-error takes stop or skip"_s);
    request.skipErrors = mode == u"skip";
    if (parser.isSet(deadLetter) && !request.skipErrors)
        return usage(u"--dead-letter needs --on-error skip"_s);
    request.deadLetterPath = parser.value(deadLetter);
    ReplayOptions o;
    QString problem;
    bool unreadable = false;
    if (!toOptions(request, &o, &problem, &unreadable))
        return unreadable ? error(problem) : usage(problem);

    std::unique_ptr<Sink> sink;
    if (!target.isEmpty()) {
        QString why;
        auto t = ReplayTarget::fromUrl(target, &why);
        if (!t)
            return usage(u"--into: "_s + why);
        t->createTables = parser.isSet(createTables);
        t->connections = lanes;
        for (const QString &p : parser.values(property)) {
            if (!t->kafka.addProperty(p, &why))
                return usage(why);
        }
        o.target = t->contextName();
        o.kafkaTopic = t->kafkaTopic;
        sink = createSink(*t, &why);
        if (!sink)
            return usage(u"--into: "_s + why);
    }

    QString why;
    const auto tape = Tape::open(tapePath, &why);
    if (!tape)
        return error(why);
    return runReplay(tape, o, sink.get());
}

} // namespace commands
