// The replay panel end to end into the real PostgreSQL (TAPEDECK_PG_URI) and
// the real Kafka broker (TAPEDECK_KAFKA_BOOTSTRAP); fails, never skips,
// without them. PostgreSQL: a database of its own, the mixed-tape warning
// answered with "only the change-event lanes", the password prompt answered
// through its hook, the CREATE TABLE question declined then accepted, the
// rows and the progress rows checked with SQL, and a rerun that writes
// nothing. Kafka: a topic of its own, the records read back with
// read_committed and compared one by one, and a rerun that writes nothing.
#include "core/demo/demotape.h"
#include "ui/replay/replaydialog.h"
#include "ui/common/settings.h"
#include "connectors/sinks/sinkfactory.h"
#include "core/tape/tape.h"

#include "connectors/kafka/kafkaadmin.h"
#include "connectors/postgres/pgconnection.h"

#include <libpq-fe.h>

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <QUuid>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestReplayPanelServices : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::shared_ptr<const Tape> m_demo;
    QString m_suffix = QUuid::createUuid().toString(QUuid::Id128).left(8);
    QString m_pgUri, m_bootstrap, m_db, m_dbUri;
    PgConnection m_admin, m_target;

    QStringList rows(const QByteArray &sql)
    {
        QString error;
        const auto r = m_target.exec(sql, {}, &error);
        if (!r)
            return {u"<error> "_s + error};
        QStringList out;
        for (int i = 0; i < PgConnection::rows(r); ++i) {
            QStringList cols;
            for (int j = 0; j < PQnfields(r.get()); ++j)
                cols << (PgConnection::isNull(r, i, j) ? u"NULL"_s : QString::fromUtf8(PgConnection::value(r, i, j)));
            out << cols.join(u'|');
        }
        return out;
    }

    ReplayReport runToEnd(ReplayDialog &dialog)
    {
        QSignalSpy finished(dialog.runner(), &ReplayRunner::finished);
        dialog.replayButton()->click();
        if (!dialog.isRunning() && finished.isEmpty())
            return {};
        if (finished.isEmpty() && !finished.wait(120000))
            return {};
        return finished.constLast().at(0).value<ReplayReport>();
    }

    // The records of a topic for a read_committed reader, in offset order.
    QStringList readBack(const QString &topic)
    {
        const QString out = m_dir.filePath(topic + u".tape"_s);
        QProcess p;
        p.start(QStringLiteral(TAPE_EXECUTABLE), {u"record"_s, u"kafka"_s, u"--brokers"_s, m_bootstrap, u"--topic"_s, topic,
                                                  u"--isolation"_s, u"read_committed"_s, u"-o"_s, out});
        if (!p.waitForFinished(120000) || p.exitCode() != 0)
            return {u"<tape record failed> "_s + QString::fromLocal8Bit(p.readAllStandardError())};
        QString error;
        const auto tape = Tape::open(out, &error);
        if (!tape)
            return {u"<error> "_s + error};
        QStringList records;
        for (qint64 s = 0; s < tape->eventCount(); ++s) {
            Event e;
            if (!tape->event(s, &e, &error))
                return {u"<error> "_s + error};
            records << recordText(e);
        }
        return records;
    }

    static QString recordText(const Event &e)
    {
        QStringList headers;
        for (const Header &h : e.headers)
            headers << QString::fromUtf8(h.name) + u'=' + (h.value ? QString::fromUtf8(*h.value) : u"NULL"_s);
        return (e.key ? QString::fromUtf8(*e.key) : u"NULL"_s) + u'|' + (e.value ? QString::fromUtf8(*e.value) : u"NULL"_s) + u'|'
            + headers.join(u',');
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir.filePath(u"config"_s)));
        QStandardPaths::setTestModeEnabled(true);
        m_pgUri = qEnvironmentVariable("TAPEDECK_PG_URI");
        m_bootstrap = qEnvironmentVariable("TAPEDECK_KAFKA_BOOTSTRAP");
        QVERIFY2(!m_pgUri.isEmpty(), "TAPEDECK_PG_URI is not set: start the services (eval \"$(bash scripts/services/all.sh env)\")");
        QVERIFY2(!m_bootstrap.isEmpty(), "TAPEDECK_KAFKA_BOOTSTRAP is not set: start the services (eval \"$(bash scripts/services/all.sh env)\")");
        QString error;
        const QString demo = m_dir.filePath(u"demo.tape"_s);
        QVERIFY2(writeDemoTape(demo, &error), qPrintable(error));
        m_demo = Tape::open(demo, &error);
        QVERIFY2(m_demo, qPrintable(error));
        QVERIFY2(m_admin.open(m_pgUri, PgConnection::Kind::Sql, &error), qPrintable(error));
        m_db = u"tapedeck_ui_replay_"_s + m_suffix;
        QVERIFY2(m_admin.command("CREATE DATABASE " + m_db.toUtf8(), &error), qPrintable(error));
        QUrl url(m_pgUri);
        url.setPath(u'/' + m_db);
        m_dbUri = url.toString();
        QVERIFY2(m_target.open(m_dbUri, PgConnection::Kind::Sql, &error), qPrintable(error));
    }

    void cleanupTestCase()
    {
        m_target = PgConnection();
        QString error;
        if (m_admin.isOpen() && !m_db.isEmpty())
            m_admin.command("DROP DATABASE IF EXISTS " + m_db.toUtf8() + " WITH (FORCE)", &error);
    }

    void identityIntoPostgres()
    {
        Settings settings;
        ReplayDialog dialog(&settings);
        dialog.resize(720, 820);
        // The server here trusts loopback, so the first attempt is refused by
        // a factory that wants a password, as a password-protected server would.
        int refused = 0;
        dialog.setSinkFactory([&refused](const ReplayTarget &t, QString *error) -> std::unique_ptr<Sink> {
            if (t.kind == ReplayTarget::Kind::Postgres && !t.pgDsn.contains(u"password"_s)) {
                ++refused;
                *error = u"%1: connection to server failed: fe_sendauth: no password supplied"_s.arg(t.describe());
                return nullptr;
            }
            return createSink(t, error);
        });
        dialog.setTape(m_demo);
        dialog.targetBox()->setCurrentIndex(int(ReplayTarget::Kind::Postgres));
        dialog.pgDsnEdit()->setText(m_dbUri);
        dialog.replayIdEdit()->setText(u"ui-pg"_s);
        QCOMPARE(dialog.problemText(), QString());
        QVERIFY(dialog.createTablesBox()->isChecked()); // offered, after a question
        QStringList confirmations;
        dialog.setConfirmHandler([&](const QString &q) { confirmations << q; return true; });
        QStringList prompts;
        dialog.setPasswordPrompt([&](const QString &prompt) -> std::optional<QString> {
            prompts << prompt;
            return u"pw-"_s + m_suffix;
        });
        QStringList warnings;
        dialog.setMixedTapeHandler([&](const QString &w) {
            warnings << w;
            return ReplayDialog::MixedChoice::ChangeLanesOnly;
        });
        bool createAnswer = false;
        dialog.setCreateTableHandler([&](const QString &) { return createAnswer; });
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));

        // The whole demo tape holds 46 Kafka records: warned before anything runs.
        QSignalSpy finished(dialog.runner(), &ReplayRunner::finished);
        dialog.replayButton()->click();
        QCOMPARE(warnings, QStringList{u"The range has 46 Kafka records the identity cannot write to SQL: it would stop at the first one.\n\n"
                                       "Replay only the change-event lanes, pick a transform, or skip the records "
                                       "(On error: skip, to the dead-letter file)."_s});
        QVERIFY(dialog.changeLanesOnlyBox()->isChecked());
        // Refused for want of a password; prompted; run again; the table is
        // missing and its creation declined: the run stops, nothing is written.
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 60000);
        QCOMPARE(refused, 1);
        QCOMPARE(prompts, QStringList{u"Password for %1:"_s.arg(m_dbUri)});
        QCOMPARE(confirmations.size(), 1); // the rerun after the password is not asked again
        const QString createStatement = u"CREATE SCHEMA IF NOT EXISTS \"public\";\nCREATE TABLE \"public\".\"orders\" (\"id\" int8, \"customer\" text, \"status\" text, "
                                        "\"amount\" numeric, PRIMARY KEY (\"id\"))"_s;
        QCOMPARE(dialog.createTableQuestions(),
                 QStringList{u"%1 has no table \"public\".\"orders\". Create it from the outputs' shape with:\n\n%2;"_s.arg(m_dbUri, createStatement)});
        const ReplayReport declined = finished.constLast().at(0).value<ReplayReport>();
        QVERIFY(!declined.ok);
        QCOMPARE(declined.error, u"%1: table \"public\".\"orders\" does not exist (creating it was declined)"_s.arg(m_dbUri));
        QVERIFY2(dialog.summaryText().startsWith(u"Stopped: "_s + declined.error), qPrintable(dialog.summaryText()));
        QVERIFY(!dialog.summaryText().contains(u"pw-"_s));
        QCOMPARE(rows("SELECT to_regclass('public.orders') IS NULL"), QStringList{u"t"_s});
        QCOMPARE(rows("SELECT count(*) FROM tapedeck_replay_progress WHERE replay_id = 'ui-pg'"), QStringList{u"0"_s});

        // Accepted: the table is created and filled, as the source had it at the end.
        createAnswer = true;
        const ReplayReport r = runToEnd(dialog);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(refused, 1); // the typed password is kept for the session
        QCOMPARE(dialog.createTableQuestions().size(), 2);
        QCOMPARE(dialog.createTableQuestions().constLast(), dialog.createTableQuestions().constFirst());
        QCOMPARE(r.stats.inRange, 24);
        QCOMPARE(r.stats.written, 24);
        QCOMPARE(r.perTarget, (QMap<QString, qint64>{{u"public.orders"_s, 24}}));
        QCOMPARE(r.drops, 0);
        QCOMPARE(rows("SELECT id, customer, status, amount FROM public.orders ORDER BY id"),
                 (QStringList{u"1001|ada|shipped|19.99"_s, u"1002|grace|shipped|250.00"_s, u"1003|linus|shipped|7.50"_s,
                              u"1004|barbara|cancelled|1200.00"_s, u"1005|ken|shipped|42.00"_s, u"1007|dennis|shipped|99.90"_s,
                              u"1008|frances|shipped|15.00"_s}));
        QCOMPARE(rows("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'public.orders'::regclass "
                      "AND attnum > 0 ORDER BY attnum"),
                 (QStringList{u"bigint"_s, u"text"_s, u"text"_s, u"numeric"_s}));
        QCOMPARE(rows("SELECT replay_id, stream, position, seq FROM tapedeck_replay_progress ORDER BY stream"),
                 (QStringList{u"ui-pg|kafka/demo/customers/0|12|69"_s, u"ui-pg|kafka/demo/orders/0|10|54"_s,
                              u"ui-pg|kafka/demo/orders/1|11|52"_s, u"ui-pg|kafka/demo/payments/0|9|56"_s,
                              u"ui-pg|postgres/shop/public.orders/0|23806216|53"_s}));
        const QString summary = dialog.summaryText();
        QVERIFY2(summary.startsWith(u"Done: %1\n70 events read, 24 in range, 24 outputs, 24 written, 0 dropped, 0 errors, 1 batch, "_s.arg(m_dbUri)),
                 qPrintable(summary));
        QVERIFY(summary.contains(u"\n  public.orders: 24 rows written"_s));
        if (const QByteArray dir = qgetenv("TAPEDECK_SHOT_DIR"); !dir.isEmpty())
            dialog.grab().save(QString::fromLocal8Bit(dir) + u"/ui2-replay-pg-finished.png"_s);

        // Rerun: resumes after the last committed event and writes nothing.
        const ReplayReport again = runToEnd(dialog);
        QVERIFY2(again.ok, qPrintable(again.error));
        QCOMPARE(again.stats.resumedAfterSeq, 69);
        QCOMPARE(again.stats.written, 0);
        QCOMPARE(rows("SELECT count(*) FROM public.orders"), QStringList{u"7"_s});
        QCOMPARE(rows("SELECT count(*), max(seq) FROM tapedeck_replay_progress WHERE replay_id = 'ui-pg'"), QStringList{u"5|69"_s});
        QVERIFY(dialog.summaryText().contains(u"\nResumed after event #69 (committed earlier under this replay id)\n"_s));
    }

    // Two PostgreSQL connections, chosen in the dialog: the rows as one
    // connection wrote them, and each connection's progress rows.
    void postgresConnections()
    {
        Settings settings;
        ReplayDialog dialog(&settings);
        dialog.setSinkFactory([](const ReplayTarget &t, QString *error) { return createSink(t, error); });
        dialog.setTape(m_demo);
        dialog.targetBox()->setCurrentIndex(int(ReplayTarget::Kind::Sqlite));
        QVERIFY(!dialog.connectionsBox()->isEnabled());
        QVERIFY(!dialog.enginesBox()->isEnabled()); // the identity has no engines
        dialog.targetBox()->setCurrentIndex(int(ReplayTarget::Kind::Postgres));
        QVERIFY(dialog.connectionsBox()->isEnabled());
        dialog.pgDsnEdit()->setText(m_dbUri);
        dialog.replayIdEdit()->setText(u"ui-pg-lanes"_s);
        dialog.connectionsBox()->setValue(2);
        dialog.changeLanesOnlyBox()->setChecked(true);
        dialog.setConfirmHandler([](const QString &) { return true; });
        dialog.setCreateTableHandler([](const QString &) { return true; });
        QCOMPARE(dialog.problemText(), QString());
        QCOMPARE(rows("DELETE FROM public.orders"), QStringList());
        const ReplayReport r = runToEnd(dialog);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.stats.written, 24);
        QCOMPARE(rows("SELECT id, customer, status, amount FROM public.orders ORDER BY id"),
                 (QStringList{u"1001|ada|shipped|19.99"_s, u"1002|grace|shipped|250.00"_s, u"1003|linus|shipped|7.50"_s,
                              u"1004|barbara|cancelled|1200.00"_s, u"1005|ken|shipped|42.00"_s, u"1007|dennis|shipped|99.90"_s,
                              u"1008|frances|shipped|15.00"_s}));
        QCOMPARE(rows("SELECT stream, seq FROM tapedeck_replay_progress WHERE replay_id = 'ui-pg-lanes' AND stream LIKE 'postgres/%' ORDER BY stream"),
                 (QStringList{u"postgres/shop/public.orders/0 (lane 1 of 2)|53"_s, u"postgres/shop/public.orders/0 (lane 2 of 2)|53"_s}));
    }

    // The Kafka records of the demo tape's "orders" lanes, identity into a
    // topic of their own (one partition, so the order is the tape's).
    void identityIntoKafka()
    {
        const QString topic = u"tapedeck_ui_replay_"_s + m_suffix;
        KafkaAdmin admin(KafkaConnection{m_bootstrap, {}});
        QString error;
        QVERIFY2(admin.createTopic(topic, 1, 1, {}, &error), qPrintable(error));

        EventSelection lanes;
        lanes.axis = AxisKind::Position;
        lanes.range = AxisRange{0, m_demo->eventCount()};
        for (const StreamStats &s : m_demo->streams()) {
            if (s.key.kind == SourceKind::Kafka && s.key.topic == u"orders"_s)
                lanes.streams.append(s.id);
        }
        std::sort(lanes.streams.begin(), lanes.streams.end());
        QCOMPARE(lanes.streams.size(), 2);
        QStringList expected;
        for (qint64 seq = 0; seq < m_demo->eventCount(); ++seq) {
            Event e;
            QVERIFY2(m_demo->event(seq, &e, &error), qPrintable(error));
            if (e.kind == SourceKind::Kafka && e.topic == u"orders"_s)
                expected << recordText(e);
        }
        QCOMPARE(expected.size(), 23);

        Settings settings;
        ReplayDialog dialog(&settings);
        dialog.setSinkFactory(&createSink);
        dialog.setTape(m_demo);
        dialog.setSelection(lanes, expected.size(), u"the orders lanes"_s);
        dialog.targetBox()->setCurrentIndex(int(ReplayTarget::Kind::Kafka));
        QVERIFY(!dialog.createTablesBox()->isEnabled());
        dialog.kafkaTopicEdit()->setText(topic);
        QCOMPARE(dialog.problemText(), u"Choose a Kafka profile (or bootstrap servers) and a topic"_s);
        dialog.kafkaBootstrapEdit()->setText(m_bootstrap);
        dialog.replayIdEdit()->setText(u"ui-kafka-"_s + m_suffix);
        QCOMPARE(dialog.problemText(), QString());
        QString question;
        dialog.setConfirmHandler([&](const QString &q) { question = q; return true; });
        int warned = 0;
        dialog.setMixedTapeHandler([&](const QString &) { ++warned; return ReplayDialog::MixedChoice::Cancel; });

        const ReplayReport r = runToEnd(dialog);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(warned, 0); // Kafka records into Kafka need no transform
        QCOMPARE(question, u"Write 23 events (the orders lanes) of demo.tape into kafka://%1/%2 as replay id “ui-kafka-%3”?\n\n"
                           "Transform: identity. Events already committed under this replay id are skipped (the replay resumes after them)."_s
                               .arg(m_bootstrap, topic, m_suffix));
        QCOMPARE(r.stats.written, 23);
        QCOMPARE(r.perTarget, (QMap<QString, qint64>{{topic, 23}}));
        QCOMPARE(readBack(topic), expected);

        const ReplayReport again = runToEnd(dialog);
        QVERIFY2(again.ok, qPrintable(again.error));
        QCOMPARE(again.stats.resumedAfterSeq, 69);
        QCOMPARE(again.stats.written, 0);
        QCOMPARE(readBack(topic), expected);
        admin.deleteTopic(topic, &error);
    }
};

QTEST_MAIN(TestReplayPanelServices)
#include "tst_replaypanel_services.moc"
