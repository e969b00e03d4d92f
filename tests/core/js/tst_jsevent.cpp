// core/js/event.md: a filter's `e` and a transform's `event` are one model.
// For every documented field and every kind of event (a Kafka record with
// JSON key and value and headers, a tombstone, an offset beyond 2^53, a time
// before 1970, change events with old and new rows, NULLs, an unchanged
// TOASTed column, begin/commit), the transform's value of the field, as
// JSON, is what the filter sees: `JSON.stringify(e.F) === <that text>`.
#include "core/filter/eventfilter.h"
#include "core/tape/tape.h"
#include "core/transform/transform.h"
#include "tests/common/testtapes.h"

#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

// Every field of core/js/event.md; each also as a whole object (JSON.stringify(e)).
const QStringList s_fields = {u"kind"_s,      u"topic"_s,   u"partition"_s, u"position"_s,   u"offset"_s,
                              u"timestamp"_s, u"timestampUs"_s, u"key"_s,   u"value"_s,      u"json"_s,
                              u"keyJson"_s,   u"headers"_s, u"op"_s,        u"size"_s,       u"tombstone"_s,
                              u"table"_s,     u"txid"_s,    u"commitLsn"_s, u"primaryKey"_s, u"old"_s,
                              u"new"_s,       u"types"_s};

QList<Event> events()
{
    QList<Event> list;
    Event k;
    k.kind = SourceKind::Kafka;
    k.topic = u"orders"_s;
    k.partition = 3;
    k.position = 17;
    k.timestampUs = 1709290000123456;
    k.key = QByteArray(R"({"id":"o-1"})");
    k.value = QByteArray(R"({"id":"o-1","status":"PAID","amount":12.5,"z":1,"a":2})");
    k.headers = {Header{QByteArray("trace"), QByteArray("abc")}, Header{QByteArray("gone"), std::nullopt},
                 Header{QByteArray("trace"), QByteArray("last wins")}};
    list << k;
    Event t = k; // a tombstone with a plain-text key, far in the past
    t.position = Q_INT64_C(0x7fffffff00000001);
    t.timestampUs = -1500;
    t.key = QByteArray("plain é");
    t.value.reset();
    t.headers.clear();
    list << t;
    Event n = k; // no key, an empty and a non-JSON value
    n.key.reset();
    n.value = QByteArray("not json");
    list << n;
    Event c;
    c.kind = SourceKind::Postgres;
    c.topic = u"public.orders"_s;
    c.partition = 0;
    c.position = 23804552;
    c.timestampUs = 1709290000000001;
    c.operation = Operation::Update;
    c.transactionId = 4242;
    c.commitLsn = 23804600;
    c.primaryKey = {u"id"_s, u"region"_s};
    c.oldRow = {Column{u"id"_s, u"bigint"_s, QByteArray("7"), false}, Column{u"region"_s, u"text"_s, QByteArray("eu"), false}};
    c.newRow = {Column{u"id"_s, u"bigint"_s, QByteArray("9223372036854775807"), false},
                Column{u"region"_s, u"text"_s, QByteArray("eu"), false},
                Column{u"total"_s, u"numeric"_s, QByteArray("12345678901234567890.12"), false},
                Column{u"note"_s, u"text"_s, std::nullopt, false},
                Column{u"blob"_s, u"text"_s, std::nullopt, true}};
    c.value = QByteArray(R"({"id":9223372036854775807,"total":12345678901234567890.12})");
    list << c;
    Event d = c; // a delete: old row only, no value
    d.operation = Operation::Delete;
    d.position += 100;
    d.newRow.clear();
    d.value.reset();
    list << d;
    Event b = c; // a begin: no rows
    b.operation = Operation::Begin;
    b.oldRow.clear();
    b.newRow.clear();
    b.primaryKey.clear();
    b.value.reset();
    list << b;
    return list;
}

} // namespace

class TestJsEvent : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::shared_ptr<Tape> m_tape;
    QList<Event> m_events;

    // What the transform's event has as `expr`, as JSON text ("undefined" when it is).
    QString transformValue(const Event &e, const QString &expr)
    {
        Transform t;
        QString error;
        const QString source = u"function transform(event) { const v = %1;"
                               " return {table: 't', op: 'insert', row: {v: v === undefined ? 'undefined' : JSON.stringify(v)}}; }"_s
                                   .arg(expr);
        if (!t.compile(source, u"probe.js"_s, Transform::Context{u"r"_s, u"sqlite"_s, true}, &error))
            return u"compile: "_s + error;
        QList<SinkOutput> out;
        if (t.run(e, 0, &out, &error) != Transform::Result::Ok || out.size() != 1 || out[0].row.size() != 1)
            return u"run: "_s + error;
        return QString::fromUtf8(*out[0].row[0].value.text);
    }

    // Whether the filter's `e` has the same value: the JSON text as a JS string literal compared.
    bool filterAgrees(int index, const QString &expr, const QString &json, QString *why)
    {
        EventFilter filter;
        QString literal = json;
        literal.replace(u'\\', u"\\\\"_s).replace(u'\'', u"\\'"_s).replace(u'\n', u"\\n"_s);
        const QString expression =
            u"((v) => (v === undefined ? 'undefined' : JSON.stringify(v)) === '%1')(%2)"_s.arg(literal, expr);
        if (!filter.compile(expression, why))
            return false;
        int seen = 0;
        for (int c = 0; c < m_tape->chunkCount(); ++c) {
            const auto chunk = m_tape->chunk(c, why);
            if (!chunk)
                return false;
            for (int i = 0; i < chunk->count(); ++i, ++seen) {
                if (seen == index) {
                    const bool ok = filter.matches(m_tape->streamKey(chunk->streamId(i)), *chunk, i, seen);
                    if (!ok)
                        *why = filter.firstError().isEmpty() ? u"the filter sees another value"_s : filter.firstError();
                    return ok;
                }
            }
        }
        *why = u"no event %1"_s.arg(index);
        return false;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_events = events();
        QString error;
        const QString path = m_dir.filePath(u"events.tape"_s);
        QVERIFY2(testtapes::writeTape(path, m_events, 4, &error), qPrintable(error));
        m_tape = Tape::open(path, &error);
        QVERIFY2(m_tape, qPrintable(error));
    }

    void sameValueInBoth_data()
    {
        QTest::addColumn<int>("event");
        QTest::addColumn<QString>("expr");
        const QStringList names = {u"record"_s, u"tombstone"_s, u"no key"_s, u"update"_s, u"delete"_s, u"begin"_s};
        for (int i = 0; i < names.size(); ++i) {
            for (const QString &f : s_fields)
                QTest::addRow("%s: %s", qPrintable(names[i]), qPrintable(f)) << i << (u"e."_s + f);
            // The whole object: the same fields in the same order.
            QTest::addRow("%s: the whole event", qPrintable(names[i])) << i << u"e"_s;
            QTest::addRow("%s: keys", qPrintable(names[i])) << i << u"Object.keys(e).join()"_s;
        }
    }

    void sameValueInBoth()
    {
        QFETCH(int, event);
        QFETCH(QString, expr);
        QString inTransform = transformValue(m_events[event], QString(expr).replace(u"e."_s, u"event."_s).replace(u"(e)"_s, u"(event)"_s));
        if (expr == u"e"_s)
            inTransform = transformValue(m_events[event], u"event"_s);
        QVERIFY2(!inTransform.startsWith(u"compile: "_s) && !inTransform.startsWith(u"run: "_s), qPrintable(inTransform));
        QString why;
        QVERIFY2(filterAgrees(event, expr, inTransform, &why), qPrintable(u"transform: %1; filter: %2"_s.arg(inTransform, why)));
    }

    // A few values spelled out, so that both cannot agree on something wrong.
    void values()
    {
        QCOMPARE(transformValue(m_events[0], u"event.headers"_s), uR"({"trace":"last wins","gone":null})"_s);
        QCOMPARE(transformValue(m_events[1], u"[event.offset, event.timestamp, event.timestampUs, event.tombstone, event.size]"_s),
                 uR"(["9223372032559808513",-2,"-1500",true,8])"_s);
        QCOMPARE(transformValue(m_events[3], u"[event.old, event.new, event.types, event.primaryKey, event.txid, event.commitLsn]"_s),
                 uR"([{"id":"7","region":"eu"},{"id":"9223372036854775807","region":"eu","total":"12345678901234567890.12","note":null},)"
                 uR"({"id":"bigint","region":"text","total":"numeric","note":"text","blob":"text"},["id","region"],"4242","23804600"])"_s);
        QCOMPARE(transformValue(m_events[4], u"[event.new, event.tombstone, event.value]"_s), u"[null,false,null]"_s);
        QCOMPARE(transformValue(m_events[2], u"[event.key, event.json, event.keyJson]"_s), u"[null,null,null]"_s);
    }
};

QTEST_GUILESS_MAIN(TestJsEvent)
#include "tst_jsevent.moc"
