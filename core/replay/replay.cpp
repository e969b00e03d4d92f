#include "core/replay/replay.h"

#include "core/tape/chunkencoder.h"
#include "core/replay/sqlrows.h"
#include "core/tape/tape.h"

#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtConcurrent/QtConcurrentMap>

#include <cstring>

#include <condition_variable>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
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

    void submit(QList<SinkOutput> data, SqlBatch rows, bool rowsMode, QList<ReplayPosition> progress)
    {
        {
            std::lock_guard lock(m_mutex);
            m_data = std::move(data);
            m_rows = std::move(rows);
            m_rowsMode = rowsMode;
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
            SqlBatch rows;
            bool rowsMode;
            QList<ReplayPosition> progress;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [&] { return m_stop || m_pending; });
                if (!m_pending)
                    return;
                m_pending = false;
                data = std::move(m_data);
                rows = std::move(m_rows);
                rowsMode = m_rowsMode;
                progress = std::move(m_progress);
            }
            QString error;
            const bool ok = rowsMode ? m_sink->writeRows(rows, progress, &error) : m_sink->write(data, progress, &error);
            data = {}; // freed here rather than on the reading thread
            rows = {};
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
    SqlBatch m_rows;
    bool m_rowsMode = false;
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

// The cell identityOutputs() takes for each primary-key column: from the new
// row unless it is a delete (and not an unchanged TOAST value), else from
// the old row. False when a column has none.
bool keyCells(const ChunkEncoder::ChangeCells &change, bool isDelete, std::vector<const ChunkEncoder::ChangeCell *> *out)
{
    out->clear();
    for (const QByteArrayView name : change.primaryKey) {
        const ChunkEncoder::ChangeCell *found = nullptr;
        if (!isDelete) {
            for (const ChunkEncoder::ChangeCell &c : change.newRow) {
                if (c.name == name && c.state != ChunkEncoder::CellView::UnchangedToast)
                    found = &c;
            }
        }
        if (!found) {
            for (const ChunkEncoder::ChangeCell &c : change.oldRow) {
                if (c.name == name && c.state != ChunkEncoder::CellView::UnchangedToast)
                    found = &c;
            }
        }
        if (!found)
            return false;
        out->push_back(found);
    }
    return true;
}

// The fields an event takes from its stream (Chunk::fill() leaves them).
void setStream(Event *e, const StreamKey &key)
{
    e->kind = key.kind;
    e->cluster = key.cluster;
    e->topic = key.topic;
    e->partition = key.partition;
}

SqlCell cellOf(const ChunkEncoder::ChangeCell &c)
{
    return c.state == ChunkEncoder::CellView::Value ? SqlCell{c.value.data(), qint32(c.value.size())} : SqlCell{};
}

bool rowOperation(Operation op)
{
    return op == Operation::Insert || op == Operation::Update || op == Operation::Read || op == Operation::Delete;
}

// The last event of every key in the replayed range (replay.md, "Rebuilds"):
// a row that a later event of the same key in the range overwrites need not
// be written into a table that was empty. Keys are the identity's key cells
// with the stream, compared byte for byte (a hash only finds them). A key
// whose last event lacks a column (an unchanged TOAST value) keeps every
// version, since that column's value comes from an earlier one.
class LastVersions
{
public:
    // The bytes that identify a key: the stream, then each cell's length (-1: NULL) and bytes.
    static void encode(QByteArray *out, quint32 streamId, const std::vector<const ChunkEncoder::ChangeCell *> &key)
    {
        out->append(reinterpret_cast<const char *>(&streamId), sizeof streamId);
        for (const ChunkEncoder::ChangeCell *c : key) {
            const qint32 n = c->state == ChunkEncoder::CellView::Value ? qint32(c->value.size()) : -1;
            out->append(reinterpret_cast<const char *>(&n), sizeof n);
            if (n > 0)
                out->append(c->value.data(), n);
        }
    }

    void add(QByteArrayView key, qint64 seq, bool partialRow)
    {
        m_key = key;
        if (m_slots.empty() || m_count * 2 >= m_slots.size())
            grow();
        const size_t h = hash();
        for (size_t i = h & (m_slots.size() - 1);; i = (i + 1) & (m_slots.size() - 1)) {
            Slot &slot = m_slots[i];
            if (slot.seq < 0) {
                slot = Slot{h, seq, quint32(m_arena.size()), quint32(m_key.size()), partialRow};
                m_arena.append(m_key);
                ++m_count;
                return;
            }
            if (slot.hash == h && same(slot)) {
                slot.seq = seq;
                slot.partialRow = partialRow;
                return;
            }
        }
    }
    // Whether a later event in the range writes this key again (whole).
    bool superseded(QByteArrayView key, qint64 seq)
    {
        if (m_slots.empty())
            return false;
        m_key = key;
        const size_t h = hash();
        for (size_t i = h & (m_slots.size() - 1);; i = (i + 1) & (m_slots.size() - 1)) {
            const Slot &slot = m_slots[i];
            if (slot.seq < 0)
                return false;
            if (slot.hash == h && same(slot))
                return slot.seq > seq && !slot.partialRow;
        }
    }
    qint64 keys() const { return qint64(m_count); }

private:
    struct Slot
    {
        size_t hash = 0;
        qint64 seq = -1; // -1: empty
        quint32 offset = 0, size = 0;
        bool partialRow = false;
    };
    size_t hash() const { return qHash(m_key, size_t(0x2545f491)); }
    bool same(const Slot &slot) const
    {
        return slot.size == quint32(m_key.size()) && std::memcmp(m_arena.constData() + slot.offset, m_key.data(), size_t(m_key.size())) == 0;
    }
    void grow()
    {
        std::vector<Slot> old = std::exchange(m_slots, std::vector<Slot>(std::max<size_t>(1024, m_slots.size() * 2)));
        for (const Slot &slot : old) {
            if (slot.seq < 0)
                continue;
            size_t i = slot.hash & (m_slots.size() - 1);
            while (m_slots[i].seq >= 0)
                i = (i + 1) & (m_slots.size() - 1);
            m_slots[i] = slot;
        }
    }

    std::vector<Slot> m_slots;
    size_t m_count = 0;
    QByteArray m_arena;
    QByteArrayView m_key; // of the current call
};

// The keys of one chunk's events in the range, for LastVersions (computed
// on the thread pool, added in tape order).
struct ChunkKeys
{
    std::vector<qint64> seqs;
    std::vector<quint32> ends; // of each key in `bytes`
    std::vector<bool> partial;
    QByteArray bytes;
    bool usable = true;
};

// The identity mapping of change events into SQL rows, read in place from
// the chunks: no Event and no SinkOutput per event (replay.md, "Rows"). It
// gives the same rows as identityOutputs(); what it does not handle (Kafka
// records, an encoding the fast reader refuses, a missing key column) goes
// through identityOutputs() and SqlRows::append() instead.
class RowsBuilder
{
public:
    explicit RowsBuilder(const Tape &tape) : m_tape(tape) {}

    // Marks the upserts that a later event of their key overwrites.
    void setLastVersions(LastVersions *last) { m_last = last; }

    // The keys of a chunk's events for which `wanted(index)` holds (the
    // rebuild's first pass; thread-safe). Not usable when the rows path
    // would not handle an event.
    template<typename Wanted>
    static ChunkKeys keysOf(const Chunk &chunk, qint64 firstSeq, int from, Wanted wanted)
    {
        thread_local ChunkEncoder::ChangeCells change;
        thread_local std::vector<const ChunkEncoder::ChangeCell *> key;
        ChunkKeys out;
        for (int i = from; i < chunk.count(); ++i) {
            const Operation op = chunk.operation(i);
            if (!rowOperation(op) || !wanted(i))
                continue;
            if (!ChunkEncoder::changeCells(chunk.extension(i), &change) || !keyCells(change, op == Operation::Delete, &key)) {
                out.usable = false;
                break;
            }
            if (key.empty())
                continue; // no key, no versions: plain inserts
            bool partial = false;
            for (const ChunkEncoder::ChangeCell &c : change.newRow)
                partial = partial || c.state == ChunkEncoder::CellView::UnchangedToast;
            LastVersions::encode(&out.bytes, chunk.streamId(i), key);
            out.seqs.push_back(firstSeq + i);
            out.ends.push_back(quint32(out.bytes.size()));
            out.partial.push_back(partial);
        }
        return out;
    }

    // How many rows it added (0: nothing to write: begin, commit, message,
    // truncate; 2: an update that changed the key deletes the old one); -1:
    // not handled here.
    int add(const std::shared_ptr<const Chunk> &chunk, int index, quint32 streamId, qint64 seq)
    {
        const Operation op = chunk->operation(index);
        if (op == Operation::Record)
            return -1;
        if (!rowOperation(op))
            return 0;
        if (!ChunkEncoder::changeCells(chunk->extension(index), &m_change))
            return -1;
        m_names.clear();
        m_types.clear();
        m_cells.clear();
        auto add = [&](const ChunkEncoder::ChangeCell &c) {
            m_names.push_back(c.name);
            m_types.push_back(c.type);
            m_cells.push_back(cellOf(c));
        };
        const bool isDelete = op == Operation::Delete;
        if (!isDelete) {
            for (const ChunkEncoder::ChangeCell &c : m_change.newRow) {
                if (c.state != ChunkEncoder::CellView::UnchangedToast)
                    add(c);
            }
        }
        const int columns = int(m_names.size());
        if (!keyCells(m_change, isDelete, &m_key))
            return -1;
        for (const ChunkEncoder::ChangeCell *c : m_key)
            add(*c);
        const int keys = int(m_names.size()) - columns;
        if (keys == 0 && (isDelete || op == Operation::Update))
            return -1; // the error identityOutputs() gives
        const SqlOp sqlOp = isDelete ? SqlOp::Delete : keys == 0 ? SqlOp::Insert : SqlOp::Upsert;
        SqlRows &rows = rowsFor(streamId);
        int added = 0;
        if (op == Operation::Update && keys > 0 && !m_change.oldRow.empty()) {
            // A primary-key change: the row left its old key (as identityOutputs()).
            if (keyCells(m_change, true, &m_oldKeyCells)) {
                bool changed = false;
                for (int k = 0; k < keys; ++k) {
                    const ChunkEncoder::ChangeCell &was = *m_oldKeyCells[size_t(k)], &now = *m_key[size_t(k)];
                    changed = changed || was.name != now.name || was.type != now.type || cellOf(was).isNull() != cellOf(now).isNull()
                              || cellOf(was).view() != cellOf(now).view();
                }
                if (changed) {
                    m_oldKey.clear();
                    m_oldNames.clear();
                    m_oldTypes.clear();
                    for (const ChunkEncoder::ChangeCell *c : m_oldKeyCells) {
                        m_oldKey.push_back(cellOf(*c));
                        m_oldNames.push_back(c->name);
                        m_oldTypes.push_back(c->type);
                    }
                    const quint16 gone = rows.shapeFor(m_oldNames.data(), m_oldTypes.data(), 0, keys);
                    rows.appendRow(seq, SqlOp::Delete, gone, m_oldKey.data(), chunk);
                    added = 1;
                }
            }
        }
        const quint16 shape = rows.shapeFor(m_names.data(), m_types.data(), columns, keys);
        bool superseded = false;
        if (m_last && sqlOp == SqlOp::Upsert) {
            m_keyBytes.clear();
            LastVersions::encode(&m_keyBytes, streamId, m_key);
            superseded = m_last->superseded(m_keyBytes, seq);
        }
        rows.appendRow(seq, sqlOp, shape, m_cells.data(), chunk, superseded);
        return added + 1;
    }

    // The rows of a stream's table in this batch.
    SqlRows &rowsFor(quint32 streamId)
    {
        if (m_tableOf.size() <= streamId)
            m_tableOf.resize(streamId + 1, -1);
        int &t = m_tableOf[streamId];
        if (t < 0) {
            t = int(m_batch.size());
            m_batch.emplace_back(m_tape.streamKey(streamId).topic);
        }
        return m_batch[size_t(t)];
    }

    SqlBatch take()
    {
        m_tableOf.assign(m_tableOf.size(), -1);
        return std::exchange(m_batch, {});
    }

private:
    const Tape &m_tape;
    ChunkEncoder::ChangeCells m_change;
    std::vector<QByteArrayView> m_names, m_types;
    std::vector<SqlCell> m_cells;
    std::vector<SqlCell> m_oldKey;
    std::vector<const ChunkEncoder::ChangeCell *> m_key, m_oldKeyCells;
    LastVersions *m_last = nullptr;
    QByteArray m_keyBytes;
    std::vector<QByteArrayView> m_oldNames, m_oldTypes;
    std::vector<int> m_tableOf; // by stream id: index in m_batch, -1 none yet
    SqlBatch m_batch;
};

} // namespace

// A batch's transform outputs on the rows path, one SqlRows per table (in
// tape order within it: the sink keeps the last operation of a key).
class TableRows
{
public:
    explicit TableRows(int workers) : m_shapes(size_t(workers)) {}

    SqlRows &forTable(const QString &table)
    {
        if (m_last >= 0 && sameName(m_batch[size_t(m_last)].table(), table))
            return m_batch[size_t(m_last)];
        auto it = m_index.constFind(table);
        if (it == m_index.constEnd()) {
            it = m_index.insert(table, int(m_batch.size()));
            m_batch.emplace_back(table);
        }
        m_last = *it;
        return m_batch[size_t(m_last)];
    }

    // Output k of a worker's rows, as event `seq`'s.
    void add(int worker, const Transform::Rows &rows, size_t k, qint64 seq)
    {
        const Transform::Rows::Output &o = rows.outputs[k];
        SqlRows &table = forTable(rows.tables[o.table]);
        // The worker's shape in this table's SqlRows, looked up once.
        std::vector<std::pair<int, quint16>> &cache = m_shapes[size_t(worker)];
        if (cache.size() <= o.shape)
            cache.resize(size_t(o.shape) + 1, {-1, 0});
        std::pair<int, quint16> &shape = cache[o.shape];
        if (shape.first != m_last) {
            const Transform::Rows::Shape &sh = rows.shapes[o.shape];
            shape = {m_last, table.shapeFor(sh.nameViews.data(), sh.typeViews.data(), sh.columns, sh.keys)};
        }
        table.appendRow(seq, o.op, shape.second, rows.cells.data() + o.firstCell, rows.owners[o.owner]);
    }

    SqlBatch take()
    {
        m_index.clear();
        m_last = -1;
        for (auto &cache : m_shapes)
            cache.clear();
        return std::exchange(m_batch, {});
    }

private:
    SqlBatch m_batch;
    QHash<QString, int> m_index; // table -> index in m_batch
    int m_last = -1;             // the table of the last call
    std::vector<std::vector<std::pair<int, quint16>>> m_shapes; // per worker, per shape: (table, shape there)
};

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
    const std::vector<QByteArrayView> *extensions = nullptr; // per event, see Transform::runMany()
    bool asRows = false;
    // Per worker: the plain SQL outputs of its last events when asRows.
    std::vector<Transform::Rows> rows;

    bool start(int n, const ReplayOptions &options, QString *error)
    {
        workers.resize(size_t(n));
        rows.resize(size_t(n));
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
            // This worker's events (runMany() calls into the engine once per run of them).
            const int n = int(events->size());
            std::vector<const Event *> mine;
            std::vector<qint64> mySeqs;
            std::vector<EventResult *> myResults;
            std::vector<QByteArrayView> myExtensions;
            for (int i = 0; i < n; ++i) {
                if ((*shard)[size_t(i)] != index)
                    continue;
                mine.push_back(&(*events)[size_t(i)]);
                mySeqs.push_back((*seqs)[size_t(i)]);
                myResults.push_back(&(*results)[size_t(i)]);
                myExtensions.push_back((*extensions)[size_t(i)]);
            }
            transform.runMany(mine, mySeqs, myResults, asRows ? &rows[size_t(index)] : nullptr, myExtensions);
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
                 std::vector<EventResult> &r, const std::vector<QByteArrayView> &x, bool wantRows)
    {
        std::unique_lock lock(mutex);
        asRows = wantRows;
        extensions = &x;
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
    // The identity into a SQL sink that takes rows: straight from the chunks.
    const bool fastRows = identityIntoSql && sink && !o.dryRun && !m_observer && sink->acceptsRows();
    // A transform's plain SQL outputs into such a sink: as rows too (replay.md, "Rows").
    const bool transformRows = useTransform && sink && !o.dryRun && !m_observer && sink->acceptsRows();
    RowsBuilder rowsBuilder(*m_tape);
    TableRows tableRows(shards);
    std::vector<Event> events;
    std::vector<qint64> seqs;
    std::vector<int> shard;
    std::vector<EventResult> results;
    std::vector<QByteArrayView> extensions;
    std::vector<quint32> streamIds;
    struct Source
    {
        std::shared_ptr<const Chunk> chunk;
        int index;
    };
    std::vector<Source> sources;
    auto inRange = [&](quint32 sid, qint64 position, qint64 us, qint64 seq) {
        const qint64 ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000); // as Event::timestampMs()
        return position >= o.fromPosition && position <= o.toPosition && ms >= o.fromTimeMs && ms <= o.toTimeMs
               && (!bySelection || o.selection.contains(sid, seq, us));
    };
    // A fresh run of the rows path first finds the last event of every key
    // in the range (replay.md, "Rebuilds").
    LastVersions lastVersions;
    if (fastRows && m_stats.resumedAfterSeq < 0 && startSeq < total) {
        // Chunks are read and their keys found on the thread pool, a window
        // at a time; the keys go into the table in tape order. A sample of
        // chunks spread over the range comes first: when no key repeats in
        // it, the log is taken as one of distinct keys and the pass is
        // skipped (it would cost a second read of every chunk for nothing;
        // a log whose repeats the sample misses is replayed as before, only
        // slower).
        bool usable = true;
        const int firstChunk = m_tape->chunkIndexOf(startSeq);
        const int lastChunk = m_tape->chunkIndexOf(total - 1);
        auto keysOfChunks = [&](const QList<int> &chunks, QList<ChunkKeys> *out) {
            QString readError;
            std::mutex readErrorMutex;
            *out = QtConcurrent::blockingMapped(chunks, [&](int k) {
                const qint64 first = m_tape->chunkInfo(k).firstSeq;
                QString why;
                const auto c = m_tape->chunk(k, &why);
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
        };
        auto addKeys = [&](const QList<ChunkKeys> &keys, LastVersions *into) {
            qint64 added = 0;
            for (const ChunkKeys &ck : keys) {
                usable = usable && ck.usable;
                quint32 begin = 0;
                for (size_t j = 0; j < ck.seqs.size() && usable; ++j) {
                    into->add(QByteArrayView(ck.bytes.constData() + begin, ck.ends[j] - begin), ck.seqs[j], ck.partial[j]);
                    begin = ck.ends[j];
                    ++added;
                }
            }
            return added;
        };
        const int window = 32;
        bool repeats = firstChunk >= 0 && lastChunk - firstChunk < window; // small ranges: the full pass is the sample
        if (firstChunk >= 0 && !repeats) {
            QList<int> sample; // the first window, and 8 chunks spread over the rest
            for (int k = firstChunk; k < firstChunk + window; ++k)
                sample.append(k);
            for (int k = 1; k <= 8; ++k)
                sample.append(firstChunk + window + int(qint64(lastChunk - firstChunk - window) * k / 8));
            sample.erase(std::unique(sample.begin(), sample.end()), sample.end());
            QList<ChunkKeys> keys;
            if (!keysOfChunks(sample, &keys))
                return false;
            LastVersions probe;
            repeats = addKeys(keys, &probe) > probe.keys();
        }
        for (int ci = firstChunk; repeats && ci >= 0 && ci <= lastChunk && usable && !m_cancel; ci += window) {
            QList<int> chunks;
            for (int k = ci; k <= std::min(ci + window - 1, lastChunk); ++k)
                chunks.append(k);
            QList<ChunkKeys> keys;
            if (!keysOfChunks(chunks, &keys))
                return false;
            addKeys(keys, &lastVersions);
            if (lastVersions.keys() > o.maxRebuildKeys) {
                usable = false; // too many keys to hold: replayed without the saving
                lastVersions = LastVersions();
            }
        }
        if (repeats && usable)
            rowsBuilder.setLastVersions(&lastVersions);
    }
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
            if (haveNext && !fastRows) {
                // Decoding change events (CBOR rows) is the costly part of reading, so
                // events are built, and mapped by the identity, on the thread pool.
                const int n = int(sources.size());
                events.resize(size_t(n));
                extensions.assign(size_t(n), QByteArrayView());
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
                    // A transform reads the change fields from the stored bytes
                    // itself (Transform::runMany()); the chunk outlives the batch.
                    src.chunk->fill(src.index, &e, payload, !useTransform);
                    if (useTransform)
                        extensions[size_t(i)] = src.chunk->extension(src.index);
                    setStream(&e, m_tape->streamKey(streamIds[size_t(i)]));
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
                if (useTransform)
                    m_pool->process(events, seqs, shard, results, extensions, transformRows);
            }
            if (haveNext) {
                const size_t n = sources.size();
                QList<SinkOutput> &outputs = next.data;
                next.rowsMode = fastRows || transformRows;
                qint64 rowCount = 0;
                if (!fastRows)
                    outputs.reserve(qsizetype(n));
                QString &stopError = next.stopError;
                Event fallback;
                EventResult fallbackResult;
                // Moves the position of event i's stream to it.
                auto advance = [&](size_t i, qint64 position) {
                    ReplayPosition &p = advanced[streamIds[i]];
                    if (p.seq < seqs[i])
                        p = ReplayPosition{streamNames.value(int(streamIds[i])), position, seqs[i]};
                };
                // Ends the batch before event i: what came before it is
                // committed, and a rerun starts at it.
                auto stopBefore = [&](size_t i) {
                    seq = seqs[i];
                    for (auto it = advanced.begin(); it != advanced.end();)
                        it = it->seq >= seqs[i] ? advanced.erase(it) : std::next(it);
                };
                for (size_t i = 0; i < n; ++i) {
                    if (fastRows) {
                        const Source &src = sources[i];
                        const int added = rowsBuilder.add(src.chunk, src.index, streamIds[i], seqs[i]);
                        if (added >= 0) {
                            if (added)
                                rowCount += added;
                            else
                                ++next.dropped;
                            advance(i, src.chunk->position(src.index));
                            continue;
                        }
                        // What the rows path does not handle: the general identity mapping.
                        fallback = Event{};
                        src.chunk->fill(src.index, &fallback);
                        setStream(&fallback, m_tape->streamKey(streamIds[i]));
                        fallbackResult = EventResult{};
                        if (!identityOutputs(fallback, seqs[i], o.kafkaTopic, &fallbackResult.outputs, &fallbackResult.error))
                            fallbackResult.result = Transform::Result::Error;
                    }
                    EventResult &r = fastRows ? fallbackResult : results[i];
                    const Event &event = fastRows ? fallback : events[i];
                    if (r.result == Transform::Result::Cancelled) {
                        cancelled = true;
                        haveNext = false;
                        break;
                    }
                    if (r.result != Transform::Result::Ok) {
                        if (o.onError == ReplayOptions::OnError::Stop) {
                            stopError = r.error;
                            stopBefore(i);
                            break;
                        }
                        ++next.skipped;
                        next.errors.append(r.error);
                        if (deadLetter.isOpen()) {
                            QJsonObject line{{u"seq"_s, seqs[i]},
                                             {u"stream"_s, streamNames.value(int(streamIds[i]))},
                                             {u"topic"_s, event.topic},
                                             {u"partition"_s, event.partition},
                                             {u"position"_s, QString::number(event.position)},
                                             {u"timestamp"_s, event.timestampMs()},
                                             {u"op"_s, toString(event.operation)},
                                             {u"key"_s, event.key ? QJsonValue(QString::fromUtf8(*event.key)) : QJsonValue()},
                                             {u"value"_s, event.value ? QJsonValue(QString::fromUtf8(*event.value)) : QJsonValue()},
                                             {u"error"_s, r.error}};
                            deadLetter.write(QJsonDocument(line).toJson(QJsonDocument::Compact) + '\n');
                        }
                    } else {
                        if (r.outputs.isEmpty() && r.rowCount == 0)
                            ++next.dropped;
                        // An output the sink cannot take stops the batch before the event: none of its outputs go.
                        for (const SinkOutput &out : std::as_const(r.outputs)) {
                            if (sink && out.kind != sink->accepts()) {
                                stopError = u"event #%1: a %2 output cannot be written to %3"_s.arg(seqs[i])
                                                .arg(out.kind == SinkOutput::Kind::Sql ? u"SQL"_s : u"Kafka"_s, sink->describe());
                                break;
                            }
                        }
                        for (SinkOutput &out : r.outputs) {
                            if (!stopError.isEmpty())
                                break;
                            if (fastRows) {
                                rowsBuilder.rowsFor(streamIds[i]).append(out);
                                ++rowCount;
                            } else if (transformRows) {
                                tableRows.forTable(out.table).append(out);
                                ++rowCount;
                            } else {
                                outputs.append(std::move(out));
                            }
                        }
                        if (r.rowCount > 0 && stopError.isEmpty()) {
                            const int worker = shard[i];
                            const Transform::Rows &rows = m_pool->rows[size_t(worker)];
                            for (qint32 k = r.firstRow; k < r.firstRow + r.rowCount; ++k)
                                tableRows.add(worker, rows, size_t(k), seqs[i]);
                            rowCount += r.rowCount;
                        }
                        if (!stopError.isEmpty()) {
                            stopBefore(i);
                            break;
                        }
                    }
                    advance(i, event.position);
                }
                sources.clear();
                next.outputs = fastRows || transformRows ? rowCount : outputs.size();
                if (fastRows)
                    next.rows = rowsBuilder.take();
                else if (transformRows)
                    next.rows = tableRows.take();
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
        next.written = writer && (!next.data.isEmpty() || !next.rows.empty() || !next.progress.isEmpty());
        QString stopError = next.stopError;
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
    }
    m_stats.seconds = double(timer.nsecsElapsed()) / 1e9;
    return true;
}

} // namespace tapedeck
