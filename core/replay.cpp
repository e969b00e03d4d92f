#include "replay.h"

#include "tape.h"

#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtConcurrent/QtConcurrentMap>

#include <condition_variable>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <vector>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

struct EventResult
{
    QList<SinkOutput> outputs;
    QString error;
    Transform::Result result = Transform::Result::Ok;
};

// One batch between reading and the sink: its data and progress rows, and
// what it adds to the stats once it is finished.
struct Batch
{
    QList<SinkOutput> data;
    QList<ReplayPosition> progress;
    qint64 events = 0, inRange = 0, outputs = 0, skipped = 0, dropped = 0;
    QStringList errors;
    QString stopError;
    bool written = false; // handed to the sink
};

// Calls Sink::write() on its own thread, one batch at a time in submission
// order, so that the sink's round trips (COPY, the commit's fsync) overlap
// with reading and transforming the next batch. The sink is used by this
// thread only while a batch is submitted and not yet waited for.
class BatchWriter
{
public:
    explicit BatchWriter(Sink *sink) : m_sink(sink), m_thread([this] { loop(); }) {}
    ~BatchWriter()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_all();
        m_thread.join(); // after a batch in progress is written (or failed)
    }
    BatchWriter(const BatchWriter &) = delete;
    BatchWriter &operator=(const BatchWriter &) = delete;

    void submit(QList<SinkOutput> data, QList<ReplayPosition> progress)
    {
        {
            std::lock_guard lock(m_mutex);
            m_data = std::move(data);
            m_progress = std::move(progress);
            m_pending = true;
            m_busy = true;
        }
        m_wake.notify_all();
    }
    // Waits for the submitted batch: false + *error if it was not committed.
    bool wait(QString *error)
    {
        std::unique_lock lock(m_mutex);
        m_done.wait(lock, [&] { return !m_busy; });
        if (m_ok)
            return true;
        *error = m_error;
        return false;
    }

private:
    void loop()
    {
        while (true) {
            QList<SinkOutput> data;
            QList<ReplayPosition> progress;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [&] { return m_stop || m_pending; });
                if (!m_pending)
                    return;
                m_pending = false;
                data = std::move(m_data);
                progress = std::move(m_progress);
            }
            QString error;
            const bool ok = m_sink->write(data, progress, &error);
            data = {}; // freed here rather than on the reading thread
            {
                std::lock_guard lock(m_mutex);
                m_ok = ok;
                m_error = error;
                m_busy = false;
            }
            m_done.notify_all();
        }
    }

    Sink *m_sink;
    std::mutex m_mutex;
    std::condition_variable m_wake, m_done;
    QList<SinkOutput> m_data;
    QList<ReplayPosition> m_progress;
    bool m_pending = false, m_busy = false, m_stop = false, m_ok = true;
    QString m_error;
    std::thread m_thread; // last: starts after the members it uses
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

} // namespace

// Transform engines on worker threads. Each QJSEngine is created, used and
// destroyed on its own thread; a batch's events are sharded by stream and key,
// so per key (and per partition) order is kept inside a shard, and outputs
// are merged back in tape order.
struct ReplayEngine::Pool
{
    struct Worker
    {
        std::thread thread;
        Transform *transform = nullptr; // owned by the thread
    };
    std::mutex mutex;
    std::condition_variable wake, done;
    std::vector<Worker> workers;
    int generation = 0;
    int finished = 0;
    int ready = 0;
    bool stop = false;
    QString compileError;
    const std::vector<Event> *events = nullptr;
    const std::vector<qint64> *seqs = nullptr;
    const std::vector<int> *shard = nullptr;
    std::vector<EventResult> *results = nullptr;

    bool start(int n, const ReplayOptions &options, QString *error)
    {
        workers.resize(size_t(n));
        for (int i = 0; i < n; ++i) {
            workers[size_t(i)].thread = std::thread([this, i, options] { loop(i, options); });
        }
        std::unique_lock lock(mutex);
        done.wait(lock, [&] { return ready == n; });
        if (!compileError.isEmpty()) {
            *error = compileError;
            return false;
        }
        return true;
    }

    void loop(int index, const ReplayOptions &options)
    {
        Transform transform;
        transform.setTimeoutMs(options.timeoutMs);
        QString error;
        const bool ok = transform.compile(options.transformSource, options.transformFile,
                                          Transform::Context{options.replayId, options.target, options.dryRun}, &error);
        int seen = 0;
        {
            std::lock_guard lock(mutex);
            workers[size_t(index)].transform = &transform;
            if (!ok && compileError.isEmpty())
                compileError = error;
            ++ready;
        }
        done.notify_all();
        while (true) {
            {
                std::unique_lock lock(mutex);
                wake.wait(lock, [&] { return stop || generation != seen; });
                if (stop)
                    break;
                seen = generation;
            }
            const int n = int(events->size());
            for (int i = 0; i < n; ++i) {
                if ((*shard)[size_t(i)] != index)
                    continue;
                EventResult &r = (*results)[size_t(i)];
                r.result = transform.run((*events)[size_t(i)], (*seqs)[size_t(i)], &r.outputs, &r.error);
            }
            {
                std::lock_guard lock(mutex);
                ++finished;
            }
            done.notify_all();
        }
        std::lock_guard lock(mutex);
        workers[size_t(index)].transform = nullptr;
    }

    void process(const std::vector<Event> &e, const std::vector<qint64> &s, const std::vector<int> &sh,
                 std::vector<EventResult> &r)
    {
        std::unique_lock lock(mutex);
        events = &e;
        seqs = &s;
        shard = &sh;
        results = &r;
        finished = 0;
        ++generation;
        wake.notify_all();
        done.wait(lock, [&] { return finished == int(workers.size()); });
    }

    void cancel()
    {
        std::lock_guard lock(mutex);
        for (Worker &w : workers) {
            if (w.transform)
                w.transform->cancel();
        }
    }

    ~Pool()
    {
        {
            std::lock_guard lock(mutex);
            stop = true;
        }
        wake.notify_all();
        for (Worker &w : workers) {
            if (w.thread.joinable())
                w.thread.join();
        }
    }
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
    QElapsedTimer timer;
    timer.start();
    m_stats = {};
    m_errors.clear();
    const ReplayOptions &o = m_options;
    if (!sink && !o.dryRun) {
        *error = u"no target to replay into"_s;
        return false;
    }
    qint64 startSeq = 0;
    if (sink) {
        if (!sink->open(o.replayId, error))
            return false;
        for (const ReplayPosition &p : sink->committed())
            m_stats.resumedAfterSeq = std::max(m_stats.resumedAfterSeq, p.seq);
        startSeq = m_stats.resumedAfterSeq + 1;
    }
    const bool useTransform = !o.transformSource.isEmpty();
    if (useTransform) {
        m_pool = std::make_unique<Pool>();
        if (!m_pool->start(std::max(1, o.threads), o, error))
            return false;
        if (m_cancel)
            m_pool->cancel();
    }
    QFile deadLetter;
    if (o.onError == ReplayOptions::OnError::Skip && !o.deadLetterPath.isEmpty()) {
        deadLetter.setFileName(o.deadLetterPath);
        if (!deadLetter.open(QIODevice::WriteOnly | QIODevice::Append)) {
            *error = u"%1: %2"_s.arg(o.deadLetterPath, deadLetter.errorString());
            return false;
        }
    }
    QList<QString> streamNames;
    for (const StreamStats &s : m_tape->streams())
        streamNames.append(streamName(s.key));

    qint64 total = m_tape->eventCount();
    const bool bySelection = !o.selection.isEmpty();
    if (bySelection && o.selection.axis == AxisKind::Position) {
        startSeq = std::max(startSeq, o.selection.range.from);
        total = std::min(total, o.selection.range.to);
    }
    m_stats.totalEvents = std::max<qint64>(0, total - startSeq);
    const int shards = useTransform ? std::max(1, o.threads) : 1;
    const bool identityIntoSql = !useTransform && o.kafkaTopic.isEmpty();
    std::vector<Event> events;
    std::vector<qint64> seqs;
    std::vector<int> shard;
    std::vector<EventResult> results;
    std::vector<quint32> streamIds;
    struct Source
    {
        std::shared_ptr<const Chunk> chunk;
        int index;
    };
    std::vector<Source> sources;
    qint64 seq = startSeq;
    std::shared_ptr<const Chunk> chunk; // read in order, so one chunk at a time
    qint64 chunkFirst = 0;

    // The sink writes batch N on its own thread while batch N+1 is read and
    // transformed. Batches are still written one at a time in tape order, and
    // each one's progress rows go in its own transaction (replay.md).
    std::optional<BatchWriter> writer;
    if (sink && !o.dryRun)
        writer.emplace(sink);
    Batch flight; // submitted, not yet finished
    bool inFlight = false;
    // Waits for the submitted batch; counts it and reports progress.
    auto finish = [&]() -> bool {
        if (!inFlight)
            return true;
        inFlight = false;
        m_stats.events += flight.events;
        m_stats.inRange += flight.inRange;
        m_stats.outputs += flight.outputs;
        m_stats.skipped += flight.skipped;
        m_stats.dropped += flight.dropped;
        for (const QString &e : std::as_const(flight.errors)) {
            if (m_errors.size() < 100)
                m_errors.append(e);
        }
        if (flight.written && !writer->wait(error))
            return false;
        if (flight.written)
            m_stats.written += flight.outputs;
        ++m_stats.batches;
        m_stats.seconds = double(timer.nsecsElapsed()) / 1e9;
        if (m_progress)
            m_progress(m_stats);
        return true;
    };

    while (true) {
        Batch next;
        bool haveNext = false;
        QString readError;
        bool cancelled = false;
        if (seq < total && !m_cancel) {
            haveNext = true;
            seqs.clear();
            streamIds.clear();
            // Positions advance for every event read, in range or not, so that
            // a resume never reads a committed event again.
            QHash<quint32, ReplayPosition> advanced;
            while (seq < total && int(sources.size()) < o.batchEvents) {
                if (!chunk || seq >= chunkFirst + chunk->count()) {
                    const int ci = m_tape->chunkIndexOf(seq);
                    chunk = ci >= 0 ? m_tape->chunk(ci, &readError) : nullptr;
                    if (!chunk) {
                        haveNext = false;
                        break;
                    }
                    chunkFirst = m_tape->chunkInfo(ci).firstSeq;
                }
                const int index = int(seq - chunkFirst);
                const quint32 sid = chunk->streamId(index);
                const qint64 position = chunk->position(index);
                const qint64 us = chunk->timestampUs(index);
                const qint64 ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000); // as Event::timestampMs()
                ++next.events;
                if (position >= o.fromPosition && position <= o.toPosition && ms >= o.fromTimeMs && ms <= o.toTimeMs
                    && (!bySelection || o.selection.contains(sid, seq, us))) {
                    ++next.inRange;
                    sources.push_back(Source{chunk, index});
                    seqs.push_back(seq);
                    streamIds.push_back(sid);
                } else {
                    advanced[sid] = ReplayPosition{streamNames.value(int(sid)), position, seq};
                }
                ++seq;
            }
            if (haveNext) {
                // Decoding change events (CBOR rows) is the costly part of reading, so
                // events are built, and mapped by the identity, on the thread pool.
                const int n = int(sources.size());
                events.resize(size_t(n));
                results.assign(size_t(n), EventResult{});
                shard.assign(size_t(n), 0);
                QList<int> indexes(n);
                std::iota(indexes.begin(), indexes.end(), 0);
                QtConcurrent::blockingMap(indexes, [&](int i) {
                    const Source &src = sources[size_t(i)];
                    Event &e = events[size_t(i)];
                    // The identity into SQL needs no key, value or headers
                    // (unless the event fails and goes to the dead-letter file).
                    const bool payload = !identityIntoSql || src.chunk->operation(src.index) == Operation::Record;
                    src.chunk->fill(src.index, &e, payload);
                    const StreamKey &key = m_tape->streamKey(streamIds[size_t(i)]);
                    e.kind = key.kind;
                    e.cluster = key.cluster;
                    e.topic = key.topic;
                    e.partition = key.partition;
                    if (shards > 1)
                        shard[size_t(i)] = int(::qHash(e.key.value_or(QByteArray()), size_t(streamIds[size_t(i)])) % uint(shards));
                    if (!useTransform) {
                        EventResult &r = results[size_t(i)];
                        if (!identityOutputs(e, seqs[size_t(i)], o.kafkaTopic, &r.outputs, &r.error)) {
                            r.result = Transform::Result::Error;
                            if (!payload)
                                src.chunk->fill(src.index, &e);
                        }
                    }
                });
                sources.clear();
                if (useTransform)
                    m_pool->process(events, seqs, shard, results);
                QList<SinkOutput> &outputs = next.data;
                outputs.reserve(qsizetype(events.size()));
                QString &stopError = next.stopError;
                for (size_t i = 0; i < events.size(); ++i) {
                    EventResult &r = results[i];
                    if (r.result == Transform::Result::Cancelled) {
                        cancelled = true;
                        haveNext = false;
                        break;
                    }
                    if (r.result != Transform::Result::Ok) {
                        if (o.onError == ReplayOptions::OnError::Stop) {
                            stopError = r.error;
                            // Commit what came before the failing event; a rerun starts at it.
                            seq = seqs[i];
                            QHash<quint32, ReplayPosition> kept;
                            for (auto it = advanced.cbegin(); it != advanced.cend(); ++it) {
                                if (it->seq < seqs[i])
                                    kept.insert(it.key(), *it);
                            }
                            advanced = kept;
                            break;
                        }
                        ++next.skipped;
                        next.errors.append(r.error);
                        if (deadLetter.isOpen()) {
                            const Event &e = events[i];
                            QJsonObject line{{u"seq"_s, seqs[i]},
                                             {u"stream"_s, streamNames.value(int(streamIds[i]))},
                                             {u"topic"_s, e.topic},
                                             {u"partition"_s, e.partition},
                                             {u"position"_s, QString::number(e.position)},
                                             {u"timestamp"_s, e.timestampMs()},
                                             {u"op"_s, toString(e.operation)},
                                             {u"key"_s, e.key ? QJsonValue(QString::fromUtf8(*e.key)) : QJsonValue()},
                                             {u"value"_s, e.value ? QJsonValue(QString::fromUtf8(*e.value)) : QJsonValue()},
                                             {u"error"_s, r.error}};
                            deadLetter.write(QJsonDocument(line).toJson(QJsonDocument::Compact) + '\n');
                        }
                    } else {
                        if (r.outputs.isEmpty())
                            ++next.dropped;
                        for (SinkOutput &out : r.outputs) {
                            if (sink && out.kind != sink->accepts()) {
                                stopError = u"event #%1: a %2 output cannot be written to %3"_s.arg(seqs[i])
                                                .arg(out.kind == SinkOutput::Kind::Sql ? u"SQL"_s : u"Kafka"_s, sink->describe());
                                break;
                            }
                            outputs.append(std::move(out));
                        }
                        if (!stopError.isEmpty()) {
                            seq = seqs[i];
                            QHash<quint32, ReplayPosition> kept;
                            for (auto it = advanced.cbegin(); it != advanced.cend(); ++it) {
                                if (it->seq < seqs[i])
                                    kept.insert(it.key(), *it);
                            }
                            advanced = kept;
                            break;
                        }
                    }
                    ReplayPosition &p = advanced[streamIds[i]];
                    if (p.seq < seqs[i])
                        p = ReplayPosition{streamNames.value(int(streamIds[i])), events[i].position, seqs[i]};
                }
                next.outputs = outputs.size();
                next.progress = advanced.values();
                if (!cancelled) {
                    if (m_observer) {
                        for (const SinkOutput &out : std::as_const(outputs))
                            m_observer(out);
                    }
                    if (deadLetter.isOpen())
                        deadLetter.flush(); // before the commit: a dead letter is never lost, at worst repeated
                }
            }
        }
        // The batch in flight comes first in tape order: its outcome, then this one's.
        if (!finish())
            return false;
        if (cancelled || m_cancel) {
            *error = u"cancelled"_s;
            return false;
        }
        if (!readError.isEmpty()) {
            *error = readError;
            return false;
        }
        if (!haveNext)
            break;
        next.written = writer && (!next.data.isEmpty() || !next.progress.isEmpty());
        QString stopError = next.stopError;
        if (next.written)
            writer->submit(std::move(next.data), std::move(next.progress));
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
    }
    m_stats.seconds = double(timer.nsecsElapsed()) / 1e9;
    return true;
}

} // namespace tapedeck
