#pragma once

#include "core/tape/tapemetadata.h"
#include "core/tape/tapewriter.h"

#include <atomic>
#include <functional>

namespace tapedeck {

// A source that records into a tape: a Kafka recorder, a Postgres slot
// reader. The GUI runs one in a worker thread through this interface only,
// so ui/ never links a client library (STYLE.md, practice 1).
class RecordingSource
{
public:
    virtual ~RecordingSource() = default;

    // Resolves what to read (partitions, offsets, slots). Blocking.
    virtual bool prepare(QString *error) = 0;
    // Source kind, description and parameters for the tape (after prepare()).
    virtual TapeMetadata metadata() const = 0;
    virtual QStringList warnings() const = 0;

    struct Progress
    {
        qint64 events = 0;
        qint64 bytes = 0;
        int partitionsDone = 0;
        int partitions = 0;
    };
    using ProgressFn = std::function<void(const Progress &)>;
    // Appends events to `writer` (flushing regularly, so a reader can follow
    // the tape) until done or *cancel; false + *error on failure, with what
    // was recorded up to then kept in the tape.
    virtual bool record(TapeWriter &writer, const std::atomic<bool> *cancel, const ProgressFn &progress,
                        QString *error) = 0;
};

} // namespace tapedeck
