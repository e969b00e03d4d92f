#include "connectors/kafka/kafkarecorder.h"

#include "connectors/kafka/kafkaadmin.h"

#include <QElapsedTimer>
#include <QThread>
#include <QHash>
#include <QJsonArray>
#include <QSet>
#include <QUuid>

#include <librdkafka/rdkafka.h>

#include <unordered_map>
#include <vector>

namespace tapedeck {

KafkaRecorder::KafkaRecorder(KafkaRecordOptions options) : m_options(std::move(options)) {}

QString KafkaRecorder::cluster() const
{
    return m_options.connection.bootstrapServers();
}

bool KafkaRecorder::prepare(QString *error)
{
    m_plan.clear();
    if (m_options.topics.isEmpty()) {
        *error = QStringLiteral("no topic to record");
        return false;
    }
    if (m_options.follow && m_options.markAborted) {
        *error = QStringLiteral("marking aborted transactions needs a bounded range; it cannot be combined with follow");
        return false;
    }
    const std::optional<KafkaClusterInfo> info = describeTopics(error);
    if (!info || !planPartitions(*info, error))
        return false;
    QHash<QString, qint64> fromTs, toTs;
    if (m_options.from.kind == KafkaPosition::Timestamp && !offsetsForTime(m_options.from.value, &fromTs, error))
        return false;
    // "to @T" keeps records up to and including T: stop at the first offset with a later timestamp.
    if (!m_options.follow && m_options.to.kind == KafkaPosition::Timestamp && !offsetsForTime(m_options.to.value + 1, &toTs, error))
        return false;
    placeRanges(fromTs, toTs);
    return true;
}

std::optional<KafkaClusterInfo> KafkaRecorder::describeTopics(QString *error) const
{
    KafkaAdmin admin(m_options.connection, m_options.timeoutMs);
    KafkaAdmin::DescribeOptions describe;
    describe.topics = m_options.topics;
    describe.configs = m_options.readConfigs;
    // A topic created a moment ago may have no leader yet: ask again for a
    // while instead of failing on an error that passes by itself.
    std::optional<KafkaClusterInfo> info;
    QElapsedTimer waited;
    waited.start();
    while (true) {
        info = admin.describe(describe, error);
        if (!info)
            return std::nullopt;
        const bool transient = std::any_of(info->topics.cbegin(), info->topics.cend(), [](const KafkaTopicInfo &t) {
            return std::any_of(t.partitions.cbegin(), t.partitions.cend(), [](const KafkaPartitionInfo &p) { return p.retriable; });
        });
        if (!transient || waited.elapsed() > m_options.timeoutMs)
            return info;
        QThread::msleep(200);
    }
}

bool KafkaRecorder::planPartitions(const KafkaClusterInfo &info, QString *error)
{
    if (!info.configsError.isEmpty())
        m_warnings.append(QStringLiteral("topic configs not recorded: %1").arg(info.configsError));
    for (const KafkaTopicInfo &topic : info.topics) {
        if (!topic.error.isEmpty()) {
            *error = QStringLiteral("topic %1: %2").arg(topic.name, topic.error);
            return false;
        }
        m_topicConfigs.insert(topic.name, topic.configs);
        for (int wanted : std::as_const(m_options.partitions)) {
            if (std::none_of(topic.partitions.cbegin(), topic.partitions.cend(), [&](const auto &p) { return p.id == wanted; })) {
                *error = QStringLiteral("topic %1 has no partition %2 (it has %3)").arg(topic.name).arg(wanted).arg(topic.partitions.size());
                return false;
            }
        }
        for (const KafkaPartitionInfo &p : topic.partitions) {
            if (!m_options.partitions.isEmpty() && !m_options.partitions.contains(p.id))
                continue;
            if (!p.error.isEmpty()) {
                *error = QStringLiteral("%1 [%2]: %3").arg(topic.name).arg(p.id).arg(p.error);
                return false;
            }
            m_plan.append({topic.name, p.id, p.low, p.high, -1, -1});
        }
    }
    return true;
}

// Offsets for a timestamp, for all partitions in one request.
bool KafkaRecorder::offsetsForTime(qint64 ms, QHash<QString, qint64> *out, QString *error) const
{
    kafka::ClientPtr client = kafka::makeClient(RD_KAFKA_CONSUMER, m_options.connection, {}, error);
    if (!client)
        return false;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(int(m_plan.size()));
    for (const KafkaPartitionPlan &p : std::as_const(m_plan))
        rd_kafka_topic_partition_list_add(list, p.topic.toUtf8().constData(), p.partition)->offset = ms;
    const rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(client.get(), list, m_options.timeoutMs);
    bool ok = !err;
    if (err)
        *error = QStringLiteral("offsets for timestamp %1: %2").arg(ms).arg(kafka::errorText(err));
    for (int i = 0; ok && i < list->cnt; ++i) {
        if (list->elems[i].err) {
            *error = QStringLiteral("offsets for timestamp %1: %2").arg(ms).arg(kafka::errorText(list->elems[i].err));
            ok = false;
        }
        out->insert(QString::fromUtf8(list->elems[i].topic) + QLatin1Char('/') + QString::number(list->elems[i].partition),
                    list->elems[i].offset);
    }
    rd_kafka_topic_partition_list_destroy(list);
    return ok;
}

void KafkaRecorder::placeRanges(const QHash<QString, qint64> &fromTs, const QHash<QString, qint64> &toTs)
{
    for (KafkaPartitionPlan &p : m_plan) {
        const QString lane = p.topic + QLatin1Char('/') + QString::number(p.partition);
        switch (m_options.from.kind) {
        case KafkaPosition::Beginning: p.start = p.low; break;
        case KafkaPosition::End: p.start = p.high; break;
        case KafkaPosition::Offset: p.start = std::clamp(m_options.from.value, p.low, p.high); break;
        case KafkaPosition::Timestamp: {
            const qint64 o = fromTs.value(lane, -1);
            p.start = o < 0 ? p.high : o; // no record at or after the time: nothing before the end
            break;
        }
        }
        if (m_options.follow) {
            p.stop = -1;
            continue;
        }
        switch (m_options.to.kind) {
        case KafkaPosition::Beginning: p.stop = p.low; break;
        case KafkaPosition::End: p.stop = p.high; break;
        case KafkaPosition::Offset: p.stop = std::min(m_options.to.value + 1, p.high); break;
        case KafkaPosition::Timestamp: {
            const qint64 o = toTs.value(lane, -1);
            p.stop = o < 0 ? p.high : o;
            break;
        }
        }
        p.stop = std::max(p.stop, p.start);
    }
}

TapeMetadata KafkaRecorder::metadata() const
{
    TapeMetadata meta;
    meta.sourceKind = SourceKind::Kafka;
    meta.source = m_options.connection.describe() + QStringLiteral(" topics ") + m_options.topics.join(QLatin1Char(','));
    meta.recordedAt = QDateTime::currentDateTimeUtc();
    meta.createdBy = QStringLiteral("tapedeck " TAPEDECK_VERSION);
    meta.parameters = parameters();
    return meta;
}

QJsonObject KafkaRecorder::parameters() const
{
    QJsonArray plan;
    for (const KafkaPartitionPlan &p : m_plan)
        plan.append(QJsonObject{{QStringLiteral("topic"), p.topic}, {QStringLiteral("partition"), p.partition},
                                {QStringLiteral("low"), p.low}, {QStringLiteral("high"), p.high},
                                {QStringLiteral("start"), p.start}, {QStringLiteral("stop"), p.stop}});
    QJsonObject configs;
    for (auto it = m_topicConfigs.cbegin(); it != m_topicConfigs.cend(); ++it) {
        QJsonObject c;
        for (auto ci = it.value().cbegin(); ci != it.value().cend(); ++ci)
            c.insert(ci.key(), ci.value());
        configs.insert(it.key(), c);
    }
    return QJsonObject{
        {QStringLiteral("connection"), m_options.connection.toJson()},
        {QStringLiteral("topics"), QJsonArray::fromStringList(m_options.topics)},
        {QStringLiteral("from"), m_options.from.toString()},
        {QStringLiteral("to"), m_options.follow ? QStringLiteral("follow") : m_options.to.toString()},
        {QStringLiteral("isolation"), m_options.readCommitted && !m_options.markAborted ? QStringLiteral("read_committed") : QStringLiteral("read_uncommitted")},
        {QStringLiteral("markAborted"), m_options.markAborted},
        {QStringLiteral("maxCount"), m_options.maxCount},
        {QStringLiteral("plan"), plan},
        {QStringLiteral("topicConfigs"), configs},
    };
}

// One consumer reading the planned ranges with one isolation level.
struct KafkaRecorder::Pass
{
    bool readCommitted = true;
    // Called for every record inside its partition's range; false stops with an error.
    std::function<bool(int planIndex, const rd_kafka_message_t *msg)> onRecord;
    std::function<void()> onIdle; // between batches (flushing, progress)
    qint64 maxCount = -1;
    QList<qint64> endPosition; // per plan entry: the next offset after what was read
    qint64 count = 0;
    int done = 0;
};

namespace {

kafka::ClientPtr makeConsumer(const KafkaConnection &connection, bool readCommitted, QString *error)
{
    // librdkafka's assign() wants a group.id, but with assign() (no
    // subscribe) and no commits the consumer never joins or creates the group
    // on the broker; a unique name keeps it away from real groups anyway.
    const QString group = QStringLiteral("tapedeck-inspect-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    return kafka::makeClient(
        RD_KAFKA_CONSUMER, connection,
        {{QStringLiteral("group.id"), group},
         {QStringLiteral("enable.auto.commit"), QStringLiteral("false")},
         {QStringLiteral("enable.auto.offset.store"), QStringLiteral("false")},
         {QStringLiteral("enable.partition.eof"), QStringLiteral("true")},
         {QStringLiteral("isolation.level"), readCommitted ? QStringLiteral("read_committed") : QStringLiteral("read_uncommitted")}},
        error,
        // Deep prefetch: with librdkafka's default of 100 000 queued messages
        // the fetcher pauses whenever the queue fills and restarts late,
        // which made recording ~6x slower than kcat (bench_kafka_record).
        {{QStringLiteral("queued.min.messages"), QStringLiteral("1000000")},
         {QStringLiteral("queued.max.messages.kbytes"), QStringLiteral("65536")},
         {QStringLiteral("fetch.wait.max.ms"), QStringLiteral("100")}});
}

// Errors that end a pass; transient ones (a broker restarting, a timeout) are retried by librdkafka.
bool fatal(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION
           || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED
           || err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE || err == RD_KAFKA_RESP_ERR__AUTHENTICATION;
}

} // namespace

// One pass's partitions while it reads: the plan entry of each message,
// which entries are done, and what a message does to them.
struct KafkaRecorder::Reading
{
    const QList<KafkaPartitionPlan> &plan;
    Pass &pass;
    QHash<QString, int> planIndex;
    std::vector<bool> finished;
    // Plan index of a message: by topic handle and partition, so the hot
    // path builds no strings (the handle is stable while the client lives).
    std::unordered_map<const rd_kafka_topic_t *, std::vector<int>> byTopic;

    // The partitions to read from their start; those with nothing to read are finished.
    rd_kafka_topic_partition_list_t *assignment()
    {
        finished.assign(size_t(plan.size()), false);
        pass.endPosition.fill(-1, plan.size());
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(int(plan.size()));
        for (qsizetype i = 0; i < plan.size(); ++i) {
            const KafkaPartitionPlan &p = plan[i];
            planIndex.insert(p.topic + QLatin1Char('/') + QString::number(p.partition), int(i));
            pass.endPosition[i] = p.start;
            if (p.stop >= 0 && p.start >= p.stop) {
                finished[size_t(i)] = true;
                ++pass.done;
                continue;
            }
            rd_kafka_topic_partition_list_add(list, p.topic.toUtf8().constData(), p.partition)->offset = p.start;
        }
        return list;
    }
    int indexOf(const rd_kafka_message_t *msg)
    {
        if (!msg->rkt || msg->partition < 0)
            return -1;
        std::vector<int> &parts = byTopic[msg->rkt];
        if (size_t(msg->partition) >= parts.size())
            parts.resize(size_t(msg->partition) + 1, -2);
        int &slot = parts[size_t(msg->partition)];
        if (slot == -2)
            slot = planIndex.value(QString::fromUtf8(rd_kafka_topic_name(msg->rkt)) + QLatin1Char('/') + QString::number(msg->partition), -1);
        return slot;
    }
    void finish(int index)
    {
        if (!finished[size_t(index)]) {
            finished[size_t(index)] = true;
            ++pass.done;
        }
    }
    // One message of the queue; false stops the pass (with *error, or onRecord's own).
    bool take(const rd_kafka_message_t *msg, QString *error)
    {
        const int index = indexOf(msg);
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            // Caught up with the partition. Without follow that is its end,
            // even when read_committed stops at an open transaction (LSO).
            if (index >= 0) {
                pass.endPosition[index] = std::max(pass.endPosition[index], qint64(msg->offset));
                if (plan[index].stop >= 0)
                    finish(index);
            }
            return true;
        }
        if (msg->err) {
            if (!fatal(msg->err))
                return true;
            *error = QStringLiteral("%1 [%2]: %3").arg(msg->rkt ? QString::fromUtf8(rd_kafka_topic_name(msg->rkt)) : QString())
                         .arg(msg->partition)
                         .arg(QString::fromUtf8(rd_kafka_message_errstr(msg) ? rd_kafka_message_errstr(msg) : rd_kafka_err2str(msg->err)));
            return false;
        }
        if (index < 0 || finished[size_t(index)])
            return true;
        const KafkaPartitionPlan &p = plan[index];
        if (p.stop >= 0 && msg->offset >= p.stop) {
            finish(index);
            return true;
        }
        pass.endPosition[index] = msg->offset + 1;
        if (!pass.onRecord(index, msg))
            return false;
        ++pass.count;
        if (p.stop >= 0 && msg->offset + 1 >= p.stop)
            finish(index);
        if (pass.maxCount >= 0 && pass.count >= pass.maxCount)
            pass.done = int(plan.size());
        return true;
    }
};

bool KafkaRecorder::consume(Pass &pass, const std::atomic<bool> *cancel, QString *error)
{
    kafka::ClientPtr client = makeConsumer(m_options.connection, pass.readCommitted, error);
    if (!client)
        return false;
    rd_kafka_t *rk = client.get();
    Reading reading{m_plan, pass, {}, {}, {}};
    rd_kafka_topic_partition_list_t *assignment = reading.assignment();
    if (pass.done == m_plan.size() || pass.maxCount == 0) {
        rd_kafka_topic_partition_list_destroy(assignment);
        return true;
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    if (err) {
        *error = QStringLiteral("cannot assign partitions: %1").arg(kafka::errorText(err));
        return false;
    }
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk);
    std::vector<rd_kafka_message_t *> batch(4096);
    bool ok = true;
    while (ok && pass.done < m_plan.size() && !(cancel && cancel->load())) {
        // consume_batch_queue waits for a full batch until its timeout, so
        // take what is there without waiting, and wait only when nothing is.
        ssize_t n = rd_kafka_consume_batch_queue(queue, 0, batch.data(), batch.size());
        if (n == 0) {
            if (rd_kafka_message_t *one = rd_kafka_consume_queue(queue, 100)) {
                batch[0] = one;
                n = 1;
            }
        }
        if (n < 0) {
            *error = QStringLiteral("consume failed: %1").arg(kafka::errorText(rd_kafka_last_error()));
            ok = false;
            break;
        }
        for (ssize_t i = 0; i < n; ++i) {
            rd_kafka_message_t *msg = batch[size_t(i)];
            ok = ok && reading.take(msg, error);
            rd_kafka_message_destroy(msg);
            if (!ok || pass.done >= m_plan.size()) {
                for (ssize_t j = i + 1; j < n; ++j)
                    rd_kafka_message_destroy(batch[size_t(j)]);
                break;
            }
        }
        if (pass.onIdle)
            pass.onIdle();
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_assign(rk, nullptr);
    return ok;
}

namespace {

// A message as the tape writer takes it; its headers go into *headers, which
// the view points into. Inline: it runs once per record.
inline RecordView recordView(const rd_kafka_message_t *msg, QVarLengthArray<HeaderView, 16> *headers)
{
    RecordView r;
    r.position = msg->offset;
    rd_kafka_timestamp_type_t tsType;
    const int64_t ts = rd_kafka_message_timestamp(msg, &tsType);
    r.timestampType = tsType == RD_KAFKA_TIMESTAMP_CREATE_TIME ? TimestampType::CreateTime
        : tsType == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME         ? TimestampType::LogAppendTime
                                                               : TimestampType::NotAvailable;
    r.timestampUs = tsType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts * 1000;
    r.broker = rd_kafka_message_broker_id(msg);
    // librdkafka 2.0 (Debian 12) has no accessor for a record's leader epoch.
    r.leaderEpoch = -1;
    if (msg->key)
        r.key = QByteArrayView(static_cast<const char *>(msg->key), qsizetype(msg->key_len));
    if (msg->payload)
        r.value = QByteArrayView(static_cast<const char *>(msg->payload), qsizetype(msg->len));
    headers->clear();
    rd_kafka_headers_t *hdrs = nullptr;
    if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *value;
        size_t size;
        for (size_t h = 0; rd_kafka_header_get_all(hdrs, h, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++h) {
            HeaderView hv{QByteArrayView(name), std::nullopt};
            if (value)
                hv.value = QByteArrayView(static_cast<const char *>(value), qsizetype(size));
            headers->append(hv);
        }
    }
    r.headers = headers->constData();
    r.headerCount = int(headers->size());
    return r;
}

} // namespace

bool KafkaRecorder::committedOffsets(const std::atomic<bool> *cancel, QList<QSet<qint64>> *committed, QList<qint64> *committedEnd,
                                     QString *error)
{
    // Offsets of records that a read_committed pass returns: everything else
    // below its end position belongs to an aborted transaction.
    Pass first;
    first.readCommitted = true;
    first.onRecord = [&](int index, const rd_kafka_message_t *msg) {
        (*committed)[index].insert(msg->offset);
        return true;
    };
    if (!consume(first, cancel, error))
        return false;
    *committedEnd = first.endPosition;
    return true;
}

bool KafkaRecorder::record(TapeWriter &writer, const std::atomic<bool> *cancel, const ProgressFn &progress, QString *error)
{
    QList<QSet<qint64>> committed(m_plan.size());
    QList<qint64> committedEnd;
    if (m_options.markAborted && !committedOffsets(cancel, &committed, &committedEnd, error))
        return false;

    std::vector<quint32> streams(size_t(m_plan.size()));
    const QString clusterName = cluster();
    for (qsizetype i = 0; i < m_plan.size(); ++i)
        streams[size_t(i)] = writer.streamId(StreamKey{SourceKind::Kafka, clusterName, m_plan[i].topic, m_plan[i].partition});

    Progress state;
    state.partitions = int(m_plan.size());
    QElapsedTimer sinceFlush;
    sinceFlush.start();
    QString writeError;
    QVarLengthArray<HeaderView, 16> headers;
    Pass pass;
    pass.readCommitted = m_options.readCommitted && !m_options.markAborted;
    pass.maxCount = m_options.maxCount;
    pass.onRecord = [&](int index, const rd_kafka_message_t *msg) {
        RecordView r = recordView(msg, &headers);
        if (m_options.markAborted && msg->offset < committedEnd[index] && !committed[index].contains(msg->offset))
            r.flags = Transactional | Aborted;
        if (!writer.appendRecord(streams[size_t(index)], r)) {
            writeError = writer.errorString();
            return false;
        }
        ++state.events;
        state.bytes += qint64(msg->len + msg->key_len);
        return true;
    };
    pass.onIdle = [&]() {
        if (sinceFlush.elapsed() >= m_options.flushIntervalMs) {
            if (!writer.flush())
                writeError = writer.errorString();
            sinceFlush.restart();
            state.partitionsDone = pass.done;
            if (progress)
                progress(state);
        }
    };
    const bool ok = consume(pass, cancel, error);
    if (!writeError.isEmpty()) {
        *error = writeError;
        return false;
    }
    if (!writer.flush()) {
        *error = writer.errorString();
        return false;
    }
    state.partitionsDone = pass.done;
    if (progress)
        progress(state);
    return ok;
}

} // namespace tapedeck
