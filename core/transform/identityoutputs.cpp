#include "core/transform/transform.h"

#include "core/transform/changerowjson.h"

// The replay without a transform (identityOutputs() in transform.h).

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

// The last column of `row` named `name` that has a value (an unchanged
// TOASTed one has none), or nullptr.
const Column *lastColumn(const Row &row, const QString &name)
{
    const Column *found = nullptr;
    for (const Column &c : row) {
        if (c.name == name && !c.unchangedToast)
            found = &c;
    }
    return found;
}

// The primary-key columns the old row holds (the last of a name, as for the
// key itself), in key order; a column the old row lacks is left out.
Row oldKeyColumns(const Event &event)
{
    Row key;
    for (const QString &name : event.primaryKey) {
        if (const Column *found = lastColumn(event.oldRow, name))
            key.append(*found);
    }
    return key;
}

SinkOutput kafkaOutput(qint64 seq, const QString &topic)
{
    SinkOutput out;
    out.kind = SinkOutput::Kind::Kafka;
    out.seq = seq;
    out.topic = topic;
    return out;
}

// Into Kafka a change event becomes key = PK JSON, value = new row JSON
// (null: delete). An update that changed the primary key first writes
// a tombstone for the old key, as a delete of it would.
void changeIntoKafka(const Event &event, qint64 seq, const QString &kafkaTopic, QList<SinkOutput> *outputs)
{
    if (event.operation == Operation::Update && !event.primaryKey.isEmpty() && event.key) {
        const Row oldKey = oldKeyColumns(event);
        if (oldKey.size() == event.primaryKey.size()) {
            const QByteArray oldJson = changeRowJson(oldKey);
            if (oldJson != *event.key) {
                SinkOutput gone = kafkaOutput(seq, kafkaTopic);
                gone.kafkaKey = oldJson;
                outputs->append(std::move(gone));
            }
        }
    }
    SinkOutput out = kafkaOutput(seq, kafkaTopic);
    out.kafkaKey = event.key;
    out.kafkaValue = event.value;
    outputs->append(std::move(out));
}

SinkField sinkField(const Column &c)
{
    return SinkField{c.name, SinkValue{c.value, c.type}};
}

bool changeIntoSql(const Event &event, qint64 seq, QList<SinkOutput> *outputs, QString *error)
{
    SinkOutput out;
    out.seq = seq;
    out.table = event.topic;
    out.key.reserve(event.primaryKey.size());
    out.row.reserve(event.newRow.size());
    const bool isDelete = event.operation == Operation::Delete;
    for (const QString &name : event.primaryKey) {
        const Column *found = isDelete ? nullptr : lastColumn(event.newRow, name);
        if (!found)
            found = lastColumn(event.oldRow, name);
        if (!found) {
            *error = u"event #%1: %2 %3 lacks key column \"%4\""_s.arg(seq).arg(toString(event.operation), event.topic, name);
            return false;
        }
        out.key.append(sinkField(*found));
    }
    if (isDelete) {
        if (out.key.isEmpty()) {
            *error = u"event #%1: delete from %2, a table without primary key or replica identity, cannot be replayed"_s
                         .arg(seq).arg(event.topic);
            return false;
        }
        out.op = SqlOp::Delete;
        outputs->append(std::move(out));
        return true;
    }
    out.op = out.key.isEmpty() ? SqlOp::Insert : SqlOp::Upsert;
    if (event.operation == Operation::Update && out.key.isEmpty()) {
        *error = u"event #%1: update of %2, a table without primary key or replica identity, cannot be replayed"_s
                     .arg(seq).arg(event.topic);
        return false;
    }
    for (const Column &c : event.newRow) {
        if (!c.unchangedToast)
            out.row.append(sinkField(c));
    }
    // A primary-key change: the row left its old key.
    if (event.operation == Operation::Update && !out.key.isEmpty()) {
        SinkOutput gone;
        gone.seq = seq;
        gone.table = event.topic;
        gone.op = SqlOp::Delete;
        for (const Column &c : oldKeyColumns(event))
            gone.key.append(sinkField(c));
        if (gone.key.size() == out.key.size() && gone.key != out.key)
            outputs->append(std::move(gone));
    }
    outputs->append(std::move(out));
    return true;
}

} // namespace

bool identityOutputs(const Event &event, qint64 seq, const QString &kafkaTopic, QList<SinkOutput> *outputs, QString *error)
{
    if (!event.isChange()) {
        if (kafkaTopic.isEmpty()) {
            *error = u"event #%1 is a Kafka record: replaying records into SQL needs --transform"_s.arg(seq);
            return false;
        }
        SinkOutput out = kafkaOutput(seq, kafkaTopic);
        out.kafkaKey = event.key;
        out.kafkaValue = event.value;
        out.headers = event.headers;
        outputs->append(std::move(out));
        return true;
    }
    switch (event.operation) {
    case Operation::Insert:
    case Operation::Update:
    case Operation::Read:
    case Operation::Delete:
        break;
    default:
        return true; // Begin, Commit, Message, Truncate: nothing to write (replay.md)
    }
    if (!kafkaTopic.isEmpty()) {
        changeIntoKafka(event, seq, kafkaTopic, outputs);
        return true;
    }
    return changeIntoSql(event, seq, outputs, error);
}

} // namespace tapedeck
