// `tape diff` and TableDiff against the real PostgreSQL (TAPEDECK_PG_URI;
// fails, never skips, without it) and SQLite: a dual-write workload whose
// table lost, duplicated and stale writes; the diff names exactly the
// injected keys, and both repairs make it empty.
#include "tests/common/replayworkload.h"

#include "core/state/logstate.h"
#include "connectors/postgres/decode/pgchange.h"
#include "core/base/rawjson.h"
#include "connectors/postgres/sink/pgsink.h"
#include "connectors/postgres/sink/pgtablereader.h"
#include "connectors/sqlite/sqlitesink.h"
#include "connectors/sqlite/sqlitetablereader.h"
#include "core/diff/tablediff.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <sqlite3.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace replaytest;
using namespace Qt::StringLiterals;

namespace {

struct Injected
{
    QSet<qint64> lost;       // live in the log, never written to the table
    QSet<qint64> duplicated; // deleted in the log, re-created by a replayed insert
    QSet<qint64> stale;      // an older version overwrote the newest
    QSet<qint64> garbage;    // never in the log at all
};

struct Run
{
    int exitCode = -1;
    QByteArray out, err;
};

Run tape(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral(TAPE_EXECUTABLE), args);
    p.waitForFinished(120000);
    return {p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
}

// The rows the table holds: the log's final rows with the injected faults.
QList<Row> dualWriteRows(const Workload &w, Injected *inj)
{
    QList<Row> rows;
    QMap<qint64, Row> firstVersion; // any earlier version of each key
    QSet<qint64> deleted;
    for (const Event &e : w.events) {
        const qint64 id = (e.newRow.isEmpty() ? e.oldRow : e.newRow).first().value->toLongLong();
        if (e.operation == Operation::Delete)
            deleted.insert(id);
        else if (!firstVersion.contains(id))
            firstVersion.insert(id, e.newRow);
    }
    int i = 0;
    for (auto it = w.finalRows.cbegin(); it != w.finalRows.cend(); ++it, ++i) {
        if (i % 37 == 3) {
            inj->lost.insert(it.key());
            continue;
        }
        if (i % 41 == 5 && firstVersion.value(it.key()) != it.value()) {
            inj->stale.insert(it.key());
            rows.append(firstVersion.value(it.key()));
            continue;
        }
        rows.append(it.value());
    }
    int n = 0;
    for (qint64 id : std::as_const(deleted)) {
        if (!w.finalRows.contains(id) && n++ < 4) {
            inj->duplicated.insert(id);
            rows.append(firstVersion.value(id));
        }
    }
    Row garbage = w.finalRows.first();
    garbage[0].value = QByteArray("900001");
    rows.append(garbage);
    inj->garbage.insert(900001);
    return rows;
}

QSet<qint64> keysOf(const DiffResult &r, DiffEntry::Kind kind)
{
    QSet<qint64> out;
    for (const DiffEntry &d : r.entries) {
        if (d.kind == kind)
            out.insert(d.key.first()->toLongLong());
    }
    return out;
}

bool sqliteExec(const QString &path, const QByteArray &sql, QString *error)
{
    sqlite3 *db = nullptr;
    sqlite3_open(path.toUtf8().constData(), &db);
    char *message = nullptr;
    const bool ok = sqlite3_exec(db, sql.constData(), nullptr, nullptr, &message) == SQLITE_OK;
    if (!ok)
        *error = QString::fromUtf8(message);
    sqlite3_free(message);
    sqlite3_close(db);
    return ok;
}

// Everything a diff found, timings aside.
void compareResults(const DiffResult &a, const DiffResult &b)
{
    QCOMPARE(a.entries, b.entries);
    QCOMPARE(a.columns, b.columns);
    QCOMPARE(a.mapping, b.mapping);
    QCOMPARE(a.stateRows, b.stateRows);
    QCOMPARE(a.tableRows, b.tableRows);
    QCOMPARE(a.equalRows, b.equalRows);
    QCOMPARE(a.missing, b.missing);
    QCOMPARE(a.extra, b.extra);
    QCOMPARE(a.differing, b.differing);
    QCOMPARE(a.unmappable, b.unmappable);
    QCOMPARE(a.keyCollisions, b.keyCollisions);
}

} // namespace

class TestStateDiff : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void normalise_data();
    void normalise();
    void postgres();
    void sqlite();
    void kafkaMapping();
    void threads();
    void layouts();
    void cliErrors();

private:
    void check(TableReader &reader, const QString &table, const QString &dsn);
    QString m_uri;
    QTemporaryDir m_dir;
    Workload m_work;
    QString m_tape;
    Injected m_inj;
    QList<Row> m_rows;
    std::shared_ptr<const LogState> m_state;
};

void TestStateDiff::initTestCase()
{
    m_uri = qEnvironmentVariable("TAPEDECK_PG_URI");
    QVERIFY2(!m_uri.isEmpty(), "TAPEDECK_PG_URI is not set: start the services (eval \"$(scripts/services/all.sh env)\")");
    m_work = makeWorkload(4000, 600, 88, u"sd_orders"_s, "public.sd_orders");
    m_tape = m_dir.filePath(u"orders.tape"_s);
    QString error;
    QVERIFY2(writeTape(m_tape, m_work.events, &error), qPrintable(error));
    m_rows = dualWriteRows(m_work, &m_inj);
    QVERIFY(m_inj.lost.size() > 5 && m_inj.stale.size() > 5 && m_inj.duplicated.size() == 4);
    m_state = LogState::build(Tape::open(m_tape, &error), &error);
    QVERIFY2(m_state, qPrintable(error));
}

void TestStateDiff::normalise_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("dialect");
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");
    QTest::addColumn<bool>("equal");
    QTest::newRow("numeric zeros") << u"numeric(14,2)"_s << u"postgresql"_s << QByteArray("12.50") << QByteArray("12.5") << true;
    QTest::newRow("numeric differs") << u"numeric"_s << u"postgresql"_s << QByteArray("12.51") << QByteArray("12.5") << false;
    QTest::newRow("leading zeros") << u"bigint"_s << u"postgresql"_s << QByteArray("007") << QByteArray("7") << true;
    QTest::newRow("minus zero") << u"numeric"_s << u"postgresql"_s << QByteArray("-0.00") << QByteArray("0") << true;
    QTest::newRow("big integer exact") << u"bigint"_s << u"postgresql"_s << QByteArray("9007199254740993") << QByteArray("9007199254740992") << false;
    QTest::newRow("sqlite real") << u"REAL"_s << u"sqlite"_s << QByteArray("1.0e+20") << QByteArray("100000000000000000000") << true;
    QTest::newRow("bool t/1") << u"BOOLEAN"_s << u"sqlite"_s << QByteArray("t") << QByteArray("1") << true;
    QTest::newRow("bool true/t") << u"boolean"_s << u"postgresql"_s << QByteArray("true") << QByteArray("t") << true;
    QTest::newRow("bool f/t") << u"boolean"_s << u"postgresql"_s << QByteArray("f") << QByteArray("t") << false;
    QTest::newRow("timestamptz zones") << u"timestamp with time zone"_s << u"postgresql"_s
                                       << QByteArray("2024-03-01 12:34:56.5+00") << QByteArray("2024-03-01 14:04:56.500000+01:30") << true;
    QTest::newRow("timestamptz differs") << u"timestamp with time zone"_s << u"postgresql"_s
                                         << QByteArray("2024-03-01 12:34:56+00") << QByteArray("2024-03-01 12:34:57+00") << false;
    QTest::newRow("jsonb spacing") << u"jsonb"_s << u"postgresql"_s << QByteArray("{\"b\":1,\"a\":[1,2]}") << QByteArray("{\"a\": [1, 2], \"b\": 1}") << true;
    QTest::newRow("text exact") << u"text"_s << u"postgresql"_s << QByteArray("12.50") << QByteArray("12.5") << false;
}

void TestStateDiff::normalise()
{
    QFETCH(QString, type);
    QFETCH(QString, dialect);
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);
    QFETCH(bool, equal);
    QCOMPARE(TableDiff::normalise(a, type, dialect) == TableDiff::normalise(b, type, dialect), equal);
}

void TestStateDiff::check(TableReader &reader, const QString &table, const QString &dsn)
{
    DiffOptions options;
    options.stateTable = u"public.sd_orders"_s;
    DiffResult result;
    QString error;
    QVERIFY2(TableDiff::run(*m_state, reader, table, options, &result, &error), qPrintable(error));
    QCOMPARE(keysOf(result, DiffEntry::Kind::Missing), m_inj.lost);
    QCOMPARE(keysOf(result, DiffEntry::Kind::Extra), m_inj.duplicated + m_inj.garbage);
    QCOMPARE(keysOf(result, DiffEntry::Kind::Differs), m_inj.stale);
    QCOMPARE(result.stateRows, qint64(m_work.finalRows.size()));
    QCOMPARE(result.tableRows, qint64(m_rows.size()));
    QCOMPARE(result.equalRows, qint64(m_work.finalRows.size() - m_inj.lost.size() - m_inj.stale.size()));
    QCOMPARE(result.keyColumns, QStringList{u"id"_s});
    QCOMPARE(result.columns.size(), 7);
    // The last events of a lost key end with its last event in the log.
    for (const DiffEntry &d : result.entries) {
        if (d.kind == DiffEntry::Kind::Extra && m_inj.garbage.contains(d.key.first()->toLongLong()))
            QVERIFY(d.lastEvents.isEmpty());
        else
            QVERIFY(!d.lastEvents.isEmpty());
        if (d.kind == DiffEntry::Kind::Missing) {
            const Event &last = m_work.events[d.lastEvents.last()];
            QCOMPARE(last.newRow.first().value, d.key.first());
            QCOMPARE(d.stateRow[1], last.newRow[1].value); // name
        }
        if (d.kind == DiffEntry::Kind::Differs)
            QVERIFY(!d.differences.isEmpty());
    }

    // CLI: 3 with differences; the SQL script fixes the table; then 0.
    const QStringList diffArgs{u"diff"_s, m_tape, u"--against"_s, dsn, u"--table"_s, table};
    Run run = tape(diffArgs);
    QCOMPARE(run.exitCode, 3);
    const qint64 total = m_inj.lost.size() + m_inj.duplicated.size() + m_inj.garbage.size() + m_inj.stale.size();
    QVERIFY2(run.out.contains(u"%1 differences: %2 missing, %3 extra, %4 differing"_s.arg(total).arg(m_inj.lost.size())
                                  .arg(m_inj.duplicated.size() + 1).arg(m_inj.stale.size()).toUtf8()),
             run.out.constData());
    QVERIFY2(run.out.contains("extra    id=900001  (last events: none)\n"), run.out.constData());
    run = tape(diffArgs + QStringList{u"--json"_s});
    QCOMPARE(run.exitCode, 3);
    const QJsonObject doc = QJsonDocument::fromJson(run.out).object();
    QCOMPARE(doc.value(u"missing"_s).toInteger(), m_inj.lost.size());
    QCOMPARE(doc.value(u"equal"_s).toBool(), false);
    QCOMPARE(doc.value(u"entries"_s).toArray().size(), total);
    QCOMPARE(doc.value(u"columns"_s).toArray().first().toObject().value(u"name"_s).toString(), u"id"_s);

    const QString script = m_dir.filePath(table + u".sql"_s);
    run = tape(diffArgs + QStringList{u"--repair-sql"_s, script});
    QCOMPARE(run.exitCode, 3);
    QFile file(script);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray sql = file.readAll();
    QVERIFY(sql.contains("\nBEGIN;\n"));
    QVERIFY(sql.endsWith("COMMIT;\n"));
    QCOMPARE(sql.count("\nINSERT INTO "), m_inj.lost.size());
    QCOMPARE(sql.count("\nDELETE FROM "), m_inj.duplicated.size() + 1);
    QCOMPARE(sql.count("\nUPDATE "), m_inj.stale.size());
    if (dsn.startsWith(u"sqlite:")) {
        QVERIFY2(sqliteExec(dsn.mid(7), sql, &error), qPrintable(error));
    } else {
        QProcess psql;
        psql.start(u"psql"_s, {m_uri, u"-v"_s, u"ON_ERROR_STOP=1"_s, u"-q"_s, u"-f"_s, script});
        QVERIFY(psql.waitForFinished(60000));
        QVERIFY2(psql.exitCode() == 0, psql.readAllStandardError().constData());
    }
    run = tape(diffArgs);
    QVERIFY2(run.exitCode == 0, run.out.constData());
    QVERIFY2(run.out.contains(u"equal: %1 rows"_s.arg(m_work.finalRows.size()).toUtf8()), run.out.constData());
}

void TestStateDiff::postgres()
{
    PgConnection conn;
    QString error;
    QVERIFY2(conn.open(m_uri, PgConnection::Kind::Sql, &error), qPrintable(error));
    auto load = [&] {
        QByteArray sql = "DROP TABLE IF EXISTS public.sd_orders; CREATE TABLE public.sd_orders " + QByteArray(tableDdl()) + ";";
        for (const Row &r : std::as_const(m_rows)) {
            QByteArray values;
            for (const Column &c : r)
                values += (values.isEmpty() ? "" : ", ") + literal(c.value);
            sql += "INSERT INTO public.sd_orders VALUES (" + values + ");";
        }
        QVERIFY2(conn.command(sql, &error), qPrintable(error));
    };
    load();
    PgTableReader reader(m_uri);
    check(reader, u"public.sd_orders"_s, m_uri);
    if (QTest::currentTestFailed())
        return;
    // The repair by replay: same faults again, then --repair-replay.
    load();
    const QStringList diffArgs{u"diff"_s, m_tape, u"--against"_s, m_uri, u"--table"_s, u"sd_orders"_s};
    Run run = tape(diffArgs + QStringList{u"--repair-replay"_s, u"--replay-id"_s, u"sd-repair"_s});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY2(run.err.contains("rows written (replay id sd-repair); the table now equals the state"), run.err.constData());
    QCOMPARE(tape(diffArgs).exitCode, 0);
    // Its progress row is in the replay progress table.
    auto progress = conn.exec("SELECT stream, position FROM public.tapedeck_replay_progress WHERE replay_id = 'sd-repair'", {}, &error);
    QVERIFY2(progress, qPrintable(error));
    QCOMPARE(PgConnection::rows(progress), 1);
    QCOMPARE(PgConnection::value(progress, 0, 0), QByteArray("repair/sd_orders"));
    QCOMPARE(PgConnection::value(progress, 0, 1), QByteArray::number(m_work.events.size()));
    // And the table equals the log's final rows, compared with SQL.
    auto count = conn.exec("SELECT count(*) FROM public.sd_orders", {}, &error);
    QCOMPARE(PgConnection::value(count, 0, 0).toLongLong(), qint64(m_work.finalRows.size()));
    // The state at an earlier point differs from the repaired table.
    QCOMPARE(tape(diffArgs + QStringList{u"--at"_s, u"100"_s}).exitCode, 3);
}

void TestStateDiff::sqlite()
{
    const QString path = m_dir.filePath(u"dual.db"_s);
    auto load = [&] {
        QFile::remove(path);
        QByteArray sql = "CREATE TABLE sd_orders (id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC, big INTEGER, note TEXT, ts TEXT, flag BOOLEAN);";
        for (const Row &r : std::as_const(m_rows)) {
            QByteArray values;
            for (const Column &c : r) {
                std::optional<QByteArray> v = c.value;
                if (c.name == u"flag" && v)
                    v = QByteArray(*v == "t" ? "1" : "0"); // how an application stores booleans in SQLite
                values += (values.isEmpty() ? "" : ", ") + literal(v);
            }
            sql += "INSERT INTO sd_orders VALUES (" + values + ");";
        }
        QString error;
        QVERIFY2(sqliteExec(path, sql, &error), qPrintable(error));
    };
    load();
    SqliteTableReader reader(path);
    check(reader, u"sd_orders"_s, u"sqlite:"_s + path);
    if (QTest::currentTestFailed())
        return;
    load();
    const QStringList diffArgs{u"diff"_s, m_tape, u"--against"_s, u"sqlite:"_s + path, u"--table"_s, u"sd_orders"_s};
    Run run = tape(diffArgs + QStringList{u"--repair-replay"_s});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(tape(diffArgs).exitCode, 0);
}

void TestStateDiff::kafkaMapping()
{
    // Orders as Kafka records (key = id, JSON value) against a table written by a second writer.
    QList<Event> events;
    for (int i = 0; i < 300; ++i) {
        Event e;
        e.kind = SourceKind::Kafka;
        e.topic = u"sd-orders"_s;
        e.partition = i % 2;
        e.position = i / 2;
        e.timestampUs = 1700000000000000 + i;
        e.key = QByteArray::number(i % 50);
        if (i % 23 == 0)
            e.value = std::nullopt;
        else
            e.value = "{\"order_id\":" + QByteArray::number(i % 50) + ",\"total\":" + QByteArray::number(i) + ".50,\"paid\":"
                + (i % 3 ? "true" : "false") + "}";
        events.append(e);
    }
    const QString tapePath = m_dir.filePath(u"k.tape"_s);
    QString error;
    QVERIFY(writeTape(tapePath, events, &error));
    QMap<int, QByteArray> final;
    for (const Event &e : events) {
        if (e.value)
            final.insert(e.key->toInt(), *e.value);
        else
            final.remove(e.key->toInt());
    }
    PgConnection conn;
    QVERIFY(conn.open(m_uri, PgConnection::Kind::Sql, &error));
    QByteArray sql = "DROP TABLE IF EXISTS sd_kafka; CREATE TABLE sd_kafka (id int PRIMARY KEY, total numeric(10,2), paid boolean, note text);";
    for (auto it = final.cbegin(); it != final.cend(); ++it) {
        if (it.key() == 7)
            continue; // lost
        const auto total = rawjson::path(*it, "total")->text;
        const QByteArray paid = rawjson::path(*it, "paid")->text;
        sql += "INSERT INTO sd_kafka VALUES (" + QByteArray::number(it.key()) + ", " + (it.key() == 9 ? QByteArray("1") : total)
            + ", " + paid + ", 'other column');";
    }
    QVERIFY2(conn.command(sql, &error), qPrintable(error));
    const QStringList args{u"diff"_s, tapePath, u"--against"_s, m_uri, u"--table"_s, u"sd_kafka"_s, u"--topic"_s, u"sd-orders"_s,
                           u"--map"_s, u"id=value.order_id,total=value.total,paid=value.paid"_s, u"--json"_s};
    Run run = tape(args);
    QCOMPARE(run.exitCode, 3);
    const QJsonObject doc = QJsonDocument::fromJson(run.out).object();
    const QJsonArray entries = doc.value(u"entries"_s).toArray();
    QCOMPARE(entries.size(), 2);
    QCOMPARE(entries[0].toObject().value(u"kind"_s).toString(), u"missing"_s);
    QCOMPARE(entries[0].toObject().value(u"key"_s).toObject().value(u"id"_s).toString(), u"7"_s);
    QCOMPARE(entries[1].toObject().value(u"kind"_s).toString(), u"differs"_s);
    const QJsonObject d = entries[1].toObject().value(u"differences"_s).toArray().first().toObject();
    QCOMPARE(d.value(u"column"_s).toString(), u"total"_s);
    QCOMPARE(d.value(u"table"_s).toString(), u"1.00"_s);
    QCOMPARE(d.value(u"state"_s).toString().toUtf8(), rawjson::path(final.value(9), "total")->text);
    QCOMPARE(doc.value(u"columns"_s).toArray().size(), 3); // note is not mapped
    // The repair through the sink fixes both.
    run = tape(args.mid(0, args.size() - 1) + QStringList{u"--repair-replay"_s});
    QVERIFY2(run.exitCode == 0, run.err.constData());
}

void TestStateDiff::threads()
{
    // The state side read by 1 to 8 threads (parts cut where a chunk ends):
    // the same result every time, on a tape of 53-event chunks.
    QString error;
    const QString tapePath = m_dir.filePath(u"chunks.tape"_s);
    // Small chunks, so that the state side's parts (cut where a chunk ends) are many.
    QVERIFY2(writeTape(tapePath, m_work.events, &error, 53), qPrintable(error));
    const auto state = LogState::build(Tape::open(tapePath, &error), &error);
    QVERIFY2(state, qPrintable(error));
    QVERIFY(state->tape()->chunkCount() > 50);
    const QString db = m_dir.filePath(u"threads.db"_s);
    QByteArray sql = "BEGIN; CREATE TABLE sd_orders (id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC, big INTEGER, note TEXT, ts TEXT, flag BOOLEAN);";
    for (const Row &r : std::as_const(m_rows)) {
        QByteArray values;
        for (const Column &c : r)
            values += (values.isEmpty() ? "" : ", ") + literal(c.value);
        sql += "INSERT INTO sd_orders VALUES (" + values + ");";
    }
    QVERIFY2(sqliteExec(db, sql + "COMMIT;", &error), qPrintable(error));
    auto diff = [&](int threads, DiffResult *result) {
        SqliteTableReader reader(db);
        DiffOptions options;
        options.stateTable = u"public.sd_orders"_s;
        options.threads = threads;
        QVERIFY2(TableDiff::run(*state, reader, u"sd_orders"_s, options, result, &error), qPrintable(error));
    };
    DiffResult one;
    diff(1, &one);
    QCOMPARE(keysOf(one, DiffEntry::Kind::Missing), m_inj.lost);
    QCOMPARE(keysOf(one, DiffEntry::Kind::Differs), m_inj.stale);
    QCOMPARE(keysOf(one, DiffEntry::Kind::Extra), m_inj.duplicated + m_inj.garbage);
    for (int threads : {2, 3, 8}) {
        DiffResult r;
        diff(threads, &r);
        compareResults(r, one);
    }
    {
        // Cancelled at the second batch while the table is read ahead: false, "cancelled".
        SqliteTableReader reader(db);
        DiffOptions options;
        options.stateTable = u"public.sd_orders"_s;
        options.batchRows = 50;
        QList<qint64> seen;
        DiffResult r;
        QVERIFY(!TableDiff::run(*state, reader, u"sd_orders"_s, options, &r, &error, [&](qint64 rows) {
            seen.append(rows);
            return seen.size() < 2;
        }));
        QCOMPARE(error, u"cancelled"_s);
        QCOMPARE(seen, (QList<qint64>{50, 100}));
    }

    // Kafka keys that map to fewer table keys (value.id = key % 10): the later
    // event wins each table key, across the parts as in one pass.
    QList<Event> events;
    QMap<int, QByteArray> lastById;
    QSet<int> liveKeys;
    for (int i = 0; i < 400; ++i) {
        Event e;
        e.kind = SourceKind::Kafka;
        e.topic = u"sd-collide"_s;
        e.position = i;
        e.timestampUs = 1700000000000000 + i;
        const int key = (i * 7) % 40;
        e.key = QByteArray::number(key);
        e.value = "{\"id\":" + QByteArray::number(key % 10) + ",\"total\":" + QByteArray::number(i) + "}";
        liveKeys.insert(key);
        lastById.insert(key % 10, QByteArray::number(i));
        events.append(e);
    }
    const QString kafkaTape = m_dir.filePath(u"collide.tape"_s);
    QVERIFY2(writeTape(kafkaTape, events, &error, 7), qPrintable(error));
    const auto kafkaState = LogState::build(Tape::open(kafkaTape, &error), &error);
    QVERIFY2(kafkaState, qPrintable(error));
    const QString kdb = m_dir.filePath(u"collide.db"_s);
    QByteArray ksql = "BEGIN; CREATE TABLE collide (id INTEGER PRIMARY KEY, total INTEGER);";
    for (auto it = lastById.cbegin(); it != lastById.cend(); ++it)
        ksql += "INSERT INTO collide VALUES (" + QByteArray::number(it.key()) + ", " + it.value() + ");";
    QVERIFY2(sqliteExec(kdb, ksql + "COMMIT;", &error), qPrintable(error));
    DiffResult first;
    for (int threads : {1, 4, 8}) {
        SqliteTableReader reader(kdb);
        DiffOptions options;
        options.stateTable = u"sd-collide"_s;
        options.map = {{u"id"_s, u"value.id"_s}, {u"total"_s, u"value.total"_s}};
        options.threads = threads;
        DiffResult r;
        QVERIFY2(TableDiff::run(*kafkaState, reader, u"collide"_s, options, &r, &error), qPrintable(error));
        QVERIFY2(r.equal(), qPrintable(u"%1 threads: %2 differing, %3 missing, %4 extra"_s.arg(threads).arg(r.differing)
                                           .arg(r.missing).arg(r.extra)));
        QCOMPARE(r.keyCollisions, qint64(liveKeys.size() - lastById.size()));
        QCOMPARE(r.equalRows, qint64(lastById.size()));
        if (threads == 1)
            first = r;
        else
            compareResults(r, first);
    }
}

void TestStateDiff::layouts()
{
    // Rows of one table in changing column layouts (reordered, a column
    // missing, an extra one: what ALTER TABLE leaves in a log) and a mapping
    // that reads one row column twice: every row compares by its own names.
    PgCatalog catalog;
    catalog.database = u"source"_s;
    catalog.primaryKeys.insert(u"public.layout"_s, {u"id"_s});
    QList<Event> events;
    QByteArray sql = "BEGIN; CREATE TABLE layout (id INTEGER PRIMARY KEY, a TEXT, b TEXT, a2 TEXT);";
    for (int i = 1; i <= 60; ++i) {
        auto col = [](const char *name, QByteArray v) { return Column{QLatin1String(name), u"text"_s, std::move(v), false}; };
        const QByteArray a = "a" + QByteArray::number(i), b = "b" + QByteArray::number(i);
        Row row;
        switch (i % 4) {
        case 0: row = {col("id", QByteArray::number(i)), col("a", a), col("b", b)}; break;
        case 1: row = {col("b", b), col("id", QByteArray::number(i)), col("a", a)}; break;
        case 2: row = {col("id", QByteArray::number(i)), col("a", a)}; break; // b: NULL
        case 3: row = {col("c", "extra"), col("a", a), col("b", b), col("id", QByteArray::number(i))}; break;
        }
        pgchange::TxnInfo txn{i, 0x1000 + i * 0x100, 1709290000000000LL + i};
        events.append(pgchange::change(catalog, Operation::Insert, txn.commitLsn - 8, txn, u"public"_s, u"layout"_s, {}, row, {}));
        const QByteArray tableA = i == 17 ? QByteArray("changed") : a; // the one difference
        sql += "INSERT INTO layout VALUES (" + QByteArray::number(i) + ", '" + tableA + "', "
            + (i % 4 == 2 ? QByteArray("NULL") : "'" + b + "'") + ", '" + a + "');";
    }
    QString error;
    const QString tapePath = m_dir.filePath(u"layout.tape"_s);
    QVERIFY2(writeTape(tapePath, events, &error, 9), qPrintable(error));
    const auto state = LogState::build(Tape::open(tapePath, &error), &error);
    QVERIFY2(state, qPrintable(error));
    const QString db = m_dir.filePath(u"layout.db"_s);
    QVERIFY2(sqliteExec(db, sql + "COMMIT;", &error), qPrintable(error));
    for (int threads : {1, 3}) {
        SqliteTableReader reader(db);
        DiffOptions options;
        options.stateTable = u"public.layout"_s;
        options.map = {{u"a"_s, u"a"_s}, {u"b"_s, u"b"_s}, {u"a2"_s, u"a"_s}};
        options.threads = threads;
        DiffResult r;
        QVERIFY2(TableDiff::run(*state, reader, u"layout"_s, options, &r, &error), qPrintable(error));
        QCOMPARE(r.stateRows, 60);
        QCOMPARE(r.equalRows, 59);
        QCOMPARE(r.differing, 1);
        QCOMPARE(r.missing + r.extra + r.unmappable + r.keyCollisions, 0);
        QCOMPARE(r.entries.size(), 1);
        const DiffEntry &d = r.entries.first();
        QCOMPARE(d.key, (QList<std::optional<QByteArray>>{QByteArray("17")}));
        QCOMPARE(d.differences, (QList<ColumnDifference>{{u"a"_s, QByteArray("a17"), QByteArray("changed")}}));
    }
}

void TestStateDiff::cliErrors()
{
    QCOMPARE(tape({u"diff"_s, m_tape}).exitCode, 2);
    Run run = tape({u"diff"_s, m_tape, u"--against"_s, u"mysql://x"_s, u"--table"_s, u"t"_s});
    QCOMPARE(run.exitCode, 2);
    QCOMPARE(run.err, QByteArray("tape: --against takes postgresql://... or sqlite:PATH (see 'tape --help')\n"));
    run = tape({u"diff"_s, m_tape, u"--against"_s, m_uri, u"--table"_s, u"no_such_table_sd"_s, u"--topic"_s, u"public.sd_orders"_s});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("has no table no_such_table_sd"), run.err.constData());
    run = tape({u"diff"_s, u"/nonexistent.tape"_s, u"--against"_s, m_uri, u"--table"_s, u"t"_s});
    QCOMPARE(run.exitCode, 1);
    run = tape({u"state"_s, m_tape, u"--at"_s, u"999999"_s});
    QCOMPARE(run.exitCode, 2);
    QCOMPARE(run.err, u"tape: --at 999999: the tape has %1 events (#0 to #%2) (see 'tape --help')\n"_s
                          .arg(m_work.events.size()).arg(m_work.events.size() - 1).toUtf8());
    run = tape({u"state"_s, m_tape, u"--table"_s, u"nope"_s});
    QCOMPARE(run.exitCode, 1);
    // tape state: text and JSON agree with the state.
    run = tape({u"state"_s, m_tape, u"--table"_s, u"sd_orders"_s, u"--limit"_s, u"2"_s});
    QCOMPARE(run.exitCode, 0);
    const QList<QByteArray> lines = run.out.split('\n');
    QCOMPARE(lines[0], u"# public.sd_orders (postgres, key id): %1 rows after event #%2 (%3 events)"_s
                           .arg(m_work.finalRows.size()).arg(m_work.events.size() - 1).arg(m_work.events.size()).toUtf8());
    QCOMPARE(lines[1], QByteArray("id\tname\tamount\tbig\tnote\tts\tflag\tseq"));
    QVERIFY(lines[2].startsWith(QByteArray(QByteArray::number(m_work.finalRows.firstKey()) + '\t')));
    run = tape({u"state"_s, m_tape, u"--json"_s, u"--at"_s, u"0"_s});
    QCOMPARE(run.exitCode, 0);
    const QJsonObject doc = QJsonDocument::fromJson(run.out).object();
    QCOMPARE(doc.value(u"at"_s).toInteger(), 1);
    const QJsonObject t = doc.value(u"tables"_s).toArray().first().toObject();
    QCOMPARE(t.value(u"rows"_s).toInteger(), 1);
    QCOMPARE(t.value(u"data"_s).toArray().first().toObject().value(u"seq"_s).toInteger(), 0);
}

QTEST_GUILESS_MAIN(TestStateDiff)
#include "tst_state_diff.moc"
