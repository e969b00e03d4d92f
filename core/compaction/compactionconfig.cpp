#include "core/compaction/compactionconfig.h"

#include <QJsonValue>

namespace tapedeck {

namespace {

struct Field
{
    const char *name;
    qint64 CompactionConfig::*integer = nullptr;
    double CompactionConfig::*real = nullptr;
    qint64 min = 0;
    qint64 max = std::numeric_limits<qint64>::max();
};

const Field Fields[] = {
    {"segment.bytes", &CompactionConfig::segmentBytes, nullptr, 14, std::numeric_limits<qint32>::max()},
    {"segment.ms", &CompactionConfig::segmentMs, nullptr, 1},
    {"segment.jitter.ms", &CompactionConfig::segmentJitterMs, nullptr, 0},
    {"min.cleanable.dirty.ratio", nullptr, &CompactionConfig::minCleanableDirtyRatio},
    {"min.compaction.lag.ms", &CompactionConfig::minCompactionLagMs, nullptr, 0},
    {"max.compaction.lag.ms", &CompactionConfig::maxCompactionLagMs, nullptr, 1},
    {"delete.retention.ms", &CompactionConfig::deleteRetentionMs, nullptr, 0},
    {"log.cleaner.dedupe.buffer.size", &CompactionConfig::dedupeBufferBytes, nullptr, 24},
    {"log.cleaner.io.buffer.load.factor", nullptr, &CompactionConfig::ioBufferLoadFactor},
    {"producer.linger.ms", &CompactionConfig::producerLingerMs, nullptr, 0},
    {"producer.batch.size", &CompactionConfig::producerBatchBytes, nullptr, 0},
};

} // namespace

qint64 CompactionConfig::rollMs() const
{
    return compact && maxCompactionLagMs > 0 ? std::min(maxCompactionLagMs, segmentMs) : segmentMs;
}

qint64 CompactionConfig::offsetMapCapacity() const
{
    const qint64 memory = std::min<qint64>(dedupeBufferBytes / std::max(1, cleanerThreads), std::numeric_limits<qint32>::max());
    const qint64 slots = memory / 24; // 16-byte MD5 + 8-byte offset
    return qint64(double(slots) * ioBufferLoadFactor);
}

bool CompactionConfig::set(const QString &name, const QString &value, QString *error)
{
    const QString v = value.trimmed();
    if (name == QLatin1String("cleanup.policy")) {
        compact = v.split(QLatin1Char(',')).contains(QLatin1String("compact"));
        return true;
    }
    if (name == QLatin1String("log.cleaner.threads")) {
        bool ok = false;
        const int n = v.toInt(&ok);
        if (!ok || n < 1) {
            *error = QStringLiteral("log.cleaner.threads: '%1' is not a positive integer").arg(value);
            return false;
        }
        cleanerThreads = n;
        return true;
    }
    for (const Field &f : Fields) {
        if (name != QLatin1String(f.name))
            continue;
        bool ok = false;
        if (f.real) {
            const double d = v.toDouble(&ok);
            if (!ok || d < 0 || d > 1) {
                *error = QStringLiteral("%1: '%2' is not a number between 0 and 1").arg(name, value);
                return false;
            }
            this->*f.real = d;
            return true;
        }
        const qint64 n = v.toLongLong(&ok);
        if (!ok || n < f.min || n > f.max) {
            *error = QStringLiteral("%1: '%2' is not an integer in [%3, %4]").arg(name, value).arg(f.min).arg(f.max);
            return false;
        }
        this->*f.integer = n;
        return true;
    }
    *error = QStringLiteral("unknown setting '%1' (known: %2)").arg(name, names().join(QStringLiteral(", ")));
    return false;
}

CompactionConfig CompactionConfig::fromJson(const QJsonObject &object, QString *error)
{
    CompactionConfig c;
    const QStringList known = names();
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!known.contains(it.key()))
            continue;
        const QJsonValue v = it.value();
        const QString text = v.isString() ? v.toString() : v.isBool() ? QString() : QString::number(v.toDouble(), 'g', 17);
        QString why;
        if (!c.set(it.key(), text, &why) && error)
            *error = error->isEmpty() ? why : *error + QStringLiteral("; ") + why;
    }
    return c;
}

QJsonObject CompactionConfig::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("cleanup.policy"), compact ? QStringLiteral("compact") : QStringLiteral("delete"));
    for (const Field &f : Fields) {
        if (f.real)
            o.insert(QLatin1String(f.name), this->*f.real);
        else
            o.insert(QLatin1String(f.name), QString::number(this->*f.integer)); // as Kafka reports them: exact
    }
    o.insert(QStringLiteral("log.cleaner.threads"), cleanerThreads);
    return o;
}

QStringList CompactionConfig::names()
{
    QStringList n{QStringLiteral("cleanup.policy"), QStringLiteral("log.cleaner.threads")};
    for (const Field &f : Fields)
        n.append(QLatin1String(f.name));
    return n;
}

} // namespace tapedeck
