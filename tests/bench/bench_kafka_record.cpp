// `tape record kafka` throughput against kcat on the same topic of the real
// broker (TAPEDECK_KAFKA_BOOTSTRAP), in the same run:
//   bench_kafka_record [N records, default 2 000 000] [partitions, default 4]
// Reports records/s for `kcat -C -e -o beginning > /dev/null` and for
// `tape record kafka ... -o FILE`, best of 2 runs each, and their ratio (goal >= 1.0).
#include "connectors/kafka/kafkaadmin.h"
#include "connectors/kafka/kafkaproducer.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QUuid>

#include <cstdio>

using namespace tapedeck;

namespace {

double timeCommand(const QString &shell, QString *error)
{
    QElapsedTimer t;
    t.start();
    QProcess p;
    p.start(QStringLiteral("sh"), {QStringLiteral("-c"), shell});
    if (!p.waitForFinished(600000) || p.exitCode() != 0) {
        *error = QStringLiteral("%1 failed: %2").arg(shell, QString::fromLocal8Bit(p.readAllStandardError()));
        return -1;
    }
    return double(t.nsecsElapsed()) / 1e9;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const qint64 n = argc > 1 ? QByteArray(argv[1]).toLongLong() : 2'000'000;
    const int partitions = argc > 2 ? QByteArray(argv[2]).toInt() : 4;
    const QString bootstrap = qEnvironmentVariable("TAPEDECK_KAFKA_BOOTSTRAP");
    if (bootstrap.isEmpty()) {
        std::fprintf(stderr, "TAPEDECK_KAFKA_BOOTSTRAP is not set: start the broker with scripts/services/kafka.sh start\n");
        return 1;
    }
    const KafkaConnection connection{bootstrap, {}};
    const QString topic = QStringLiteral("bench-record-") + QUuid::createUuid().toString(QUuid::Id128).left(8);
    QString error;
    KafkaAdmin admin(connection);
    if (!admin.createTopic(topic, partitions, 1, {}, &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    KafkaProducer producer(connection);
    if (!producer.open(&error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    QElapsedTimer t;
    t.start();
    for (qint64 i = 0; i < n; ++i) {
        const QByteArray key = QByteArray("key-") + QByteArray::number(i % 100000);
        const QByteArray value = QByteArray("{\"id\":") + QByteArray::number(i) + ",\"status\":\"paid\",\"amount\":" + QByteArray::number(i % 997) + "}";
        if (!producer.produce(topic, -1, key, value, {}, 0, &error)) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 1;
        }
    }
    if (!producer.flush(&error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    std::printf("bench_kafka_record: %lld records (~60 B values, 10 B keys) in %d partitions of topic %s, produced in %.1f s\n",
                static_cast<long long>(n), partitions, qPrintable(topic), double(t.nsecsElapsed()) / 1e9);

    QTemporaryDir dir;
    const QString tape = QStringLiteral(TAPE_EXECUTABLE);
    double kcatBest = 1e9, tapeBest = 1e9;
    for (int round = 0; round < 2; ++round) {
        const double k = timeCommand(QStringLiteral("kcat -C -b %1 -t %2 -e -o beginning -q > /dev/null").arg(bootstrap, topic), &error);
        const double r = timeCommand(QStringLiteral("%1 record kafka -b %2 -t %3 -o %4/r%5.tape 2>/dev/null")
                                         .arg(tape, bootstrap, topic, dir.path()).arg(round), &error);
        if (k < 0 || r < 0) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 1;
        }
        kcatBest = std::min(kcatBest, k);
        tapeBest = std::min(tapeBest, r);
    }
    std::printf("kcat -C -e > /dev/null:  %.2f s  %.2f M records/s\n", kcatBest, double(n) / kcatBest / 1e6);
    std::printf("tape record kafka:       %.2f s  %.2f M records/s (into a tape file)\n", tapeBest, double(n) / tapeBest / 1e6);
    std::printf("ratio tape/kcat throughput: %.2f (goal >= 1.0)\n", kcatBest / tapeBest);
    if (qEnvironmentVariableIsEmpty("BENCH_KEEP_TOPIC"))
        admin.deleteTopic(topic, &error);
    return 0;
}
