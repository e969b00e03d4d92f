// The replay panel end to end into a temporary SQLite file: the form, the
// confirmation naming the target (accepted through the test hook), progress
// and finished signals, the exact SQLite contents, cancel, and a rerun that
// resumes without duplicates.
#include "core/demo/demotape.h"
#include "ui/replay/replaydialog.h"
#include "ui/common/settings.h"
#include "connectors/sinks/sinkfactory.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

// Rows of a query as "a|b|c" lines.
QStringList query(const QString &path, const char *sql)
{
    QStringList rows;
    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return {u"cannot open"_s};
    }
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
        rows << QString::fromUtf8(sqlite3_errmsg(db));
    } else {
        while (sqlite3_step(st) == SQLITE_ROW) {
            QStringList cols;
            for (int i = 0; i < sqlite3_column_count(st); ++i) {
                const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(st, i));
                cols << (text ? QString::fromUtf8(text) : u"NULL"_s);
            }
            rows << cols.join(u'|');
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rows;
}

void shoot(QWidget *w, const QString &name)
{
    const QByteArray dir = qgetenv("TAPEDECK_SHOT_DIR");
    if (!dir.isEmpty())
        w->grab().save(QString::fromLocal8Bit(dir) + u"/ui-"_s + name + u".png"_s);
}

// `n` inserts of distinct ids into public.big (one stream).
bool writeBigTape(const QString &path, int n, QString *error)
{
    TapeWriter writer;
    TapeMetadata meta;
    meta.source = u"big test tape"_s;
    if (!writer.create(path, meta)) {
        *error = writer.errorString();
        return false;
    }
    for (int i = 0; i < n; ++i) {
        Event e;
        e.kind = SourceKind::Postgres;
        e.cluster = u"shop"_s;
        e.topic = u"public.big"_s;
        e.partition = 0;
        e.position = 0x1000000 + qint64(i) * 0x40;
        e.timestampUs = 1772368496789000LL + i * 10;
        e.timestampType = TimestampType::CommitTime;
        e.operation = Operation::Insert;
        e.transactionId = 100 + i;
        e.primaryKey = {u"id"_s};
        e.newRow = {Column{u"id"_s, u"int8"_s, QByteArray::number(i), false},
                    Column{u"v"_s, u"text"_s, QByteArray("value-") + QByteArray::number(i), false}};
        e.key = QByteArray("{\"id\":") + QByteArray::number(i) + '}';
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

} // namespace

class TestReplayDialog : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::shared_ptr<const Tape> m_demo;
    std::shared_ptr<const Tape> m_big;
    static constexpr int BigEvents = 200000;

    ReplayReport runToEnd(ReplayDialog &dialog, bool dryRun)
    {
        QSignalSpy finished(dialog.runner(), &ReplayRunner::finished);
        if (dryRun)
            dialog.dryRunButton()->click();
        else
            dialog.replayButton()->click();
        if (!dialog.isRunning() && finished.isEmpty())
            return {};
        if (finished.isEmpty() && !finished.wait(60000))
            return {};
        return finished.constFirst().at(0).value<ReplayReport>();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir.filePath(u"config"_s)));
        QStandardPaths::setTestModeEnabled(true);
        QString error;
        const QString demo = m_dir.filePath(u"demo.tape"_s);
        QVERIFY2(writeDemoTape(demo, &error), qPrintable(error));
        m_demo = Tape::open(demo, &error);
        QVERIFY2(m_demo, qPrintable(error));
        const QString big = m_dir.filePath(u"big.tape"_s);
        QVERIFY2(writeBigTape(big, BigEvents, &error), qPrintable(error));
        m_big = Tape::open(big, &error);
        QVERIFY2(m_big, qPrintable(error));
    }

    void validatesAsYouType()
    {
        Settings settings;
        ReplayDialog dialog(&settings);
        dialog.setSinkFactory(&createSink);
        QCOMPARE(dialog.problemText(), u"Open a tape first"_s);
        QVERIFY(!dialog.replayButton()->isEnabled());
        dialog.setTape(m_demo);
        QCOMPARE(dialog.replayIdEdit()->text(), u"demo.tape"_s);
        QCOMPARE(dialog.sqlitePathEdit()->text(), m_dir.filePath(u"demo-replay.sqlite"_s));
        QCOMPARE(dialog.problemText(), QString());
        QVERIFY(dialog.replayButton()->isEnabled());

        dialog.rangeBox()->setCurrentIndex(int(ReplayDialog::Range::Positions));
        dialog.fromEdit()->setText(u"abc"_s);
        QCOMPARE(dialog.problemText(), u"From: “abc” is not a position (an offset or an LSN such as 16/B374D848)"_s);
        QVERIFY(!dialog.replayButton()->isEnabled());
        dialog.fromEdit()->setText(u"0/16B37B0"_s);
        dialog.toEdit()->setText(u"5"_s);
        QCOMPARE(dialog.problemText(), u"From is after To"_s);
        dialog.toEdit()->clear();
        QCOMPARE(dialog.problemText(), QString());
        ReplayOptions o;
        ReplayTarget t;
        QString problem;
        QVERIFY(dialog.buildOptions(&o, &t, &problem));
        QCOMPARE(o.fromPosition, 0x16B37B0);

        dialog.rangeBox()->setCurrentIndex(int(ReplayDialog::Range::Times));
        dialog.fromEdit()->setText(u"2026-01-01T10:00:10Z"_s);
        dialog.toEdit()->setText(u"1767261615000"_s);
        QVERIFY(dialog.buildOptions(&o, &t, &problem));
        QCOMPARE(o.fromTimeMs, 1767261610000);
        QCOMPARE(o.toTimeMs, 1767261615000);

        dialog.rangeBox()->setCurrentIndex(int(ReplayDialog::Range::Selection));
        QCOMPARE(dialog.problemText(), u"Brush a range on the timeline first, or type positions or times"_s);

        dialog.targetBox()->setCurrentIndex(1); // PostgreSQL
        dialog.rangeBox()->setCurrentIndex(0);
        QCOMPARE(dialog.problemText(), u"Choose a PostgreSQL profile or type a connection"_s);
        dialog.pgDsnEdit()->setText(u"postgresql://app@db.example:5432/shop"_s);
        dialog.pgPasswordEdit()->setText(u"s3cret"_s);
        QCOMPARE(dialog.problemText(), QString());
        QVERIFY(dialog.buildOptions(&o, &t, &problem));
        QVERIFY(t.pgDsn.contains(u"s3cret"_s)); // in memory, for the sink
        // The question names the target, never the password.
        const QString question = dialog.confirmationQuestion(o, t);
        QCOMPARE(question, u"Write all 70 events of demo.tape into postgresql://app@db.example:5432/shop as replay id “demo.tape”?\n\n"
                           "Transform: identity. Events already committed under this replay id are skipped (the replay resumes after them)."_s);
        QVERIFY(!settings.pgProfileNames().contains(u"s3cret"_s));

        // No sink factory: a dry run is possible, a replay is not.
        ReplayDialog bare(&settings);
        bare.setTape(m_demo);
        QVERIFY(bare.dryRunButton()->isEnabled());
        QVERIFY(!bare.replayButton()->isEnabled());
        QCOMPARE(bare.problemText(), u"This build cannot write replays (no sink factory)"_s);
    }

    // The identity over the public.orders lane of the demo tape rebuilds the
    // table as the database had it at the end.
    void endToEndIntoSqlite()
    {
        Settings settings;
        ReplayDialog dialog(&settings);
        dialog.resize(700, 760);
        dialog.setSinkFactory(&createSink);
        dialog.setTape(m_demo);
        const QString db = m_dir.filePath(u"orders.sqlite"_s);
        dialog.sqlitePathEdit()->setText(db);
        QVERIFY(dialog.createTablesBox()->isChecked());
        bool createAnswer = false;
        dialog.setCreateTableHandler([&](const QString &) { return createAnswer; });
        EventSelection lane;
        lane.axis = AxisKind::Position;
        lane.range = AxisRange{0, 70};
        for (const StreamStats &s : m_demo->streams()) {
            if (s.key.topic == u"public.orders"_s)
                lane.streams = {s.id};
        }
        QCOMPARE(lane.streams.size(), 1);
        dialog.setSelection(lane, 24, u"events #0 to #69 in 1 lane"_s);
        QCOMPARE(ReplayDialog::Range(dialog.rangeBox()->currentIndex()), ReplayDialog::Range::Selection);

        // Declined: nothing is written.
        int asked = 0;
        dialog.setConfirmHandler([&](const QString &) { ++asked; return false; });
        dialog.replayButton()->click();
        QCOMPARE(asked, 1);
        QVERIFY(!dialog.isRunning());
        QVERIFY(!QFile::exists(db));
        QCOMPARE(dialog.lastQuestion(),
                 u"Write 24 events (events #0 to #69 in 1 lane) of demo.tape into sqlite:%1 as replay id “demo.tape”?\n\n"
                 "Transform: identity. Events already committed under this replay id are skipped (the replay resumes after them)."_s.arg(db));

        dialog.setConfirmHandler([&](const QString &) { ++asked; return true; });
        dialog.show();
        // The table is missing: asked, with the statement; declined, nothing is written.
        const ReplayReport declined = runToEnd(dialog, false);
        QVERIFY(!declined.ok);
        QCOMPARE(declined.error, u"sqlite:%1: table \"orders\" does not exist (creating it was declined)"_s.arg(db));
        QCOMPARE(dialog.createTableQuestions(),
                 QStringList{u"sqlite:%1 has no table orders. Create it from the outputs' shape with:\n\n"
                             "CREATE TABLE \"orders\" (\"id\" INTEGER, \"customer\" TEXT, \"status\" TEXT, \"amount\" TEXT, PRIMARY KEY (\"id\"));"_s.arg(db)});
        QCOMPARE(query(db, "SELECT count(*) FROM sqlite_master WHERE name = 'orders'"), QStringList{u"0"_s});
        QCOMPARE(query(db, "SELECT count(*) FROM tapedeck_replay_progress"), QStringList{u"0"_s});
        createAnswer = true;
        QSignalSpy progress(dialog.runner(), &ReplayRunner::progress);
        const ReplayReport r = runToEnd(dialog, false);
        QCOMPARE(dialog.createTableQuestions().size(), 2);
        QCOMPARE(asked, 3);
        QVERIFY2(r.ok, qPrintable(r.error));
        QVERIFY(progress.count() >= 1);
        QCOMPARE(r.stats.inRange, 24);
        QCOMPARE(r.stats.written, 24);
        QCOMPARE(r.perTarget, (QMap<QString, qint64>{{u"public.orders"_s, 24}}));
        QCOMPARE(r.drops, 0);
        QCOMPARE(r.target, u"sqlite:"_s + db);
        QCOMPARE(dialog.progressBar()->value(), 1000);
        QCOMPARE(query(db, "SELECT id, customer, status, amount FROM orders ORDER BY id"),
                 (QStringList{u"1001|ada|shipped|19.99"_s, u"1002|grace|shipped|250.00"_s, u"1003|linus|shipped|7.50"_s,
                              u"1004|barbara|cancelled|1200.00"_s, u"1005|ken|shipped|42.00"_s, u"1007|dennis|shipped|99.90"_s,
                              u"1008|frances|shipped|15.00"_s}));
        QCOMPARE(query(db, "SELECT replay_id, stream, position, seq FROM tapedeck_replay_progress ORDER BY stream"),
                 (QStringList{u"demo.tape|kafka/demo/customers/0|12|69"_s, u"demo.tape|kafka/demo/orders/0|10|54"_s,
                              u"demo.tape|kafka/demo/orders/1|11|52"_s, u"demo.tape|kafka/demo/payments/0|9|56"_s,
                              u"demo.tape|postgres/shop/public.orders/0|23806216|53"_s}));
        const QString summary = dialog.summaryText();
        QVERIFY2(summary.startsWith(u"Done: sqlite:%1\n70 events read, 24 in range, 24 outputs, 24 written, 0 dropped, 0 errors, 1 batch, "_s.arg(db)),
                 qPrintable(summary));
        QVERIFY(summary.contains(u"\n  public.orders: 24 rows written"_s));
        shoot(&dialog, u"replay-finished"_s);

        // Rerun: everything is committed already, nothing is written twice.
        const ReplayReport again = runToEnd(dialog, false);
        QVERIFY(again.ok);
        QCOMPARE(again.stats.resumedAfterSeq, 69); // events outside the lane advance their streams too
        QCOMPARE(again.stats.written, 0);
        QVERIFY(dialog.summaryText().contains(u"\nResumed after event #69 (committed earlier under this replay id)\n"_s));
        QCOMPARE(query(db, "SELECT count(*) FROM orders"), QStringList{u"7"_s});

        // A dry run writes nothing and counts.
        const ReplayReport dry = runToEnd(dialog, true);
        QVERIFY(dry.ok);
        QVERIFY(dry.dryRun);
        QCOMPARE(dry.stats.outputs, 24);
        QCOMPARE(dry.stats.written, 0);
        QVERIFY(dialog.summaryText().startsWith(u"Done: dry run\n"_s));
    }

    // A run stopped by a throwing transform counts its drops exactly (the
    // events before the failing one that gave no output) and words the
    // summary in the singular where it should.
    void stopOnErrorCountsDrops()
    {
        Settings settings;
        ReplayDialog dialog(&settings);
        dialog.setSinkFactory(&createSink);
        dialog.setTape(m_demo);
        const QString js = m_dir.filePath(u"fourth.js"_s);
        QFile f(js);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("var n = 0;\nfunction transform(e) {\n  if (e.kind === 'kafka') return null;\n"
                "  if (++n === 4) throw new Error('fourth change');\n  return {table: 'x', op: 'insert', row: {op: e.op}};\n}\n");
        f.close();
        dialog.transformBox()->setCurrentIndex(int(ReplayDialog::TransformChoice::File));
        dialog.transformFileEdit()->setText(js);
        EventSelection range;
        range.axis = AxisKind::Position;
        range.range = AxisRange{40, 60};
        dialog.setSelection(range, 20, u"events #40 to #59"_s);
        // Changes at 40, 41, 43, 45 (the fourth throws); Kafka records at 42 and 44 are dropped.
        const ReplayReport r = runToEnd(dialog, true);
        QVERIFY(!r.ok);
        QVERIFY(!r.cancelled);
        QCOMPARE(r.stats.outputs, 3);
        QCOMPARE(r.drops, 2);
        QCOMPARE(r.stats.skipped, 0);
        const QString summary = dialog.summaryText();
        QVERIFY2(summary.startsWith(u"Stopped: event #45: transform threw Error: fourth change (fourth.js:4)\n"
                                    "20 events read, 20 in range, 3 outputs, 3 would be written, 2 dropped, 0 errors, 1 batch, "_s),
                 qPrintable(summary));
        QVERIFY2(summary.contains(u"\n  x: 3 outputs"_s), qPrintable(summary));
    }

    // A transform from a file into an append-only table; Cancel stops the run
    // with a consistent prefix committed; the rerun continues exactly after it.
    void cancelAndResume()
    {
        Settings settings;
        ReplayDialog dialog(&settings);
        dialog.resize(700, 760);
        dialog.setSinkFactory(&createSink);
        dialog.setTape(m_big);
        const QString db = m_dir.filePath(u"big.sqlite"_s);
        const QString js = m_dir.filePath(u"append.js"_s);
        QFile f(js);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("function transform(e) { return {table: 'appended', op: 'insert', row: {id: e.new.id, v: e.new.v}}; }\n");
        f.close();
        dialog.transformBox()->setCurrentIndex(int(ReplayDialog::TransformChoice::File));
        dialog.transformFileEdit()->setText(js);
        dialog.sqlitePathEdit()->setText(db);
        dialog.setCreateTableHandler([](const QString &) { return true; });
        dialog.replayIdEdit()->setText(u"big-run"_s);
        dialog.setConfirmHandler([](const QString &) { return true; });
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));

        QSignalSpy progress(dialog.runner(), &ReplayRunner::progress);
        QSignalSpy finished(dialog.runner(), &ReplayRunner::finished);
        dialog.replayButton()->click();
        QVERIFY(dialog.isRunning());
        QVERIFY(!dialog.replayButton()->isEnabled());
        QVERIFY(dialog.cancelButton()->isEnabled());
        QVERIFY(progress.wait(30000));
        QVERIFY2(dialog.rateText().contains(u" events/s · "_s) && dialog.rateText().contains(u" · ETA "_s), qPrintable(dialog.rateText()));
        shoot(&dialog, u"replay-running"_s);
        dialog.cancelButton()->click();
        QVERIFY(finished.wait(30000));
        const ReplayReport cancelled = finished.constFirst().at(0).value<ReplayReport>();
        QVERIFY(!cancelled.ok);
        QVERIFY(cancelled.cancelled);
        QVERIFY2(dialog.summaryText().startsWith(u"Cancelled: sqlite:"_s), qPrintable(dialog.summaryText()));
        QVERIFY(dialog.replayButton()->isEnabled());
        const QStringList committed = query(db, "SELECT seq FROM tapedeck_replay_progress WHERE replay_id = 'big-run'");
        QCOMPARE(committed.size(), 1);
        const qint64 lastSeq = committed.constFirst().toLongLong();
        QVERIFY2(lastSeq >= 0 && lastSeq < BigEvents - 1, qPrintable(committed.constFirst()));
        // Exactly the committed prefix is in the table.
        QCOMPARE(query(db, "SELECT count(*), count(DISTINCT id), min(CAST(id AS INTEGER)), max(CAST(id AS INTEGER)) FROM appended"),
                 QStringList{u"%1|%1|0|%2"_s.arg(lastSeq + 1).arg(lastSeq)});

        const ReplayReport resumed = runToEnd(dialog, false);
        QVERIFY2(resumed.ok, qPrintable(resumed.error));
        QCOMPARE(resumed.stats.resumedAfterSeq, lastSeq);
        QCOMPARE(resumed.stats.written, BigEvents - 1 - lastSeq);
        QCOMPARE(query(db, "SELECT count(*), count(DISTINCT id), min(CAST(id AS INTEGER)), max(CAST(id AS INTEGER)) FROM appended"),
                 QStringList{u"%1|%1|0|%2"_s.arg(BigEvents).arg(BigEvents - 1)});
        QCOMPARE(query(db, "SELECT v FROM appended WHERE id = 123456"), QStringList{u"value-123456"_s});
        QVERIFY(dialog.summaryText().contains(u"Resumed after event #%1"_s.arg(lastSeq)));
    }
};

QTEST_MAIN(TestReplayDialog)
#include "tst_replaydialog.moc"
