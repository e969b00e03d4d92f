#pragma once

#include <QDir>
#include <QString>
#include <QTemporaryDir>

// Where GUI tests save the pictures a person looks at: $TAPEDECK_SHOT_DIR
// when it is set (created if missing), else a temporary directory of this
// test process, removed at exit. Tests never write to fixed paths: a fresh
// machine has no /tmp/shots.
namespace tapedeck::testing {

inline QString shotPath(const QString &name)
{
    static const QString dir = [] {
        const QString fromEnv = qEnvironmentVariable("TAPEDECK_SHOT_DIR");
        if (!fromEnv.isEmpty()) {
            QDir().mkpath(fromEnv);
            return fromEnv;
        }
        static QTemporaryDir temporary;
        return temporary.path();
    }();
    return dir + QLatin1Char('/') + name;
}

} // namespace tapedeck::testing
