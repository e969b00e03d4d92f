#pragma once

#include <QStringList>

// Each command takes its arguments (without the program and command names)
// and returns the process exit code. Errors go to stderr as one line.
namespace commands {
int importJson(const QStringList &args);
int exportJson(const QStringList &args);
int info(const QStringList &args);
int verify(const QStringList &args);
int makeDemo(const QStringList &args);
int compact(const QStringList &args);
int topics(const QStringList &args);
int recordKafka(const QStringList &args);
int demoCluster(const QStringList &args);
int slots(const QStringList &args);
int recordPostgres(const QStringList &args);
int replay(const QStringList &args);
int state(const QStringList &args);
int diff(const QStringList &args);
}
