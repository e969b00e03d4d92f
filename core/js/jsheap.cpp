#include "core/js/jsheap.h"

#include <QJSEngine>
#include <private/qv4engine_p.h>
#include <private/qv4mm_p.h>

namespace tapedeck {

// The reads race with the engine's thread by design (see jsheap.h): not for
// the sanitizers to report.
__attribute__((no_sanitize("address", "thread", "undefined"))) qint64 jsHeapBytes(QJSEngine *engine)
{
    const QV4::MemoryManager *mm = engine->handle()->memoryManager;
    const size_t chunks = mm->blockAllocator.chunks.size() + mm->icAllocator.chunks.size();
    qint64 bytes = qint64(chunks * QV4::Chunk::DataSize) + qint64(mm->unmanagedHeapSize);
    // The huge items' list is walked only while it is small: a list that
    // grows is moved, and a small list's old storage stays mapped. A long
    // list counts each item at its least (one chunk).
    const auto &huge = mm->hugeItemAllocator.chunks;
    const size_t n = huge.size();
    if (n > 4096)
        return bytes + qint64(n * QV4::Chunk::DataSize);
    for (size_t i = 0; i < n && i < huge.size(); ++i)
        bytes += qint64(huge.data()[i].size);
    return bytes;
}

} // namespace tapedeck
