#pragma once

#include "core/kafka/kafkaservice.h"

#include <memory>
#include <mutex>

namespace tapedeck {

class DemoCluster;

// KafkaService on librdkafka.
class RdKafkaService : public KafkaService
{
public:
    RdKafkaService();
    ~RdKafkaService() override;

    std::optional<KafkaClusterInfo> describe(const KafkaConnection &connection, const KafkaDescribeOptions &options,
                                             QString *error) override;
    std::optional<QStringList> consumerGroups(const KafkaConnection &connection, QString *error) override;
    std::unique_ptr<RecordingSource> recorder(const KafkaRecordOptions &options) override;
    std::optional<KafkaConnection> startDemoCluster(const QString &seedTape, QString *error) override;
    void stopDemoCluster() override;
    std::optional<KafkaConnection> demoCluster() const override;

private:
    mutable std::mutex m_mutex;
    std::unique_ptr<DemoCluster> m_demo;
};

} // namespace tapedeck
