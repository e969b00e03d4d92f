#pragma once

#include "core/state/logstate.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QSet>
#include <QVector>

#include <memory>

namespace tapedeck {

class JobTracker;

// What the state view shows at one point: a snapshot of one table, the keys
// that changed since the previous point, the rows a search kept (in key
// order) and the rows of the first window, read ahead. Computed on a worker
// (StateView), an immutable value.
struct StateFrame
{
    std::shared_ptr<const LogState> state;
    int table = -1;
    LogStateSnapshot snapshot;
    qint64 previousEnd = -1;      // the step the highlight compares with (-1: none)
    QSet<quint32> changed;        // keys with an event between previousEnd and the point
    bool changedTruncated = false; // more changed keys than were collected
    bool filtered = false;        // a search is active: `rows` lists the matching keys
    QVector<quint32> rows;
    QStringList columns;          // change tables: the row's columns; Kafka: empty (fixed columns)
    QList<LogStateRow> readAhead;
    QList<quint32> keep;          // loaded rows (of the visible window) whose last event did not move
    QString error;
};

// The state of one table at a point, as a virtual table: rows are the live
// keys in key order (or the keys a search kept), cells are built only for
// the rows the view asks for. Rows are read from the tape on a worker in
// windows around what is visible; until they arrive a cell shows "…".
// No proxy: a search is a key list computed on the worker.
// Columns: change tables: the row's columns, then "Op", "Event", "Time";
// Kafka: "Key", "Value", "Partition", "Op", "Event", "Time".
// Thread: GUI thread.
class StateModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Role {
        KeyIdRole = Qt::UserRole + 1, // quint32
        SeqRole,                      // qint64: the key's last event before the point
        ChangedRole,                  // bool: changed since the previous step
        LoadedRole,                   // bool: the row was read
        KeyColumnRole,                // headerData(): bool, the column is (part of) the key
    };
    static constexpr int WindowRows = 256;

    explicit StateModel(QObject *parent = nullptr);
    ~StateModel() override;

    void setFrame(StateFrame frame);
    const StateFrame &frame() const { return m_frame; }
    void clear();
    void setUtc(bool utc);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    quint32 keyIdAt(int row) const;
    int rowOfKey(quint32 keyId) const; // -1 when not shown
    bool isKafka() const;
    // A loaded row, nullptr while it is being read.
    const LogStateRow *loadedRow(int row) const;
    // Rows being read on the worker.
    bool isLoading() const { return !m_requested.isEmpty(); }
    // The cell texts of a row as export writes them (loaded rows only).
    QStringList cellTexts(const LogStateRow &row) const;
    static QStringList cellTexts(const LogStateRow &row, bool kafka, const QStringList &columns, bool utc);
    static QString cellText(const LogStateRow &row, const QString &column);
    QString columnText(const LogStateRow &row, int column) const;
    // Reads the rest of the window of `row` on the worker (the frame brings
    // only the visible rows, so that a scrubbing step shows them sooner).
    void prefetch(int row) const
    {
        if (row >= 0 && row < rowCount())
            request(row);
    }

Q_SIGNALS:
    void rowsLoaded();
    void loadError(const QString &message);

private:
    void request(int row) const;
    void fetchRequested();
    int fixedColumns() const;

    StateFrame m_frame;
    QHash<quint32, LogStateRow> m_rows; // by key id, for m_frame's snapshot
    mutable QSet<int> m_windowsWanted;  // window numbers asked for by data()
    QSet<int> m_requested;              // windows being read
    bool m_fetchScheduled = false;
    bool m_utc = false;
    std::unique_ptr<JobTracker> m_jobs;
    quint64 m_generation = 0;
};

} // namespace tapedeck
