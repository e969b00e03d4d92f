// The transform contract (README "Transforms"): what a script sees, what it
// may return, and the exact messages for errors, timeouts and runaway loops.
#include "core/tape/chunkencoder.h"
#include "core/transform/transform.h"
#include "core/transform/transformpreview.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

Event changeEvent()
{
    Event e;
    e.kind = SourceKind::Postgres;
    e.cluster = QStringLiteral("shop");
    e.topic = QStringLiteral("public.orders");
    e.partition = 0;
    e.position = Q_INT64_C(0x7fffffff00000001); // beyond 2^53
    e.timestampUs = 1709290000123456;
    e.operation = Operation::Update;
    e.transactionId = 4242;
    e.primaryKey = {QStringLiteral("id")};
    e.newRow = {Column{QStringLiteral("id"), QStringLiteral("bigint"), QByteArray("9223372036854775807"), false},
                Column{QStringLiteral("total"), QStringLiteral("numeric"), QByteArray("12345678901234567890.12"), false},
                Column{QStringLiteral("note"), QStringLiteral("text"), std::nullopt, false},
                Column{QStringLiteral("blob"), QStringLiteral("text"), std::nullopt, true}};
    e.key = QByteArray(R"({"id":9223372036854775807})");
    e.value = QByteArray(R"({"id":9223372036854775807,"total":12345678901234567890.12,"note":null})");
    return e;
}

Event kafkaEvent()
{
    Event e;
    e.kind = SourceKind::Kafka;
    e.topic = QStringLiteral("orders");
    e.partition = 3;
    e.position = 17;
    e.timestampUs = 1709290000123000;
    e.key = QByteArray("o-1");
    e.value = QByteArray(R"({"id":"o-1","status":"PAID","amount":12.5})");
    e.headers = {Header{QByteArray("trace"), QByteArray("abc")}};
    return e;
}

Transform::Result runScript(const QString &source, const Event &e, QList<SinkOutput> *out, QString *error, int timeoutMs = 1000)
{
    Transform t;
    t.setTimeoutMs(timeoutMs);
    if (!t.compile(source, QStringLiteral("t.js"), Transform::Context{QStringLiteral("r1"), QStringLiteral("sqlite"), false}, error))
        return Transform::Result::Error;
    return t.run(e, 12, out, error);
}

// The outputs whose JSON the preview and `tape replay --dry-run` show.
SinkOutput sampleOutput(const QString &name)
{
    SinkOutput o;
    if (name == u"sql upsert with null") {
        o.seq = 3;
        o.table = QStringLiteral("public.orders");
        o.op = SqlOp::Upsert;
        o.key = {SinkField{QStringLiteral("id"), SinkValue{QByteArray("7"), QStringLiteral("int8")}}};
        o.row = {SinkField{QStringLiteral("id"), SinkValue{QByteArray("7"), QStringLiteral("int8")}},
                 SinkField{QStringLiteral("note"), SinkValue{std::nullopt, QStringLiteral("text")}},
                 SinkField{QStringLiteral("total"), SinkValue{QByteArray("12.50"), QStringLiteral("numeric")}}};
    } else if (name == u"sql delete") {
        o.seq = 4;
        o.table = QStringLiteral("orders");
        o.op = SqlOp::Delete;
        o.key = {SinkField{QStringLiteral("id"), SinkValue{QByteArray("8"), QString()}}};
    } else if (name == u"kafka with headers") {
        o.kind = SinkOutput::Kind::Kafka;
        o.seq = 5;
        o.topic = QStringLiteral("orders-out");
        o.partition = 2;
        o.kafkaKey = QByteArray("o-1");
        o.kafkaValue = std::nullopt;
        o.headers = {Header{QByteArray("trace"), QByteArray("abc")}, Header{QByteArray("empty"), std::nullopt}};
    } else if (name == u"kafka, any partition") {
        o.kind = SinkOutput::Kind::Kafka;
        o.seq = 6;
        o.topic = QStringLiteral("t");
        o.kafkaValue = QByteArray("v");
    }
    return o;
}

} // namespace

// Events with their numbers and outcomes, as Transform::runMany() takes them.
struct Batch
{
    std::vector<Event> events;
    std::vector<qint64> seqs;
    std::vector<Transform::Outcome> outcomes;

    void add(const Event &e, qint64 seq)
    {
        events.push_back(e);
        seqs.push_back(seq);
    }
    void run(Transform &t, Transform::Rows *rows = nullptr)
    {
        outcomes.assign(events.size(), {});
        std::vector<const Event *> ep;
        std::vector<Transform::Outcome *> op;
        for (size_t i = 0; i < events.size(); ++i) {
            ep.push_back(&events[i]);
            op.push_back(&outcomes[i]);
        }
        t.runMany(ep, seqs, op, rows);
    }
};

class TestTransform : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void outputJson_data()
    {
        QTest::addColumn<QString>("output");
        QTest::addColumn<QByteArray>("line");
        QTest::newRow("sql upsert with null")
            << "sql upsert with null"
            << QByteArray(R"({"key":{"id":"7"},"op":"upsert","row":{"id":"7","note":null,"total":"12.50"},"seq":3,"table":"public.orders"})");
        QTest::newRow("sql delete") << "sql delete" << QByteArray(R"({"key":{"id":"8"},"op":"delete","seq":4,"table":"orders"})");
        QTest::newRow("kafka with headers")
            << "kafka with headers"
            << QByteArray(R"({"headers":{"empty":null,"trace":"abc"},"key":"o-1","partition":2,"seq":5,"topic":"orders-out","value":null})");
        QTest::newRow("kafka, any partition") << "kafka, any partition" << QByteArray(R"({"key":null,"seq":6,"topic":"t","value":"v"})");
    }

    // The JSON line `tape replay --dry-run` prints, and the same object without
    // "seq" in the transform editor's preview.
    void outputJson()
    {
        QFETCH(QString, output);
        QFETCH(QByteArray, line);
        const SinkOutput o = sampleOutput(output);
        QCOMPARE(outputJsonLine(o), line + '\n');
        const QByteArray seq = ",\"seq\":" + QByteArray::number(o.seq);
        QCOMPARE(QJsonDocument(outputToJson(o)).toJson(QJsonDocument::Compact), QByteArray(line).replace(seq, QByteArray()));
    }

    void eventView_data()
    {
        QTest::addColumn<QString>("expression");
        QTest::addColumn<QString>("expected");
        QTest::newRow("position as string") << "event.position" << "9223372032559808513";
        QTest::newRow("bigint exact") << "event.new.id" << "9223372036854775807";
        QTest::newRow("numeric exact") << "event.new.total" << "12345678901234567890.12";
        QTest::newRow("null column") << "String(event.new.note)" << "null";
        QTest::newRow("toast left out") << "String('blob' in event.new)" << "false";
        QTest::newRow("op") << "event.op" << "update";
        QTest::newRow("table") << "event.table" << "public.orders";
        QTest::newRow("types") << "event.types.total" << "numeric";
        QTest::newRow("primaryKey") << "event.primaryKey.join()" << "id";
        QTest::newRow("txid") << "event.txid" << "4242";
        QTest::newRow("timestamp ms") << "String(event.timestamp)" << "1709290000123";
        QTest::newRow("timestampUs") << "event.timestampUs" << "1709290000123456";
        QTest::newRow("old is null") << "String(event.old)" << "null";
        QTest::newRow("json parsed") << "typeof event.json" << "object";
        QTest::newRow("ctx") << "ctx.replayId + '/' + ctx.target + '/' + ctx.dryRun" << "r1/sqlite/false";
        QTest::newRow("properties in order") << "Object.keys(event).join()"
                                             << "kind,topic,partition,position,offset,timestamp,timestampUs,key,value,headers,op,size,tombstone,"
                                                "table,txid,commitLsn,primaryKey,old,new,types";
        QTest::newRow("new row") << "JSON.stringify(event.new)"
                                 << "{\"id\":\"9223372036854775807\",\"total\":\"12345678901234567890.12\",\"note\":null}";
        QTest::newRow("all types") << "JSON.stringify(event.types)"
                                   << "{\"id\":\"bigint\",\"total\":\"numeric\",\"note\":\"text\",\"blob\":\"text\"}";
        QTest::newRow("no host access") << "typeof require + typeof XMLHttpRequest + typeof Qt + typeof console.host" << "undefinedundefinedundefinedundefined";
    }
    void eventView()
    {
        QFETCH(QString, expression);
        QFETCH(QString, expected);
        QList<SinkOutput> out;
        QString error;
        const auto r = runScript(QStringLiteral("function transform(event, ctx) { return {table: 't', op: 'insert', row: {v: %1}}; }").arg(expression),
                                 changeEvent(), &out, &error);
        QCOMPARE(r, Transform::Result::Ok);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(out.size(), 1);
        QCOMPARE(QString::fromUtf8(out[0].row[0].value.text.value_or("<NULL>")), expected);
    }

    // Every event gets its own objects, even where the engine shares what it builds them from.
    void eventsDoNotShareObjects()
    {
        Transform t;
        QString error;
        QVERIFY2(t.compile(QStringLiteral("function transform(e) { e.primaryKey.push('x'); e.types.id = 'changed'; e.new.id = 'changed';\n"
                                          "  return {table: 't', op: 'insert', row: {n: e.primaryKey.length, t: e.types.id, id: e.new.id}}; }"),
                           QStringLiteral("t.js"), Transform::Context{}, &error),
                 qPrintable(error));
        QList<SinkOutput> out;
        QCOMPARE(t.run(changeEvent(), 1, &out, &error), Transform::Result::Ok);
        QCOMPARE(t.run(changeEvent(), 2, &out, &error), Transform::Result::Ok);
        QCOMPARE(out.size(), 2);
        QCOMPARE(out[1].row[0].value.text, QByteArray("2"));
        QCOMPARE(out[1].row[1].value.text, QByteArray("changed"));
    }

    void kafkaView()
    {
        QList<SinkOutput> out;
        QString error;
        const auto r = runScript(QStringLiteral("function transform(e) { return {topic: 'out', partition: e.partition, key: e.key, "
                                                "value: {s: e.json.status, h: e.headers.trace}, headers: {from: e.topic + ':' + e.offset}}; }"),
                                 kafkaEvent(), &out, &error);
        QCOMPARE(r, Transform::Result::Ok);
        QCOMPARE(out.size(), 1);
        QCOMPARE(out[0].kind, SinkOutput::Kind::Kafka);
        QCOMPARE(out[0].topic, QStringLiteral("out"));
        QCOMPARE(out[0].partition, 3);
        QCOMPARE(*out[0].kafkaKey, QByteArray("o-1"));
        QCOMPARE(*out[0].kafkaValue, QByteArray(R"({"s":"PAID","h":"abc"})"));
        QCOMPARE(out[0].headers.size(), 1);
        QCOMPARE(out[0].headers.constFirst().name, QByteArray("from"));
        QCOMPARE(out[0].headers.constFirst().value, std::optional<QByteArray>("orders:17"));
    }

    void outputs_data()
    {
        QTest::addColumn<QString>("body");
        QTest::addColumn<int>("count");
        QTest::addColumn<QString>("error");
        QTest::newRow("null drops") << "return null;" << 0 << "";
        QTest::newRow("undefined drops") << "return;" << 0 << "";
        QTest::newRow("array") << "return [{table:'a', key:{id:1}, row:{x:1}}, null, {table:'b', op:'delete', key:{id:2}}];" << 2 << "";
        QTest::newRow("bad op") << "return {table:'a', op:'merge', key:{id:1}};" << 0
                                << "event #12: transform returned an invalid output: \"op\" must be \"upsert\", \"insert\" or \"delete\", not \"merge\"";
        QTest::newRow("upsert without key") << "return {table:'a', row:{x:1}};" << 0
                                            << "event #12: transform returned an invalid output: \"upsert\" needs a non-empty \"key\"";
        QTest::newRow("neither") << "return {foo: 1};" << 0
                                 << "event #12: transform returned an invalid output: expected an object with \"table\" (SQL) or \"topic\" (Kafka)";
        QTest::newRow("not an object") << "return 42;" << 0
                                       << "event #12: transform returned an invalid output: expected an object with \"table\" (SQL) or \"topic\" (Kafka), got 42";
        QTest::newRow("NaN") << "return {table:'a', op:'insert', row:{x: 0/0}};" << 0
                             << "event #12: transform returned an invalid output: \"row.x\" is a number that is not finite";
        QTest::newRow("throw") << "\nthrow new Error('no total');" << 0 << "event #12: transform threw Error: no total (t.js:2)";
        QTest::newRow("type error") << "return event.nothing.deeper;" << 0
                                    << "event #12: transform threw TypeError: Cannot read property 'deeper' of undefined (t.js:1)";
    }
    void outputs()
    {
        QFETCH(QString, body);
        QFETCH(int, count);
        QFETCH(QString, error);
        QList<SinkOutput> out;
        QString message;
        const auto r = runScript(QStringLiteral("function transform(event, ctx) { %1 }").arg(body), changeEvent(), &out, &message);
        QCOMPARE(message, error);
        QCOMPARE(r, error.isEmpty() ? Transform::Result::Ok : Transform::Result::Error);
        QCOMPARE(out.size(), count);
    }

    void valueTypes()
    {
        QList<SinkOutput> out;
        QString error;
        QCOMPARE(runScript(QStringLiteral("function transform(e) { return {table:'t', key:{id:'9223372036854775807'}, "
                                          "row:{i: 42, d: 1.5, b: true, s: 'x', n: null, o: {a:[1]}}}; }"),
                           changeEvent(), &out, &error),
                 Transform::Result::Ok);
        const QList<SinkField> &row = out.value(0).row;
        QCOMPARE(row.size(), 7); // the key column comes first
        QCOMPARE(row[0], (SinkField{QStringLiteral("id"), {QByteArray("9223372036854775807"), QStringLiteral("text")}}));
        QCOMPARE(row[1], (SinkField{QStringLiteral("i"), {QByteArray("42"), QStringLiteral("bigint")}}));
        QCOMPARE(row[2], (SinkField{QStringLiteral("d"), {QByteArray("1.5"), QStringLiteral("double precision")}}));
        QCOMPARE(row[3], (SinkField{QStringLiteral("b"), {QByteArray("true"), QStringLiteral("boolean")}}));
        QCOMPARE(row[5].value.text, std::nullopt);
        QCOMPARE(row[6], (SinkField{QStringLiteral("o"), {QByteArray(R"({"a":[1]})"), QStringLiteral("jsonb")}}));
    }

    void timeoutAndInfiniteLoop_data()
    {
        QTest::addColumn<QString>("body");
        QTest::newRow("infinite loop") << "while (true) {}";
        QTest::newRow("slow") << "const end = Date.now() + 5000; while (Date.now() < end) {} return null;";
    }
    void timeoutAndInfiniteLoop()
    {
        QFETCH(QString, body);
        Transform t;
        t.setTimeoutMs(100);
        QString error;
        QVERIFY(t.compile(QStringLiteral("function transform(e) { if (e.op === 'update') { %1 } return {table:'t', op:'insert', row:{x:1}}; }").arg(body),
                          QStringLiteral("t.js"), {}, &error));
        QList<SinkOutput> out;
        QElapsedTimer timer;
        timer.start();
        QCOMPARE(t.run(changeEvent(), 7, &out, &error), Transform::Result::Timeout);
        QVERIFY(timer.elapsed() < 2000);
        QCOMPARE(error, QStringLiteral("event #7: transform took longer than 100 ms and was interrupted"));
        // The engine stays usable for the next event.
        error.clear();
        QCOMPARE(t.run(kafkaEvent(), 8, &out, &error), Transform::Result::Ok);
        QCOMPARE(out.size(), 1);
    }

    // The top-level code is limited like a call (it used to run unguarded:
    // `tape replay` then ignored SIGINT and SIGTERM, the preview hung the GUI).
    void topLevelLoop()
    {
        Transform t;
        t.setTimeoutMs(100);
        QString error;
        QElapsedTimer timer;
        timer.start();
        QVERIFY(!t.compile(QStringLiteral("for (;;) {}\nfunction transform(e) { return e; }"), QStringLiteral("t.js"), {}, &error));
        QVERIFY(timer.elapsed() < 2000);
        QCOMPARE(error, QStringLiteral("t.js: its top-level code (outside transform()) took longer than 100 ms and was interrupted"));
        // The same engine compiles the next script.
        QVERIFY2(t.compile(QStringLiteral("var n = 0; for (var i = 0; i < 1000; ++i) n += i;\nfunction transform(e) { return {topic: 'o', value: String(n)}; }"),
                           QStringLiteral("t.js"), {}, &error),
                 qPrintable(error));
        QList<SinkOutput> out;
        QCOMPARE(t.run(kafkaEvent(), 1, &out, &error), Transform::Result::Ok);
        QCOMPARE(out.value(0).kafkaValue, std::optional<QByteArray>("499500"));
    }

    // Getters, toString and toJSON of an output that is not plain are read
    // after the runner, with the event's time limit too.
    void outputReadLoop_data()
    {
        QTest::addColumn<QString>("output");
        QTest::addColumn<QString>("error");
        const QString reading = QStringLiteral("event #2: reading the transform's output took longer than 100 ms and was "
                                               "interrupted (a getter, toString or toJSON in it)");
        const QString running = QStringLiteral("event #2: transform took longer than 100 ms and was interrupted");
        QTest::newRow("toJSON") << "{topic: 'o', key: 'k', value: {toJSON() { for (;;) {} }}}" << reading;
        QTest::newRow("getter of a Kafka output") << "{topic: 'o', get value() { for (;;) {} }}" << reading;
        QTest::newRow("getter of a header") << "{topic: 'o', value: 'v', headers: {get h() { for (;;) {} }}}" << reading;
        QTest::newRow("getter of a table") << "{get table() { for (;;) {} }, row: {x: 1}}" << running; // the runner reads it
        QTest::newRow("getter in a key") << "{table: 't', key: {get id() { for (;;) {} }}, row: {x: {}}}" << running;
    }
    void outputReadLoop()
    {
        QFETCH(QString, output);
        QFETCH(QString, error);
        Transform t;
        t.setTimeoutMs(100);
        QString why;
        QVERIFY2(t.compile(QStringLiteral("function transform(e) { if (e.position == 2) return %1; return {topic: 'o', value: 'v' + e.position}; }").arg(output),
                           QStringLiteral("t.js"), {}, &why),
                 qPrintable(why));
        Batch batch;
        for (qint64 p = 1; p <= 3; ++p) {
            Event e = kafkaEvent();
            e.position = p;
            batch.add(e, p);
        }
        QElapsedTimer timer;
        timer.start();
        batch.run(t);
        QVERIFY(timer.elapsed() < 2000);
        QCOMPARE(batch.outcomes[0].result, Transform::Result::Ok);
        QCOMPARE(batch.outcomes[1].result, Transform::Result::Timeout);
        QCOMPARE(batch.outcomes[1].error, error);
        QCOMPARE(batch.outcomes[1].outputs.size(), 0);
        QCOMPARE(batch.outcomes[2].result, Transform::Result::Ok);
        QCOMPARE(batch.outcomes[2].outputs.value(0).kafkaValue, std::optional<QByteArray>("v3"));
    }

    // A transform that allocates without bound is stopped at the heap limit
    // with a per-event error; what it held is collected, the next event runs.
    void heapLimit_data()
    {
        QTest::addColumn<QString>("body");
        QTest::newRow("strings") << "var a = []; for (;;) a.push('x'.repeat(1e5) + a.length);";
        QTest::newRow("objects") << "var a = []; for (;;) a.push({n: a.length, s: 'y'});";
        QTest::newRow("numbers") << "var a = []; for (;;) a.push(a.length * 1.5);";
        QTest::newRow("doubling string") << "var s = 'x'; for (;;) s += s;";
        QTest::newRow("top level") << "";
    }
    void heapLimit()
    {
        QFETCH(QString, body);
        Transform t;
        t.setTimeoutMs(20000); // the heap limit stops it, not the time
        t.setHeapLimit(qint64(32) << 20);
        QString error;
        if (body.isEmpty()) {
            QVERIFY(!t.compile(QStringLiteral("var g = []; for (;;) g.push('x'.repeat(1e5) + g.length);\nfunction transform(e) { return e; }"),
                               QStringLiteral("t.js"), {}, &error));
            QCOMPARE(error, QStringLiteral("t.js: its top-level code (outside transform()) grew the JavaScript heap past 32 MB and was stopped"));
            return;
        }
        QVERIFY2(t.compile(QStringLiteral("function transform(e) { if (e.position == 2) { %1 } return {topic: 'o', value: 'v' + e.position}; }").arg(body),
                           QStringLiteral("t.js"), {}, &error),
                 qPrintable(error));
        Batch batch;
        for (qint64 p = 1; p <= 3; ++p) {
            Event e = kafkaEvent();
            e.position = p;
            batch.add(e, p);
        }
        batch.run(t);
        QCOMPARE(batch.outcomes[0].result, Transform::Result::Ok);
        QCOMPARE(batch.outcomes[1].result, Transform::Result::Error);
        QCOMPARE(batch.outcomes[1].error, QStringLiteral("event #2: transform's JavaScript heap grew past 32 MB and it was stopped"));
        QCOMPARE(batch.outcomes[2].result, Transform::Result::Ok);
        QCOMPARE(batch.outcomes[2].outputs.value(0).kafkaValue, std::optional<QByteArray>("v3"));
        // Runs again: the heap was given back.
        batch.run(t);
        QCOMPARE(batch.outcomes[1].error, QStringLiteral("event #2: transform's JavaScript heap grew past 32 MB and it was stopped"));
        QCOMPARE(batch.outcomes[2].result, Transform::Result::Ok);
    }

    // With setStopAtFailure() a batch of looping events costs one time
    // limit: the first failure ends the batch, the later events are NotRun.
    void stopAtFailure_data()
    {
        QTest::addColumn<QString>("failure");
        QTest::addColumn<int>("result");
        QTest::newRow("loop") << "for (;;) {}" << int(Transform::Result::Timeout);
        QTest::newRow("throw") << "throw new Error('no total')" << int(Transform::Result::Error);
        QTest::newRow("toJSON") << "return {topic: 'o', value: {toJSON() { for (;;) {} }}}" << int(Transform::Result::Timeout);
    }
    void stopAtFailure()
    {
        QFETCH(QString, failure);
        QFETCH(int, result);
        for (const bool stop : {false, true}) {
            Transform t;
            t.setTimeoutMs(100);
            t.setStopAtFailure(stop);
            QString error;
            // Events 1 and 2 pass, 3 fails, 4..40 loop.
            QVERIFY2(t.compile(QStringLiteral("function transform(e) { if (e.position < 3) return {topic: 'o', value: 'v'};"
                                              " if (e.position == 3) { %1 } for (;;) {} }").arg(failure),
                               QStringLiteral("t.js"), {}, &error),
                     qPrintable(error));
            Batch batch;
            const int n = stop ? 40 : 6;
            for (qint64 p = 1; p <= n; ++p) {
                Event e = kafkaEvent();
                e.position = p;
                batch.add(e, p);
            }
            QElapsedTimer timer;
            timer.start();
            batch.run(t);
            QCOMPARE(batch.outcomes[0].result, Transform::Result::Ok);
            QCOMPARE(batch.outcomes[1].result, Transform::Result::Ok);
            QCOMPARE(int(batch.outcomes[2].result), result);
            for (int i = 3; i < n; ++i) {
                QCOMPARE(batch.outcomes[size_t(i)].result, stop ? Transform::Result::NotRun : Transform::Result::Timeout);
                if (stop)
                    QCOMPARE(batch.outcomes[size_t(i)].error, QStringLiteral("not run: an earlier event failed"));
            }
            if (stop)
                QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed()))); // 37 limits would be 4.6 s at least
        }
    }

    void compileErrors()
    {
        Transform t;
        QString error;
        QVERIFY(!t.compile(QStringLiteral("function transform(e) {\n  return (;\n}"), QStringLiteral("bad.js"), {}, &error));
        QVERIFY2(error.startsWith(QStringLiteral("bad.js:2: SyntaxError")), qPrintable(error));
        Transform u;
        QVERIFY(!u.compile(QStringLiteral("var x = 1;"), QStringLiteral("none.js"), {}, &error));
        QCOMPARE(error, QStringLiteral("none.js: defines no function transform(event, ctx)"));
    }

    // console.log/info/warn/error reach the opt-in callback with the event's
    // sequence number; without a callback they are only counted.
    void console()
    {
        Transform t;
        QList<std::tuple<qint64, Transform::ConsoleLevel, QString>> lines;
        t.setConsoleCallback([&](qint64 seq, Transform::ConsoleLevel level, const QString &text) { lines.append({seq, level, text}); });
        QString error;
        QVERIFY2(t.compile(QStringLiteral("console.info('loaded');\n"
                                          "function transform(e) {\n"
                                          "  console.log('op', e.op, {id: e.new.id}, [1, 'x'], null, undefined, 2.5);\n"
                                          "  console.warn('careful');\n"
                                          "  console.error(new Error('bad'));\n"
                                          "  return null;\n"
                                          "}"),
                           QStringLiteral("c.js"), {}, &error),
                 qPrintable(error));
        QList<SinkOutput> out;
        QCOMPARE(t.run(changeEvent(), 41, &out, &error), Transform::Result::Ok);
        QCOMPARE(lines.size(), 4);
        QCOMPARE(lines[0], std::make_tuple(qint64(-1), Transform::ConsoleLevel::Log, QStringLiteral("loaded")));
        QCOMPARE(lines[1], std::make_tuple(qint64(41), Transform::ConsoleLevel::Log,
                                           QStringLiteral("op update {\"id\":\"9223372036854775807\"} [1,\"x\"] null undefined 2.5")));
        QCOMPARE(lines[2], std::make_tuple(qint64(41), Transform::ConsoleLevel::Warn, QStringLiteral("careful")));
        QCOMPARE(lines[3], std::make_tuple(qint64(41), Transform::ConsoleLevel::Error, QStringLiteral("Error: bad")));
        QCOMPARE(t.consoleLines(), 4);

        Transform quiet; // the replay's case: no callback, the calls still work
        QVERIFY(quiet.compile(QStringLiteral("function transform(e) { console.log(e.op); return null; }"), QStringLiteral("q.js"), {}, &error));
        QCOMPARE(quiet.run(changeEvent(), 1, &out, &error), Transform::Result::Ok);
        QCOMPARE(quiet.consoleLines(), 1);
    }

    void errorLines()
    {
        Transform t;
        QString error;
        QVERIFY(!t.compile(QStringLiteral("// one\nfunction transform(e) {\n  return {;\n}"), QStringLiteral("s.js"), {}, &error));
        QCOMPARE(t.lastErrorLine(), 3);
        Transform r;
        QVERIFY(r.compile(QStringLiteral("function transform(e) {\n\n  throw new Error('no');\n}"), QStringLiteral("r.js"), {}, &error));
        QList<SinkOutput> out;
        QCOMPARE(r.run(changeEvent(), 7, &out, &error), Transform::Result::Error);
        QCOMPARE(error, QStringLiteral("event #7: transform threw Error: no (r.js:3)"));
        QCOMPARE(r.lastErrorLine(), 3);
    }

    // runMany() (the replay's way: many events per call into the engine)
    // gives each event its own outcome: outputs read by the script's fast
    // path and by the C++ checks alike, errors, a timeout in the middle, and
    // console lines with each event's number.
    void runMany()
    {
        Transform t;
        t.setTimeoutMs(100);
        QList<std::pair<qint64, QString>> lines;
        t.setConsoleCallback([&](qint64 seq, Transform::ConsoleLevel, const QString &text) { lines.append({seq, text}); });
        QString error;
        QVERIFY2(t.compile(QStringLiteral(
                               "function transform(e, ctx) {\n"
                               "  const n = Number(e.position) % 9;\n"
                               "  console.log('n', n, e.headers.gone === null, e.headers.trace);\n"
                               "  if (n === 0) return null;\n"
                               "  if (n === 1) return {table: 't', key: {id: e.position}, row: {'2': 'two', b: 1.5, a: true, z: null, u: undefined, '1': 'one'}};\n"
                               "  if (n === 2) throw new Error('two');\n"
                               "  if (n === 3) { const end = Date.now() + 1000; while (Date.now() < end) {} return null; }\n"
                               "  if (n === 4) return [{table: 'a', key: {id: 1}, row: {x: 1}}, null, {topic: 'k', key: 'x', value: {v: 1}}];\n"
                               "  if (n === 5) return [{table: 'a', key: {id: 1}, row: {x: 1}}, {table: 'a', op: 'merge', key: {id: 1}}];\n"
                               "  if (n === 6) throw 'plain';\n"
                               "  if (n === 7) { const row = {'2': 'two', d: new Date(0), o: {a: [1]}, big: 9007199254740993, f: 0.1, '1': -0};\n"
                               "    Object.defineProperty(row, 'hidden', {value: 1, enumerable: false});\n"
                               "    return {table: 'a', op: 'insert', row: row}; }\n"
                               "  return {table: 'p', op: 'delete', key: {id: e.position, n: 2 ** 60}};\n"
                               "}\n"),
                           QStringLiteral("m.js"), {}, &error),
                 qPrintable(error));
        Batch batch;
        for (int i = 0; i < 9; ++i) {
            Event e = kafkaEvent();
            e.position = 900 + i; // 900 % 9 == 0
            e.headers.append(Header{QByteArray("gone"), std::nullopt});
            batch.add(e, 100 + i);
        }
        const std::vector<Event> &events = batch.events;
        const std::vector<qint64> &seqs = batch.seqs;
        const std::vector<Transform::Outcome> &outcomes = batch.outcomes;
        QElapsedTimer timer;
        timer.start();
        batch.run(t);
        QVERIFY(timer.elapsed() < 900); // the runaway was cut, not waited for
        using R = Transform::Result;
        auto field = [](const char *name, const char *text, const char *type) {
            return SinkField{QString::fromLatin1(name), SinkValue{text ? std::optional<QByteArray>(text) : std::nullopt,
                                                                 QString::fromLatin1(type)}};
        };
        QCOMPARE(outcomes[0].result, R::Ok);
        QCOMPARE(outcomes[0].outputs.size(), 0);
        QCOMPARE(outcomes[1].result, R::Ok);
        QCOMPARE(outcomes[1].outputs.size(), 1);
        const SinkOutput &o1 = outcomes[1].outputs[0];
        QCOMPARE(o1.seq, 101);
        QCOMPARE(o1.table, QStringLiteral("t"));
        QCOMPARE(o1.key, QList<SinkField>{field("id", "901", "text")});
        // Integer-like names first (ascending), then the others in the order written; the key first.
        QCOMPARE(o1.row, (QList<SinkField>{field("id", "901", "text"), field("1", "one", "text"), field("2", "two", "text"),
                                           field("b", "1.5", "double precision"), field("a", "true", "boolean"), field("z", nullptr, ""),
                                           field("u", nullptr, "")}));
        QCOMPARE(outcomes[2].result, R::Error);
        QCOMPARE(outcomes[2].error, QStringLiteral("event #102: transform threw Error: two (m.js:6)"));
        QCOMPARE(outcomes[2].errorLine, 6);
        QCOMPARE(outcomes[3].result, R::Timeout);
        QCOMPARE(outcomes[3].error, QStringLiteral("event #103: transform took longer than 100 ms and was interrupted"));
        QCOMPARE(outcomes[4].result, R::Ok);
        QCOMPARE(outcomes[4].outputs.size(), 2);
        QCOMPARE(outcomes[4].outputs[0].row, (QList<SinkField>{field("id", "1", "bigint"), field("x", "1", "bigint")}));
        QCOMPARE(outcomes[4].outputs[1].kind, SinkOutput::Kind::Kafka);
        QCOMPARE(outcomes[4].outputs[1].kafkaValue, std::optional<QByteArray>(R"({"v":1})"));
        QCOMPARE(outcomes[5].result, R::Error);
        QCOMPARE(outcomes[5].outputs.size(), 0);
        QCOMPARE(outcomes[5].error,
                 QStringLiteral("event #105: transform returned an invalid output: \"op\" must be \"upsert\", \"insert\" or \"delete\", not \"merge\""));
        QCOMPARE(outcomes[6].result, R::Error);
        QCOMPARE(outcomes[6].error, QStringLiteral("event #106: transform threw plain"));
        QCOMPARE(outcomes[7].result, R::Ok);
        QCOMPARE(outcomes[7].outputs.value(0).row,
                 (QList<SinkField>{field("1", "0", "bigint"), field("2", "two", "text"),
                                   field("d", "1970-01-01T00:00:00.000Z", "timestamptz"), field("o", R"({"a":[1]})", "jsonb"),
                                   field("big", "9007199254740992", "double precision"), field("f", "0.10000000000000001", "double precision")}));
        QCOMPARE(outcomes[8].result, R::Ok);
        QCOMPARE(outcomes[8].outputs.value(0).op, SqlOp::Delete);
        QCOMPARE(outcomes[8].outputs.value(0).key,
                 (QList<SinkField>{field("id", "908", "text"), field("n", "1.152921504606847e+18", "double precision")}));
        // One console line per event, with its number; the timed-out one's too.
        QCOMPARE(lines.size(), 9);
        for (int i = 0; i < 9; ++i) {
            QCOMPARE(lines[i].first, 100 + i);
            QCOMPARE(lines[i].second, QStringLiteral("n %1 true abc").arg(i));
        }
        // The same events one at a time give the same outcomes.
        for (size_t i = 0; i < events.size(); ++i) {
            if (i == 3)
                continue;
            QList<SinkOutput> out;
            QString message;
            const R r = t.run(events[i], seqs[i], &out, &message);
            QCOMPARE(r, outcomes[i].result);
            QCOMPARE(message, outcomes[i].error);
            QCOMPARE(out, r == R::Ok ? outcomes[i].outputs : QList<SinkOutput>());
        }
        // After cancel(), nothing more runs.
        t.cancel();
        batch.run(t);
        for (const Transform::Outcome &o : outcomes)
            QCOMPARE(o.result, R::Cancelled);
    }

    // Time, txid and LSN reach the script as text only when they change
    // from one event to the next: the texts stay right across a
    // transaction, numbers beyond 2^53, records between change events, and
    // a call resumed after an event that timed out.
    void runManyRepeatedTexts()
    {
        Transform t;
        t.setTimeoutMs(100);
        QString error;
        QVERIFY2(t.compile(QStringLiteral("function transform(e) {\n"
                                          "  if (e.position === '3') { while (true) {} }\n"
                                          "  return {table: 't', op: 'insert', row: {pos: e.position, ts: e.timestampUs, tx: e.txid === undefined ? null : e.txid,\n"
                                          "          lsn: e.commitLsn === undefined ? null : e.commitLsn}};\n"
                                          "}\n"),
                           QStringLiteral("r.js"), {}, &error),
                 qPrintable(error));
        const qint64 big = Q_INT64_C(9007199254740993); // 2^53 + 1
        // (position, kind: c change / k record, timestampUs, txid, lsn)
        const struct
        {
            qint64 position;
            char kind;
            qint64 ts, tx, lsn;
        } spec[] = {{1, 'c', 10, 7, 100}, {2, 'c', 10, 7, 100}, {3, 'c', 10, 7, 100}, {4, 'c', 10, 7, 100}, {5, 'k', 10, 0, 0},
                    {6, 'c', 10, 7, 100},  {7, 'c', big, big, big}, {8, 'c', big, big, big}, {9, 'c', 11, 8, 200}, {10, 'k', 11, 0, 0},
                    {11, 'c', 11, 8, 200}, {12, 'c', 12, 8, 300}};
        Batch batch;
        for (const auto &x : spec) {
            Event e = x.kind == 'c' ? changeEvent() : kafkaEvent();
            e.position = x.position;
            e.timestampUs = x.ts;
            if (x.kind == 'c') {
                e.transactionId = x.tx;
                e.commitLsn = x.lsn;
            }
            batch.add(e, x.position);
        }
        const std::vector<Event> &events = batch.events;
        const std::vector<qint64> &seqs = batch.seqs;
        const std::vector<Transform::Outcome> &outcomes = batch.outcomes;
        for (const bool asRows : {false, true}) {
            Transform::Rows rows;
            batch.run(t, asRows ? &rows : nullptr);
            for (size_t i = 0; i < events.size(); ++i) {
                const auto &x = spec[i];
                if (x.position == 3) {
                    QCOMPARE(outcomes[i].result, Transform::Result::Timeout);
                    continue;
                }
                QCOMPARE(outcomes[i].result, Transform::Result::Ok);
                QCOMPARE(outcomes[i].outputs.size() + outcomes[i].rowCount, 1);
                const SinkOutput out = asRows ? rows.output(size_t(outcomes[i].firstRow), seqs[i]) : outcomes[i].outputs[0];
                QCOMPARE(out.seq, seqs[i]);
                const QByteArray text = QByteArray::number(x.position) + ' ' + QByteArray::number(x.ts) + ' '
                                        + (x.kind == 'c' ? QByteArray::number(x.tx) + ' ' + QByteArray::number(x.lsn) : QByteArray("- -"));
                QByteArray got;
                for (const SinkField &f : out.row)
                    got += (got.isEmpty() ? "" : " ") + f.value.text.value_or("-");
                QCOMPARE(got, text);
            }
        }
    }

    // The rows of runMany(..., rows) are the SinkOutputs it gives without
    // them; an event with an output that is not plain keeps SinkOutputs.
    void runManyRows()
    {
        Transform t;
        QString error;
        QVERIFY2(t.compile(QStringLiteral("function transform(e) {\n"
                                          "  const n = Number(e.position);\n"
                                          "  if (n % 4 === 0) return null;\n"
                                          "  if (n % 4 === 1) return [{table: 'a', key: {id: e.position, k2: 'x'}, row: {v: 'é' + n, id: e.position}},\n"
                                          "                           {table: 'b', op: 'delete', key: {id: n}}];\n"
                                          "  if (n % 4 === 2) return [{table: 'a', op: 'insert', row: {v: n / 3, f: false, t: true, z: null}},\n"
                                          "                           {table: 'c', row: {d: new Date(0)}, key: {id: 1}}];\n"
                                          "  return {table: 'b', key: {id: n}, row: {w: 'w' + n}};\n"
                                          "}\n"),
                           QStringLiteral("r.js"), {}, &error),
                 qPrintable(error));
        Batch batch;
        for (int i = 0; i < 1100; ++i) { // past one run of 512
            Event e = kafkaEvent();
            e.position = i;
            batch.add(e, i);
        }
        const std::vector<Event> &events = batch.events;
        const std::vector<qint64> &seqs = batch.seqs;
        batch.run(t);
        const std::vector<Transform::Outcome> plain = batch.outcomes;
        Transform::Rows rows;
        batch.run(t, &rows);
        const std::vector<Transform::Outcome> &asRows = batch.outcomes;
        qint64 rowCount = 0;
        for (size_t i = 0; i < events.size(); ++i) {
            QCOMPARE(asRows[i].result, Transform::Result::Ok);
            QList<SinkOutput> got = asRows[i].outputs;
            for (qint32 k = 0; k < asRows[i].rowCount; ++k)
                got.append(rows.output(size_t(asRows[i].firstRow + k), seqs[i]));
            QCOMPARE(got, plain[i].outputs);
            QCOMPARE(asRows[i].rowCount > 0, i % 4 == 1 || i % 4 == 3);
            QCOMPARE(asRows[i].outputs.isEmpty(), i % 4 != 2);
            rowCount += asRows[i].rowCount;
        }
        QCOMPARE(qint64(rows.outputs.size()), rowCount);
        QCOMPARE(rowCount, 275 * 2 + 275);
        QCOMPARE(rows.tables, (QList<QString>{QStringLiteral("a"), QStringLiteral("b")}));
        // An upsert's key columns the row lacks come first, as keyIntoRow() puts them.
        QCOMPARE(plain[1].outputs[0].row.value(0).name, QStringLiteral("k2"));
    }

    // Change fields read from the stored bytes (the replay's way) give the
    // same event objects as read from the Event: rows with NULLs, unchanged
    // TOAST values and old rows, other key names, numbers beyond 2^53.
    void runManyExtensions()
    {
        Transform t;
        QString error;
        QVERIFY2(t.compile(QStringLiteral("function transform(e) { return {table: 't', op: 'insert', row: {e: JSON.stringify(e)}}; }"),
                           QStringLiteral("x.js"), {}, &error),
                 qPrintable(error));
        Batch full, light;
        std::vector<QByteArray> bytes;
        for (int i = 0; i < 40; ++i) {
            Event e = changeEvent();
            e.position = 1000 + i;
            e.transactionId = i < 20 ? 7 : Q_INT64_C(9007199254740993) + i;
            e.commitLsn = 5000 + i / 3;
            if (i % 3 == 1) {
                e.oldRow = {Column{QStringLiteral("id"), QStringLiteral("bigint"), QByteArray::number(i), false}};
                e.primaryKey = {QStringLiteral("id"), QStringLiteral("total")};
            }
            if (i % 5 == 2)
                e.newRow.append(Column{QStringLiteral("extra"), QStringLiteral("jsonb"), QByteArray("{\"a\":1}"), false});
            if (i % 7 == 3) {
                e.operation = Operation::Delete;
                e.oldRow = e.newRow;
                e.newRow.clear();
            }
            full.add(e, i);
            bytes.push_back(ChunkEncoder::encodeExtension(e));
            Event l = e; // what Chunk::fill(..., change = false) leaves
            l.oldRow.clear();
            l.newRow.clear();
            l.primaryKey.clear();
            l.transactionId = l.commitLsn = l.commitTimeUs = -1;
            light.add(l, i);
        }
        full.events.push_back(kafkaEvent()); // a record in between: no extension
        full.seqs.push_back(40);
        light.events.push_back(kafkaEvent());
        light.seqs.push_back(40);
        bytes.emplace_back();
        std::vector<QByteArrayView> extensions(bytes.begin(), bytes.end());
        full.run(t);
        light.outcomes.assign(light.events.size(), {});
        std::vector<const Event *> ep;
        std::vector<Transform::Outcome *> op;
        for (size_t i = 0; i < light.events.size(); ++i) {
            ep.push_back(&light.events[i]);
            op.push_back(&light.outcomes[i]);
        }
        t.runMany(ep, light.seqs, op, nullptr, extensions);
        for (size_t i = 0; i < full.events.size(); ++i) {
            QCOMPARE(light.outcomes[i].result, Transform::Result::Ok);
            QCOMPARE(light.outcomes[i].outputs, full.outcomes[i].outputs);
        }
        // The text really holds the change fields (not two empty events alike).
        const QByteArray first = full.outcomes[1].outputs.value(0).row.value(0).value.text.value_or(QByteArray());
        QVERIFY2(first.contains("\"old\":{\"id\":\"1\"}") && first.contains("\"txid\":\"7\"") && first.contains("\"primaryKey\":[\"id\",\"total\"]"),
                 first.constData());
    }

    // Names and scripts the generated code must not trip over: U+2028 in a
    // column and in a key, a script that replaces built-ins the runner uses,
    // and per table types on the rows path.
    void runManyOddities()
    {
        Transform t;
        QString error;
        QVERIFY2(t.compile(QStringLiteral("Object.keys = function () { return ['x']; }; Function = null; JSON.stringify = null;\n"
                                          "function transform(e) {\n"
                                          "  const n = Number(e.position);\n"
                                          "  return [{table: 'a', key: {id: n}, row: {'l\\u2028s': e.new['c\\u2028d'], v: n}},\n"
                                          "          {table: 'b', key: {id: 'k' + n}, row: {'l\\u2028s': 's', v: 'v' + n}},\n"
                                          "          {table: 'c', op: 'insert', row: {s: Symbol('x')}}];\n"
                                          "}\n"),
                           QStringLiteral("o.js"), {}, &error),
                 qPrintable(error));
        Batch batch;
        for (int i = 0; i < 3; ++i) {
            Event e = changeEvent();
            e.position = i;
            e.newRow.append(Column{QStringLiteral("c\u2028d"), QStringLiteral("text"), QByteArray("odd"), false});
            batch.add(e, i);
        }
        Transform::Rows rows;
        batch.run(t, &rows);
        for (int i = 0; i < 3; ++i) {
            const Transform::Outcome &o = batch.outcomes[size_t(i)];
            QCOMPARE(o.result, Transform::Result::Error);
            QCOMPARE(o.error, QStringLiteral("event #%1: transform returned an invalid output: \"row.s\" is a value of an unsupported type").arg(i));
        }
        // Without the Symbol, the same outputs go as rows, each table with its own types.
        QVERIFY2(t.compile(QStringLiteral("function transform(e) {\n"
                                          "  const n = Number(e.position);\n"
                                          "  return [{table: 'a', key: {id: n}, row: {'l\\u2028s': e.new['c\\u2028d'], v: n}},\n"
                                          "          {table: 'b', key: {id: 'k' + n}, row: {'l\\u2028s': 's', v: 'v' + n}}];\n"
                                          "}\n"),
                           QStringLiteral("o.js"), {}, &error),
                 qPrintable(error));
        batch.run(t, &rows);
        QCOMPARE(rows.outputs.size(), size_t(6));
        const SinkOutput a = rows.output(0, 0), b = rows.output(1, 0);
        QCOMPARE(a.row.value(1).name, QStringLiteral("l\u2028s"));
        QCOMPARE(a.row.value(1).value.text, std::optional<QByteArray>("odd"));
        QCOMPARE(a.row.value(2).value.type, QStringLiteral("bigint"));
        QCOMPARE(b.row.value(2).value.type, QStringLiteral("text"));
        QCOMPARE(b.key.value(0).value, (SinkValue{QByteArray("k0"), QStringLiteral("text")}));
        // A lone surrogate becomes U+FFFD, in a row as in a JSON value (the other path).
        QVERIFY2(t.compile(QStringLiteral("function transform(e) { const s = '\\ud83d' + 'x';\n"
                                          "  return [{table: 'a', op: 'insert', row: {s: s}}, {table: 'a', op: 'insert', row: {j: {s: s}}}]; }\n"),
                           QStringLiteral("o.js"), {}, &error),
                 qPrintable(error));
        batch.run(t, &rows);
        QCOMPARE(batch.outcomes[0].outputs.size(), 2); // mixed: both as SinkOutputs
        QCOMPARE(batch.outcomes[0].outputs[0].row.value(0).value.text, std::optional<QByteArray>("\xef\xbf\xbdx"));
        QCOMPARE(batch.outcomes[0].outputs[1].row.value(0).value.text, std::optional<QByteArray>("{\"s\":\"\xef\xbf\xbdx\"}"));
        batch.run(t);
        QCOMPARE(batch.outcomes[0].outputs[0].row.value(0).value.text, std::optional<QByteArray>("\xef\xbf\xbdx"));
        // A script that throws something other than an Error does not compile.
        Transform thrower;
        QVERIFY(!thrower.compile(QStringLiteral("function transform(e) { return null; }\nthrow 'not ready';\n"), QStringLiteral("t.js"), {},
                                 &error));
        QCOMPARE(error, QStringLiteral("t.js:0: not ready"));
    }

    // Thousands of row shapes (column sets) and output shapes: numbered
    // past what one run holds, and the tables start over between runs.
    void runManyShapes()
    {
        Transform t;
        QString error;
        QVERIFY2(t.compile(QStringLiteral("function transform(e) {\n"
                                          "  const c = Object.keys(e.new)[0];\n"
                                          "  return {table: 't' + c, key: {k: e.new[c]}, row: e.new, op: e.primaryKey[0] === c ? 'upsert' : 'x'};\n"
                                          "}\n"),
                           QStringLiteral("s.js"), {}, &error),
                 qPrintable(error));
        const int n = 2500;
        std::vector<Event> events(n);
        std::vector<qint64> seqs(n);
        std::vector<Transform::Outcome> outcomes(n);
        std::vector<const Event *> ep(n);
        std::vector<Transform::Outcome *> op(n);
        for (int i = 0; i < n; ++i) {
            Event &e = events[size_t(i)];
            e = changeEvent();
            const QString c = u"c%1"_s.arg(i);
            e.primaryKey = {c};
            e.newRow = {Column{c, QStringLiteral("bigint"), QByteArray::number(i), false},
                        Column{QStringLiteral("v"), QStringLiteral("text"), "value " + QByteArray::number(i), false}};
            seqs[size_t(i)] = i;
            ep[size_t(i)] = &e;
            op[size_t(i)] = &outcomes[size_t(i)];
        }
        t.runMany(ep, seqs, op);
        for (int i = 0; i < n; ++i) {
            const Transform::Outcome &o = outcomes[size_t(i)];
            QVERIFY2(o.result == Transform::Result::Ok, qPrintable(o.error));
            QCOMPARE(o.outputs.size(), 1);
            const SinkOutput &out = o.outputs[0];
            QCOMPARE(out.table, u"tc%1"_s.arg(i));
            QCOMPARE(out.key, (QList<SinkField>{SinkField{u"k"_s, SinkValue{QByteArray::number(i), u"text"_s}}}));
            QCOMPARE(out.row, (QList<SinkField>{SinkField{u"k"_s, SinkValue{QByteArray::number(i), u"text"_s}},
                                                SinkField{u"c%1"_s.arg(i), SinkValue{QByteArray::number(i), u"text"_s}},
                                                SinkField{u"v"_s, SinkValue{"value " + QByteArray::number(i), u"text"_s}}}));
        }
    }

    void identity()
    {
        QList<SinkOutput> out;
        QString error;
        Event e = changeEvent();
        QVERIFY(identityOutputs(e, 1, {}, &out, &error));
        QCOMPARE(out.size(), 1);
        QCOMPARE(out[0].op, SqlOp::Upsert);
        QCOMPARE(out[0].table, QStringLiteral("public.orders"));
        QCOMPARE(out[0].key.size(), 1);
        QCOMPARE(out[0].row.size(), 3); // the unchanged TOAST column is not written
        e.operation = Operation::Delete;
        e.oldRow = {e.newRow.first()};
        e.newRow.clear();
        QVERIFY(identityOutputs(e, 2, {}, &out, &error));
        QCOMPARE(out[1].op, SqlOp::Delete);
        QCOMPARE(*out[1].key[0].value.text, QByteArray("9223372036854775807"));
        e.operation = Operation::Commit;
        QVERIFY(identityOutputs(e, 3, {}, &out, &error));
        QCOMPARE(out.size(), 2);
        QVERIFY(!identityOutputs(kafkaEvent(), 4, {}, &out, &error));
        QCOMPARE(error, QStringLiteral("event #4 is a Kafka record: replaying records into SQL needs --transform"));
        QVERIFY(identityOutputs(kafkaEvent(), 5, QStringLiteral("copy"), &out, &error));
        QCOMPARE(out.last().topic, QStringLiteral("copy"));

        // Into Kafka, an update that changed the key: a tombstone for the old
        // key (as the tape writes keys: JSON numbers stay numbers), then the record.
        Event moved = changeEvent();
        moved.oldRow = {Column{QStringLiteral("id"), QStringLiteral("bigint"), QByteArray("41"), false}};
        out.clear();
        QVERIFY(identityOutputs(moved, 6, QStringLiteral("k"), &out, &error));
        QCOMPARE(out.size(), 2);
        QCOMPARE(out[0].kind, SinkOutput::Kind::Kafka);
        QCOMPARE(out[0].seq, 6);
        QCOMPARE(out[0].topic, QStringLiteral("k"));
        QCOMPARE(out[0].kafkaKey, std::optional<QByteArray>(R"({"id":41})"));
        QCOMPARE(out[0].kafkaValue, std::nullopt);
        QCOMPARE(out[1].kafkaKey, moved.key);
        QCOMPARE(out[1].kafkaValue, moved.value);
        // The same key in the old row (REPLICA IDENTITY FULL): no tombstone.
        moved.oldRow = {Column{QStringLiteral("id"), QStringLiteral("bigint"), QByteArray("9223372036854775807"), false}};
        out.clear();
        QVERIFY(identityOutputs(moved, 7, QStringLiteral("k"), &out, &error));
        QCOMPARE(out.size(), 1);
    }

    void templates_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<bool>("change");
        QTest::addColumn<int>("count");
        QTest::newRow("identity") << "identity.js" << true << 1;
        QTest::newRow("kafka-json-upsert") << "kafka-json-upsert.js" << false << 1;
        QTest::newRow("filter") << "filter.js" << false << 1;
        QTest::newRow("rename-fields") << "rename-fields.js" << false << 1;
    }
    void templates()
    {
        QFETCH(QString, file);
        QFETCH(bool, change);
        QFETCH(int, count);
        QFile f(QStringLiteral(TAPEDECK_SOURCE_DIR "/resources/transforms/") + file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        Transform t;
        QString error;
        QVERIFY2(t.compile(QString::fromUtf8(f.readAll()), file, {}, &error), qPrintable(error));
        QList<SinkOutput> out;
        QCOMPARE(t.run(change ? changeEvent() : kafkaEvent(), 1, &out, &error), Transform::Result::Ok);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(out.size(), count);
        if (change) {
            QList<SinkOutput> native;
            QVERIFY(identityOutputs(changeEvent(), 1, {}, &native, &error));
            QCOMPARE(out[0].table, native[0].table);
            QCOMPARE(out[0].op, native[0].op);
            QCOMPARE(out[0].key.size(), native[0].key.size());
            for (qsizetype i = 0; i < native[0].row.size(); ++i) {
                QCOMPARE(out[0].row[i].name, native[0].row[i].name);
                QCOMPARE(out[0].row[i].value.text, native[0].row[i].value.text);
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestTransform)
#include "tst_transform.moc"
