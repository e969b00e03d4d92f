#include "connectors/kafka/democluster.h"

#include "connectors/kafka/kafkaproducer.h"

#include "core/tape/tape.h"

#include <QMap>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace tapedeck {

struct DemoCluster::Private
{
    kafka::ClientPtr owner; // the handle the mock cluster lives in
    rd_kafka_mock_cluster_t *cluster = nullptr;
    QString bootstrap;
};

DemoCluster::DemoCluster() : d(std::make_unique<Private>()) {}

DemoCluster::~DemoCluster()
{
    stop();
}

bool DemoCluster::isRunning() const
{
    return d->cluster != nullptr;
}

QString DemoCluster::bootstrap() const
{
    return d->bootstrap;
}

KafkaConnection DemoCluster::connection() const
{
    return KafkaConnection{d->bootstrap, {}};
}

void DemoCluster::stop()
{
    if (d->cluster)
        rd_kafka_mock_cluster_destroy(d->cluster);
    d->cluster = nullptr;
    d->owner.reset();
    d->bootstrap.clear();
}

bool DemoCluster::start(const QString &seedTapePath, QString *error)
{
    stop();
    const auto tape = Tape::open(seedTapePath, error);
    if (!tape)
        return false;
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    kafka::routeLogs(conf);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        *error = QStringLiteral("cannot start the demo cluster: %1").arg(QString::fromUtf8(errstr));
        return false;
    }
    d->owner.reset(rk);
    d->cluster = rd_kafka_mock_cluster_new(rk, 1);
    if (!d->cluster) {
        *error = QStringLiteral("cannot start the demo cluster (librdkafka mock cluster)");
        d->owner.reset();
        return false;
    }
    d->bootstrap = QString::fromUtf8(rd_kafka_mock_cluster_bootstraps(d->cluster));

    QMap<QString, int> partitions;
    for (const StreamStats &s : tape->streams()) {
        if (s.key.kind == SourceKind::Kafka)
            partitions[s.key.topic] = std::max(partitions.value(s.key.topic), s.key.partition + 1);
    }
    for (auto it = partitions.cbegin(); it != partitions.cend(); ++it) {
        const rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(d->cluster, it.key().toUtf8().constData(), it.value(), 1);
        if (err) {
            *error = QStringLiteral("demo cluster: cannot create topic %1: %2").arg(it.key(), kafka::errorText(err));
            return false;
        }
    }

    KafkaProducer plain(connection());
    KafkaProducer transactional(connection());
    if (!plain.open(error) || !transactional.open(error, QStringLiteral("tapedeck-demo")))
        return false;
    // Consecutive transactional records form one transaction; it is aborted
    // when they were recorded as aborted.
    bool inTransaction = false, abortIt = false;
    auto endTransaction = [&]() {
        if (!inTransaction)
            return true;
        inTransaction = false;
        // Deliver before aborting: an aborted transaction's records are in the
        // log (marked aborted), which is what the demo shows.
        if (abortIt)
            return transactional.flush(error) && transactional.abortTransaction(error);
        return transactional.commitTransaction(error);
    };
    Event e;
    for (qint64 seq = 0; seq < tape->eventCount(); ++seq) {
        if (!tape->event(seq, &e, error))
            return false;
        if (e.kind != SourceKind::Kafka)
            continue;
        const bool txn = e.flags & Transactional;
        const bool aborted = e.flags & Aborted;
        if (!txn || (inTransaction && aborted != abortIt)) {
            if (!endTransaction())
                return false;
        }
        KafkaProducer &producer = txn ? transactional : plain;
        if (txn && !inTransaction) {
            if (!plain.flush(error) || !transactional.beginTransaction(error))
                return false;
            inTransaction = true;
            abortIt = aborted;
        }
        if (!producer.produce(e.topic, e.partition, e.key, e.value, e.headers, e.timestampMs(), error))
            return false;
        ++m_seeded;
    }
    if (!endTransaction() || !plain.flush(error) || !transactional.flush(error))
        return false;
    return true;
}

} // namespace tapedeck
