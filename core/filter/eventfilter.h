#pragma once

#include "core/tape/chunk.h"
#include "core/js/jsevent.h"
#include "core/event/stream.h"

#include <QString>

#include <memory>

class QJSEngine;

namespace tapedeck {

// Evaluates one JavaScript filter expression against events, e.g.
// `e.json.status == "FAILED" && e.partition == 3` (contract: jsevent.h).
//
// Thread: an EventFilter (and its QJSEngine) belongs to the thread that
// created it; only interrupt() may be called from another thread. Run one
// EventFilter per worker thread.
//
// Sandbox: the engine has the ECMAScript built-ins only (no console, no
// file, process or network access). A shared watchdog thread interrupts an
// evaluation that runs longer than timeoutMs().
class EventFilter
{
public:
    enum class State { Empty, Valid, Invalid };
    struct Check
    {
        State state = State::Empty;
        QString message; // empty unless Invalid
        int column = -1; // 0-based position in the expression, -1 unknown
    };

    // Syntax check only (nothing is evaluated), cheap enough to run as the user types.
    static Check check(const QString &expression);

    EventFilter();
    ~EventFilter();
    EventFilter(const EventFilter &) = delete;
    EventFilter &operator=(const EventFilter &) = delete;

    // Returns false and sets *error on a syntax error or an empty expression.
    bool compile(const QString &expression, QString *error);
    QString expression() const { return m_expression; }
    JsEventFields fields() const { return m_fields; }

    // True when the expression's result is truthy. A thrown error or a timeout
    // counts as no match; see errorCount(), firstError(), timedOut().
    // `seq` only labels error messages.
    bool matches(const StreamKey &stream, const Chunk &chunk, int index, qint64 seq = -1);

    void setTimeoutMs(int ms) { m_timeoutMs = ms; }
    int timeoutMs() const { return m_timeoutMs; }
    // The JavaScript heap the filter's engine may hold (default 512 MB): an
    // evaluation that grows it past the limit is an error on its event.
    void setHeapLimit(qint64 bytes);

    qint64 errorCount() const { return m_errorCount; }
    QString firstError() const { return m_firstError; }
    qint64 firstErrorSeq() const { return m_firstErrorSeq; }
    // True once an evaluation was stopped by the watchdog.
    bool timedOut() const { return m_timedOut; }
    void resetErrors();

    // Thread-safe: stops the running evaluation (if any) and every later one,
    // which then count as no match without an error (used by cancel).
    void interrupt();

    struct Private;

private:
    void recordError(const QString &message, qint64 seq);

    std::unique_ptr<Private> d;
    QString m_expression;
    JsEventFields m_fields;
    int m_timeoutMs = 1000;
    qint64 m_errorCount = 0;
    QString m_firstError;
    qint64 m_firstErrorSeq = -1;
    bool m_timedOut = false;
};

} // namespace tapedeck
