// The replay's rows path (replay.md, "Rows"): the identity mapping read in
// place from the chunks must give exactly the outputs, batches, progress rows
// and errors of the general path (identityOutputs() per event), for every
// kind of change event; and SqlRows must carry outputs through unchanged.
#include "core/replay/replay.h"
#include "core/sink/sqlrows.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;

namespace {

// Records what it is asked to write, per batch, as SinkOutputs.
class RecordingSink : public Sink
{
public:
    explicit RecordingSink(bool rows) : m_rows(rows) {}
    QString describe() const override { return QStringLiteral("memory"); }
    bool open(const QString &, QString *) override { return true; }
    QList<ReplayPosition> committed() const override { return {}; }
    bool write(const QList<SinkOutput> &outputs, const QList<ReplayPosition> &progress, QString *) override
    {
        if (m_rows)
            ++wrongPath;
        batches.append(outputs);
        positions.append(progress);
        return true;
    }
    bool writeRows(const SqlBatch &rows, const QList<ReplayPosition> &progress, QString *) override
    {
        if (!m_rows)
            ++wrongPath;
        QList<SinkOutput> outputs;
        for (const SqlRows &t : rows) {
            for (const SqlRows::Row &r : t.rows()) {
                outputs.append(t.output(r));
                if (r.superseded)
                    superseded.append(r.seq);
            }
        }
        batches.append(outputs);
        positions.append(progress);
        return true;
    }
    SinkOutput::Kind accepts() const override { return SinkOutput::Kind::Sql; }
    bool acceptsRows() const override { return m_rows; }

    QList<QList<SinkOutput>> batches;
    QList<QList<ReplayPosition>> positions;
    QList<qint64> superseded; // rows marked as overwritten later in the replay
    int wrongPath = 0;

private:
    bool m_rows;
};

Column col(const char *name, const char *type, std::optional<QByteArray> v, bool toast = false)
{
    return Column{QLatin1String(name), QLatin1String(type), std::move(v), toast};
}

Event change(Operation op, const char *table, qint64 lsn, Row newRow, Row oldRow, QStringList key)
{
    Event e;
    e.kind = SourceKind::Postgres;
    e.cluster = QStringLiteral("src");
    e.topic = QLatin1String(table);
    e.partition = 0;
    e.position = lsn;
    e.timestampUs = 1709290000000000 + lsn;
    e.operation = op;
    e.transactionId = 700;
    e.commitLsn = lsn + 1;
    e.commitTimeUs = e.timestampUs;
    e.newRow = std::move(newRow);
    e.oldRow = std::move(oldRow);
    e.primaryKey = std::move(key);
    return e;
}

// Every kind of change event the identity maps, and the ones it refuses.
QList<Event> events(bool withErrors)
{
    const QStringList id{QStringLiteral("id")};
    const QStringList composite{QStringLiteral("a"), QStringLiteral("b")};
    QList<Event> l;
    qint64 lsn = 0x1000;
    auto add = [&](Event e) {
        e.position = lsn;
        lsn += 0x10;
        l.append(std::move(e));
    };
    add(change(Operation::Begin, "public.orders", 0, {}, {}, {}));
    add(change(Operation::Insert, "public.orders", 0,
               {col("id", "bigint", "1"), col("note", "text", QByteArray("tab\there \\ \"q\" line\nbreak")), col("n", "numeric", "1.50")},
               {}, id));
    add(change(Operation::Insert, "public.items", 0, {col("a", "int", "1"), col("b", "text", "x"), col("qty", "int", std::nullopt)}, {},
               composite));
    add(change(Operation::Update, "public.orders", 0,
               {col("id", "bigint", "1"), col("note", "text", std::nullopt, true), col("n", "numeric", "2")}, {}, id));
    add(change(Operation::Insert, "public.orders", 0, {col("id", "bigint", "2"), col("note", "text", QByteArray("")), col("n", "numeric", "3")},
               {}, id));
    add(change(Operation::Commit, "public.orders", 0, {}, {}, {}));
    // A primary-key change: the old key is deleted, the row upserted under the new key.
    add(change(Operation::Update, "public.orders", 0, {col("id", "bigint", "3"), col("note", "text", "moved"), col("n", "numeric", "4")},
               {col("id", "bigint", "2")}, id));
    // A key only in the old row (the new row's key column is an unchanged TOAST value).
    add(change(Operation::Update, "public.items", 0, {col("a", "int", "1"), col("b", "text", "x", true), col("qty", "int", "5")},
               {col("a", "int", "1"), col("b", "text", "x")}, composite));
    add(change(Operation::Delete, "public.orders", 0, {}, {col("id", "bigint", "1")}, id));
    add(change(Operation::Truncate, "public.items", 0, {}, {}, {}));
    add(change(Operation::Read, "public.nokey", 0, {col("v", "text", "r1")}, {}, {}));
    add(change(Operation::Insert, "public.nokey", 0, {col("v", "text", "i1"), col("w", "text", "extra")}, {}, {}));
    add(change(Operation::Message, "public.orders", 0, {}, {}, {}));
    if (withErrors) {
        add(change(Operation::Delete, "public.nokey", 0, {}, {col("v", "text", "i1")}, {}));  // no key: refused
        add(change(Operation::Update, "public.nokey", 0, {col("v", "text", "u1")}, {}, {})); // no key: refused
        Event record;
        record.kind = SourceKind::Kafka;
        record.topic = QStringLiteral("t");
        record.partition = 0;
        record.key = QByteArray("k");
        record.value = QByteArray("v");
        add(record); // a Kafka record into SQL: refused
    }
    add(change(Operation::Insert, "public.orders", 0, {col("id", "bigint", "9"), col("note", "text", "last"), col("n", "numeric", "9")}, {},
               id));
    return l;
}

// A batch as a SQL sink applies it: per table in order of first appearance,
// in tape order within a table (the rows path keeps no order across tables).
QList<QList<SinkOutput>> byTable(const QList<QList<SinkOutput>> &batches)
{
    QList<QList<SinkOutput>> result;
    for (const QList<SinkOutput> &batch : batches) {
        QStringList tables;
        for (const SinkOutput &o : batch) {
            if (!tables.contains(o.table))
                tables.append(o.table);
        }
        QList<SinkOutput> sorted;
        for (const QString &t : tables) {
            for (const SinkOutput &o : batch) {
                if (o.table == t)
                    sorted.append(o);
            }
        }
        result.append(sorted);
    }
    return result;
}

std::shared_ptr<Tape> writeTape(const QString &path, const QList<Event> &list)
{
    TapeWriter w;
    TapeWriter::Options options;
    options.maxChunkEvents = 4; // rows of one batch come from several chunks
    if (!w.create(path, TapeMetadata{}, options))
        return nullptr;
    for (const Event &e : list) {
        if (!w.append(e))
            return nullptr;
    }
    if (!w.close())
        return nullptr;
    QString error;
    return Tape::open(path, &error);
}

} // namespace

class TestReplayRows : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sqlRowsRoundTrip()
    {
        SinkOutput a;
        a.seq = 4;
        a.table = QStringLiteral("s.t");
        a.op = SqlOp::Upsert;
        a.key = {SinkField{QStringLiteral("id"), SinkValue{QByteArray("7"), QStringLiteral("bigint")}}};
        a.row = {SinkField{QStringLiteral("id"), SinkValue{QByteArray("7"), QStringLiteral("bigint")}},
                 SinkField{QStringLiteral("v"), SinkValue{std::nullopt, QStringLiteral("text")}}};
        SinkOutput b = a;
        b.seq = 5;
        b.op = SqlOp::Delete;
        b.row.clear();
        SinkOutput c = a;
        c.seq = 6;
        c.table = QStringLiteral("s.u");
        c.row[1].value.text = QByteArray("");
        SinkOutput d = a;
        d.seq = 7;
        const SqlBatch batch = toSqlBatch({a, b, c, d});
        QCOMPARE(batch.size(), size_t(3)); // one SqlRows per run of a table
        QCOMPARE(batch[0].table(), QStringLiteral("s.t"));
        QCOMPARE(batch[0].size(), 2);
        QCOMPARE(batch[0].shapes().size(), 2); // the delete has no row columns
        QCOMPARE(batch[1].table(), QStringLiteral("s.u"));
        QCOMPARE(batch[2].size(), 1);
        QCOMPARE(batch[0].output(batch[0].rows()[0]), a);
        QCOMPARE(batch[0].output(batch[0].rows()[1]), b);
        QCOMPARE(batch[1].output(batch[1].rows()[0]), c);
        QVERIFY(batch[1].cells(batch[1].rows()[0])[1].size == 0); // empty, not NULL
        QVERIFY(batch[0].cells(batch[0].rows()[0])[1].isNull());
        QCOMPARE(batch[2].output(batch[2].rows()[0]), d);
        // Same key values, same hash and sameKey(), whatever the op.
        const SqlRows::Row &r0 = batch[0].rows()[0], &r1 = batch[0].rows()[1], &r2 = batch[2].rows()[0];
        QCOMPARE(r0.keyHash, r1.keyHash);
        QVERIFY(batch[0].sameKey(r0, batch[2], r2));
        QVERIFY(batch[0].sameKey(r0, batch[0], r1));
    }

    // A fresh run marks the upserts that a later event of the same key
    // overwrites whole; a key whose last event lacks a column keeps them all.
    void lastVersions()
    {
        const QStringList id{QStringLiteral("id")};
        QList<Event> list;
        auto add = [&](Operation op, Row newRow, Row oldRow) {
            Event e = change(op, "public.orders", 0, std::move(newRow), std::move(oldRow), id);
            e.position = 0x100 + list.size();
            list.append(std::move(e));
        };
        auto row = [](const char *key, const char *v, bool toast = false) {
            return Row{col("id", "bigint", QByteArray(key)), col("v", "text", QByteArray(v), toast)};
        };
        add(Operation::Insert, row("1", "a"), {});           // #0 superseded by #1
        add(Operation::Insert, row("2", "a"), {});           // #1 key 2: last event lacks v: kept
        add(Operation::Update, row("1", "b"), {});           // #2 superseded by #4 (a delete)
        add(Operation::Update, row("2", "x", true), {});     // #3
        add(Operation::Delete, {}, row("1", "b"));           // #4 (deletes are never left out)
        add(Operation::Insert, row("3", "a"), {});           // #5 superseded by #6
        add(Operation::Update, row("4", "a"), row("3", "a")); // #6 key 3 -> 4: delete 3 (kept), upsert 4
        add(Operation::Insert, row("3", "again"), {});       // #7
        QTemporaryDir dir;
        const auto tape = writeTape(dir.filePath(QStringLiteral("t.tape")), list);
        QVERIFY(tape);
        ReplayOptions o;
        o.replayId = QStringLiteral("r");
        o.batchEvents = 3;
        RecordingSink sink(true);
        ReplayEngine engine(tape, o);
        QString error;
        QVERIFY2(engine.run(&sink, &error), qPrintable(error));
        QCOMPARE(sink.superseded, (QList<qint64>{0, 2, 5}));
        // More keys than the first pass may hold: no row is left out.
        ReplayOptions capped = o;
        capped.replayId = QStringLiteral("capped");
        capped.maxRebuildKeys = 3;
        RecordingSink cappedSink(true);
        ReplayEngine cappedEngine(tape, capped);
        QVERIFY2(cappedEngine.run(&cappedSink, &error), qPrintable(error));
        QCOMPARE(cappedSink.superseded, QList<qint64>{});
        QCOMPARE(cappedSink.batches, sink.batches);
        // Only events in the range count: up to #2, #2 is the last of key 1 (and #4 deletes nothing).
        ReplayOptions part = o;
        part.replayId = QStringLiteral("part");
        part.toPosition = 0x102;
        RecordingSink partSink(true);
        ReplayEngine partial(tape, part);
        QVERIFY2(partial.run(&partSink, &error), qPrintable(error));
        QCOMPARE(partSink.superseded, (QList<qint64>{0}));
    }

    // Over more than 32 chunks a sample decides first: distinct keys in it
    // skip the first pass; a key repeated between the first and the last
    // chunk turns it on.
    void lastVersionsSample()
    {
        const QStringList id{QStringLiteral("id")};
        for (const bool repeat : {false, true}) {
            QList<Event> list;
            for (int i = 0; i < 400; ++i) {
                Event e = change(Operation::Insert, "public.orders", 0,
                                 {col("id", "bigint", QByteArray::number(i)), col("v", "text", "a")}, {}, id);
                e.position = 0x100 + i;
                list.append(std::move(e));
            }
            if (repeat) {
                Event e = change(Operation::Update, "public.orders", 0, {col("id", "bigint", "50"), col("v", "text", "b")}, {}, id);
                e.position = 0x100 + 400;
                list.append(std::move(e));
            }
            QTemporaryDir dir;
            const auto tape = writeTape(dir.filePath(QStringLiteral("t.tape")), list);
            QVERIFY(tape);
            QVERIFY(tape->chunkCount() > 64);
            ReplayOptions o;
            o.replayId = QStringLiteral("r");
            o.batchEvents = 50;
            RecordingSink sink(true);
            ReplayEngine engine(tape, o);
            QString error;
            QVERIFY2(engine.run(&sink, &error), qPrintable(error));
            QCOMPARE(sink.superseded, repeat ? QList<qint64>{50} : QList<qint64>{});
            QCOMPARE(engine.stats().written, repeat ? 401 : 400);
        }
    }

    void sameAsGeneralPath_data()
    {
        QTest::addColumn<int>("batchEvents");
        QTest::addColumn<bool>("withErrors");
        QTest::addColumn<bool>("skip");
        QTest::newRow("batch 3") << 3 << false << false;
        QTest::newRow("batch 100") << 100 << false << false;
        QTest::newRow("errors, skip") << 5 << true << true;
        QTest::newRow("errors, stop") << 5 << true << false;
    }
    void sameAsGeneralPath()
    {
        QFETCH(int, batchEvents);
        QFETCH(bool, withErrors);
        QFETCH(bool, skip);
        QTemporaryDir dir;
        const auto tape = writeTape(dir.filePath(QStringLiteral("t.tape")), events(withErrors));
        QVERIFY(tape);
        ReplayOptions o;
        o.replayId = QStringLiteral("r");
        o.target = QStringLiteral("postgresql");
        o.batchEvents = batchEvents;
        o.onError = skip ? ReplayOptions::OnError::Skip : ReplayOptions::OnError::Stop;
        RecordingSink general(false), rows(true);
        ReplayEngine a(tape, o), b(tape, o);
        QString errorA, errorB;
        const bool okA = a.run(&general, &errorA);
        const bool okB = b.run(&rows, &errorB);
        QCOMPARE(okB, okA);
        QCOMPARE(errorB, errorA);
        QCOMPARE(general.wrongPath, 0);
        QCOMPARE(rows.wrongPath, 0);
        QCOMPARE(rows.batches, byTable(general.batches));
        QCOMPARE(rows.positions, general.positions);
        QCOMPARE(b.stats().outputs, a.stats().outputs);
        QCOMPARE(b.stats().written, a.stats().written);
        QCOMPARE(b.stats().dropped, a.stats().dropped);
        QCOMPARE(b.stats().skipped, a.stats().skipped);
        QCOMPARE(b.errors(), a.errors());

        // What the general path gives, in tape order, spelled out (so both cannot be wrong alike).
        QList<SinkOutput> all;
        for (const QList<SinkOutput> &batch : std::as_const(general.batches))
            all += batch;
        QStringList shown;
        for (const SinkOutput &out : std::as_const(all)) {
            QStringList cells;
            for (const SinkField &f : out.row)
                cells.append(f.name + u'=' + (f.value.text ? QString::fromUtf8(*f.value.text) : QStringLiteral("NULL")));
            QStringList key;
            for (const SinkField &f : out.key)
                key.append(f.name + u'=' + (f.value.text ? QString::fromUtf8(*f.value.text) : QStringLiteral("NULL")));
            shown.append(QStringLiteral("#%1 %2 %3 [%4] {%5}")
                             .arg(out.seq)
                             .arg(out.table)
                             .arg(out.op == SqlOp::Upsert ? QStringLiteral("upsert") : out.op == SqlOp::Insert ? QStringLiteral("insert") : QStringLiteral("delete"))
                             .arg(key.join(u','), cells.join(u',')));
        }
        QStringList expected{
            QStringLiteral("#1 public.orders upsert [id=1] {id=1,note=tab\there \\ \"q\" line\nbreak,n=1.50}"),
            QStringLiteral("#2 public.items upsert [a=1,b=x] {a=1,b=x,qty=NULL}"),
            QStringLiteral("#3 public.orders upsert [id=1] {id=1,n=2}"),
            QStringLiteral("#4 public.orders upsert [id=2] {id=2,note=,n=3}"),
            QStringLiteral("#6 public.orders delete [id=2] {}"),
            QStringLiteral("#6 public.orders upsert [id=3] {id=3,note=moved,n=4}"),
            QStringLiteral("#7 public.items upsert [a=1,b=x] {a=1,qty=5}"),
            QStringLiteral("#8 public.orders delete [id=1] {}"),
            QStringLiteral("#10 public.nokey insert [] {v=r1}"),
            QStringLiteral("#11 public.nokey insert [] {v=i1,w=extra}"),
        };
        if (!withErrors)
            expected.append(QStringLiteral("#13 public.orders upsert [id=9] {id=9,note=last,n=9}"));
        else if (skip)
            expected.append(QStringLiteral("#16 public.orders upsert [id=9] {id=9,note=last,n=9}"));
        QCOMPARE(shown, expected);
        if (withErrors) {
            QCOMPARE(okA, skip);
            if (skip) {
                QCOMPARE(a.stats().skipped, 3);
                QCOMPARE(a.errors().value(0), QStringLiteral("event #13: delete from public.nokey, a table without primary key or replica identity, cannot be replayed"));
                QCOMPARE(a.errors().value(2), QStringLiteral("event #15 is a Kafka record: replaying records into SQL needs --transform"));
            } else {
                QCOMPARE(errorA, QStringLiteral("event #13: delete from public.nokey, a table without primary key or replica identity, cannot be replayed"));
                // The batch of the failing event commits what came before it (events 10-12).
                QStringList last;
                for (const ReplayPosition &p : general.positions.last())
                    last.append(p.stream + u'@' + QString::number(p.seq));
                last.sort();
                QCOMPARE(last, (QStringList{QStringLiteral("postgres/src/public.nokey/0@11"), QStringLiteral("postgres/src/public.orders/0@12")}));
            }
        }
        QCOMPARE(a.stats().dropped, 4); // begin, commit, truncate, message
    }
};

QTEST_GUILESS_MAIN(TestReplayRows)
#include "tst_replay_rows.moc"
