#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace tapedeck {

// Where an event came from. Stored per stream in a tape (a stream is one
// kind/cluster/topic/partition combination), so it costs nothing per event.
enum class SourceKind : quint8 { Unknown = 0, Kafka = 1, Postgres = 2, File = 3 };

enum class TimestampType : quint8 {
    NotAvailable = 0,
    CreateTime = 1,    // Kafka CreateTime (producer clock)
    LogAppendTime = 2, // Kafka LogAppendTime (broker clock)
    CommitTime = 3,    // Postgres commit timestamp
};

// Record = a plain Kafka record; the rest are change-data-capture operations.
// Read = a row from a starting snapshot.
enum class Operation : quint8 {
    Record = 0, Insert, Update, Delete, Truncate, Begin, Commit, Message, Read
};

enum EventFlag : quint8 {
    NoFlags = 0,
    Transactional = 1, // part of a Kafka transaction
    Aborted = 2,       // part of an aborted Kafka transaction
    ControlRecord = 4, // a Kafka transaction marker
};

struct Header
{
    QByteArray name;
    std::optional<QByteArray> value; // nullopt: a header with a null value
    bool operator==(const Header &) const = default;
};

// One column of a change event's old or new row. Values are the text form
// the source sent (pgoutput text, test_decoding, wal2json), never converted
// to a C++ number, so nothing loses precision.
struct Column
{
    QString name;
    QString type;                    // type name or OID as text, may be empty
    std::optional<QByteArray> value; // nullopt: SQL NULL
    bool unchangedToast = false;     // pgoutput 'u': value not sent
    bool operator==(const Column &) const = default;
};
using Row = QList<Column>;

// µs -> ms rounded down, so that times before 1970 stay monotonic (Kafka's and JavaScript's millisecond timestamps).
constexpr qint64 floorMs(qint64 us)
{
    return us < 0 ? us / 1000 - (us % 1000 ? 1 : 0) : us / 1000;
}

struct Event
{
    SourceKind kind = SourceKind::Unknown;
    QString cluster;   // Kafka bootstrap/cluster id, or Postgres database
    QString topic;     // Kafka topic, or schema.table for change events
    qint32 partition = -1;
    qint64 position = -1; // Kafka offset, or Postgres LSN (< 2^63)
    qint64 timestampUs = -1; // microseconds since the Unix epoch
    TimestampType timestampType = TimestampType::NotAvailable;
    qint32 broker = -1;      // broker id that served it, -1 unknown
    qint32 leaderEpoch = -1; // -1 unknown
    quint8 flags = NoFlags;  // EventFlag bits
    std::optional<QByteArray> key;   // nullopt: null key
    std::optional<QByteArray> value; // nullopt: tombstone / delete
    QList<Header> headers;           // order kept, duplicates kept

    // Change events (Operation != Record).
    Operation operation = Operation::Record;
    qint64 transactionId = -1;
    qint64 commitLsn = -1;
    qint64 commitTimeUs = -1;
    Row oldRow;
    Row newRow;
    QStringList primaryKey; // names of the primary-key columns

    bool isTombstone() const { return !value.has_value(); }
    bool isChange() const { return operation != Operation::Record; }
    qint64 timestampMs() const { return floorMs(timestampUs); }
    bool operator==(const Event &) const = default;
};

QString toString(SourceKind kind);
QString toString(TimestampType type);
QString toString(Operation op);
std::optional<SourceKind> sourceKindFromString(QStringView text);
std::optional<Operation> operationFromString(QStringView text);

} // namespace tapedeck
