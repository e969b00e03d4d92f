#pragma once

#include <QString>

namespace tapedeck {

// The demo's dual-write story (core/demo/demotape.h): the checkout service writes
// every order to PostgreSQL (the log: the tape's public.orders change events)
// and to a local SQLite copy (demo-orders.sqlite, table "orders"), and the
// second write sometimes fails. This writes that SQLite file from the demo
// tape's state at its end, with exactly these injected faults:
//   1008  lost insert           the row is missing
//   1005  stale update          status "paid", the "shipped" update never arrived
//   1006  should have been deleted  still there, though the log deleted it
//   1002  garbled value         customer "gr\uFFFDce" (a broken encoding)
// `tape diff demo.tape --against sqlite:demo-orders.sqlite --table orders`
// names exactly these keys, and its repair makes the two equal.
// Deterministic; overwrites `sqlitePath`. false + *error on failure.
bool writeDemoOrdersSqlite(const QString &demoTapePath, const QString &sqlitePath, QString *error);

} // namespace tapedeck
