#include "core/transform/transform.h"

#include "core/transform/changerowjson.h"
#include "core/tape/chunkencoder.h"

#include "core/js/jsconsole.h"
#include "core/js/jswatchdog.h"

#include <QDateTime>
#include <QJSEngine>
#include <QStringEncoder>

#include <array>
#include <cmath>
#include <limits>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

// A table without a schema given by a transform stays as written.
QString outputError(qint64 seq, const QString &what)
{
    return u"event #%1: transform returned an invalid output: %2"_s.arg(seq).arg(what);
}

// Builds the global `console`; its functions reach the host only
// through the closure's `host` (a JsConsole), never through a global name.
// Arguments are joined with spaces, non-strings as JSON (as browsers print them).
const char *const ConsolePrelude =
    "(function (host, cur) {\n"
    "  function text(a) {\n"
    "    if (typeof a === 'string') return a;\n"
    "    if (a === undefined || typeof a === 'function' || typeof a === 'bigint' || typeof a === 'symbol' || a instanceof Error) return String(a);\n"
    "    try { const s = JSON.stringify(a); return s === undefined ? String(a) : s; } catch (e) { return String(a); }\n"
    "  }\n"
    "  function line(level) { return function () { host.write(level, Array.prototype.map.call(arguments, text).join(' '), cur.seq); }; }\n"
    "  return { log: line(0), info: line(0), debug: line(0), warn: line(1), error: line(2) };\n"
    "})";

// The loop over a run of events, in JavaScript: one call into the engine
// transforms many events (a call from C++ costs more than building an event
// in the script). C++ encodes the events as one array of strings `S` (the
// values) and one Float64Array `N` (numbers, and ids into the `names` and
// `shapes` tables that C++ fills once per name and row shape); see
// Transform::Private::encode(), which this must match. The event object has
// the same properties, in the same order, as the contract in the README.
//
// Event objects are object literals (row objects too, from a function made
// once per row shape): building them property by property costs twice as
// much in this engine.
//
// Outputs come back flattened where that looks plain (an SQL output, an
// object with key and row objects): `out` gets (event index, op 0..2, shape
// id, start in vals, index in items) and `vals` the table then the key then
// the row values; the output itself goes to `items`. A new shape of key and
// row names goes to `newShapes`. C++ reads `vals` in one conversion and takes
// an output with a value that is not a string, finite number, boolean, null
// or undefined from `items` instead, as it takes anything else the script
// did not flatten (out: index, 3, 0, 0, index in items): through output(),
// which checks and converts it. A throw goes to `errs` (index, text, line).
// Every step adds to these with one push, `items` before `out`: a call
// interrupted in the middle leaves nothing half-written that an `out` entry
// points at.
//
// Time limits: `io.running` is the event being transformed (-1 between
// events), `io.finished` the last one that ran to its end. The call returns
// between events once `budget` ms have passed, so an event the watchdog
// interrupts (at 1.25x the limit) started early enough to have run longer
// than the limit itself.
const char *const BatchRunner = R"js((function (transform, ctx, cur, names, shapes, B) {
  var io = {i: 0, running: -1, finished: -1, s: 0, k: 0, out: [], vals: [], items: [], errs: [], newShapes: []};
  var notPlain = B.notPlain, recent = [], nextShape = 0, EMPTY = [], isArray = B.isArray, keysOf = B.keys, floor = B.floor, now = B.now, jsonParse = B.parse;
  function parse(t) { if (t === null || t === '') return undefined; try { return jsonParse(t); } catch (x) { return undefined; } }
  function row(nm, S, at, mask) {
    var o = {}, i;
    if (mask === null) { for (i = 0; i < nm.length; ++i) o[nm[i]] = S[at + i]; }
    else { for (i = 0; i < nm.length; ++i) { var m = mask.charCodeAt(i); if (m !== 117) o[nm[i]] = m === 110 ? null : S[at + i]; } }
    return o;
  }
  function same(a, b) { if (a.length !== b.length) return false; for (var j = 0; j < a.length; ++j) if (a[j] !== b[j]) return false; return true; }
  var known = new B.Map();
  // Per row shape id: a function building its row objects from an object
  // literal (far cheaper than one property store at a time), or null for
  // names a literal cannot hold. Per packed (key, old, new) shape number:
  // the primaryKey to copy and a function building the types object (each
  // event gets objects of its own).
  var builders = [], pairs = new B.Map(), jsonText = B.stringify, Fn = B.Function;
  // A name as a string literal in generated code (U+2028/9 end a line there).
  function stringify(x) { return jsonText(x).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029'); }
  // A function from generated code; null when the engine refuses it (the caller then goes the generic way).
  function make(args, body) { try { return Fn.apply(null, args.concat([body])); } catch (x) { return null; } }
  function builder(id) {
    var b = builders[id];
    if (b !== undefined) return b;
    var nm = shapes[id][0], parts = [];
    for (var j = 0; j < nm.length; ++j) { if (nm[j] === '__proto__') { builders[id] = null; return null; } parts.push(stringify(nm[j]) + ':S[at+' + j + ']'); }
    b = make(['S', 'at'], 'return {' + parts.join(',') + '};');
    builders[id] = b;
    return b;
  }
  function newRow(id, S, at, mask) {
    if (mask === null) { var b = builder(id); if (b !== null) return b(S, at); }
    return row(shapes[id][0], S, at, mask);
  }
  function pairOf(sh, pkId, os, ns) {
    var p = pairs.get(sh);
    if (p !== undefined) return p;
    var types = {}, j, d;
    if (os >= 0) { d = shapes[os]; for (j = 0; j < d[0].length; ++j) types[d[0][j]] = d[1][j]; }
    if (ns >= 0) { d = shapes[ns]; for (j = 0; j < d[0].length; ++j) types[d[0][j]] = d[1][j]; }
    var tn = keysOf(types), parts = [], literal = true;
    for (j = 0; j < tn.length; ++j) { if (tn[j] === '__proto__') literal = false; parts.push(stringify(tn[j]) + ':' + stringify(types[tn[j]])); }
    var made = literal ? make([], 'return {' + parts.join(',') + '};') : null;
    p = {pk: shapes[pkId][0], types: made !== null ? made : function () { var t = {}; for (var c in types) t[c] = types[c]; return t; }};
    pairs.set(sh, p);
    return p;
  }
  // The texts of time, txid and LSN, which come in S only when they differ
  // from the last event's (a transaction's events share them); C++ tracks
  // the same, and sets them when a call resumes after an interrupted event.
  var lastTs = NaN, lastTsText = '', lastTx = NaN, lastTxText = '', lastLsn = NaN, lastLsnText = '';
  function shapeOf(kn, rn) {
    var r0 = recent[0];
    if (r0 !== undefined && r0.kn.length === kn.length && r0.rn.length === rn.length && same(r0.kn, kn) && same(r0.rn, rn)) return r0.id;
    for (var j = 1; j < recent.length; ++j) { var r = recent[j]; if (same(r.kn, kn) && same(r.rn, rn)) return r.id; }
    var sig = kn.join('\u0001') + '\u0002' + rn.join('\u0001'), id = known.get(sig);
    if (id === undefined) { id = nextShape++; io.newShapes.push(id, kn, rn); known.set(sig, id); } // told before known: an interrupt between the two costs an id, never a shape
    recent.unshift({kn: kn, rn: rn, id: id}); if (recent.length > 16) recent.pop();
    return id;
  }
  function fields(o, nm, vals) {
    for (var j = 0; j < nm.length; ++j) { var v = o[nm[j]], t = typeof v; vals.push(v === null || t === 'string' || t === 'number' || t === 'boolean' || t === 'undefined' ? v : notPlain); }
  }
  // Per output shape id: a function reading its key and row values by name
  // (cached lookups rather than a generic one per value) and pushing them,
  // with the table, in one push; a value that is not a primitive C++ takes
  // as it is goes as B.notPlain (C++ then takes the whole output through
  // output(); converting objects here would copy them deeply, and a Symbol
  // would crash the engine's conversion). null for names it cannot use.
  var readers = [], seen = [], identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  function reader(kn, rn) {
    var reads = [], j, src = '';
    function access(o, name) { return identifier.test(name) ? o + '.' + name : o + '[' + stringify(name) + ']'; }
    for (j = 0; j < kn.length; ++j) { if (kn[j] === '__proto__') return null; reads.push(access('k', kn[j])); }
    for (j = 0; j < rn.length; ++j) { if (rn[j] === '__proto__') return null; reads.push(access('r', rn[j])); }
    var list = 'table';
    for (j = 0; j < reads.length; ++j) {
      src += 'var v' + j + ' = ' + reads[j] + ', t' + j + ' = typeof v' + j + ';\n' +
             'if (v' + j + " !== null && t" + j + " !== 'string' && t" + j + " !== 'number' && t" + j + " !== 'boolean' && t" + j +
             " !== 'undefined') v" + j + ' = notPlain;\n';
      list += ', v' + j;
    }
    return make(['k', 'r', 'vals', 'table', 'notPlain'], src + 'vals.push(' + list + ');');
  }
  function put(i, item, out, vals, items) {
    if (item === null || typeof item !== 'object' || isArray(item)) return false;
    var table = item.table;
    if (typeof table !== 'string' || table === '') return false;
    var op = item.op, code;
    if (op === undefined) code = 0; else if (op === 'upsert') code = 0; else if (op === 'insert') code = 1; else if (op === 'delete') code = 2; else return false;
    var key = item.key, row = item.row, kn = EMPTY, rn = EMPTY;
    if (key !== undefined && key !== null) { if (typeof key !== 'object' || isArray(key)) return false; kn = keysOf(key); }
    if (row !== undefined && row !== null) { if (typeof row !== 'object' || isArray(row)) return false; rn = keysOf(row); }
    if ((code !== 1 && kn.length === 0) || (code !== 2 && rn.length === 0 && kn.length === 0)) return false;
    // A reader is made for a shape seen 8 times (making one costs far more
    // than reading a few outputs the generic way: outputs of JSON with ever
    // other keys would make one per output).
    var id = shapeOf(kn, rn), rd = readers[id], at = vals.length;
    if (rd === undefined) { var c = (seen[id] | 0) + 1; seen[id] = c; if (c >= 8) rd = readers[id] = reader(kn, rn); }
    if (rd !== undefined && rd !== null) rd(key, row, vals, table, notPlain);
    else { vals.push(table); fields(key, kn, vals); fields(row, rn, vals); }
    items.push(item);
    out.push(i, code, id, at, items.length - 1);
    return true;
  }
  io.run = function (n, S, buf, budget) {
    var N = new Float64Array(buf), first = io.i, i = first, s = io.s, k = io.k, t0 = now(), names_ = names, shapes_ = shapes, cur_ = cur, io_ = io, out = io.out, vals = io.vals, items = io.items;
    for (; i < n; ++i) {
      if (i !== first && now() - t0 > budget) break;
      io_.running = i;
      cur_.seq = N[k];
      var meta = N[k + 3], change = meta & 1, nh = floor(meta / 1024), v;
      var topic = names_[N[k + 4] | 0], pos, tsUs, txid, lsn, key = null, value = null, x;
      pos = S[s++];
      if (meta & 64) { tsUs = S[s++]; lastTs = NaN; } else { x = N[k + 9]; if (x !== lastTs) { lastTs = x; lastTsText = S[s++]; } tsUs = lastTsText; }
      if (change) {
        if (meta & 128) { txid = S[s++]; lastTx = NaN; } else { x = N[k + 10]; if (x !== lastTx) { lastTx = x; lastTxText = S[s++]; } txid = lastTxText; }
        if (meta & 256) { lsn = S[s++]; lastLsn = NaN; } else { x = N[k + 11]; if (x !== lastLsn) { lastLsn = x; lastLsnText = S[s++]; } lsn = lastLsnText; }
      }
      if (meta & 2) key = S[s++];
      if (meta & 4) value = S[s++];
      var h = {};
      if (nh > 0) {
        var hm = meta & 512 ? S[s++] : null;
        for (var j = 0; j < nh; ++j) { h[S[s]] = hm !== null && hm.charCodeAt(j) === 110 ? null : S[s + 1]; s += 2; }
      }
      var o;
      if (change) {
        var sh = N[k + 7], os = floor(sh / 65536) % 65536 - 1, ns = floor(sh / 4294967296) - 1, p = pairOf(sh, (sh % 65536 - 1) | 0, os, ns), d, m, was = null, nw = null;
        if (os >= 0) { d = shapes_[os][0]; m = meta & 8 ? S[s++] : null; was = newRow(os, S, s, m); s += d.length; }
        if (ns >= 0) { d = shapes_[ns][0]; m = meta & 16 ? S[s++] : null; nw = newRow(ns, S, s, m); s += d.length; }
        o = {kind: names_[N[k + 5] | 0], topic: topic, partition: N[k + 1], position: pos, offset: pos, timestamp: N[k + 2],
             timestampUs: tsUs, key: key, value: value, /*JSON*/headers: h, op: names_[N[k + 6] | 0],
             table: topic, txid: txid, commitLsn: lsn, primaryKey: p.pk.slice(), old: was, new: nw, types: p.types()};
        k += 12;
      } else {
        o = {kind: names_[N[k + 5] | 0], topic: topic, partition: N[k + 1], position: pos, offset: pos, timestamp: N[k + 2],
             timestampUs: tsUs, key: key, value: value, /*JSON*/headers: h, op: names_[N[k + 6] | 0]};
        k += 10;
      }
      var r;
      try { r = transform(o, ctx); }
      catch (x) {
        var what; try { what = String(x); } catch (y) { what = 'an exception'; }
        io_.errs.push(i, what, x !== null && typeof x === 'object' && typeof x.lineNumber === 'number' ? x.lineNumber : 0);
        io_.finished = i;
        continue;
      }
      if (r === null || r === undefined) { io_.finished = i; continue; }
      if (isArray(r)) {
        for (j = 0; j < r.length; ++j) { v = r[j]; if (v !== null && v !== undefined && !put(i, v, out, vals, items)) { items.push(v); out.push(i, 3, 0, 0, items.length - 1); } }
      } else if (!put(i, r, out, vals, items)) { items.push(r); out.push(i, 3, 0, 0, items.length - 1); }
      io_.finished = i;
    }
    io.i = i; io.s = s; io.k = k;
    io.running = -1;
    cur.seq = -1;
    return i;
  };
  // What collect() reads besides `vals`: `out` as numbers.
  io.pack = function () { return new Float64Array(io.out).buffer; };
  io.setLast = function (a, b, c, d, e, f) { lastTs = a; lastTsText = b; lastTx = c; lastTxText = d; lastLsn = e; lastLsnText = f; };
  io.reset = function () { lastTs = lastTx = lastLsn = NaN; io.i = 0; io.running = -1; io.finished = -1; io.s = 0; io.k = 0; io.out = []; io.vals = []; io.items = []; io.errs = []; io.newShapes = []; };
  return io;
}))js";

} // namespace

struct Transform::Private
{
    // Events per call into the engine at most; with the tables trimmed at
    // 4096 entries between runs, a run's shapes stay below the 65535 that
    // encode() packs per id.
    static constexpr size_t RunEvents = 512;
    QJSEngine engine;
    QJSValue function;
    QJSValue context;
    QJSValue jsonStringify;
    QJSValue objectKeys;
    QJSValue cur;  // {seq}: the event being transformed, for console lines
    QJSValue builtins; // what the runner uses, as they were before the script ran (it may replace them)
    // What the runner puts in `vals` for a value it does not flatten.
    static const QString &notPlain()
    {
        static const QString marker = u"\u0000tapedeck: not a plain value\u0000"_s;
        return marker;
    }
    QJSValue io;   // the BatchRunner's state and results
    QJSValue runFn, resetFn, packFn, setLastFn;
    QString fileName;
    int lineOffset = 0; // script line = engine line - lineOffset (see compile())
    int line(int engineLine) const { return engineLine > lineOffset ? engineLine - lineOffset : 0; }
    JsConsole console;
    Transform::ConsoleCallback consoleCallback;
    bool wantJson = true;
    bool wantKeyJson = true;
    JsCallGuard guard{&engine};

    // Strings the runner looks up by id (kinds, operations, topics), and row
    // shapes (column names and types; primary-key lists), each sent to the
    // engine once.
    QHash<QString, int> nameIds;
    QJSValue jsNames;
    struct Shape
    {
        size_t hash = 0;
        QStringList names, types;
    };
    std::vector<Shape> shapes;
    QJSValue jsShapes;
    // Output shapes (key names, row names) the runner reported, by its id.
    struct OutShape
    {
        QStringList key, row;
    };
    std::vector<OutShape> outShapes;

    // Most names come as the same shared string event after event (a
    // stream's topic, the kind and operation names): found by their data.
    struct RecentName
    {
        QString name; // keeps the data alive, so its address stays unique
        int id = -1;
    };
    std::array<RecentName, 8> recentNames;
    unsigned recentNameNext = 0;

    int nameId(const QString &name)
    {
        for (const RecentName &r : recentNames) {
            if (r.name.constData() == name.constData() && r.name.size() == name.size() && r.id >= 0)
                return r.id;
        }
        const int id = nameIdSlow(name);
        recentNames[recentNameNext++ % recentNames.size()] = RecentName{name, id};
        return id;
    }

    int nameIdSlow(const QString &name)
    {
        auto it = nameIds.constFind(name);
        if (it != nameIds.constEnd())
            return *it;
        const int id = int(nameIds.size());
        nameIds.insert(QString(name.constData(), name.size()), id);
        jsNames.setProperty(quint32(id), name);
        return id;
    }

    // The tables only grow while a runMany() encodes; between runs they start
    // over when large (with a new runner, which holds them).
    void trimTables()
    {
        if (nameIds.size() < 4096 && shapes.size() < 4096 && outShapes.size() < 4096 && !jsNames.isUndefined())
            return;
        nameIds.clear();
        shapes.clear();
        lastPkShape = -1;
        recentNames = {};
        recentCells = {};
        jsNames = engine.newArray();
        jsShapes = engine.newArray();
        runFn = QJSValue();
    }

    // Finds or adds the shape of `n` names and types given by name(i), type(i).
    template<typename Name, typename Type>
    int shapeId(qsizetype n, Name name, Type type)
    {
        size_t h = size_t(n);
        for (qsizetype i = 0; i < n; ++i)
            h = qHashMulti(h, name(i), type(i));
        for (size_t j = 0; j < shapes.size(); ++j) {
            const Shape &s = shapes[j];
            if (s.hash != h || s.names.size() != n)
                continue;
            bool same = true;
            for (qsizetype i = 0; i < n && same; ++i)
                same = s.names[i] == name(i) && s.types[i] == type(i);
            if (same)
                return int(j);
        }
        Shape s{h, {}, {}};
        QJSValue jn = engine.newArray(uint(n)), jt = engine.newArray(uint(n));
        for (qsizetype i = 0; i < n; ++i) {
            const QString &nm = name(i), &ty = type(i);
            s.names.append(QString(nm.constData(), nm.size())); // owned: the cache outlives events
            s.types.append(QString(ty.constData(), ty.size()));
            jn.setProperty(quint32(i), nm);
            jt.setProperty(quint32(i), ty);
        }
        const int id = int(shapes.size());
        shapes.push_back(std::move(s));
        QJSValue pair = engine.newArray(2);
        pair.setProperty(0, jn);
        pair.setProperty(1, jt);
        jsShapes.setProperty(quint32(id), pair);
        return id;
    }

    // The encoding BatchRunner reads: per event 10 numbers (12 for a change
    // event) in N, its strings in S. The position goes as text; time, txid
    // and LSN as numbers below 2^53 (with their text when it changed, see
    // num() below) and as text only beyond (meta bits 64..256), as the
    // engine's own number-to-text conversion costs more than a string from
    // here; a row or header list with NULLs or unchanged TOAST values gets a
    // mask string ('v', 'n' NULL, 'u' left out).
    QStringList S;
    std::vector<double> N;
    std::vector<qsizetype> sStart, kStart;
    std::vector<QByteArray> lastPkUtf8; // the last event's key names
    int lastPkShape = -1;
    struct Last
    {
        bool have = false;
        qint64 value = 0;
    };
    Last lastTs, lastTx, lastLsn; // of the last event encoded, as the runner's lastTs, lastTx, lastLsn

    // The runner's lastTs .. lastLsnText as they are after events[0 .. i) of this run.
    void setLast(size_t i)
    {
        auto value = [](bool have, qint64 v) { return have ? QJSValue(double(v)) : QJSValue(std::nan("")); };
        auto text = [](bool have, qint64 v) { return have ? QJSValue(QString::number(v)) : QJSValue(QString()); };
        constexpr double Safe = 9007199254740992.0;
        auto small = [&](qint64 v) { return double(v) < Safe && double(v) > -Safe; };
        const bool ts = i > 0 && small(encoded[i - 1].ts);
        const qint64 tsValue = i > 0 ? encoded[i - 1].ts : 0;
        const Encoded *change = nullptr;
        for (size_t j = i; j > 0 && !change; --j)
            change = encoded[j - 1].change ? &encoded[j - 1] : nullptr;
        const bool tx = change && small(change->tx), lsn = change && small(change->lsn);
        setLastFn.call({value(ts, tsValue), text(ts, tsValue), value(tx, tx ? change->tx : 0), text(tx, tx ? change->tx : 0),
                        value(lsn, lsn ? change->lsn : 0), text(lsn, lsn ? change->lsn : 0)});
    }
    // Per event of the run: the time, txid and LSN that encode() gave (for setLast()).
    struct Encoded
    {
        bool change = false;
        qint64 ts = 0, tx = 0, lsn = 0;
    };
    std::vector<Encoded> encoded;

    // A change event's change fields (rows, key names, txid, LSN) come from
    // `cells` (its stored bytes, read in place), not from the Event.
    void encode(const Event &e, qint64 seq, const ChunkEncoder::ChangeCells &cells)
    {
        sStart.push_back(S.size());
        kStart.push_back(qsizetype(N.size()));
        constexpr double Safe = 9007199254740992.0;
        // Time, txid and LSN: as a number, with the text in S when it differs
        // from the last event's (as the runner tracks them); beyond 2^53 as
        // text only (meta bit).
        auto num = [&](qint64 v, int bit, double *meta, Last *last) {
            if (double(v) < Safe && double(v) > -Safe) {
                if (!last->have || last->value != v) {
                    S.append(QString::number(v));
                    *last = Last{true, v};
                }
                return double(v);
            }
            *meta += bit;
            S.append(QString::number(v));
            last->have = false;
            return std::nan("");
        };
        double meta = e.isChange() ? 1 : 0;
        const size_t k = N.size();
        N.resize(k + (e.isChange() ? 12 : 10));
        N[k] = double(seq);
        N[k + 1] = e.partition;
        N[k + 2] = double(e.timestampMs());
        N[k + 4] = nameId(e.topic);
        N[k + 5] = nameId(toString(e.kind));
        N[k + 6] = nameId(toString(e.operation));
        S.append(QString::number(e.position)); // (N[k + 8] is not used)
        N[k + 9] = num(e.timestampUs, 64, &meta, &lastTs);
        Encoded done{e.isChange(), e.timestampUs, 0, 0};
        if (e.isChange()) {
            done.tx = cells.transactionId;
            done.lsn = cells.commitLsn;
            N[k + 10] = num(done.tx, 128, &meta, &lastTx);
            N[k + 11] = num(done.lsn, 256, &meta, &lastLsn);
        }
        encoded.push_back(done);
        if (e.key) {
            meta += 2;
            S.append(QString::fromUtf8(*e.key));
        }
        if (e.value) {
            meta += 4;
            S.append(QString::fromUtf8(*e.value));
        }
        if (!e.headers.isEmpty()) {
            meta += 1024.0 * double(e.headers.size());
            const bool nulls = std::any_of(e.headers.cbegin(), e.headers.cend(), [](const Header &h) { return !h.value; });
            if (nulls) {
                meta += 512;
                QString mask;
                for (const Header &h : e.headers)
                    mask += h.value ? u'v' : u'n';
                S.append(mask);
            }
            for (const Header &h : e.headers) {
                S.append(QString::fromUtf8(h.name));
                S.append(h.value ? QString::fromUtf8(*h.value) : QString());
            }
        }
        if (e.isChange())
            encodeCells(cells, k, &meta);
        N[k + 3] = meta;
    }

    // The key names' shape, when they are not the last event's.
    void setPk(const std::vector<QByteArrayView> &utf8)
    {
        bool same = lastPkShape >= 0 && lastPkUtf8.size() == utf8.size();
        for (size_t i = 0; i < utf8.size() && same; ++i)
            same = lastPkUtf8[i] == utf8[i];
        if (same)
            return;
        QStringList names;
        lastPkUtf8.clear();
        for (const QByteArrayView n : utf8) {
            names.append(QString::fromUtf8(n));
            lastPkUtf8.push_back(n.toByteArray());
        }
        static const QString none;
        lastPkShape = shapeId(names.size(), [&](qsizetype i) -> const QString & { return names[i]; },
                              [](qsizetype) -> const QString & { return none; });
    }

    // encode()'s change part: every cell is a column (as Chunk::fill() makes
    // them; an absent one is NULL).
    void encodeCells(const ChunkEncoder::ChangeCells &cells, size_t k, double *meta)
    {
        setPk(cells.primaryKey);
        int rows[2] = {-1, -1};
        int bit = 8;
        using Cell = ChunkEncoder::ChangeCell;
        using State = ChunkEncoder::CellView::State;
        for (int r = 0; r < 2; ++r, bit *= 2) {
            const std::vector<Cell> &row = r == 0 ? cells.oldRow : cells.newRow;
            if (row.empty())
                continue;
            rows[r] = cellsShape(row);
            const bool special = std::any_of(row.cbegin(), row.cend(), [](const Cell &c) { return c.state != State::Value; });
            if (special) {
                *meta += bit;
                QString mask;
                for (const Cell &c : row)
                    mask += c.state == State::UnchangedToast ? u'u' : c.state == State::Value ? u'v' : u'n';
                S.append(mask);
            }
            for (const Cell &c : row)
                S.append(c.state == State::Value ? QString::fromUtf8(c.value) : QString());
        }
        N[k + 7] = double(lastPkShape + 1) + 65536.0 * double(rows[0] + 1) + 4294967296.0 * double(rows[1] + 1);
    }

    // A row's shape: the last ones seen, by their names' and types' bytes.
    struct RecentCells
    {
        std::vector<QByteArray> names, types;
        int id = -1;
    };
    std::array<RecentCells, 4> recentCells;
    unsigned recentCellsNext = 0;

    int cellsShape(const std::vector<ChunkEncoder::ChangeCell> &row)
    {
        for (const RecentCells &r : recentCells) {
            if (r.id < 0 || r.names.size() != row.size())
                continue;
            bool same = true;
            for (size_t i = 0; i < row.size() && same; ++i)
                same = r.names[i] == row[i].name && r.types[i] == row[i].type;
            if (same)
                return r.id;
        }
        RecentCells r;
        QStringList names, types;
        for (const ChunkEncoder::ChangeCell &c : row) {
            r.names.push_back(c.name.toByteArray());
            r.types.push_back(c.type.toByteArray());
            names.append(QString::fromUtf8(c.name));
            types.append(QString::fromUtf8(c.type));
        }
        r.id = shapeId(names.size(), [&](qsizetype i) -> const QString & { return names[i]; },
                       [&](qsizetype i) -> const QString & { return types[i]; });
        const int id = r.id;
        recentCells[recentCellsNext++ % recentCells.size()] = std::move(r);
        return id;
    }
    ChunkEncoder::ChangeCells cells; // encode()'s from the last extension
    QByteArray ownExtension;        // an Event's change fields encoded here (see runRun())
    void clearCells()
    {
        cells.transactionId = cells.commitLsn = cells.commitTimeUs = -1;
        cells.oldRow.clear();
        cells.newRow.clear();
        cells.primaryKey.clear();
    }

    bool ensureRunner()
    {
        if (!runFn.isUndefined())
            return true;
        if (jsNames.isUndefined())
            jsNames = engine.newArray();
        if (jsShapes.isUndefined())
            jsShapes = engine.newArray();
        // The event literals get `json` and `keyJson` only when the script uses them.
        QString runner = QString::fromLatin1(BatchRunner);
        runner.replace(u"/*JSON*/"_s, QString(wantJson ? u"json: parse(value), "_s : QString())
                                          + (wantKeyJson ? u"keyJson: parse(key), "_s : QString()));
        // Compiled by the Function constructor: QJSEngine::evaluate() compiles
        // without property lookup caches, which makes every `o.name` a slow,
        // generic lookup.
        const QJSValue make = builtins.property(u"Function"_s).callAsConstructor({QJSValue(u"return "_s + runner + u";"_s)});
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

    // A finite number: an integer below 2^53 as a bigint, anything else as
    // a double (17 digits: it reads back as the same double).
    static void numberValue(double d, SinkValue *out)
    {
        if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
            out->text = QByteArray::number(qint64(d));
            out->type = u"bigint"_s;
        } else {
            out->text = QByteArray::number(d, 'g', 17);
            out->type = u"double precision"_s;
        }
    }

    // Value `at` of collect()'s flattened values (see its descriptors), as sqlValue() converts it.
    static void flatValue(const double *dv, qsizetype count, const QByteArray &bytes, qsizetype at, SinkValue *v)
    {
        const double d = at < count ? dv[2 * at] : -1;
        if (d >= 0) {
            v->text = QByteArray(bytes.constData() + qsizetype(dv[2 * at + 1]), qsizetype(d));
            v->type = u"text"_s;
        } else if (d == -2 || d == -3) {
            v->text = d == -2 ? QByteArrayLiteral("true") : QByteArrayLiteral("false");
            v->type = u"boolean"_s;
        } else if (d == -4) {
            numberValue(dv[2 * at + 1], v);
        } else {
            v->text = std::nullopt;
            v->type.clear();
        }
    }

    // A script's text as UTF-8, the same way on every path (a lone surrogate becomes U+FFFD).
    static QByteArray utf8(const QString &text)
    {
        QStringEncoder encoder(QStringEncoder::Utf8, QStringEncoder::Flag::Stateless);
        return encoder.encode(text);
    }

    bool sqlValue(const QJSValue &v, SinkValue *out, QString *why)
    {
        if (v.isNull() || v.isUndefined()) {
            out->text = std::nullopt;
        } else if (v.isBool()) {
            out->text = v.toBool() ? QByteArrayLiteral("true") : QByteArrayLiteral("false");
            out->type = u"boolean"_s;
        } else if (v.isNumber()) {
            const double d = v.toNumber();
            if (!std::isfinite(d)) {
                *why = u"a number that is not finite"_s;
                return false;
            }
            numberValue(d, out);
        } else if (v.isString()) {
            out->text = utf8(v.toString());
            out->type = u"text"_s;
        } else if (v.isDate()) {
            out->text = v.toDateTime().toUTC().toString(Qt::ISODateWithMs).toUtf8();
            out->type = u"timestamptz"_s;
        } else if (v.isObject() && !v.isCallable()) {
            out->text = utf8(jsonStringify.call({v}).toString());
            out->type = u"jsonb"_s;
        } else {
            *why = u"a value of an unsupported type"_s;
            return false;
        }
        return true;
    }

    // An object's own enumerable property names, in Object.keys() order (as
    // the script's fast path reads outputs, and JSON.stringify would).
    QStringList ownKeys(const QJSValue &object)
    {
        return engine.fromScriptValue<QStringList>(objectKeys.call({object}));
    }

    bool fields(const QJSValue &object, const char *what, QList<SinkField> *out, QString *why)
    {
        if (object.isUndefined() || object.isNull())
            return true;
        if (!object.isObject() || object.isArray()) {
            *why = u"\"%1\" must be an object of column: value"_s.arg(QLatin1StringView(what));
            return false;
        }
        const QStringList names = ownKeys(object);
        out->reserve(out->size() + names.size());
        for (const QString &name : names) {
            SinkField f;
            f.name = name;
            if (!sqlValue(object.property(name), &f.value, why)) {
                *why = u"\"%1.%2\" is %3"_s.arg(QLatin1StringView(what), f.name, *why);
                return false;
            }
            out->append(std::move(f));
        }
        return true;
    }

    std::optional<QByteArray> bytes(const QJSValue &v)
    {
        if (v.isNull() || v.isUndefined())
            return std::nullopt;
        if (v.isObject() && !v.isCallable())
            return utf8(jsonStringify.call({v}).toString());
        return utf8(v.toString());
    }

    // Reads what the runner's calls of one runMany() left in `io`.
    void collect(std::span<const qint64> seqs, std::span<Transform::Outcome *const> outcomes, Transform::Rows *rows)
    {
        const QJSValue shapesIn = io.property(u"newShapes"_s);
        const int shapeCount = shapesIn.property(u"length"_s).toInt();
        for (int j = 0; j + 2 < shapeCount; j += 3) {
            const int id = shapesIn.property(quint32(j)).toInt();
            if (size_t(id) >= outShapes.size())
                outShapes.resize(size_t(id) + 1);
            outShapes[size_t(id)] = OutShape{engine.fromScriptValue<QStringList>(shapesIn.property(quint32(j + 1))),
                                             engine.fromScriptValue<QStringList>(shapesIn.property(quint32(j + 2)))};
        }
        const qsizetype n = qsizetype(outcomes.size());
        const QVariantList errs = io.property(u"errs"_s).toVariant().toList();
        for (qsizetype j = 0; j + 2 < errs.size(); j += 3) {
            const qsizetype i = errs[j].toInt();
            if (i < 0 || i >= n)
                continue;
            Transform::Outcome &o = *outcomes[size_t(i)];
            o.result = Result::Error;
            o.errorLine = line(errs[j + 2].toInt());
            o.error = u"event #%1: transform threw %2"_s.arg(seqs[size_t(i)]).arg(errs[j + 1].toString());
            if (o.errorLine > 0)
                o.error += u" (%1:%2)"_s.arg(fileName).arg(o.errorLine);
        }
        const QByteArray outBytes = engine.fromScriptValue<QByteArray>(packFn.call());
        const QJSValue items = io.property(u"items"_s);
        std::vector<double> outNumbers(reinterpret_cast<const double *>(outBytes.constData()),
                                       reinterpret_cast<const double *>(outBytes.constData()) + outBytes.size() / qsizetype(sizeof(double)));
        double *out = outNumbers.data();
        const qsizetype outCount = qsizetype(outNumbers.size());
        // The values: per value two numbers (a string's UTF-8 length and where
        // it starts in build.bytes; -1 null or undefined, -2 true, -3 false,
        // -4 and the number, -5 anything else).
        const QVariantList values = io.property(u"vals"_s).toVariant().toList();
        std::vector<double> descriptors(size_t(2 * values.size()));
        // The strings' UTF-8, one after the other (numbers' text goes after them, see addRow()).
        qsizetype bound = 0;
        for (const QVariant &v : values) {
            if (v.typeId() == QMetaType::QString)
                bound += 3 * static_cast<const QString *>(v.constData())->size();
        }
        RowsBuild build;
        build.bytes.resize(bound);
        char *const utf8 = build.bytes.data();
        char *w = utf8;
        QStringEncoder encoder(QStringEncoder::Utf8, QStringEncoder::Flag::Stateless);
        for (qsizetype j = 0; j < values.size(); ++j) {
            const QVariant &v = values[j];
            double *d = descriptors.data() + 2 * j;
            switch (v.typeId()) {
            case QMetaType::QString: {
                const QString &text = *static_cast<const QString *>(v.constData());
                if (text.size() == notPlain().size() && (text.constData() == notPlain().constData() || text == notPlain())) {
                    d[0] = -5;
                    break;
                }
                char *const start = w;
                w = encoder.appendToBuffer(w, text);
                d[0] = double(w - start);
                d[1] = double(start - utf8);
                break;
            }
            case QMetaType::Bool:
                d[0] = v.toBool() ? -2 : -3;
                break;
            case QMetaType::Int:
            case QMetaType::UInt:
            case QMetaType::LongLong:
            case QMetaType::ULongLong:
            case QMetaType::Double:
                d[0] = -4;
                d[1] = v.toDouble();
                break;
            case QMetaType::UnknownType: // undefined
            case QMetaType::Nullptr:
                d[0] = -1;
                break;
            default:
                d[0] = -5; // not plain: the output goes by output()
            }
            if (d[0] == -4 && !std::isfinite(d[1]))
                d[0] = -5;
        }
        build.bytes.resize(w - utf8);
        const double *dv = descriptors.data();
        const qsizetype valueCount = values.size();
        // An output with a value that is not plain goes by output() (code 3),
        // as one the script did not flatten. With rows, an event with such an
        // output keeps all its outputs as SinkOutputs, in their order.
        std::vector<char> mixed(rows ? size_t(n) : 0, 0);
        for (qsizetype j = 0; j + 4 < outCount; j += 5) {
            const int id = int(out[j + 2]);
            const qsizetype at = qsizetype(out[j + 3]);
            if (int(out[j + 1]) != 3) {
                const qsizetype end = id >= 0 && size_t(id) < outShapes.size()
                                          ? at + 1 + outShapes[size_t(id)].key.size() + outShapes[size_t(id)].row.size()
                                          : valueCount + 1;
                bool plain = end <= valueCount;
                for (qsizetype v = at; v < end && plain; ++v)
                    plain = dv[2 * v] != -5;
                if (!plain)
                    out[j + 1] = 3;
            }
            const qsizetype i = qsizetype(out[j]);
            if (rows && i >= 0 && i < n && int(out[j + 1]) == 3)
                mixed[size_t(i)] = 1;
        }
        if (rows)
            build.begin(rows);
        // Value `at`, as sqlValue() converts it.
        auto value = [&](qsizetype at, SinkValue *v) { flatValue(dv, valueCount, build.bytes, at, v); };
        QString table; // shared between the outputs that name the same table
        QByteArray tableUtf8;
        for (qsizetype j = 0; j + 4 < outCount; j += 5) {
            const qsizetype i = qsizetype(out[j]);
            const int code = int(out[j + 1]);
            const int id = int(out[j + 2]);
            qsizetype at = qsizetype(out[j + 3]);
            if (i < 0 || i >= n)
                continue;
            Transform::Outcome &o = *outcomes[size_t(i)];
            if (o.result != Result::Ok)
                continue; // a timeout or an invalid output: none of the event's outputs count
            if (rows && code != 3 && !mixed[size_t(i)]) {
                if (o.rowCount == 0)
                    o.firstRow = qint32(rows->outputs.size());
                ++o.rowCount;
                addRow(build, id, code == 0 ? SqlOp::Upsert : code == 1 ? SqlOp::Insert : SqlOp::Delete, at,
                       dv, valueCount);
                continue;
            }
            SinkOutput so;
            const qint64 seq = seqs[size_t(i)];
            if (code == 3) {
                if (!output(items.property(quint32(out[j + 4])), seq, &so, &o.error)) {
                    o.result = Result::Error;
                    o.outputs.clear();
                    continue;
                }
            } else {
                const OutShape &shape = outShapes.at(size_t(id));
                so.seq = seq;
                const QByteArrayView name = at < valueCount && dv[2 * at] >= 0
                                                ? QByteArrayView(build.bytes.constData() + qsizetype(dv[2 * at + 1]), qsizetype(dv[2 * at]))
                                                : QByteArrayView();
                ++at;
                if (tableUtf8 != name) {
                    tableUtf8 = name.toByteArray();
                    table = QString::fromUtf8(name);
                }
                so.table = table;
                so.op = code == 0 ? SqlOp::Upsert : code == 1 ? SqlOp::Insert : SqlOp::Delete;
                so.key.resize(shape.key.size());
                for (qsizetype c = 0; c < shape.key.size(); ++c) {
                    so.key[c].name = shape.key[c];
                    value(at++, &so.key[c].value);
                }
                so.row.resize(shape.row.size());
                for (qsizetype c = 0; c < shape.row.size(); ++c) {
                    so.row[c].name = shape.row[c];
                    value(at++, &so.row[c].value);
                }
                keyIntoRow(&so);
            }
            o.outputs.append(std::move(so));
        }
        if (rows)
            build.end();
    }

    // Per table and output shape id and op (index id * 2 + upsert): its shape
    // in the current Rows and where each cell's value is (from the output's
    // first value, its table); -1 none yet.
    struct RowsShape
    {
        int shape = -1;
        std::vector<int> sources; // per cell: value offset
    };
    std::vector<std::vector<RowsShape>> rowsShapes; // per table of the current Rows
    std::vector<QByteArray> tablesUtf8; // the current Rows' tables, UTF-8

    // One collect()'s rows: cells first get offsets into `bytes` (or point
    // at static text), made pointers by end() once `bytes` is final.
    struct RowsBuild
    {
        Transform::Rows *rows = nullptr;
        QByteArray bytes; // the strings' UTF-8 (collect()), then numbers' text
        size_t firstCell = 0;
        std::vector<qsizetype> offsets; // per cell since firstCell; -1: data already set (or NULL)

        void begin(Transform::Rows *r)
        {
            rows = r;
            firstCell = rows->cells.size();
            offsets.clear();
        }
        void end()
        {
            auto owner = std::make_shared<const QByteArray>(std::move(bytes));
            const char *base = owner->constData();
            for (size_t k = 0; k < offsets.size(); ++k) {
                if (offsets[k] >= 0)
                    rows->cells[firstCell + k].data = base + offsets[k];
            }
            rows->owners.push_back(std::move(owner));
        }
    };

    // Appends the plain output whose values start at `at` (its table) to build.rows.
    void addRow(RowsBuild &build, int id, SqlOp op, qsizetype at, const double *dv, qsizetype valueCount)
    {
        const OutShape &shape = outShapes.at(size_t(id));
        Transform::Rows &rows = *build.rows;
        const qsizetype keys = shape.key.size();
        auto kind = [&](qsizetype v) { return v < valueCount ? dv[2 * v] : -1.0; };
        // The table.
        const QByteArrayView name = kind(at) >= 0 ? QByteArrayView(build.bytes.constData() + qsizetype(dv[2 * at + 1]), qsizetype(dv[2 * at]))
                                                  : QByteArrayView();
        qsizetype t = tablesUtf8.empty() ? -1 : qsizetype(tablesUtf8.size()) - 1;
        if (t < 0 || tablesUtf8[size_t(t)] != name) {
            t = std::find(tablesUtf8.begin(), tablesUtf8.end(), name) - tablesUtf8.begin();
            if (t == qsizetype(tablesUtf8.size())) {
                tablesUtf8.push_back(name.toByteArray());
                rows.tables.append(QString::fromUtf8(name));
            }
        }
        // The shape.
        // (Per table: a table's types come from its own first output.)
        if (rowsShapes.size() <= size_t(t))
            rowsShapes.resize(size_t(t) + 1);
        std::vector<RowsShape> &ofTable = rowsShapes[size_t(t)];
        const size_t slot = size_t(id) * 2 + (op == SqlOp::Upsert ? 1 : 0);
        if (ofTable.size() <= slot)
            ofTable.resize(slot + 1);
        RowsShape &rs = ofTable[slot];
        if (rs.shape < 0) {
            Transform::Rows::Shape sh;
            rs.sources.clear();
            auto typeOf = [&](qsizetype v) {
                SinkValue value;
                flatValue(dv, valueCount, build.bytes, v, &value);
                return value.type.toUtf8();
            };
            auto column = [&](const QString &n, qsizetype source) {
                sh.names.push_back(n.toUtf8());
                sh.types.push_back(typeOf(at + source));
                rs.sources.push_back(int(source));
            };
            // As keyIntoRow(): key columns the row lacks, each put first.
            if (op == SqlOp::Upsert) {
                for (qsizetype k = keys - 1; k >= 0; --k) {
                    bool inRow = false;
                    for (qsizetype c = 0; c < shape.row.size() && !inRow; ++c)
                        inRow = shape.row[c] == shape.key[k];
                    if (!inRow)
                        column(shape.key[k], 1 + k); // (names of an object's keys are distinct)
                }
            }
            for (qsizetype c = 0; c < shape.row.size(); ++c)
                column(shape.row[c], 1 + keys + c);
            sh.columns = int(sh.names.size());
            for (qsizetype k = 0; k < keys; ++k)
                column(shape.key[k], 1 + k);
            sh.keys = int(keys);
            for (size_t c = 0; c < sh.names.size(); ++c) {
                sh.nameViews.push_back(sh.names[c]);
                sh.typeViews.push_back(sh.types[c]);
            }
            rs.shape = int(rows.shapes.size());
            rows.shapes.push_back(std::move(sh));
        }
        rows.outputs.push_back(Transform::Rows::Output{quint32(rows.cells.size()), quint32(rows.owners.size()), quint32(t),
                                                       quint32(rs.shape), op});
        for (const int source : rs.sources) {
            const qsizetype v = at + source;
            const double d = kind(v);
            SqlCell cell;
            qsizetype offset = -1;
            if (d >= 0) {
                offset = qsizetype(dv[2 * v + 1]);
                cell.size = qint32(d);
            } else if (d == -2 || d == -3) {
                static const char yes[] = "true", no[] = "false";
                cell.data = d == -2 ? yes : no;
                cell.size = d == -2 ? 4 : 5;
            } else if (d == -4) {
                SinkValue number;
                numberValue(dv[2 * v + 1], &number);
                offset = build.bytes.size();
                build.bytes += *number.text;
                cell.size = qint32(number.text->size());
            }
            rows.cells.push_back(cell);
            build.offsets.push_back(offset);
        }
    }

    // An upsert writes the key columns too, whether or not the row repeats them.
    static void keyIntoRow(SinkOutput *out)
    {
        if (out->op != SqlOp::Upsert)
            return;
        for (const SinkField &k : std::as_const(out->key)) {
            const bool inRow = std::any_of(out->row.cbegin(), out->row.cend(), [&](const SinkField &f) { return f.name == k.name; });
            if (!inRow)
                out->row.prepend(k);
        }
    }

    bool output(const QJSValue &v, qint64 seq, SinkOutput *out, QString *error)
    {
        QString why;
        if (!v.isObject() || v.isArray() || v.isCallable()) {
            *error = outputError(seq, u"expected an object with \"table\" (SQL) or \"topic\" (Kafka), got %1"_s
                                          .arg(v.isArray() ? u"a nested array"_s : v.toString()));
            return false;
        }
        out->seq = seq;
        const QJSValue table = v.property(u"table"_s);
        const QJSValue topic = v.property(u"topic"_s);
        if (!table.isUndefined()) {
            if (!table.isString() || table.toString().isEmpty()) {
                *error = outputError(seq, u"\"table\" must be a non-empty string"_s);
                return false;
            }
            out->kind = SinkOutput::Kind::Sql;
            out->table = table.toString();
            const QJSValue op = v.property(u"op"_s);
            const QString opName = op.isUndefined() ? u"upsert"_s : op.toString();
            if (opName == u"upsert")
                out->op = SqlOp::Upsert;
            else if (opName == u"insert")
                out->op = SqlOp::Insert;
            else if (opName == u"delete")
                out->op = SqlOp::Delete;
            else {
                *error = outputError(seq, u"\"op\" must be \"upsert\", \"insert\" or \"delete\", not \"%1\""_s.arg(opName));
                return false;
            }
            if (!fields(v.property(u"key"_s), "key", &out->key, &why) || !fields(v.property(u"row"_s), "row", &out->row, &why)) {
                *error = outputError(seq, why);
                return false;
            }
            if (out->op != SqlOp::Insert && out->key.isEmpty()) {
                *error = outputError(seq, u"\"%1\" needs a non-empty \"key\""_s.arg(opName));
                return false;
            }
            if (out->op != SqlOp::Delete && out->row.isEmpty() && out->key.isEmpty()) {
                *error = outputError(seq, u"\"%1\" needs a non-empty \"row\""_s.arg(opName));
                return false;
            }
            keyIntoRow(out);
            return true;
        }
        if (!topic.isUndefined()) {
            if (!topic.isString() || topic.toString().isEmpty()) {
                *error = outputError(seq, u"\"topic\" must be a non-empty string"_s);
                return false;
            }
            out->kind = SinkOutput::Kind::Kafka;
            out->topic = topic.toString();
            const QJSValue partition = v.property(u"partition"_s);
            if (!partition.isUndefined() && !partition.isNull()) {
                if (!partition.isNumber() || partition.toNumber() != std::floor(partition.toNumber()) || partition.toNumber() < 0) {
                    *error = outputError(seq, u"\"partition\" must be a non-negative integer"_s);
                    return false;
                }
                out->partition = partition.toInt();
            }
            out->kafkaKey = bytes(v.property(u"key"_s));
            out->kafkaValue = bytes(v.property(u"value"_s));
            const QJSValue headers = v.property(u"headers"_s);
            if (headers.isObject()) {
                for (const QString &name : ownKeys(headers))
                    out->headers.append(Header{name.toUtf8(), bytes(headers.property(name))});
            }
            return true;
        }
        *error = outputError(seq, u"expected an object with \"table\" (SQL) or \"topic\" (Kafka)"_s);
        return false;
    }
};

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
    d->engine.globalObject().setProperty(
        u"console"_s, d->engine.evaluate(QString::fromLatin1(ConsolePrelude)).call({d->engine.newQObject(&d->console), d->cur}));
    // The script runs as the body of a function made by the Function
    // constructor: QJSEngine::evaluate() compiles without property lookup
    // caches, and every `event.name` in a transform would be a slow generic
    // lookup (twice the time per event). Its line L is the function's line
    // L + 1 ("function anonymous(\n){" comes first). The constructor reports
    // a syntax error without its line: evaluate() then gives the message
    // (and, should it accept what the constructor did not, the transform).
    QJSValue global = d->engine.globalObject();
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
    QJSValue result = body.isError() ? body : body.call();
    if (body.isError()) {
        d->lineOffset = 0;
        result = d->engine.evaluate(source, fileName);
        if (!result.isError())
            result = d->engine.evaluate(u"[typeof transform === 'function' ? transform : undefined]"_s);
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
    d->wantJson = source.contains(u"json"_s, Qt::CaseInsensitive);
    d->wantKeyJson = source.contains(u"keyJson"_s);
    d->runFn = QJSValue();
    if (!d->ensureRunner()) {
        *error = u"%1: the transform runner failed to start: %2"_s.arg(fileName, d->io.toString());
        return false;
    }
    return true;
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

void Transform::Rows::clear()
{
    outputs.clear();
    cells.clear();
    owners.clear();
    tables.clear();
    shapes.clear();
}

SinkOutput Transform::Rows::output(size_t k, qint64 seq) const
{
    const Output &o = outputs.at(k);
    const Shape &sh = shapes.at(o.shape);
    SinkOutput out;
    out.seq = seq;
    out.table = tables.at(o.table);
    out.op = o.op;
    const SqlCell *c = cells.data() + o.firstCell;
    for (int i = 0; i < sh.columns + sh.keys; ++i) {
        SinkField f{QString::fromUtf8(sh.names[size_t(i)]), SinkValue{c[i].toByteArray(), QString::fromUtf8(sh.types[size_t(i)])}};
        (i < sh.columns ? out.row : out.key).append(std::move(f));
    }
    return out;
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
    }
}

void Transform::runRun(std::span<const Event *const> events, std::span<const qint64> seqs, std::span<Outcome *const> outcomes,
                       Rows *rows, std::span<const QByteArrayView> extensions)
{
    const qsizetype n = qsizetype(events.size());
    for (Outcome *o : outcomes)
        *o = Outcome{};
    auto cancelAll = [&] {
        for (qsizetype i = 0; i < n; ++i) {
            outcomes[size_t(i)]->result = Result::Cancelled;
            outcomes[size_t(i)]->outputs.clear();
            outcomes[size_t(i)]->rowCount = 0;
            outcomes[size_t(i)]->error = u"cancelled"_s;
        }
    };
    if (d->guard.cancelled())
        return cancelAll();
    d->trimTables();
    if (!d->ensureRunner()) {
        for (qsizetype i = 0; i < n; ++i) {
            outcomes[size_t(i)]->result = Result::Error;
            outcomes[size_t(i)]->error = u"event #%1: the transform runner failed: %2"_s.arg(seqs[size_t(i)]).arg(d->io.toString());
        }
        return;
    }
    d->S.clear();
    d->N.clear();
    d->encoded.clear();
    d->lastTs = d->lastTx = d->lastLsn = Private::Last{};
    d->sStart.clear();
    d->kStart.clear();
    // A change event's fields are read in place from its stored bytes; an
    // Event without them (the editor's, a test's) is encoded as a tape would
    // store it, and so is one stored in an encoding the in-place reader does
    // not take.
    for (qsizetype i = 0; i < n; ++i) {
        const Event &e = *events[size_t(i)];
        const QByteArrayView stored = size_t(i) < extensions.size() ? extensions[size_t(i)] : QByteArrayView();
        if (e.isChange() && (stored.isEmpty() || !ChunkEncoder::changeCells(stored, &d->cells))) {
            Event decoded;
            if (!stored.isEmpty()) {
                decoded = e;
                ChunkEncoder::decodeExtension(stored, &decoded);
            }
            d->ownExtension = ChunkEncoder::encodeExtension(stored.isEmpty() ? e : decoded);
            if (!ChunkEncoder::changeCells(d->ownExtension, &d->cells)) // none (nothing stored), or not readable
                d->clearCells();
        }
        d->encode(e, seqs[size_t(i)], d->cells);
    }
    d->sStart.push_back(d->S.size());
    d->kStart.push_back(qsizetype(d->N.size()));
    const QJSValue jsS = d->engine.toScriptValue(d->S);
    const QJSValue jsN = d->engine.toScriptValue(QByteArray(reinterpret_cast<const char *>(d->N.data()), qsizetype(d->N.size() * sizeof(double))));
    d->resetFn.call();
    // Calls return between events after a quarter of the limit, and the
    // watchdog allows 1.25x: an interrupted event ran longer than the limit.
    const int budget = std::max(1, m_timeoutMs / 4);
    const int limit = int(std::min<qint64>(std::numeric_limits<int>::max(), qint64(m_timeoutMs) + budget));
    const QJSValue jsBudget(budget);
    // The next call starts at event i (its strings and numbers from where encode() put them).
    auto resumeAt = [&](qsizetype i) {
        d->io.setProperty(u"i"_s, int(i));
        d->io.setProperty(u"s"_s, double(d->sStart[size_t(i)]));
        d->io.setProperty(u"k"_s, double(d->kStart[size_t(i)]));
        d->io.setProperty(u"running"_s, -1);
        d->cur.setProperty(u"seq"_s, -1);
        d->setLast(size_t(i));
    };
    for (qsizetype done = 0; done < n;) {
        d->guard.begin(limit);
        const QJSValue r = d->runFn.call({QJSValue(int(n)), jsS, jsN, jsBudget});
        const bool fired = d->guard.end();
        if (d->guard.cancelled())
            return cancelAll(); // the engine stays interrupted: nothing more is read from it
        if (r.isNumber()) {
            done = r.toInt(); // the call ran to its end (a late watchdog does not count)
            continue;
        }
        // Interrupted (or the runner itself failed) inside event `at`,
        // unless that event had just finished: it is reported, and the run
        // goes on after it. Between events (`running` is -1) it goes on
        // where the loop stopped.
        const qsizetype at = d->io.property(u"running"_s).toInt();
        if (at < 0) {
            done = d->io.property(u"i"_s).toInt();
            if (done < n)
                resumeAt(done);
            continue;
        }
        if (d->io.property(u"finished"_s).toInt() < at) {
            Outcome &o = *outcomes[size_t(at)];
            if (fired) {
                o.result = Result::Timeout;
                o.error = u"event #%1: transform took longer than %2 ms and was interrupted"_s.arg(seqs[size_t(at)]).arg(m_timeoutMs);
            } else {
                o.result = Result::Error;
                o.error = u"event #%1: transform threw %2"_s.arg(seqs[size_t(at)]).arg(r.toString());
            }
        }
        done = at + 1;
        resumeAt(done); // sStart/kStart have an entry for the end too
    }
    d->collect(seqs, outcomes, rows);
    if (d->guard.cancelled())
        cancelAll(); // cancelled while the outputs were read: they may be incomplete
}

namespace {

// The primary-key columns the old row holds (the last of a name, as for the
// key itself), in key order; a column the old row lacks is left out.
Row oldKeyColumns(const Event &event)
{
    Row key;
    for (const QString &name : event.primaryKey) {
        const Column *found = nullptr;
        for (const Column &c : event.oldRow) {
            if (c.name == name && !c.unchangedToast)
                found = &c;
        }
        if (found)
            key.append(*found);
    }
    return key;
}

} // namespace

bool identityOutputs(const Event &event, qint64 seq, const QString &kafkaTopic, QList<SinkOutput> *outputs, QString *error)
{
    if (!event.isChange()) {
        if (kafkaTopic.isEmpty()) {
            *error = u"event #%1 is a Kafka record: replaying records into SQL needs --transform"_s.arg(seq);
            return false;
        }
        SinkOutput out;
        out.kind = SinkOutput::Kind::Kafka;
        out.seq = seq;
        out.topic = kafkaTopic;
        out.kafkaKey = event.key;
        out.kafkaValue = event.value;
        out.headers = event.headers;
        outputs->append(std::move(out));
        return true;
    }
    switch (event.operation) {
    case Operation::Insert:
    case Operation::Update:
    case Operation::Read:
    case Operation::Delete:
        break;
    default:
        return true; // Begin, Commit, Message, Truncate: nothing to write (replay.md)
    }
    if (!kafkaTopic.isEmpty()) {
        // Into Kafka a change event becomes key = PK JSON, value = new row JSON
        // (null: delete). An update that changed the primary key first writes
        // a tombstone for the old key, as a delete of it would.
        if (event.operation == Operation::Update && !event.primaryKey.isEmpty() && event.key) {
            const Row oldKey = oldKeyColumns(event);
            if (oldKey.size() == event.primaryKey.size()) {
                const QByteArray oldJson = changeRowJson(oldKey);
                if (oldJson != *event.key) {
                    SinkOutput gone;
                    gone.kind = SinkOutput::Kind::Kafka;
                    gone.seq = seq;
                    gone.topic = kafkaTopic;
                    gone.kafkaKey = oldJson;
                    outputs->append(std::move(gone));
                }
            }
        }
        SinkOutput out;
        out.kind = SinkOutput::Kind::Kafka;
        out.seq = seq;
        out.topic = kafkaTopic;
        out.kafkaKey = event.key;
        out.kafkaValue = event.value;
        outputs->append(std::move(out));
        return true;
    }
    SinkOutput out;
    out.seq = seq;
    out.table = event.topic;
    out.key.reserve(event.primaryKey.size());
    out.row.reserve(event.newRow.size());
    auto field = [](const Column &c) { return SinkField{c.name, SinkValue{c.value, c.type}}; };
    const bool isDelete = event.operation == Operation::Delete;
    for (const QString &name : event.primaryKey) {
        const Column *found = nullptr;
        if (!isDelete) {
            for (const Column &c : event.newRow) {
                if (c.name == name && !c.unchangedToast)
                    found = &c;
            }
        }
        if (!found) {
            for (const Column &c : event.oldRow) {
                if (c.name == name && !c.unchangedToast)
                    found = &c;
            }
        }
        if (!found) {
            *error = u"event #%1: %2 %3 lacks key column \"%4\""_s.arg(seq).arg(toString(event.operation), event.topic, name);
            return false;
        }
        out.key.append(field(*found));
    }
    if (isDelete) {
        if (out.key.isEmpty()) {
            *error = u"event #%1: delete from %2, a table without primary key or replica identity, cannot be replayed"_s
                         .arg(seq).arg(event.topic);
            return false;
        }
        out.op = SqlOp::Delete;
    } else {
        out.op = out.key.isEmpty() ? SqlOp::Insert : SqlOp::Upsert;
        if (event.operation == Operation::Update && out.key.isEmpty()) {
            *error = u"event #%1: update of %2, a table without primary key or replica identity, cannot be replayed"_s
                         .arg(seq).arg(event.topic);
            return false;
        }
        for (const Column &c : event.newRow) {
            if (!c.unchangedToast)
                out.row.append(field(c));
        }
        // A primary-key change: the row left its old key.
        if (event.operation == Operation::Update && !out.key.isEmpty()) {
            SinkOutput gone;
            gone.seq = seq;
            gone.table = event.topic;
            gone.op = SqlOp::Delete;
            for (const Column &c : oldKeyColumns(event))
                gone.key.append(field(c));
            if (gone.key.size() == out.key.size() && gone.key != out.key)
                outputs->append(std::move(gone));
        }
    }
    outputs->append(std::move(out));
    return true;
}

} // namespace tapedeck
