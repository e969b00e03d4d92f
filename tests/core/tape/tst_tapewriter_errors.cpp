// What the tape writer says when the disk is full or the file too large:
// the file and the cause, never "Unknown error".
#include "core/tape/tapewriter.h"
#include "tests/common/testevents.h"

#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/resource.h>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestTapeWriterErrors : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void diskFull()
    {
        // /dev/full answers every write with ENOSPC.
        TapeWriter w;
        QVERIFY(!w.create(u"/dev/full"_s, {}));
        QCOMPARE(w.errorString(), u"/dev/full: No space left on device"_s);
    }

    // A short write (the limit reached mid-block) sets no errno; the writer
    // must still name the cause. RLIMIT_FSIZE makes the kernel cut writes
    // at the limit and then refuse with EFBIG.
    void fileSizeLimit()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(u"limited.tape"_s);
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit old{};
        QCOMPARE(getrlimit(RLIMIT_FSIZE, &old), 0);
        rlimit small = old;
        small.rlim_cur = 64 * 1024;
        QCOMPARE(setrlimit(RLIMIT_FSIZE, &small), 0);
        TapeWriter w;
        bool ok = w.create(path, {});
        for (int i = 0; ok && i < 200000; ++i)
            ok = w.append(testing::kafkaEvent(i));
        ok = w.close() && ok;
        setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, SIG_DFL);
        QVERIFY(!ok);
        QCOMPARE(w.errorString(), path + u": File too large"_s);
    }
};

QTEST_GUILESS_MAIN(TestTapeWriterErrors)
#include "tst_tapewriter_errors.moc"
