#include "core/base/writefully.h"

#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace tapedeck {

QString writeFully(int fd, const char *data, qsizetype size)
{
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size_t(size));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return QString::fromLocal8Bit(strerror(errno));
        if (n == 0)
            return QStringLiteral("the file system accepted no more bytes");
        data += n;
        size -= n;
    }
    return QString();
}

} // namespace tapedeck
