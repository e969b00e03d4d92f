#pragma once

#include "compactionmodel.h"

#include <QJsonObject>
#include <QList>
#include <QPair>

namespace tapedeck {

class Tape;

// Both answers for every partition (or table) of a tape: the next cleaner
// pass at `nowMs` and the converged log. What `tape compact` prints and what
// a view shows; build it in a worker, it is a plain value afterwards.
struct CompactionPreview
{
    struct Partition
    {
        std::shared_ptr<const CompactionLog> log;
        CompactionConfig config;
        QString configSource;          // "broker (tape metadata)" or "Kafka defaults", plus " + --set"
        CompactionSimulation nextPass; // state after the pass; explain() gives per-record reasons
        CompactionPassResult next;
        CompactionSimulation converged;
        CompactionPassResult full;
    };
    qint64 nowMs = -1;
    bool nowIsDefault = false; // true: the last record's timestamp
    QList<Partition> partitions;
    QStringList warnings;

    // Builds the logs from the tape and computes both answers. Configs:
    // tape metadata parameters.topicConfigs.<topic> when present, else Kafka
    // defaults; then `overrides` (Kafka names). nowMs < 0: the latest record timestamp.
    static bool build(const Tape &tape, const QList<QPair<QString, QString>> &overrides, qint64 nowMs,
                      CompactionPreview *out, QString *error);
    // Recomputes both answers from the already built logs (what-if: new configs or now).
    void recompute();

    QJsonObject toJson(bool full) const;
    QString toText(bool full) const;
};

// The configs a tape's metadata says a topic had: parameters.topicConfigs.<topic>.
CompactionConfig compactionConfigFor(const QJsonObject &tapeParameters, const QString &topic, bool *fromBroker, QString *error);

} // namespace tapedeck
