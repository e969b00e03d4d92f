// libFuzzer target for `kcat -J` lines: any bytes, never a crash; and a line
// that parses serializes to a line that parses back to the same event.
#include "core/kcat/kcatjson.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace tapedeck;
    QString error;
    const auto event = kcatjson::parse(QByteArrayView(reinterpret_cast<const char *>(data), qsizetype(size)), &error);
    if (!event)
        return 0;
    const QByteArray line = kcatjson::serialize(*event);
    const auto again = kcatjson::parse(line, &error);
    if (!again || !(*again == *event))
        std::abort(); // the round trip kcatjson.md promises
    return 0;
}
