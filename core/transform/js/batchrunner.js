// The loop over a run of events (Transform::runMany()), loaded once from
// the resources and compiled per engine by the Function constructor as
// `return (` this file `)`: one expression, a function of the transform, its
// ctx, the console's `cur`, the name and shape tables and the built-ins.
// The batch protocol it shares with core/transform/transformencode.cpp
// (events in) and transformoutputs.cpp (outputs back) is
// core/transform/transform.md; the JSON marker comment in the event literals
// becomes the json and keyJson properties when the script uses them.
(function (transform, ctx, cur, names, shapes, B) {
  var io = {i: 0, running: -1, finished: -1, stopAtError: false, stopped: false, s: 0, k: 0, out: [], vals: [], items: [], errs: [], newShapes: []};
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
      var o, op = names_[N[k + 6] | 0];
      if (change) {
        var sh = N[k + 7], os = floor(sh / 65536) % 65536 - 1, ns = floor(sh / 4294967296) - 1, p = pairOf(sh, (sh % 65536 - 1) | 0, os, ns), d, m, was = null, nw = null;
        if (os >= 0) { d = shapes_[os][0]; m = meta & 8 ? S[s++] : null; was = newRow(os, S, s, m); s += d.length; }
        if (ns >= 0) { d = shapes_[ns][0]; m = meta & 16 ? S[s++] : null; nw = newRow(ns, S, s, m); s += d.length; }
        o = {kind: names_[N[k + 5] | 0], topic: topic, partition: N[k + 1], position: pos, offset: pos, timestamp: N[k + 2],
             timestampUs: tsUs, key: key, value: value, /*JSON*/headers: h, op: op, size: N[k + 8], tombstone: false,
             table: topic, txid: txid, commitLsn: lsn, primaryKey: p.pk.slice(), old: was, new: nw, types: p.types()};
        k += 12;
      } else {
        o = {kind: names_[N[k + 5] | 0], topic: topic, partition: N[k + 1], position: pos, offset: pos, timestamp: N[k + 2],
             timestampUs: tsUs, key: key, value: value, /*JSON*/headers: h, op: op, size: N[k + 8],
             tombstone: value === null && op === 'record'};
        k += 10;
      }
      var r;
      try { r = transform(o, ctx); }
      catch (x) {
        var what; try { what = String(x); } catch (y) { what = 'an exception'; }
        io_.errs.push(i, what, x !== null && typeof x === 'object' && typeof x.lineNumber === 'number' ? x.lineNumber : 0);
        io_.finished = i;
        if (io_.stopAtError) { io_.stopped = true; ++i; break; } // a replay that stops at the first error runs no more
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
  io.reset = function () { lastTs = lastTx = lastLsn = NaN; io.stopped = false; io.i = 0; io.running = -1; io.finished = -1; io.s = 0; io.k = 0; io.out = []; io.vals = []; io.items = []; io.errs = []; io.newShapes = []; };
  return io;
})
