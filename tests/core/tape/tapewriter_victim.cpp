// Test helper: writes testing::kafkaEvent(i) for i = 0, 1, ... and flushes
// every N events, printing "flushed <count>" after each completed flush. The
// test kills it with SIGKILL at a random moment and checks the tape.
#include "core/tape/tapewriter.h"
#include "tests/common/testevents.h"

#include <cstdio>
#include <cstdlib>

using namespace tapedeck;

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const qint64 every = std::atoll(argv[2]);
    TapeWriter writer;
    TapeMetadata meta;
    meta.source = QStringLiteral("victim");
    TapeWriter::Options options;
    options.maxChunkEvents = 1000;
    if (!writer.create(QString::fromLocal8Bit(argv[1]), meta, options))
        return 1;
    for (qint64 i = 0;; ++i) {
        if (!writer.append(testing::kafkaEvent(i)))
            return 1;
        if ((i + 1) % every == 0) {
            if (!writer.flush())
                return 1;
            std::printf("flushed %lld\n", static_cast<long long>(i + 1));
            std::fflush(stdout);
        }
    }
}
