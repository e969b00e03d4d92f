#pragma once

// LogState's index of one table (LogState::TableData) and its encoding
// constants, shared by logstate.cpp and logstatebuild.cpp. Private to LogState.

#include "core/state/logstate.h"

#include <QByteArray>
#include <QByteArrayView>

#include <algorithm>
#include <limits>
#include <vector>

namespace tapedeck {

namespace logstate {
constexpr quint32 DeleteBit = 0x80000000u;   // in TableData::evKey
constexpr quint32 TruncateEvent = 0xFFFFFFFFu; // evKey of a truncate
constexpr int WordsPerBlock = 8;               // rank directory: one entry per 512 keys
} // namespace logstate

struct LogState::TableData
{
    // Keys in rank order.
    QByteArray keyArena;
    std::vector<quint32> keyOffsets; // keys + 1
    std::vector<qint32> keyPartition;
    // State-changing events in tape order: seq and key id (| DeleteBit), or TruncateEvent.
    std::vector<quint32> evSeq;
    std::vector<quint32> evKey;
    std::vector<quint32> truncates; // event indices of truncates
    // Per key, its event indices (ascending): keyEv[keyStart[k] .. keyStart[k+1]).
    std::vector<quint32> keyStart;
    std::vector<quint32> keyEv;
    // Checkpoint i holds the live bitmap after the first i * interval events.
    qint64 interval = 1;
    struct Checkpoint
    {
        std::vector<quint64> bits;
        qint64 live = 0;
    };
    std::vector<Checkpoint> checkpoints;

    quint32 keyCount() const { return quint32(keyOffsets.size() - 1); }
    QByteArrayView key(quint32 k) const
    {
        return QByteArrayView(keyArena.constData() + keyOffsets[k], keyOffsets[k + 1] - keyOffsets[k]);
    }
    size_t words() const { return (keyCount() + 63) / 64; }
    // Number of events with seq < end.
    quint32 eventsBefore(qint64 end) const
    {
        if (end <= 0)
            return 0;
        const quint64 e = quint64(std::min<qint64>(end, qint64(std::numeric_limits<quint32>::max()) + 1));
        return quint32(std::lower_bound(evSeq.begin(), evSeq.end(), e, [](quint32 s, quint64 v) { return s < v; })
                       - evSeq.begin());
    }
    void apply(std::vector<quint64> &bits, qint64 &live, quint32 from, quint32 to) const
    {
        for (quint32 i = from; i < to; ++i) {
            const quint32 k = evKey[i];
            if (k == logstate::TruncateEvent) {
                std::fill(bits.begin(), bits.end(), 0);
                live = 0;
                continue;
            }
            const quint32 id = k & ~logstate::DeleteBit;
            quint64 &w = bits[id >> 6];
            const quint64 m = quint64(1) << (id & 63);
            if (k & logstate::DeleteBit) {
                if (w & m) {
                    w &= ~m;
                    --live;
                }
            } else if (!(w & m)) {
                w |= m;
                ++live;
            }
        }
    }
    // Index into keyEv of the key's last event with seq < end, or -1.
    qint64 lastEventOf(quint32 key, qint64 end) const
    {
        const quint32 *b = keyEv.data() + keyStart[key], *e = keyEv.data() + keyStart[key + 1];
        const quint32 *it = std::lower_bound(b, e, end, [this](quint32 ev, qint64 v) { return qint64(evSeq[ev]) < v; });
        return it == b ? -1 : qint64(it - keyEv.data()) - 1;
    }
    // Unchanged TOAST values of `row` (the key's event `seq`) taken from the
    // key's earlier events (logstate.cpp). False + *error when the tape cannot be read.
    bool fillUnchangedToast(const Tape &tape, qint64 seq, LogStateRow *row, QString *error) const;
};

} // namespace tapedeck
