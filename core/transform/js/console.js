// The global `console` of a transform (Transform::compile()), loaded once
// from the resources: a function of `host` (a JsConsole) and `cur` (the
// event being transformed) that returns the console object. Its functions
// reach the host only through this closure, never through a global name.
// Arguments are joined with spaces, non-strings as JSON (as browsers print them).
(function (host, cur) {
  function text(a) {
    if (typeof a === 'string') return a;
    if (a === undefined || typeof a === 'function' || typeof a === 'bigint' || typeof a === 'symbol' || a instanceof Error) return String(a);
    try { const s = JSON.stringify(a); return s === undefined ? String(a) : s; } catch (e) { return String(a); }
  }
  function line(level) { return function () { host.write(level, Array.prototype.map.call(arguments, text).join(' '), cur.seq); }; }
  return { log: line(0), info: line(0), debug: line(0), warn: line(1), error: line(2) };
})
