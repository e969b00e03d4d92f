#pragma once

#include "core/replay/replaytarget.h"
#include "core/diff/tablediff.h"

namespace tapedeck {

// The SinkFactory that app/tapedeck hands to the GUI: SqliteSink, PgSink or
// KafkaSink for a ReplayTarget. Thread-safe (it only constructs).
std::unique_ptr<Sink> createSink(const ReplayTarget &target, QString *error);
// The TableReaderFactory for the diff: SqliteTableReader or PgTableReader.
std::unique_ptr<TableReader> createTableReader(const ReplayTarget &target, QString *error);

} // namespace tapedeck
