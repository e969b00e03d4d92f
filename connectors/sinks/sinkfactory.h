#pragma once

#include <replaytarget.h>

namespace tapedeck {

// The SinkFactory that app/tapedeck hands to the GUI: SqliteSink, PgSink or
// KafkaSink for a ReplayTarget. Thread-safe (it only constructs).
std::unique_ptr<Sink> createSink(const ReplayTarget &target, QString *error);

} // namespace tapedeck
