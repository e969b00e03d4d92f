#include "core/demo/demotape.h"

#include "core/tape/tapewriter.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace tapedeck {

namespace {

constexpr qint64 StartUs = 1767261600000000; // 2026-01-01T10:00:00Z

struct Story
{
    TapeWriter writer;
    qint64 nowUs = StartUs;
    QHash<QString, qint64> offsets;
    qint64 lsn = 0x16b3748;
    qint64 txid = 7400;

    bool kafka(const QString &topic, int partition, const QByteArray &key, const std::optional<QByteArray> &value,
               QList<Header> headers = {}, quint8 flags = NoFlags)
    {
        Event e;
        e.kind = SourceKind::Kafka;
        e.cluster = QStringLiteral("demo");
        e.topic = topic;
        e.partition = partition;
        const QString lane = topic + QLatin1Char('/') + QString::number(partition);
        e.position = offsets.value(lane, 0);
        offsets[lane] = e.position + 1;
        e.timestampUs = nowUs;
        e.timestampType = TimestampType::CreateTime;
        e.broker = 1;
        e.leaderEpoch = 0;
        e.key = key;
        e.value = value;
        e.headers = std::move(headers);
        e.flags = flags;
        return writer.append(e);
    }

    static Row row(qint64 id, const QString &customer, const QString &status, const QString &amount)
    {
        return Row{{QStringLiteral("id"), QStringLiteral("int8"), QByteArray::number(id), false},
                   {QStringLiteral("customer"), QStringLiteral("text"), customer.toUtf8(), false},
                   {QStringLiteral("status"), QStringLiteral("text"), status.toUtf8(), false},
                   {QStringLiteral("amount"), QStringLiteral("numeric"), amount.toUtf8(), false}};
    }

    bool change(Operation op, qint64 id, const Row &newRow, const Row &oldRow = {})
    {
        Event e;
        e.kind = SourceKind::Postgres;
        e.cluster = QStringLiteral("shop");
        e.topic = QStringLiteral("public.orders");
        e.partition = 0;
        lsn += 0x68;
        e.position = lsn;
        e.timestampUs = nowUs + 1500; // commit lands a moment before the Kafka write
        e.timestampType = TimestampType::CommitTime;
        e.operation = op;
        e.transactionId = ++txid;
        e.commitLsn = lsn + 0x30;
        e.commitTimeUs = e.timestampUs;
        e.primaryKey = {QStringLiteral("id")};
        e.key = QByteArray("{\"id\":") + QByteArray::number(id) + '}';
        if (op != Operation::Delete) {
            QJsonObject o;
            for (const Column &c : newRow)
                o.insert(c.name, c.type == QLatin1String("int8") ? QJsonValue(c.value->toLongLong()) : QJsonValue(QString::fromUtf8(*c.value)));
            e.value = QJsonDocument(o).toJson(QJsonDocument::Compact);
        }
        e.newRow = newRow;
        e.oldRow = oldRow;
        return writer.append(e);
    }
};

QByteArray order(qint64 id, const char *customer, const char *status, const char *amount)
{
    return QByteArray("{\"id\":") + QByteArray::number(id) + ",\"customer\":\"" + customer + "\",\"status\":\"" + status
        + "\",\"amount\":\"" + amount + "\"}";
}

} // namespace

bool writeDemoTape(const QString &path, QString *error)
{
    Story s;
    TapeMetadata meta;
    meta.sourceKind = SourceKind::File;
    meta.source = QStringLiteral("Tapedeck demo: a shop's orders, as Kafka records and as Postgres changes");
    meta.recordedAt = QDateTime::fromMSecsSinceEpoch(StartUs / 1000, Qt::UTC);
    meta.createdBy = QStringLiteral("tapedeck " TAPEDECK_VERSION);
    meta.parameters = QJsonObject{{QStringLiteral("demo"), true}};
    TapeWriter::Options options;
    options.maxChunkEvents = 64; // several chunks even for a small tape
    if (!s.writer.create(path, meta, options)) {
        *error = s.writer.errorString();
        return false;
    }
    const char *customers[] = {"ada", "grace", "linus", "barbara", "ken", "margaret", "dennis", "frances"};
    const char *amounts[] = {"19.99", "250.00", "7.50", "1200.00", "42.00", "3.14", "99.90", "15.00"};
    bool ok = true;
    auto hdrs = [](const char *trace) {
        return QList<Header>{{"trace-id", QByteArray(trace)}, {"source", QByteArray("checkout-service")}};
    };
    // 1. Orders are created, then paid, then shipped: keyed updates on both paths.
    for (int i = 0; i < 8 && ok; ++i) {
        const qint64 id = 1001 + i;
        const QByteArray key = QByteArray::number(id);
        s.nowUs += 350000 + i * 12000;
        ok = ok && s.change(Operation::Insert, id, Story::row(id, QString::fromLatin1(customers[i]), QStringLiteral("created"), QString::fromLatin1(amounts[i])));
        ok = ok && s.kafka(QStringLiteral("orders"), int(id % 2), key, order(id, customers[i], "created", amounts[i]),
                           hdrs(QByteArray("t-" + key + "-1").constData()));
    }
    for (int i = 0; i < 8 && ok; ++i) {
        const qint64 id = 1001 + i;
        const QByteArray key = QByteArray::number(id);
        s.nowUs += 900000;
        const Row before = Story::row(id, QString::fromLatin1(customers[i]), QStringLiteral("created"), QString::fromLatin1(amounts[i]));
        ok = ok && s.change(Operation::Update, id, Story::row(id, QString::fromLatin1(customers[i]), QStringLiteral("paid"), QString::fromLatin1(amounts[i])), before);
        ok = ok && s.kafka(QStringLiteral("payments"), 0, key,
                           QByteArray("{\"order\":") + key + ",\"amount\":\"" + amounts[i] + "\",\"method\":\"card\"}",
                           hdrs(QByteArray("t-" + key + "-2").constData()), Transactional);
        ok = ok && s.kafka(QStringLiteral("orders"), int(id % 2), key, order(id, customers[i], "paid", amounts[i]),
                           hdrs(QByteArray("t-" + key + "-2").constData()), Transactional);
    }
    // 2. Order 1004 is cancelled: the database commits, the Kafka write is lost
    //    (the dual-write problem). The log and the table now disagree.
    s.nowUs += 2000000;
    ok = ok && s.change(Operation::Update, 1004, Story::row(1004, QStringLiteral("barbara"), QStringLiteral("cancelled"), QStringLiteral("1200.00")),
                        Story::row(1004, QStringLiteral("barbara"), QStringLiteral("paid"), QStringLiteral("1200.00")));
    // 3. Order 1006 is deleted (GDPR request): a delete and a Kafka tombstone.
    s.nowUs += 1500000;
    ok = ok && s.change(Operation::Delete, 1006, {}, Story::row(1006, QStringLiteral("margaret"), QStringLiteral("paid"), QStringLiteral("3.14")));
    ok = ok && s.kafka(QStringLiteral("orders"), 0, "1006", std::nullopt, hdrs("t-1006-3"));
    // 4. Shipping: more updates of the same keys, the food of compaction.
    for (int i : {0, 1, 2, 4, 6, 7}) {
        const qint64 id = 1001 + i;
        const QByteArray key = QByteArray::number(id);
        s.nowUs += 600000;
        ok = ok && s.change(Operation::Update, id, Story::row(id, QString::fromLatin1(customers[i]), QStringLiteral("shipped"), QString::fromLatin1(amounts[i])),
                            Story::row(id, QString::fromLatin1(customers[i]), QStringLiteral("paid"), QString::fromLatin1(amounts[i])));
        ok = ok && s.kafka(QStringLiteral("orders"), int(id % 2), key, order(id, customers[i], "shipped", amounts[i]),
                           hdrs(QByteArray("t-" + key + "-4").constData()));
    }
    // 5. A payment that was rolled back (aborted transaction) and a binary
    //    record from a legacy producer.
    s.nowUs += 800000;
    ok = ok && s.kafka(QStringLiteral("payments"), 0, "1003", QByteArray("{\"order\":1003,\"amount\":\"7.50\",\"method\":\"refund\"}"),
                       hdrs("t-1003-5"), Transactional | Aborted);
    s.nowUs += 400000;
    ok = ok && s.kafka(QStringLiteral("payments"), 0, "legacy", QByteArray("\x00\x01\x02\xff\xfe payment blob", 18),
                       {{"content-type", QByteArray("application/octet-stream")}, {"null-header", std::nullopt}});
    // 6. Customer profiles: a small compacted topic with a tombstone.
    for (int round = 0; round < 3 && ok; ++round) {
        for (int i = 0; i < 4 && ok; ++i) {
            s.nowUs += 250000;
            const QByteArray value = QByteArray("{\"name\":\"") + customers[i] + "\",\"tier\":\"" + (round == 2 ? "gold" : "silver") + "\",\"version\":" + QByteArray::number(round + 1) + '}';
            ok = ok && s.kafka(QStringLiteral("customers"), 0, customers[i], value);
        }
    }
    s.nowUs += 500000;
    ok = ok && s.kafka(QStringLiteral("customers"), 0, "linus", std::nullopt);
    ok = ok && s.writer.close();
    if (!ok)
        *error = s.writer.errorString();
    return ok;
}

} // namespace tapedeck
