#pragma once

#include "core/tape/chunkencoder.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QHashFunctions>

#include <cstring>
#include <vector>

namespace tapedeck {

// The last event of every key in the replayed range (replay.md, "Rebuilds"):
// a row that a later event of the same key in the range overwrites need not
// be written into a table that was empty. Keys are the identity's key cells
// with the stream, compared byte for byte (a hash only finds them). A key
// whose last event lacks a column (an unchanged TOAST value) keeps every
// version, since that column's value comes from an earlier one.
class LastVersions
{
public:
    // The bytes that identify a key: the stream, then each cell's length (-1: NULL) and bytes.
    static void encode(QByteArray *out, quint32 streamId, const std::vector<const ChunkEncoder::ChangeCell *> &key)
    {
        out->append(reinterpret_cast<const char *>(&streamId), sizeof streamId);
        for (const ChunkEncoder::ChangeCell *c : key) {
            const qint32 n = c->state == ChunkEncoder::CellView::Value ? qint32(c->value.size()) : -1;
            out->append(reinterpret_cast<const char *>(&n), sizeof n);
            if (n > 0)
                out->append(c->value.data(), n);
        }
    }

    void add(QByteArrayView key, qint64 seq, bool partialRow)
    {
        m_key = key;
        if (m_slots.empty() || m_count * 2 >= m_slots.size())
            grow();
        const size_t h = hash();
        for (size_t i = h & (m_slots.size() - 1);; i = (i + 1) & (m_slots.size() - 1)) {
            Slot &slot = m_slots[i];
            if (slot.seq < 0) {
                slot = Slot{h, seq, quint32(m_arena.size()), quint32(m_key.size()), partialRow};
                m_arena.append(m_key);
                ++m_count;
                return;
            }
            if (slot.hash == h && same(slot)) {
                slot.seq = seq;
                slot.partialRow = partialRow;
                return;
            }
        }
    }
    // Whether a later event in the range writes this key again (whole).
    bool superseded(QByteArrayView key, qint64 seq)
    {
        if (m_slots.empty())
            return false;
        m_key = key;
        const size_t h = hash();
        for (size_t i = h & (m_slots.size() - 1);; i = (i + 1) & (m_slots.size() - 1)) {
            const Slot &slot = m_slots[i];
            if (slot.seq < 0)
                return false;
            if (slot.hash == h && same(slot))
                return slot.seq > seq && !slot.partialRow;
        }
    }
    qint64 keys() const { return qint64(m_count); }

private:
    struct Slot
    {
        size_t hash = 0;
        qint64 seq = -1; // -1: empty
        quint32 offset = 0, size = 0;
        bool partialRow = false;
    };
    size_t hash() const { return qHash(m_key, size_t(0x2545f491)); }
    bool same(const Slot &slot) const
    {
        return slot.size == quint32(m_key.size()) && std::memcmp(m_arena.constData() + slot.offset, m_key.data(), size_t(m_key.size())) == 0;
    }
    void grow(); // doubles the slots (at least 1024)

    std::vector<Slot> m_slots;
    size_t m_count = 0;
    QByteArray m_arena;
    QByteArrayView m_key; // of the current call
};

// The keys of one chunk's events in the range, for LastVersions (computed
// on the thread pool, added in tape order).
struct ChunkKeys
{
    std::vector<qint64> seqs;
    std::vector<quint32> ends; // of each key in `bytes`
    std::vector<bool> partial;
    QByteArray bytes;
    bool usable = true;
};

} // namespace tapedeck
