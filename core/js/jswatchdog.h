#pragma once

#include <QtGlobal>

#include <atomic>
#include <chrono>
#include <mutex>

class QJSEngine;

namespace tapedeck {

// Time limit and cancel for calls into one QJSEngine (filters, transforms).
// A single shared watchdog thread checks every live guard every 20 ms and
// interrupts an engine whose call runs longer than its limit.
//
// Thread: begin()/end() on the engine's thread; cancel() from any thread.
class JsCallGuard
{
public:
    explicit JsCallGuard(QJSEngine *engine);
    ~JsCallGuard();
    JsCallGuard(const JsCallGuard &) = delete;
    JsCallGuard &operator=(const JsCallGuard &) = delete;

    void begin(int timeoutMs);
    // Ends a call; true when the watchdog interrupted it.
    bool end();
    // Stops the running call and every later one.
    void cancel();
    bool cancelled() const { return m_cancelled.load(std::memory_order_relaxed); }

private:
    friend class JsWatchdog;
    using Clock = std::chrono::steady_clock;
    QJSEngine *m_engine;
    // The watchdog must never interrupt the *next* call after deciding that
    // the previous one ran too long, hence the mutex.
    std::mutex m_mutex;
    Clock::time_point m_callStart;
    bool m_inCall = false;
    bool m_fired = false;
    int m_timeoutMs = 1000;
    std::atomic<bool> m_cancelled{false};
};

} // namespace tapedeck
