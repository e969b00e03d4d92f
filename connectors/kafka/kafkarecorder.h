#pragma once

#include "kafkaconnection.h"
#include "kafkaposition.h"

#include <tapewriter.h>

#include <QJsonObject>
#include <QMap>

#include <atomic>
#include <functional>
#include <optional>

namespace tapedeck {

struct KafkaRecordOptions
{
    KafkaConnection connection;
    QStringList topics;
    QList<int> partitions;      // empty: every partition of every topic
    KafkaPosition from{KafkaPosition::Beginning};
    KafkaPosition to{KafkaPosition::End}; // End: the end as it is when recording starts (inclusive bounds otherwise)
    bool follow = false;        // keep recording new records until cancelled
    qint64 maxCount = -1;       // stop after this many records in all (-1: no limit)
    bool readCommitted = true;  // isolation.level
    // "Show aborted": read uncommitted, and mark the records of aborted
    // transactions (read a second time, committed, to tell them apart).
    bool markAborted = false;
    int flushIntervalMs = 250;  // a tape being recorded is readable this often
    int timeoutMs = 10000;      // metadata and offset lookups
    bool readConfigs = true;    // DescribeConfigs (the built-in demo cluster does not answer it)
};

// The resolved range of one partition.
struct KafkaPartitionPlan
{
    QString topic;
    int partition = -1;
    qint64 low = -1, high = -1; // watermarks when the plan was made
    qint64 start = -1;          // first offset to read
    qint64 stop = -1;           // first offset not to read (-1: follow)
};

// Records Kafka topics into a tape, non-destructively: partitions are assigned
// (never subscribed), no group.id is set, offsets are never committed.
// Thread: record() blocks; run it in a worker and stop it through `cancel`.
class KafkaRecorder
{
public:
    explicit KafkaRecorder(KafkaRecordOptions options);

    // Resolves topics, partitions and start/stop offsets (watermarks,
    // offsets-for-times) and reads the topics' configs. Call before record().
    bool prepare(QString *error);
    const QList<KafkaPartitionPlan> &plan() const { return m_plan; }
    // What the tape's metadata keeps: connection (no secrets), options, plan, topic configs.
    QJsonObject parameters() const;
    QString cluster() const; // the stream's cluster name: the bootstrap servers
    QStringList warnings() const { return m_warnings; }

    struct Progress
    {
        qint64 events = 0;
        qint64 bytes = 0;
        int partitionsDone = 0;
        int partitions = 0;
    };
    using ProgressFn = std::function<void(const Progress &)>;

    // Writes records to `writer` (flushed every flushIntervalMs and at the
    // end) until every partition reached its stop, maxCount is reached or
    // *cancel becomes true. Returns false + *error on a Kafka or tape error;
    // what was recorded up to then stays in the tape.
    bool record(TapeWriter &writer, const std::atomic<bool> *cancel, const ProgressFn &progress, QString *error);

private:
    struct Pass;
    bool consume(Pass &pass, const std::atomic<bool> *cancel, QString *error);

    KafkaRecordOptions m_options;
    QList<KafkaPartitionPlan> m_plan;
    QMap<QString, QMap<QString, QString>> m_topicConfigs;
    QStringList m_warnings;
};

} // namespace tapedeck
