#pragma once

#include "core/event/event.h"
#include "core/tape/tapewriter.h"

#include <QRandomGenerator>
#include <QString>

#include <algorithm>
#include <optional>
#include <vector>

// What bench_state and bench_stateview scrub through: n Kafka records of one
// topic over 4 partitions, keys "order-K" drawn from `keys` (seeded, so every
// run writes the same tape), one in ten a tombstone, 100 µs apart.
namespace tapedeck::testing {

enum class StateBenchValue {
    WithAmount, // {"id":I,"status":"paid","amount":A.5}
    IdStatus,   // {"id":I,"status":"paid"}
};

inline bool writeStateBenchTape(const QString &path, qint64 n, qint64 keys, StateBenchValue shape, QString *error)
{
    TapeWriter w;
    if (!w.create(path, TapeMetadata{})) {
        *error = w.errorString();
        return false;
    }
    QRandomGenerator rng(42);
    Event e;
    e.kind = SourceKind::Kafka;
    e.cluster = QStringLiteral("bench");
    e.topic = QStringLiteral("orders");
    e.timestampType = TimestampType::CreateTime;
    for (qint64 i = 0; i < n; ++i) {
        e.partition = int(i % 4);
        e.position = i / 4;
        e.timestampUs = 1767261600000000 + i * 100;
        e.key = QByteArray("order-") + QByteArray::number(qint64(rng.bounded(quint64(keys))));
        if (rng.bounded(10) == 0)
            e.value = std::nullopt;
        else if (shape == StateBenchValue::WithAmount)
            e.value = QByteArray("{\"id\":") + QByteArray::number(i) + ",\"status\":\"paid\",\"amount\":" + QByteArray::number(i % 997) + ".5}";
        else
            e.value = QByteArray("{\"id\":") + QByteArray::number(i) + ",\"status\":\"paid\"}";
        if (!w.append(e)) {
            *error = w.errorString();
            return false;
        }
    }
    if (!w.close()) {
        *error = w.errorString();
        return false;
    }
    return true;
}

// p50, p99 and max of a benchmark's samples (ms).
struct Percentiles
{
    double p50, p99, max;
};

inline Percentiles percentiles(std::vector<double> ms)
{
    std::sort(ms.begin(), ms.end());
    auto at = [&](double q) { return ms[std::min(ms.size() - 1, size_t(q * double(ms.size())))]; };
    return {at(0.5), at(0.99), ms.back()};
}

} // namespace tapedeck::testing
