// The transform editor: errors marked at their line, console output, the
// live preview of a known selection of the demo tape (outputs, drops, errors
// per event), "Test on Selection" counts, and the main window's wiring.
#include "core/demo/demotape.h"
#include "ui/browser/eventtablemodel.h"
#include "ui/shell/mainwindow.h"
#include "ui/common/settings.h"
#include "core/tape/tape.h"
#include "ui/transform/transformeditor.h"
#include "ui/transform/transformpreviewmodel.h"

#include <QAbstractItemModelTester>
#include <QDockWidget>
#include <QItemSelectionModel>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include "ui/common/qsci.h"

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

QList<qint64> range(qint64 from, qint64 to)
{
    QList<qint64> out;
    for (qint64 s = from; s <= to; ++s)
        out << s;
    return out;
}

// Shots for the README and reviews: TAPEDECK_SHOT_DIR=/tmp/shots.
void shoot(QWidget *w, const QString &name)
{
    const QByteArray dir = qgetenv("TAPEDECK_SHOT_DIR");
    if (!dir.isEmpty())
        w->grab().save(QString::fromLocal8Bit(dir) + u"/ui-"_s + name + u".png"_s);
}

} // namespace

class TestTransformEditor : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_demo;
    std::shared_ptr<const Tape> m_tape;

    // Sets the script and waits for its preview.
    static bool preview(TransformEditor &editor, const QString &script)
    {
        editor.setScript(script, u"t.js"_s);
        return QTest::qWaitFor([&] { return !editor.isPreviewPending(); }, 5000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir.filePath(u"config"_s)));
        QStandardPaths::setTestModeEnabled(true);
        m_demo = m_dir.filePath(u"demo.tape"_s);
        QString error;
        QVERIFY2(writeDemoTape(m_demo, &error), qPrintable(error));
        m_tape = Tape::open(m_demo, &error);
        QVERIFY2(m_tape, qPrintable(error));
        QCOMPARE(m_tape->eventCount(), 70);
    }

    void templatesAreBundled()
    {
        QCOMPARE(TransformEditor::templateNames(),
                 (QStringList{u"filter.js"_s, u"identity.js"_s, u"kafka-json-upsert.js"_s, u"rename-fields.js"_s}));
        TransformEditor editor;
        QVERIFY(editor.loadTemplate(u"filter.js"_s));
        QVERIFY(editor.script().startsWith(u"// Filter: only records whose JSON value has status \"PAID\""_s));
        QCOMPARE(editor.scriptName(), u"filter.js"_s);
        // Loading is undoable.
        editor.editor()->undo();
        QVERIFY(editor.script().startsWith(u"// Identity for change events"_s));
    }

    // Events 38..43 of the demo tape: a payment and an order record (Kafka),
    // update 1004 to cancelled, delete 1006, the orders tombstone of 1006,
    // update 1001 to shipped. Through the identity template.
    void previewKnownSelection()
    {
        TransformEditor editor;
        QAbstractItemModelTester tester(editor.previewModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        editor.setTape(m_tape);
        editor.setPreviewEvents(range(38, 43), u"6 events"_s);
        QVERIFY(editor.loadTemplate(u"identity.js"_s));
        QSignalSpy updated(&editor, &TransformEditor::previewUpdated);
        QTRY_VERIFY(!editor.isPreviewPending());
        QVERIFY(updated.count() > 0);

        TransformPreviewModel *model = editor.previewModel();
        QCOMPARE(model->rowCount(), 6);
        auto result = [&](int row) { return model->index(row, TransformPreviewModel::ResultColumn).data().toString(); };
        auto status = [&](int row) { return PreviewEvent::Status(model->index(row, 0).data(TransformPreviewModel::StatusRole).toInt()); };
        QCOMPARE(model->index(0, TransformPreviewModel::SeqColumn).data().toLongLong(), 38);
        QCOMPARE(status(0), PreviewEvent::Status::Dropped);
        QCOMPARE(result(0), u"(dropped)"_s);
        QCOMPARE(status(1), PreviewEvent::Status::Dropped);
        QCOMPARE(status(2), PreviewEvent::Status::Outputs);
        QCOMPARE(result(2), uR"({"key":{"id":"1004"},"op":"upsert","row":{"amount":"1200.00","customer":"barbara","id":"1004","status":"cancelled"},"table":"public.orders"})"_s);
        QCOMPARE(result(3), uR"({"key":{"id":"1006"},"op":"delete","table":"public.orders"})"_s);
        QCOMPARE(status(4), PreviewEvent::Status::Dropped);
        QCOMPARE(result(5), uR"({"key":{"id":"1001"},"op":"upsert","row":{"amount":"19.99","customer":"ada","id":"1001","status":"shipped"},"table":"public.orders"})"_s);
        QCOMPARE(model->index(2, TransformPreviewModel::EventColumn).data().toString(),
                 u"update public.orders id=1004 customer=barbara status=cancelled amount=1200.00"_s);
        QCOMPARE(model->index(0, TransformPreviewModel::EventColumn).data().toString(),
                 uR"(payments/0@7 1008 → {"order":1008,"amount":"15.00","method":"card"})"_s);
        QVERIFY(editor.errorLines().isEmpty());

        // Before and after, side by side, for the selected row.
        editor.previewView()->selectRow(3);
        QVERIFY2(editor.detailBefore().startsWith(u"// event #41\n{\n    \"kind\": \"postgres\""_s), qPrintable(editor.detailBefore()));
        QVERIFY(editor.detailBefore().contains(u"\"op\": \"delete\""_s));
        QCOMPARE(editor.detailAfter(), u"// 1 output\n{\n    \"key\": {\n        \"id\": \"1006\"\n    },\n    \"op\": \"delete\",\n    \"table\": \"public.orders\"\n}"_s);

        // A Kafka-to-Kafka script over the same events: headers and partitions come through.
        QVERIFY(preview(editor, u"function transform(e) {\n  if (e.kind !== 'kafka') return null;\n"
                                "  return {topic: e.topic + '.copy', partition: e.partition, key: e.key, value: e.json || null, headers: {from: e.position}};\n}"_s));
        QCOMPARE(result(0), uR"({"headers":{"from":"7"},"key":"1008","partition":0,"topic":"payments.copy","value":"{\"order\":1008,\"amount\":\"15.00\",\"method\":\"card\"}"})"_s);
        QCOMPARE(result(4), uR"({"headers":{"from":"8"},"key":"1006","partition":0,"topic":"orders.copy","value":null})"_s);
        QCOMPARE(status(2), PreviewEvent::Status::Dropped);
    }

    void syntaxErrorMarked()
    {
        TransformEditor editor;
        editor.setTape(m_tape);
        editor.setPreviewEvents(range(0, 3), u"4 events"_s);
        QVERIFY(preview(editor, u"// a broken script\nfunction transform(e) {\n  return {table: 't', op: 'insert', row: {;\n}\n"_s));
        QCOMPARE(editor.errorLines(), QList<int>{2});
        QVERIFY2(editor.annotation(2).startsWith(u"t.js:3: SyntaxError"_s), qPrintable(editor.annotation(2)));
        QVERIFY2(editor.statusText().contains(u"t.js:3: SyntaxError"_s), qPrintable(editor.statusText()));
        // Nothing ran.
        QCOMPARE(editor.previewModel()->rowCount(), 4);
        QCOMPARE(editor.previewModel()->preview().count(PreviewEvent::Status::NotRun), 4);

        // Fixing it clears the mark.
        QVERIFY(preview(editor, u"// fixed\nfunction transform(e) {\n  return null;\n}\n"_s));
        QVERIFY(editor.errorLines().isEmpty());
        QCOMPARE(editor.annotation(2), QString());
        QCOMPARE(editor.previewModel()->preview().count(PreviewEvent::Status::Dropped), 4);
    }

    void runtimeErrorsPerEvent()
    {
        TransformEditor editor;
        editor.setTape(m_tape);
        editor.setPreviewEvents(range(38, 43), u"6 events"_s);
        QVERIFY(preview(editor, u"function transform(e, ctx) {\n"
                                "  if (e.op === 'delete')\n"
                                "    throw new Error('no deletes here: ' + e.old.id);\n"
                                "  if (e.op === 'update' && e.new.id === '1001')\n"
                                "    while (true) {}\n"
                                "  if (e.kind === 'kafka')\n"
                                "    return {foo: 1};\n"
                                "  return {table: 'orders', key: {id: e.new.id}, row: {status: e.new.status}};\n"
                                "}\n"_s));
        const TransformPreview &p = editor.previewModel()->preview();
        QCOMPARE(p.events.size(), 6);
        QCOMPARE(p.events[0].status, PreviewEvent::Status::Invalid);
        QCOMPARE(p.events[0].error, u"event #38: transform returned an invalid output: expected an object with \"table\" (SQL) or \"topic\" (Kafka)"_s);
        QCOMPARE(p.events[1].status, PreviewEvent::Status::Invalid);
        QCOMPARE(p.events[2].status, PreviewEvent::Status::Outputs);
        QCOMPARE(p.events[3].status, PreviewEvent::Status::Threw);
        QCOMPARE(p.events[4].status, PreviewEvent::Status::Invalid);
        QCOMPARE(p.events[3].error, u"event #41: transform threw Error: no deletes here: 1006 (t.js:3)"_s);
        QCOMPARE(p.events[5].status, PreviewEvent::Status::Timeout);
        QCOMPARE(p.events[5].error, u"event #43: transform took longer than 500 ms and was interrupted"_s);
        // The thrown error is marked at its line (0-based 2), with the message.
        QCOMPARE(editor.errorLines(), QList<int>{2});
        QCOMPARE(editor.annotation(2), u"event #41: transform threw Error: no deletes here: 1006 (t.js:3)"_s);
        QCOMPARE(editor.previewModel()->index(3, TransformPreviewModel::ResultColumn).data().toString(), p.events[3].error);
        QVERIFY(editor.statusText().contains(u"5 of 6 previewed events failed"_s));

        // From a failing event to its line: double-click, Ctrl+E, F8.
        editor.resize(1200, 700);
        editor.show();
        QVERIFY(QTest::qWaitForWindowExposed(&editor));
        int line = -1, index = -1;
        editor.editor()->setCursorPosition(7, 0);
        QVERIFY(!editor.goToErrorLine(2)); // an event with outputs has no line
        QTableView *view = editor.previewView();
        const QRect cell = view->visualRect(editor.previewModel()->index(3, 0));
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, cell.center());
        QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, cell.center());
        editor.editor()->getCursorPosition(&line, &index);
        QCOMPARE(line, 2);
        editor.editor()->setCursorPosition(7, 0);
        view->setCurrentIndex(editor.previewModel()->index(3, 0));
        view->setFocus();
        QTest::keyClick(view, Qt::Key_E, Qt::ControlModifier);
        editor.editor()->getCursorPosition(&line, &index);
        QCOMPARE(line, 2);
        editor.editor()->setCursorPosition(7, 0);
        QTest::keyClick(editor.editor(), Qt::Key_F8); // wraps to the first marked line
        editor.editor()->getCursorPosition(&line, &index);
        QCOMPARE(line, 2);
    }

    void consoleLines()
    {
        TransformEditor editor;
        editor.setTape(m_tape);
        editor.setPreviewEvents(range(40, 42), u"3 events"_s);
        QVERIFY(preview(editor, u"console.log('loaded');\n"
                                "function transform(e) {\n"
                                "  console.log(e.op, e.kind, {position: e.position});\n"
                                "  if (e.op === 'delete') console.warn('deleting', e.old.id);\n"
                                "  return null;\n"
                                "}\n"_s));
        QCOMPARE(editor.consoleText(), u"[load] loaded\n"
                                       "[#40] update postgres {\"position\":\"23805488\"}\n"
                                       "[#41] delete postgres {\"position\":\"23805592\"}\n"
                                       "[#41] deleting 1006\n"
                                       "[#42] record kafka {\"position\":\"8\"}"_s);
        editor.previewView()->selectRow(1);
        QVERIFY2(editor.detailAfter().endsWith(u"// console: delete postgres {\"position\":\"23805592\"}\n// console: deleting 1006"_s),
                 qPrintable(editor.detailAfter()));
    }

    // Test on Selection: a dry run over the whole range, counted.
    void testOnSelection()
    {
        TransformEditor editor;
        editor.setTape(m_tape);
        EventSelection all;
        all.axis = AxisKind::Position;
        all.range = AxisRange{0, 70};
        editor.setTestSelection(all, u"events #0 to #69"_s);
        QVERIFY(editor.loadTemplate(u"identity.js"_s));
        QSignalSpy finished(&editor, &TransformEditor::testFinished);
        editor.startTest();
        QVERIFY(editor.isTestRunning());
        QVERIFY(finished.wait(10000));
        ReplayReport r = finished.takeFirst().at(0).value<ReplayReport>();
        QVERIFY(r.ok);
        QCOMPARE(r.stats.inRange, 70);
        QCOMPARE(r.stats.outputs, 24); // every change event of public.orders
        QCOMPARE(r.perTarget, (QMap<QString, qint64>{{u"public.orders"_s, 24}}));
        QCOMPARE(r.drops, 46);        // the Kafka records
        QCOMPARE(r.stats.skipped, 0);
        QVERIFY2(editor.testReportText().startsWith(u"Dry run over events #0 to #69: 70 events in range · 24 outputs · 46 dropped · 0 errors"_s),
                 qPrintable(editor.testReportText()));

        // Errors are counted and listed with their event numbers; a seq range bounds the run.
        all.range = AxisRange{40, 60};
        editor.setTestSelection(all, u"events #40 to #59"_s);
        editor.setScript(u"function transform(e) {\n  if (e.kind === 'kafka') throw new Error('kafka ' + e.topic);\n  return {table: 'x', op: 'insert', row: {op: e.op}};\n}"_s, u"t.js"_s);
        editor.startTest();
        QVERIFY(finished.wait(10000));
        r = finished.takeFirst().at(0).value<ReplayReport>();
        QCOMPARE(r.stats.inRange, 20);
        QCOMPARE(r.stats.outputs, 8);   // changes at 40, 41, 43, 45, 47, 49, 51, 53
        QCOMPARE(r.stats.skipped, 12);
        QCOMPARE(r.drops, 0);
        QCOMPARE(r.errors.value(0), u"event #42: transform threw Error: kafka orders (t.js:2)"_s);
        QVERIFY(editor.testReportText().contains(u"\nErrors:\n  event #42: transform threw Error: kafka orders (t.js:2)\n"_s));
    }

    // The main window feeds the table's selected rows to the preview.
    void mainWindowWiring()
    {
        // Start from a first run: an earlier run (or another test) may have
        // saved a window state with the editor docked.
        {
            Settings settings;
            settings.setWindowState({});
            settings.setWindowGeometry({});
        }
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.resize(1400, 900);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.openFile(m_demo));
        window.showTransformEditor();
        TransformEditor *editor = window.transformEditor();
        QVERIFY(editor);
        QTableView *view = window.tableView();
        QItemSelection sel(window.model()->index(38, 0), window.model()->index(43, EventTableModel::ColumnCount - 1));
        view->selectionModel()->select(sel, QItemSelectionModel::ClearAndSelect);
        QTRY_COMPARE(editor->previewModel()->rowCount(), 6);
        QTRY_VERIFY(!editor->isPreviewPending());
        QCOMPARE(editor->previewModel()->preview().events.constFirst().seq, 38);
        QCOMPARE(editor->previewModel()->preview().count(PreviewEvent::Status::Outputs), 3);
        editor->previewView()->selectRow(2);
        shoot(&window, u"mainwindow-editor"_s);

        // The first time, the editor floats at a working size; where the user
        // puts it is remembered with the window state.
        auto *dock = window.findChild<QDockWidget *>(u"transformDock"_s);
        QVERIFY(dock);
        QVERIFY(dock->isFloating());
        QVERIFY2(dock->width() >= 900 && dock->height() >= 600, qPrintable(u"%1x%2"_s.arg(dock->width()).arg(dock->height())));
        if (const QByteArray dir = qgetenv("TAPEDECK_SHOT_DIR"); !dir.isEmpty()) {
            dock->grab().save(QString::fromLocal8Bit(dir) + u"/ui2-editor-floating.png"_s);
            window.grab().save(QString::fromLocal8Bit(dir) + u"/ui2-editor-mainwindow.png"_s);
        }
        dock->setFloating(false);
        window.addDockWidget(Qt::RightDockWidgetArea, dock);
        window.close();

        MainWindow again;
        again.setErrorDialogsEnabled(false);
        again.show();
        QVERIFY(QTest::qWaitForWindowExposed(&again));
        again.showTransformEditor();
        auto *restored = again.findChild<QDockWidget *>(u"transformDock"_s);
        QVERIFY(restored);
        QVERIFY(!restored->isFloating());
        QCOMPARE(again.dockWidgetArea(restored), Qt::RightDockWidgetArea);
    }

    void screenshot()
    {
        TransformEditor editor;
        editor.resize(1500, 820);
        editor.setTape(m_tape);
        editor.setPreviewEvents(range(36, 47), u"12 events selected in the table"_s);
        EventSelection all;
        all.axis = AxisKind::Position;
        all.range = AxisRange{0, 70};
        editor.setTestSelection(all, u"events #0 to #69"_s);
        editor.show();
        QVERIFY(QTest::qWaitForWindowExposed(&editor));
        QVERIFY(preview(editor, u"// Orders as SQL rows; payments dropped; a deliberate bug for the screenshot.\n"
                                "function transform(event, ctx) {\n"
                                "    if (event.kind === 'kafka') {\n"
                                "        if (event.topic !== 'orders') return null;\n"
                                "        console.log('order', event.key, event.json && event.json.status);\n"
                                "        return { table: 'orders_from_kafka', op: 'upsert', key: { id: event.key }, row: event.json };\n"
                                "    }\n"
                                "    if (event.op === 'delete')\n"
                                "        throw new Error('refusing to delete ' + event.old.id);\n"
                                "    return { table: 'orders', op: 'upsert', key: { id: event.new.id }, row: event.new };\n"
                                "}\n"_s));
        QSignalSpy finished(&editor, &TransformEditor::testFinished);
        editor.startTest();
        QVERIFY(finished.wait(10000));
        editor.previewView()->selectRow(5);
        shoot(&editor, u"transform-editor"_s);
    }
};

QTEST_MAIN(TestTransformEditor)
#include "tst_transformeditor.moc"
