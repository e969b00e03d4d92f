#pragma once

#include "core/compaction/compactionmodel.h"

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
        CompactionConfig baseConfig;   // before the overrides: what the tape says, or the defaults
        QString configSource;          // "broker (tape metadata)" or "Kafka defaults", plus " + --set"
        QVector<qint64> sequence;      // tape sequence number per record (Options::keepSequences)
        CompactionSimulation nextPass; // state after the pass(es); explain() gives per-record reasons
        QList<CompactionPassResult> passes; // one per pass time, in order
        CompactionPassResult next;     // the last of `passes`
        CompactionSimulation converged;
        CompactionPassResult full;
    };
    qint64 nowMs = -1;
    bool nowIsDefault = false; // true: the last record's timestamp
    // Passes to run, in order (stepping through passes); empty: one pass at nowMs.
    QList<qint64> passTimes;
    QList<Partition> partitions;
    QStringList warnings;

    struct Options
    {
        QList<QPair<QString, QString>> overrides; // Kafka names, applied to every partition
        qint64 nowMs = -1;                        // < 0: the latest record timestamp
        EventSelection selection;                 // empty: the whole tape
        bool keepSequences = false;               // fill Partition::sequence
    };
    static bool build(const Tape &tape, const Options &options, CompactionPreview *out, QString *error);

    // Builds the logs from the tape and computes both answers. Configs:
    // tape metadata parameters.topicConfigs.<topic> when present, else Kafka
    // defaults; then `overrides` (Kafka names). nowMs < 0: the latest record timestamp.
    static bool build(const Tape &tape, const QList<QPair<QString, QString>> &overrides, qint64 nowMs,
                      CompactionPreview *out, QString *error);
    // Recomputes both answers from the already built logs (what-if: new configs or now).
    void recompute();
    // What-if: every partition's config becomes its baseConfig plus `overrides`
    // (not producer.*: those shape the logs). False + *error for a bad name or value.
    bool setOverrides(const QList<QPair<QString, QString>> &overrides, QString *error);
    qint64 latestTimestampMs() const; // over all partitions, -1 when none

    QJsonObject toJson(bool full) const;
    QString toText(bool full) const;
};

// The configs a tape's metadata says a topic had: parameters.topicConfigs.<topic>.
CompactionConfig compactionConfigFor(const QJsonObject &tapeParameters, const QString &topic, bool *fromBroker, QString *error);

} // namespace tapedeck
