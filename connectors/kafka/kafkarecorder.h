#pragma once

#include "connectors/kafka/rdkafkaclient.h"
#include "core/kafka/kafkatypes.h"
#include "core/tape/recordingsource.h"

#include "core/tape/tapewriter.h"

#include <QHash>
#include <QJsonObject>
#include <QMap>
#include <QSet>

#include <atomic>
#include <functional>
#include <optional>

namespace tapedeck {

// Records Kafka topics into a tape, non-destructively: partitions are assigned
// (never subscribed), no group.id is set, offsets are never committed.
// Thread: record() blocks; run it in a worker and stop it through `cancel`.
class KafkaRecorder : public RecordingSource
{
public:
    explicit KafkaRecorder(KafkaRecordOptions options);

    // Resolves topics, partitions and start/stop offsets (watermarks,
    // offsets-for-times) and reads the topics' configs. Call before record().
    bool prepare(QString *error) override;
    TapeMetadata metadata() const override;
    const QList<KafkaPartitionPlan> &plan() const { return m_plan; }
    // What the tape's metadata keeps: connection (no secrets), options, plan, topic configs.
    QJsonObject parameters() const;
    QString cluster() const; // the stream's cluster name: the bootstrap servers
    QStringList warnings() const override { return m_warnings; }

    // Writes records to `writer` (flushed every flushIntervalMs and at the
    // end) until every partition reached its stop, maxCount is reached or
    // *cancel becomes true. Returns false + *error on a Kafka or tape error;
    // what was recorded up to then stays in the tape.
    bool record(TapeWriter &writer, const std::atomic<bool> *cancel, const ProgressFn &progress, QString *error) override;

private:
    // prepare(), in stages: the topics (asked again while a leader is
    // missing), the plan of their partitions, and where each range starts and stops.
    std::optional<KafkaClusterInfo> describeTopics(QString *error) const;
    bool planPartitions(const KafkaClusterInfo &info, QString *error);
    bool offsetsForTime(qint64 ms, QHash<QString, qint64> *out, QString *error) const;
    void placeRanges(const QHash<QString, qint64> &fromTs, const QHash<QString, qint64> &toTs);

    struct Pass;
    struct Reading; // one pass's partitions while it reads (kafkarecorder.cpp)
    bool consume(Pass &pass, const std::atomic<bool> *cancel, QString *error);
    // markAborted: the offsets a read_committed pass returns, per plan entry, and where it ended.
    bool committedOffsets(const std::atomic<bool> *cancel, QList<QSet<qint64>> *committed, QList<qint64> *committedEnd, QString *error);

    KafkaRecordOptions m_options;
    QList<KafkaPartitionPlan> m_plan;
    QMap<QString, QMap<QString, QString>> m_topicConfigs;
    QStringList m_warnings;
};

} // namespace tapedeck
