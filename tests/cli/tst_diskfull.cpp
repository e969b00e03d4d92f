// A full disk (here: a file size limit, RLIMIT_FSIZE, which a test can set
// without root) while `tape import`, `compact -o` and `export -o` write: a
// clear error naming the file and the cause, the final path untouched, no
// partial file left behind (#20).
#include "core/tape/tapewriter.h"
#include "tests/common/testevents.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestDiskFull : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_tape, m_lines;

private Q_SLOTS:
    void initTestCase()
    {
        m_tape = m_dir.filePath(u"big.tape"_s);
        m_lines = m_dir.filePath(u"big.jsonl"_s);
        TapeWriter w;
        QVERIFY(w.create(m_tape, {}));
        QByteArray lines;
        for (int i = 0; i < 100000; ++i) {
            const Event e = testing::kafkaEvent(i);
            QVERIFY(w.append(e));
            lines += kcatjson::serialize(e) + '\n';
        }
        QVERIFY(w.close());
        QFile f(m_lines);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(lines);
    }

    void limited_data()
    {
        QTest::addColumn<QString>("command");
        QTest::addColumn<QString>("output");
        QTest::newRow("import") << u"import big.jsonl -o %1"_s << u"out.tape"_s;
        QTest::newRow("compact -o") << u"compact big.tape -o %1"_s << u"out.tape"_s;
        QTest::newRow("export -o") << u"export big.tape -o %1"_s << u"out.jsonl"_s;
    }
    void limited()
    {
        QFETCH(QString, command);
        QFETCH(QString, output);
        const QString out = m_dir.filePath(output);
        QFile old(out);
        QVERIFY(old.open(QIODevice::WriteOnly | QIODevice::Truncate));
        old.write("the previous output\n");
        old.close();
        QProcess p;
        p.setWorkingDirectory(m_dir.path());
        // 64 KiB: the limit is reached in the middle of a block.
        p.start(u"bash"_s, {u"-c"_s, u"ulimit -f 64; exec \"$0\" "_s + command.arg(out), QStringLiteral(TAPE_EXECUTABLE)});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 1);
        QCOMPARE(QString::fromUtf8(p.readAllStandardError()), u"tape: %1.partial: File too large\n"_s.arg(out));
        QVERIFY(old.open(QIODevice::ReadOnly));
        QCOMPARE(old.readAll(), QByteArray("the previous output\n"));
        QVERIFY(!QFile::exists(out + u".partial"_s));
    }
};

QTEST_GUILESS_MAIN(TestDiskFull)
#include "tst_diskfull.moc"
