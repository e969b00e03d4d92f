#pragma once

#include "core/tape/tape.h"

#include <QJsonObject>

namespace tapedeck {

// What `tape info` prints: computed from the chunk summaries only, so it is
// instant for any tape size.
QJsonObject tapeInfoJson(const Tape &tape);
QString tapeInfoText(const Tape &tape);
QString formatTimestampUs(qint64 us, bool utc = true); // "2026-11-29T03:46:34.123Z"
QString formatBytes(qint64 bytes);                     // "1.5 MiB"

} // namespace tapedeck
