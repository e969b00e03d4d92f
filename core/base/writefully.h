#pragma once

#include <QString>

namespace tapedeck {

// Writes all of `data` to `fd` with write(2), retrying short writes and
// EINTR. Returns the cause of a failure ("No space left on device", "File
// too large"), empty on success. A short write sets no errno, so a plain
// QFile::write() reports it as "Unknown error"; the retry names the cause.
QString writeFully(int fd, const char *data, qsizetype size);

} // namespace tapedeck
