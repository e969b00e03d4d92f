// The built-in demo cluster (librdkafka's mock cluster): fast, no server.
#include "connectors/kafka/democluster.h"
#include "core/demo/demotape.h"
#include "connectors/kafka/kafkaadmin.h"
#include "connectors/kafka/kafkarecorder.h"
#include "core/tape/tape.h"
#include "tests/common/testevents.h"

#include <QFile>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;

class TestDemoCluster : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void seededAndRecordable()
    {
        QTemporaryDir dir;
        QString error;
        const QString demo = dir.filePath(u"demo.tape"_qs);
        QVERIFY2(writeDemoTape(demo, &error), qPrintable(error));
        DemoCluster cluster;
        QVERIFY2(cluster.start(demo, &error), qPrintable(error));
        QVERIFY(cluster.bootstrap().startsWith(u"127.0.0.1:"_qs));
        QCOMPARE(cluster.seededRecords(), 46);

        KafkaAdmin admin(cluster.connection(), 5000);
        KafkaAdmin::DescribeOptions describe;
        describe.configs = false;
        const auto info = admin.describe(describe, &error);
        QVERIFY2(info, qPrintable(error));
        QStringList topics;
        for (const KafkaTopicInfo &t : info->topics)
            topics.append(t.name + u'/' + QString::number(t.partitions.size()));
        QCOMPARE(topics, (QStringList{u"customers/1"_qs, u"orders/2"_qs, u"payments/1"_qs}));

        KafkaRecordOptions options;
        options.connection = cluster.connection();
        options.topics = {u"orders"_qs, u"payments"_qs, u"customers"_qs};
        options.readConfigs = false;
        KafkaRecorder recorder(options);
        QVERIFY2(recorder.prepare(&error), qPrintable(error));
        const QString path = dir.filePath(u"rec.tape"_qs);
        TapeWriter writer;
        QVERIFY(writer.create(path, {}));
        QVERIFY2(recorder.record(writer, nullptr, {}, &error), qPrintable(error));
        QVERIFY(writer.close());

        // Every Kafka record of the demo tape comes back with its key, value,
        // headers and timestamp, in each partition's order.
        const auto original = Tape::open(demo, &error);
        const auto recorded = Tape::open(path, &error);
        QVERIFY2(recorded, qPrintable(error));
        QCOMPARE(recorded->eventCount(), 46);
        QMap<QString, QList<Event>> want, got;
        Event e;
        for (qint64 s = 0; s < original->eventCount(); ++s) {
            original->event(s, &e, &error);
            if (e.kind != SourceKind::Kafka)
                continue;
            e.cluster = cluster.bootstrap();
            e.leaderEpoch = -1;
            e.flags = NoFlags; // the mock cluster writes no transaction markers
            want[e.topic + QString::number(e.partition)].append(e);
        }
        for (qint64 s = 0; s < recorded->eventCount(); ++s) {
            recorded->event(s, &e, &error);
            got[e.topic + QString::number(e.partition)].append(e);
        }
        QCOMPARE(got.keys(), want.keys());
        for (const QString &lane : want.keys()) {
            QCOMPARE(got[lane].size(), want[lane].size());
            for (int i = 0; i < want[lane].size(); ++i) {
                Event w = want[lane][i];
                w.broker = got[lane][i].broker; // the mock broker's id
                QCOMPARE(got[lane][i], w);
            }
        }
    }

    // Every secret-bearing librdkafka setting stays out of the tape: its
    // metadata (what `tape info --json` shows) and every byte of the file.
    void secretsStayOutOfTheTape()
    {
        QTemporaryDir dir;
        QString error;
        const QString demo = dir.filePath(u"demo.tape"_qs);
        QVERIFY2(writeDemoTape(demo, &error), qPrintable(error));
        DemoCluster cluster;
        QVERIFY2(cluster.start(demo, &error), qPrintable(error));
        KafkaRecordOptions options;
        options.connection = cluster.connection();
        const QList<std::pair<QString, QString>> planted = {
            {u"sasl.password"_qs, u"Planted-SaslPassword-1"_qs},
            {u"sasl.oauthbearer.config"_qs, u"principal=me clientSecret=Planted-OauthConfig-2"_qs},
            {u"sasl.oauthbearer.extensions"_qs, u"token=Planted-OauthExt-3"_qs},
            {u"sasl.oauthbearer.client.secret"_qs, u"Planted-ClientSecret-4"_qs},
            {u"ssl.key.password"_qs, u"Planted-KeyPassword-5"_qs},
            {u"ssl.keystore.password"_qs, u"Planted-KeystorePassword-6"_qs},
            {u"ssl.key.pem"_qs, u"Planted-KeyPem-7"_qs},
            {u"sasl.jaas.config"_qs, u"Planted-Jaas-8"_qs},
        };
        for (const auto &p : planted) {
            QVERIFY(KafkaConnection::isSecret(p.first));
            options.connection.properties.append(p);
        }
        options.connection.properties.append({u"client.id"_qs, u"visible-client-id"_qs});
        const QByteArray connectionJson = QJsonDocument(options.connection.toJson()).toJson();
        QVERIFY(connectionJson.contains("visible-client-id"));
        for (const auto &p : planted)
            QVERIFY2(!connectionJson.contains(p.second.toUtf8()), qPrintable(p.first));
        // Debian's librdkafka 2.0 is built without OIDC and takes no Java JAAS
        // config: it refuses those; record with the ones it takes.
        const auto refused = [&](const QString &why) {
            for (int i = 0; i < options.connection.properties.size(); ++i) {
                if (why.startsWith(u"Kafka property "_qs + options.connection.properties[i].first + u':')) {
                    qInfo() << "this librdkafka refuses" << options.connection.properties[i].first;
                    options.connection.properties.removeAt(i);
                    return true;
                }
            }
            return false;
        };
        options.topics = {u"orders"_qs};
        options.readConfigs = false;
        std::unique_ptr<KafkaRecorder> prepared;
        for (int attempt = 0; attempt < planted.size() && !prepared; ++attempt) {
            auto recorder = std::make_unique<KafkaRecorder>(options);
            if (recorder->prepare(&error))
                prepared = std::move(recorder);
            else
                QVERIFY2(refused(error), qPrintable(error));
        }
        QVERIFY2(prepared, qPrintable(error));
        QVERIFY(options.connection.properties.size() >= 6); // most secrets do reach librdkafka
        KafkaRecorder &recorder = *prepared;
        const TapeMetadata meta = recorder.metadata();
        const QByteArray metaJson = QJsonDocument(meta.toJson()).toJson();
        QVERIFY2(metaJson.contains("visible-client-id"), metaJson.constData()); // the check below can fail
        const QString path = dir.filePath(u"secrets.tape"_qs);
        TapeWriter writer;
        QVERIFY(writer.create(path, meta));
        QVERIFY2(recorder.record(writer, nullptr, {}, &error), qPrintable(error));
        QVERIFY(writer.close());
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QVERIFY(bytes.contains("visible-client-id"));
        for (const auto &p : planted) {
            const QByteArray marker = p.second.mid(p.second.indexOf(u"Planted"_qs)).toUtf8();
            QVERIFY2(!metaJson.contains(marker), marker.constData());
            QVERIFY2(!bytes.contains(marker), marker.constData());
            QVERIFY2(!error.contains(QString::fromUtf8(marker)), marker.constData());
        }
    }
};

QTEST_GUILESS_MAIN(TestDemoCluster)
#include "tst_democluster.moc"
