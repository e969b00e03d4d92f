#include "connectors/kafka/kafkasink.h"

#include "connectors/kafka/kafkaadmin.h"

#include <librdkafka/rdkafka.h>

#include <QDeadlineTimer>
#include <QHash>
#include <QUuid>

using namespace Qt::StringLiterals;

namespace tapedeck {

KafkaSink::KafkaSink(KafkaConnection connection, QString topic)
    : m_connection(std::move(connection)), m_topic(std::move(topic))
{
}

KafkaSink::~KafkaSink() = default;

QString KafkaSink::describe() const
{
    return u"kafka://%1/%2"_s.arg(m_connection.bootstrapServers(), m_topic);
}

bool KafkaSink::open(const QString &replayId, QString *error)
{
    m_replayId = replayId;
    m_committed.clear();
    KafkaAdmin admin(m_connection);
    QString why;
    if (!admin.connect(&why)) {
        *error = u"%1: %2"_s.arg(describe(), why);
        return false;
    }
    // Already there is fine; any other failure shows up when reading it.
    admin.createTopic(QString::fromLatin1(ProgressTopic), 1, 1, {{u"cleanup.policy"_s, u"compact"_s}}, &why);
    m_producer = std::make_unique<KafkaProducer>(m_connection);
    if (!m_producer->open(&why, u"tapedeck-replay-"_s + replayId)) {
        *error = u"%1: %2"_s.arg(describe(), why);
        return false;
    }
    return readProgress(error);
}

bool KafkaSink::readProgress(QString *error)
{
    QString why;
    kafka::ClientPtr client = kafka::makeClient(
        RD_KAFKA_CONSUMER, m_connection,
        {{u"group.id"_s, u"tapedeck-replay-"_s + QUuid::createUuid().toString(QUuid::WithoutBraces)},
         {u"enable.auto.commit"_s, u"false"_s},
         {u"enable.auto.offset.store"_s, u"false"_s},
         {u"isolation.level"_s, u"read_committed"_s}},
        &why);
    if (!client) {
        *error = u"%1: %2"_s.arg(describe(), why);
        return false;
    }
    rd_kafka_t *rk = client.get();
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, ProgressTopic, 0, &low, &high, 10000);
    if (err) {
        *error = u"%1: progress topic %2: %3"_s.arg(describe(), QString::fromLatin1(ProgressTopic), kafka::errorText(err));
        return false;
    }
    if (high <= low)
        return true;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, ProgressTopic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    err = rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err) {
        *error = u"%1: %2"_s.arg(describe(), kafka::errorText(err));
        return false;
    }
    const QByteArray prefix = m_replayId.toUtf8() + '\n';
    QHash<QString, ReplayPosition> last;
    // read_committed stops at the last stable offset: an open transaction of
    // another replay holds us until it ends, which is what makes our own
    // committed progress visible.
    QDeadlineTimer deadline(60000);
    bool done = false;
    while (!done) {
        if (deadline.hasExpired()) {
            *error = u"%1: could not read progress topic %2 to its end within 60 s (an open transaction?)"_s.arg(
                describe(), QString::fromLatin1(ProgressTopic));
            return false;
        }
        if (rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200)) {
            if (!m->err && m->key && QByteArrayView(static_cast<const char *>(m->key), qsizetype(m->key_len)).startsWith(prefix)) {
                const QString stream = QString::fromUtf8(static_cast<const char *>(m->key) + prefix.size(),
                                                         qsizetype(m->key_len) - prefix.size());
                const QList<QByteArray> parts =
                    QByteArray(static_cast<const char *>(m->payload), qsizetype(m->len)).split(' ');
                if (parts.size() == 2)
                    last.insert(stream, ReplayPosition{stream, parts[0].toLongLong(), parts[1].toLongLong()});
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(pos, ProgressTopic, 0);
        rd_kafka_position(rk, pos);
        done = pos->elems[0].offset >= high;
        rd_kafka_topic_partition_list_destroy(pos);
    }
    rd_kafka_assign(rk, nullptr);
    m_committed = last.values();
    return true;
}

bool KafkaSink::write(const QList<SinkOutput> &outputs, const QList<ReplayPosition> &progress, QString *error)
{
    QString why;
    auto fail = [&] {
        *error = u"%1: %2"_s.arg(describe(), why);
        QString ignored;
        m_producer->abortTransaction(&ignored);
        return false;
    };
    if (!m_producer->beginTransaction(&why)) {
        *error = u"%1: %2"_s.arg(describe(), why);
        return false;
    }
    for (const SinkOutput &o : outputs) {
        if (!m_producer->produce(o.topic, o.partition, o.kafkaKey, o.kafkaValue, o.headers, 0, &why))
            return fail();
    }
    const QByteArray prefix = m_replayId.toUtf8() + '\n';
    for (const ReplayPosition &p : progress) {
        if (!m_producer->produce(QString::fromLatin1(ProgressTopic), 0, prefix + p.stream.toUtf8(),
                                 QByteArray::number(p.position) + ' ' + QByteArray::number(p.seq), {}, 0, &why))
            return fail();
    }
    if (!m_producer->commitTransaction(&why))
        return fail();
    return true;
}

} // namespace tapedeck
