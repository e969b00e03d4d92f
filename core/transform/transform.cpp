#include "core/transform/transform.h"
#include "core/js/jsevent.h"

#include "core/transform/transform_p.h"

#include <QFile>

#include <algorithm>
#include <cmath>
#include <limits>

// The class itself: compiling a script into its sandbox and calling the
// runner (js/batchrunner.js) over runs of events. Events into the runner's
// batch: transformencode.cpp; outputs back: transformoutputs.cpp; the
// replay without a transform: identityoutputs.cpp. The contract and the
// batch protocol: core/transform/transform.md.

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

// A script compiled into the library (qt_add_resources in CMakeLists.txt).
QString resourceScript(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("tapedeck: %s is missing from the resources", qPrintable(path));
    return QString::fromUtf8(file.readAll());
}

// Read once per process: every Transform builds its console and runner from these.
const QString &consolePrelude()
{
    static const QString text = resourceScript(u":/tapedeck/transform/js/console.js"_s);
    return text;
}

const QString &batchRunner()
{
    static const QString text = resourceScript(u":/tapedeck/transform/js/batchrunner.js"_s);
    return text;
}

} // namespace

bool Transform::Private::ensureRunner()
{
    if (!runFn.isUndefined())
        return true;
    if (jsNames.isUndefined())
        jsNames = engine.newArray();
    if (jsShapes.isUndefined())
        jsShapes = engine.newArray();
    // The event literals get `json` and `keyJson` only when the script uses them.
    QString runner = batchRunner();
    runner.replace(u"/*JSON*/"_s, QString(wantJson ? u"json: parse(value), "_s : QString())
                                      + (wantKeyJson ? u"keyJson: parse(key), "_s : QString()));
    // Compiled by the Function constructor: QJSEngine::evaluate() compiles
    // without property lookup caches, which makes every `o.name` a slow,
    // generic lookup. The parentheses keep `return` from ending at the
    // file's first line break (its comment comes first).
    const QJSValue make = builtins.property(u"Function"_s).callAsConstructor({QJSValue(u"return ("_s + runner + u"\n);"_s)});
    io = make.call().call({function, context, cur, jsNames, jsShapes, builtins});
    if (io.isError())
        return false;
    runFn = io.property(u"run"_s);
    resetFn = io.property(u"reset"_s);
    packFn = io.property(u"pack"_s);
    setLastFn = io.property(u"setLast"_s);
    outShapes.clear();
    rowsShapes.clear();
    return true;
}

Transform::Transform() : d(std::make_unique<Private>())
{
}

Transform::~Transform() = default;

bool Transform::compile(const QString &source, const QString &fileName, const Context &context, QString *error)
{
    d->fileName = fileName;
    m_lastErrorLine = 0;
    QJSEngine::setObjectOwnership(&d->console, QJSEngine::CppOwnership);
    d->cur = d->engine.newObject();
    d->cur.setProperty(u"seq"_s, -1);
    d->engine.globalObject().setProperty(u"console"_s,
                                         d->engine.evaluate(consolePrelude()).call({d->engine.newQObject(&d->console), d->cur}));
    // The script runs as the body of a function made by the Function
    // constructor: QJSEngine::evaluate() compiles without property lookup
    // caches, and every `event.name` in a transform would be a slow generic
    // lookup (twice the time per event). Its line L is the function's line
    // L + 1 ("function anonymous(\n){" comes first). The constructor reports
    // a syntax error without its line: evaluate() then gives the message
    // (and, should it accept what the constructor did not, the transform).
    if (d->builtins.isUndefined()) { // once per engine: a script compiled before may have replaced them
        d->builtins = d->engine.evaluate(u"({Function: Function, stringify: JSON.stringify, parse: JSON.parse, keys: Object.keys, "
                                         "isArray: Array.isArray, now: Date.now, Map: Map, floor: Math.floor})"_s);
        d->builtins.setProperty(u"notPlain"_s, Private::notPlain());
    }
    d->lineOffset = 1;
    // The body returns [transform] when it ran to its end: anything else is
    // what it threw.
    const QJSValue body = d->builtins.property(u"Function"_s)
                              .callAsConstructor({QJSValue(source + u"\n;return [typeof transform === 'function' ? transform : undefined];"_s)});
    // The top-level code is the user's too: it has the time limit of a call.
    d->guard.begin(m_timeoutMs);
    QJSValue result = body.isError() ? body : body.call();
    if (body.isError()) {
        d->lineOffset = 0;
        result = d->engine.evaluate(source, fileName);
        if (!result.isError())
            result = d->engine.evaluate(u"[typeof transform === 'function' ? transform : undefined]"_s);
    }
    const bool fired = d->guard.end();
    if (d->guard.cancelled()) {
        *error = u"%1: cancelled while its top-level code ran"_s.arg(fileName);
        return false;
    }
    if (fired && d->guard.heapExceeded()) {
        d->engine.collectGarbage();
        *error = u"%1: its top-level code (outside transform()) grew the JavaScript heap past %2 MB and was stopped"_s
                     .arg(fileName).arg(d->guard.heapLimit() >> 20);
        return false;
    }
    if (fired) {
        *error = u"%1: its top-level code (outside transform()) took longer than %2 ms and was interrupted"_s.arg(fileName).arg(m_timeoutMs);
        return false;
    }
    if (result.isError() || !result.isArray()) {
        m_lastErrorLine = result.isError() ? d->line(result.property(u"lineNumber"_s).toInt()) : 0;
        *error = u"%1:%2: %3"_s.arg(fileName).arg(m_lastErrorLine).arg(result.toString());
        return false;
    }
    d->function = result.property(0);
    if (!d->function.isCallable()) {
        *error = u"%1: defines no function transform(event, ctx)"_s.arg(fileName);
        return false;
    }
    d->jsonStringify = d->builtins.property(u"stringify"_s);
    d->objectKeys = d->builtins.property(u"keys"_s);
    d->context = d->engine.newObject();
    d->context.setProperty(u"replayId"_s, context.replayId);
    d->context.setProperty(u"target"_s, context.target);
    d->context.setProperty(u"dryRun"_s, context.dryRun);
    d->context.setProperty(u"state"_s, d->engine.newObject());
    // Parsing JSON costs; a script that never says "json" never needs it.
    d->wantJson = JsEventFields::wantsJson(source);
    d->wantKeyJson = JsEventFields::wantsKeyJson(source);
    d->runFn = QJSValue();
    if (!d->ensureRunner()) {
        *error = u"%1: the transform runner failed to start: %2"_s.arg(fileName, d->io.toString());
        return false;
    }
    return true;
}

void Transform::setHeapLimit(qint64 bytes)
{
    d->guard.setHeapLimit(bytes);
}

qint64 Transform::heapLimit() const
{
    return d->guard.heapLimit();
}

void Transform::cancel()
{
    d->guard.cancel();
}

void Transform::setConsoleCallback(ConsoleCallback callback)
{
    d->consoleCallback = std::move(callback);
    if (!d->consoleCallback) {
        d->console.sink = nullptr;
        return;
    }
    Private *p = d.get();
    d->console.sink = [p](int level, const QString &text, double seq) {
        p->consoleCallback(qint64(seq), level == 2 ? ConsoleLevel::Error : level == 1 ? ConsoleLevel::Warn : ConsoleLevel::Log, text);
    };
}

qint64 Transform::consoleLines() const
{
    return d->console.lines;
}

Transform::Result Transform::run(const Event &event, qint64 seq, QList<SinkOutput> *outputs, QString *error)
{
    Outcome outcome;
    const Event *e = &event;
    Outcome *o = &outcome;
    runMany({&e, 1}, {&seq, 1}, {&o, 1});
    m_lastErrorLine = outcome.errorLine;
    if (outcome.result == Result::Ok)
        outputs->append(std::move(outcome.outputs));
    else
        *error = outcome.error;
    return outcome.result;
}

void Transform::runMany(std::span<const Event *const> events, std::span<const qint64> seqs, std::span<Outcome *const> outcomes,
                        Rows *rows, std::span<const QByteArrayView> extensions)
{
    if (rows)
        rows->clear();
    d->rowsShapes.clear(); // they point into the Rows
    d->tablesUtf8.clear();
    // Runs of at most RunEvents: what one run adds to the name and shape
    // tables stays far below what encode() can number (trimTables()).
    for (size_t from = 0; from < events.size(); from += Private::RunEvents) {
        const size_t n = std::min(Private::RunEvents, events.size() - from);
        runRun(events.subspan(from, n), seqs.subspan(from, n), outcomes.subspan(from, n), rows,
               extensions.size() > from ? extensions.subspan(from, std::min(n, extensions.size() - from)) : extensions.subspan(0, 0));
        if (m_stopAtFailure && std::any_of(outcomes.begin() + from, outcomes.begin() + from + n,
                                           [](const Outcome *o) { return o->result != Result::Ok; })) {
            for (size_t j = from + n; j < events.size(); ++j)
                Private::notRun(outcomes[j]);
            return;
        }
    }
}

namespace {

void cancelAll(std::span<Transform::Outcome *const> outcomes)
{
    for (Transform::Outcome *o : outcomes) {
        o->result = Transform::Result::Cancelled;
        o->outputs.clear();
        o->rowCount = 0;
        o->error = u"cancelled"_s;
    }
}

} // namespace

void Transform::runRun(std::span<const Event *const> events, std::span<const qint64> seqs, std::span<Outcome *const> outcomes,
                       Rows *rows, std::span<const QByteArrayView> extensions)
{
    const qsizetype n = qsizetype(events.size());
    for (Outcome *o : outcomes)
        *o = Outcome{};
    if (d->guard.cancelled())
        return cancelAll(outcomes);
    d->trimTables();
    if (!d->ensureRunner()) {
        for (qsizetype i = 0; i < n; ++i) {
            outcomes[size_t(i)]->result = Result::Error;
            outcomes[size_t(i)]->error = u"event #%1: the transform runner failed: %2"_s.arg(seqs[size_t(i)]).arg(d->io.toString());
        }
        return;
    }
    d->encodeRun(events, seqs, extensions);
    if (!d->callRunner(n, seqs, outcomes, m_timeoutMs, m_stopAtFailure))
        return cancelAll(outcomes); // the engine stays interrupted: nothing more is read from it
    d->collect(seqs, outcomes, rows, m_timeoutMs, m_stopAtFailure);
    if (d->guard.cancelled())
        cancelAll(outcomes); // cancelled while the outputs were read: they may be incomplete
}

QString Transform::Private::heapError(qint64 seq) const
{
    return u"event #%1: transform's JavaScript heap grew past %2 MB and it was stopped"_s.arg(seq).arg(guard.heapLimit() >> 20);
}

void Transform::Private::notRun(Transform::Outcome *o)
{
    *o = Transform::Outcome{};
    o->result = Result::NotRun;
    o->error = u"not run: an earlier event failed"_s;
}

bool Transform::Private::callRunner(qsizetype n, std::span<const qint64> seqs, std::span<Transform::Outcome *const> outcomes,
                                    int timeoutMs, bool stopAtFailure)
{
    io.setProperty(u"stopAtError"_s, stopAtFailure);
    const QJSValue jsS = engine.toScriptValue(S);
    const QJSValue jsN = engine.toScriptValue(QByteArray(reinterpret_cast<const char *>(N.data()), qsizetype(N.size() * sizeof(double))));
    resetFn.call();
    // Calls return between events after a quarter of the limit, and the
    // watchdog allows 1.25x: an interrupted event ran longer than the limit.
    const int budget = std::max(1, timeoutMs / 4);
    const int limit = int(std::min<qint64>(std::numeric_limits<int>::max(), qint64(timeoutMs) + budget));
    const QJSValue jsBudget(budget);
    // The next call starts at event i (its strings and numbers from where encode() put them).
    auto resumeAt = [&](qsizetype i) {
        io.setProperty(u"i"_s, int(i));
        io.setProperty(u"s"_s, double(sStart[size_t(i)]));
        io.setProperty(u"k"_s, double(kStart[size_t(i)]));
        io.setProperty(u"running"_s, -1);
        cur.setProperty(u"seq"_s, -1);
        setLast(size_t(i));
    };
    for (qsizetype done = 0; done < n;) {
        guard.begin(limit);
        const QJSValue r = runFn.call({QJSValue(int(n)), jsS, jsN, jsBudget});
        const bool fired = guard.end();
        if (guard.cancelled())
            return false;
        if (r.isNumber()) {
            done = r.toInt(); // the call ran to its end (a late watchdog does not count)
            if (stopAtFailure && io.property(u"stopped"_s).toBool()) {
                for (qsizetype j = done; j < n; ++j)
                    notRun(outcomes[size_t(j)]);
                return true;
            }
            continue;
        }
        // Interrupted (or the runner itself failed) inside event `at`,
        // unless that event had just finished: it is reported, and the run
        // goes on after it. Between events (`running` is -1) it goes on
        // where the loop stopped.
        const qsizetype at = io.property(u"running"_s).toInt();
        if (at < 0) {
            done = io.property(u"i"_s).toInt();
            if (done < n)
                resumeAt(done);
            continue;
        }
        if (io.property(u"finished"_s).toInt() < at) {
            Transform::Outcome &o = *outcomes[size_t(at)];
            if (fired && guard.heapExceeded()) {
                o.result = Result::Error;
                o.error = heapError(seqs[size_t(at)]);
            } else if (fired) {
                o.result = Result::Timeout;
                o.error = u"event #%1: transform took longer than %2 ms and was interrupted"_s.arg(seqs[size_t(at)]).arg(timeoutMs);
            } else {
                o.result = Result::Error;
                o.error = u"event #%1: transform threw %2"_s.arg(seqs[size_t(at)]).arg(r.toString());
            }
        }
        if (fired && guard.heapExceeded())
            engine.collectGarbage(); // what the stopped event held, before the next one runs
        done = at + 1;
        if (stopAtFailure) {
            for (qsizetype j = done; j < n; ++j)
                notRun(outcomes[size_t(j)]);
            return true;
        }
        resumeAt(done); // sStart/kStart have an entry for the end too
    }
    return true;
}

} // namespace tapedeck
