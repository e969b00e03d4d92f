#include "core/js/jsheap.h"
#include "core/js/jswatchdog.h"

#include <QJSEngine>
#include <QTest>

using namespace tapedeck;

class TestJsHeap : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // What the engine holds shows in jsHeapBytes(), and goes when collected.
    void measures_data()
    {
        QTest::addColumn<QString>("make");
        QTest::addColumn<qint64>("atLeast");
        QTest::newRow("strings") << "g = []; for (var i = 0; i < 100; ++i) g.push('x'.repeat(1e5) + i);" << qint64(100 * 200'000);
        QTest::newRow("objects") << "g = []; for (var i = 0; i < 200000; ++i) g.push({n: i});" << qint64(200'000 * 32);
        QTest::newRow("one large array") << "g = new Array(2000000).fill(1.5);" << qint64(2'000'000 * 8);
    }
    void measures()
    {
        QFETCH(QString, make);
        QFETCH(qint64, atLeast);
        QJSEngine engine;
        engine.collectGarbage();
        const qint64 before = jsHeapBytes(&engine);
        QVERIFY(!engine.evaluate(make).isError());
        const qint64 held = jsHeapBytes(&engine) - before;
        QVERIFY2(held >= atLeast, qPrintable(QStringLiteral("%1 < %2").arg(held).arg(atLeast)));
        QVERIFY2(held < 4 * atLeast + (qint64(4) << 20), qPrintable(QStringLiteral("%1").arg(held)));
        engine.evaluate(QStringLiteral("g = null;"));
        engine.collectGarbage();
        const qint64 after = jsHeapBytes(&engine) - before;
        QVERIFY2(after < held / 2, qPrintable(QStringLiteral("%1 of %2").arg(after).arg(held)));
    }

    // The guard stops a call over its heap limit, says so, and not for time.
    void guardStopsAtLimit()
    {
        QJSEngine engine;
        JsCallGuard guard(&engine);
        guard.setHeapLimit(qint64(16) << 20);
        guard.begin(60000);
        const QJSValue r = engine.evaluate(QStringLiteral("var a = []; for (;;) a.push('x'.repeat(1e5) + a.length);"));
        QVERIFY(guard.end());
        QVERIFY(guard.heapExceeded());
        QVERIFY(r.isError());
        // A call within the limit runs, and is not reported.
        engine.evaluate(QStringLiteral("a = null;"));
        engine.collectGarbage();
        QVERIFY(jsHeapBytes(&engine) < (qint64(16) << 20));
        guard.begin(60000);
        QCOMPARE(engine.evaluate(QStringLiteral("var b = []; for (var i = 0; i < 20; ++i) b.push('y'.repeat(1e5)); b.length")).toInt(), 20);
        QVERIFY(!guard.end());
        QVERIFY(!guard.heapExceeded());
    }
};

QTEST_GUILESS_MAIN(TestJsHeap)
#include "tst_jsheap.moc"
