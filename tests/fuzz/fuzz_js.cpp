// libFuzzer target for the JavaScript front door: the filter bar's syntax
// check (run as the user types, on the GUI thread), the filter's compile and
// one evaluation, and a transform's compile and one run, all with short
// watchdog limits. The first byte picks the path, the rest is the text.
// Invariants, besides never crashing and never hanging (libFuzzer's -timeout):
// - the syntax check and the filter's compile agree (what the check calls
//   valid compiles, what it calls invalid does not), so the wrapper cannot be
//   escaped by text that closes the filter's function (what would run
//   outside it then hangs in the check, which -timeout reports).
#include "core/filter/eventfilter.h"
#include "core/tape/chunk.h"
#include "core/tape/chunkencoder.h"
#include "core/transform/transform.h"

#include <QCoreApplication>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

using namespace tapedeck;

const Chunk &sampleChunk()
{
    static const Chunk chunk = [] {
        Event e;
        e.kind = SourceKind::Kafka;
        e.position = 42;
        e.timestampUs = 1'700'000'000'123'456;
        e.key = QByteArray("order-7");
        e.value = QByteArray(R"({"id":7,"status":"FAILED","items":[1,2,3],"__proto__":{"x":1}})");
        e.headers = {{QByteArray("__proto__"), QByteArray("h")}, {QByteArray("trace"), std::nullopt}};
        ChunkEncoder encoder;
        encoder.add(0, e);
        QByteArray summary;
        qint64 minTs = 0, maxTs = 0;
        Chunk c;
        QString error;
        if (!c.decode(encoder.take(0, &summary, &minTs, &maxTs), &error))
            std::abort();
        return c;
    }();
    return chunk;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static QCoreApplication app(*argc, *argv);
    (void)sampleChunk();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    const QString text = QString::fromUtf8(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    const StreamKey stream{SourceKind::Kafka, QStringLiteral("demo"), QStringLiteral("orders"), 3};
    switch (data[0] % 3) {
    case 0: {
        const EventFilter::Check check = EventFilter::check(text);
        EventFilter filter;
        filter.setTimeoutMs(50);
        QString error;
        const bool compiled = filter.compile(text, &error);
        if (compiled != (check.state == EventFilter::State::Valid))
            std::abort();
        if (check.state == EventFilter::State::Invalid && check.message.isEmpty())
            std::abort();
        break;
    }
    case 1: {
        EventFilter filter;
        filter.setTimeoutMs(50);
        QString error;
        if (filter.compile(text, &error))
            (void)filter.matches(stream, sampleChunk(), 0, 0);
        break;
    }
    default: {
        Transform transform;
        transform.setTimeoutMs(50);
        QString error;
        if (!transform.compile(text, QStringLiteral("fuzz.js"), Transform::Context{QStringLiteral("fuzz"), {}, true}, &error))
            break;
        Event e;
        sampleChunk().fill(0, &e);
        QList<SinkOutput> outputs;
        (void)transform.run(e, 0, &outputs, &error);
        break;
    }
    }
    return 0;
}
