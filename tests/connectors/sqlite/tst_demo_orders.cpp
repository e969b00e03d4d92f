// The demo's dual-write story: the SQLite copy of the orders (written by
// `tape make-demo --sqlite`) lost and garbled exactly four writes; the diff
// against the log's public.orders names exactly those keys, and either repair
// (the SQL script, the replay through the SQLite sink) makes the two equal.
#include "connectors/sqlite/demoorders.h"
#include "core/demo/demotape.h"
#include "core/state/logstate.h"
#include "connectors/sqlite/sqlitesink.h"
#include "connectors/sqlite/sqlitetablereader.h"
#include "core/diff/tablediff.h"
#include "core/tape/tape.h"

#include <sqlite3.h>

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestDemoOrders : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_tape;
    std::shared_ptr<const LogState> m_state;

    QString freshOrders(const QString &name)
    {
        const QString path = m_dir.filePath(name);
        QString error;
        if (!writeDemoOrdersSqlite(m_tape, path, &error))
            qWarning() << error;
        return path;
    }
    DiffResult diff(const QString &path)
    {
        SqliteTableReader reader(path);
        DiffOptions options;
        options.stateTable = u"public.orders"_s;
        DiffResult result;
        QString error;
        if (!TableDiff::run(*m_state, reader, u"orders"_s, options, &result, &error))
            qWarning() << error;
        return result;
    }
    // "1002 differs customer", "1006 extra", ...
    static QStringList summary(const DiffResult &r)
    {
        QStringList out;
        for (const DiffEntry &e : r.entries) {
            QString line = QString::fromUtf8(e.key.value(0).value_or("NULL"));
            switch (e.kind) {
            case DiffEntry::Kind::Missing: line += u" missing"_s; break;
            case DiffEntry::Kind::Extra: line += u" extra"_s; break;
            case DiffEntry::Kind::Differs:
                line += u" differs"_s;
                for (const ColumnDifference &d : e.differences)
                    line += u' ' + d.column + u':' + QString::fromUtf8(d.table.value_or("NULL")) + u"->"_s + QString::fromUtf8(d.state.value_or("NULL"));
                break;
            }
            out.append(line);
        }
        out.sort();
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_tape = m_dir.filePath(u"demo.tape"_s);
        QString error;
        QVERIFY2(writeDemoTape(m_tape, &error), qPrintable(error));
        const auto tape = Tape::open(m_tape, &error);
        QVERIFY2(tape, qPrintable(error));
        m_state = LogState::build(tape, &error);
        QVERIFY2(m_state, qPrintable(error));
    }

    void diffFindsExactlyTheInjectedKeys()
    {
        const DiffResult r = diff(freshOrders(u"a.sqlite"_s));
        QCOMPARE(summary(r), (QStringList{u"1002 differs customer:gr\uFFFDce->grace"_s, u"1005 differs status:paid->shipped"_s,
                                          u"1006 extra"_s, u"1008 missing"_s}));
        QCOMPARE(r.stateRows, 7);
        QCOMPARE(r.tableRows, 7);
        QCOMPARE(r.equalRows, 4);
        QCOMPARE(r.missing, 1);
        QCOMPARE(r.extra, 1);
        QCOMPARE(r.differing, 2);
        // Each key comes with its last events, for the jump to them.
        for (const DiffEntry &e : r.entries)
            QVERIFY(!e.lastEvents.isEmpty());
    }

    void repairSqlMakesThemEqual()
    {
        const QString path = freshOrders(u"b.sqlite"_s);
        const QByteArray script = TableDiff::repairSql(diff(path), u"demo"_s);
        sqlite3 *db = nullptr;
        QCOMPARE(sqlite3_open(path.toUtf8().constData(), &db), SQLITE_OK);
        char *message = nullptr;
        const int rc = sqlite3_exec(db, script.constData(), nullptr, nullptr, &message);
        QVERIFY2(rc == SQLITE_OK, message);
        sqlite3_close(db);
        const DiffResult after = diff(path);
        QVERIFY2(after.equal(), qPrintable(summary(after).join(u"; "_s)));
        QCOMPARE(after.equalRows, 7);
    }

    void repairByReplayMakesThemEqual()
    {
        const QString path = freshOrders(u"c.sqlite"_s);
        SqliteSink sink(path, SqliteSink::Options{});
        QString error;
        QVERIFY2(sink.open(u"demo-repair"_s, &error), qPrintable(error));
        qint64 written = 0;
        QVERIFY2(TableDiff::repair(sink, diff(path), u"demo-repair"_s, &written, &error), qPrintable(error));
        sink.close();
        QCOMPARE(written, 4);
        QVERIFY(diff(path).equal());
    }

    void makeDemoWritesBoth()
    {
        const QString tape = m_dir.filePath(u"cli.tape"_s), orders = m_dir.filePath(u"cli.sqlite"_s);
        QProcess p;
        p.start(QStringLiteral(TAPE_EXECUTABLE), {u"make-demo"_s, u"-o"_s, tape, u"--sqlite"_s, orders});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QFile a(orders), b(freshOrders(u"d.sqlite"_s));
        QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
        QCOMPARE(a.readAll(), b.readAll()); // deterministic
        p.start(QStringLiteral(TAPE_EXECUTABLE), {u"diff"_s, tape, u"--against"_s, u"sqlite:"_s + orders, u"--table"_s, u"orders"_s,
                                                  u"--topic"_s, u"public.orders"_s});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 3); // differences found
    }
};

QTEST_GUILESS_MAIN(TestDemoOrders)
#include "tst_demo_orders.moc"
