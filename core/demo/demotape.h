#pragma once

#include <QString>

namespace tapedeck {

// Writes the bundled demo tape: a small shop story told twice, once as Kafka
// records (orders and payments topics: keyed updates, headers, tombstones, a
// transaction) and once as Postgres change events (public.orders), with one
// visible inconsistency: order 1004 is cancelled in the database but the
// "orders" topic still says it is paid, because a dual write failed half-way.
// The dual-write story (#8): the same service also writes every order to a
// local SQLite copy that lost and garbled some writes; `tape make-demo
// --sqlite` writes it from this tape (connectors/sqlite/demoorders.h), and
// the diff of public.orders against it finds exactly those keys.
// Deterministic: the same bytes every time.
bool writeDemoTape(const QString &path, QString *error);

} // namespace tapedeck
