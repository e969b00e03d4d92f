#include "connectors/kafka/kafkaadmin.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <vector>

namespace tapedeck {

KafkaAdmin::KafkaAdmin(KafkaConnection connection, int timeoutMs) : m_connection(std::move(connection)), m_timeoutMs(timeoutMs) {}

KafkaAdmin::~KafkaAdmin() = default;

bool KafkaAdmin::connect(QString *error)
{
    if (m_client)
        return true;
    // A producer handle serves metadata, watermarks and the admin API without
    // joining any consumer group.
    m_client = kafka::makeClient(RD_KAFKA_PRODUCER, m_connection, {}, error);
    return bool(m_client);
}

namespace {

bool isRetriable(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
        return true;
    default:
        return false;
    }
}

struct QueueDeleter
{
    void operator()(rd_kafka_queue_t *q) const { rd_kafka_queue_destroy(q); }
};
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
struct EventDeleter
{
    void operator()(rd_kafka_event_t *e) const { rd_kafka_event_destroy(e); }
};
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

// Waits for the admin result of `type` on `queue`.
EventPtr waitFor(rd_kafka_queue_t *queue, rd_kafka_event_type_t type, int timeoutMs, QString *error)
{
    EventPtr ev(rd_kafka_queue_poll(queue, timeoutMs + 1000));
    if (!ev) {
        *error = QStringLiteral("timed out after %1 ms waiting for the cluster").arg(timeoutMs);
        return nullptr;
    }
    if (rd_kafka_event_error(ev.get())) {
        *error = QString::fromUtf8(rd_kafka_event_error_string(ev.get()));
        return nullptr;
    }
    if (rd_kafka_event_type(ev.get()) != type) {
        *error = QStringLiteral("unexpected admin result");
        return nullptr;
    }
    return ev;
}

} // namespace

namespace {

// A topic of the metadata, its partitions by id.
KafkaTopicInfo topicInfo(const rd_kafka_metadata_topic_t &mt)
{
    KafkaTopicInfo topic;
    topic.name = QString::fromUtf8(mt.topic);
    if (mt.err)
        topic.error = kafka::errorText(mt.err);
    for (int p = 0; p < mt.partition_cnt; ++p) {
        const rd_kafka_metadata_partition_t &mp = mt.partitions[p];
        KafkaPartitionInfo part;
        part.id = mp.id;
        part.leader = mp.leader;
        for (int r = 0; r < mp.replica_cnt; ++r)
            part.replicas.append(mp.replicas[r]);
        for (int r = 0; r < mp.isr_cnt; ++r)
            part.isrs.append(mp.isrs[r]);
        if (mp.err) {
            part.error = kafka::errorText(mp.err);
            part.retriable = isRetriable(mp.err);
        }
        topic.partitions.append(part);
    }
    std::sort(topic.partitions.begin(), topic.partitions.end(), [](const auto &a, const auto &b) { return a.id < b.id; });
    return topic;
}

} // namespace

std::optional<KafkaClusterInfo> KafkaAdmin::describe(const DescribeOptions &options, QString *error)
{
    if (!connect(error))
        return std::nullopt;
    const rd_kafka_metadata_t *md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(m_client.get(), 1, nullptr, &md, m_timeoutMs);
    if (err) {
        *error = QStringLiteral("cannot read metadata from %1: %2").arg(m_connection.bootstrapServers(), kafka::errorText(err));
        const QString why = kafka::lastLoggedError(m_client.get());
        if (!why.isEmpty())
            *error += QStringLiteral(" (%1)").arg(why);
        return std::nullopt;
    }
    KafkaClusterInfo info;
    info.originatingBroker = md->orig_broker_id;
    for (int i = 0; i < md->broker_cnt; ++i)
        info.brokers.append({md->brokers[i].id, QString::fromUtf8(md->brokers[i].host), md->brokers[i].port});
    std::sort(info.brokers.begin(), info.brokers.end(), [](const auto &a, const auto &b) { return a.id < b.id; });
    for (int t = 0; t < md->topic_cnt; ++t) {
        const QString name = QString::fromUtf8(md->topics[t].topic);
        if (options.topics.isEmpty() ? name.startsWith(QLatin1String("__")) : !options.topics.contains(name))
            continue;
        info.topics.append(topicInfo(md->topics[t]));
    }
    rd_kafka_metadata_destroy(md);
    for (const QString &wanted : options.topics) {
        if (std::none_of(info.topics.cbegin(), info.topics.cend(), [&](const auto &t) { return t.name == wanted; })) {
            KafkaTopicInfo missing;
            missing.name = wanted;
            missing.error = QStringLiteral("topic does not exist");
            info.topics.append(missing);
        }
    }
    std::sort(info.topics.begin(), info.topics.end(), [](const auto &a, const auto &b) { return a.name < b.name; });
    if (options.watermarks)
        readWatermarks(&info);
    if (options.configs)
        readConfigs(&info);
    return info;
}

void KafkaAdmin::readWatermarks(KafkaClusterInfo *info)
{
    for (KafkaTopicInfo &topic : info->topics) {
        for (KafkaPartitionInfo &part : topic.partitions) {
            int64_t low = -1, high = -1;
            const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(m_client.get(), topic.name.toUtf8().constData(), part.id,
                                                                             &low, &high, m_timeoutMs);
            if (err) {
                part.error = kafka::errorText(err);
                part.retriable = isRetriable(err);
            } else {
                part.low = low;
                part.high = high;
            }
        }
    }
}

void KafkaAdmin::readConfigs(KafkaClusterInfo *info)
{
    QStringList names;
    for (const KafkaTopicInfo &topic : std::as_const(info->topics)) {
        if (topic.error.isEmpty())
            names.append(topic.name);
    }
    if (names.isEmpty())
        return;
    QString why;
    const auto configs = describeConfigs(names, &why);
    if (configs) {
        for (KafkaTopicInfo &topic : info->topics)
            topic.configs = configs->value(topic.name);
    } else {
        info->configsError = why;
    }
}

std::optional<QMap<QString, QMap<QString, QString>>> KafkaAdmin::describeConfigs(const QStringList &topics, QString *error)
{
    std::vector<rd_kafka_ConfigResource_t *> resources;
    for (const QString &t : topics)
        resources.push_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t.toUtf8().constData()));
    QueuePtr queue(rd_kafka_queue_new(m_client.get()));
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(m_client.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(opts, m_timeoutMs, errstr, sizeof errstr);
    rd_kafka_DescribeConfigs(m_client.get(), resources.data(), resources.size(), opts, queue.get());
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_ConfigResource_destroy_array(resources.data(), resources.size());
    EventPtr ev = waitFor(queue.get(), RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, m_timeoutMs, error);
    if (!ev) {
        *error = QStringLiteral("cannot describe topic configs: ") + *error;
        return std::nullopt;
    }
    QMap<QString, QMap<QString, QString>> out;
    const rd_kafka_DescribeConfigs_result_t *res = rd_kafka_event_DescribeConfigs_result(ev.get());
    size_t n = 0;
    const rd_kafka_ConfigResource_t **rs = rd_kafka_DescribeConfigs_result_resources(res, &n);
    for (size_t i = 0; i < n; ++i) {
        if (rd_kafka_ConfigResource_error(rs[i]))
            continue;
        QMap<QString, QString> configs;
        size_t nc = 0;
        const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(rs[i], &nc);
        for (size_t c = 0; c < nc; ++c) {
            const char *value = rd_kafka_ConfigEntry_value(entries[c]);
            if (!rd_kafka_ConfigEntry_is_sensitive(entries[c]))
                configs.insert(QString::fromUtf8(rd_kafka_ConfigEntry_name(entries[c])), value ? QString::fromUtf8(value) : QString());
        }
        out.insert(QString::fromUtf8(rd_kafka_ConfigResource_name(rs[i])), configs);
    }
    return out;
}

bool KafkaAdmin::createTopic(const QString &name, int partitions, int replicationFactor,
                             const QMap<QString, QString> &configs, QString *error)
{
    if (!connect(error))
        return false;
    char errstr[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name.toUtf8().constData(), partitions, replicationFactor, errstr, sizeof errstr);
    if (!nt) {
        *error = QString::fromUtf8(errstr);
        return false;
    }
    for (auto it = configs.cbegin(); it != configs.cend(); ++it)
        rd_kafka_NewTopic_set_config(nt, it.key().toUtf8().constData(), it.value().toUtf8().constData());
    QueuePtr queue(rd_kafka_queue_new(m_client.get()));
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(m_client.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, m_timeoutMs, errstr, sizeof errstr);
    rd_kafka_CreateTopics(m_client.get(), &nt, 1, opts, queue.get());
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    EventPtr ev = waitFor(queue.get(), RD_KAFKA_EVENT_CREATETOPICS_RESULT, m_timeoutMs, error);
    if (!ev)
        return false;
    size_t n = 0;
    const rd_kafka_topic_result_t **results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
    for (size_t i = 0; i < n; ++i) {
        if (rd_kafka_topic_result_error(results[i])) {
            *error = QStringLiteral("cannot create topic %1: %2").arg(name, QString::fromUtf8(rd_kafka_topic_result_error_string(results[i])));
            return false;
        }
    }
    return true;
}

bool KafkaAdmin::deleteTopic(const QString &name, QString *error)
{
    if (!connect(error))
        return false;
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(name.toUtf8().constData());
    QueuePtr queue(rd_kafka_queue_new(m_client.get()));
    rd_kafka_DeleteTopics(m_client.get(), &dt, 1, nullptr, queue.get());
    rd_kafka_DeleteTopic_destroy(dt);
    EventPtr ev = waitFor(queue.get(), RD_KAFKA_EVENT_DELETETOPICS_RESULT, m_timeoutMs, error);
    if (!ev)
        return false;
    size_t n = 0;
    const rd_kafka_topic_result_t **results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
    for (size_t i = 0; i < n; ++i) {
        if (rd_kafka_topic_result_error(results[i])) {
            *error = QString::fromUtf8(rd_kafka_topic_result_error_string(results[i]));
            return false;
        }
    }
    return true;
}

std::optional<QStringList> KafkaAdmin::consumerGroups(QString *error)
{
    if (!connect(error))
        return std::nullopt;
    QueuePtr queue(rd_kafka_queue_new(m_client.get()));
    rd_kafka_ListConsumerGroups(m_client.get(), nullptr, queue.get());
    EventPtr ev = waitFor(queue.get(), RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, m_timeoutMs, error);
    if (!ev)
        return std::nullopt;
    const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev.get());
    size_t n = 0;
    const rd_kafka_ConsumerGroupListing_t **groups = rd_kafka_ListConsumerGroups_result_valid(res, &n);
    QStringList out;
    for (size_t i = 0; i < n; ++i)
        out.append(QString::fromUtf8(rd_kafka_ConsumerGroupListing_group_id(groups[i])));
    out.sort();
    return out;
}

} // namespace tapedeck
