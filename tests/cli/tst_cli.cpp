#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"
#include "tests/common/testevents.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;

namespace {

struct Run
{
    int code = -1;
    QByteArray out;
    QByteArray err;
};

Run tape(const QStringList &args, const QByteArray &input = {}, const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(TAPE_EXECUTABLE), args);
    if (!p.waitForStarted())
        return {};
    if (!input.isEmpty())
        p.write(input);
    p.closeWriteChannel();
    p.waitForFinished(60000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(), p.readAllStandardError()};
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("<missing>");
}

void writeAll(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(bytes);
}

const QByteArray KcatLines =
    "{\"topic\":\"orders\",\"partition\":0,\"offset\":0,\"tstype\":\"create\",\"ts\":1767261600000,\"broker\":1,\"key\":\"1001\",\"payload\":\"{\\\"status\\\":\\\"created\\\"}\"}" "\n"
    "{\"topic\":\"orders\",\"partition\":1,\"offset\":0,\"tstype\":\"create\",\"ts\":1767261600500,\"broker\":1,\"headers\":[\"trace\",\"t1\",\"null\",null],\"key\":\"1002\",\"payload\":\"{\\\"status\\\":\\\"paid\\\"}\"}" "\n"
    "{\"topic\":\"orders\",\"partition\":0,\"offset\":1,\"tstype\":\"create\",\"ts\":1767261601000,\"broker\":1,\"key\":\"1001\",\"payload\":null}" "\n"
    "{\"topic\":\"payments\",\"partition\":0,\"offset\":7,\"tstype\":\"logappend\",\"ts\":1767261602000,\"broker\":2,\"key\":null,\"payload\":\"\\u0001raw\"}" "\n";

} // namespace

class TestCli : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init() { QVERIFY(m_dir.isValid()); }

    void versionAndHelp()
    {
        Run r = tape({u"--version"_qs});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray("tape " TAPEDECK_VERSION "\n"));
        r = tape({u"--help"_qs});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.startsWith("Usage: tape COMMAND [OPTIONS]\n"));
        QVERIFY(r.out.contains("  import FILE.jsonl|- -o OUT.tape"));
        r = tape({});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.startsWith("Usage: tape"));
    }

    void importExportRoundTrip()
    {
        const QString in = m_dir.filePath(u"in.jsonl"_qs);
        const QString out = m_dir.filePath(u"out.tape"_qs);
        writeAll(in, KcatLines);
        Run r = tape({u"import"_qs, in, u"-o"_qs, out});
        QCOMPARE(r.err, QByteArray("imported 4 events into ") + out.toLocal8Bit() + '\n');
        QCOMPARE(r.code, 0);
        QVERIFY(!QFile::exists(out + u".partial"_qs));
        r = tape({u"export"_qs, out});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, KcatLines);
        const QString jsonl = m_dir.filePath(u"again.jsonl"_qs);
        r = tape({u"export"_qs, out, u"-o"_qs, jsonl});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray());
        QCOMPARE(readAll(jsonl), KcatLines);
    }

    void importFromStdin()
    {
        const QString out = m_dir.filePath(u"stdin.tape"_qs);
        Run r = tape({u"import"_qs, u"-"_qs, u"-o"_qs, out, u"--cluster"_qs, u"prod"_qs}, KcatLines);
        QCOMPARE(r.code, 0);
        QString error;
        const auto t = Tape::open(out, &error);
        QVERIFY2(t, qPrintable(error));
        QCOMPARE(t->eventCount(), 4);
        QCOMPARE(t->streams().constFirst().key.cluster, u"prod"_qs);
    }

    void info()
    {
        const QString in = m_dir.filePath(u"in.jsonl"_qs);
        const QString out = m_dir.filePath(u"info.tape"_qs);
        writeAll(in, KcatLines);
        QCOMPARE(tape({u"import"_qs, in, u"-o"_qs, out}).code, 0);
        Run r = tape({u"info"_qs, out, u"--json"_qs});
        QCOMPARE(r.code, 0);
        const QJsonObject o = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(o.value(u"events"_qs).toInteger(), 4);
        QCOMPARE(o.value(u"complete"_qs).toBool(), true);
        QCOMPARE(o.value(u"firstTimestamp"_qs).toString(), u"2026-01-01T10:00:00.000Z"_qs);
        QCOMPARE(o.value(u"lastTimestamp"_qs).toString(), u"2026-01-01T10:00:02.000Z"_qs);
        const QJsonArray streams = o.value(u"streams"_qs).toArray();
        QCOMPARE(streams.size(), 3);
        QCOMPARE(streams[0].toObject().value(u"topic"_qs).toString(), u"orders"_qs);
        QCOMPARE(streams[0].toObject().value(u"partition"_qs).toInt(), 0);
        QCOMPARE(streams[0].toObject().value(u"events"_qs).toInteger(), 2);
        QCOMPARE(streams[0].toObject().value(u"lastPosition"_qs).toInteger(), 1);
        QCOMPARE(streams[2].toObject().value(u"topic"_qs).toString(), u"payments"_qs);
        QCOMPARE(streams[2].toObject().value(u"firstPosition"_qs).toInteger(), 7);
        QCOMPARE(o.value(u"source"_qs).toObject().value(u"source"_qs).toString(), u"kcat JSON file in.jsonl"_qs);
        r = tape({u"info"_qs, out});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("Events:    4\n"));
        QVERIFY(r.out.contains("  payments                           0          1 7..7"));
    }

    void malformedInputWritesNothing()
    {
        const QString in = m_dir.filePath(u"bad.jsonl"_qs);
        const QString out = m_dir.filePath(u"bad.tape"_qs);
        writeAll(in, KcatLines + "{\"topic\":\"x\",\"offset\":oops}\n");
        Run r = tape({u"import"_qs, in, u"-o"_qs, out});
        QCOMPARE(r.code, 1);
        QCOMPARE(r.err, QByteArray("tape: ") + in.toLocal8Bit()
                     + ":5: column 23: expected a whole number (nothing was written; --skip-bad skips such lines)\n");
        QVERIFY(!QFile::exists(out));
        QVERIFY(!QFile::exists(out + u".partial"_qs));

        // An existing tape is not replaced by a failed import.
        writeAll(out, "keep me");
        QCOMPARE(tape({u"import"_qs, in, u"-o"_qs, out}).code, 1);
        QCOMPARE(readAll(out), QByteArray("keep me"));

        r = tape({u"import"_qs, in, u"-o"_qs, out, u"--skip-bad"_qs});
        QCOMPARE(r.code, 0);
        QVERIFY(r.err.contains(QByteArray("skipped 1 malformed lines; the first: " + in.toLocal8Bit() + ":5: column 23")));
        QCOMPARE(tape({u"export"_qs, out}).out, KcatLines);
    }

    void errorsAreOneLine_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("err");
        QTest::newRow("unknown command") << QStringList{u"frobnicate"_qs} << 2 << u"tape: unknown command 'frobnicate' (see 'tape --help')\n"_qs;
        QTest::newRow("import without -o") << QStringList{u"import"_qs, u"x.jsonl"_qs} << 2 << u"tape: import needs -o OUT.tape (see 'tape --help')\n"_qs;
        QTest::newRow("unknown option") << QStringList{u"info"_qs, u"x.tape"_qs, u"--bogus"_qs} << 2 << u"tape: Unknown option 'bogus'. (see 'tape --help')\n"_qs;
        QTest::newRow("two files") << QStringList{u"info"_qs, u"a"_qs, u"b"_qs} << 2 << u"tape: info takes exactly one file (see 'tape --help')\n"_qs;
        QTest::newRow("missing tape") << QStringList{u"info"_qs, u"/nonexistent.tape"_qs} << 1 << u"tape: /nonexistent.tape: No such file or directory\n"_qs;
        QTest::newRow("missing input") << QStringList{u"import"_qs, u"/nonexistent.jsonl"_qs, u"-o"_qs, m_dir.filePath(u"x.tape"_qs)} << 1 << u"tape: /nonexistent.jsonl: No such file or directory\n"_qs;
    }
    void errorsAreOneLine()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, err);
        const Run r = tape(args);
        QCOMPARE(r.code, code);
        QCOMPARE(QString::fromLocal8Bit(r.err), err);
    }

    void corruptTapeFailsExportWithoutOutput()
    {
        const QString path = m_dir.filePath(u"corrupt.tape"_qs);
        {
            TapeWriter w;
            TapeWriter::Options o;
            o.maxChunkEvents = 100;
            QVERIFY(w.create(path, {}, o));
            for (int i = 0; i < 300; ++i)
                QVERIFY(w.append(testing::kafkaEvent(i)));
            QVERIFY(w.close());
        }
        QString error;
        qint64 at, block;
        {
            const auto t = Tape::open(path, &error);
            at = t->chunkInfo(2).payloadOffset + 3;
            block = t->chunkInfo(2).fileOffset;
        }
        QByteArray bytes = readAll(path);
        bytes[at] = char(bytes[at] ^ 0xff);
        writeAll(path, bytes);
        const QString out = m_dir.filePath(u"corrupt.jsonl"_qs);
        Run r = tape({u"export"_qs, path, u"-o"_qs, out});
        QCOMPARE(r.code, 1);
        QCOMPARE(QString::fromLocal8Bit(r.err),
                 u"tape: %1: is corrupt: chunk 2 (events 200 to 299, at byte %2): checksum mismatch\n"_qs.arg(path).arg(block));
        QVERIFY(!QFile::exists(out));
        QVERIFY(!QFile::exists(out + u".partial"_qs));
        r = tape({u"verify"_qs, path});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("checksum mismatch"));
    }

    // One rule for a time without a zone, on every machine and in every
    // command: it is UTC (core/event/bound.h). It was local time in the CLI.
    void timeWithoutZoneIsUtc()
    {
        const QString in = m_dir.filePath(QStringLiteral("times.jsonl"));
        const QString out = m_dir.filePath(QStringLiteral("times.tape"));
        writeAll(in, KcatLines);
        QCOMPARE(tape({QStringLiteral("import"), in, QStringLiteral("-o"), out}).code, 0);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("TZ"), QStringLiteral("America/New_York"));
        // 10:00:00.600Z to 10:00:01.500Z holds only the record at 10:00:01.000Z.
        for (const QString &from : {QStringLiteral("@2026-01-01T10:00:00.600"), QStringLiteral("@2026-01-01 10:00:00.600"),
                                    QStringLiteral("@2026-01-01T05:00:00.600-05:00"), QStringLiteral("@1767261600600")}) {
            const Run r = tape({QStringLiteral("replay"), out, QStringLiteral("--dry-run"), QStringLiteral("--from"), from,
                                QStringLiteral("--to"), QStringLiteral("@2026-01-01T10:00:01.500Z")},
                               {}, env);
            QVERIFY2(r.err.contains("4 events read (1 in range)"), QByteArray(from.toUtf8() + ": " + r.err).constData());
        }
        const Run bad = tape({QStringLiteral("replay"), out, QStringLiteral("--dry-run"), QStringLiteral("--from"),
                              QStringLiteral("@noon")});
        QCOMPARE(bad.code, 2);
        QCOMPARE(bad.err, QByteArray("tape: --from: \u201c@noon\u201d is not a time (ms since the epoch or ISO 8601 such as "
                                     "2026-12-07T10:15:00Z; a time without a zone is UTC) (see 'tape --help')\n"));
        const Run state = tape({QStringLiteral("state"), out, QStringLiteral("--at"), QStringLiteral("@2026-01-01 10:00:00.600"),
                                QStringLiteral("--topic"), QStringLiteral("orders"), QStringLiteral("--json")},
                               {}, env);
        QCOMPARE(state.code, 0);
        // At 10:00:00.600Z both orders exist (1001's tombstone comes at 10:00:01).
        QVERIFY2(state.out.contains("\"1001\"") && state.out.contains("\"1002\""), state.out.constData());
    }

    // ESC sequences and BEL from a log never reach the terminal.
    void outputIsTerminalSafe()
    {
        const QString in = m_dir.filePath(QStringLiteral("esc.jsonl"));
        const QString out = m_dir.filePath(QStringLiteral("esc.tape"));
        writeAll(in, "{\"topic\":\"or\\u001b[31mders\",\"partition\":0,\"offset\":0,\"ts\":1767261600000,"
                     "\"key\":\"k\\u0007\",\"payload\":\"\\u001b]0;owned\\u0007\\u009b2J\"}\n");
        QCOMPARE(tape({QStringLiteral("import"), in, QStringLiteral("-o"), out}).code, 0);
        const auto controls = [](const QByteArray &text) {
            QByteArray found;
            for (qsizetype i = 0; i < text.size(); ++i) {
                const uchar c = uchar(text[i]);
                if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || (c == 0xc2 && i + 1 < text.size() && uchar(text[i + 1]) < 0xa0))
                    found += QByteArray::number(c, 16) + ' ';
            }
            return found;
        };
        const Run info = tape({QStringLiteral("info"), out});
        QCOMPARE(info.code, 0);
        QVERIFY2(info.out.contains("or\\x1b[31mders"), info.out.constData());
        // Metadata names the input file, never its local path.
        const Run json = tape({QStringLiteral("info"), out, QStringLiteral("--json")});
        QVERIFY2(json.out.contains("\"importedFrom\": \"esc.jsonl\""), json.out.constData());
        QVERIFY2(!json.out.contains(QByteArray(m_dir.path().toUtf8() + "/esc.jsonl")), json.out.constData());
        QCOMPARE(controls(info.out), QByteArray());
        const Run state = tape({QStringLiteral("state"), out});
        QCOMPARE(state.code, 0);
        QCOMPARE(controls(state.out), QByteArray());
        QVERIFY2(state.out.contains("k\\x07\t\\x1b]0;owned\\x07\\u009b2J\t#0\t0"), state.out.constData());
    }

    // A replay that stops at its first error stops at the first looping
    // event (it used to run every event of the batch to its own limit:
    // 70 looping events, 70 limits); top-level code has the limit too.
    void replayStopsAtFirstRunaway_data()
    {
        QTest::addColumn<QByteArray>("script");
        QTest::addColumn<QByteArray>("error");
        QTest::newRow("every event loops") << QByteArray("function transform(e) { for (;;) {} }")
                                           << QByteArray("tape: event #0: transform took longer than 200 ms and was interrupted\n");
        QTest::newRow("toJSON loops") << QByteArray("function transform(e) { return {topic: 'o', value: {toJSON() { for (;;) {} }}}; }")
                                      << QByteArray("tape: event #0: reading the transform's output took longer than 200 ms and was "
                                                    "interrupted (a getter, toString or toJSON in it)\n");
        QTest::newRow("top level loops") << QByteArray("for (;;) {}\nfunction transform(e) { return e; }")
                                         << QByteArray("tape: loop.js: its top-level code (outside transform()) took longer than 200 ms "
                                                       "and was interrupted\n");
        QTest::newRow("heap grows") << QByteArray("function transform(e) { var a = []; for (;;) a.push('x'.repeat(1e5) + a.length); }")
                                    << QByteArray("tape: event #0: transform's JavaScript heap grew past 16 MB and it was stopped\n");
    }
    void replayStopsAtFirstRunaway()
    {
        QFETCH(QByteArray, script);
        QFETCH(QByteArray, error);
        const QString demo = m_dir.filePath(u"runaway.tape"_qs), js = m_dir.filePath(u"loop.js"_qs);
        QCOMPARE(tape({u"make-demo"_qs, u"-o"_qs, demo}).code, 0);
        writeAll(js, script);
        QElapsedTimer timer;
        timer.start();
        const bool heap = QByteArray(QTest::currentDataTag()) == "heap grows";
        const Run r = tape({u"replay"_qs, demo, u"--dry-run"_qs, u"--transform"_qs, js, u"--timeout-ms"_qs, heap ? u"60000"_qs : u"200"_qs,
                            u"--heap-mb"_qs, u"16"_qs});
        QCOMPARE(r.code, 1);
        QCOMPARE(r.out, QByteArray());
        QVERIFY2(r.err.endsWith(error), r.err.constData());
        QVERIFY2(timer.elapsed() < 8000, qPrintable(QString::number(timer.elapsed()))); // 70 limits would be 17.5 s
    }

    void demoTape()
    {
        const QString path = m_dir.filePath(u"demo.tape"_qs);
        QCOMPARE(tape({u"make-demo"_qs, u"-o"_qs, path}).code, 0);
        const Run r = tape({u"verify"_qs, path});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, path.toLocal8Bit() + ": 70 events in 2 chunks, all checksums good\n");
        // Deterministic: the same bytes every time.
        const QString again = m_dir.filePath(u"demo2.tape"_qs);
        QCOMPARE(tape({u"make-demo"_qs, u"-o"_qs, again}).code, 0);
        QCOMPARE(readAll(again), readAll(path));
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
