// The State dock's background work under load, on a global pool of two
// threads as on a 2-core laptop: a 1 M-event tape (TAPEDECK_STRESS_EVENTS),
// a search that reads row values, the point dragged back and forth, the
// row window scrolled, and the view closed while busy. Every wait has a
// deadline and a watchdog thread fails the test with a clear message when
// the GUI thread stops ticking: nested waits on the global pool once froze
// the GUI for good (#20: LogState::rows ran QtConcurrent::blockingMap on
// the pool its callers ran on).
#include "ui/state/stateview.h"

#include "core/state/logstate.h"
#include "core/tape/tape.h"
#include "tests/common/statebenchtape.h"
#include "ui/state/statemodel.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QThreadPool>
#include <QTimer>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

// Fails the process when the GUI thread has not ticked for `limit`: a
// deadlock then ends the test in seconds, with its cause named, instead of
// at ctest's timeout.
class GuiWatchdog
{
public:
    explicit GuiWatchdog(std::chrono::seconds limit) : m_limit(limit)
    {
        m_last = now();
        QObject::connect(&m_ticker, &QTimer::timeout, [this] {
            const qint64 t = now();
            m_maxGapMs = std::max(m_maxGapMs, t - m_last.load());
            m_last = t;
        });
        m_ticker.start(5);
        m_thread = std::thread([this] {
            std::unique_lock lock(m_mutex);
            while (!m_cond.wait_for(lock, std::chrono::milliseconds(200), [this] { return m_stop; })) {
                if (now() - m_last.load() > std::chrono::duration_cast<std::chrono::milliseconds>(m_limit).count()) {
                    std::fprintf(stderr, "FAIL: the GUI thread has not run its event loop for %lld s: "
                                         "a wait on the thread pool that never ends (deadlock)\n",
                                 static_cast<long long>(m_limit.count()));
                    std::fflush(stderr);
                    std::_Exit(3);
                }
            }
        });
    }
    ~GuiWatchdog()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_cond.notify_all();
        m_thread.join();
    }
    qint64 maxGapMs() const { return m_maxGapMs; }

private:
    static qint64 now()
    {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }
    std::chrono::seconds m_limit;
    std::atomic<qint64> m_last{0};
    qint64 m_maxGapMs = 0;
    QTimer m_ticker;
    std::mutex m_mutex;
    std::condition_variable m_cond;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace

class TestStateViewStress : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    std::shared_ptr<const Tape> m_tape;
    qint64 m_events = 0;

private Q_SLOTS:
    void initTestCase()
    {
        QThreadPool::globalInstance()->setMaxThreadCount(2);
        m_events = qEnvironmentVariableIntValue("TAPEDECK_STRESS_EVENTS");
        if (m_events <= 0)
            m_events = 1000000;
        QVERIFY(m_dir.isValid());
        const QString path = m_dir.filePath(u"stress.tape"_s);
        QString error;
        QVERIFY2(testing::writeStateBenchTape(path, m_events, m_events / 10, testing::StateBenchValue::IdStatus, &error),
                 qPrintable(error));
        m_tape = Tape::open(path, &error);
        QVERIFY2(m_tape, qPrintable(error));
    }

    void scrubSearchScrollAndClose()
    {
        GuiWatchdog watchdog(std::chrono::seconds(20));
        auto *view = new StateView;
        view->resize(900, 700);
        view->show();
        QSignalSpy ready(view, &StateView::stateReady);
        QSignalSpy frames(view, &StateView::frameReady);
        view->setTape(m_tape);
        QVERIFY(ready.wait(120000));
        QTRY_VERIFY_WITH_TIMEOUT(frames.count() > 0, 60000);

        // A search that must read values (no key holds "paid"), then the
        // point dragged back and forth while the rows load and the view scrolls.
        view->setSearch(u"paid"_s);
        auto *rng = QRandomGenerator::global();
        for (int round = 0; round < 3; ++round) {
            for (int i = 0; i <= 40; ++i) {
                const qint64 at = round % 2 == 0 ? m_events * i / 40 : m_events * (40 - i) / 40;
                view->slider()->setValue(int(std::max<qint64>(1, at)));
                if (view->model()->rowCount() > 0)
                    view->tableView()->scrollTo(view->model()->index(int(rng->bounded(view->model()->rowCount())), 0));
                QTest::qWait(10);
            }
        }
        // The last point's frame arrives, with the search applied.
        const qint64 end = m_events * 3 / 4;
        view->setEnd(end);
        QTRY_VERIFY_WITH_TIMEOUT(!view->isBusy() && view->model()->frame().snapshot.end() == end, 60000);
        QVERIFY(view->model()->frame().filtered);
        QVERIFY2(view->model()->rowCount() > 0, "the search found no row");
        QVERIFY2(view->model()->frame().error.isEmpty(), qPrintable(view->model()->frame().error));

        // Scrub again and close while the workers are busy: the view's
        // destructor waits for its jobs, which must end.
        view->setSearch(u"created"_s);
        for (int i = 0; i < 10; ++i) {
            view->setEnd(m_events / 10 * (i + 1));
            QTest::qWait(2);
        }
        QElapsedTimer closing;
        closing.start();
        delete view;
        QVERIFY2(closing.elapsed() < 15000, qPrintable(u"closing took %1 ms"_s.arg(closing.elapsed())));
        QVERIFY(QThreadPool::globalInstance()->waitForDone(30000));
        qInfo("longest GUI-thread gap: %lld ms", static_cast<long long>(watchdog.maxGapMs()));
    }
};

QTEST_MAIN(TestStateViewStress)
#include "tst_stateview_stress.moc"
