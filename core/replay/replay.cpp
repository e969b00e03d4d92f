#include "core/replay/replay.h"

#include "core/replay/batchwriter_p.h"
#include "core/replay/lastversions_p.h"
#include "core/replay/rowsbuilder_p.h"
#include "core/sink/sqlrows.h"
#include "core/replay/tablerows_p.h"
#include "core/replay/transformpool_p.h"
#include "core/tape/chunkencoder.h"
#include "core/tape/tape.h"

#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtConcurrent/QtConcurrentMap>

#include <mutex>
#include <numeric>
#include <optional>
#include <vector>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

using EventResult = Transform::Outcome;

// One batch between reading and the sink: its data and progress rows, and
// what it adds to the stats once it is finished.
struct Batch
{
    QList<SinkOutput> data;
    SqlBatch rows;        // instead of data on the rows path
    bool rowsMode = false;
    qint64 rowCount = 0;  // rows added to `rows` so far
    QList<ReplayPosition> progress;
    qint64 events = 0, inRange = 0, outputs = 0, skipped = 0, dropped = 0;
    QStringList errors;
    QString stopError;
    bool written = false; // handed to the sink
};

QString kindName(SourceKind kind)
{
    switch (kind) {
    case SourceKind::Kafka: return u"kafka"_s;
    case SourceKind::Postgres: return u"postgres"_s;
    case SourceKind::File: return u"file"_s;
    case SourceKind::Unknown: break;
    }
    return u"unknown"_s;
}

// The fields an event takes from its stream (Chunk::fill() leaves them).
void setStream(Event *e, const StreamKey &key)
{
    e->kind = key.kind;
    e->cluster = key.cluster;
    e->topic = key.topic;
    e->partition = key.partition;
}

} // namespace

// One run(): what its stages share. open → plan → rebuild pre-pass → batch
// loop (read, map, collect, submit; the sink writes batch N on its own
// thread while batch N+1 is read and transformed) → the stats.
struct ReplayEngine::Run
{
    struct Source
    {
        std::shared_ptr<const Chunk> chunk;
        int index;
    };

    Run(ReplayEngine &engine, Sink *sink, QString *error)
        : e(engine), o(engine.m_options), sink(sink), error(error), rowsBuilder(*engine.m_tape), tableRows(shards)
    {
    }

    bool exec();
    bool open();
    void plan();
    bool inRange(quint32 sid, qint64 position, qint64 us, qint64 seq) const;
    // The rebuild's first pass (replay.md, "Rebuilds").
    bool rebuildPrepass();
    bool keysOfChunks(const QList<int> &chunks, QList<ChunkKeys> *out);
    qint64 addKeys(const QList<ChunkKeys> &keys, LastVersions *into);
    bool sampleRepeats(int firstChunk, int lastChunk, bool *repeats);
    // The pipelined batch loop.
    bool batches();
    bool readBatch(Batch &next, QString *readError);
    void mapEvents();
    void collectBatch(Batch &next, bool *cancelled);
    bool collectEvent(Batch &next, size_t i, bool *cancelled);
    bool addFastRow(Batch &next, size_t i);
    void skipEvent(Batch &next, size_t i, const Event &event, const QString &why);
    bool takeOutputs(Batch &next, size_t i, EventResult &r);
    void advance(size_t i, qint64 position);
    void stopBefore(size_t i);
    bool submit(Batch next);
    bool finish();

    ReplayEngine &e;
    const ReplayOptions &o;
    Sink *sink;
    QString *error;
    QElapsedTimer timer;
    qint64 startSeq = 0;
    qint64 total = 0;
    const bool useTransform = !o.transformSource.isEmpty();
    const int shards = useTransform ? std::max(1, o.threads) : 1;
    bool bySelection = false;
    bool identityIntoSql = false;
    bool fastRows = false;      // the identity into a SQL sink that takes rows: straight from the chunks
    bool transformRows = false; // a transform's plain SQL outputs into such a sink: as rows too (replay.md, "Rows")
    QFile deadLetter;
    QList<QString> streamNames;
    RowsBuilder rowsBuilder;
    TableRows tableRows;
    LastVersions lastVersions;
    bool keysUsable = true; // of the pre-pass: every event's key was found

    // The batch being read.
    std::vector<Event> events;
    std::vector<qint64> seqs;
    std::vector<int> shard;
    std::vector<EventResult> results;
    std::vector<QByteArrayView> extensions;
    std::vector<quint32> streamIds;
    std::vector<Source> sources;
    // Positions advance for every event read, in range or not, so that a
    // resume never reads a committed event again.
    QHash<quint32, ReplayPosition> advanced;
    Event fallback; // an event the rows path does not handle, and its identity outputs
    EventResult fallbackResult;
    qint64 seq = 0;
    std::shared_ptr<const Chunk> chunk; // read in order, so one chunk at a time
    qint64 chunkFirst = 0;

    Batch flight; // submitted, not yet finished
    bool inFlight = false;
    std::optional<BatchWriter> writer; // last: joined first
};

ReplayEngine::ReplayEngine(std::shared_ptr<const Tape> tape, ReplayOptions options)
    : m_tape(std::move(tape)), m_options(std::move(options))
{
}

ReplayEngine::~ReplayEngine() = default;

QString ReplayEngine::streamName(const StreamKey &key)
{
    return kindName(key.kind) + u'/' + key.cluster + u'/' + key.topic + u'/' + QString::number(key.partition);
}

void ReplayEngine::cancel()
{
    m_cancel = true;
    if (m_pool)
        m_pool->cancel();
}

bool ReplayEngine::run(Sink *sink, QString *error)
{
    Run run(*this, sink, error);
    return run.exec();
}

bool ReplayEngine::Run::exec()
{
    timer.start();
    e.m_stats = {};
    e.m_errors.clear();
    if (!open())
        return false;
    plan();
    if (!rebuildPrepass())
        return false;
    if (sink && !o.dryRun)
        writer.emplace(sink);
    if (!batches())
        return false;
    e.m_stats.seconds = double(timer.nsecsElapsed()) / 1e9;
    return true;
}

// Opens the sink (and finds the resume point), the transform engines and the dead-letter file.
bool ReplayEngine::Run::open()
{
    if (!sink && !o.dryRun) {
        *error = u"no target to replay into"_s;
        return false;
    }
    if (sink) {
        if (!sink->open(o.replayId, error))
            return false;
        for (const ReplayPosition &p : sink->committed())
            e.m_stats.resumedAfterSeq = std::max(e.m_stats.resumedAfterSeq, p.seq);
        startSeq = e.m_stats.resumedAfterSeq + 1;
    }
    if (useTransform) {
        e.m_pool = std::make_unique<TransformPool>();
        if (!e.m_pool->start(std::max(1, o.threads), o, error))
            return false;
        if (e.m_cancel)
            e.m_pool->cancel();
    }
    if (o.onError == ReplayOptions::OnError::Skip && !o.deadLetterPath.isEmpty()) {
        deadLetter.setFileName(o.deadLetterPath);
        if (!deadLetter.open(QIODevice::WriteOnly | QIODevice::Append)) {
            *error = u"%1: %2"_s.arg(o.deadLetterPath, deadLetter.errorString());
            return false;
        }
    }
    return true;
}

// The range to read and the path to take.
void ReplayEngine::Run::plan()
{
    for (const StreamStats &s : e.m_tape->streams())
        streamNames.append(streamName(s.key));
    total = e.m_tape->eventCount();
    bySelection = !o.selection.isEmpty();
    if (bySelection && o.selection.axis == AxisKind::Position) {
        startSeq = std::max(startSeq, o.selection.range.from);
        total = std::min(total, o.selection.range.to);
    }
    e.m_stats.totalEvents = std::max<qint64>(0, total - startSeq);
    identityIntoSql = !useTransform && o.kafkaTopic.isEmpty();
    fastRows = identityIntoSql && sink && !o.dryRun && !e.m_observer && sink->acceptsRows();
    transformRows = useTransform && sink && !o.dryRun && !e.m_observer && sink->acceptsRows();
    seq = startSeq;
}

bool ReplayEngine::Run::inRange(quint32 sid, qint64 position, qint64 us, qint64 seq) const
{
    const qint64 ms = floorMs(us);
    return position >= o.fromPosition && position <= o.toPosition && ms >= o.fromTimeMs && ms <= o.toTimeMs
           && (!bySelection || o.selection.contains(sid, seq, us));
}

// A fresh run of the rows path first finds the last event of every key in
// the range (replay.md, "Rebuilds"). Chunks are read and their keys found on
// the thread pool, a window at a time; the keys go into the table in tape
// order. A sample of chunks spread over the range comes first: when no key
// repeats in it, the log is taken as one of distinct keys and the pass is
// skipped (it would cost a second read of every chunk for nothing; a log
// whose repeats the sample misses is replayed as before, only slower).
bool ReplayEngine::Run::rebuildPrepass()
{
    if (!fastRows || e.m_stats.resumedAfterSeq >= 0 || startSeq >= total)
        return true;
    const int firstChunk = e.m_tape->chunkIndexOf(startSeq);
    const int lastChunk = e.m_tape->chunkIndexOf(total - 1);
    const int window = 32;
    bool repeats = false;
    if (!sampleRepeats(firstChunk, lastChunk, &repeats))
        return false;
    for (int ci = firstChunk; repeats && ci >= 0 && ci <= lastChunk && keysUsable && !e.m_cancel; ci += window) {
        QList<int> chunks;
        for (int k = ci; k <= std::min(ci + window - 1, lastChunk); ++k)
            chunks.append(k);
        QList<ChunkKeys> keys;
        if (!keysOfChunks(chunks, &keys))
            return false;
        addKeys(keys, &lastVersions);
        if (lastVersions.keys() > o.maxRebuildKeys) {
            keysUsable = false; // too many keys to hold: replayed without the saving
            lastVersions = LastVersions();
        }
    }
    if (repeats && keysUsable)
        rowsBuilder.setLastVersions(&lastVersions);
    return true;
}

// Whether a key repeats in the sample: the first window and 8 chunks spread over the rest.
bool ReplayEngine::Run::sampleRepeats(int firstChunk, int lastChunk, bool *repeats)
{
    const int window = 32;
    *repeats = firstChunk >= 0 && lastChunk - firstChunk < window; // small ranges: the full pass is the sample
    if (firstChunk < 0 || *repeats)
        return true;
    QList<int> sample;
    for (int k = firstChunk; k < firstChunk + window; ++k)
        sample.append(k);
    for (int k = 1; k <= 8; ++k)
        sample.append(firstChunk + window + int(qint64(lastChunk - firstChunk - window) * k / 8));
    sample.erase(std::unique(sample.begin(), sample.end()), sample.end());
    QList<ChunkKeys> keys;
    if (!keysOfChunks(sample, &keys))
        return false;
    LastVersions probe;
    *repeats = addKeys(keys, &probe) > probe.keys();
    return true;
}

bool ReplayEngine::Run::keysOfChunks(const QList<int> &chunks, QList<ChunkKeys> *out)
{
    QString readError;
    std::mutex readErrorMutex;
    const Tape &tape = *e.m_tape;
    *out = QtConcurrent::blockingMapped(chunks, [&](int k) {
        const qint64 first = tape.chunkInfo(k).firstSeq;
        QString why;
        const auto c = tape.chunk(k, &why);
        if (!c) {
            std::lock_guard lock(readErrorMutex);
            readError = why;
            return ChunkKeys{};
        }
        return RowsBuilder::keysOf(*c, first, int(std::max<qint64>(0, startSeq - first)), [&](int i) {
            return first + i < total && inRange(c->streamId(i), c->position(i), c->timestampUs(i), first + i);
        });
    });
    if (!readError.isEmpty())
        *error = readError;
    return readError.isEmpty();
}

// Adds the keys in tape order; how many it added.
qint64 ReplayEngine::Run::addKeys(const QList<ChunkKeys> &keys, LastVersions *into)
{
    qint64 added = 0;
    for (const ChunkKeys &ck : keys) {
        keysUsable = keysUsable && ck.usable;
        quint32 begin = 0;
        for (size_t j = 0; j < ck.seqs.size() && keysUsable; ++j) {
            into->add(QByteArrayView(ck.bytes.constData() + begin, ck.ends[j] - begin), ck.seqs[j], ck.partial[j]);
            begin = ck.ends[j];
            ++added;
        }
    }
    return added;
}

// Batches are read, mapped and collected here, and written one at a time in
// tape order by the writer; each one's progress rows go in its own
// transaction (replay.md).
bool ReplayEngine::Run::batches()
{
    while (true) {
        Batch next;
        bool haveNext = false;
        QString readError;
        bool cancelled = false;
        if (seq < total && !e.m_cancel) {
            haveNext = readBatch(next, &readError);
            if (haveNext && !fastRows)
                mapEvents();
            if (haveNext)
                collectBatch(next, &cancelled);
        }
        // The batch in flight comes first in tape order: its outcome, then this one's.
        if (!finish())
            return false;
        if (cancelled || e.m_cancel) {
            *error = u"cancelled"_s;
            return false;
        }
        if (!readError.isEmpty()) {
            *error = readError;
            return false;
        }
        if (!haveNext)
            break;
        if (!submit(std::move(next)))
            return false;
    }
    return true;
}

// Reads up to batchEvents events from `seq` on: the ones in range into
// sources; false when a chunk cannot be read.
bool ReplayEngine::Run::readBatch(Batch &next, QString *readError)
{
    seqs.clear();
    streamIds.clear();
    advanced.clear();
    while (seq < total && int(sources.size()) < o.batchEvents) {
        if (!chunk || seq >= chunkFirst + chunk->count()) {
            const int ci = e.m_tape->chunkIndexOf(seq);
            chunk = ci >= 0 ? e.m_tape->chunk(ci, readError) : nullptr;
            if (!chunk)
                return false;
            chunkFirst = e.m_tape->chunkInfo(ci).firstSeq;
        }
        const int index = int(seq - chunkFirst);
        const quint32 sid = chunk->streamId(index);
        const qint64 position = chunk->position(index);
        const qint64 us = chunk->timestampUs(index);
        ++next.events;
        if (inRange(sid, position, us, seq)) {
            ++next.inRange;
            sources.push_back(Source{chunk, index});
            seqs.push_back(seq);
            streamIds.push_back(sid);
        } else {
            advanced[sid] = ReplayPosition{streamNames.value(int(sid)), position, seq};
        }
        ++seq;
    }
    return true;
}

// Decoding change events (CBOR rows) is the costly part of reading, so
// events are built, and mapped by the identity, on the thread pool; a
// transform then runs on its engines.
void ReplayEngine::Run::mapEvents()
{
    const int n = int(sources.size());
    events.resize(size_t(n));
    extensions.assign(size_t(n), QByteArrayView());
    results.assign(size_t(n), EventResult{});
    shard.assign(size_t(n), 0);
    QList<int> indexes(n);
    std::iota(indexes.begin(), indexes.end(), 0);
    QtConcurrent::blockingMap(indexes, [&](int i) {
        const Source &src = sources[size_t(i)];
        Event &ev = events[size_t(i)];
        // The identity into SQL needs no key, value or headers
        // (unless the event fails and goes to the dead-letter file).
        const bool payload = !identityIntoSql || src.chunk->operation(src.index) == Operation::Record;
        // A transform reads the change fields from the stored bytes
        // itself (Transform::runMany()); the chunk outlives the batch.
        src.chunk->fill(src.index, &ev, payload, !useTransform);
        if (useTransform)
            extensions[size_t(i)] = src.chunk->extension(src.index);
        setStream(&ev, e.m_tape->streamKey(streamIds[size_t(i)]));
        if (shards > 1)
            shard[size_t(i)] = int(::qHash(ev.key.value_or(QByteArray()), size_t(streamIds[size_t(i)])) % uint(shards));
        if (!useTransform) {
            EventResult &r = results[size_t(i)];
            if (!identityOutputs(ev, seqs[size_t(i)], o.kafkaTopic, &r.outputs, &r.error)) {
                r.result = Transform::Result::Error;
                if (!payload)
                    src.chunk->fill(src.index, &ev);
            }
        }
    });
    if (useTransform)
        e.m_pool->process(events, seqs, shard, results, extensions, transformRows);
}

// The batch's events into its outputs or rows, up to the first that stops it.
void ReplayEngine::Run::collectBatch(Batch &next, bool *cancelled)
{
    const size_t n = sources.size();
    next.rowsMode = fastRows || transformRows;
    if (!fastRows)
        next.data.reserve(qsizetype(n));
    for (size_t i = 0; i < n; ++i) {
        if (!collectEvent(next, i, cancelled))
            break;
    }
    sources.clear();
    next.outputs = fastRows || transformRows ? next.rowCount : next.data.size();
    if (fastRows)
        next.rows = rowsBuilder.take();
    else if (transformRows)
        next.rows = tableRows.take();
    next.progress = advanced.values();
    if (!*cancelled) {
        if (e.m_observer) {
            for (const SinkOutput &out : std::as_const(next.data))
                e.m_observer(out);
        }
        if (deadLetter.isOpen())
            deadLetter.flush(); // before the commit: a dead letter is never lost, at worst repeated
    }
}

// Event i into the batch; false ends the batch before it (a cancel, or an
// error that stops the replay: then next.stopError says why).
bool ReplayEngine::Run::collectEvent(Batch &next, size_t i, bool *cancelled)
{
    if (fastRows && addFastRow(next, i))
        return true;
    EventResult &r = fastRows ? fallbackResult : results[i];
    const Event &event = fastRows ? fallback : events[i];
    if (r.result == Transform::Result::Cancelled) {
        *cancelled = true;
        return false;
    }
    if (r.result != Transform::Result::Ok) {
        if (o.onError == ReplayOptions::OnError::Stop) {
            next.stopError = r.error;
            stopBefore(i);
            return false;
        }
        skipEvent(next, i, event, r.error);
    } else if (!takeOutputs(next, i, r)) {
        stopBefore(i);
        return false;
    }
    advance(i, event.position);
    return true;
}

// Event i on the rows path: true when the rows builder took it; else the
// general identity mapping into fallback and fallbackResult.
bool ReplayEngine::Run::addFastRow(Batch &next, size_t i)
{
    const Source &src = sources[i];
    const int added = rowsBuilder.add(src.chunk, src.index, streamIds[i], seqs[i]);
    if (added >= 0) {
        if (added)
            next.rowCount += added;
        else
            ++next.dropped;
        advance(i, src.chunk->position(src.index));
        return true;
    }
    fallback = Event{};
    src.chunk->fill(src.index, &fallback);
    setStream(&fallback, e.m_tape->streamKey(streamIds[i]));
    fallbackResult = EventResult{};
    if (!identityOutputs(fallback, seqs[i], o.kafkaTopic, &fallbackResult.outputs, &fallbackResult.error))
        fallbackResult.result = Transform::Result::Error;
    return false;
}

// A failed event with OnError::Skip: counted, its error kept, and a line in the dead-letter file.
void ReplayEngine::Run::skipEvent(Batch &next, size_t i, const Event &event, const QString &why)
{
    ++next.skipped;
    next.errors.append(why);
    if (!deadLetter.isOpen())
        return;
    QJsonObject line{{u"seq"_s, seqs[i]},
                     {u"stream"_s, streamNames.value(int(streamIds[i]))},
                     {u"topic"_s, event.topic},
                     {u"partition"_s, event.partition},
                     {u"position"_s, QString::number(event.position)},
                     {u"timestamp"_s, event.timestampMs()},
                     {u"op"_s, toString(event.operation)},
                     {u"key"_s, event.key ? QJsonValue(QString::fromUtf8(*event.key)) : QJsonValue()},
                     {u"value"_s, event.value ? QJsonValue(QString::fromUtf8(*event.value)) : QJsonValue()},
                     {u"error"_s, why}};
    deadLetter.write(QJsonDocument(line).toJson(QJsonDocument::Compact) + '\n');
}

// A mapped event's outputs into the batch; false (and next.stopError) when
// the sink cannot take one of them: then none of its outputs go.
bool ReplayEngine::Run::takeOutputs(Batch &next, size_t i, EventResult &r)
{
    if (r.outputs.isEmpty() && r.rowCount == 0)
        ++next.dropped;
    for (const SinkOutput &out : std::as_const(r.outputs)) {
        if (sink && out.kind != sink->accepts()) {
            next.stopError = u"event #%1: a %2 output cannot be written to %3"_s.arg(seqs[i])
                                 .arg(out.kind == SinkOutput::Kind::Sql ? u"SQL"_s : u"Kafka"_s, sink->describe());
            return false;
        }
    }
    for (SinkOutput &out : r.outputs) {
        if (fastRows) {
            rowsBuilder.rowsFor(streamIds[i]).append(out);
            ++next.rowCount;
        } else if (transformRows) {
            tableRows.forTable(out.table).append(out);
            ++next.rowCount;
        } else {
            next.data.append(std::move(out));
        }
    }
    if (r.rowCount > 0) {
        const int worker = shard[i];
        const Transform::Rows &rows = e.m_pool->rows(worker);
        for (qint32 k = r.firstRow; k < r.firstRow + r.rowCount; ++k)
            tableRows.add(worker, rows, size_t(k), seqs[i]);
        next.rowCount += r.rowCount;
    }
    return true;
}

// Moves the position of event i's stream to it.
void ReplayEngine::Run::advance(size_t i, qint64 position)
{
    ReplayPosition &p = advanced[streamIds[i]];
    if (p.seq < seqs[i])
        p = ReplayPosition{streamNames.value(int(streamIds[i])), position, seqs[i]};
}

// Ends the batch before event i: what came before it is committed, and a
// rerun starts at it.
void ReplayEngine::Run::stopBefore(size_t i)
{
    seq = seqs[i];
    for (auto it = advanced.begin(); it != advanced.end();)
        it = it->seq >= seqs[i] ? advanced.erase(it) : std::next(it);
}

// Hands a collected batch to the writer (without one, or when the batch
// stops the replay, waits for it).
bool ReplayEngine::Run::submit(Batch next)
{
    next.written = writer && (!next.data.isEmpty() || !next.rows.empty() || !next.progress.isEmpty());
    const QString stopError = next.stopError;
    if (next.written)
        writer->submit(std::move(next.data), std::move(next.rows), next.rowsMode, std::move(next.progress));
    flight = std::move(next);
    inFlight = true;
    if (!writer || !stopError.isEmpty()) {
        if (!finish())
            return false;
    }
    if (!stopError.isEmpty()) {
        *error = stopError;
        return false;
    }
    return true;
}

// Waits for the submitted batch; counts it and reports progress.
bool ReplayEngine::Run::finish()
{
    if (!inFlight)
        return true;
    inFlight = false;
    ReplayStats &stats = e.m_stats;
    stats.events += flight.events;
    stats.inRange += flight.inRange;
    stats.outputs += flight.outputs;
    stats.skipped += flight.skipped;
    stats.dropped += flight.dropped;
    for (const QString &err : std::as_const(flight.errors)) {
        if (e.m_errors.size() < 100)
            e.m_errors.append(err);
    }
    if (flight.written && !writer->wait(error))
        return false;
    if (flight.written)
        stats.written += flight.outputs;
    ++stats.batches;
    stats.seconds = double(timer.nsecsElapsed()) / 1e9;
    if (e.m_progress)
        e.m_progress(stats);
    return true;
}

} // namespace tapedeck
