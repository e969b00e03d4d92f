// `tape topics`, `tape record kafka`, `tape demo-cluster`.
#include "app/tape/commands.h"

#include "app/tape/cli.h"

#include "app/tape/progress.h"

#include "connectors/kafka/democluster.h"
#include "connectors/kafka/kafkaadmin.h"
#include "connectors/kafka/kafkarecorder.h"
#include "core/tape/tapewriter.h"

#include <QCommandLineParser>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QThread>

#include <atomic>
#include <csignal>
#include <cstdio>

using namespace tapedeck;

namespace {

using cli::error;
using cli::parseArgs;
using cli::usage;

struct ConnectionOptions
{
    QCommandLineOption brokers{{QStringLiteral("b"), QStringLiteral("brokers")}, QString(), QStringLiteral("HOST:PORT,...")};
    QCommandLineOption property{QStringLiteral("X"), QString(), QStringLiteral("prop=val")};
    QCommandLineOption file{QStringLiteral("F"), QString(), QStringLiteral("FILE")};

    void addTo(QCommandLineParser &parser) { parser.addOptions({brokers, property, file}); }
    bool read(const QCommandLineParser &parser, KafkaConnection *c, QString *why) const
    {
        if (parser.isSet(file) && !c->loadPropertiesFile(parser.value(file), why))
            return false;
        for (const QString &p : parser.values(property)) {
            if (!c->addProperty(p, why))
                return false;
        }
        c->bootstrap = parser.value(brokers);
        if (c->bootstrapServers().isEmpty()) {
            *why = QStringLiteral("no brokers: give --brokers HOST:PORT (or bootstrap.servers with -X or -F)");
            return false;
        }
        return true;
    }
};

} // namespace

namespace commands {

int topics(const QStringList &args)
{
    QCommandLineParser parser;
    ConnectionOptions conn;
    conn.addTo(parser);
    QCommandLineOption json(QStringLiteral("json"));
    QCommandLineOption topic({QStringLiteral("t"), QStringLiteral("topic")}, QString(), QStringLiteral("TOPIC"));
    parser.addOptions({json, topic});
    QString why;
    if (!parseArgs(parser, QStringLiteral("topics"), args, &why))
        return usage(why);
    if (!parser.positionalArguments().isEmpty())
        return usage(QStringLiteral("topics takes no file"));
    KafkaConnection connection;
    if (!conn.read(parser, &connection, &why))
        return usage(why);
    KafkaAdmin admin(connection);
    KafkaAdmin::DescribeOptions options;
    options.topics = parser.values(topic);
    const auto info = admin.describe(options, &why);
    if (!info)
        return error(why);
    if (!info->configsError.isEmpty())
        std::fprintf(stderr, "tape: warning: topic configs unavailable: %s\n", info->configsError.toLocal8Bit().constData());
    QByteArray out;
    if (parser.isSet(json)) {
        QJsonArray topics;
        for (const KafkaTopicInfo &t : info->topics) {
            QJsonArray parts;
            for (const KafkaPartitionInfo &p : t.partitions)
                parts.append(QJsonObject{{QStringLiteral("partition"), p.id}, {QStringLiteral("leader"), p.leader},
                                         {QStringLiteral("low"), p.low}, {QStringLiteral("high"), p.high},
                                         {QStringLiteral("error"), p.error}});
            QJsonObject configs;
            for (auto it = t.configs.cbegin(); it != t.configs.cend(); ++it)
                configs.insert(it.key(), it.value());
            topics.append(QJsonObject{{QStringLiteral("topic"), t.name}, {QStringLiteral("replicationFactor"), t.replicationFactor()},
                                      {QStringLiteral("partitions"), parts}, {QStringLiteral("configs"), configs},
                                      {QStringLiteral("error"), t.error}});
        }
        QJsonArray brokers;
        for (const KafkaBrokerInfo &b : info->brokers)
            brokers.append(QJsonObject{{QStringLiteral("id"), b.id}, {QStringLiteral("host"), b.host}, {QStringLiteral("port"), b.port}});
        out = QJsonDocument(QJsonObject{{QStringLiteral("brokers"), brokers}, {QStringLiteral("topics"), topics}}).toJson();
    } else {
        QString text;
        for (const KafkaBrokerInfo &b : info->brokers)
            text += QStringLiteral("broker %1 at %2:%3\n").arg(b.id).arg(b.host).arg(b.port);
        for (const KafkaTopicInfo &t : info->topics) {
            if (!t.error.isEmpty()) {
                text += QStringLiteral("topic \"%1\": %2\n").arg(t.name, t.error);
                continue;
            }
            text += QStringLiteral("topic \"%1\": %2 partitions, replication factor %3, cleanup.policy=%4\n")
                        .arg(t.name).arg(t.partitions.size()).arg(t.replicationFactor())
                        .arg(t.configs.value(QStringLiteral("cleanup.policy"), QStringLiteral("?")));
            for (const KafkaPartitionInfo &p : t.partitions)
                text += QStringLiteral("  partition %1: leader %2, offsets %3..%4 (%5 records)%6\n")
                            .arg(p.id).arg(p.leader).arg(p.low).arg(p.high).arg(p.high - p.low)
                            .arg(p.error.isEmpty() ? QString() : QStringLiteral(", error: ") + p.error);
        }
        out = text.toUtf8();
    }
    std::fwrite(out.constData(), 1, size_t(out.size()), stdout);
    return 0;
}

int recordKafka(const QStringList &args)
{
    QCommandLineParser parser;
    ConnectionOptions conn;
    conn.addTo(parser);
    QCommandLineOption topic({QStringLiteral("t"), QStringLiteral("topic")}, QString(), QStringLiteral("TOPIC"));
    QCommandLineOption partition({QStringLiteral("p"), QStringLiteral("partition")}, QString(), QStringLiteral("N"));
    QCommandLineOption from(QStringLiteral("from"), QString(), QStringLiteral("POS"), QStringLiteral("beginning"));
    QCommandLineOption to(QStringLiteral("to"), QString(), QStringLiteral("POS"), QStringLiteral("end"));
    QCommandLineOption follow(QStringLiteral("follow"));
    QCommandLineOption count({QStringLiteral("c"), QStringLiteral("count")}, QString(), QStringLiteral("N"));
    QCommandLineOption isolation(QStringLiteral("isolation"), QString(), QStringLiteral("LEVEL"), QStringLiteral("read_committed"));
    QCommandLineOption showAborted(QStringLiteral("show-aborted"));
    QCommandLineOption out({QStringLiteral("o"), QStringLiteral("output")}, QString(), QStringLiteral("OUT.tape"));
    QCommandLineOption noConfigs(QStringLiteral("no-configs"));
    parser.addOptions({topic, partition, from, to, follow, count, isolation, showAborted, out, noConfigs});
    QString why;
    if (!parseArgs(parser, QStringLiteral("record"), args, &why))
        return usage(why);
    if (parser.positionalArguments() != QStringList{QStringLiteral("kafka")})
        return usage(QStringLiteral("record takes a source: tape record kafka ..."));
    KafkaRecordOptions options;
    if (!conn.read(parser, &options.connection, &why))
        return usage(why);
    options.topics = parser.values(topic);
    if (options.topics.isEmpty())
        return usage(QStringLiteral("record kafka needs --topic"));
    if (!parser.isSet(out))
        return usage(QStringLiteral("record kafka needs -o OUT.tape"));
    for (const QString &p : parser.values(partition)) {
        bool ok = false;
        const int n = p.toInt(&ok);
        if (!ok || n < 0)
            return usage(QStringLiteral("--partition takes a partition number, not \"%1\"").arg(p));
        options.partitions.append(n);
    }
    const auto fromPos = KafkaPosition::parse(parser.value(from), &why);
    if (!fromPos)
        return usage(QStringLiteral("--from: ") + why);
    options.from = *fromPos;
    const auto toPos = KafkaPosition::parse(parser.value(to), &why);
    if (!toPos)
        return usage(QStringLiteral("--to: ") + why);
    options.to = *toPos;
    options.follow = parser.isSet(follow);
    if (parser.isSet(count)) {
        bool ok = false;
        options.maxCount = parser.value(count).toLongLong(&ok);
        if (!ok || options.maxCount < 0)
            return usage(QStringLiteral("--count takes a number of records"));
    }
    const QString level = parser.value(isolation);
    if (level != QLatin1String("read_committed") && level != QLatin1String("read_uncommitted"))
        return usage(QStringLiteral("--isolation is read_committed or read_uncommitted"));
    options.readCommitted = level == QLatin1String("read_committed");
    options.markAborted = parser.isSet(showAborted);
    options.readConfigs = !parser.isSet(noConfigs);

    KafkaRecorder recorder(options);
    return cli::recordToTape(recorder, parser.value(out), QStringLiteral("records"), QStringLiteral("records"),
                             [](const RecordingSource::Progress &p) { return p.events; });
}

int demoCluster(const QStringList &args)
{
    QCommandLineParser parser;
    QCommandLineOption seed(QStringLiteral("seed"), QString(), QStringLiteral("TAPE"));
    QCommandLineOption seconds(QStringLiteral("seconds"), QString(), QStringLiteral("N"));
    parser.addOptions({seed, seconds});
    QString why;
    if (!parseArgs(parser, QStringLiteral("demo-cluster"), args, &why))
        return usage(why);
    if (!parser.isSet(seed))
        return usage(QStringLiteral("demo-cluster needs --seed TAPE (e.g. one written by tape make-demo)"));
    DemoCluster cluster;
    if (!cluster.start(parser.value(seed), &why))
        return error(why);
    std::printf("demo cluster at %s with %lld records; stop with Ctrl-C\n", cluster.bootstrap().toLocal8Bit().constData(),
                static_cast<long long>(cluster.seededRecords()));
    std::fflush(stdout);
    const std::atomic<bool> *interrupted = cli::interruptOnSignals();
    const qint64 limitMs = parser.isSet(seconds) ? parser.value(seconds).toLongLong() * 1000 : -1;
    for (qint64 waited = 0; !interrupted->load() && (limitMs < 0 || waited < limitMs); waited += 100)
        QThread::msleep(100);
    return 0;
}

} // namespace commands
