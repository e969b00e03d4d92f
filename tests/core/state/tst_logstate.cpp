// LogState: the state at many points equals a naive recomputation from the start.
#include "core/state/logstate.h"
#include "connectors/postgres/decode/pgchange.h"
#include "core/base/rawjson.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <QMap>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

// key text -> last seq, for the keys that are live.
using Naive = QMap<QByteArray, qint64>;

struct Workload
{
    QList<Event> events;
};

Event kafka(const QString &topic, int partition, qint64 offset, std::optional<QByteArray> key, std::optional<QByteArray> value)
{
    Event e;
    e.kind = SourceKind::Kafka;
    e.cluster = u"c"_s;
    e.topic = topic;
    e.partition = partition;
    e.position = offset;
    e.timestampUs = 1700000000000000 + offset * 1000;
    e.timestampType = TimestampType::CreateTime;
    e.key = std::move(key);
    e.value = std::move(value);
    return e;
}

QByteArray keyOf(const Row &row, const QStringList &pk)
{
    QByteArray k;
    for (const QString &name : pk) {
        for (const Column &c : row) {
            if (c.name == name) {
                if (!k.isEmpty())
                    k += LogState::KeySeparator;
                k += *c.value;
            }
        }
    }
    return k;
}

QString writeTape(const QTemporaryDir &dir, const QString &name, const QList<Event> &events)
{
    const QString path = dir.filePath(name);
    TapeWriter w;
    TapeWriter::Options o;
    o.maxChunkEvents = 97; // many chunks
    if (!w.create(path, TapeMetadata{}, o))
        qFatal("create failed");
    for (const Event &e : events)
        w.append(e);
    w.close();
    return path;
}

// Compares a snapshot with the naive state.
void compare(const LogState &state, const LogStateSnapshot &s, const Naive &naive)
{
    QCOMPARE(s.rowCount(), qint64(naive.size()));
    // Rows in key order: the naive map sorted with the same comparator.
    QList<QByteArray> expected = naive.keys();
    std::sort(expected.begin(), expected.end(),
              [](const QByteArray &a, const QByteArray &b) { return LogState::compareKeys(a, b) < 0; });
    const QList<quint32> keys = s.keys(0, int(naive.size()));
    QCOMPARE(keys.size(), expected.size());
    for (qsizetype r = 0; r < keys.size(); ++r) {
        QCOMPARE(state.keyText(s.table(), keys[r]), expected[r]);
        QCOMPARE(s.keyAt(r), keys[r]);
        QCOMPARE(s.rowOf(keys[r]), r);
        QCOMPARE(s.lastSeq(keys[r]), naive.value(expected[r]));
    }
}

} // namespace

class TestLogState : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rawJson_data();
    void rawJson();
    void keyOrder();
    void kafkaRandomPoints();
    void changeRandomPoints();
    void rowsAndToast();
    void timeAndPosition();
    void emptyTape();
};

void TestLogState::rawJson_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<int>("type");
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("big integer") << QByteArray(R"({"id":9007199254740993})") << QByteArray("id") << int(RawJson::Type::Number) << QByteArray("9007199254740993");
    QTest::newRow("decimal kept") << QByteArray(R"({"a":1, "total": 12.50 })") << QByteArray("total") << int(RawJson::Type::Number) << QByteArray("12.50");
    QTest::newRow("escapes") << QByteArray("{\"s\":\"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\"}") << QByteArray("s") << int(RawJson::Type::String) << QByteArray("a\"b\\c\xc3\xa9\xf0\x9f\x98\x80");
    QTest::newRow("nested") << QByteArray(R"({"c":{"id":"x","n":[1,{"q":2}]},"d":true})") << QByteArray("c.n") << int(RawJson::Type::Array) << QByteArray("[1,{\"q\":2}]");
    QTest::newRow("bool") << QByteArray(R"({"c":{"id":"x"},"d":true})") << QByteArray("d") << int(RawJson::Type::Bool) << QByteArray("true");
    QTest::newRow("null") << QByteArray(R"({"d":null})") << QByteArray("d") << int(RawJson::Type::Null) << QByteArray("null");
    QTest::newRow("absent") << QByteArray(R"({"d":null})") << QByteArray("e") << -1 << QByteArray();
    QTest::newRow("not json") << QByteArray("{\"d\":") << QByteArray("d") << -1 << QByteArray();
}

void TestLogState::rawJson()
{
    QFETCH(QByteArray, json);
    QFETCH(QByteArray, path);
    QFETCH(int, type);
    QFETCH(QByteArray, text);
    const auto v = rawjson::path(json, path);
    QCOMPARE(v.has_value(), type >= 0);
    if (v) {
        QCOMPARE(int(v->type), type);
        QCOMPARE(v->text, text);
    }
}

void TestLogState::keyOrder()
{
    QList<QByteArray> keys{"10", "2", "-3", "-20", "b", "a", "007", "1\x1f" "b", "1\x1f" "a", "1\x1f" "10", "1\x1f" "9"};
    std::sort(keys.begin(), keys.end(), [](const QByteArray &a, const QByteArray &b) {
        const int c = LogState::compareKeys(a, b);
        return c != 0 ? c < 0 : a < b;
    });
    QCOMPARE(keys, (QList<QByteArray>{"-20", "-3", "1\x1f" "9", "1\x1f" "10", "1\x1f" "a", "1\x1f" "b", "2", "007", "10", "a", "b"}));
}

void TestLogState::kafkaRandomPoints()
{
    QTemporaryDir dir;
    QRandomGenerator rng(7);
    QList<Event> events;
    QList<qint64> offsets(3, 0);
    for (int i = 0; i < 6000; ++i) {
        const bool other = rng.bounded(5) == 0;
        const int p = int(rng.bounded(3));
        std::optional<QByteArray> key = QByteArray("k") + QByteArray::number(rng.bounded(300));
        if (rng.bounded(50) == 0)
            key = std::nullopt;
        std::optional<QByteArray> value = QByteArray("v") + QByteArray::number(i);
        if (rng.bounded(5) == 0)
            value = std::nullopt; // tombstone
        Event e = kafka(other ? u"other"_s : u"orders"_s, p, offsets[p]++, key, value);
        if (rng.bounded(40) == 0)
            e.flags = Transactional | Aborted;
        if (rng.bounded(60) == 0) {
            e.flags = Transactional | ControlRecord;
            e.key = QByteArray("\0\0\0\1", 4);
        }
        events.append(e);
    }
    const auto tape = Tape::open(writeTape(dir, u"k.tape"_s, events), nullptr);
    QVERIFY(tape);
    QString error;
    LogState::Options options;
    options.minCheckpointEvents = 64;
    const auto state = LogState::build(tape, &error, {}, options);
    QVERIFY2(state, qPrintable(error));
    QCOMPARE(state->tables().size(), 2);
    const int t = state->tableIndex(u"orders"_s);
    QVERIFY(t >= 0);
    QCOMPARE(state->tables()[t].partitions, (QList<qint32>{0, 1, 2}));
    QVERIFY(state->tables()[t].multiPartitionKeys > 0);
    QVERIFY(state->tables()[t].unkeyedEvents > 0);
    QVERIFY(state->checkpointCount(t) > 10);

    auto naiveAt = [&](qint64 end) {
        Naive n;
        for (qint64 s = 0; s < end; ++s) {
            const Event &e = events[s];
            if (e.topic != u"orders" || !e.key || (e.flags & (Aborted | ControlRecord)))
                continue;
            if (e.value)
                n.insert(*e.key, s);
            else
                n.remove(*e.key);
        }
        return n;
    };
    QList<qint64> points{0, 1, qint64(events.size()), qint64(events.size()) - 1};
    for (int i = 0; i < 60; ++i)
        points.append(rng.bounded(qint64(events.size()) + 1));
    LogStateSnapshot previous;
    for (qint64 end : points) {
        const LogStateSnapshot s = state->snapshot(t, end);
        QCOMPARE(s.end(), end);
        compare(*state, s, naiveAt(end));
        // Incremental from the previous point gives the same.
        const LogStateSnapshot inc = state->snapshot(t, end, previous);
        compare(*state, inc, naiveAt(end));
        previous = s;
        if (QTest::currentTestFailed())
            return;
    }
    // Sequential scrubbing, one event at a time, from a near snapshot.
    LogStateSnapshot s = state->snapshot(t, 2000);
    for (qint64 end = 2001; end < 2200; ++end) {
        s = state->snapshot(t, end, s);
        compare(*state, s, naiveAt(end));
        if (QTest::currentTestFailed())
            return;
    }
    // Events of a key and keys changed.
    const quint32 k = *state->findKey(t, "k7");
    QList<qint64> expected;
    for (qint64 i = 0; i < events.size(); ++i) {
        const Event &e = events[i];
        if (e.topic == u"orders" && e.key == QByteArray("k7") && !(e.flags & (Aborted | ControlRecord)))
            expected.append(i);
    }
    QCOMPARE(state->keyEvents(t, k), expected);
    QSet<QByteArray> changed;
    for (qint64 i = 1000; i < 1100; ++i) {
        const Event &e = events[i];
        if (e.topic == u"orders" && e.key && !(e.flags & (Aborted | ControlRecord)))
            changed.insert(*e.key);
    }
    const QList<quint32> got = state->keysChanged(t, 1000, 1100);
    QCOMPARE(got.size(), changed.size());
    for (quint32 id : got)
        QVERIFY(changed.contains(state->keyText(t, id)));
    QVERIFY(!state->findKey(t, "nope"));
}

void TestLogState::changeRandomPoints()
{
    QTemporaryDir dir;
    QRandomGenerator rng(11);
    PgCatalog catalog;
    catalog.database = u"shop"_s;
    catalog.primaryKeys.insert(u"public.items"_s, {u"shop"_s, u"id"_s});
    QList<Event> events;
    QSet<QByteArray> live;
    qint64 lsn = 0x1000;
    auto row = [](int shop, int id, int v) {
        return Row{{u"shop"_s, u"integer"_s, QByteArray::number(shop), false},
                   {u"id"_s, u"text"_s, QByteArray("item-") + QByteArray::number(id), false},
                   {u"v"_s, u"bigint"_s, QByteArray::number(v), false}};
    };
    const QStringList pk{u"shop"_s, u"id"_s};
    QList<Row> lives;
    for (int i = 0; i < 5000; ++i) {
        const int dice = int(rng.bounded(100));
        pgchange::TxnInfo txn{i, lsn, 1700000000000000 + i};
        lsn += 0x10;
        if (dice == 0) {
            events.append(pgchange::change(catalog, Operation::Truncate, lsn, txn, u"public"_s, u"items"_s, {}, {}, {}));
            continue;
        }
        if (dice < 3) {
            events.append(pgchange::marker(u"shop"_s, Operation::Begin, lsn, txn));
            continue;
        }
        const Row r = row(int(rng.bounded(3)), int(rng.bounded(120)), i);
        if (dice < 20) {
            events.append(pgchange::change(catalog, Operation::Delete, lsn, txn, u"public"_s, u"items"_s, Row{r[0], r[1]}, {}, {}));
        } else if (dice < 30) {
            // A primary-key change: the old key in the old row.
            const Row old = row(int(rng.bounded(3)), int(rng.bounded(120)), 0);
            events.append(pgchange::change(catalog, Operation::Update, lsn, txn, u"public"_s, u"items"_s, Row{old[0], old[1]}, r, {}));
        } else if (dice < 40) {
            events.append(pgchange::change(catalog, Operation::Read, lsn, txn, u"public"_s, u"items"_s, {}, r, {}));
        } else {
            events.append(pgchange::change(catalog, dice < 70 ? Operation::Insert : Operation::Update, lsn, txn,
                                           u"public"_s, u"items"_s, {}, r, {}));
        }
    }
    const auto tape = Tape::open(writeTape(dir, u"c.tape"_s, events), nullptr);
    QVERIFY(tape);
    QString error;
    LogState::Options options;
    options.minCheckpointEvents = 50;
    const auto state = LogState::build(tape, &error, {}, options);
    QVERIFY2(state, qPrintable(error));
    QCOMPARE(state->tables().size(), 1);
    QCOMPARE(state->tables()[0].keyColumns, pk);
    auto naiveAt = [&](qint64 end) {
        Naive n;
        for (qint64 s = 0; s < end; ++s) {
            const Event &e = events[s];
            switch (e.operation) {
            case Operation::Truncate: n.clear(); break;
            case Operation::Delete: n.remove(keyOf(e.oldRow, pk)); break;
            case Operation::Insert:
            case Operation::Read:
            case Operation::Update:
                if (!e.oldRow.isEmpty() && keyOf(e.oldRow, pk) != keyOf(e.newRow, pk))
                    n.remove(keyOf(e.oldRow, pk));
                n.insert(keyOf(e.newRow, pk), s);
                break;
            default: break;
            }
        }
        return n;
    };
    QList<qint64> points{0, qint64(events.size())};
    for (int i = 0; i < 80; ++i)
        points.append(rng.bounded(qint64(events.size()) + 1));
    LogStateSnapshot previous;
    for (qint64 end : points) {
        compare(*state, state->snapshot(0, end, previous), naiveAt(end));
        previous = state->snapshot(0, end);
        if (QTest::currentTestFailed())
            return;
    }
    // Rows carry the values of the key's last event.
    const LogStateSnapshot s = state->snapshot(0, events.size());
    QList<LogStateRow> rows;
    QVERIFY2(state->rows(s, s.keys(0, 50), &rows, &error), qPrintable(error));
    for (const LogStateRow &r : rows) {
        QCOMPARE(r.keyValues.size(), 2);
        QCOMPARE(keyOf(r.row, pk), state->keyText(0, r.keyId));
        QCOMPARE(r.row, events[r.seq].newRow);
    }
}

void TestLogState::rowsAndToast()
{
    QTemporaryDir dir;
    PgCatalog catalog;
    catalog.database = u"shop"_s;
    catalog.primaryKeys.insert(u"public.docs"_s, {u"id"_s});
    auto col = [](const char *name, std::optional<QByteArray> v, bool toast = false) {
        return Column{QLatin1String(name), u"text"_s, std::move(v), toast};
    };
    QList<Event> events;
    pgchange::TxnInfo txn{1, 0x100, 1700000000000000};
    events.append(pgchange::change(catalog, Operation::Insert, 0x100, txn, u"public"_s, u"docs"_s, {},
                                   Row{col("id", "1"), col("body", "long text"), col("n", "a")}, {}));
    events.append(pgchange::change(catalog, Operation::Update, 0x200, txn, u"public"_s, u"docs"_s, {},
                                   Row{col("id", "1"), col("body", std::nullopt, true), col("n", "b")}, {}));
    events.append(pgchange::change(catalog, Operation::Update, 0x300, txn, u"public"_s, u"docs"_s, {},
                                   Row{col("id", "1"), col("body", std::nullopt, true), col("n", "c")}, {}));
    const auto tape = Tape::open(writeTape(dir, u"t.tape"_s, events), nullptr);
    QString error;
    const auto state = LogState::build(tape, &error);
    QVERIFY(state);
    const LogStateSnapshot s = state->snapshot(0, 3);
    const auto r = state->row(s, 0, &error);
    QVERIFY2(r, qPrintable(error));
    QCOMPARE(r->seq, 2);
    QCOMPARE(r->row, (Row{col("id", "1"), col("body", "long text"), col("n", "c")}));
    QCOMPARE(r->keyValues, QStringList{u"1"_s});
    QVERIFY(r->operation == Operation::Update);
    QVERIFY(s.changedSince(0, 2));
    QVERIFY(!s.changedSince(0, 3));
    QCOMPARE(state->keyEvents(0, 0, 1, 3), (QList<qint64>{1, 2}));
    // A key that is not live has no row.
    QVERIFY(!state->row(state->snapshot(0, 0), 0, &error));
    QCOMPARE(error, u"key 1 of public.docs has no row at event #0"_s);
}

void TestLogState::timeAndPosition()
{
    QTemporaryDir dir;
    QList<Event> events;
    for (int i = 0; i < 1000; ++i)
        events.append(kafka(u"t"_s, 0, i, QByteArray::number(i % 10), QByteArray("x")));
    const auto tape = Tape::open(writeTape(dir, u"p.tape"_s, events), nullptr);
    QString error;
    const auto state = LogState::build(tape, &error);
    QVERIFY(state);
    // Offset i has timestamp 1700000000000 + i ms.
    QCOMPARE(state->endAtTimeMs(1700000000000 + 499, &error), 500);
    QCOMPARE(state->endAtTimeMs(1600000000000, &error), 0);
    QCOMPARE(state->endAtTimeMs(1800000000000, &error), 1000);
    QCOMPARE(state->endAtPosition(10, &error), 11);
    QCOMPARE(state->endAfterSeq(10), 11);
    QCOMPARE(state->endAfterSeq(5000), 1000);
    QCOMPARE(state->snapshot(0, 5).rowCount(), 5);
    QCOMPARE(state->eventsBetween(0, 10, 20), 10);
}

void TestLogState::emptyTape()
{
    QTemporaryDir dir;
    const auto tape = Tape::open(writeTape(dir, u"e.tape"_s, {}), nullptr);
    QString error;
    const auto state = LogState::build(tape, &error);
    QVERIFY(state);
    QCOMPARE(state->tables().size(), 0);
    QVERIFY(!state->snapshot(0, 0).isValid());
    int calls = 0;
    QList<Event> events;
    for (int i = 0; i < 100000; ++i)
        events.append(kafka(u"t"_s, 0, i, QByteArray::number(i % 10), QByteArray("x")));
    const auto big = Tape::open(writeTape(dir, u"b.tape"_s, events), nullptr);
    QVERIFY(!LogState::build(big, &error, [&](qint64, qint64) { return ++calls < 3; }));
    QCOMPARE(error, u"cancelled"_s);
}

QTEST_GUILESS_MAIN(TestLogState)
#include "tst_logstate.moc"
