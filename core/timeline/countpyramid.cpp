#include "core/timeline/countpyramid.h"

#include <algorithm>
#include <cmath>

namespace tapedeck {

DensityBucket &CountPyramid::at(Level &level, qint64 index)
{
    const qint64 block = index >> BlockBits;
    if (level.blocks.empty()) {
        level.firstBlock = block;
        level.minIndex = level.maxIndex = index;
    } else {
        level.minIndex = std::min(level.minIndex, index);
        level.maxIndex = std::max(level.maxIndex, index);
    }
    if (block < level.firstBlock) {
        level.blocks.insert(level.blocks.begin(), size_t(level.firstBlock - block), nullptr);
        level.firstBlock = block;
    }
    const size_t slot = size_t(block - level.firstBlock);
    if (slot >= level.blocks.size())
        level.blocks.resize(slot + 1);
    std::shared_ptr<Block> &b = level.blocks[slot];
    if (!b) {
        b = std::make_shared<Block>();
        if (&level == &m_levels.front())
            ++m_level0Blocks;
    } else if (b.use_count() > 1) {
        // Shared with a snapshot: copy before writing. A stale count can only
        // be too high (snapshots are made on this thread), which costs a copy.
        b = std::make_shared<Block>(*b);
    }
    return b->b[index & (BlockSize - 1)];
}

void CountPyramid::add(qint64 v, bool special)
{
    if (m_levels.empty())
        m_levels.emplace_back();
    qint64 index = v >> m_shift;
    // A value far from the others (a record stamped 0 among this year's)
    // would stretch level 0's list of blocks over the whole gap: coarsen
    // first, so that the list never spans more than MaxSpanBlocks.
    while (spanBlocks(m_levels.front(), index >> BlockBits) > MaxSpanBlocks) {
        coarsen();
        index = v >> m_shift;
    }
    const qint64 before = m_level0Blocks;
    DensityBucket &b = at(m_levels.front(), index);
    ++b.count;
    if (special)
        ++b.special;
    const qint64 block = index >> BlockBits;
    if (m_dirtyBlocks.empty() || m_dirtyBlocks.back() != block)
        m_dirtyBlocks.push_back(block);
    if (m_level0Blocks > before && m_level0Blocks > m_blockBudget) {
        while (m_level0Blocks > m_blockBudget && m_levels.size() > 0)
            coarsen();
    }
}

void CountPyramid::updateLevels()
{
    if (m_levels.empty())
        return;
    std::sort(m_dirtyBlocks.begin(), m_dirtyBlocks.end());
    m_dirtyBlocks.erase(std::unique(m_dirtyBlocks.begin(), m_dirtyBlocks.end()), m_dirtyBlocks.end());
    // Enough levels that the top one fits in a block.
    auto topSpan = [this] {
        const Level &top = m_levels.back();
        return top.maxIndex - top.minIndex;
    };
    for (qint64 block : m_dirtyBlocks) {
        const qint64 lo0 = block << BlockBits, hi0 = lo0 + BlockSize - 1;
        for (size_t L = 1; L < m_levels.size(); ++L) {
            Level &src = m_levels[L - 1];
            const qint64 lo = std::max(lo0 >> L, src.minIndex >> 1), hi = std::min(hi0 >> L, src.maxIndex >> 1);
            for (qint64 i = lo; i <= hi; ++i) {
                const DensityBucket a = bucket(int(L - 1), 2 * i), b = bucket(int(L - 1), 2 * i + 1);
                if (a.count == 0 && b.count == 0 && bucket(int(L), i).count == 0)
                    continue;
                DensityBucket &d = at(m_levels[L], i);
                d.count = a.count + b.count;
                d.special = a.special + b.special;
            }
        }
    }
    m_dirtyBlocks.clear();
    // New levels are built whole from the one below.
    while (topSpan() >= BlockSize / 2) {
        const int L = int(m_levels.size());
        m_levels.emplace_back();
        buildFrom(size_t(L - 1));
    }
}

// Level `from + 1` summed from level `from`, block by allocated block: the
// work is the blocks', never the span's (two events years apart are 10^10
// empty buckets apart at a fine shift).
void CountPyramid::buildFrom(size_t from)
{
    const Level &src = m_levels[from];
    Level &dst = m_levels[from + 1];
    for (size_t slot = 0; slot < src.blocks.size(); ++slot) {
        if (!src.blocks[slot])
            continue;
        const qint64 first = (src.firstBlock + qint64(slot)) << BlockBits;
        for (qint64 i = first >> 1; i <= (first + BlockSize - 1) >> 1; ++i) {
            const DensityBucket a = bucket(int(from), 2 * i), b = bucket(int(from), 2 * i + 1);
            if (a.count == 0 && b.count == 0)
                continue;
            DensityBucket &d = at(dst, i);
            d.count = a.count + b.count;
            d.special = a.special + b.special;
        }
    }
}

qint64 CountPyramid::spanBlocks(const Level &level, qint64 block)
{
    if (level.blocks.empty())
        return 1;
    const qint64 last = level.firstBlock + qint64(level.blocks.size()) - 1;
    return std::max(last, block) - std::min(level.firstBlock, block) + 1;
}

void CountPyramid::coarsen()
{
    updateLevels();
    if (m_levels.size() < 2) {
        // A single level: build level 1 from it first.
        m_levels.emplace_back();
        buildFrom(0);
    }
    m_levels.erase(m_levels.begin());
    ++m_shift;
    m_level0Blocks = 0;
    for (const auto &b : m_levels.front().blocks)
        m_level0Blocks += b ? 1 : 0;
}

DensityBucket CountPyramid::bucket(int level, qint64 index) const
{
    if (level < 0 || size_t(level) >= m_levels.size())
        return {};
    const Level &l = m_levels[size_t(level)];
    const qint64 slot = (index >> BlockBits) - l.firstBlock;
    if (slot < 0 || slot >= qint64(l.blocks.size()) || !l.blocks[size_t(slot)])
        return {};
    return l.blocks[size_t(slot)]->b[index & (BlockSize - 1)];
}

int CountPyramid::levelFor(double perUnit) const
{
    // The coarsest level whose buckets are at most `perUnit` wide.
    int level = 0;
    while (size_t(level + 1) < m_levels.size() && double(bucketWidth(level + 1)) <= perUnit)
        ++level;
    return level;
}

void CountPyramid::addColumns(const AxisMapping &m, float *counts, float *special) const
{
    if (m_levels.empty() || m.range.isEmpty())
        return;
    const int level = levelFor(m.perPixel());
    const Level &l = m_levels[size_t(level)];
    const qint64 width = bucketWidth(level);
    const int shift = m_shift + level;
    const qint64 first = std::max(m.range.from >> shift, l.minIndex);
    const qint64 last = std::min((m.range.to - 1) >> shift, l.maxIndex);
    const double perPx = m.perPixel();
    const int columns = int(std::ceil(m.width));
    for (qint64 i = first; i <= last;) {
        const qint64 slot = (i >> BlockBits) - l.firstBlock;
        if (slot < 0 || slot >= qint64(l.blocks.size()) || !l.blocks[size_t(slot)]) {
            i = ((i >> BlockBits) + 1) << BlockBits; // skip an empty block
            continue;
        }
        const Block &block = *l.blocks[size_t(slot)];
        const qint64 blockEnd = std::min(last, (((i >> BlockBits) + 1) << BlockBits) - 1);
        for (; i <= blockEnd; ++i) {
            const DensityBucket &b = block.b[i & (BlockSize - 1)];
            if (b.count == 0)
                continue;
            const double x0 = double((i << shift) - m.range.from) / perPx;
            const double x1 = x0 + double(width) / perPx;
            const int c0 = std::max(0, int(std::floor(x0)));
            const int c1 = std::min(columns - 1, int(std::ceil(x1)) - 1);
            if (c0 == c1 || x1 - x0 <= 0) {
                if (c0 >= 0 && c0 < columns) {
                    counts[c0] += float(b.count);
                    special[c0] += float(b.special);
                }
                continue;
            }
            const double total = x1 - x0;
            for (int c = c0; c <= c1; ++c) {
                const double part = (std::min(x1, double(c + 1)) - std::max(x0, double(c))) / total;
                counts[c] += float(b.count * part);
                special[c] += float(b.special * part);
            }
        }
    }
}

double CountPyramid::estimate(qint64 from, qint64 to) const
{
    if (m_levels.empty() || to <= from)
        return 0;
    // A level with at most ~64 buckets in the range keeps this cheap.
    const int level = levelFor(double(to - from) / 64.0);
    const int shift = m_shift + level;
    const qint64 width = bucketWidth(level);
    double sum = 0;
    const Level &l = m_levels[size_t(level)];
    for (qint64 i = std::max(from >> shift, l.minIndex); i <= std::min((to - 1) >> shift, l.maxIndex); ++i) {
        const DensityBucket b = bucket(level, i);
        if (b.count == 0)
            continue;
        const qint64 lo = std::max(i << shift, from), hi = std::min((i << shift) + width, to);
        sum += double(b.count) * double(hi - lo) / double(width);
    }
    return sum;
}

qint64 CountPyramid::allocatedBlocks() const
{
    qint64 n = 0;
    for (const Level &l : m_levels) {
        for (const auto &b : l.blocks)
            n += b ? 1 : 0;
    }
    return n;
}

qint64 CountPyramid::memoryBytes() const
{
    qint64 bytes = qint64(sizeof(*this));
    for (const Level &l : m_levels)
        bytes += qint64(l.blocks.capacity() * sizeof(std::shared_ptr<Block>));
    return bytes + allocatedBlocks() * qint64(sizeof(Block) + 16);
}

} // namespace tapedeck
