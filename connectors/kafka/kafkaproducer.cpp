#include "connectors/kafka/kafkaproducer.h"

#include <librdkafka/rdkafka.h>

#include <mutex>

namespace tapedeck {

struct KafkaProducer::State
{
    std::mutex mutex;
    QString firstError;
    std::atomic<qint64> *delivered = nullptr;
};

namespace {

void onDelivery(rd_kafka_t *, const rd_kafka_message_t *msg, void *opaque)
{
    auto *state = static_cast<KafkaProducer::State *>(opaque);
    if (msg->err) {
        std::lock_guard lock(state->mutex);
        if (state->firstError.isEmpty())
            state->firstError = QStringLiteral("delivery to %1 [%2] failed: %3")
                                    .arg(QString::fromUtf8(rd_kafka_topic_name(msg->rkt)))
                                    .arg(msg->partition)
                                    .arg(QString::fromUtf8(rd_kafka_err2str(msg->err)));
    } else {
        ++*state->delivered;
    }
}

bool takeError(rd_kafka_error_t *err, QString *error)
{
    if (!err)
        return true;
    if (error)
        *error = QString::fromUtf8(rd_kafka_error_string(err));
    rd_kafka_error_destroy(err);
    return false;
}

} // namespace

KafkaProducer::KafkaProducer(KafkaConnection connection) : m_connection(std::move(connection)), m_state(std::make_unique<State>())
{
    m_state->delivered = &m_delivered;
}

KafkaProducer::~KafkaProducer()
{
    if (m_client)
        rd_kafka_flush(m_client.get(), 5000);
}

bool KafkaProducer::open(QString *error, const QString &transactionalId, int timeoutMs)
{
    QList<std::pair<QString, QString>> overrides{
        {QStringLiteral("enable.idempotence"), QStringLiteral("true")},
        {QStringLiteral("linger.ms"), QStringLiteral("5")},
    };
    if (!transactionalId.isEmpty())
        overrides.append({QStringLiteral("transactional.id"), transactionalId});
    // The delivery callback and its opaque go through the conf, so build the client by hand.
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    auto set = [&](const QString &n, const QString &v) {
        return rd_kafka_conf_set(conf, n.toUtf8().constData(), v.toUtf8().constData(), errstr, sizeof errstr) == RD_KAFKA_CONF_OK;
    };
    bool ok = m_connection.bootstrap.isEmpty() || set(QStringLiteral("bootstrap.servers"), m_connection.bootstrap);
    for (const auto &[n, v] : m_connection.properties)
        ok = ok && set(n, v);
    for (const auto &[n, v] : overrides)
        ok = ok && set(n, v);
    if (!ok) {
        *error = QStringLiteral("Kafka producer property: %1").arg(QString::fromUtf8(errstr));
        rd_kafka_conf_destroy(conf);
        return false;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, onDelivery);
    kafka::routeLogs(conf);
    rd_kafka_conf_set_opaque(conf, m_state.get());
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        *error = QStringLiteral("cannot create Kafka producer: %1").arg(QString::fromUtf8(errstr));
        return false;
    }
    m_client.reset(rk);
    if (!transactionalId.isEmpty())
        return takeError(rd_kafka_init_transactions(rk, timeoutMs), error);
    return true;
}

bool KafkaProducer::produce(const QString &topic, int partition, const std::optional<QByteArray> &key,
                            const std::optional<QByteArray> &value, const QList<Header> &headers, qint64 timestampMs,
                            QString *error)
{
    rd_kafka_headers_t *hdrs = nullptr;
    if (!headers.isEmpty()) {
        hdrs = rd_kafka_headers_new(size_t(headers.size()));
        for (const Header &h : headers)
            rd_kafka_header_add(hdrs, h.name.constData(), h.name.size(), h.value ? h.value->constData() : nullptr,
                                h.value ? h.value->size() : 0);
    }
    const QByteArray topicName = topic.toUtf8();
    // Macros below cast their arguments, so compute them first.
    const char *keyData = key ? key->constData() : nullptr;
    const size_t keySize = key ? size_t(key->size()) : 0;
    char *valueData = value ? const_cast<char *>(value->constData()) : nullptr;
    const size_t valueSize = value ? size_t(value->size()) : 0;
    while (true) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            m_client.get(), RD_KAFKA_V_TOPIC(topicName.constData()), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(keyData, keySize), RD_KAFKA_V_VALUE(valueData, valueSize),
            RD_KAFKA_V_TIMESTAMP(timestampMs), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(m_client.get(), 100); // let deliveries drain, then try again
            continue;
        }
        if (err) {
            if (hdrs)
                rd_kafka_headers_destroy(hdrs); // not taken over on failure
            if (error)
                *error = QStringLiteral("cannot produce to %1: %2").arg(topic, kafka::errorText(err));
            return false;
        }
        rd_kafka_poll(m_client.get(), 0);
        return true;
    }
}

bool KafkaProducer::flush(QString *error, int timeoutMs)
{
    const rd_kafka_resp_err_t err = rd_kafka_flush(m_client.get(), timeoutMs);
    std::lock_guard lock(m_state->mutex);
    if (!m_state->firstError.isEmpty()) {
        *error = m_state->firstError;
        return false;
    }
    if (err) {
        *error = QStringLiteral("flush: %1 (%2 records not delivered)").arg(kafka::errorText(err)).arg(rd_kafka_outq_len(m_client.get()));
        return false;
    }
    return true;
}

bool KafkaProducer::beginTransaction(QString *error)
{
    return takeError(rd_kafka_begin_transaction(m_client.get()), error);
}

bool KafkaProducer::commitTransaction(QString *error, int timeoutMs)
{
    return takeError(rd_kafka_commit_transaction(m_client.get(), timeoutMs), error);
}

bool KafkaProducer::abortTransaction(QString *error, int timeoutMs)
{
    return takeError(rd_kafka_abort_transaction(m_client.get(), timeoutMs), error);
}

} // namespace tapedeck
