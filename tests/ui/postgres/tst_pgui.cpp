// The PostgreSQL GUI against the real PostgreSQL 15 that
// scripts/services/postgres.sh starts (TAPEDECK_PG_URI): the slot browser
// (settings, slots, publications), create and drop with confirmation, a
// copy-mode recording from the record dialog that the table follows, the
// consume confirmation and connection profiles without passwords. Fails,
// never skips, without the server.
#include "tests/common/shots.h"
#include "ui/browser/eventtablemodel.h"
#include "ui/shell/mainwindow.h"
#include "ui/postgres/pgconnectiondialog.h"
#include "ui/postgres/pgrecorddialog.h"
#include "ui/postgres/pgsession.h"
#include "ui/postgres/pgslotbrowser.h"
#include "ui/recording/recordingcontroller.h"
#include "ui/common/settings.h"

#include "connectors/postgres/pgadmin.h"
#include "connectors/postgres/pgconnection.h"
#include "connectors/postgres/service/pgservice.h"
#include "core/tape/tape.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QDockWidget>
#include <QFile>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>
#include <QUuid>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

constexpr int PgTimeoutMs = 30000;

QTreeWidgetItem *row(QTreeWidget *tree, const QString &name)
{
    for (int i = 0; i < tree->topLevelItemCount(); ++i) {
        if (tree->topLevelItem(i)->text(0) == name)
            return tree->topLevelItem(i);
    }
    return nullptr;
}

} // namespace

class TestPgUi : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_dsn;
    QString m_suffix = QUuid::createUuid().toString(QUuid::Id128).left(8);
    PgConnection m_sql;
    LibpqPostgresService m_service;

    QString name(const char *what) const { return QLatin1String(what) + u'_' + m_suffix; }

    QByteArray scalar(const QString &sql)
    {
        QString error;
        const auto r = m_sql.exec(sql.toUtf8(), {}, &error);
        if (!r) {
            qWarning() << sql << error;
            return {};
        }
        return PgConnection::rows(r) > 0 ? PgConnection::value(r, 0, 0) : QByteArray();
    }
    bool exec(const QString &sql)
    {
        QString error;
        if (!m_sql.command(sql.toUtf8(), &error)) {
            qWarning() << sql << error;
            return false;
        }
        return true;
    }
    bool slotExists(const QString &slot)
    {
        return scalar(u"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '%1'"_s.arg(slot)) == "1";
    }

    // A window browsing the test server.
    bool connect(MainWindow &window)
    {
        window.setErrorDialogsEnabled(false);
        window.setPostgresService(&m_service);
        window.resize(1500, 900);
        window.show();
        if (!QTest::qWaitForWindowExposed(&window))
            return false;
        PgSession *pg = window.postgres();
        pg->connectTo(m_dsn);
        QSignalSpy loaded(pg->browser(), &PgSlotBrowser::loaded);
        if (!loaded.wait(PgTimeoutMs))
            return false;
        return pg->browser()->errorText().isEmpty() && pg->browser()->serverInfo().has_value();
    }
    // Clicks OK (or Cancel) in the browser's confirmation and waits for the action and the refresh.
    bool answer(PgSlotBrowser *browser, bool yes)
    {
        QMessageBox *box = browser->confirmation();
        if (!box)
            return false;
        if (!yes) {
            box->button(QMessageBox::Cancel)->click();
            return browser->confirmation() == nullptr;
        }
        QSignalSpy done(browser, &PgSlotBrowser::actionFinished);
        QSignalSpy loaded(browser, &PgSlotBrowser::loaded);
        box->button(QMessageBox::Ok)->click();
        return done.wait(PgTimeoutMs) && (loaded.size() > 0 || loaded.wait(PgTimeoutMs));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir.filePath(u"config"_s)));
        qputenv("XDG_CACHE_HOME", QFile::encodeName(m_dir.filePath(u"cache"_s)));
        QStandardPaths::setTestModeEnabled(true);
        m_dsn = qEnvironmentVariable("TAPEDECK_PG_URI");
        QVERIFY2(!m_dsn.isEmpty(), "TAPEDECK_PG_URI is not set: eval \"$(bash scripts/services/all.sh env)\"");
        QString error;
        QVERIFY2(m_sql.open(m_dsn, PgConnection::Kind::Sql, &error), qPrintable(error));
        QVERIFY(exec(u"CREATE TABLE %1 (id int PRIMARY KEY, name text, qty int)"_s.arg(name("items"))));
        QVERIFY(exec(u"CREATE PUBLICATION %1 FOR TABLE %2"_s.arg(name("pub"), name("items"))));
    }

    void cleanupTestCase()
    {
        for (const char *slot : {"uislot", "userslot", "cancelslot"}) {
            if (slotExists(name(slot)))
                exec(u"SELECT pg_drop_replication_slot('%1')"_s.arg(name(slot)));
        }
        exec(u"DROP PUBLICATION IF EXISTS %1"_s.arg(name("pub")));
        exec(u"DROP PUBLICATION IF EXISTS %1"_s.arg(name("uipub")));
        exec(u"DROP TABLE IF EXISTS %1"_s.arg(name("items")));
    }

    void settingsShownExactly()
    {
        MainWindow window;
        QVERIFY(connect(window));
        PgSlotBrowser *browser = window.postgres()->browser();
        QTreeWidget *tree = browser->settingsTree();
        QTreeWidgetItem *wal = row(tree, u"wal_level"_s);
        QVERIFY(wal);
        QCOMPARE(wal->text(PgSlotBrowser::SettingValue), u"logical"_s);
        QCOMPARE(wal->text(PgSlotBrowser::SettingMeaning), u"logical decoding is possible"_s);
        QCOMPARE(row(tree, u"max_replication_slots"_s)->text(PgSlotBrowser::SettingValue),
                 QString::fromUtf8(scalar(u"SHOW max_replication_slots"_s)));
        QCOMPARE(row(tree, u"max_slot_wal_keep_size"_s)->text(PgSlotBrowser::SettingValue),
                 QString::fromUtf8(scalar(u"SELECT setting FROM pg_settings WHERE name = 'max_slot_wal_keep_size'"_s)));
        QVERIFY(browser->problemLabel()->isHidden());
        QVERIFY(browser->headerText().contains(u"PostgreSQL "_s + QString::fromUtf8(scalar(u"SHOW server_version"_s))));
        QVERIFY(!browser->headerText().contains(u"password"_s));
        // The explanation when logical decoding is not possible (from the values, not this server).
        PgServerInfo replica = *browser->serverInfo();
        replica.walLevel = u"replica"_s;
        QVERIFY(replica.logicalDecodingProblem().contains(u"wal_level = logical"_s));
    }

    void createAndDropSlotWithConfirmation()
    {
        MainWindow window;
        QVERIFY(connect(window));
        PgSlotBrowser *browser = window.postgres()->browser();
        const QString slot = name("uislot");
        const QString database = QString::fromUtf8(scalar(u"SELECT current_database()"_s));

        // Invalid names never reach a confirmation.
        QVERIFY(!browser->requestCreateSlot(u"Bad Name"_s, u"pgoutput"_s));
        QVERIFY(browser->errorText().contains(u"not a valid slot name"_s));
        QVERIFY(!browser->confirmation());

        // Cancelled creation: nothing happens.
        QVERIFY(browser->requestCreateSlot(name("cancelslot"), u"test_decoding"_s));
        QVERIFY(answer(browser, false));
        QTest::qWait(300);
        QVERIFY(!slotExists(name("cancelslot")));

        QVERIFY(browser->requestCreateSlot(slot, u"test_decoding"_s));
        QMessageBox *box = browser->confirmation();
        QVERIFY(box);
        QVERIFY2(box->text().contains(u"“%1”"_s.arg(slot)), qPrintable(box->text()));
        QVERIFY2(box->text().contains(browser->serverName()), qPrintable(box->text()));
        QVERIFY(browser->serverName().startsWith(u"postgresql://"_s));
        QVERIFY(answer(browser, true));
        QVERIFY2(browser->errorText().isEmpty(), qPrintable(browser->errorText()));
        QVERIFY(slotExists(slot));
        QTreeWidgetItem *item = row(browser->slotTree(), slot);
        QVERIFY(item);
        QCOMPARE(item->text(PgSlotBrowser::SlotPlugin), u"test_decoding"_s);
        QCOMPARE(item->text(PgSlotBrowser::SlotDatabase), database);
        QCOMPARE(item->text(PgSlotBrowser::SlotStatus), u"inactive"_s);
        QCOMPARE(item->text(PgSlotBrowser::SlotConfirmedLsn),
                 QString::fromUtf8(scalar(u"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '%1'"_s.arg(slot))));
        QCOMPARE(item->text(PgSlotBrowser::SlotRestartLsn),
                 QString::fromUtf8(scalar(u"SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = '%1'"_s.arg(slot))));

        // Drop refused on cancel.
        QVERIFY(browser->requestDropSlot(slot));
        QVERIFY(browser->confirmation()->text().contains(u"Drop the replication slot “%1” on %2"_s.arg(slot, browser->serverName())));
        QVERIFY(answer(browser, false));
        QTest::qWait(300);
        QVERIFY(slotExists(slot));
        QVERIFY(row(browser->slotTree(), slot));

        // Drop after confirmation.
        QVERIFY(browser->requestDropSlot(slot));
        QVERIFY(answer(browser, true));
        QVERIFY2(browser->errorText().isEmpty(), qPrintable(browser->errorText()));
        QVERIFY(!slotExists(slot));
        QVERIFY(!row(browser->slotTree(), slot));

        // Publications the same way, with their tables.
        QVERIFY(browser->requestCreatePublication(name("uipub"), {u"public."_s + name("items")}));
        QVERIFY(browser->confirmation()->text().contains(name("uipub")));
        QVERIFY(answer(browser, true));
        QTreeWidgetItem *pub = row(browser->publicationTree(), name("uipub"));
        QVERIFY(pub);
        QCOMPARE(pub->childCount(), 1);
        QCOMPARE(pub->child(0)->text(0), u"public."_s + name("items"));
        QVERIFY(browser->requestDropPublication(name("uipub")));
        QVERIFY(answer(browser, true));
        QVERIFY(!row(browser->publicationTree(), name("uipub")));
    }

    void copyRecordingFromDialog()
    {
        MainWindow window;
        QVERIFY(connect(window));
        PgSession *pg = window.postgres();
        PgSlotBrowser *browser = pg->browser();
        const QString slot = name("userslot");
        const QString table = name("items");
        QVERIFY(browser->requestCreateSlot(slot, u"pgoutput"_s));
        QVERIFY(answer(browser, true));
        QVERIFY(slotExists(slot));

        // A small workload: 3 transactions, 20 inserts, 5 updates, 3 deletes.
        QVERIFY(exec(u"INSERT INTO %1 SELECT g, 'item ' || g, g FROM generate_series(1, 12) g"_s.arg(table)));
        QVERIFY(exec(u"BEGIN; INSERT INTO %1 SELECT g, 'item ' || g, g FROM generate_series(13, 20) g; "
                     "UPDATE %1 SET qty = qty + 1 WHERE id <= 5; COMMIT"_s.arg(table)));
        QVERIFY(exec(u"DELETE FROM %1 WHERE id > 17"_s.arg(table)));
        const QByteArray confirmedBefore = scalar(u"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '%1'"_s.arg(slot));
        QVERIFY(!confirmedBefore.isEmpty());
        browser->refresh();
        QSignalSpy loaded(browser, &PgSlotBrowser::loaded);
        QVERIFY(loaded.wait(PgTimeoutMs));

        pg->showRecordDialog(slot);
        PgRecordDialog *dialog = pg->recordDialog();
        QVERIFY(dialog);
        QCOMPARE(dialog->slotBox()->currentData().toString(), slot);
        QVERIFY(PgReadMode(dialog->modeBox()->currentData().toInt()) == PgReadMode::Copy);
        dialog->setPublications({});
        QVERIFY(!dialog->recordButton()->isEnabled());
        QVERIFY2(dialog->problem().contains(u"publication"_s), qPrintable(dialog->problem()));
        dialog->setPublications({name("pub")});
        QVERIFY2(dialog->recordButton()->isEnabled(), qPrintable(dialog->problem()));

        QSignalSpy finished(pg, &PgSession::recordingFinished);
        dialog->recordButton()->click();
        QVERIFY(pg->isRecording());
        QVERIFY(finished.wait(PgTimeoutMs));
        QVERIFY2(finished.constFirst().constFirst().toString().isEmpty(), qPrintable(finished.constFirst().constFirst().toString()));

        // The window shows the recording: every event in the table, and the exact changes.
        const std::shared_ptr<const Tape> tape = window.tape();
        QVERIFY(tape);
        QCOMPARE(tape->path(), pg->recording()->tapePath());
        QVERIFY(tape->isComplete());
        QCOMPARE(window.model()->rowCount(), int(tape->eventCount()));
        QAbstractItemModelTester tester(window.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        qint64 inserts = 0, updates = 0, deletes = 0, commits = 0;
        QString error;
        for (qint64 s = 0; s < tape->eventCount(); ++s) {
            Event e;
            QVERIFY2(tape->event(s, &e, &error), qPrintable(error));
            QVERIFY(e.kind == SourceKind::Postgres);
            if (e.operation == Operation::Commit)
                ++commits;
            if (e.operation == Operation::Begin || e.operation == Operation::Commit)
                continue;
            QCOMPARE(e.topic, u"public."_s + table);
            inserts += e.operation == Operation::Insert;
            updates += e.operation == Operation::Update;
            deletes += e.operation == Operation::Delete;
        }
        QCOMPARE(inserts, 20);
        QCOMPARE(updates, 5);
        QCOMPARE(deletes, 3);
        QCOMPARE(commits, 3);
        QCOMPARE(tape->eventCount(), 20 + 5 + 3 + 2 * 3);
        QVERIFY(pg->statusText().contains(u"Recorded 34 events"_s));
        QCOMPARE(tape->metadata().parameters.value(u"mode"_s).toString(), u"copy"_s);

        // Copy mode left the user's slot where it was.
        QCOMPARE(scalar(u"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '%1'"_s.arg(slot)), confirmedBefore);
        QCOMPARE(scalar(u"SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'tapedeck\\_%' AND NOT active"_s), "0");

        // What the user sees: the window with the slot browser docked and the recording in the table.
        QVERIFY(QTest::qWaitFor([&] { return !browser->isBusy(); }, PgTimeoutMs));
        row(browser->slotTree(), slot)->setSelected(true);
        QVERIFY(window.grab().save(testing::shotPath(u"tapedeck-pg-window.png"_s)));
        browser->resize(900, 700);
        QVERIFY(browser->grab().save(testing::shotPath(u"tapedeck-pg-browser.png"_s)));
    }

    void consumeNeedsExtraConfirmation()
    {
        MainWindow window;
        QVERIFY(connect(window));
        PgSession *pg = window.postgres();
        const QString slot = name("userslot");
        QVERIFY(row(pg->browser()->slotTree(), slot));
        const QByteArray confirmedBefore = scalar(u"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '%1'"_s.arg(slot));
        pg->showRecordDialog(slot);
        PgRecordDialog *dialog = pg->recordDialog();
        QVERIFY(dialog);
        dialog->setMode(PgReadMode::Consume);
        dialog->setPublications({name("pub")});
        QVERIFY2(dialog->recordButton()->isEnabled(), qPrintable(dialog->problem()));
        dialog->recordButton()->click();
        QMessageBox *box = dialog->consumeConfirmation();
        QVERIFY(box);
        QVERIFY(box->text().contains(u"advances the slot “%1”"_s.arg(slot)));
        QVERIFY(dialog->isVisible());
        QVERIFY(dialog->grab().save(testing::shotPath(u"tapedeck-pg-record-dialog.png"_s)));
        box->button(QMessageBox::Cancel)->click();
        QVERIFY(!dialog->consumeConfirmation());
        QVERIFY(dialog->isVisible());
        QVERIFY(!pg->isRecording());
        dialog->reject();
        QTest::qWait(200);
        QCOMPARE(scalar(u"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '%1'"_s.arg(slot)), confirmedBefore);
    }

    // The "Starting image" list: the tables of the checked publications; a
    // checked table starts the tape with its rows as read events.
    void snapshotFromDialog()
    {
        MainWindow window;
        QVERIFY(connect(window));
        PgSession *pg = window.postgres();
        const QString slot = name("userslot");
        const QString table = u"public."_s + name("items");
        QVERIFY(row(pg->browser()->slotTree(), slot));
        const QByteArray rows = scalar(u"SELECT count(*) FROM %1"_s.arg(table));
        pg->showRecordDialog(slot);
        PgRecordDialog *dialog = pg->recordDialog();
        QVERIFY(dialog);
        dialog->setPublications({});
        QCOMPARE(dialog->snapshotList()->count(), 0);
        dialog->setPublications({name("pub")});
        QCOMPARE(dialog->snapshotList()->count(), 1);
        QCOMPARE(dialog->snapshotList()->item(0)->text(), table);
        QVERIFY(dialog->options().snapshotTables.isEmpty());
        dialog->setSnapshotTables({table});
        QCOMPARE(dialog->options().snapshotTables, QStringList{table});
        dialog->setPlugin(u"test_decoding"_s);
        QVERIFY(!dialog->snapshotList()->isEnabled());
        QVERIFY(dialog->options().snapshotTables.isEmpty());
        dialog->setPlugin(QString());
        QVERIFY(dialog->snapshotList()->isEnabled());
        QSignalSpy finished(pg, &PgSession::recordingFinished);
        dialog->recordButton()->click();
        QVERIFY(finished.wait(PgTimeoutMs));
        QVERIFY2(finished.constFirst().constFirst().toString().isEmpty(), qPrintable(finished.constFirst().constFirst().toString()));
        const std::shared_ptr<const Tape> tape = window.tape();
        QVERIFY(tape);
        qint64 reads = 0;
        QString error;
        for (qint64 s = 0; s < tape->eventCount(); ++s) {
            Event e;
            QVERIFY2(tape->event(s, &e, &error), qPrintable(error));
            reads += e.operation == Operation::Read;
        }
        QCOMPARE(QByteArray::number(reads), rows);
        QCOMPARE(tape->metadata().parameters.value(u"snapshotTables"_s).toArray().first().toString(), table);
    }

    void profilesNeverStorePasswords_data()
    {
        QTest::addColumn<QString>("dsn");
        QTest::addColumn<QString>("stored");
        QTest::newRow("uri") << u"postgresql://alice:s3cret@db:5432/shop?sslmode=require"_s
                             << u"postgresql://alice@db:5432/shop?sslmode=require"_s;
        QTest::newRow("uri query") << u"postgres://alice@db/shop?password=s3cret&sslmode=disable"_s
                                   << u"postgres://alice@db/shop?sslmode=disable"_s;
        QTest::newRow("conninfo") << u"host=db password='s3 cret' dbname=shop"_s << u"host=db dbname=shop"_s;
        QTest::newRow("none") << u"host=db dbname=shop"_s << u"host=db dbname=shop"_s;
    }

    void profilesNeverStorePasswords()
    {
        QFETCH(QString, dsn);
        QFETCH(QString, stored);
        Settings settings;
        PgConnectionDialog dialog(&settings);
        dialog.profileBox()->setEditText(u"shop"_s);
        dialog.dsnEdit()->setText(dsn);
        dialog.passwordEdit()->setText(u"typed"_s);
        QVERIFY(dialog.connectButton()->isEnabled());
        dialog.saveProfileButton()->click();
        QCOMPARE(settings.pgProfile(u"shop"_s).value_or(QString()), stored);
        QVERIFY(!QSettings(u"Tapedeck"_s, u"tapedeck"_s).value(u"postgres/profiles/1/dsn"_s).toString().contains(u"s3"_s));
        QVERIFY(dialog.dsn().contains(u"typed"_s)); // in memory, for this connection
        settings.removePgProfile(u"shop"_s);
    }

    void connectionStringValidatedAsYouType()
    {
        Settings settings;
        PgConnectionDialog dialog(&settings);
        dialog.dsnEdit()->setText(u"host=db dbname"_s);
        QVERIFY(!dialog.connectButton()->isEnabled());
        QVERIFY2(dialog.problem().contains(u"dbname"_s), qPrintable(dialog.problem()));
        dialog.dsnEdit()->setText(u"host=db password='open"_s);
        QVERIFY(dialog.problem().contains(u"not closed"_s));
        dialog.dsnEdit()->setText(u"mysql://db"_s);
        QVERIFY(dialog.problem().contains(u"postgresql://"_s));
        dialog.dsnEdit()->setText(QString()); // libpq's environment
        QVERIFY(dialog.connectButton()->isEnabled());
    }

    void unreachableServerShownInline()
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.setPostgresService(&m_service);
        PgSlotBrowser *browser = window.postgres()->browser();
        QSignalSpy loaded(browser, &PgSlotBrowser::loaded);
        window.postgres()->connectTo(u"host=127.0.0.1 port=1 dbname=x connect_timeout=2"_s);
        QVERIFY(loaded.wait(PgTimeoutMs));
        QVERIFY(!browser->errorText().isEmpty());
        QVERIFY(!browser->serverInfo());
    }
};

QTEST_MAIN(TestPgUi)
#include "tst_pgui.moc"
