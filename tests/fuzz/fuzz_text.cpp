// libFuzzer target for the small parsers of typed text: positions, LSNs and
// times (core/event/bound), PostgreSQL connection strings (what the dialog
// checks as you type, and the redaction of passwords), `-X`/`-F` Kafka
// properties, raw JSON paths, and terminal-safe printing. The first byte
// picks the parser, so one corpus covers them all.
#include "core/base/printable.h"
#include "core/base/rawjson.h"
#include "core/event/bound.h"
#include "core/kafka/kafkaconnection.h"
#include "core/postgres/pgtypes.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace tapedeck;
    if (size < 1)
        return 0;
    const QByteArrayView bytes(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    const QString text = QString::fromUtf8(bytes);
    QString why;
    switch (data[0] % 6) {
    case 0:
        (void)bound::parsePosition(text, &why);
        (void)bound::parseTime(text, &why);
        if (const auto lsn = bound::parseLsn(bytes); lsn && bound::parseLsn(QStringView(bound::formatLsn(*lsn))) != lsn)
            std::abort();
        break;
    case 1: {
        (void)pgDsnProblem(text);
        bool had = false;
        const QString without = pgDsnWithoutPassword(text, &had);
        // What redaction leaves holds no password (a second pass finds none).
        bool again = false;
        pgDsnWithoutPassword(without, &again);
        if (again)
            std::abort();
        (void)scrubSecrets(text, pgDsnSecrets(text));
        (void)pgTypeForCreate(text);
        break;
    }
    case 2: {
        KafkaConnection c;
        for (const QString &line : text.split(u'\n'))
            (void)c.addProperty(line, &why);
        (void)c.toJson();
        break;
    }
    case 3:
        (void)rawjson::parse(bytes);
        (void)rawjson::path(bytes, "a.b.0.c");
        break;
    case 4: {
        QList<std::pair<QByteArray, RawJson>> fields;
        (void)rawjson::objectFields(bytes, &fields);
        break;
    }
    case 5:
        (void)printable(bytes);
        (void)printable(QStringView(text));
        break;
    }
    return 0;
}
