#pragma once

#include "core/event/stream.h"

#include <QHash>
#include <QList>
#include <QSet>
#include <QString>

namespace tapedeck {

// One row of the timeline: a group header (the sum of its lanes) or a lane.
struct TimelineRow
{
    enum class Kind { Group, Lane };
    Kind kind = Kind::Lane;
    QString key;            // "g:<group>" or "s:<stream id>"
    QString label;
    QString toolTip;
    QList<quint32> streams; // sorted; a group: its visible lanes
    int depth = 0;          // 1: a lane inside a group
    bool collapsed = false; // groups only
    int y = 0;
    int height = 0;
    bool operator==(const TimelineRow &) const = default;
};

// Which lanes the timeline shows and how (pure, no widgets; tested with
// tables): one lane per stream, grouped by topic or table (partitions under
// their topic) or by source, groups collapse into one summed row, lanes and
// groups can be hidden and moved. Configuration is kept by stream key, so it
// survives when a growing tape adds streams.
class TimelineLanes
{
public:
    enum class Grouping { None, Topic, Source };

    void setStreams(const QList<StreamStats> &streams);
    const QList<StreamStats> &streams() const { return m_streams; }

    Grouping grouping() const { return m_grouping; }
    void setGrouping(Grouping grouping) { m_grouping = grouping; }

    // Keys are TimelineRow::key.
    void setCollapsed(const QString &groupKey, bool collapsed);
    bool isCollapsed(const QString &groupKey) const { return m_collapsed.contains(groupKey); }
    void setHidden(const QString &rowKey, bool hidden);
    bool isHidden(quint32 stream) const;
    int hiddenCount() const;
    void showAll() { m_hidden.clear(); }
    // Moves a row among its siblings by `delta` places.
    void move(const QString &rowKey, int delta);

    QList<TimelineRow> rows(int laneHeight, int groupHeight) const;
    // Every stream that some row shows (sorted).
    QList<quint32> visibleStreams() const;

    static int rowAt(const QList<TimelineRow> &rows, int y); // -1: none
    static QString laneLabel(const StreamKey &key, bool inGroup);

private:
    // One lane's row of rows(), at y.
    TimelineRow laneRow(quint32 id, const QString &label, int depth, int y, int height) const;
    QString groupKeyOf(const StreamStats &s) const;
    QString groupLabelOf(const StreamStats &s) const;
    QString streamKeyText(quint32 stream) const;

    QList<StreamStats> m_streams;
    Grouping m_grouping = Grouping::Topic;
    QSet<QString> m_collapsed;
    QSet<QString> m_hidden;        // stream keys ("kind/cluster/topic/partition") or group keys
    QHash<QString, int> m_order;   // explicit positions of moved rows
};

} // namespace tapedeck
