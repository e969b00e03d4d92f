#include "core/base/leafpool.h"

#include <QThread>
#include <QThreadPool>

#include <algorithm>

namespace tapedeck {

QThreadPool *leafPool()
{
    // Never destroyed: tasks of static objects may still finish at exit.
    static QThreadPool *const pool = [] {
        auto *p = new QThreadPool;
        p->setObjectName(QStringLiteral("tapedeck leaf pool"));
        p->setMaxThreadCount(std::max(2, QThread::idealThreadCount()));
        return p;
    }();
    return pool;
}

} // namespace tapedeck
