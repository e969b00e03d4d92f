// `kill -9` at 20 random moments of `tape import` and `tape compact -o`:
// each time the output is absent or a valid tape (it appears only by a
// rename of a complete file), and a rerun gives the exact result (#20).
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"
#include "tests/common/testevents.h"

#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

int run(const QStringList &args, QByteArray *out = nullptr)
{
    QProcess p;
    p.start(QStringLiteral(TAPE_EXECUTABLE), args);
    p.waitForFinished(300000);
    if (out)
        *out = p.readAllStandardOutput();
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
}

// Starts `args`, kills it with SIGKILL after a random 0..maxMs, and says
// whether it was still running then.
bool killSomewhere(const QStringList &args, int maxMs)
{
    QProcess p;
    p.start(QStringLiteral(TAPE_EXECUTABLE), args);
    if (!p.waitForStarted())
        return false;
    QThread::msleep(QRandomGenerator::global()->bounded(maxMs));
    const bool running = p.state() == QProcess::Running;
    p.kill();
    p.waitForFinished();
    return running;
}

} // namespace

class TestKill : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;

    // The output after a kill: absent, or a complete tape with `events`.
    static void checkOutput(const QString &path, qint64 events)
    {
        if (!QFile::exists(path))
            return;
        QString error;
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        QVERIFY(tape->isComplete());
        QCOMPARE(tape->eventCount(), events);
    }

private Q_SLOTS:
    void import()
    {
        QByteArray lines;
        constexpr int N = 300000;
        for (int i = 0; i < N; ++i)
            lines += kcatjson::serialize(testing::kafkaEvent(i)) + '\n';
        const QString in = m_dir.filePath(u"in.jsonl"_s), out = m_dir.filePath(u"out.tape"_s);
        QFile f(in);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(lines);
        f.close();
        const QStringList args{u"import"_s, in, u"-o"_s, out};
        int midway = 0;
        for (int attempt = 0; attempt < 20; ++attempt) {
            QFile::remove(out);
            midway += killSomewhere(args, 400);
            checkOutput(out, N);
        }
        QVERIFY2(midway >= 5, "too few kills landed while the import ran");
        QCOMPARE(run(args), 0);
        QByteArray exported;
        QCOMPARE(run({u"export"_s, out}, &exported), 0);
        QCOMPARE(exported.size(), lines.size());
        QVERIFY(exported == lines);
    }

    void compact()
    {
        const QString source = m_dir.filePath(u"source.tape"_s), out = m_dir.filePath(u"compacted.tape"_s);
        TapeWriter w;
        QVERIFY(w.create(source, {}));
        for (int i = 0; i < 400000; ++i)
            QVERIFY(w.append(testing::kafkaEvent(i)));
        QVERIFY(w.close());
        const QStringList args{u"compact"_s, source, u"--full"_s, u"-o"_s, out};
        QCOMPARE(run(args), 0);
        QString error;
        const qint64 survivors = Tape::open(out, &error)->eventCount();
        QVERIFY(survivors > 0 && survivors < 400000);
        int midway = 0;
        for (int attempt = 0; attempt < 20; ++attempt) {
            QFile::remove(out);
            midway += killSomewhere(args, 600);
            checkOutput(out, survivors);
        }
        QVERIFY2(midway >= 5, "too few kills landed while compact ran");
        QCOMPARE(run(args), 0);
        QCOMPARE(Tape::open(out, &error)->eventCount(), survivors);
    }
};

QTEST_GUILESS_MAIN(TestKill)
#include "tst_kill.moc"
