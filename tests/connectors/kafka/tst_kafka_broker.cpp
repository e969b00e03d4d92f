// Against the real Apache Kafka 4.x broker started by scripts/services/kafka.sh.
#include "connectors/kafka/kafkaadmin.h"
#include "connectors/kafka/kafkaproducer.h"
#include "connectors/kafka/kafkarecorder.h"
#include "core/kcat/kcatjson.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"
#include "tests/common/testevents.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <thread>

using namespace tapedeck;

namespace {

QString uniqueTopic(const char *what)
{
    return QStringLiteral("tst-%1-%2").arg(QLatin1String(what), QUuid::createUuid().toString(QUuid::Id128).left(8));
}

QList<Event> readTape(const QString &path)
{
    QList<Event> out;
    QString error;
    const auto tape = Tape::open(path, &error);
    if (!tape) {
        qWarning() << error;
        return out;
    }
    for (qint64 s = 0; s < tape->eventCount(); ++s) {
        Event e;
        tape->event(s, &e, &error);
        out.append(e);
    }
    return out;
}

// Sorted by (topic, partition, offset): kcat interleaves partitions differently.
void sortEvents(QList<Event> &events)
{
    std::sort(events.begin(), events.end(), [](const Event &a, const Event &b) {
        return std::tie(a.topic, a.partition, a.position) < std::tie(b.topic, b.partition, b.position);
    });
}

} // namespace

class TestKafkaBroker : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        m_bootstrap = qEnvironmentVariable("TAPEDECK_KAFKA_BOOTSTRAP");
        if (m_bootstrap.isEmpty())
            QFAIL("TAPEDECK_KAFKA_BOOTSTRAP is not set: start the broker with scripts/services/kafka.sh start (scripts/test.sh does)");
        QVERIFY(m_dir.isValid());
        KafkaAdmin admin(connection());
        QString error;
        const auto groups = admin.consumerGroups(&error);
        QVERIFY2(groups, qPrintable(error));
        m_groupsBefore = *groups;
    }

    void recordMatchesKcat()
    {
        const QString topic = uniqueTopic("kcat");
        createTopic(topic, 3);
        KafkaProducer producer(connection());
        QString error;
        QVERIFY2(producer.open(&error), qPrintable(error));
        QList<Event> produced;
        for (int i = 0; i < 300; ++i) {
            std::optional<QByteArray> key = QByteArray("key-") + QByteArray::number(i % 37);
            std::optional<QByteArray> value = QByteArray("{\"n\":") + QByteArray::number(i) + ",\"s\":\"é \\\"q\\\" \\n\"}";
            QList<Header> headers;
            if (i % 7 == 0)
                key = std::nullopt;
            if (i % 11 == 0)
                value = std::nullopt;
            if (i % 13 == 0)
                value = QByteArray("\x00\x01\xff\xfe bin", 8);
            if (i % 5 == 0)
                headers = {{"trace", QByteArray("t-") + QByteArray::number(i)}, {"trace", QByteArray("dup")}, {"nullh", std::nullopt}, {"empty", QByteArray("")}};
            QVERIFY2(producer.produce(topic, i % 3, key, value, headers, 1767261600000 + i, &error), qPrintable(error));
            Event e;
            e.value = value;
            produced.append(e);
        }
        QVERIFY2(producer.flush(&error), qPrintable(error));

        const QString path = m_dir.filePath(topic + u".tape"_qs);
        QCOMPARE(runTape({u"record"_qs, u"kafka"_qs, u"--brokers"_qs, m_bootstrap, u"--topic"_qs, topic, u"-o"_qs, path}),
                 QByteArray("recorded 300 records into ") + path.toLocal8Bit() + '\n');

        QProcess kcat;
        kcat.start(u"kcat"_qs, {u"-C"_qs, u"-J"_qs, u"-e"_qs, u"-q"_qs, u"-b"_qs, m_bootstrap, u"-t"_qs, topic, u"-o"_qs, u"beginning"_qs});
        QVERIFY(kcat.waitForFinished(60000));
        QCOMPARE(kcat.exitCode(), 0);
        QList<Event> fromKcat;
        for (const QByteArray &line : kcat.readAllStandardOutput().split('\n')) {
            if (line.isEmpty())
                continue;
            const auto e = kcatjson::parse(line, &error);
            QVERIFY2(e, qPrintable(error + u": "_qs + QString::fromUtf8(line)));
            fromKcat.append(*e);
        }
        QList<Event> recorded = readTape(path);
        QCOMPARE(recorded.size(), 300);
        QCOMPARE(fromKcat.size(), 300);
        sortEvents(recorded);
        sortEvents(fromKcat);
        for (int i = 0; i < 300; ++i) {
            Event r = recorded[i];
            QCOMPARE(r.cluster, m_bootstrap);
            r.cluster.clear(); // not in kcat's envelope
            QCOMPARE(r, fromKcat[i]);
        }
        // The tape keeps every field: null keys, tombstones, header order, duplicates, null header values.
        const auto nullKey = std::find_if(recorded.cbegin(), recorded.cend(), [](const Event &e) { return !e.key; });
        QVERIFY(nullKey != recorded.cend());
        const auto withHeaders = std::find_if(recorded.cbegin(), recorded.cend(), [](const Event &e) { return e.headers.size() == 4; });
        QVERIFY(withHeaders != recorded.cend());
        QCOMPARE(withHeaders->headers[1].name, QByteArray("trace"));
        QCOMPARE(*withHeaders->headers[1].value, QByteArray("dup"));
        QVERIFY(!withHeaders->headers[2].value);
        QCOMPARE(withHeaders->headers[3].value, std::optional<QByteArray>(QByteArray("")));
        const auto tombstones = std::count_if(produced.cbegin(), produced.cend(), [](const Event &e) { return e.isTombstone(); });
        QCOMPARE(tombstones, 25); // i % 11 == 0 but not i % 13 == 0
        QCOMPARE(std::count_if(recorded.cbegin(), recorded.cend(), [](const Event &e) { return e.isTombstone(); }), tombstones);
    }

    void seekByTimestampAndOffset()
    {
        const QString topic = uniqueTopic("time");
        createTopic(topic, 1);
        KafkaProducer producer(connection());
        QString error;
        QVERIFY(producer.open(&error));
        for (int i = 0; i < 10; ++i)
            QVERIFY(producer.produce(topic, 0, QByteArray::number(i), QByteArray("v"), {}, 1000 * (i + 1), &error));
        QVERIFY2(producer.flush(&error), qPrintable(error));
        auto record = [&](const QString &from, const QString &to) {
            const QString path = m_dir.filePath(QUuid::createUuid().toString(QUuid::Id128) + u".tape"_qs);
            runTape({u"record"_qs, u"kafka"_qs, u"-b"_qs, m_bootstrap, u"-t"_qs, topic, u"--from"_qs, from, u"--to"_qs, to, u"-o"_qs, path});
            QList<qint64> offsets;
            for (const Event &e : readTape(path))
                offsets.append(e.position);
            return offsets;
        };
        QCOMPARE(record(u"@2500"_qs, u"@5000"_qs), (QList<qint64>{2, 3, 4}));
        QCOMPARE(record(u"@3000"_qs, u"@3000"_qs), (QList<qint64>{2}));
        QCOMPARE(record(u"7"_qs, u"end"_qs), (QList<qint64>{7, 8, 9}));
        QCOMPARE(record(u"beginning"_qs, u"1"_qs), (QList<qint64>{0, 1}));
        QCOMPARE(record(u"@99999"_qs, u"end"_qs), QList<qint64>{});
        QCOMPARE(record(u"end"_qs, u"end"_qs), QList<qint64>{});
    }

    void liveFollow()
    {
        const QString topic = uniqueTopic("follow");
        createTopic(topic, 2);
        KafkaRecordOptions options;
        options.connection = connection();
        options.topics = {topic};
        options.from = {KafkaPosition::End, 0};
        options.follow = true;
        options.flushIntervalMs = 50;
        KafkaRecorder recorder(options);
        QString error;
        QVERIFY2(recorder.prepare(&error), qPrintable(error));
        const QString path = m_dir.filePath(u"follow.tape"_qs);
        TapeWriter writer;
        QVERIFY(writer.create(path, {}));
        std::atomic<bool> cancel{false};
        bool ok = false;
        QString recordError;
        std::thread worker([&] { ok = recorder.record(writer, &cancel, {}, &recordError); });

        KafkaProducer producer(connection());
        QVERIFY(producer.open(&error));
        auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        for (int round = 1; round <= 3; ++round) {
            for (int i = 0; i < 50; ++i)
                QVERIFY(producer.produce(topic, i % 2, QByteArray::number(i), QByteArray::number(round), {}, 0, &error));
            QVERIFY(producer.flush(&error));
            // The tape grows while the recording runs; a reader sees it within a flush interval.
            QTRY_COMPARE_WITH_TIMEOUT((tape->refresh(&error), tape->eventCount()), qint64(50 * round), 15000);
        }
        cancel = true;
        worker.join();
        QVERIFY2(ok, qPrintable(recordError));
        QVERIFY(writer.close());
        const QList<Event> events = readTape(path);
        QCOMPARE(events.size(), 150);
        QCOMPARE(*events.last().value, QByteArray("3"));
    }

    void transactionsAndIsolation()
    {
        const QString topic = uniqueTopic("txn");
        createTopic(topic, 1);
        KafkaProducer txn(connection());
        KafkaProducer plain(connection());
        QString error;
        QVERIFY2(txn.open(&error, u"tst-txn-"_qs + topic), qPrintable(error));
        QVERIFY(plain.open(&error));
        QVERIFY(plain.produce(topic, 0, QByteArray("p1"), QByteArray("plain"), {}, 0, &error));
        QVERIFY(plain.flush(&error));
        QVERIFY(txn.beginTransaction(&error));
        for (const char *k : {"c1", "c2", "c3"})
            QVERIFY(txn.produce(topic, 0, QByteArray(k), QByteArray("committed"), {}, 0, &error));
        QVERIFY2(txn.commitTransaction(&error), qPrintable(error));
        QVERIFY(txn.beginTransaction(&error));
        for (const char *k : {"a1", "a2"})
            QVERIFY(txn.produce(topic, 0, QByteArray(k), QByteArray("aborted"), {}, 0, &error));
        QVERIFY(txn.flush(&error));
        QVERIFY2(txn.abortTransaction(&error), qPrintable(error));
        QVERIFY(plain.produce(topic, 0, QByteArray("p2"), QByteArray("plain"), {}, 0, &error));
        QVERIFY(plain.flush(&error));

        auto keys = [&](const QStringList &extra) {
            const QString path = m_dir.filePath(QUuid::createUuid().toString(QUuid::Id128) + u".tape"_qs);
            runTape(QStringList{u"record"_qs, u"kafka"_qs, u"-b"_qs, m_bootstrap, u"-t"_qs, topic, u"-o"_qs, path} + extra);
            QStringList out;
            for (const Event &e : readTape(path))
                out.append(QString::fromUtf8(*e.key) + ((e.flags & Aborted) ? u"!"_qs : QString()));
            return out;
        };
        QCOMPARE(keys({}), (QStringList{u"p1"_qs, u"c1"_qs, u"c2"_qs, u"c3"_qs, u"p2"_qs}));
        QCOMPARE(keys({u"--isolation"_qs, u"read_uncommitted"_qs}),
                 (QStringList{u"p1"_qs, u"c1"_qs, u"c2"_qs, u"c3"_qs, u"a1"_qs, u"a2"_qs, u"p2"_qs}));
        QCOMPARE(keys({u"--show-aborted"_qs}), (QStringList{u"p1"_qs, u"c1"_qs, u"c2"_qs, u"c3"_qs, u"a1!"_qs, u"a2!"_qs, u"p2"_qs}));
        // Offsets keep the gaps of the transaction markers: 0 p1, 1-3 c*, 4 commit marker, 5-6 a*;
        // the broker writes the abort marker asynchronously, so p2 is at 7 or 8.
        const QString path = m_dir.filePath(u"txn-offsets.tape"_qs);
        runTape({u"record"_qs, u"kafka"_qs, u"-b"_qs, m_bootstrap, u"-t"_qs, topic, u"--show-aborted"_qs, u"-o"_qs, path});
        QList<qint64> offsets;
        for (const Event &e : readTape(path))
            offsets.append(e.position);
        QCOMPARE(offsets.size(), 7);
        QCOMPARE(offsets.mid(0, 6), (QList<qint64>{0, 1, 2, 3, 5, 6}));
        QVERIFY2(offsets[6] == 7 || offsets[6] == 8, qPrintable(QString::number(offsets[6])));
    }

    void compactedTopicAndConfigs()
    {
        const QString topic = uniqueTopic("compact");
        createTopic(topic, 1, {{u"cleanup.policy"_qs, u"compact"_qs}, {u"min.cleanable.dirty.ratio"_qs, u"0.01"_qs}, {u"segment.ms"_qs, u"100"_qs}});
        KafkaProducer producer(connection());
        QString error;
        QVERIFY(producer.open(&error));
        QVERIFY(producer.produce(topic, 0, QByteArray("k"), QByteArray("1"), {}, 0, &error));
        QVERIFY(producer.produce(topic, 0, QByteArray("k"), std::nullopt, {}, 0, &error));
        QVERIFY(producer.flush(&error));
        const QString path = m_dir.filePath(u"compact.tape"_qs);
        runTape({u"record"_qs, u"kafka"_qs, u"-b"_qs, m_bootstrap, u"-t"_qs, topic, u"-o"_qs, path});
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        QCOMPARE(tape->eventCount(), 2);
        const QJsonObject configs = tape->metadata().parameters.value(u"topicConfigs"_qs).toObject().value(topic).toObject();
        QCOMPARE(configs.value(u"cleanup.policy"_qs).toString(), u"compact"_qs);
        QCOMPARE(configs.value(u"min.cleanable.dirty.ratio"_qs).toString(), u"0.01"_qs);
        QCOMPARE(configs.value(u"segment.ms"_qs).toString(), u"100"_qs);
        QVERIFY(tape->metadata().sourceKind == SourceKind::Kafka);

        const QByteArray topics = runTape({u"topics"_qs, u"-b"_qs, m_bootstrap, u"-t"_qs, topic}, /*stdout*/ true);
        QVERIFY2(topics.contains(QByteArray("topic \"" + topic.toUtf8() + "\": 1 partitions, replication factor 1, cleanup.policy=compact\n")), topics.constData());
        QVERIFY2(topics.contains("  partition 0: leader 1, offsets 0..2 (2 records)\n"), topics.constData());
    }

    void errorsAreClear()
    {
        QProcess p;
        p.start(QStringLiteral(TAPE_EXECUTABLE), {u"record"_qs, u"kafka"_qs, u"-b"_qs, m_bootstrap, u"-t"_qs, u"no-such-topic-xyz"_qs, u"-o"_qs, m_dir.filePath(u"x.tape"_qs)});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        QCOMPARE(p.readAllStandardError(), QByteArray("tape: topic no-such-topic-xyz: topic does not exist\n"));
        QVERIFY(!QFile::exists(m_dir.filePath(u"x.tape"_qs)));

        p.start(QStringLiteral(TAPE_EXECUTABLE), {u"topics"_qs, u"-b"_qs, u"127.0.0.1:1"_qs, u"-X"_qs, u"socket.connection.setup.timeout.ms=1000"_qs});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        const QByteArray err = p.readAllStandardError();
        QVERIFY2(err.startsWith("tape: cannot read metadata from 127.0.0.1:1: Local: Broker transport failure (Connect to ipv4#127.0.0.1:1 failed: Connection refused"), err.constData());
        QCOMPARE(err.count('\n'), 1); // one line: librdkafka's own log stays out of stderr
    }

    void consumerGroupsAreUnchanged()
    {
        // Runs last: every recording above assigned partitions without joining or committing.
        KafkaAdmin admin(connection());
        QString error;
        const auto groups = admin.consumerGroups(&error);
        QVERIFY2(groups, qPrintable(error));
        QCOMPARE(*groups, m_groupsBefore);
    }

private:
    KafkaConnection connection() const { return KafkaConnection{m_bootstrap, {}}; }

    void createTopic(const QString &name, int partitions, const QMap<QString, QString> &configs = {})
    {
        KafkaAdmin admin(connection());
        QString error;
        QVERIFY2(admin.createTopic(name, partitions, 1, configs, &error), qPrintable(error));
    }

    // Runs the tape CLI; returns stderr (or stdout), fails the test on a non-zero exit.
    QByteArray runTape(const QStringList &args, bool wantStdout = false)
    {
        QProcess p;
        p.start(QStringLiteral(TAPE_EXECUTABLE), args);
        if (!p.waitForFinished(120000))
            qWarning() << "tape did not finish" << args;
        const QByteArray err = p.readAllStandardError();
        if (p.exitCode() != 0)
            qWarning() << "tape" << args << "failed:" << err;
        return wantStdout ? p.readAllStandardOutput() : err;
    }

    QString m_bootstrap;
    QStringList m_groupsBefore;
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestKafkaBroker)
#include "tst_kafka_broker.moc"
