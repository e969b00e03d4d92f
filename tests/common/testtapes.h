#pragma once

#include "core/tape/tapewriter.h"

#include <QDateTime>
#include <QString>
#include <QTimeZone>

// Small tapes written with TapeWriter for the filter and GUI tests.
namespace testtapes {

using namespace tapedeck;

// 2026-03-01 12:34:56.789 UTC
inline constexpr qint64 BaseTimeUs = 1772368496789000LL;

inline Event kafka(const QString &topic, qint32 partition, qint64 offset, std::optional<QByteArray> key,
                   std::optional<QByteArray> value, QList<Header> headers = {}, qint64 timeUs = BaseTimeUs)
{
    Event e;
    e.kind = SourceKind::Kafka;
    e.cluster = QStringLiteral("localhost:9092");
    e.topic = topic;
    e.partition = partition;
    e.position = offset;
    e.timestampUs = timeUs;
    e.timestampType = TimestampType::CreateTime;
    e.key = std::move(key);
    e.value = std::move(value);
    e.headers = std::move(headers);
    return e;
}

inline Column column(const QString &name, const QString &type, std::optional<QByteArray> value)
{
    Column c;
    c.name = name;
    c.type = type;
    c.value = std::move(value);
    return c;
}

// The events of the "sample" tape, in order (sequence numbers 0..9).
inline QList<Event> sampleEvents()
{
    QList<Event> events;
    // 0
    events << kafka(QStringLiteral("orders"), 0, 100, QByteArray("order-1"),
                    QByteArray(R"({"id":1,"status":"NEW","amount":12.5})"),
                    {Header{"trace", QByteArray("abc")}});
    // 1: null key
    events << kafka(QStringLiteral("orders"), 1, 7, std::nullopt,
                    QByteArray(R"({"id":2,"status":"FAILED","items":[1,2],"note":null,"ok":false})"), {},
                    BaseTimeUs + 1000);
    // 2: nested JSON, two headers
    events << kafka(QStringLiteral("orders"), 0, 101, QByteArray("order-3"),
                    QByteArray(R"({"id":3,"status":"FAILED","customer":{"name":"Zoë","vip":true},"tags":[]})"),
                    {Header{"a", QByteArray("1")}, Header{"b", QByteArray("2")}}, BaseTimeUs + 2000);
    // 3: tombstone
    events << kafka(QStringLiteral("orders"), 0, 102, QByteArray("order-1"), std::nullopt, {}, BaseTimeUs + 3000);
    // 4: binary key and value, a header with a null value
    events << kafka(QStringLiteral("payments"), 2, 5, QByteArray("\x00\xffk", 3),
                    QByteArray("\x00\x01\x02\xfftext\\", 9), {Header{"retry", std::nullopt}}, BaseTimeUs + 4000);
    // 5: plain text value, no timestamp
    events << kafka(QStringLiteral("payments"), 2, 6, QByteArray("p-2"), QByteArray("hello\nworld"), {}, -1);
    // 6: Postgres insert
    {
        Event e;
        e.kind = SourceKind::Postgres;
        e.cluster = QStringLiteral("shop");
        e.topic = QStringLiteral("public.users");
        e.position = (qint64(0x1) << 32) | 0x6B3748;
        e.timestampUs = BaseTimeUs + 6000;
        e.timestampType = TimestampType::CommitTime;
        e.operation = Operation::Insert;
        e.transactionId = 742;
        e.newRow = {column(QStringLiteral("id"), QStringLiteral("int4"), QByteArray("1")),
                    column(QStringLiteral("name"), QStringLiteral("text"), QByteArray("alice")),
                    column(QStringLiteral("email"), QStringLiteral("text"), std::nullopt)};
        e.primaryKey = {QStringLiteral("id")};
        events << e;
    }
    // 7: Postgres update
    {
        Event e = events.last();
        e.position += 0x100;
        e.timestampUs = BaseTimeUs + 7000;
        e.operation = Operation::Update;
        e.oldRow = e.newRow;
        e.newRow[1].value = QByteArray("alicia");
        events << e;
    }
    // 8: many headers (shown as a count)
    {
        QList<Header> many;
        for (int i = 0; i < 8; ++i)
            many << Header{QByteArray("header-") + QByteArray::number(i), QByteArray("value-") + QByteArray::number(i)};
        events << kafka(QStringLiteral("orders"), 1, 8, QByteArray("order-4"), QByteArray(R"({"id":4,"status":"NEW"})"),
                        many, BaseTimeUs + 8000);
    }
    // 9: long value
    events << kafka(QStringLiteral("orders"), 1, 9, QByteArray("order-5"), QByteArray(300, 'x'), {}, BaseTimeUs + 9000);
    return events;
}

inline bool writeTape(const QString &path, const QList<Event> &events, int maxChunkEvents, QString *error)
{
    TapeWriter writer;
    TapeMetadata metadata;
    metadata.sourceKind = SourceKind::Kafka;
    metadata.source = QStringLiteral("test tape");
    metadata.createdBy = QStringLiteral("tests/ui");
    TapeWriter::Options options;
    options.maxChunkEvents = maxChunkEvents;
    if (!writer.create(path, metadata, options)) {
        *error = writer.errorString();
        return false;
    }
    for (const Event &e : events) {
        if (!writer.append(e)) {
            *error = writer.errorString();
            return false;
        }
    }
    if (!writer.close()) {
        *error = writer.errorString();
        return false;
    }
    return true;
}

inline bool writeSampleTape(const QString &path, QString *error)
{
    // Chunks of 4 events, so the sample spans three chunks.
    return writeTape(path, sampleEvents(), 4, error);
}

// Event i of the "numbered" tape: partition i % 4, key "k<i % 100>",
// value {"n":i,"status":"FAILED" when i % 3 == 0 else "OK"}, a tombstone
// every 1000th event (i % 1000 == 999), header "h" = "<i % 5>".
inline Event numberedEvent(int i)
{
    std::optional<QByteArray> value;
    if (i % 1000 != 999)
        value = QByteArray(R"({"n":)") + QByteArray::number(i) + R"(,"status":")" + (i % 3 == 0 ? "FAILED" : "OK") + "\"}";
    return kafka(QStringLiteral("numbers"), i % 4, i / 4, QByteArray("k") + QByteArray::number(i % 100), value,
                 {Header{"h", QByteArray::number(i % 5)}}, BaseTimeUs + qint64(i) * 1000);
}

inline bool writeNumberedTape(const QString &path, int count, int maxChunkEvents, QString *error)
{
    TapeWriter writer;
    TapeMetadata metadata;
    metadata.sourceKind = SourceKind::Kafka;
    metadata.source = QStringLiteral("numbered test tape");
    TapeWriter::Options options;
    options.maxChunkEvents = maxChunkEvents;
    if (!writer.create(path, metadata, options)) {
        *error = writer.errorString();
        return false;
    }
    for (int i = 0; i < count; ++i) {
        if (!writer.append(numberedEvent(i))) {
            *error = writer.errorString();
            return false;
        }
    }
    if (!writer.close()) {
        *error = writer.errorString();
        return false;
    }
    return true;
}

} // namespace testtapes
