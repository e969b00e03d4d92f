#pragma once

#include "core/event/event.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

namespace tapedeck {

class Tape;
class LogState;

// One table (change tapes, "schema.table") or topic (Kafka, all partitions)
// of a LogState. Key ids 0..keys-1 are the keys' ranks in the stable key
// order (LogState::compareKeys), so a key id is also its row when every key is live.
struct LogStateTable
{
    QString name;
    SourceKind kind = SourceKind::Unknown;
    QStringList keyColumns;  // change tapes: primary-key columns as the events name them; Kafka: empty
    QList<qint32> partitions; // Kafka partitions seen (ascending); {0} for change tapes
    qint64 events = 0;        // keyed events of this table that change its state (truncates included)
    qint64 unkeyedEvents = 0; // events that cannot be placed: null Kafka key, table without key
    qint64 keys = 0;          // distinct keys ever seen
    qint64 multiPartitionKeys = 0; // Kafka keys seen in more than one partition
};

// The row of one key at a point: its last event and what it holds. For change
// events `row` is the new row, with unchanged TOASTed columns (pgoutput 'u')
// filled in from the key's earlier events (still flagged when never seen).
struct LogStateRow
{
    quint32 keyId = 0;
    QStringList keyValues; // PK values (change) or the Kafka key as text
    qint64 seq = -1;       // the key's last event before the point
    qint32 partition = -1;
    qint64 timestampUs = -1;
    Operation operation = Operation::Record;
    std::optional<QByteArray> value; // Kafka value, or the change event's JSON value
    QList<Header> headers;
    Row row;
};

// The state of one table after the first `end` events of the tape: which keys
// are live and each key's last event. An immutable, implicitly shared value:
// cheap to copy, safe to hand to another thread. Built by LogState::snapshot().
class LogStateSnapshot
{
public:
    LogStateSnapshot() = default;
    bool isValid() const { return bool(m_d); }
    int table() const;
    qint64 end() const; // events [0, end) applied

    qint64 rowCount() const;  // live keys
    // Rows are the live keys in the stable key order.
    quint32 keyAt(qint64 row) const;                     // 0 <= row < rowCount()
    QList<quint32> keys(qint64 firstRow, int count) const; // a visible window
    qint64 rowOf(quint32 keyId) const;                   // -1 when the key is not live
    bool isLive(quint32 keyId) const;
    // The key's last event before end(), -1 when it has none.
    qint64 lastSeq(quint32 keyId) const;
    // True when the key has an event in [from, end()) (highlight "changed since the previous step").
    bool changedSince(quint32 keyId, qint64 from) const;

private:
    friend class LogState;
    struct Data;
    std::shared_ptr<const Data> m_d;
};

struct LogStateOptions
{
    qint64 checkpointBudgetBytes = 64 << 20; // memory for all checkpoints of all tables
    qint64 minCheckpointEvents = 8192;       // never closer than this (per table)
};

// "The table the log implies": for every table (change tapes) or topic (Kafka)
// of a tape, its rows by key at any point of the tape. Built once in one pass
// over the tape (on a worker thread: build() blocks), with checkpoints along
// the tape so that a snapshot at any point costs a bitmap copy plus at most
// one checkpoint interval of events. Immutable once built; every const method
// is thread-safe. Design and memory cost: logstate.md.
//
// Rules: Kafka records: a value upserts the key, a tombstone (null value)
// deletes it, a null key is counted as unkeyed; aborted transactional records
// and control records are skipped (what a read_committed consumer sees). A
// key seen in several partitions of a topic is one key: the record that comes
// last in the tape wins (counted in multiPartitionKeys, since Kafka itself
// would keep one entry per partition). Change events: insert, update and read
// (snapshot rows) upsert by primary key, delete removes, truncate clears the
// table; an update whose old row carries a different primary key deletes the
// old key and upserts the new one. Begin, commit and messages change nothing.
class LogState : public std::enable_shared_from_this<LogState>
{
public:
    using Options = LogStateOptions;
    // `progress(done, total)` is called every few chunks; returning false cancels
    // (nullptr, *error = "cancelled"). nullptr + *error on a tape read error.
    static std::shared_ptr<const LogState> build(std::shared_ptr<const Tape> tape, QString *error,
                                                 const std::function<bool(qint64, qint64)> &progress = {},
                                                 Options options = {});
    ~LogState();

    std::shared_ptr<const Tape> tape() const { return m_tape; }
    qint64 eventCount() const { return m_eventCount; } // the points are 0..eventCount()
    const QList<LogStateTable> &tables() const { return m_tables; }
    int tableIndex(const QString &name) const; // -1 when unknown

    // Keys of a table. Change tables: the primary-key values joined by U+001F
    // (KeySeparator); Kafka: the key bytes.
    static constexpr char KeySeparator = '\x1f';
    QByteArray keyText(int table, quint32 keyId) const;
    QStringList keyValues(int table, quint32 keyId) const;
    std::optional<quint32> findKey(int table, QByteArrayView keyText) const;
    // Numeric-looking parts compare as numbers (so 2 < 10), the rest bytewise.
    static int compareKeys(QByteArrayView a, QByteArrayView b);
    // The partition of a Kafka key's events, -2 when it was seen in several.
    qint32 keyPartition(int table, quint32 keyId) const;

    // The table after events [0, end); `near` (an earlier snapshot of the same
    // table) is reused when that is cheaper than the nearest checkpoint.
    LogStateSnapshot snapshot(int table, qint64 end) const;
    LogStateSnapshot snapshot(int table, qint64 end, const LogStateSnapshot &near) const;

    // Sequence numbers of a key's events (ascending) in [from, to).
    QList<qint64> keyEvents(int table, quint32 keyId, qint64 from = 0,
                            qint64 to = std::numeric_limits<qint64>::max()) const;
    // Keys with an event in [from, to), ascending key ids; at most `limit` (-1: all).
    QList<quint32> keysChanged(int table, qint64 from, qint64 to, qint64 limit = -1) const;
    // Number of state-changing events of a table in [from, to).
    qint64 eventsBetween(int table, qint64 from, qint64 to) const;

    // The row of a live key at a snapshot, read from the tape (one event, plus
    // earlier ones for unchanged TOAST values). nullopt + *error when the key
    // is not live or the tape cannot be read. A row depends only on the key's
    // last event, so rows are kept in a cache by sequence number (a few
    // thousand): after a scrubbing step only the keys whose last event moved
    // are read again.
    std::optional<LogStateRow> row(const LogStateSnapshot &snapshot, quint32 keyId, QString *error) const;
    // The rows of keys of one snapshot, reading each tape chunk once (keys in
    // any order; results in the same order), the chunks decoded in parallel
    // (QtConcurrent, on leafPool(): callers may be pool threads). For windows and exports.
    bool rows(const LogStateSnapshot &snapshot, const QList<quint32> &keyIds, QList<LogStateRow> *out,
              QString *error) const;

    // Points for the CLI and the timeline. After event #seq (inclusive):
    qint64 endAfterSeq(qint64 seq) const { return std::clamp<qint64>(seq + 1, 0, m_eventCount); }
    // Through the last event (in tape order) whose timestamp is at or before `ms`.
    qint64 endAtTimeMs(qint64 ms, QString *error) const;
    // Through the last event (in tape order) whose position (offset, LSN) is at or before `position`.
    qint64 endAtPosition(qint64 position, QString *error) const;

    // Memory held by the index and the checkpoints (for logstate.md and benchmarks).
    qint64 memoryBytes() const;
    int checkpointCount(int table) const;

private:
    friend class LogStateSnapshot;
    LogState();
    struct TableData; // logstate_p.h
    struct Builder;   // logstatebuild.cpp
    std::shared_ptr<const Tape> m_tape;
    qint64 m_eventCount = 0;
    QList<LogStateTable> m_tables;
    std::vector<std::unique_ptr<TableData>> m_data;
    struct RowCache;
    std::unique_ptr<RowCache> m_rowCache;
};

} // namespace tapedeck
