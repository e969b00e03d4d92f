#pragma once

#include "core/kafka/kafkaconnection.h"
#include "core/kafka/kafkaposition.h"

#include <QMap>
#include <QStringList>

// Kafka data shared by the connector, the CLI and the GUI: plain values, no
// librdkafka (connectors/kafka produces and consumes them).
namespace tapedeck {

struct KafkaPartitionInfo
{
    int id = -1;
    int leader = -1;
    QList<int> replicas;
    QList<int> isrs;
    qint64 low = -1;  // low watermark (first offset), -1 unknown
    qint64 high = -1; // high watermark (next offset), -1 unknown
    QString error;
    bool retriable = false; // the error passes (e.g. no leader yet for a new topic)
};

struct KafkaTopicInfo
{
    QString name;
    QList<KafkaPartitionInfo> partitions;
    QMap<QString, QString> configs; // from DescribeConfigs, when asked for
    QString error;
    int replicationFactor() const { return partitions.isEmpty() ? 0 : int(partitions.constFirst().replicas.size()); }
};

struct KafkaBrokerInfo
{
    int id = -1;
    QString host;
    int port = 0;
};

struct KafkaClusterInfo
{
    QList<KafkaBrokerInfo> brokers;
    int originatingBroker = -1;
    QList<KafkaTopicInfo> topics; // sorted by name
    QString configsError;         // DescribeConfigs failed (e.g. the demo cluster has no such API)
};

// The topic configs that matter for reading and compaction.
QStringList compactionRelevantConfigs();

struct KafkaDescribeOptions
{
    QStringList topics; // empty: all (internal topics left out)
    bool watermarks = true;
    bool configs = true;
};

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

} // namespace tapedeck
