#pragma once

#include "core/compaction/compactionreport.h"
#include "core/event/eventselection.h"

#include <QBitArray>
#include <QList>
#include <QPair>

#include <functional>
#include <memory>

namespace tapedeck {

class Tape;

// One request of the compaction panel: what to compute, as plain values.
// `logs` carries the logs an earlier run built for the same tape and
// selection (reading the tape is the slow part; a what-if only recomputes).
struct CompactionJobInput
{
    std::shared_ptr<const Tape> tape;
    EventSelection selection;
    std::shared_ptr<const CompactionPreview> logs; // nullptr: build from the tape
    QList<QPair<QString, QString>> overrides;      // what-if, Kafka names
    qint64 nowMs = -1;                             // < 0: the latest record timestamp
    QList<qint64> passTimes;                       // step through passes; empty: one pass at nowMs
};

// The answer: an immutable value handed to the GUI thread.
struct CompactionJobResult
{
    bool ok = false;
    QString error;
    std::shared_ptr<const CompactionPreview> preview;
    // By tape sequence number: set for the events the next pass(es) / the
    // converged log remove (the timeline's dimming).
    QBitArray removedNext, removedFull;
};

// Runs in a worker thread (JobTracker); polls `cancelled` between partitions.
CompactionJobResult runCompactionJob(const CompactionJobInput &input, const std::function<bool()> &cancelled);

} // namespace tapedeck
