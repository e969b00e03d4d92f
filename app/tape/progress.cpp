#include "app/tape/progress.h"

#include <cstdio>
#include <unistd.h>

Progress::Progress(QString what) : m_what(std::move(what)), m_enabled(::isatty(STDERR_FILENO) == 1)
{
    m_timer.start();
}

Progress::~Progress()
{
    finish();
}

void Progress::update(qint64 done, qint64 total, const QString &unit)
{
    if (!m_enabled)
        return;
    const qint64 now = m_timer.elapsed();
    if (now - m_lastMs < 200)
        return;
    m_lastMs = now;
    QString line = QStringLiteral("\r%1: %2 %3").arg(m_what).arg(done).arg(unit);
    if (total > 0)
        line += QStringLiteral(" (%1%)").arg(100 * done / total);
    std::fputs(line.toLocal8Bit().constData(), stderr);
    std::fputs("\x1b[K", stderr);
    std::fflush(stderr);
    m_shown = true;
}

void Progress::finish()
{
    if (m_shown) {
        std::fputs("\r\x1b[K", stderr);
        std::fflush(stderr);
        m_shown = false;
    }
}
