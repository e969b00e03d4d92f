#pragma once

#include "core/timeline/timeaxis.h"

#include <QtGlobal>

#include <limits>
#include <memory>
#include <vector>

namespace tapedeck {

struct DensityBucket
{
    quint32 count = 0;
    quint32 special = 0; // tombstones and deletes
};

// Event counts of one lane over an axis (microseconds or sequence numbers),
// at every power-of-two resolution: level L has buckets 2^(shift + L) wide,
// each the sum of two buckets of level L - 1. Reading the counts of a view
// touches about two buckets per pixel column whatever the number of events.
//
// Storage is sparse and copy-on-write: blocks of 4096 buckets behind shared
// pointers, so a copy (a snapshot for the GUI) costs a few pointers and the
// builder copies only the blocks it touches afterwards. Memory is bounded by
// a block budget: when the builder exceeds it the resolution is halved.
// Not thread-safe; copies are independent values.
class CountPyramid
{
public:
    static constexpr int BlockBits = 12;
    static constexpr qint64 BlockSize = qint64(1) << BlockBits;
    // Level 0's block list spans at most this many blocks (1 MiB of pointers).
    static constexpr qint64 MaxSpanBlocks = qint64(1) << 16;

    explicit CountPyramid(int shift = 0) : m_shift(shift) {}

    int shift() const { return m_shift; }
    qint64 bucketWidth(int level) const { return qint64(1) << (m_shift + level); }
    int levelCount() const { return int(m_levels.size()); }
    bool isEmpty() const { return m_levels.empty(); }

    // Level 0 only; call updateLevels() before reading coarser levels.
    void add(qint64 v, bool special);
    void updateLevels();
    // Halves the resolution: level 1 becomes level 0.
    void coarsen();
    // Coarsens while more than `blocks` level-0 blocks are allocated.
    void setBlockBudget(qint64 blocks) { m_blockBudget = std::max<qint64>(blocks, 1); }

    DensityBucket bucket(int level, qint64 index) const;
    // Adds to counts[x] / special[x] the events of each pixel column of `m`
    // (a bucket wider than a pixel is spread over its columns).
    void addColumns(const AxisMapping &m, float *counts, float *special) const;
    // Events with a value in [from, to), at bucket resolution (buckets cut by the edges count in proportion).
    double estimate(qint64 from, qint64 to) const;

    qint64 allocatedBlocks() const;
    qint64 memoryBytes() const;

private:
    struct Block
    {
        DensityBucket b[BlockSize];
    };
    struct Level
    {
        qint64 firstBlock = 0;
        std::vector<std::shared_ptr<Block>> blocks; // null: all zero
        qint64 minIndex = 0, maxIndex = -1;         // buckets in use
    };
    DensityBucket &at(Level &level, qint64 index);
    void buildFrom(size_t from);
    static qint64 spanBlocks(const Level &level, qint64 block);
    int levelFor(double perUnit) const;

    std::vector<Level> m_levels;
    std::vector<qint64> m_dirtyBlocks; // level-0 blocks changed since updateLevels()
    qint64 m_blockBudget = std::numeric_limits<qint64>::max();
    qint64 m_level0Blocks = 0;
    int m_shift = 0;
};

} // namespace tapedeck
