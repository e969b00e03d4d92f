#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <limits>

namespace tapedeck {

// The topic and broker settings the log cleaner obeys, as plain values the
// caller may change and recompute with (what-if). Defaults are Kafka 4.x
// defaults; fromJson() reads what the broker reported (describeConfigs), with
// Kafka's own names. The two producer.* values are not broker settings: they
// only steer the batch estimate (compaction.md, "Record sizes").
struct CompactionConfig
{
    bool compact = true;                       // cleanup.policy contains "compact"
    qint64 segmentBytes = 1073741824;          // segment.bytes
    qint64 segmentMs = 604800000;              // segment.ms (7 days)
    qint64 segmentJitterMs = 0;                // segment.jitter.ms (modelled as 0, see compaction.md)
    double minCleanableDirtyRatio = 0.5;       // min.cleanable.dirty.ratio
    qint64 minCompactionLagMs = 0;             // min.compaction.lag.ms
    qint64 maxCompactionLagMs = std::numeric_limits<qint64>::max(); // max.compaction.lag.ms
    qint64 deleteRetentionMs = 86400000;       // delete.retention.ms (1 day)
    qint64 dedupeBufferBytes = 134217728;      // log.cleaner.dedupe.buffer.size
    int cleanerThreads = 1;                    // log.cleaner.threads
    double ioBufferLoadFactor = 0.9;           // log.cleaner.io.buffer.load.factor
    qint64 producerLingerMs = 5;               // producer.linger.ms (batch estimate only)
    qint64 producerBatchBytes = 16384;         // producer.batch.size (batch estimate only)

    // LogConfig.maxSegmentMs(): a compacted log also rolls on max.compaction.lag.ms.
    qint64 rollMs() const;
    // How many distinct keys one cleaning pass can map (SkimpyOffsetMap: 24 bytes a slot).
    qint64 offsetMapCapacity() const;

    // Sets one value by its Kafka name. False with *error for an unknown name or bad value.
    bool set(const QString &name, const QString &value, QString *error);
    // Applies every known name of a describeConfigs-style object (values as strings or
    // numbers); unknown names are ignored, bad values reported in *error (the rest still apply).
    static CompactionConfig fromJson(const QJsonObject &object, QString *error = nullptr);
    QJsonObject toJson() const;
    static QStringList names();
    bool operator==(const CompactionConfig &) const = default;
};

} // namespace tapedeck
