#include "core/compaction/compactionreport.h"

#include "core/tape/tape.h"
#include "core/tape/tapeinfo.h"

#include <QJsonArray>

namespace tapedeck {

CompactionConfig compactionConfigFor(const QJsonObject &parameters, const QString &topic, bool *fromBroker, QString *error)
{
    const QJsonObject configs = parameters.value(QStringLiteral("topicConfigs")).toObject();
    const auto it = configs.constFind(topic);
    *fromBroker = it != configs.constEnd() && it->isObject();
    return *fromBroker ? CompactionConfig::fromJson(it->toObject(), error) : CompactionConfig{};
}

bool CompactionPreview::build(const Tape &tape, const QList<QPair<QString, QString>> &overrides, qint64 nowMs,
                              CompactionPreview *out, QString *error)
{
    Options options;
    options.overrides = overrides;
    options.nowMs = nowMs;
    return build(tape, options, out, error);
}

bool CompactionPreview::build(const Tape &tape, const Options &options, CompactionPreview *out, QString *error)
{
    const QList<QPair<QString, QString>> &overrides = options.overrides;
    const qint64 nowMs = options.nowMs;
    CompactionPreview p;
    QList<std::shared_ptr<const CompactionLog>> logs;
    QList<QVector<qint64>> sequences;
    // The batch estimate needs the producer.* values before the logs exist.
    CompactionConfig batchConfig;
    for (const auto &[name, value] : overrides) {
        if (name.startsWith(QLatin1String("producer.")) && !batchConfig.set(name, value, error))
            return false;
    }
    if (!CompactionLogBuilder::fromTape(tape, batchConfig, options.selection, &logs, options.keepSequences ? &sequences : nullptr, error))
        return false;
    qint64 latest = -1;
    for (int li = 0; li < logs.size(); ++li) {
        const auto &log = logs[li];
        Partition part;
        part.log = log;
        if (options.keepSequences)
            part.sequence = sequences.value(li);
        bool fromBroker = false;
        QString why;
        part.config = compactionConfigFor(tape.metadata().parameters, log->stream.topic, &fromBroker, &why);
        if (!why.isEmpty())
            p.warnings.append(QStringLiteral("%1: topicConfigs: %2").arg(log->stream.topic, why));
        part.configSource = fromBroker ? QStringLiteral("broker (tape metadata)") : QStringLiteral("Kafka defaults");
        part.baseConfig = part.config;
        for (const auto &[name, value] : overrides) {
            if (!part.config.set(name, value, error))
                return false;
        }
        if (!overrides.isEmpty())
            part.configSource += QStringLiteral(" + --set");
        if (log->outOfOrder)
            p.warnings.append(QStringLiteral("%1/%2: positions are not ascending; the preview assumes log order")
                                  .arg(log->stream.topic).arg(log->stream.partition));
        for (qint64 ts : log->timestampsMs)
            latest = std::max(latest, ts);
        p.partitions.append(part);
    }
    p.nowIsDefault = nowMs < 0;
    p.nowMs = nowMs < 0 ? std::max<qint64>(0, latest) : nowMs;
    p.recompute();
    *out = std::move(p);
    return true;
}

void CompactionPreview::recompute()
{
    const QList<qint64> times = passTimes.isEmpty() ? QList<qint64>{nowMs} : passTimes;
    for (Partition &part : partitions) {
        part.nextPass = CompactionSimulation(part.log, part.config);
        part.converged = part.nextPass;
        part.passes.clear();
        for (qint64 t : times)
            part.passes.append(part.nextPass.pass(t));
        part.next = part.passes.constLast();
        part.full = part.converged.converge();
    }
}

bool CompactionPreview::setOverrides(const QList<QPair<QString, QString>> &overrides, QString *error)
{
    QList<CompactionConfig> configs;
    for (const Partition &part : std::as_const(partitions)) {
        CompactionConfig c = part.baseConfig;
        for (const auto &[name, value] : overrides) {
            if (name.startsWith(QLatin1String("producer."))) {
                *error = QStringLiteral("%1 shapes the logs; it cannot change afterwards").arg(name);
                return false;
            }
            if (!c.set(name, value, error))
                return false;
        }
        configs.append(c);
    }
    for (int i = 0; i < partitions.size(); ++i)
        partitions[i].config = configs[i];
    return true;
}

qint64 CompactionPreview::latestTimestampMs() const
{
    qint64 latest = -1;
    for (const Partition &part : partitions) {
        for (qint64 ts : part.log->timestampsMs)
            latest = std::max(latest, ts);
    }
    return latest;
}

namespace {

QString decisionName(CompactionPassResult::Decision d)
{
    switch (d) {
    case CompactionPassResult::Decision::Cleaned: return QStringLiteral("cleaned");
    case CompactionPassResult::Decision::NotCompacted: return QStringLiteral("not-compacted");
    case CompactionPassResult::Decision::Empty: return QStringLiteral("empty");
    case CompactionPassResult::Decision::RatioTooLow: return QStringLiteral("not-chosen");
    case CompactionPassResult::Decision::Converged: return QStringLiteral("converged");
    }
    return QString();
}

QJsonObject passJson(const CompactionPassResult &r)
{
    QJsonObject o{
        {QStringLiteral("decision"), decisionName(r.decision)},
        {QStringLiteral("why"), r.why()},
        {QStringLiteral("recordsBefore"), r.recordsBefore},
        {QStringLiteral("recordsAfter"), r.recordsAfter},
        {QStringLiteral("bytesBefore"), r.bytesBefore},
        {QStringLiteral("bytesAfter"), r.bytesAfter},
        {QStringLiteral("segmentsBefore"), r.segmentsBefore},
        {QStringLiteral("segmentsCleaned"), r.segmentsCleaned},
        {QStringLiteral("segmentsAfter"), r.segmentsAfter},
    };
    if (r.decision != CompactionPassResult::Decision::Converged) {
        o.insert(QStringLiteral("firstDirtyOffset"), r.firstDirtyOffset);
        o.insert(QStringLiteral("firstUncleanableOffset"), r.firstUncleanableOffset);
        o.insert(QStringLiteral("cleanedUpToOffset"), r.cleanedUpToOffset);
        o.insert(QStringLiteral("cleanBytes"), r.cleanBytes);
        o.insert(QStringLiteral("dirtyBytes"), r.dirtyBytes);
        o.insert(QStringLiteral("dirtyRatio"), r.dirtyRatio);
        o.insert(QStringLiteral("dirtyRatioAfter"), r.dirtyRatioAfter);
        o.insert(QStringLiteral("forcedByMaxCompactionLag"), r.forcedByMaxCompactionLag);
        o.insert(QStringLiteral("offsetMapFull"), r.offsetMapFull);
    }
    return o;
}

QJsonObject removedByReason(const CompactionSimulation &sim)
{
    QHash<QString, qint64> counts;
    for (int i = 0; i < sim.log().count(); ++i)
        counts[toString(sim.explain(i).reason)] += 1;
    QJsonObject o;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        o.insert(it.key(), it.value());
    return o;
}

QString ratio(qint64 after, qint64 before)
{
    return before > 0 ? QStringLiteral("%1%").arg(100.0 * double(after) / double(before), 0, 'f', 1) : QStringLiteral("-");
}

} // namespace

QJsonObject CompactionPreview::toJson(bool full) const
{
    QJsonArray parts;
    for (const Partition &p : partitions) {
        QJsonObject o{
            {QStringLiteral("kind"), toString(p.log->stream.kind)},
            {QStringLiteral("topic"), p.log->stream.topic},
            {QStringLiteral("partition"), p.log->stream.partition},
            {QStringLiteral("records"), p.log->count()},
            {QStringLiteral("keys"), qint64(p.log->keyCount)},
            {QStringLiteral("segmentsEstimated"), p.nextPass.segmentsEstimated()},
            {QStringLiteral("configSource"), p.configSource},
            {QStringLiteral("config"), p.config.toJson()},
            {QStringLiteral("nextPass"), passJson(p.next)},
            {QStringLiteral("fullyCompacted"), passJson(p.full)},
        };
        if (full) {
            QJsonObject np = o.value(QStringLiteral("nextPass")).toObject();
            np.insert(QStringLiteral("reasons"), removedByReason(p.nextPass));
            o.insert(QStringLiteral("nextPass"), np);
            QJsonObject fc = o.value(QStringLiteral("fullyCompacted")).toObject();
            fc.insert(QStringLiteral("reasons"), removedByReason(p.converged));
            o.insert(QStringLiteral("fullyCompacted"), fc);
        }
        parts.append(o);
    }
    return QJsonObject{
        {QStringLiteral("now"), formatTimestampUs(nowMs * 1000)},
        {QStringLiteral("nowMs"), nowMs},
        {QStringLiteral("nowIsDefault"), nowIsDefault},
        {QStringLiteral("sizesEstimated"), true},
        {QStringLiteral("partitions"), parts},
        {QStringLiteral("warnings"), QJsonArray::fromStringList(warnings)},
    };
}

QString CompactionPreview::toText(bool full) const
{
    QString out;
    out += QStringLiteral("Now: %1 (%2)\n").arg(formatTimestampUs(nowMs * 1000),
                                                 nowIsDefault ? QStringLiteral("the last record's timestamp; --now MS to change")
                                                              : QStringLiteral("--now"));
    for (const Partition &p : partitions) {
        const CompactionLog &l = *p.log;
        out += QStringLiteral("\n%1 %2/%3: %4 records, %5 keys, %6 segments (%7), configs: %8\n")
                   .arg(toString(l.stream.kind), l.stream.topic)
                   .arg(l.stream.partition)
                   .arg(l.count())
                   .arg(l.keyCount)
                   .arg(p.next.segmentsBefore)
                   .arg(p.nextPass.segmentsEstimated() ? QStringLiteral("estimated") : QStringLiteral("known"), p.configSource);
        const CompactionPassResult &n = p.next;
        out += QStringLiteral("  next pass:       %1 -> %2 records, %3 -> %4 bytes (%5); %6\n")
                   .arg(n.recordsBefore).arg(n.recordsAfter).arg(n.bytesBefore).arg(n.bytesAfter)
                   .arg(ratio(n.bytesAfter, n.bytesBefore), n.why());
        if (n.decision == CompactionPassResult::Decision::Cleaned) {
            out += QStringLiteral("                   offsets %1..%2 cleaned (%3 segments), dirty ratio %4 -> %5%6\n")
                       .arg(n.firstDirtyOffset).arg(n.cleanedUpToOffset - 1).arg(n.segmentsCleaned)
                       .arg(n.dirtyRatio, 0, 'f', 3).arg(n.dirtyRatioAfter, 0, 'f', 3)
                       .arg(n.offsetMapFull ? QStringLiteral(", offset map full") : QString());
        }
        const CompactionPassResult &f = p.full;
        out += QStringLiteral("  fully compacted: %1 -> %2 records, %3 -> %4 bytes (%5)\n")
                   .arg(f.recordsBefore).arg(f.recordsAfter).arg(f.bytesBefore).arg(f.bytesAfter).arg(ratio(f.bytesAfter, f.bytesBefore));
        if (full) {
            for (const auto &[label, sim] : {std::pair{QStringLiteral("next pass"), &p.nextPass}, std::pair{QStringLiteral("fully compacted"), &p.converged}}) {
                const QJsonObject counts = removedByReason(*sim);
                QStringList parts;
                for (auto it = counts.begin(); it != counts.end(); ++it)
                    parts.append(QStringLiteral("%1 %2").arg(it.key()).arg(it.value().toInteger()));
                out += QStringLiteral("  %1 reasons: %2\n").arg(label, parts.join(QStringLiteral(", ")));
            }
        }
    }
    out += QStringLiteral("\nSizes are estimates of the Kafka v2 record format, uncompressed%1.\n")
               .arg(std::any_of(partitions.cbegin(), partitions.cend(), [](const Partition &p) { return p.nextPass.segmentsEstimated(); })
                        ? QStringLiteral("; segment boundaries are estimated from segment.bytes, segment.ms and record timestamps")
                        : QString());
    for (const QString &w : warnings)
        out += QStringLiteral("Warning: %1\n").arg(w);
    return out;
}

} // namespace tapedeck
