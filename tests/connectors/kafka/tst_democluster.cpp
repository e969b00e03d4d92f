// The built-in demo cluster (librdkafka's mock cluster): fast, no server.
#include "connectors/kafka/democluster.h"
#include "core/demo/demotape.h"
#include "connectors/kafka/kafkaadmin.h"
#include "connectors/kafka/kafkarecorder.h"
#include "core/tape/tape.h"
#include "tests/common/testevents.h"

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
};

QTEST_GUILESS_MAIN(TestDemoCluster)
#include "tst_democluster.moc"
