#include "core/filter/eventfilter.h"
#include "core/tape/tape.h"
#include "tests/common/testtapes.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

using SeqList = QList<qint64>;

class TestEventFilter : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::shared_ptr<Tape> m_tape;

    // Runs `filter` over every event of the sample tape.
    SeqList run(EventFilter &filter)
    {
        SeqList matched;
        for (int c = 0; c < m_tape->chunkCount(); ++c) {
            QString error;
            const auto chunk = m_tape->chunk(c, &error);
            if (!chunk) {
                qWarning() << error;
                return {-1};
            }
            for (int i = 0; i < chunk->count(); ++i) {
                const qint64 seq = m_tape->chunkInfo(c).firstSeq + i;
                if (filter.matches(m_tape->streamKey(chunk->streamId(i)), *chunk, i, seq))
                    matched << seq;
            }
        }
        return matched;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QString error;
        const QString path = m_dir.filePath(u"sample.tape"_s);
        QVERIFY2(testtapes::writeSampleTape(path, &error), qPrintable(error));
        m_tape = Tape::open(path, &error);
        QVERIFY2(m_tape, qPrintable(error));
        QCOMPARE(m_tape->eventCount(), 10);
        QVERIFY(m_tape->chunkCount() >= 3);
    }

    void matches_data()
    {
        QTest::addColumn<QString>("expression");
        QTest::addColumn<SeqList>("expected");
        QTest::addColumn<int>("errors");

        QTest::newRow("key") << u"e.key == \"order-1\""_s << SeqList{0, 3} << 0;
        QTest::newRow("null key") << u"e.key === null"_s << SeqList{1, 6, 7} << 0;
        QTest::newRow("json guarded") << u"e.json && e.json.status == \"FAILED\""_s << SeqList{1, 2} << 0;
        QTest::newRow("json unguarded throws") << u"e.json.status == \"FAILED\""_s << SeqList{1, 2} << 6;
        QTest::newRow("optional chaining") << u"e.json?.customer?.vip === true"_s << SeqList{2} << 0;
        QTest::newRow("json array") << u"e.json?.items?.length == 2"_s << SeqList{1} << 0;
        QTest::newRow("header") << u"e.headers.a == \"1\" && e.headers.b == \"2\""_s << SeqList{2} << 0;
        QTest::newRow("null header") << u"\"retry\" in e.headers && e.headers.retry === null"_s << SeqList{4} << 0;
        QTest::newRow("tombstone") << u"e.tombstone"_s << SeqList{3} << 0;
        QTest::newRow("op update") << u"e.op == \"update\""_s << SeqList{7} << 0;
        QTest::newRow("op not record") << u"e.op != \"record\""_s << SeqList{6, 7} << 0;
        QTest::newRow("kind") << u"e.kind == \"postgres\""_s << SeqList{6, 7} << 0;
        QTest::newRow("topic and partition") << u"e.topic == \"payments\" && e.partition == 2"_s << SeqList{4, 5} << 0;
        QTest::newRow("offset") << u"e.kind == \"kafka\" && e.offset >= 100"_s << SeqList{0, 2, 3} << 0;
        QTest::newRow("position alias") << u"e.position == e.offset && e.position == 0x1006B3848"_s << SeqList{7} << 0;
        QTest::newRow("no timestamp") << u"e.timestamp < 0"_s << SeqList{5} << 0;
        QTest::newRow("timestamp ms") << u"e.timestamp == 1772368496789 + 2"_s << SeqList{2} << 0;
        QTest::newRow("size") << u"e.size > 200"_s << SeqList{9} << 0;
        QTest::newRow("value method throws on null") << u"e.value.startsWith(\"hello\")"_s << SeqList{5} << 3;
        QTest::newRow("regex") << u"/FAIL/.test(e.value)"_s << SeqList{1, 2} << 0;
        QTest::newRow("utf-8 in json") << u"e.json?.customer?.name == \"Zoë\""_s << SeqList{2} << 0;
        QTest::newRow("whole event") << u"JSON.stringify(e).includes(\"Zoë\")"_s << SeqList{2} << 0;
        QTest::newRow("bracket access") << u"e[\"key\"] == \"p-2\""_s << SeqList{5} << 0;
        QTest::newRow("truthy number") << u"e.partition"_s << SeqList{1, 4, 5, 6, 7, 8, 9} << 0; // Postgres partition is -1
        QTest::newRow("thrown error") << u"(() => { throw new Error(\"boom\") })()"_s << SeqList{} << 10;
        QTest::newRow("sandbox") << u"typeof console == \"undefined\" && typeof require == \"undefined\" && "
                                    "typeof XMLHttpRequest == \"undefined\" && typeof Qt == \"undefined\" && "
                                    "typeof print == \"undefined\""_s
                                 << SeqList{0, 1, 2, 3, 4, 5, 6, 7, 8, 9} << 0;
        QTest::newRow("trailing comment") << u"e.partition == 1 // partition one"_s << SeqList{1, 8, 9} << 0;
    }

    void matches()
    {
        QFETCH(QString, expression);
        QFETCH(SeqList, expected);
        QFETCH(int, errors);
        EventFilter filter;
        QString error;
        QVERIFY2(filter.compile(expression, &error), qPrintable(error));
        QCOMPARE(run(filter), expected);
        QCOMPARE(filter.errorCount(), errors);
        QCOMPARE(filter.firstError().isEmpty(), errors == 0);
        QVERIFY(!filter.timedOut());
    }

    void firstErrorNamesEvent()
    {
        EventFilter filter;
        QString error;
        QVERIFY(filter.compile(u"e.json.status == \"FAILED\""_s, &error));
        run(filter);
        QCOMPARE(filter.firstErrorSeq(), 3);
        QVERIFY2(filter.firstError().startsWith(u"TypeError: "_s), qPrintable(filter.firstError()));
        QVERIFY2(filter.firstError().endsWith(u" (event #3)"_s), qPrintable(filter.firstError()));
    }

    void check_data()
    {
        QTest::addColumn<QString>("expression");
        QTest::addColumn<int>("state");
        QTest::addColumn<QString>("message");
        QTest::addColumn<int>("column");

        QTest::newRow("empty") << QString() << int(EventFilter::State::Empty) << QString() << -1;
        QTest::newRow("blank") << u"   "_s << int(EventFilter::State::Empty) << QString() << -1;
        QTest::newRow("valid") << u"e.key == \"a\""_s << int(EventFilter::State::Valid) << QString() << -1;
        QTest::newRow("triple ampersand") << u"e.key == 'a' &&& 1"_s << int(EventFilter::State::Invalid)
                                          << u"Unexpected token `&'"_s << 15;
        QTest::newRow("two identifiers") << u"foo bar"_s << int(EventFilter::State::Invalid)
                                         << u"Unexpected token `identifier'"_s << 4;
        QTest::newRow("stray paren") << u"e.json.x ==)"_s << int(EventFilter::State::Invalid)
                                     << u"Expected an expression"_s << 11;
        QTest::newRow("unterminated string") << u"e.key == 'abc"_s << int(EventFilter::State::Invalid)
                                             << u"Unterminated string"_s << 9;
        QTest::newRow("second line") << u"e.key == 1 &&\n  e.partition ))"_s << int(EventFilter::State::Invalid)
                                     << u"Expected token `;'"_s << 29;
        QTest::newRow("quote in comment") << u"e.key == 1 // it's\n)"_s << int(EventFilter::State::Invalid)
                                          << u"Unexpected token `)'"_s << 20; // the wrapper's own parenthesis, at the end
        // Text that closes the wrapper's function: never compiled, its code never runs (a check as you type would hang).
        QTest::newRow("breaks out, loops") << u"0); })(), (function(){ for(;;); })(), (function(e){ return (0"_s
                                           << int(EventFilter::State::Invalid)
                                           << u"not an expression (it closes the filter's function)"_s << -1;
        QTest::newRow("breaks out") << u"0); }), (hit = 1), (function(e){ return (0"_s
                                    << int(EventFilter::State::Invalid)
                                    << u"not an expression (it closes the filter's function)"_s << -1;
    }

    // A filter that broke out is refused, and nothing of it ran in the engine the next filter uses.
    void breakingOutRunsNothing()
    {
        EventFilter filter;
        QString error;
        QVERIFY(!filter.compile(u"0); }), (hit = 1), (function(e){ return (0"_s, &error));
        QCOMPARE(error, u"not an expression (it closes the filter's function)"_s);
        QVERIFY2(filter.compile(u"typeof hit === 'undefined' && e.partition == 1"_s, &error), qPrintable(error));
        QCOMPARE(run(filter), (SeqList{1, 8, 9}));
    }

    void check()
    {
        QFETCH(QString, expression);
        QFETCH(int, state);
        QFETCH(QString, message);
        QFETCH(int, column);
        const EventFilter::Check result = EventFilter::check(expression);
        QCOMPARE(int(result.state), state);
        QCOMPARE(result.message, message);
        QCOMPARE(result.column, column);

        EventFilter filter;
        QString error;
        QCOMPARE(filter.compile(expression, &error), state == int(EventFilter::State::Valid));
        if (state == int(EventFilter::State::Invalid))
            QCOMPARE(error, column >= 0 ? u"column %1: %2"_s.arg(column + 1).arg(message) : message);
    }

    void runawayIsInterrupted()
    {
        EventFilter filter;
        filter.setTimeoutMs(200);
        QString error;
        // Event 0 loops forever; the others must still be evaluated normally afterwards.
        QVERIFY(filter.compile(u"e.key == \"order-1\" && e.offset == 100 ? (() => { while (true) {} })() : e.partition == 1"_s,
                               &error));
        QElapsedTimer clock;
        clock.start();
        const SeqList matched = run(filter);
        QVERIFY2(clock.elapsed() < 5000, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(clock.elapsed() >= 200);
        QCOMPARE(matched, (SeqList{1, 8, 9}));
        QVERIFY(filter.timedOut());
        QCOMPARE(filter.errorCount(), 1);
        QCOMPARE(filter.firstError(), u"filter expression took longer than 200 ms on event #0"_s);
    }

    // A filter that allocates without bound is stopped at the heap limit on
    // its own event; the others are evaluated.
    void heapLimit()
    {
        EventFilter filter;
        filter.setTimeoutMs(60000);
        filter.setHeapLimit(qint64(16) << 20);
        QString error;
        QVERIFY(filter.compile(u"e.key == \"order-1\" && e.offset == 100 ? (() => { var a = []; for (;;) a.push('x'.repeat(1e5) + a.length); })() : e.partition == 1"_s,
                               &error));
        const SeqList matched = run(filter);
        QCOMPARE(matched, (SeqList{1, 8, 9}));
        QVERIFY(!filter.timedOut());
        QCOMPARE(filter.errorCount(), 1);
        QCOMPARE(filter.firstError(), u"filter expression grew the JavaScript heap past 16 MB on event #0"_s);
    }

    void interruptFromAnotherThread()
    {
        EventFilter filter;
        filter.setTimeoutMs(60000);
        QString error;
        QVERIFY(filter.compile(u"(() => { while (true) {} })()"_s, &error));
        std::thread stopper([&filter] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            filter.interrupt();
        });
        QElapsedTimer clock;
        clock.start();
        const SeqList matched = run(filter);
        stopper.join();
        QVERIFY(clock.elapsed() < 5000);
        QCOMPARE(matched, SeqList{});
        QCOMPARE(filter.errorCount(), 0); // a cancel is not the expression's fault
        QVERIFY(!filter.timedOut());
    }

    void usedBy_data()
    {
        QTest::addColumn<QString>("expression");
        QTest::addColumn<QString>("fields"); // the enabled fields, in declaration order

        QTest::newRow("key") << u"e.key == \"x\""_s << u"key"_s;
        QTest::newRow("json") << u"e.json.status == 1"_s << u"json"_s;
        QTest::newRow("json key") << u"e.json.key == 1"_s << u"key json"_s;
        QTest::newRow("offset") << u"e.offset > 5 && e.partition == 0"_s << u"partition position"_s;
        QTest::newRow("optional") << u"e?.headers?.x"_s << u"headers"_s;
        QTest::newRow("stringify") << u"JSON.stringify(e).includes(\"x\")"_s << u"all json"_s;
        QTest::newRow("key json") << u"e.keyJson.id == 1"_s << u"json keyJson"_s;
        QTest::newRow("change fields") << u"e.new.status != e.old.status"_s << u"change"_s;
        QTest::newRow("timestampUs") << u"e.timestampUs > '1'"_s << u"timestampUs"_s;
        QTest::newRow("brackets") << u"e[\"key\"] == 1"_s << u"all"_s;
        QTest::newRow("spread") << u"({...e}).key"_s << u"all"_s;
        QTest::newRow("arguments") << u"arguments[0].key"_s << u"all"_s;
        QTest::newRow("other e") << u"[1].some(x => x.e == 1) && e.tombstone"_s << u"tombstone"_s;
    }

    void usedBy()
    {
        QFETCH(QString, expression);
        QFETCH(QString, fields);
        const JsEventFields f = JsEventFields::usedBy(expression);
        QStringList on;
        // "all": every field but json and keyJson, which only a text that says so gets (as in transforms).
        const std::pair<bool, const char *> all[] = {
            {f.topic, "topic"}, {f.partition, "partition"}, {f.position, "position"}, {f.timestamp, "timestamp"},
            {f.timestampUs, "timestampUs"}, {f.key, "key"}, {f.value, "value"}, {f.headers, "headers"}, {f.size, "size"},
            {f.tombstone, "tombstone"}, {f.op, "op"}, {f.kind, "kind"}, {f.change, "change"}};
        for (const auto &[enabled, name] : all) {
            if (enabled)
                on << QString::fromLatin1(name);
        }
        if (on.size() == int(std::size(all)))
            on = QStringList{u"all"_s};
        if (f.json)
            on << u"json"_s;
        if (f.keyJson)
            on << u"keyJson"_s;
        QCOMPARE(on.join(u' '), fields);
    }
};

QTEST_GUILESS_MAIN(TestEventFilter)
#include "tst_eventfilter.moc"
