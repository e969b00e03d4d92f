#include "ui/timeline/timelinelanes.h"

#include <algorithm>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

QString kindText(SourceKind kind)
{
    switch (kind) {
    case SourceKind::Kafka:
        return u"kafka"_s;
    case SourceKind::Postgres:
        return u"postgres"_s;
    case SourceKind::File:
        return u"file"_s;
    case SourceKind::Unknown:
        break;
    }
    return u"unknown"_s;
}

QString identity(const StreamKey &k)
{
    return kindText(k.kind) + u'/' + k.cluster + u'/' + k.topic + u'/' + QString::number(k.partition);
}

} // namespace

void TimelineLanes::setStreams(const QList<StreamStats> &streams)
{
    m_streams = streams;
}

QString TimelineLanes::streamKeyText(quint32 stream) const
{
    return identity(m_streams[qsizetype(stream)].key);
}

QString TimelineLanes::groupKeyOf(const StreamStats &s) const
{
    switch (m_grouping) {
    case Grouping::None:
        return u"s:"_s + identity(s.key);
    case Grouping::Topic:
        return u"g:"_s + kindText(s.key.kind) + u'/' + s.key.cluster + u'/' + s.key.topic;
    case Grouping::Source:
        return u"g:"_s + kindText(s.key.kind) + u'/' + s.key.cluster;
    }
    return {};
}

QString TimelineLanes::groupLabelOf(const StreamStats &s) const
{
    switch (m_grouping) {
    case Grouping::None:
        return laneLabel(s.key, false);
    case Grouping::Topic:
        return s.key.topic.isEmpty() ? u"(no topic)"_s : s.key.topic;
    case Grouping::Source:
        return s.key.cluster.isEmpty() ? kindText(s.key.kind) : s.key.cluster;
    }
    return {};
}

QString TimelineLanes::laneLabel(const StreamKey &key, bool inGroup)
{
    if (key.kind == SourceKind::Postgres || key.partition < 0)
        return key.topic.isEmpty() ? u"(no topic)"_s : key.topic;
    if (inGroup)
        return u"partition %1"_s.arg(key.partition);
    return u"%1 / %2"_s.arg(key.topic).arg(key.partition);
}

void TimelineLanes::setCollapsed(const QString &groupKey, bool collapsed)
{
    if (collapsed)
        m_collapsed.insert(groupKey);
    else
        m_collapsed.remove(groupKey);
}

void TimelineLanes::setHidden(const QString &rowKey, bool hidden)
{
    QString key = rowKey;
    if (rowKey.startsWith(u"s:"_s)) {
        bool ok = false;
        const quint32 id = rowKey.mid(2).toUInt(&ok);
        if (ok && id < quint32(m_streams.size()))
            key = u"s:"_s + streamKeyText(id);
    }
    if (hidden)
        m_hidden.insert(key);
    else
        m_hidden.remove(key);
}

bool TimelineLanes::isHidden(quint32 stream) const
{
    if (stream >= quint32(m_streams.size()))
        return true;
    const StreamStats &s = m_streams[qsizetype(stream)];
    return m_hidden.contains(u"s:"_s + identity(s.key)) || m_hidden.contains(groupKeyOf(s));
}

int TimelineLanes::hiddenCount() const
{
    int n = 0;
    for (const StreamStats &s : m_streams)
        n += isHidden(s.id) ? 1 : 0;
    return n;
}

void TimelineLanes::move(const QString &rowKey, int delta)
{
    // Current sibling order, then swap and write positions back.
    const QList<TimelineRow> all = rows(1, 1);
    const auto it = std::find_if(all.cbegin(), all.cend(), [&](const TimelineRow &r) { return r.key == rowKey; });
    if (it == all.cend())
        return;
    const int depth = it->depth;
    // Siblings: same depth, and for lanes the same parent group.
    QString parent;
    for (auto p = all.cbegin(); p != it; ++p) {
        if (p->depth == 0)
            parent = p->key;
    }
    QStringList siblings;
    QString current;
    for (const TimelineRow &r : all) {
        if (r.depth == 0)
            current = r.key;
        if (r.depth == depth && (depth == 0 || current == parent))
            siblings << r.key;
    }
    const int from = int(siblings.indexOf(rowKey));
    const int to = std::clamp(from + delta, 0, int(siblings.size()) - 1);
    if (from < 0 || from == to)
        return;
    siblings.move(from, to);
    for (int i = 0; i < siblings.size(); ++i)
        m_order[siblings[i]] = i;
}

TimelineRow TimelineLanes::laneRow(quint32 id, const QString &label, int depth, int y, int height) const
{
    const StreamStats &s = m_streams[qsizetype(id)];
    TimelineRow r;
    r.kind = TimelineRow::Kind::Lane;
    r.key = u"s:"_s + QString::number(id);
    r.label = label;
    r.toolTip = u"%1 · %2 · %3"_s.arg(kindText(s.key.kind), s.key.cluster, laneLabel(s.key, false));
    r.streams = {id};
    r.depth = depth;
    r.y = y;
    r.height = height;
    return r;
}

// Stays ~80 lines: grouping, group order and row layout share the local Group list and the order lambdas.
QList<TimelineRow> TimelineLanes::rows(int laneHeight, int groupHeight) const
{
    struct Group
    {
        QString key, label;
        QList<quint32> streams;
        int first = 0; // first stream id, for the default order
    };
    QList<Group> groups;
    QHash<QString, qsizetype> groupIndex;
    for (const StreamStats &s : m_streams) {
        if (isHidden(s.id))
            continue;
        const QString gk = groupKeyOf(s);
        auto it = groupIndex.constFind(gk);
        if (it == groupIndex.cend()) {
            it = groupIndex.insert(gk, groups.size());
            groups.append(Group{gk, groupLabelOf(s), {}, int(s.id)});
        }
        groups[*it].streams << s.id;
    }
    auto orderOf = [this](const QString &key, int fallback) {
        const auto it = m_order.constFind(key);
        return it == m_order.cend() ? 1000000 + fallback : *it;
    };
    // A group of one lane is shown (and ordered) as that lane.
    auto sortKey = [this](const Group &g) {
        return g.streams.size() == 1 || m_grouping == Grouping::None ? u"s:"_s + QString::number(g.streams.constFirst()) : g.key;
    };
    std::stable_sort(groups.begin(), groups.end(), [&](const Group &a, const Group &b) {
        return orderOf(sortKey(a), a.first) < orderOf(sortKey(b), b.first);
    });

    QList<TimelineRow> out;
    int y = 0;
    for (Group &g : groups) {
        std::sort(g.streams.begin(), g.streams.end());
        const bool single = g.streams.size() == 1;
        if (single || m_grouping == Grouping::None) {
            for (quint32 id : std::as_const(g.streams)) {
                const StreamStats &s = m_streams[qsizetype(id)];
                QString label = m_grouping == Grouping::Topic ? laneLabel(s.key, false) : groupLabelOf(s);
                if (m_grouping == Grouping::Source)
                    label = laneLabel(s.key, false);
                out << laneRow(id, label, 0, y, laneHeight);
                y += laneHeight;
            }
            continue;
        }
        TimelineRow header;
        header.kind = TimelineRow::Kind::Group;
        header.key = g.key;
        header.label = g.label;
        header.streams = g.streams;
        header.collapsed = isCollapsed(g.key);
        header.toolTip = u"%1 lanes"_s.arg(g.streams.size());
        header.y = y;
        header.height = groupHeight;
        y += groupHeight;
        out << header;
        if (header.collapsed)
            continue;
        QList<quint32> lanes = g.streams;
        // By topic and partition number unless moved.
        std::stable_sort(lanes.begin(), lanes.end(), [&](quint32 a, quint32 b) {
            const int oa = orderOf(u"s:"_s + QString::number(a), 0), ob = orderOf(u"s:"_s + QString::number(b), 0);
            if (oa != ob)
                return oa < ob;
            const StreamKey &ka = m_streams[qsizetype(a)].key, &kb = m_streams[qsizetype(b)].key;
            if (ka.topic != kb.topic)
                return ka.topic < kb.topic;
            return ka.partition != kb.partition ? ka.partition < kb.partition : a < b;
        });
        for (quint32 id : std::as_const(lanes)) {
            const StreamStats &s = m_streams[qsizetype(id)];
            out << laneRow(id, m_grouping == Grouping::Source ? laneLabel(s.key, false) : laneLabel(s.key, true), 1, y, laneHeight);
            y += laneHeight;
        }
    }
    return out;
}

QList<quint32> TimelineLanes::visibleStreams() const
{
    QList<quint32> out;
    for (const StreamStats &s : m_streams) {
        if (!isHidden(s.id))
            out << s.id;
    }
    return out;
}

int TimelineLanes::rowAt(const QList<TimelineRow> &rows, int y)
{
    for (int i = 0; i < rows.size(); ++i) {
        if (y >= rows[i].y && y < rows[i].y + rows[i].height)
            return i;
    }
    return -1;
}

} // namespace tapedeck
