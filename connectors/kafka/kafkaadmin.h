#pragma once

#include "connectors/kafka/rdkafkaclient.h"

#include "core/kafka/kafkatypes.h"

#include <QMap>
#include <QStringList>

#include <optional>

namespace tapedeck {

// Cluster metadata, watermarks, topic configs, topic creation and consumer
// groups. Every call blocks up to the timeout: call it from a worker thread.
class KafkaAdmin
{
public:
    explicit KafkaAdmin(KafkaConnection connection, int timeoutMs = 10000);
    ~KafkaAdmin();

    bool connect(QString *error);

    using DescribeOptions = KafkaDescribeOptions;
    std::optional<KafkaClusterInfo> describe(const DescribeOptions &options, QString *error);

    bool createTopic(const QString &name, int partitions, int replicationFactor,
                     const QMap<QString, QString> &configs, QString *error);
    bool deleteTopic(const QString &name, QString *error);
    std::optional<QStringList> consumerGroups(QString *error);

private:
    std::optional<QMap<QString, QMap<QString, QString>>> describeConfigs(const QStringList &topics, QString *error);
    // describe()'s optional parts: each partition's low and high watermark
    // (an error there marks the partition), the topics' configs (an error
    // there goes to configsError).
    void readWatermarks(KafkaClusterInfo *info);
    void readConfigs(KafkaClusterInfo *info);

    KafkaConnection m_connection;
    int m_timeoutMs;
    kafka::ClientPtr m_client;
};

} // namespace tapedeck
