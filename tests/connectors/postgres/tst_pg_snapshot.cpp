// The starting image (`--snapshot`) against the real PostgreSQL 15 started by
// scripts/services/postgres.sh (TAPEDECK_PG_URI). Fails, never skips, without it.
// The claim checked: the read events plus the changes after them, folded by
// primary key, equal the table as SQL reads it afterwards, including rows that
// were changed after the snapshot was taken and before it was read.
#include "connectors/postgres/pgadmin.h"
#include "connectors/postgres/decode/pgchange.h"
#include "connectors/postgres/pgconnection.h"
#include "connectors/postgres/record/pgrecorder.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <QMap>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

using namespace tapedeck;

Q_DECLARE_METATYPE(tapedeck::PgReadMode)

class TestPgSnapshot : public QObject
{
    Q_OBJECT
private:
    QString m_dsn;
    QTemporaryDir m_dir;
    QString m_suffix = QUuid::createUuid().toString(QUuid::Id128).left(8);
    PgConnection m_sql;

    QString table() const { return QStringLiteral("snap_%1").arg(m_suffix); }
    QString pub() const { return QStringLiteral("snappub_%1").arg(m_suffix); }

    bool exec(const QString &sql, QString *error)
    {
        return bool(m_sql.command(sql.toUtf8(), error));
    }
    void exec(const QString &sql)
    {
        QString error;
        QVERIFY2(exec(sql, &error), qPrintable(sql + QStringLiteral(": ") + error));
    }

    // Key JSON -> row JSON, as SQL sees the table now.
    QMap<QByteArray, QByteArray> tableNow()
    {
        QMap<QByteArray, QByteArray> out;
        QString error;
        const auto cols = m_sql.exec("SELECT attname, format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = $1::regclass"
                                     " AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum", {table().toUtf8()}, &error);
        const auto rows = m_sql.exec("SELECT id, v, n, b, ts FROM " + table().toUtf8(), {}, &error);
        if (!cols || !rows) {
            qWarning() << error;
            return out;
        }
        for (int i = 0; i < PgConnection::rows(rows); ++i) {
            Row row;
            for (int c = 0; c < PgConnection::rows(cols); ++c) {
                Column col{QString::fromUtf8(PgConnection::value(cols, c, 0)), QString::fromUtf8(PgConnection::value(cols, c, 1)), {}, false};
                if (!PgConnection::isNull(rows, i, c))
                    col.value = PgConnection::value(rows, i, c);
                row.append(col);
            }
            out.insert(pgchange::rowJson(row, {QStringLiteral("id")}), pgchange::rowJson(row));
        }
        return out;
    }

    // Read, insert and update upsert by key; delete removes; truncate clears.
    static QMap<QByteArray, QByteArray> fold(const QList<Event> &events, const QString &topic)
    {
        QMap<QByteArray, QByteArray> state;
        for (const Event &e : events) {
            if (e.topic != topic)
                continue;
            switch (e.operation) {
            case Operation::Read: case Operation::Insert: case Operation::Update: state.insert(*e.key, *e.value); break;
            case Operation::Delete: state.remove(*e.key); break;
            case Operation::Truncate: state.clear(); break;
            default: break;
            }
        }
        return state;
    }

    QList<Event> record(PgRecordOptions o, const std::function<void(qint64)> &hook, QString *error, qint64 *snapshotLsn = nullptr)
    {
        o.dsn = m_dsn;
        o.publications = {pub()};
        const QString path = m_dir.filePath(QUuid::createUuid().toString(QUuid::Id128) + QStringLiteral(".tape"));
        PgRecorder recorder(o);
        recorder.setSnapshotHook(hook);
        if (!recorder.prepare(error))
            return {};
        TapeWriter writer;
        if (!writer.create(path, recorder.metadata())) {
            *error = writer.errorString();
            return {};
        }
        std::atomic<bool> cancel{false};
        const bool ok = recorder.record(writer, &cancel, {}, error);
        writer.close();
        if (snapshotLsn)
            *snapshotLsn = recorder.snapshotLsn();
        if (!ok)
            return {};
        QList<Event> out;
        const auto tape = Tape::open(path, error);
        if (!tape)
            return {};
        for (qint64 s = 0; s < tape->eventCount(); ++s) {
            Event e;
            tape->event(s, &e, error);
            out.append(e);
        }
        error->clear();
        return out;
    }

    // Changes made after the snapshot was exported, before its rows are read:
    // the image must not contain them, the stream after it must.
    void changeDuringSnapshot(int round)
    {
        QString error;
        const bool ok = exec(QStringLiteral("BEGIN; UPDATE %1 SET v = 'changed during %2', n = n + 0.5 WHERE id IN (5, 6, 7);"
                                            " DELETE FROM %1 WHERE id IN (8, 9); INSERT INTO %1 VALUES (%3, 'born during', 1.25, true, now()),"
                                            " (%4, NULL, NULL, NULL, NULL); COMMIT")
                                 .arg(table()).arg(round).arg(10000 + round * 10).arg(10001 + round * 10), &error);
        if (!ok)
            qWarning() << "change during snapshot failed:" << error;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_dsn = qEnvironmentVariable("TAPEDECK_PG_URI");
        if (m_dsn.isEmpty())
            QFAIL("TAPEDECK_PG_URI is not set: start PostgreSQL with scripts/services/postgres.sh start (scripts/test.sh does)");
        QVERIFY(m_dir.isValid());
        QString error;
        QVERIFY2(m_sql.open(m_dsn, PgConnection::Kind::Sql, &error), qPrintable(error));
        exec(QStringLiteral("CREATE TABLE %1 (id int PRIMARY KEY, v text, n numeric, b bool, ts timestamptz,"
                            " twice int GENERATED ALWAYS AS (id * 2) STORED)").arg(table()));
        exec(QStringLiteral("CREATE TABLE %1_other (id int PRIMARY KEY)").arg(table()));
        exec(QStringLiteral("INSERT INTO %1 SELECT i, 'row ' || i || E' \\\"q\\\"\\n', i * 1.1, i % 2 = 0, '2024-05-06 07:08:09.5+00'"
                            " FROM generate_series(1, 3000) i").arg(table()));
        exec(QStringLiteral("CREATE PUBLICATION %1 FOR TABLE %2").arg(pub(), table()));
        exec(QStringLiteral("SELECT pg_create_logical_replication_slot('snapslot_%1', 'pgoutput')").arg(m_suffix));
    }

    void cleanupTestCase()
    {
        if (!m_sql.isOpen())
            return;
        QString error;
        exec(QStringLiteral("SELECT pg_drop_replication_slot('snapslot_%1')").arg(m_suffix), &error);
        exec(QStringLiteral("DROP PUBLICATION %1").arg(pub()), &error);
        exec(QStringLiteral("DROP TABLE %1, %1_other").arg(table()), &error);
    }

    // Temporary mode: the slot itself exports the snapshot, the image comes first.
    void temporarySlotStartsWithImage()
    {
        PgRecordOptions o;
        o.mode = PgReadMode::Temporary;
        o.snapshotTables = {table()};
        o.limit = 7; // the 3 updates, 2 deletes and 2 inserts of changeDuringSnapshot()
        QString error;
        const QList<Event> events = record(o, [this](qint64) { changeDuringSnapshot(1); }, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const QString table = QStringLiteral("public.") + this->table();
        qsizetype reads = 0;
        while (reads < events.size() && events[reads].operation == Operation::Read)
            ++reads;
        QCOMPARE(reads, 3000); // the image as it was when exported: ids 8 and 9 still there, 10010 not yet
        QCOMPARE(events[7].key.value(), QByteArray("{\"id\":8}"));
        QCOMPARE(events[4].value.value(), QByteArray("{\"id\":5,\"v\":\"row 5 \\\"q\\\"\\n\",\"n\":5.5,\"b\":false,"
                                                     "\"ts\":\"2024-05-06 07:08:09.5+00\"}"));
        QCOMPARE(events[0].topic, table);
        QCOMPARE(events[0].primaryKey, QStringList{QStringLiteral("id")});
        QCOMPARE(events[0].newRow.size(), 5); // the generated column is not sent by pgoutput either
        QCOMPARE(events[0].newRow[2].type, QStringLiteral("numeric"));
        QVERIFY(events[reads].operation == Operation::Begin);
        QCOMPARE(fold(events, table), tableNow());
    }

    // Copy mode: the user's slot has history before the snapshot; the image
    // goes between the transactions before and after its consistent point.
    void slotModesPlaceImageAtItsPoint_data()
    {
        QTest::addColumn<PgReadMode>("mode");
        QTest::addColumn<int>("round");
        QTest::newRow("copy") << PgReadMode::Copy << 2;
        QTest::newRow("peek") << PgReadMode::Peek << 3;
        QTest::newRow("consume") << PgReadMode::Consume << 4;
    }
    void slotModesPlaceImageAtItsPoint()
    {
        QFETCH(PgReadMode, mode);
        QFETCH(int, round);
        exec(QStringLiteral("INSERT INTO %1 VALUES (%2, 'history', 1, true, NULL)").arg(table()).arg(20000 + round));
        exec(QStringLiteral("UPDATE %1 SET v = 'history update' WHERE id = 1").arg(table()));
        exec(QStringLiteral("DELETE FROM %1 WHERE id = %2").arg(table()).arg(round));
        QString error;
        const auto count = m_sql.exec("SELECT count(*) FROM " + table().toUtf8(), {}, &error);
        QVERIFY2(count, qPrintable(error));
        const qsizetype rowsBefore = PgConnection::value(count, 0, 0).toLongLong();
        PgRecordOptions o;
        o.slot = QStringLiteral("snapslot_%1").arg(m_suffix);
        o.mode = mode;
        o.snapshotTables = {table()};
        qint64 point = -1;
        const QList<Event> events = record(o, [this, round](qint64) { changeDuringSnapshot(round); }, &error, &point);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(point > 0);
        const QString table = QStringLiteral("public.") + this->table();
        qsizetype first = -1, last = -1;
        for (qsizetype i = 0; i < events.size(); ++i) {
            if (events[i].operation == Operation::Read) {
                if (first < 0)
                    first = i;
                last = i;
            }
        }
        QVERIFY(first > 0);
        QCOMPARE(last - first + 1, rowsBefore); // the image as it was before changeDuringSnapshot()
        for (qsizetype i = 0; i < first; ++i) // the history committed before the point
            QVERIFY2(events[i].operation != Operation::Begin || events[i].commitLsn < point, qPrintable(QString::number(i)));
        for (qsizetype i = last + 1; i < events.size(); ++i)
            QVERIFY(events[i].operation != Operation::Begin || events[i].commitLsn >= point);
        QVERIFY(std::any_of(events.cbegin() + last + 1, events.cend(),
                            [round](const Event &e) { return e.key == "{\"id\":" + QByteArray::number(10000 + round * 10) + '}' && e.operation == Operation::Insert; }));
        QCOMPARE(fold(events, table), tableNow());
        // The image alone (from its first read) plus what follows equals the table too.
        QCOMPARE(fold(events.mid(first), table), tableNow());
    }

    void errors_data()
    {
        QTest::addColumn<QString>("plugin");
        QTest::addColumn<QStringList>("tables");
        QTest::addColumn<QString>("message");
        QTest::newRow("plugin") << QStringLiteral("test_decoding") << QStringList{table()}
                                << QStringLiteral("--snapshot needs the pgoutput plugin (this recording decodes test_decoding)");
        QTest::newRow("missing") << QString() << QStringList{QStringLiteral("nope_%1").arg(m_suffix)}
                                 << QStringLiteral("--snapshot: table \"public.nope_%1\" does not exist in database \"tapedeck_test\"").arg(m_suffix);
        QTest::newRow("unpublished") << QString() << QStringList{table() + QStringLiteral("_other")}
                                     << QStringLiteral("--snapshot: table \"public.%1_other\" is not in the publication %2, so its changes would not follow the snapshot")
                                            .arg(table(), pub());
    }
    void errors()
    {
        QFETCH(QString, plugin);
        QFETCH(QStringList, tables);
        QFETCH(QString, message);
        PgRecordOptions o;
        o.dsn = m_dsn;
        o.mode = PgReadMode::Temporary;
        o.plugin = plugin;
        o.publications = {pub()};
        o.snapshotTables = tables;
        PgRecorder recorder(o);
        QString error;
        QVERIFY(!recorder.prepare(&error));
        QCOMPARE(error, message);
    }
};

QTEST_GUILESS_MAIN(TestPgSnapshot)
#include "tst_pg_snapshot.moc"
