#pragma once

#include "core/kafka/kafkatypes.h"
#include "core/tape/recordingsource.h"

#include <memory>
#include <optional>

namespace tapedeck {

// What the GUI may ask of Kafka, implemented by connectors/kafka
// (RdKafkaService) and handed to the UI by app/tapedeck. Every call may
// block: call it from a worker thread. Implementations are thread-safe.
class KafkaService
{
public:
    virtual ~KafkaService() = default;

    virtual std::optional<KafkaClusterInfo> describe(const KafkaConnection &connection,
                                                     const KafkaDescribeOptions &options, QString *error) = 0;
    virtual std::optional<QStringList> consumerGroups(const KafkaConnection &connection, QString *error) = 0;
    virtual std::unique_ptr<RecordingSource> recorder(const KafkaRecordOptions &options) = 0;

    // The built-in demo cluster, seeded with the Kafka records of a tape; it
    // runs until stopDemoCluster() or the service is destroyed.
    virtual std::optional<KafkaConnection> startDemoCluster(const QString &seedTape, QString *error) = 0;
    virtual void stopDemoCluster() = 0;
    virtual std::optional<KafkaConnection> demoCluster() const = 0;
};

} // namespace tapedeck
