#pragma once

#include <QtGlobal>

#include <atomic>
#include <chrono>
#include <mutex>

class QJSEngine;

namespace tapedeck {

// Time and heap limits and cancel for calls into one QJSEngine (filters,
// transforms). A single shared watchdog thread checks every live guard every
// 20 ms and interrupts an engine whose call runs longer than its time limit,
// or whose JavaScript heap (jsHeapBytes()) is over its heap limit in two
// readings in a row. QJSEngine has no heap limit of its own.
//
// Thread: begin()/end() on the engine's thread; cancel() from any thread.
class JsCallGuard
{
public:
    explicit JsCallGuard(QJSEngine *engine);
    ~JsCallGuard();
    JsCallGuard(const JsCallGuard &) = delete;
    JsCallGuard &operator=(const JsCallGuard &) = delete;

    static constexpr qint64 DefaultHeapLimit = qint64(512) << 20;
    // 0: no heap limit. Set it between calls.
    void setHeapLimit(qint64 bytes) { m_heapLimit = bytes; }
    qint64 heapLimit() const { return m_heapLimit; }

    void begin(int timeoutMs);
    // Ends a call; true when the watchdog interrupted it (heapExceeded() says
    // whether for the heap rather than the time).
    bool end();
    bool heapExceeded() const { return m_heapExceeded; }
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
    bool m_overHeap = false;     // the last reading was over the limit
    bool m_heapFired = false;    // this call was stopped for its heap
    bool m_heapExceeded = false; // as end() found m_heapFired
    int m_timeoutMs = 1000;
    qint64 m_heapLimit = DefaultHeapLimit;
    std::atomic<bool> m_cancelled{false};
};

} // namespace tapedeck
