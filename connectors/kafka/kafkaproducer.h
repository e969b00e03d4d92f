#pragma once

#include "connectors/kafka/rdkafkaclient.h"

#include "core/event/event.h"

#include <QByteArray>

#include <atomic>
#include <optional>

namespace tapedeck {

// An idempotent producer (enable.idempotence=true), optionally transactional.
// Delivery failures are collected and reported by flush(); nothing is dropped
// silently. Thread: one thread uses a producer.
class KafkaProducer
{
public:
    explicit KafkaProducer(KafkaConnection connection);
    ~KafkaProducer();

    // `transactionalId` empty: idempotent only.
    bool open(QString *error, const QString &transactionalId = QString(), int timeoutMs = 15000);

    // partition -1: librdkafka's partitioner (murmur2 on the key, as the Java client).
    // timestampMs 0: now.
    bool produce(const QString &topic, int partition, const std::optional<QByteArray> &key,
                 const std::optional<QByteArray> &value, const QList<Header> &headers = {}, qint64 timestampMs = 0,
                 QString *error = nullptr);
    // Waits until every produced record is acknowledged; false + the first delivery error otherwise.
    bool flush(QString *error, int timeoutMs = 30000);

    bool beginTransaction(QString *error);
    bool commitTransaction(QString *error, int timeoutMs = 30000);
    bool abortTransaction(QString *error, int timeoutMs = 30000);

    qint64 delivered() const { return m_delivered.load(); }

    struct State; // delivery-report state shared with librdkafka's callback

private:
    KafkaConnection m_connection;
    kafka::ClientPtr m_client;
    std::unique_ptr<State> m_state;
    std::atomic<qint64> m_delivered{0};
};

} // namespace tapedeck
