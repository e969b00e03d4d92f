#pragma once

#include <QtGlobal>

class QJSEngine;

namespace tapedeck {

// The bytes one engine's JavaScript heap holds: the memory manager's chunks
// for objects and property tables, its huge items (large arrays), and the
// text its strings hold outside them. Qt 6.4 has no public API for it: this
// reads QV4's memory manager (a private Qt API, qt6-declarative-private-dev;
// the package pins the exact Qt version it was built against).
//
// Not counted: ArrayBuffer and typed-array contents (malloc'd by the engine
// without telling its memory manager).
//
// Thread: called by the watchdog while the engine runs on its own thread.
// It reads counters the engine writes without a lock, so a value can be
// off while a list grows: the watchdog acts only on two readings in a row.
qint64 jsHeapBytes(QJSEngine *engine);

} // namespace tapedeck
