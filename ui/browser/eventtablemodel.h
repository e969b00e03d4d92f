#pragma once

#include <QAbstractTableModel>
#include <QVector>

class QStyledItemDelegate;

#include <array>
#include <memory>

namespace tapedeck {

class Chunk;
class Tape;

// The packet list of a tape (as Wireshark's PacketListModel): one row per
// event, text built in data() for the rows the view asks for, from chunks the
// Tape decodes and caches. Filtering does not use a proxy model: a sorted
// list of sequence numbers (from FilterJob) selects the visible rows.
// Thread: GUI thread.
class EventTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { TimeColumn, TopicColumn, PartitionColumn, PositionColumn, KeyColumn, ValueColumn,
                  SizeColumn, HeadersColumn, ColumnCount };
    enum Role {
        SeqRole = Qt::UserRole + 1, // qint64 sequence number in the tape
        TombstoneRole,              // bool: a record with a null value (not a change event)
        OperationRole,              // int: tapedeck::Operation
        RawKeyRole,                 // QByteArray, null for a null key
        RawValueRole,               // QByteArray, null for a tombstone
        AbortedRole,                // bool: a record of an aborted transaction
    };

    static constexpr int PreviewChars = 200;

    explicit EventTableModel(QObject *parent = nullptr);
    ~EventTableModel() override;

    void setTape(std::shared_ptr<const Tape> tape);
    std::shared_ptr<const Tape> tape() const { return m_tape; }

    // A newer snapshot of the same, growing tape (Tape::refreshed()): the new
    // events are inserted as one batch of rows (unfiltered) so that views keep
    // their selection and scroll position; with a filter, the visible rows stay
    // as they are until the next setVisibleRows(). Returns the number of new events.
    qint64 appendSnapshot(std::shared_ptr<const Tape> tape);

    // `rows`: sorted sequence numbers to show; replaces any earlier filter.
    void setVisibleRows(const QVector<quint32> &rows);
    void clearFilter();
    bool isFiltered() const { return m_filtered; }

    qint64 seqForRow(int row) const;
    int rowForSeq(qint64 seq) const; // -1 when not shown

    // Times in UTC instead of local time.
    void setUtc(bool utc);
    bool isUtc() const { return m_utc; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString formatTime(qint64 timestampUs, bool utc);
    // The looks of the roles above, for a view of this model: tombstones
    // italic in the palette's Tombstone colour, aborted records in Aborted.
    static QStyledItemDelegate *createDelegate(QObject *parent);

private:
    // Returns the chunk holding `seq` and the event's index in it.
    std::shared_ptr<const Chunk> chunkFor(qint64 seq, int *index) const;
    QString displayText(const Chunk &chunk, int i, int column) const;

    std::shared_ptr<const Tape> m_tape;
    QVector<quint32> m_visible;
    bool m_filtered = false;
    bool m_utc = false;

    // Hot chunks for the visible window; the Tape's own cache sits behind it
    // but takes a lock. Cleared whenever the tape changes.
    struct CachedChunk
    {
        int index = -1;
        std::shared_ptr<const Chunk> chunk;
    };
    mutable std::array<CachedChunk, 4> m_chunkCache;
    mutable int m_nextCacheSlot = 0;
};

} // namespace tapedeck
