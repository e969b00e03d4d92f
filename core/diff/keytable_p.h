#pragma once

// KeyTable: the state side's canonical table keys, looked up by the table
// side. Header-only: find() and insert() run once per row and stay inline.

#include "core/diff/canonicalrow.h"

#include <QByteArrayView>

#include <vector>

namespace tapedeck::tablediff {

// Canonical table key -> state entry: open addressing over (hash, key, value)
// slots, the keys in one arena (no allocation per key, one probe that
// rarely leaves the slot array). Sized once for its number of keys. The
// callers hash the keys (hashOf) so that hashing runs on the worker threads
// and the slot of a coming key can be prefetched.
class KeyTable
{
public:
    explicit KeyTable(size_t keys)
    {
        size_t cap = 16;
        while (cap < keys * 2)
            cap <<= 1;
        m_slots.assign(cap, Slot{});
        m_mask = cap - 1;
        m_offsets.reserve(keys + 1);
        m_offsets.push_back(0);
    }
    static quint64 hashOf(QByteArrayView key) { return CanonicalRow::digest(key, 0x6b657973); }
    void prefetch(quint64 hash) const { __builtin_prefetch(&m_slots[hash & m_mask]); }
    // The value of `key`, nullptr when absent.
    const quint32 *find(QByteArrayView key, quint64 hash) const
    {
        for (size_t i = hash & m_mask;; i = (i + 1) & m_mask) {
            const Slot &s = m_slots[i];
            if (s.ref == Empty)
                return nullptr;
            if (s.hash == hash && keyAt(s.ref) == key)
                return &s.value;
        }
    }
    // The value slot of `key`, inserted (set to `value`) when absent; *inserted says which.
    quint32 *insert(QByteArrayView key, quint64 hash, quint32 value, bool *inserted)
    {
        for (size_t i = hash & m_mask;; i = (i + 1) & m_mask) {
            Slot &s = m_slots[i];
            if (s.ref == Empty) {
                *inserted = true;
                s.hash = hash;
                s.ref = quint32(m_offsets.size() - 1);
                s.value = value;
                m_arena.append(key);
                m_offsets.push_back(m_arena.size());
                return &s.value;
            }
            if (s.hash == hash && keyAt(s.ref) == key) {
                *inserted = false;
                return &s.value;
            }
        }
    }

private:
    static constexpr quint32 Empty = 0xFFFFFFFFu;
    struct Slot
    {
        quint64 hash = 0;
        quint32 ref = Empty; // index into m_offsets
        quint32 value = 0;
    };
    QByteArrayView keyAt(quint32 ref) const
    {
        return QByteArrayView(m_arena.data() + m_offsets[ref], m_offsets[ref + 1] - m_offsets[ref]);
    }
    std::vector<Slot> m_slots;
    size_t m_mask = 0;
    ByteSink m_arena;
    std::vector<qsizetype> m_offsets; // keys + 1
};
} // namespace tapedeck::tablediff
