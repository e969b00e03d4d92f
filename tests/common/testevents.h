#pragma once

#include "core/event/event.h"
#include "core/kcat/kcatjson.h"

#include <QTest>

// Deterministic events for tests and benchmarks: event i always has the same
// fields, so a reader can check any event it gets back without keeping a copy.
namespace tapedeck::testing {

inline Event kafkaEvent(qint64 i, int partitions = 4)
{
    Event e;
    e.kind = SourceKind::Kafka;
    e.cluster = QStringLiteral("test-cluster");
    e.topic = (i % 3 == 0) ? QStringLiteral("orders") : QStringLiteral("payments");
    e.partition = int(i % partitions);
    e.position = i / partitions;
    e.timestampUs = 1767261600000000 + i * 1000;
    e.timestampType = TimestampType::CreateTime;
    e.broker = 1;
    e.key = QByteArray("order-") + QByteArray::number(i % 1000);
    if (i % 17 == 5)
        e.value = std::nullopt; // tombstone
    else
        e.value = QByteArray("{\"id\":") + QByteArray::number(i) + ",\"status\":\"" + (i % 2 ? "paid" : "created")
            + "\",\"amount\":" + QByteArray::number(i % 997) + ".5}";
    if (i % 5 == 0)
        e.headers = {{"trace-id", QByteArray("t-") + QByteArray::number(i)}, {"empty", std::nullopt}};
    return e;
}

inline Event changeEvent(qint64 i)
{
    Event e;
    e.kind = SourceKind::Postgres;
    e.cluster = QStringLiteral("shop");
    e.topic = QStringLiteral("public.orders");
    e.partition = 0;
    e.position = 0x1000000 + i * 0x40;
    e.timestampUs = 1767261600000000 + i * 1000 + 123;
    e.timestampType = TimestampType::CommitTime;
    e.operation = i % 3 == 0 ? Operation::Insert : (i % 3 == 1 ? Operation::Update : Operation::Delete);
    e.transactionId = 700 + i;
    e.commitLsn = e.position + 0x30;
    e.commitTimeUs = e.timestampUs;
    e.primaryKey = {QStringLiteral("id")};
    e.key = QByteArray("{\"id\":") + QByteArray::number(i) + '}';
    const Row row{{QStringLiteral("id"), QStringLiteral("int8"), QByteArray::number(i), false},
                  {QStringLiteral("note"), QStringLiteral("text"), std::nullopt, false},
                  {QStringLiteral("blob"), QStringLiteral("bytea"), std::nullopt, true}};
    if (e.operation != Operation::Delete) {
        e.value = QByteArray("{\"id\":") + QByteArray::number(i) + '}';
        e.newRow = row;
    }
    if (e.operation != Operation::Insert)
        e.oldRow = Row{row.first()};
    return e;
}

} // namespace tapedeck::testing

// QTest prints these on a failed QCOMPARE (found by argument-dependent lookup).
namespace tapedeck {
inline char *toString(const Event &e)
{
    return qstrdup(kcatjson::serialize(e).constData());
}
} // namespace tapedeck

namespace std {
template<typename T>
char *toString(const std::optional<T> &v)
{
    using QTest::toString;
    return v ? toString(*v) : qstrdup("nullopt");
}
} // namespace std
