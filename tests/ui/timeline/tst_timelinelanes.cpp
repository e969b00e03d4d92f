#include "ui/timeline/timelinelanes.h"

#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

StreamStats stream(quint32 id, SourceKind kind, const QString &cluster, const QString &topic, qint32 partition)
{
    StreamStats s;
    s.id = id;
    s.key = {kind, cluster, topic, partition};
    s.count = 10;
    return s;
}

// Stream ids in order of first use: partitions out of order on purpose.
QList<StreamStats> sampleStreams()
{
    return {stream(0, SourceKind::Kafka, u"k1"_s, u"orders"_s, 1), stream(1, SourceKind::Kafka, u"k1"_s, u"orders"_s, 0),
            stream(2, SourceKind::Kafka, u"k1"_s, u"payments"_s, 0), stream(3, SourceKind::Postgres, u"shop"_s, u"public.users"_s, -1),
            stream(4, SourceKind::Kafka, u"k2"_s, u"orders"_s, 0)};
}

QStringList describe(const QList<TimelineRow> &rows)
{
    QStringList out;
    for (const TimelineRow &r : rows) {
        QString streams;
        for (quint32 s : r.streams)
            streams += QString::number(s);
        out << QString(r.depth, u' ') + (r.kind == TimelineRow::Kind::Group ? (r.collapsed ? u"+"_s : u"-"_s) : QString())
                + r.label + u" ["_s + streams + u']';
    }
    return out;
}

} // namespace

class TestTimelineLanes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void grouping_data()
    {
        QTest::addColumn<int>("grouping");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("none") << int(TimelineLanes::Grouping::None)
                              << QStringList{u"orders / 1 [0]"_s, u"orders / 0 [1]"_s, u"payments / 0 [2]"_s,
                                             u"public.users [3]"_s, u"orders / 0 [4]"_s};
        // Partitions under their topic in numeric order; single-lane topics and tables stand alone;
        // the same topic name on another cluster is another group.
        QTest::newRow("topic") << int(TimelineLanes::Grouping::Topic)
                               << QStringList{u"-orders [01]"_s, u" partition 0 [1]"_s, u" partition 1 [0]"_s,
                                              u"payments / 0 [2]"_s, u"public.users [3]"_s, u"orders / 0 [4]"_s};
        QTest::newRow("source") << int(TimelineLanes::Grouping::Source)
                                << QStringList{u"-k1 [012]"_s, u" orders / 0 [1]"_s, u" orders / 1 [0]"_s,
                                               u" payments / 0 [2]"_s, u"public.users [3]"_s, u"orders / 0 [4]"_s};
    }
    void grouping()
    {
        QFETCH(int, grouping);
        QFETCH(QStringList, expected);
        TimelineLanes lanes;
        lanes.setStreams(sampleStreams());
        lanes.setGrouping(TimelineLanes::Grouping(grouping));
        const QList<TimelineRow> rows = lanes.rows(20, 16);
        QCOMPARE(describe(rows), expected);
        // Rows are stacked without gaps, groups with their own height.
        int y = 0;
        for (const TimelineRow &r : rows) {
            QCOMPARE(r.y, y);
            QCOMPARE(r.height, r.kind == TimelineRow::Kind::Group ? 16 : 20);
            y += r.height;
        }
        QCOMPARE(TimelineLanes::rowAt(rows, 0), 0);
        QCOMPARE(TimelineLanes::rowAt(rows, y - 1), rows.size() - 1);
        QCOMPARE(TimelineLanes::rowAt(rows, y), -1);
    }

    void collapseHideMove()
    {
        TimelineLanes lanes;
        lanes.setStreams(sampleStreams());
        QList<TimelineRow> rows = lanes.rows(20, 16);
        const QString orders = rows[0].key;
        lanes.setCollapsed(orders, true);
        QCOMPARE(describe(lanes.rows(20, 16)).first(2), (QStringList{u"+orders [01]"_s, u"payments / 0 [2]"_s}));
        lanes.setCollapsed(orders, false);

        // Hide a lane: the group sums the rest; hide the table; show all again.
        lanes.setHidden(u"s:0"_s, true);
        QCOMPARE(describe(lanes.rows(20, 16)).first(2), (QStringList{u"orders / 0 [1]"_s, u"payments / 0 [2]"_s}));
        lanes.setHidden(u"s:3"_s, true);
        QCOMPARE(lanes.hiddenCount(), 2);
        QCOMPARE(lanes.visibleStreams(), (QList<quint32>{1, 2, 4}));
        lanes.showAll();
        QCOMPARE(lanes.hiddenCount(), 0);
        lanes.setHidden(orders, true); // a whole group
        QCOMPARE(lanes.visibleStreams(), (QList<quint32>{2, 3, 4}));
        lanes.showAll();

        // Move: a lane within its group, a top-level row among the others.
        lanes.move(u"s:1"_s, 1);
        QCOMPARE(describe(lanes.rows(20, 16)).first(3),
                 (QStringList{u"-orders [01]"_s, u" partition 1 [0]"_s, u" partition 0 [1]"_s}));
        lanes.move(u"s:3"_s, -10);
        QCOMPARE(describe(lanes.rows(20, 16)).first(1), QStringList{u"public.users [3]"_s});
        lanes.move(orders, 10);
        QCOMPARE(describe(lanes.rows(20, 16)).last(3),
                 (QStringList{u"-orders [01]"_s, u" partition 1 [0]"_s, u" partition 0 [1]"_s}));

        // A growing tape adds a stream: settings stay.
        QList<StreamStats> more = sampleStreams();
        more << stream(5, SourceKind::Kafka, u"k1"_s, u"orders"_s, 2);
        lanes.setStreams(more);
        QCOMPARE(describe(lanes.rows(20, 16)).last(4),
                 (QStringList{u"-orders [015]"_s, u" partition 1 [0]"_s, u" partition 0 [1]"_s, u" partition 2 [5]"_s}));
    }
};

QTEST_GUILESS_MAIN(TestTimelineLanes)
#include "tst_timelinelanes.moc"
