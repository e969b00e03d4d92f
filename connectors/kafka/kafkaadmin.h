#pragma once

#include "kafkaconnection.h"

#include <QMap>
#include <QStringList>

#include <optional>

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

// The topic configs that matter for reading and compaction (issue: cluster browser).
QStringList compactionRelevantConfigs();

// Cluster metadata, watermarks, topic configs, topic creation and consumer
// groups. Every call blocks up to the timeout: call it from a worker thread.
class KafkaAdmin
{
public:
    explicit KafkaAdmin(KafkaConnection connection, int timeoutMs = 10000);
    ~KafkaAdmin();

    bool connect(QString *error);

    struct DescribeOptions
    {
        QStringList topics; // empty: all (internal topics left out)
        bool watermarks = true;
        bool configs = true;
    };
    std::optional<KafkaClusterInfo> describe(const DescribeOptions &options, QString *error);

    bool createTopic(const QString &name, int partitions, int replicationFactor,
                     const QMap<QString, QString> &configs, QString *error);
    bool deleteTopic(const QString &name, QString *error);
    std::optional<QStringList> consumerGroups(QString *error);

private:
    std::optional<QMap<QString, QMap<QString, QString>>> describeConfigs(const QStringList &topics, QString *error);

    KafkaConnection m_connection;
    int m_timeoutMs;
    kafka::ClientPtr m_client;
};

} // namespace tapedeck
