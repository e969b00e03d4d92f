#include "core/js/jswatchdog.h"
#include "core/js/jsheap.h"

#include <QJSEngine>

#include <condition_variable>
#include <thread>
#include <vector>

namespace tapedeck {

// One thread watches all live guards; it only wakes while guards exist.
class JsWatchdog
{
public:
    static JsWatchdog &instance()
    {
        static JsWatchdog watchdog;
        return watchdog;
    }

    void add(JsCallGuard *g)
    {
        std::lock_guard lock(m_mutex);
        m_guards.push_back(g);
        if (!m_thread.joinable())
            m_thread = std::thread([this] { run(); });
        m_wake.notify_all();
    }

    void remove(JsCallGuard *g)
    {
        std::lock_guard lock(m_mutex);
        std::erase(m_guards, g);
    }

    ~JsWatchdog()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_all();
        if (m_thread.joinable())
            m_thread.join();
    }

private:
    void run()
    {
        std::unique_lock lock(m_mutex);
        while (!m_stop) {
            if (m_guards.empty()) {
                m_wake.wait(lock, [this] { return m_stop || !m_guards.empty(); });
                continue;
            }
            const auto now = JsCallGuard::Clock::now();
            for (JsCallGuard *g : m_guards) {
                std::lock_guard callLock(g->m_mutex);
                if (!g->m_inCall || g->m_fired)
                    continue;
                if (now - g->m_callStart > std::chrono::milliseconds(g->m_timeoutMs)) {
                    g->m_fired = true;
                    g->m_engine->setInterrupted(true);
                    continue;
                }
                if (g->m_heapLimit <= 0)
                    continue;
                const bool over = jsHeapBytes(g->m_engine) > g->m_heapLimit;
                if (over && g->m_overHeap) {
                    g->m_fired = g->m_heapFired = true;
                    g->m_engine->setInterrupted(true);
                }
                g->m_overHeap = over;
            }
            m_wake.wait_for(lock, std::chrono::milliseconds(20), [this] { return m_stop; });
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::vector<JsCallGuard *> m_guards;
    std::thread m_thread;
    bool m_stop = false;
};

JsCallGuard::JsCallGuard(QJSEngine *engine) : m_engine(engine)
{
    JsWatchdog::instance().add(this);
}

JsCallGuard::~JsCallGuard()
{
    JsWatchdog::instance().remove(this);
}

void JsCallGuard::begin(int timeoutMs)
{
    std::lock_guard lock(m_mutex);
    m_timeoutMs = timeoutMs;
    m_callStart = Clock::now();
    m_inCall = true;
    m_overHeap = m_heapFired = false;
}

bool JsCallGuard::end()
{
    std::lock_guard lock(m_mutex);
    m_inCall = false;
    const bool fired = m_fired;
    m_heapExceeded = m_heapFired;
    m_fired = m_heapFired = false;
    if (!m_cancelled)
        m_engine->setInterrupted(false);
    return fired;
}

void JsCallGuard::cancel()
{
    std::lock_guard lock(m_mutex);
    m_cancelled = true;
    m_engine->setInterrupted(true);
}

} // namespace tapedeck
