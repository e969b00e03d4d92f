#pragma once

#include "core/compaction/compactionconfig.h"
#include "core/compaction/compactionlog.h"

#include <QHash>
#include <QVector>

#include <memory>

namespace tapedeck {

// Why a record stays or goes, as the log cleaner would decide (compaction.md).
enum class CompactionReason : quint8 {
    Untouched = 0,            // kept: no pass has looked at it
    // Kept.
    LatestForKey,             // the latest record of its key
    TombstoneRetained,        // a tombstone kept until its delete horizon (timeMs)
    MarkerRetained,           // a transaction marker kept until its delete horizon (timeMs)
    MarkerTransactionHasData, // a marker kept while records of its transaction remain
    BeyondOffsetMap,          // past the last offset the cleaner's offset map reached (offset)
    InActiveSegment,          // the active segment is never cleaned
    CompactionLagNotReached,  // its segment is newer than min.compaction.lag.ms (timeMs: cleanable from)
    AboveLastStableOffset,    // at or after the last stable offset (offset)
    DirtyRatioTooLow,         // the cleaner does not choose this log (ratio not above the minimum)
    NotCompacted,             // cleanup.policy without "compact"
    // Removed.
    Superseded,               // a later record has the same key (offset)
    TombstoneExpired,         // a tombstone past its delete horizon (timeMs, -1 in the converged view)
    NullKey,                  // records without a key cannot be compacted and are dropped
    AbortedTransaction,       // data of an aborted transaction
    MarkerExpired,            // a transaction marker past its delete horizon (timeMs)
    NotRowChange,             // Postgres BEGIN/COMMIT/TRUNCATE/MESSAGE: not part of a table's keyed view
};
inline bool isKept(CompactionReason r) { return r < CompactionReason::Superseded; }
QString toString(CompactionReason reason); // "superseded", "tombstone-retained", ...

struct CompactionExplanation
{
    CompactionReason reason = CompactionReason::Untouched;
    qint64 offset = -1; // the offset the reason refers to, -1: none
    qint64 timeMs = -1; // the time the reason refers to, -1: none
    bool kept() const { return isKept(reason); }
    QString text() const; // "superseded by offset 12", "tombstone kept until 2026-01-02T03:04:05.000Z"
    bool operator==(const CompactionExplanation &) const = default;
};

// A log segment: a range of records with the broker's per-segment figures.
struct CompactionSegment
{
    qint64 baseOffset = 0;
    int begin = 0; // record indexes [begin, end)
    int end = 0;
    qint64 bytes = 0;                  // on-disk size of the records still in it (estimate)
    qint64 firstBatchTimestampMs = -1; // max timestamp of its first batch (what segment.ms rolls on)
    qint64 largestTimestampMs = -1;
};

// What one cleaner pass (or the converged view) did to one partition.
struct CompactionPassResult
{
    enum class Decision : quint8 { Cleaned, NotCompacted, Empty, RatioTooLow, Converged };
    Decision decision = Decision::Empty;
    bool forcedByMaxCompactionLag = false;
    bool offsetMapFull = false;
    qint64 nowMs = -1;
    qint64 firstDirtyOffset = 0;       // cleaner checkpoint at the start of the pass
    qint64 firstUncleanableOffset = 0;
    qint64 cleanedUpToOffset = 0;      // the checkpoint afterwards (exclusive)
    qint64 cleanBytes = 0, dirtyBytes = 0;
    double dirtyRatio = 0;             // before the pass: dirty / (clean + dirty)
    double dirtyRatioAfter = 0;        // at the same time, after the pass
    qint64 recordsBefore = 0, recordsAfter = 0;
    qint64 bytesBefore = 0, bytesAfter = 0;
    int segmentsBefore = 0, segmentsCleaned = 0, segmentsAfter = 0;
    QString why() const; // one line: "dirty ratio 0.62 > 0.5", "active segment only", ...
    double minCleanableDirtyRatio = 0.5;
};

// The cleaner's view of one partition over time: a value type (copies share
// the log and copy state lazily), so a caller keeps the original and runs
// what-ifs on copies. Not thread-safe; each thread works on its own copy.
class CompactionSimulation
{
public:
    CompactionSimulation() = default;
    CompactionSimulation(std::shared_ptr<const CompactionLog> log, const CompactionConfig &config);

    const CompactionLog &log() const { return *m_log; }
    const CompactionConfig &config() const { return m_config; }
    const QVector<CompactionSegment> &segments() const { return m_segments; }
    bool segmentsEstimated() const { return m_log->segmentBaseOffsets.isEmpty(); }
    // Cleaner checkpoint: where the dirty part starts (-1: the log start, nothing cleaned yet).
    qint64 firstDirtyOffset() const { return m_firstDirty; }
    void setFirstDirtyOffset(qint64 offset) { m_firstDirty = offset; }

    // One pass of the cleaner at `nowMs`, if it would choose this log then.
    CompactionPassResult pass(qint64 nowMs);
    // What the log converges to: every record cleanable, every horizon passed.
    CompactionPassResult converge();

    bool isKept(int record) const { return tapedeck::isKept(CompactionReason(m_reason[record])); }
    CompactionExplanation explain(int record) const;
    qint64 keptRecords() const;
    qint64 totalBytes() const;

private:
    struct Measure
    {
        qint64 firstDirty = 0, firstUncleanable = 0, lso = 0;
        int firstUncleanableSegment = 0, lagSegment = -1, lsoSegment = -1;
        qint64 cleanBytes = 0, dirtyBytes = 0;
        bool forced = false;
        double ratio() const { return cleanBytes + dirtyBytes > 0 ? double(dirtyBytes) / double(cleanBytes + dirtyBytes) : 0; }
    };
    Measure measure(qint64 nowMs) const;
    void estimateSegments();
    void recomputeSegment(CompactionSegment &s) const;
    int segmentOf(qint64 offset) const; // floor: the segment holding `offset`, -1 before the first
    qint64 tombstoneHorizon(qint64 offset) const;
    void markUncleaned(const Measure &m, int fromSegment, qint64 fromOffset, CompactionReason notChosen);
    void regroup(int count, qint64 firstUncleanable);
    // pass(), in stages: the offset map over the dirty segments, then the verdicts.
    qint64 buildOffsetMap(const Measure &m, bool *fullOut);
    void cleanInto(int cleanedEnd, qint64 latestOffset, qint64 now, qint64 horizonNew);

    struct Stamp
    {
        qint64 coverEnd; // offsets below were first cleaned by this pass
        qint64 horizonMs;
    };
    std::shared_ptr<const CompactionLog> m_log;
    CompactionConfig m_config;
    QVector<CompactionSegment> m_segments;
    QVector<quint8> m_reason;    // CompactionReason per record
    QVector<qint64> m_keyLatest; // per key: latest offset in the last offset map (or of the whole log)
    QVector<Stamp> m_stamps;
    QHash<int, qint64> m_markerHorizon;
    qint64 m_firstDirty = -1;
    qint64 m_mapLatestOffset = -1;
    qint64 m_lso = -1;
    qint64 m_lagBlockedUntilMs = -1;
    bool m_converged = false;
};

} // namespace tapedeck
