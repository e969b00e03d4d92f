#include "core/diff/tablediff.h"

#include "core/diff/canonicalrow.h"
#include "core/tape/chunkencoder.h"
#include "core/state/logstate.h"
#include "core/base/rawjson.h"
#include "core/tape/tape.h"

#include <QElapsedTimer>
#include <QThread>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

using ValueClass = CanonicalRow::ValueClass;

constexpr quint64 DigestSeed = 0x7461706564656b;

ValueClass classify(const QString &type, const QString &dialect)
{
    return CanonicalRow::classify(type, dialect);
}

struct Mapped
{
    enum class From : quint8 { Column, Key, KeyField, Value, ValueField };
    From from = From::Column;
    QByteArray path; // JSON path
    QString column;  // change rows: the column's name
};

std::optional<Mapped> parseSource(const QString &source, bool change)
{
    Mapped m;
    if (change) {
        m.column = source;
        return m;
    }
    if (source == u"key")
        m.from = Mapped::From::Key;
    else if (source == u"value")
        m.from = Mapped::From::Value;
    else if (source.startsWith(u"key.") && source.size() > 4)
        m.from = Mapped::From::KeyField, m.path = source.mid(4).toUtf8();
    else if (source.startsWith(u"value.") && source.size() > 6)
        m.from = Mapped::From::ValueField, m.path = source.mid(6).toUtf8();
    else
        return std::nullopt;
    return m;
}

std::optional<QByteArray> fromJson(const std::optional<RawJson> &v)
{
    if (!v || v->type == RawJson::Type::Null)
        return std::nullopt;
    return v->text;
}

// The value of one mapped column in a state row.
std::optional<QByteArray> mappedValue(const Mapped &m, const Event &e)
{
    switch (m.from) {
    case Mapped::From::Column:
        for (const Column &c : e.newRow) {
            if (c.name == m.column)
                return c.value;
        }
        return std::nullopt;
    case Mapped::From::Key: return e.key;
    case Mapped::From::Value: return e.value;
    case Mapped::From::KeyField: return e.key ? fromJson(rawjson::path(*e.key, m.path)) : std::nullopt;
    case Mapped::From::ValueField: return e.value ? fromJson(rawjson::path(*e.value, m.path)) : std::nullopt;
    }
    return std::nullopt;
}

// The mapped columns of a change event's new row, read in place
// (ChunkEncoder::changeCells: views, no Event, no QString). The rows of a
// table share their column layout, so each position remembers the column
// name it had and which mapped column that fills: one name comparison per
// cell instead of one per cell and mapped column.
class RowColumns
{
public:
    explicit RowColumns(const QList<Mapped> &sources)
    {
        for (const Mapped &m : sources) {
            const QByteArray name = m.column.toUtf8();
            const auto it = std::find(m_names.cbegin(), m_names.cend(), name);
            m_of.push_back(int(it - m_names.cbegin()));
            if (it == m_names.cend())
                m_names.push_back(name);
        }
        m_cells.resize(m_names.size());
    }
    // False when the extension is not in the form encodeExtension() writes
    // (decode it then). *unchanged: some cell of the row is an unchanged TOAST value.
    bool read(QByteArrayView extension, bool *unchanged)
    {
        if (!ChunkEncoder::changeCells(extension, &m_row))
            return false;
        std::fill(m_cells.begin(), m_cells.end(), ChunkEncoder::CellView{});
        *unchanged = false;
        if (m_layout.size() < m_row.newRow.size())
            m_layout.resize(m_row.newRow.size());
        for (size_t i = 0; i < m_row.newRow.size(); ++i) {
            const ChunkEncoder::ChangeCell &cell = m_row.newRow[i];
            *unchanged = *unchanged || cell.state == ChunkEncoder::CellView::UnchangedToast;
            Position &p = m_layout[i];
            if (!p.known || p.name != cell.name) {
                p.known = true;
                p.name = cell.name.toByteArray();
                const auto it = std::find(m_names.cbegin(), m_names.cend(), cell.name);
                p.column = it == m_names.cend() ? -1 : int(it - m_names.cbegin());
            }
            if (p.column >= 0 && m_cells[size_t(p.column)].state == ChunkEncoder::CellView::Absent) // the first of a name
                m_cells[size_t(p.column)] = ChunkEncoder::CellView{cell.state, cell.value};
        }
        return true;
    }
    // Mapped column c of the row read last (Absent when the row has no such column).
    const ChunkEncoder::CellView &cell(int c) const { return m_cells[size_t(m_of[size_t(c)])]; }

private:
    struct Position
    {
        bool known = false;
        QByteArray name;
        int column = -1; // into m_names
    };
    std::vector<QByteArray> m_names; // distinct
    std::vector<int> m_of;           // mapped column -> m_names
    std::vector<ChunkEncoder::CellView> m_cells;
    std::vector<Position> m_layout;
    ChunkEncoder::ChangeCells m_row;
};

// Canonical table key -> state entry: open addressing over (hash, key, value)
// slots, the keys in one arena (no allocation per key, one probe that
// rarely leaves the slot array). Sized once for its number of keys. The
// callers hash the keys (hashOf) so that hashing runs on the worker threads
// and the slot of a coming key can be prefetched.
class KeyTable
{
public:
    explicit KeyTable(size_t keys)
    {
        size_t cap = 16;
        while (cap < keys * 2)
            cap <<= 1;
        m_slots.assign(cap, Slot{});
        m_mask = cap - 1;
        m_offsets.reserve(keys + 1);
        m_offsets.push_back(0);
    }
    static quint64 hashOf(QByteArrayView key) { return CanonicalRow::digest(key, 0x6b657973); }
    void prefetch(quint64 hash) const { __builtin_prefetch(&m_slots[hash & m_mask]); }
    // The value of `key`, nullptr when absent.
    const quint32 *find(QByteArrayView key, quint64 hash) const
    {
        for (size_t i = hash & m_mask;; i = (i + 1) & m_mask) {
            const Slot &s = m_slots[i];
            if (s.ref == Empty)
                return nullptr;
            if (s.hash == hash && keyAt(s.ref) == key)
                return &s.value;
        }
    }
    // The value slot of `key`, inserted (set to `value`) when absent; *inserted says which.
    quint32 *insert(QByteArrayView key, quint64 hash, quint32 value, bool *inserted)
    {
        for (size_t i = hash & m_mask;; i = (i + 1) & m_mask) {
            Slot &s = m_slots[i];
            if (s.ref == Empty) {
                *inserted = true;
                s.hash = hash;
                s.ref = quint32(m_offsets.size() - 1);
                s.value = value;
                m_arena.append(key);
                m_offsets.push_back(m_arena.size());
                return &s.value;
            }
            if (s.hash == hash && keyAt(s.ref) == key) {
                *inserted = false;
                return &s.value;
            }
        }
    }

private:
    static constexpr quint32 Empty = 0xFFFFFFFFu;
    struct Slot
    {
        quint64 hash = 0;
        quint32 ref = Empty; // index into m_offsets
        quint32 value = 0;
    };
    QByteArrayView keyAt(quint32 ref) const
    {
        return QByteArrayView(m_arena.data() + m_offsets[ref], m_offsets[ref + 1] - m_offsets[ref]);
    }
    std::vector<Slot> m_slots;
    size_t m_mask = 0;
    ByteSink m_arena;
    std::vector<qsizetype> m_offsets; // keys + 1
};

// Reads the table on its own thread (the reader's start() and next(), a batch
// at a time) from the moment the columns are known: the table streams while
// the state side is read, and the COPY text is received and parsed while the
// caller canonicalises and looks up the batch before. The batches waiting
// hold at most AheadBytes (or 2 batches), so the table is never held whole.
// Buffers go round (no reallocation).
class TableFeed
{
public:
    static constexpr qsizetype AheadBytes = 64 << 20;
    TableFeed(TableReader &reader, QStringList columns, QStringList keys, int batchRows)
        : m_reader(reader), m_columns(std::move(columns)), m_keys(std::move(keys)), m_batchRows(batchRows)
    {
        m_thread = std::thread([this] { run(); });
    }
    ~TableFeed()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_cond.notify_all();
        m_thread.join();
    }
    // The next batch into *batch (whose buffers are recycled); an empty batch
    // at the end; false + *error when the table cannot be read.
    bool next(TableBatch *batch, QString *error)
    {
        std::unique_lock lock(m_mutex);
        m_cond.wait(lock, [this] { return !m_ready.empty() || m_done; });
        if (m_ready.empty()) {
            if (m_failed) {
                *error = m_error;
                return false;
            }
            batch->clear();
            return true;
        }
        std::swap(*batch, m_ready.front());
        m_free.push_back(std::move(m_ready.front()));
        m_ready.pop_front();
        m_readyBytes -= bytesOf(*batch);
        lock.unlock();
        m_cond.notify_all();
        return true;
    }

private:
    static qsizetype bytesOf(const TableBatch &b)
    {
        return b.data.size() + qsizetype((b.offsets.size() + b.sizes.size()) * sizeof(qint32));
    }
    void run()
    {
        QString error;
        const bool started = m_reader.start(m_columns, m_keys, &error);
        while (started) {
            TableBatch batch;
            {
                std::unique_lock lock(m_mutex);
                m_cond.wait(lock, [this] { return m_ready.size() < 2 || m_readyBytes < AheadBytes || m_stop; });
                if (m_stop)
                    return;
                if (!m_free.empty()) {
                    batch = std::move(m_free.back());
                    m_free.pop_back();
                }
            }
            if (!m_reader.next(&batch, m_batchRows, &error))
                break;
            std::lock_guard lock(m_mutex);
            if (batch.rows() == 0) {
                m_done = true;
                m_cond.notify_all();
                return;
            }
            m_readyBytes += bytesOf(batch);
            m_ready.push_back(std::move(batch));
            m_cond.notify_all();
        }
        std::lock_guard lock(m_mutex);
        m_failed = m_done = true;
        m_error = error;
        m_cond.notify_all();
    }

    TableReader &m_reader;
    const QStringList m_columns, m_keys;
    const int m_batchRows;
    std::mutex m_mutex;
    std::condition_variable m_cond;
    std::deque<TableBatch> m_ready;
    std::vector<TableBatch> m_free;
    qsizetype m_readyBytes = 0;
    bool m_stop = false, m_done = false, m_failed = false;
    QString m_error;
    std::thread m_thread; // last: starts after the members it uses
};

// A NUL byte is never written into the script: psql and sqlite3 read a
// line up to it, which would shift every quote after it. No SQL name holds
// one, so U+FFFD stands for it (and the statement names no such column).
QByteArray quoteIdentifier(const QString &name)
{
    QByteArray q = name.toUtf8();
    q.replace('"', "\"\"");
    q.replace('\0', "\xef\xbf\xbd");
    return '"' + q + '"';
}

// The text of a `--` comment line. PostgreSQL ends such a comment at \n or
// \r, SQLite at \n, and a client may split lines at other breaks: every
// control character, and U+0085, U+2028 and U+2029, is written as \xHH or
// \uHHHH, so that nothing from a tape's names can end the comment.
QByteArray commentText(const QString &line)
{
    QString out;
    out.reserve(line.size());
    for (const QChar c : line) {
        const char16_t u = c.unicode();
        if (u < 0x20 || u == 0x7f || (u >= 0x80 && u < 0xa0))
            out += u"\\x"_s + QString::number(u, 16).rightJustified(2, u'0');
        else if (u == 0x2028 || u == 0x2029 || u == 0xfeff)
            out += u"\\u"_s + QString::number(u, 16);
        else
            out += c;
    }
    return out.toUtf8();
}

QByteArray literal(const std::optional<QByteArray> &v, const TableColumn &column, const QString &dialect)
{
    if (!v)
        return QByteArrayLiteral("NULL");
    if (dialect == u"sqlite" && classify(column.type, dialect) == ValueClass::Bool) {
        const QByteArray n = TableDiff::normalise(*v, column.type, dialect);
        if (n == "t")
            return QByteArrayLiteral("1");
        if (n == "f")
            return QByteArrayLiteral("0");
    }
    QByteArray q = *v;
    q.replace('\'', "''");
    // A NUL byte as a function call between quoted parts (see quoteIdentifier):
    // SQLite stores it; PostgreSQL refuses it, and the transaction with it.
    q.replace('\0', dialect == u"sqlite" ? QByteArrayLiteral("' || char(0) || '") : QByteArrayLiteral("' || chr(0) || '"));
    return '\'' + q + '\'';
}

} // namespace

QByteArray TableDiff::normalise(QByteArrayView value, const QString &type, const QString &dialect)
{
    return CanonicalRow::normalised(value, classify(type, dialect));
}


bool TableDiff::run(const LogState &state, TableReader &reader, const QString &table, const DiffOptions &options,
                    DiffResult *result, QString *error, const std::function<bool(qint64)> &progress)
{
    QElapsedTimer timer;
    timer.start();
    *result = DiffResult{};
    const int ti = state.tableIndex(options.stateTable);
    if (ti < 0) {
        *error = u"the tape has no table or topic \"%1\""_s.arg(options.stateTable);
        return false;
    }
    const LogStateTable &info = state.tables()[ti];
    const bool change = info.kind == SourceKind::Postgres;
    if (!reader.open(table, error))
        return false;
    const QString dialect = reader.dialect();
    const QList<TableColumn> tableColumns = reader.columns();
    auto columnOf = [&](const QString &name) -> std::optional<TableColumn> {
        for (const TableColumn &c : tableColumns) {
            if (c.name == name)
                return c;
        }
        return std::nullopt;
    };
    QStringList keyColumns = options.keyColumns.isEmpty() ? reader.primaryKey() : options.keyColumns;
    if (keyColumns.isEmpty()) {
        *error = u"%1 has no primary key: name the key columns with --key COL[,COL]"_s.arg(table);
        return false;
    }
    for (const QString &k : keyColumns) {
        if (!columnOf(k)) {
            *error = u"%1 has no column \"%2\""_s.arg(table, k);
            return false;
        }
    }
    const LogStateSnapshot snapshot = state.snapshot(ti, std::min(options.end, state.eventCount()));
    result->table = table;
    result->stateTable = info.name;
    result->quotedTable = reader.quotedTable();
    result->dialect = dialect;
    result->end = snapshot.end();
    result->keyColumns = keyColumns;
    result->stateRows = snapshot.rowCount();

    // A sample row for the default mapping.
    std::optional<LogStateRow> sample;
    if (snapshot.rowCount() > 0) {
        sample = state.row(snapshot, snapshot.keyAt(0), error);
        if (!sample)
            return false;
    }
    QList<ColumnMapping> mapping;
    auto mappedSource = [&](const QString &column) -> std::optional<QString> {
        for (const ColumnMapping &m : options.map) {
            if (m.column == column)
                return m.source;
        }
        return std::nullopt;
    };
    for (const ColumnMapping &m : options.map) {
        if (!columnOf(m.column)) {
            *error = u"%1 has no column \"%2\" (in --map)"_s.arg(table, m.column);
            return false;
        }
        if (!parseSource(m.source, change)) {
            *error = u"--map %1=%2: a Kafka source is key, key.FIELD, value or value.FIELD"_s.arg(m.column, m.source);
            return false;
        }
    }
    QList<std::pair<QByteArray, RawJson>> sampleValueFields, sampleKeyFields;
    if (sample && !change) {
        if (sample->value)
            rawjson::objectFields(*sample->value, &sampleValueFields);
        const QByteArray keyBytes = state.keyText(ti, sample->keyId);
        rawjson::objectFields(keyBytes, &sampleKeyFields);
    }
    auto hasField = [](const QList<std::pair<QByteArray, RawJson>> &fields, const QString &name) {
        const QByteArray n = name.toUtf8();
        return std::any_of(fields.cbegin(), fields.cend(), [&](const auto &f) { return f.first == n; });
    };
    for (const QString &k : keyColumns) {
        if (auto s = mappedSource(k)) {
            mapping.append({k, *s});
        } else if (change) {
            mapping.append({k, k});
        } else if (hasField(sampleKeyFields, k)) {
            mapping.append({k, u"key."_s + k});
        } else if (keyColumns.size() == 1) {
            mapping.append({k, u"key"_s});
        } else {
            *error = u"key column \"%1\": say where it comes from with --map %1=key.FIELD|value.FIELD"_s.arg(k);
            return false;
        }
    }
    for (const TableColumn &c : tableColumns) {
        if (keyColumns.contains(c.name))
            continue;
        if (!options.map.isEmpty()) {
            if (auto s = mappedSource(c.name))
                mapping.append({c.name, *s});
            continue;
        }
        if (change && sample) {
            if (std::any_of(sample->row.cbegin(), sample->row.cend(), [&](const Column &x) { return x.name == c.name; }))
                mapping.append({c.name, c.name});
        } else if (!change && hasField(sampleValueFields, c.name)) {
            mapping.append({c.name, u"value."_s + c.name});
        }
    }
    result->mapping = mapping;
    QList<Mapped> sources;
    QStringList columnNames;
    for (const ColumnMapping &m : mapping) {
        sources.append(*parseSource(m.source, change));
        result->columns.append(*columnOf(m.column));
        columnNames.append(m.column);
    }
    TableFeed feed(reader, columnNames, keyColumns, options.batchRows);
    const int nKeys = int(keyColumns.size());
    const int nCols = int(result->columns.size());
    std::vector<ValueClass> classes;
    for (const TableColumn &c : std::as_const(result->columns))
        classes.push_back(classify(c.type, dialect));

    // The state side: every live key's canonical table key and a digest of
    // its other columns, read in tape order (each chunk decoded once). The
    // keys are cut into parts at chunk boundaries, read on up to
    // idealThreadCount() threads and merged in order, so a later event still
    // wins a key collision as in one pass.
    struct StateEntry
    {
        quint32 keyId;
        quint64 digest;
        bool matched = false;
        bool shadowed = false; // another state key maps to the same table key and came later
    };
    struct StatePart
    {
        size_t from = 0, to = 0; // in `order`
        std::vector<quint32> keyIds;
        std::vector<quint64> digests, keyHashes;
        std::vector<qsizetype> keyEnds; // in `keys`
        ByteSink keys;
        qint64 unmappable = 0;
        bool failed = false;
        QString error;
    };
    std::vector<StateEntry> entries;
    KeyTable byKey(size_t(snapshot.rowCount()));
    {
        const qint64 n = snapshot.rowCount();
        std::vector<std::pair<qint64, quint32>> order;
        order.reserve(size_t(n));
        const QList<quint32> keys = snapshot.keys(0, int(std::min<qint64>(n, std::numeric_limits<int>::max())));
        for (quint32 k : keys)
            order.emplace_back(snapshot.lastSeq(k), k);
        if (!std::is_sorted(order.begin(), order.end()))
            std::sort(order.begin(), order.end());
        const Tape &tape = *state.tape();
        // Change rows: the mapped columns read straight from the event's CBOR
        // (RowColumns); Kafka: the key and value bytes in place.
        auto readPart = [&](StatePart *part) {
            std::shared_ptr<const Chunk> chunk;
            int chunkIndex = -1;
            Event e;
            ByteSink rest;
            RowColumns columns(sources);
            const size_t count = part->to - part->from;
            part->keyIds.reserve(count);
            part->digests.reserve(count);
            part->keyHashes.reserve(count);
            part->keyEnds.reserve(count);
            for (size_t i = part->from; i < part->to; ++i) {
                const auto [seq, keyId] = order[i];
                const int ci = tape.chunkIndexOf(seq);
                if (ci != chunkIndex) {
                    chunk = tape.chunk(ci, &part->error);
                    if (!chunk) {
                        part->failed = true;
                        return;
                    }
                    chunkIndex = ci;
                }
                const int at = int(seq - tape.chunkInfo(ci).firstSeq);
                const qsizetype keyStart = part->keys.size();
                rest.clear();
                bool keyOk = true;
                auto add = [&](int c, bool null, QByteArrayView v) {
                    if (c < nKeys) {
                        keyOk = keyOk && !null;
                        CanonicalRow::appendCell(&part->keys, null, v, classes[size_t(c)]);
                    } else {
                        CanonicalRow::appendCell(&rest, null, v, classes[size_t(c)]);
                    }
                };
                bool unchanged = false;
                if (change && columns.read(chunk->extension(at), &unchanged) && !unchanged) {
                    for (int c = 0; c < nCols; ++c) {
                        const ChunkEncoder::CellView &cell = columns.cell(c);
                        add(c, cell.state != ChunkEncoder::CellView::Value, cell.value);
                    }
                } else if (!change) {
                    const bool hasKey = chunk->hasKey(at), hasValue = chunk->hasValue(at);
                    const QByteArrayView key = chunk->key(at), value = chunk->value(at);
                    for (int c = 0; c < nCols; ++c) {
                        const Mapped &m = sources[c];
                        switch (m.from) {
                        case Mapped::From::Key: add(c, !hasKey, key); break;
                        case Mapped::From::Value: add(c, !hasValue, value); break;
                        case Mapped::From::KeyField:
                        case Mapped::From::ValueField: {
                            const bool present = m.from == Mapped::From::KeyField ? hasKey : hasValue;
                            const std::optional<RawJson> v =
                                present ? rawjson::path(m.from == Mapped::From::KeyField ? key : value, m.path) : std::nullopt;
                            const bool null = !v || v->type == RawJson::Type::Null;
                            add(c, null, null ? QByteArrayView() : QByteArrayView(v->text));
                            break;
                        }
                        case Mapped::From::Column: add(c, true, {}); break;
                        }
                    }
                } else {
                    chunk->fill(at, &e);
                    if (std::any_of(e.newRow.cbegin(), e.newRow.cend(), [](const Column &c) { return c.unchangedToast; })) {
                        const auto full = state.row(snapshot, keyId, &part->error); // unchanged TOAST values: the slow way
                        if (!full) {
                            part->failed = true;
                            return;
                        }
                        e.newRow = full->row;
                    }
                    for (int c = 0; c < nCols; ++c) {
                        const std::optional<QByteArray> v = mappedValue(sources[c], e);
                        add(c, !v.has_value(), v ? QByteArrayView(*v) : QByteArrayView());
                    }
                }
                if (!keyOk) {
                    ++part->unmappable;
                    part->keys.truncate(keyStart);
                    continue;
                }
                part->keyIds.push_back(keyId);
                part->digests.push_back(CanonicalRow::digest(rest.view(), DigestSeed));
                part->keyHashes.push_back(KeyTable::hashOf(part->keys.view().sliced(keyStart)));
                part->keyEnds.push_back(part->keys.size());
            }
        };
        // Parts cut where a chunk ends; by default of at least 16384 keys.
        const size_t nParts = options.threads > 0
            ? size_t(options.threads)
            : std::clamp<size_t>(order.size() / 16384, 1, size_t(std::clamp(QThread::idealThreadCount(), 1, 4)));
        std::vector<StatePart> parts(nParts);
        for (size_t p = 0; p < nParts; ++p) {
            size_t to = p + 1 == nParts ? order.size() : std::max(parts[p].from, order.size() * (p + 1) / nParts);
            while (p + 1 < nParts && to > parts[p].from && to < order.size()
                   && tape.chunkIndexOf(order[to].first) == tape.chunkIndexOf(order[to - 1].first))
                ++to;
            parts[p].to = to;
            if (p + 1 < nParts)
                parts[p + 1].from = to;
        }
        {
            std::vector<std::thread> workers;
            for (size_t p = 1; p < nParts; ++p)
                workers.emplace_back(readPart, &parts[p]);
            readPart(&parts[0]);
            for (std::thread &w : workers)
                w.join();
        }
        entries.reserve(order.size());
        for (StatePart &part : parts) {
            if (part.failed) {
                *error = part.error;
                return false;
            }
            result->unmappable += part.unmappable;
            const size_t m = part.keyIds.size();
            qsizetype start = 0;
            for (size_t i = 0; i < m; ++i) {
                if (i + 8 < m)
                    byKey.prefetch(part.keyHashes[i + 8]);
                const QByteArrayView key(part.keys.data() + start, part.keyEnds[i] - start);
                start = part.keyEnds[i];
                const quint32 index = quint32(entries.size());
                entries.push_back({part.keyIds[i], part.digests[i], false, false});
                bool inserted = false;
                quint32 *it = byKey.insert(key, part.keyHashes[i], index, &inserted);
                if (!inserted) {
                    ++result->keyCollisions;
                    entries[*it].shadowed = true;
                    *it = index;
                }
            }
            part = StatePart{};
        }
    }
    result->stateSeconds = double(timer.nsecsElapsed()) / 1e9;

    // The table side, streamed in key order.
    struct Found
    {
        quint32 entry;
        QList<std::optional<QByteArray>> tableRow;
    };
    QList<Found> differing;
    QList<DiffEntry> extras;
    TableBatch batch;
    // Per batch: first every row's canonical key, its hash and the digest of
    // the other columns; then the lookups, each slot prefetched a few rows ahead.
    ByteSink batchKeys, rest;
    std::vector<qsizetype> keyEnds;
    std::vector<quint64> keyHashes, digests;
    auto rowValues = [&](int r) {
        QList<std::optional<QByteArray>> row;
        row.reserve(nCols);
        for (int c = 0; c < nCols; ++c)
            row.append(batch.isNull(r, c) ? std::nullopt : std::optional<QByteArray>(batch.cell(r, c).toByteArray()));
        return row;
    };
    while (true) {
        if (!feed.next(&batch, error))
            return false;
        const int rows = batch.rows();
        if (rows == 0)
            break;
        batchKeys.clear();
        keyEnds.resize(size_t(rows));
        keyHashes.resize(size_t(rows));
        digests.resize(size_t(rows));
        for (int r = 0; r < rows; ++r) {
            const qsizetype keyStart = batchKeys.size();
            rest.clear();
            for (int c = 0; c < nCols; ++c)
                CanonicalRow::appendCell(c < nKeys ? &batchKeys : &rest, batch.isNull(r, c), batch.cell(r, c), classes[size_t(c)]);
            keyEnds[size_t(r)] = batchKeys.size();
            keyHashes[size_t(r)] = KeyTable::hashOf(batchKeys.view().sliced(keyStart));
            digests[size_t(r)] = CanonicalRow::digest(rest.view(), DigestSeed);
        }
        qsizetype keyStart = 0;
        for (int r = 0; r < rows; ++r) {
            if (r + 8 < rows)
                byKey.prefetch(keyHashes[size_t(r + 8)]);
            const QByteArrayView keyText(batchKeys.data() + keyStart, keyEnds[size_t(r)] - keyStart);
            keyStart = keyEnds[size_t(r)];
            const quint32 *it = byKey.find(keyText, keyHashes[size_t(r)]);
            if (!it) {
                ++result->extra;
                if (options.maxEntries < 0 || extras.size() < options.maxEntries) {
                    DiffEntry d;
                    d.kind = DiffEntry::Kind::Extra;
                    d.key = rowValues(r).mid(0, nKeys);
                    extras.append(std::move(d));
                }
                continue;
            }
            StateEntry &s = entries[*it];
            s.matched = true;
            if (s.digest == digests[size_t(r)]) {
                ++result->equalRows;
            } else {
                ++result->differing;
                differing.append({*it, rowValues(r)});
            }
        }
        result->tableRows += rows;
        if (progress && !progress(result->tableRows)) {
            *error = u"cancelled"_s;
            return false;
        }
    }

    // Details: the state's values of missing and differing keys, read back from the tape.
    QList<quint32> missing;
    for (quint32 i = 0; i < quint32(entries.size()); ++i) {
        if (!entries[i].matched && !entries[i].shadowed)
            missing.append(i);
    }
    result->missing = missing.size();
    if (options.maxEntries >= 0) {
        missing.resize(std::min<qsizetype>(missing.size(), options.maxEntries));
        differing.resize(std::min<qsizetype>(differing.size(), options.maxEntries));
    }
    QList<quint32> detailKeys;
    for (quint32 i : std::as_const(missing))
        detailKeys.append(entries[i].keyId);
    for (const Found &f : std::as_const(differing))
        detailKeys.append(entries[f.entry].keyId);
    QList<LogStateRow> stateRows;
    if (!state.rows(snapshot, detailKeys, &stateRows, error))
        return false;
    auto lastEvents = [&](quint32 keyId) {
        const QList<qint64> all = state.keyEvents(ti, keyId, 0, snapshot.end());
        return all.mid(std::max<qsizetype>(0, all.size() - 3));
    };
    auto stateValues = [&](const LogStateRow &row) {
        Event e;
        e.key = state.keyText(ti, row.keyId);
        e.value = row.value;
        e.newRow = row.row;
        QList<std::optional<QByteArray>> values;
        for (int c = 0; c < nCols; ++c)
            values.append(mappedValue(sources[c], e));
        return values;
    };
    QList<DiffEntry> out;
    for (qsizetype i = 0; i < stateRows.size(); ++i) {
        DiffEntry d;
        d.stateRow = stateValues(stateRows[i]);
        d.lastEvents = lastEvents(stateRows[i].keyId);
        if (i < missing.size()) {
            d.kind = DiffEntry::Kind::Missing;
            d.key = d.stateRow.mid(0, nKeys);
        } else {
            const Found &f = differing[i - missing.size()];
            d.kind = DiffEntry::Kind::Differs;
            d.key = f.tableRow.mid(0, nKeys);
            for (int c = nKeys; c < nCols; ++c) {
                const auto &a = d.stateRow[c], &b = f.tableRow[c];
                const bool same = a.has_value() == b.has_value()
                    && (!a || normalise(*a, result->columns[c].type, dialect) == normalise(*b, result->columns[c].type, dialect));
                if (!same)
                    d.differences.append({result->columns[c].name, a, b});
            }
        }
        out.append(std::move(d));
    }
    // Extra keys: their events, when the table key is also the state's key.
    const bool sameKey = change ? keyColumns == info.keyColumns
                                : (nKeys == 1 && sources[0].from == Mapped::From::Key);
    for (DiffEntry &d : extras) {
        if (sameKey && std::all_of(d.key.cbegin(), d.key.cend(), [](const auto &v) { return v.has_value(); })) {
            QByteArray text;
            for (qsizetype i = 0; i < d.key.size(); ++i)
                text += (i ? QByteArray(1, LogState::KeySeparator) : QByteArray()) + *d.key[i];
            if (const auto k = state.findKey(ti, text))
                d.lastEvents = lastEvents(*k);
        }
        out.append(std::move(d));
    }
    auto keyString = [](const DiffEntry &d) {
        QByteArray s;
        for (qsizetype i = 0; i < d.key.size(); ++i)
            s += (i ? QByteArray(1, LogState::KeySeparator) : QByteArray()) + d.key[i].value_or(QByteArray());
        return s;
    };
    std::stable_sort(out.begin(), out.end(), [&](const DiffEntry &a, const DiffEntry &b) {
        return LogState::compareKeys(keyString(a), keyString(b)) < 0;
    });
    result->entries = std::move(out);
    result->seconds = double(timer.nsecsElapsed()) / 1e9;
    return true;
}

QByteArray TableDiff::repairSql(const DiffResult &r, const QString &header)
{
    QByteArray sql;
    for (const QString &line : header.split(u'\n'))
        sql += "-- " + commentText(line) + '\n';
    sql += "BEGIN;\n";
    if (r.dialect == u"postgresql")
        sql += "SET LOCAL standard_conforming_strings = on;\n";
    const int nKeys = int(r.keyColumns.size());
    auto where = [&](const QList<std::optional<QByteArray>> &key) {
        QByteArray w;
        for (int c = 0; c < nKeys; ++c) {
            w += (c ? " AND " : " WHERE ") + quoteIdentifier(r.columns[c].name);
            w += key[c] ? " = " + literal(key[c], r.columns[c], r.dialect) : QByteArray(" IS NULL");
        }
        return w;
    };
    for (const DiffEntry &d : r.entries) {
        switch (d.kind) {
        case DiffEntry::Kind::Extra:
            sql += "DELETE FROM " + r.quotedTable + where(d.key) + ";\n";
            break;
        case DiffEntry::Kind::Missing: {
            QByteArray names, values;
            for (int c = 0; c < r.columns.size(); ++c) {
                names += (c ? ", " : "") + quoteIdentifier(r.columns[c].name);
                values += (c ? ", " : "") + literal(d.stateRow[c], r.columns[c], r.dialect);
            }
            sql += "INSERT INTO " + r.quotedTable + " (" + names + ") VALUES (" + values + ");\n";
            break;
        }
        case DiffEntry::Kind::Differs: {
            QByteArray set;
            for (const ColumnDifference &x : d.differences) {
                for (const TableColumn &c : r.columns) {
                    if (c.name == x.column)
                        set += (set.isEmpty() ? "" : ", ") + quoteIdentifier(c.name) + " = " + literal(x.state, c, r.dialect);
                }
            }
            sql += "UPDATE " + r.quotedTable + " SET " + set + where(d.key) + ";\n";
            break;
        }
        }
    }
    sql += "COMMIT;\n";
    return sql;
}

QList<SinkOutput> TableDiff::repairOutputs(const DiffResult &r)
{
    QList<SinkOutput> outputs;
    const int nKeys = int(r.keyColumns.size());
    auto value = [&](const std::optional<QByteArray> &v, const TableColumn &c) {
        std::optional<QByteArray> text = v;
        if (v && r.dialect == u"sqlite" && classify(c.type, r.dialect) == ValueClass::Bool) {
            const QByteArray n = normalise(*v, c.type, r.dialect);
            if (n == "t" || n == "f")
                text = QByteArray(n == "t" ? "1" : "0");
        }
        return SinkField{c.name, SinkValue{text, c.type}};
    };
    for (const DiffEntry &d : r.entries) {
        SinkOutput out;
        out.kind = SinkOutput::Kind::Sql;
        out.table = r.table;
        out.seq = d.lastEvents.isEmpty() ? -1 : d.lastEvents.last();
        for (int c = 0; c < nKeys; ++c)
            out.key.append(value(d.kind == DiffEntry::Kind::Extra ? d.key[c] : d.stateRow[c], r.columns[c]));
        if (d.kind == DiffEntry::Kind::Extra) {
            out.op = SqlOp::Delete;
        } else {
            out.op = SqlOp::Upsert;
            for (int c = 0; c < r.columns.size(); ++c)
                out.row.append(value(d.stateRow[c], r.columns[c]));
        }
        outputs.append(std::move(out));
    }
    return outputs;
}

bool TableDiff::repair(Sink &sink, const DiffResult &r, const QString &replayId, qint64 *written, QString *error)
{
    *written = 0;
    if (!sink.open(replayId, error))
        return false;
    const QList<SinkOutput> outputs = repairOutputs(r);
    constexpr qsizetype Batch = 5000;
    const ReplayPosition progress{u"repair/"_s + r.table, r.end, r.end - 1};
    for (qsizetype i = 0; i < outputs.size(); i += Batch) {
        if (!sink.write(outputs.mid(i, Batch), {progress}, error)) {
            sink.close();
            return false;
        }
        *written += std::min(Batch, outputs.size() - i);
    }
    sink.close();
    return true;
}

} // namespace tapedeck
