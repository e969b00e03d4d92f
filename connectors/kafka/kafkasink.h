#pragma once

#include "connectors/kafka/kafkaproducer.h"

#include "core/kafka/kafkaconnection.h"
#include "core/sink/sink.h"

#include <memory>

namespace tapedeck {

// Replays into a Kafka topic with a transactional producer
// (transactional.id "tapedeck-replay-<replay id>"). Each write() is one
// transaction holding the batch's records and its progress records, written to
// the compacted topic `tapedeck_replay_progress` (key "<replay id>\n<stream>",
// value "<position> <seq>"). open() first initialises the transactions, which
// fences a killed earlier run and aborts its open transaction, then reads the
// progress topic with read_committed to its end. Thread: one thread at a time.
class KafkaSink : public Sink
{
public:
    static constexpr const char *ProgressTopic = "tapedeck_replay_progress";

    KafkaSink(KafkaConnection connection, QString topic);
    ~KafkaSink() override;

    QString describe() const override;
    bool open(const QString &replayId, QString *error) override;
    QList<ReplayPosition> committed() const override { return m_committed; }
    bool write(const QList<SinkOutput> &outputs, const QList<ReplayPosition> &progress, QString *error) override;
    SinkOutput::Kind accepts() const override { return SinkOutput::Kind::Kafka; }

private:
    bool readProgress(QString *error);

    KafkaConnection m_connection;
    QString m_topic;
    QString m_replayId;
    std::unique_ptr<KafkaProducer> m_producer;
    QList<ReplayPosition> m_committed;
};

} // namespace tapedeck
