#pragma once

#include "connectors/kafka/rdkafkaclient.h"

#include <QString>

#include <memory>

namespace tapedeck {

// The built-in demo cluster: librdkafka's mock cluster inside this process on
// a loopback port, seeded with the Kafka records of a tape (the bundled demo
// tape: keyed updates, tombstones, a committed and an aborted transaction),
// so every Kafka feature can be tried without a server. kcat can talk to it
// while the process runs: `kcat -b <bootstrap()> -L`.
class DemoCluster
{
public:
    DemoCluster();
    ~DemoCluster();

    // Starts the cluster and produces the tape's Kafka records into it, with
    // their keys, values, headers and timestamps; partitions as recorded.
    bool start(const QString &seedTapePath, QString *error);
    void stop();
    bool isRunning() const;
    QString bootstrap() const; // "127.0.0.1:PORT"
    KafkaConnection connection() const;
    qint64 seededRecords() const { return m_seeded; }

private:
    struct Private;
    std::unique_ptr<Private> d;
    qint64 m_seeded = 0;
};

} // namespace tapedeck
