#include "core/compaction/compactionmodel.h"

#include "core/tape/tapeinfo.h"

#include <algorithm>
#include <limits>

// The rules and their sources in Kafka are in compaction.md; comments here
// name the Kafka method each step follows.
namespace tapedeck {

namespace {

using Flag = CompactionLog::Flag;

QString timeText(qint64 ms)
{
    return ms < 0 ? QStringLiteral("-") : formatTimestampUs(ms * 1000);
}

} // namespace

QString toString(CompactionReason reason)
{
    switch (reason) {
    case CompactionReason::Untouched: return QStringLiteral("untouched");
    case CompactionReason::LatestForKey: return QStringLiteral("latest-for-key");
    case CompactionReason::TombstoneRetained: return QStringLiteral("tombstone-retained");
    case CompactionReason::MarkerRetained: return QStringLiteral("marker-retained");
    case CompactionReason::MarkerTransactionHasData: return QStringLiteral("marker-transaction-has-data");
    case CompactionReason::BeyondOffsetMap: return QStringLiteral("beyond-offset-map");
    case CompactionReason::InActiveSegment: return QStringLiteral("active-segment");
    case CompactionReason::CompactionLagNotReached: return QStringLiteral("min-compaction-lag");
    case CompactionReason::AboveLastStableOffset: return QStringLiteral("above-last-stable-offset");
    case CompactionReason::DirtyRatioTooLow: return QStringLiteral("dirty-ratio-too-low");
    case CompactionReason::NotCompacted: return QStringLiteral("not-compacted");
    case CompactionReason::Superseded: return QStringLiteral("superseded");
    case CompactionReason::TombstoneExpired: return QStringLiteral("tombstone-expired");
    case CompactionReason::NullKey: return QStringLiteral("null-key");
    case CompactionReason::AbortedTransaction: return QStringLiteral("aborted");
    case CompactionReason::MarkerExpired: return QStringLiteral("marker-expired");
    case CompactionReason::NotRowChange: return QStringLiteral("not-a-row-change");
    }
    return QString();
}

QString CompactionExplanation::text() const
{
    switch (reason) {
    case CompactionReason::Untouched: return QStringLiteral("kept: not examined yet");
    case CompactionReason::LatestForKey: return QStringLiteral("kept: latest record of its key");
    case CompactionReason::TombstoneRetained: return QStringLiteral("kept: tombstone until its delete horizon %1").arg(timeText(timeMs));
    case CompactionReason::MarkerRetained: return QStringLiteral("kept: transaction marker until its delete horizon %1").arg(timeText(timeMs));
    case CompactionReason::MarkerTransactionHasData: return QStringLiteral("kept: transaction marker, records of its transaction remain");
    case CompactionReason::BeyondOffsetMap: return QStringLiteral("kept: past offset %1, where the cleaner's offset map was full").arg(offset);
    case CompactionReason::InActiveSegment: return QStringLiteral("kept: in the active segment, which is never cleaned");
    case CompactionReason::CompactionLagNotReached: return QStringLiteral("kept: segment newer than min.compaction.lag.ms, cleanable from %1").arg(timeText(timeMs));
    case CompactionReason::AboveLastStableOffset: return QStringLiteral("kept: its segment reaches the last stable offset %1 (an open transaction)").arg(offset);
    case CompactionReason::DirtyRatioTooLow: return QStringLiteral("kept: the cleaner does not choose this log (dirty ratio not above min.cleanable.dirty.ratio)");
    case CompactionReason::NotCompacted: return QStringLiteral("kept: cleanup.policy does not include compact");
    case CompactionReason::Superseded: return QStringLiteral("removed: superseded by offset %1").arg(offset);
    case CompactionReason::TombstoneExpired:
        return timeMs < 0 ? QStringLiteral("removed: tombstone, gone once delete.retention.ms has passed")
                          : QStringLiteral("removed: tombstone past its delete horizon %1").arg(timeText(timeMs));
    case CompactionReason::NullKey: return QStringLiteral("removed: no key");
    case CompactionReason::AbortedTransaction: return QStringLiteral("removed: aborted transaction");
    case CompactionReason::MarkerExpired:
        return timeMs < 0 ? QStringLiteral("removed: transaction marker, gone once its transaction is cleaned and delete.retention.ms has passed")
                          : QStringLiteral("removed: transaction marker past its delete horizon %1").arg(timeText(timeMs));
    case CompactionReason::NotRowChange: return QStringLiteral("removed: not a row change");
    }
    return QString();
}

QString CompactionPassResult::why() const
{
    const QString ratio = QStringLiteral("dirty ratio %1").arg(dirtyRatio, 0, 'f', 3);
    switch (decision) {
    case Decision::NotCompacted: return QStringLiteral("not compacted: cleanup.policy does not include compact");
    case Decision::Empty: return QStringLiteral("not cleaned: nothing below the active segment");
    case Decision::RatioTooLow:
        return dirtyBytes == 0 ? QStringLiteral("not cleaned: no cleanable dirty segment")
                               : QStringLiteral("not cleaned: %1 <= min.cleanable.dirty.ratio %2").arg(ratio).arg(minCleanableDirtyRatio);
    case Decision::Cleaned:
        return forcedByMaxCompactionLag ? QStringLiteral("cleaned: max.compaction.lag.ms passed (%1)").arg(ratio)
                                        : QStringLiteral("cleaned: %1 > min.cleanable.dirty.ratio %2").arg(ratio).arg(minCleanableDirtyRatio);
    case Decision::Converged: return QStringLiteral("fully compacted");
    }
    return QString();
}

CompactionSimulation::CompactionSimulation(std::shared_ptr<const CompactionLog> log, const CompactionConfig &config)
    : m_log(std::move(log)), m_config(config)
{
    const int n = m_log->count();
    m_reason.resize(n);
    for (int i = 0; i < n; ++i)
        m_reason[i] = quint8((m_log->flags[i] & Flag::NotRowChange) ? CompactionReason::NotRowChange : CompactionReason::Untouched);
    estimateSegments();
}

void CompactionSimulation::recomputeSegment(CompactionSegment &s) const
{
    const CompactionLog &l = *m_log;
    s.bytes = 0;
    s.firstBatchTimestampMs = -1;
    s.largestTimestampMs = -1;
    bool batchOpen = false, firstBatch = true, batchHasRecord = false;
    for (int i = s.begin; i < s.end; ++i) {
        if (i == s.begin || (l.flags[i] & Flag::BatchStart)) {
            if (batchHasRecord)
                firstBatch = false;
            batchOpen = true;
            batchHasRecord = false;
        }
        if (!isKept(i))
            continue;
        if (batchOpen && !batchHasRecord)
            s.bytes += KafkaBatchOverhead;
        batchHasRecord = true;
        s.bytes += l.bytes[i];
        const qint64 ts = l.timestampsMs[i];
        s.largestTimestampMs = std::max(s.largestTimestampMs, ts);
        if (firstBatch)
            s.firstBatchTimestampMs = std::max(s.firstBatchTimestampMs, ts);
    }
}

// Segments: as given, or as UnifiedLog.maybeRoll / LogSegment.shouldRoll would
// have cut them when the records were appended, one batch at a time.
void CompactionSimulation::estimateSegments()
{
    const CompactionLog &l = *m_log;
    const int n = l.count();
    m_segments.clear();
    if (n == 0)
        return;
    if (!l.segmentBaseOffsets.isEmpty()) {
        const QVector<qint64> &bases = l.segmentBaseOffsets;
        int i = 0;
        for (int s = 0; s < bases.size(); ++s) {
            const qint64 next = s + 1 < bases.size() ? bases[s + 1] : std::numeric_limits<qint64>::max();
            CompactionSegment seg{bases[s], i, i};
            if (s == 0) {
                while (i < n && l.offsets[i] < bases[0])
                    ++i; // records before the first known segment: treat as part of it
                seg.begin = 0;
            }
            while (i < n && l.offsets[i] < next)
                ++i;
            seg.end = i;
            recomputeSegment(seg);
            m_segments.append(seg);
        }
        return;
    }
    const qint64 rollMs = m_config.rollMs() - m_config.segmentJitterMs;
    CompactionSegment seg{l.offsets[0], 0, 0};
    qint64 segBytes = 0, segRollTs = -1;
    int i = 0;
    while (i < n) {
        int j = i + 1;
        while (j < n && !(l.flags[j] & Flag::BatchStart))
            ++j;
        qint64 batchBytes = KafkaBatchOverhead, batchMaxTs = -1;
        for (int k = i; k < j; ++k) {
            batchBytes += l.bytes[k];
            batchMaxTs = std::max(batchMaxTs, l.timestampsMs[k]);
        }
        const bool timeRoll = segRollTs >= 0 && batchMaxTs >= 0 && batchMaxTs - segRollTs > rollMs;
        if (segBytes > 0 && (segBytes + batchBytes > m_config.segmentBytes || timeRoll)) {
            seg.end = i;
            m_segments.append(seg);
            seg = CompactionSegment{l.offsets[i], i, i};
            segBytes = 0;
            segRollTs = -1;
        }
        if (segBytes == 0)
            segRollTs = batchMaxTs;
        segBytes += batchBytes;
        i = j;
    }
    seg.end = n;
    m_segments.append(seg);
    for (CompactionSegment &s : m_segments)
        recomputeSegment(s);
}

int CompactionSimulation::segmentOf(qint64 offset) const
{
    auto it = std::upper_bound(m_segments.cbegin(), m_segments.cend(), offset,
                               [](qint64 o, const CompactionSegment &s) { return o < s.baseOffset; });
    return int(it - m_segments.cbegin()) - 1;
}

// LogCleanerManager.cleanableOffsets, calculateCleanableBytes, maxCompactionDelay; LogToClean.
CompactionSimulation::Measure CompactionSimulation::measure(qint64 now) const
{
    Measure m;
    const int count = int(m_segments.size());
    const CompactionSegment &active = m_segments.constLast();
    const qint64 logStart = m_segments.constFirst().baseOffset;
    const qint64 logEnd = m_log->logEndOffset();
    m.firstDirty = (m_firstDirty < logStart || m_firstDirty > logEnd) ? logStart : m_firstDirty;
    m.lso = m_log->lastStableOffset < 0 ? logEnd : m_log->lastStableOffset;
    qint64 fu = std::min(m.lso, active.baseOffset);
    const int dirtyFrom = std::max(0, segmentOf(m.firstDirty));
    const qint64 lag = std::max<qint64>(0, m_config.minCompactionLagMs);
    if (lag > 0) {
        for (int s = dirtyFrom; s < count - 1; ++s) {
            if (m_segments[s].largestTimestampMs > now - lag) {
                if (m_segments[s].baseOffset < fu)
                    m.lagSegment = s;
                fu = std::min(fu, m_segments[s].baseOffset);
                break;
            }
        }
    }
    fu = std::max(m.firstDirty, fu);
    int fuSeg = segmentOf(fu);
    if (fuSeg < 0)
        fuSeg = 0;
    if (fuSeg > count - 1)
        fuSeg = count - 1;
    m.firstUncleanableSegment = fuSeg;
    m.firstUncleanable = m_segments[fuSeg].baseOffset;
    if (m.lso < logEnd)
        m.lsoSegment = std::max(0, segmentOf(m.lso));
    const qint64 from = std::min(m.firstDirty, m.firstUncleanable);
    qint64 earliest = std::numeric_limits<qint64>::max();
    for (int s = 0; s < count; ++s) {
        const CompactionSegment &seg = m_segments[s];
        const qint64 end = s + 1 < count ? m_segments[s + 1].baseOffset : logEnd;
        if (seg.baseOffset < m.firstDirty)
            m.cleanBytes += seg.bytes;
        if (seg.baseOffset < m.firstUncleanable && end > from)
            m.dirtyBytes += seg.bytes;
        if (s >= dirtyFrom && s < count - 1 && seg.firstBatchTimestampMs > 0)
            earliest = std::min(earliest, seg.firstBatchTimestampMs);
    }
    const qint64 maxLag = std::max<qint64>(0, m_config.maxCompactionLagMs);
    // now - max.compaction.lag.ms, saturating (the default lag is Long.MAX_VALUE)
    const qint64 cleanUntil = now < std::numeric_limits<qint64>::min() + maxLag ? std::numeric_limits<qint64>::min() : now - maxLag;
    m.forced = earliest < cleanUntil;
    return m;
}

void CompactionSimulation::markUncleaned(const Measure &m, int fromSegment, qint64 fromOffset, CompactionReason notChosen)
{
    const CompactionLog &l = *m_log;
    const int count = int(m_segments.size());
    const qint64 lag = m_config.minCompactionLagMs;
    for (int s = std::max(0, fromSegment); s < count; ++s) {
        const CompactionSegment &seg = m_segments[s];
        CompactionReason r = notChosen;
        if (s == count - 1)
            r = CompactionReason::InActiveSegment;
        else if (m.lsoSegment >= 0 && s >= m.lsoSegment)
            r = CompactionReason::AboveLastStableOffset;
        else if (m.lagSegment >= 0 && s >= m.lagSegment)
            r = CompactionReason::CompactionLagNotReached;
        for (int i = seg.begin; i < seg.end; ++i) {
            if (l.offsets[i] < fromOffset || !isKept(i))
                continue;
            // Records the cleaner already kept keep their reason when it passes them by.
            const auto old = CompactionReason(m_reason[i]);
            if (r == notChosen && old != CompactionReason::Untouched && old != CompactionReason::DirtyRatioTooLow
                && old != CompactionReason::InActiveSegment && old != CompactionReason::CompactionLagNotReached
                && old != CompactionReason::AboveLastStableOffset && old != CompactionReason::BeyondOffsetMap)
                continue;
            m_reason[i] = quint8(r);
        }
    }
    m_lagBlockedUntilMs = m.lagSegment >= 0 ? m_segments[m.lagSegment].largestTimestampMs + lag : -1;
}

qint64 CompactionSimulation::tombstoneHorizon(qint64 offset) const
{
    for (const Stamp &s : m_stamps) {
        if (offset < s.coverEnd)
            return s.horizonMs;
    }
    return -1;
}

// Cleaner.groupSegmentsBySize: consecutive cleaned segments are merged while
// their sizes before cleaning add up to at most segment.bytes.
void CompactionSimulation::regroup(int count, qint64 firstUncleanable)
{
    QVector<CompactionSegment> grouped;
    int s = 0;
    while (s < count) {
        CompactionSegment g = m_segments[s];
        qint64 size = m_segments[s].bytes;
        int t = s + 1;
        while (t < count && size + m_segments[t].bytes <= m_config.segmentBytes) {
            const qint64 last = t + 1 < count ? m_segments[t + 1].baseOffset - 1 : firstUncleanable - 1;
            if (m_segments[t].bytes != 0 && last - g.baseOffset > std::numeric_limits<qint32>::max())
                break;
            size += m_segments[t].bytes;
            g.end = m_segments[t].end;
            ++t;
        }
        grouped.append(g);
        s = t;
    }
    for (CompactionSegment &g : grouped)
        recomputeSegment(g);
    m_segments = grouped + m_segments.mid(count);
}

// Cleaner.buildOffsetMap: latest offset per key over the dirty segments,
// skipping aborted data and markers, until the offset map is full (*fullOut).
// Returns the last offset the map covers.
qint64 CompactionSimulation::buildOffsetMap(const Measure &m, bool *fullOut)
{
    const CompactionLog &l = *m_log;
    const qint64 capacity = m_config.offsetMapCapacity();
    m_keyLatest.fill(-1, l.keyCount);
    qint64 mapSize = 0, latestOffset = -1;
    bool full = false;
    const int dirtyFrom = std::max(0, segmentOf(m.firstDirty));
    for (int s = dirtyFrom; s < m.firstUncleanableSegment && !full; ++s) {
        const CompactionSegment &seg = m_segments[s];
        int i = seg.begin;
        while (i < seg.end && !full) {
            int j = i + 1;
            while (j < seg.end && !(l.flags[j] & Flag::BatchStart))
                ++j;
            qint64 batchLast = -1;
            for (int k = i; k < j; ++k) {
                if (!isKept(k))
                    continue;
                batchLast = l.offsets[k];
                const quint8 f = l.flags[k];
                if ((f & (Flag::Control | Flag::Aborted)) || !(f & Flag::HasKey) || l.offsets[k] < m.firstDirty)
                    continue;
                if (mapSize >= capacity) {
                    full = true;
                    break;
                }
                qint64 &slot = m_keyLatest[l.keyIds[k]];
                if (slot < 0)
                    ++mapSize;
                slot = l.offsets[k];
            }
            if (!full && batchLast >= m.firstDirty)
                latestOffset = std::max(latestOffset, batchLast);
            i = j;
        }
        if (!full) {
            const qint64 next = s + 1 < m.firstUncleanableSegment ? m_segments[s + 1].baseOffset : m.firstUncleanable;
            latestOffset = std::max(latestOffset, next - 1);
        }
    }
    *fullOut = full;
    return latestOffset;
}

// The verdict on every kept record of the segments a pass cleans (the
// first cleanedEnd records): what Kafka's cleaner would keep or remove.
void CompactionSimulation::cleanInto(int cleanedEnd, qint64 latestOffset, qint64 now, qint64 horizonNew)
{
    const CompactionLog &l = *m_log;
    // CleanedTransactionMetadata: a marker may go only when no record of its
    // transaction is left in the segments this pass reads.
    QVector<int> txnData(l.txnMarkers.size(), 0);
    for (const auto &[index, txn] : l.txnRecords) {
        if (index < cleanedEnd && isKept(index) && !(l.flags[index] & Flag::Control))
            ++txnData[txn];
    }
    int txnCursor = 0;

    // Cleaner.cleanInto / shouldRetainRecord over every cleaned segment, clean part included.
    for (int i = 0; i < cleanedEnd; ++i) {
        if (!isKept(i))
            continue;
        const quint8 f = l.flags[i];
        const qint64 offset = l.offsets[i];
        CompactionReason verdict;
        if (f & Flag::Control) {
            while (txnCursor < l.txnRecords.size() && l.txnRecords[txnCursor].first < i)
                ++txnCursor;
            const int txn = l.txnRecords.value(txnCursor).second;
            if (txnData.value(txn) > 0) {
                verdict = CompactionReason::MarkerTransactionHasData;
            } else if (auto h = m_markerHorizon.constFind(i); h != m_markerHorizon.constEnd()) {
                verdict = now >= *h ? CompactionReason::MarkerExpired : CompactionReason::MarkerRetained;
            } else {
                m_markerHorizon.insert(i, horizonNew);
                verdict = CompactionReason::MarkerRetained;
            }
        } else if (f & Flag::Aborted) {
            verdict = CompactionReason::AbortedTransaction;
        } else if (offset > latestOffset) {
            verdict = CompactionReason::BeyondOffsetMap;
        } else if (!(f & Flag::HasKey)) {
            verdict = CompactionReason::NullKey;
        } else if (m_keyLatest[l.keyIds[i]] > offset) {
            verdict = CompactionReason::Superseded;
        } else if (f & Flag::HasValue) {
            verdict = CompactionReason::LatestForKey;
        } else {
            const qint64 h = tombstoneHorizon(offset);
            verdict = h >= 0 && now >= h ? CompactionReason::TombstoneExpired : CompactionReason::TombstoneRetained;
        }
        m_reason[i] = quint8(verdict);
    }
}

CompactionPassResult CompactionSimulation::pass(qint64 now)
{
    const CompactionLog &l = *m_log;
    CompactionPassResult r;
    r.nowMs = now;
    r.minCleanableDirtyRatio = m_config.minCleanableDirtyRatio;
    r.recordsBefore = keptRecords();
    r.bytesBefore = totalBytes();
    r.segmentsBefore = int(m_segments.size());
    auto finish = [&]() {
        r.recordsAfter = keptRecords();
        r.bytesAfter = totalBytes();
        r.segmentsAfter = int(m_segments.size());
        if (!m_segments.isEmpty())
            r.dirtyRatioAfter = measure(now).ratio();
        return r;
    };
    if (m_segments.isEmpty())
        return finish();
    if (!m_config.compact) {
        r.decision = CompactionPassResult::Decision::NotCompacted;
        for (int i = 0; i < l.count(); ++i) {
            if (isKept(i))
                m_reason[i] = quint8(CompactionReason::NotCompacted);
        }
        return finish();
    }
    const Measure m = measure(now);
    r.firstDirtyOffset = m.firstDirty;
    r.firstUncleanableOffset = m.firstUncleanable;
    r.cleanedUpToOffset = m.firstDirty;
    r.cleanBytes = m.cleanBytes;
    r.dirtyBytes = m.dirtyBytes;
    r.dirtyRatio = m.ratio();
    r.forcedByMaxCompactionLag = m.forced && m.dirtyBytes > 0;
    m_lso = m.lso;
    const bool chosen = m.cleanBytes + m.dirtyBytes > 0
        && ((m.forced && m.dirtyBytes > 0) || m.ratio() > m_config.minCleanableDirtyRatio);
    if (!chosen) {
        r.decision = m.cleanBytes + m.dirtyBytes > 0 ? CompactionPassResult::Decision::RatioTooLow : CompactionPassResult::Decision::Empty;
        r.forcedByMaxCompactionLag = false;
        markUncleaned(m, segmentOf(m.firstDirty), m.firstDirty, CompactionReason::DirtyRatioTooLow);
        return finish();
    }
    r.decision = CompactionPassResult::Decision::Cleaned;

    bool full = false;
    const qint64 latestOffset = buildOffsetMap(m, &full);
    r.offsetMapFull = full;
    m_mapLatestOffset = latestOffset;
    const qint64 endOffset = latestOffset + 1;
    int cleanedCount = 0;
    while (cleanedCount < m_segments.size() && m_segments[cleanedCount].baseOffset < endOffset)
        ++cleanedCount;
    r.segmentsCleaned = cleanedCount;
    const int cleanedEnd = cleanedCount > 0 ? m_segments[cleanedCount - 1].end : 0;
    const qint64 coverEnd = cleanedCount < m_segments.size() ? m_segments[cleanedCount].baseOffset : l.logEndOffset();

    const qint64 horizonNew = now > std::numeric_limits<qint64>::max() - m_config.deleteRetentionMs
        ? std::numeric_limits<qint64>::max() : now + m_config.deleteRetentionMs;
    cleanInto(cleanedEnd, latestOffset, now, horizonNew);
    if (cleanedCount > 0 && (m_stamps.isEmpty() || m_stamps.constLast().coverEnd < coverEnd))
        m_stamps.append({coverEnd, horizonNew});
    markUncleaned(m, cleanedCount, endOffset, CompactionReason::BeyondOffsetMap);
    regroup(cleanedCount, m.firstUncleanable);
    m_firstDirty = endOffset;
    r.cleanedUpToOffset = endOffset;
    return finish();
}

CompactionPassResult CompactionSimulation::converge()
{
    const CompactionLog &l = *m_log;
    CompactionPassResult r;
    r.decision = CompactionPassResult::Decision::Converged;
    r.minCleanableDirtyRatio = m_config.minCleanableDirtyRatio;
    r.recordsBefore = keptRecords();
    r.bytesBefore = totalBytes();
    r.segmentsBefore = int(m_segments.size());
    m_keyLatest.fill(-1, l.keyCount);
    for (int i = 0; i < l.count(); ++i) {
        const quint8 f = l.flags[i];
        if (!(f & (Flag::Control | Flag::Aborted | Flag::NotRowChange)) && (f & Flag::HasKey))
            m_keyLatest[l.keyIds[i]] = std::max(m_keyLatest[l.keyIds[i]], l.offsets[i]);
    }
    for (int i = 0; i < l.count(); ++i) {
        const quint8 f = l.flags[i];
        if (!isKept(i))
            continue;
        CompactionReason verdict;
        if (f & Flag::Control)
            verdict = CompactionReason::MarkerExpired;
        else if (f & Flag::Aborted)
            verdict = CompactionReason::AbortedTransaction;
        else if (!(f & Flag::HasKey))
            verdict = CompactionReason::NullKey;
        else if (m_keyLatest[l.keyIds[i]] > l.offsets[i])
            verdict = CompactionReason::Superseded;
        else if (f & Flag::HasValue)
            verdict = CompactionReason::LatestForKey;
        else
            verdict = CompactionReason::TombstoneExpired;
        m_reason[i] = quint8(verdict);
    }
    m_converged = true;
    m_stamps.clear();
    m_markerHorizon.clear();
    const int count = int(m_segments.size());
    if (count > 0) {
        // Repeated passes merge segments by their cleaned sizes.
        for (CompactionSegment &s : m_segments)
            recomputeSegment(s);
        regroup(count, l.logEndOffset());
        m_firstDirty = l.logEndOffset();
    }
    r.segmentsCleaned = count;
    r.cleanedUpToOffset = l.logEndOffset();
    r.recordsAfter = keptRecords();
    r.bytesAfter = totalBytes();
    r.segmentsAfter = int(m_segments.size());
    return r;
}

CompactionExplanation CompactionSimulation::explain(int i) const
{
    CompactionExplanation e;
    e.reason = CompactionReason(m_reason[i]);
    const CompactionLog &l = *m_log;
    switch (e.reason) {
    case CompactionReason::Superseded:
        e.offset = m_keyLatest.value(l.keyIds[i], -1);
        break;
    case CompactionReason::TombstoneRetained:
    case CompactionReason::TombstoneExpired:
        e.timeMs = m_converged ? -1 : tombstoneHorizon(l.offsets[i]);
        break;
    case CompactionReason::MarkerRetained:
    case CompactionReason::MarkerExpired:
        e.timeMs = m_markerHorizon.value(i, -1);
        break;
    case CompactionReason::BeyondOffsetMap:
        e.offset = m_mapLatestOffset;
        break;
    case CompactionReason::AboveLastStableOffset:
        e.offset = m_lso;
        break;
    case CompactionReason::CompactionLagNotReached: {
        const int s = segmentOf(l.offsets[i]);
        const qint64 own = s >= 0 ? m_segments[s].largestTimestampMs + m_config.minCompactionLagMs : -1;
        e.timeMs = std::max(own, m_lagBlockedUntilMs);
        break;
    }
    default:
        break;
    }
    return e;
}

qint64 CompactionSimulation::keptRecords() const
{
    qint64 n = 0;
    for (quint8 r : m_reason)
        n += tapedeck::isKept(CompactionReason(r)) ? 1 : 0;
    return n;
}

qint64 CompactionSimulation::totalBytes() const
{
    qint64 n = 0;
    for (const CompactionSegment &s : m_segments)
        n += s.bytes;
    return n;
}

} // namespace tapedeck
