#pragma once

#include <QElapsedTimer>
#include <QString>

// Progress on stderr, only when stderr is a terminal, at most 5 times a second.
class Progress
{
public:
    explicit Progress(QString what);
    ~Progress();
    void update(qint64 done, qint64 total, const QString &unit);
    void finish();

private:
    QString m_what;
    bool m_enabled = false;
    bool m_shown = false;
    QElapsedTimer m_timer;
    qint64 m_lastMs = -1000;
};
