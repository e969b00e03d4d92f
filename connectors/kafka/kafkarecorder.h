#pragma once

#include "connectors/kafka/rdkafkaclient.h"
#include "core/kafka/kafkatypes.h"
#include "core/tape/recordingsource.h"

#include "core/tape/tapewriter.h"

#include <QJsonObject>
#include <QMap>

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
    struct Pass;
    bool consume(Pass &pass, const std::atomic<bool> *cancel, QString *error);

    KafkaRecordOptions m_options;
    QList<KafkaPartitionPlan> m_plan;
    QMap<QString, QMap<QString, QString>> m_topicConfigs;
    QStringList m_warnings;
};

} // namespace tapedeck
