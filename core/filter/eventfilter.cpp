#include "core/filter/eventfilter.h"

#include "core/js/jswatchdog.h"

#include <QJSEngine>
#include <QRegularExpression>


using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

// The user's expression is wrapped so that it is a single expression whose
// value is returned; the newline keeps a trailing `//` comment harmless.
const QString s_prefix = u"(function(e){ return ("_s;
const QString s_suffix = u"\n); })"_s;

} // namespace

struct EventFilter::Private
{
    QJSEngine engine;
    QJSValue function;
    JsCallGuard guard{&engine};
};

namespace {

QString wrap(const QString &expression)
{
    return s_prefix + expression + s_suffix;
}

// Maps a "line:column" (1-based, of the wrapped source) back into the expression.
int expressionColumn(const QString &expression, int line, int column)
{
    if (line <= 0 || column <= 0)
        return -1;
    int pos = 0;
    int currentLine = 1;
    // The wrapped text is prefix + expression + suffix; find the start of `line`.
    const QString wrapped = wrap(expression);
    while (currentLine < line && pos < wrapped.size()) {
        const qsizetype nl = wrapped.indexOf(u'\n', pos);
        if (nl < 0)
            break;
        pos = int(nl) + 1;
        ++currentLine;
    }
    const int wrappedPos = pos + column - 1 - int(s_prefix.size());
    return std::clamp(wrappedPos, 0, int(expression.size()));
}

// V4 reports an unterminated string as whatever token it expected next,
// so strings are checked here first. Returns the opening quote or -1.
int unterminatedString(const QString &expression)
{
    const qsizetype n = expression.size();
    for (qsizetype i = 0; i < n; ++i) {
        const QChar c = expression.at(i);
        if (c == u'/' && i + 1 < n && expression.at(i + 1) == u'/') {
            while (i < n && expression.at(i) != u'\n')
                ++i;
        } else if (c == u'/' && i + 1 < n && expression.at(i + 1) == u'*') {
            const qsizetype end = expression.indexOf(u"*/"_s, i + 2);
            if (end < 0)
                return -1;
            i = end + 1;
        } else if (c == u'"' || c == u'\'' || c == u'`') {
            const qsizetype start = i++;
            while (i < n && expression.at(i) != c && (c == u'`' || expression.at(i) != u'\n')) {
                if (expression.at(i) == u'\\')
                    ++i;
                ++i;
            }
            if (i >= n || expression.at(i) != c)
                return int(start);
        }
    }
    return -1;
}

// The expression as the body of `function (e)`, made by the Function
// constructor: it parses the text on its own, so no expression can close
// the function early and leave code that runs when it is compiled (a
// wrapped `evaluate()` would run `0); })(), (function(){ for(;;); })(), (0`).
QJSValue compileFunction(QJSEngine &engine, const QString &expression)
{
    QJSValue ctor = engine.globalObject().property(u"Function"_s);
    return ctor.callAsConstructor({QJSValue(u"e"_s), QJSValue(u"return ("_s + expression + u"\n);"_s)});
}

// The time the syntax check's diagnosis may take: it evaluates the wrapped
// text for the engine's error position, which runs code only when the text
// breaks out of the wrapper, and then in the sandbox, interrupted here.
constexpr int DiagnosisTimeoutMs = 200;

} // namespace

EventFilter::Check EventFilter::check(const QString &expression)
{
    Check result;
    if (expression.trimmed().isEmpty())
        return result;
    QJSEngine engine;
    const QJSValue function = compileFunction(engine, expression);
    if (!function.isError() && function.isCallable()) {
        result.state = State::Valid;
        return result;
    }
    // Invalid. The Function constructor says only "Parse error"; the
    // engine's message and position come from evaluating the wrapped text.
    QStringList trace;
    JsCallGuard guard(&engine);
    guard.begin(DiagnosisTimeoutMs);
    const QJSValue value = engine.evaluate(wrap(expression), QString(), 1, &trace);
    guard.end();
    result.state = State::Invalid;
    // Anything but a SyntaxError means the wrapped text parsed and ran.
    if (!value.isError() || value.property(u"name"_s).toString() != u"SyntaxError") {
        result.message = u"not an expression (it closes the filter's function)"_s;
        return result;
    }
    if (const int quote = unterminatedString(expression); quote >= 0) {
        result.message = u"Unterminated string"_s;
        result.column = quote;
        return result;
    }
    result.message = value.property(u"message"_s).toString();
    // V4's error recovery names the token it would insert; for a missing operand that is a number.
    if (result.message == u"Expected token `numeric literal'")
        result.message = u"Expected an expression"_s;
    // The stack trace of a syntax error is ":line:column:".
    static const QRegularExpression position(u"^[^:]*:(\\d+):(\\d+)"_s);
    if (!trace.isEmpty()) {
        const QRegularExpressionMatch m = position.match(trace.constFirst());
        if (m.hasMatch())
            result.column = expressionColumn(expression, m.captured(1).toInt(), m.captured(2).toInt());
    }
    return result;
}

EventFilter::EventFilter()
    : d(std::make_unique<Private>())
{
}

EventFilter::~EventFilter() = default;

bool EventFilter::compile(const QString &expression, QString *error)
{
    const Check c = check(expression);
    if (c.state != State::Valid) {
        if (error) {
            *error = c.state == State::Empty ? u"empty filter expression"_s
                     : c.column >= 0 ? u"column %1: %2"_s.arg(c.column + 1).arg(c.message)
                                     : c.message;
        }
        return false;
    }
    // check() parsed the text as a function body of its own, so the wrapped
    // text below can only define the function (evaluated, not made by the
    // Function constructor: V4 names the property in errors of evaluated
    // code, "Cannot read property 'n' of undefined").
    const QJSValue function = d->engine.evaluate(wrap(expression));
    if (function.isError() || !function.isCallable()) {
        if (error)
            *error = function.toString();
        return false;
    }
    d->function = function;
    m_expression = expression;
    m_fields = JsEventFields::usedBy(expression);
    resetErrors();
    return true;
}

void EventFilter::resetErrors()
{
    m_errorCount = 0;
    m_firstError.clear();
    m_firstErrorSeq = -1;
    m_timedOut = false;
}

void EventFilter::recordError(const QString &message, qint64 seq)
{
    if (m_errorCount++ == 0) {
        m_firstError = message;
        m_firstErrorSeq = seq;
    }
}

void EventFilter::setHeapLimit(qint64 bytes)
{
    d->guard.setHeapLimit(bytes);
}

void EventFilter::interrupt()
{
    d->guard.cancel();
}

bool EventFilter::matches(const StreamKey &stream, const Chunk &chunk, int index, qint64 seq)
{
    if (d->guard.cancelled() || !d->function.isCallable())
        return false;
    const QJSValue event = toJsEvent(d->engine, stream, chunk, index, m_fields);
    d->guard.begin(m_timeoutMs);
    const QJSValue result = d->function.call({event});
    const bool fired = d->guard.end();
    if (d->guard.cancelled())
        return false;
    if (fired && d->guard.heapExceeded()) {
        d->engine.collectGarbage();
        recordError(u"filter expression grew the JavaScript heap past %1 MB on event #%2"_s.arg(d->guard.heapLimit() >> 20).arg(seq), seq);
        return false;
    }
    if (fired) {
        m_timedOut = true;
        recordError(u"filter expression took longer than %1 ms on event #%2"_s.arg(m_timeoutMs).arg(seq), seq);
        return false;
    }
    if (result.isError()) {
        QString message = result.toString();
        if (seq >= 0)
            message += u" (event #%1)"_s.arg(seq);
        recordError(message, seq);
        return false;
    }
    return result.toBool();
}

} // namespace tapedeck
