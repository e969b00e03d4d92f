#include "connectors/kafka/rdkafkaservice.h"

#include "connectors/kafka/democluster.h"
#include "connectors/kafka/kafkaadmin.h"
#include "connectors/kafka/kafkarecorder.h"

namespace tapedeck {

RdKafkaService::RdKafkaService() = default;
RdKafkaService::~RdKafkaService() = default;

std::optional<KafkaClusterInfo> RdKafkaService::describe(const KafkaConnection &connection,
                                                         const KafkaDescribeOptions &options, QString *error)
{
    KafkaAdmin admin(connection);
    return admin.describe(options, error);
}

std::optional<QStringList> RdKafkaService::consumerGroups(const KafkaConnection &connection, QString *error)
{
    KafkaAdmin admin(connection);
    return admin.consumerGroups(error);
}

std::unique_ptr<RecordingSource> RdKafkaService::recorder(const KafkaRecordOptions &options)
{
    return std::make_unique<KafkaRecorder>(options);
}

std::optional<KafkaConnection> RdKafkaService::startDemoCluster(const QString &seedTape, QString *error)
{
    std::lock_guard lock(m_mutex);
    auto demo = std::make_unique<DemoCluster>();
    if (!demo->start(seedTape, error))
        return std::nullopt;
    m_demo = std::move(demo);
    return m_demo->connection();
}

void RdKafkaService::stopDemoCluster()
{
    std::lock_guard lock(m_mutex);
    m_demo.reset();
}

std::optional<KafkaConnection> RdKafkaService::demoCluster() const
{
    std::lock_guard lock(m_mutex);
    if (!m_demo)
        return std::nullopt;
    return m_demo->connection();
}

} // namespace tapedeck
