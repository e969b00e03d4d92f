#include "core/replay/lastversions_p.h"

#include <algorithm>
#include <utility>

namespace tapedeck {

void LastVersions::grow()
{
    std::vector<Slot> old = std::exchange(m_slots, std::vector<Slot>(std::max<size_t>(1024, m_slots.size() * 2)));
    for (const Slot &slot : old) {
        if (slot.seq < 0)
            continue;
        size_t i = slot.hash & (m_slots.size() - 1);
        while (m_slots[i].seq >= 0)
            i = (i + 1) & (m_slots.size() - 1);
        m_slots[i] = slot;
    }
}

} // namespace tapedeck
