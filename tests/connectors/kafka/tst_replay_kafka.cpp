// `tape replay --into kafka://BROKERS/TOPIC` against the real broker
// (TAPEDECK_KAFKA_BOOTSTRAP; fails, never skips, without it): SIGKILL mid-run,
// rerun, then every record is in the topic exactly once for a read_committed reader.
#include "tests/common/replayworkload.h"

#include "connectors/kafka/kafkaadmin.h"
#include "core/tape/tape.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QUuid>

using namespace tapedeck;

class TestReplayKafka : public QObject
{
    Q_OBJECT
private:
    QString m_bootstrap;
    QTemporaryDir m_dir;
    QString m_suffix = QUuid::createUuid().toString(QUuid::Id128).left(8);

    int runTape(const QStringList &args, QByteArray *err = nullptr)
    {
        QProcess p;
        p.start(QStringLiteral(TAPE_EXECUTABLE), args);
        p.waitForFinished(180000);
        const QByteArray e = p.readAllStandardError();
        if (err)
            *err = e;
        if (p.exitCode() != 0)
            qWarning().noquote() << e;
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    }

    QList<Event> readBack(const QString &topic)
    {
        const QString out = m_dir.filePath(topic + QStringLiteral(".tape"));
        if (runTape({QStringLiteral("record"), QStringLiteral("kafka"), QStringLiteral("--brokers"), m_bootstrap, QStringLiteral("--topic"),
                     topic, QStringLiteral("--isolation"), QStringLiteral("read_committed"), QStringLiteral("-o"), out}) != 0)
            return {};
        QString error;
        const auto tape = Tape::open(out, &error);
        QList<Event> events;
        for (qint64 s = 0; tape && s < tape->eventCount(); ++s) {
            Event e;
            tape->event(s, &e, &error);
            events.append(e);
        }
        return events;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_bootstrap = qEnvironmentVariable("TAPEDECK_KAFKA_BOOTSTRAP");
        QVERIFY2(!m_bootstrap.isEmpty(), "TAPEDECK_KAFKA_BOOTSTRAP is not set: start the services (eval \"$(scripts/services/all.sh env)\")");
        QVERIFY(m_dir.isValid());
    }

    void killDashNineExactlyOnce()
    {
        const QString topic = QStringLiteral("replay_out_") + m_suffix;
        KafkaAdmin admin(KafkaConnection{m_bootstrap, {}});
        QString error;
        QVERIFY2(admin.createTopic(topic, 3, 1, {}, &error), qPrintable(error));
        // 3000 Kafka records from three partitions of a source topic.
        QList<Event> events;
        for (int i = 0; i < 3000; ++i) {
            Event e;
            e.kind = SourceKind::Kafka;
            e.cluster = QStringLiteral("source");
            e.topic = QStringLiteral("orders");
            e.partition = i % 3;
            e.position = i / 3;
            e.timestampUs = 1709290000000000LL + i * 1000LL;
            e.timestampType = TimestampType::CreateTime;
            e.key = QByteArray("k-") + QByteArray::number(i % 97);
            e.value = QByteArray(R"({"n":)") + QByteArray::number(i) + '}';
            events.append(e);
        }
        const QString tape = m_dir.filePath(QStringLiteral("orders.tape"));
        QVERIFY2(replaytest::writeTape(tape, events, &error), qPrintable(error));
        const QString js = m_dir.filePath(QStringLiteral("tag.js"));
        QFile f(js);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral("function transform(e) { return {topic: '%1', key: e.key, value: {n: e.json.n, from: e.partition + '/' + e.offset}, "
                               "headers: {src: e.topic}}; }\n").arg(topic).toUtf8());
        f.close();
        const QStringList args{QStringLiteral("replay"), tape, QStringLiteral("--transform"), js, QStringLiteral("--into"),
                               QStringLiteral("kafka://%1/%2").arg(m_bootstrap, topic), QStringLiteral("--batch"), QStringLiteral("25"),
                               QStringLiteral("--replay-id"), QStringLiteral("kafka-") + m_suffix};
        int kills = 0;
        for (int attempt = 0; attempt < 3; ++attempt) {
            QProcess p;
            p.start(QStringLiteral(TAPE_EXECUTABLE), args);
            QVERIFY(p.waitForStarted());
            QThread::msleep(1500 + QRandomGenerator::global()->bounded(1500));
            if (p.state() == QProcess::Running) {
                p.kill(); // SIGKILL, most likely inside an open transaction
                ++kills;
            }
            p.waitForFinished();
        }
        QVERIFY2(kills > 0, "the replay finished before it could be killed");
        QByteArray err;
        QCOMPARE(runTape(args, &err), 0);
        QVERIFY2(err.contains("resumed after event #"), err.constData());
        const QList<Event> out = readBack(topic);
        QSet<QByteArray> values;
        for (const Event &e : out)
            values.insert(e.value.value_or(QByteArray()));
        QCOMPARE(out.size(), 3000);
        QCOMPARE(values.size(), 3000);
        // Order per key is kept: within a key, n increases.
        QHash<QByteArray, int> lastN;
        for (const Event &e : out) {
            const int n = QJsonDocument::fromJson(*e.value).object().value(QStringLiteral("n")).toInt();
            QVERIFY(lastN.value(*e.key, -1) < n);
            lastN[*e.key] = n;
        }
        QVERIFY(!out.first().headers.isEmpty());
        QCOMPARE(out.first().headers.constFirst().name, QByteArray("src"));
    }
};

QTEST_GUILESS_MAIN(TestReplayKafka)
#include "tst_replay_kafka.moc"
