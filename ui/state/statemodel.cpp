#include "ui/state/statemodel.h"

#include "core/base/jobtracker.h"
#include "core/event/bound.h"
#include "ui/common/valueformat.h"

#include <QTimer>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

const QStringList KafkaColumns{u"Key"_s, u"Value"_s, u"Partition"_s};
const QStringList TrailingColumns{u"Op"_s, u"Event"_s, u"Time"_s};

struct LoadedWindows
{
    QList<int> windows;
    QList<LogStateRow> rows;
    QString error;
};

} // namespace

StateModel::StateModel(QObject *parent)
    : QAbstractTableModel(parent)
    , m_jobs(std::make_unique<JobTracker>(this))
{
}

StateModel::~StateModel() = default;

void StateModel::setUtc(bool utc)
{
    m_utc = utc;
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1), {Qt::DisplayRole});
}

void StateModel::clear()
{
    setFrame(StateFrame{});
}

void StateModel::setFrame(StateFrame frame)
{
    m_jobs->cancel();
    // Rows whose last event did not move stay loaded (the worker checked the
    // visible window's; the rest of the cache is dropped): scrubbing re-reads
    // only what changed, and the GUI thread's work stays bounded by a window.
    QHash<quint32, LogStateRow> kept;
    const bool sameTable = frame.state == m_frame.state && frame.table == m_frame.table && frame.snapshot.isValid();
    const bool sameColumns = sameTable && frame.columns == m_frame.columns;
    if (sameTable) {
        for (quint32 k : std::as_const(frame.keep)) {
            const auto it = m_rows.constFind(k);
            if (it != m_rows.cend())
                kept.insert(k, *it);
        }
    }
    for (const LogStateRow &r : std::as_const(frame.readAhead))
        kept.insert(r.keyId, r);
    frame.readAhead.clear();
    const int oldRows = rowCount();
    const int newRows = frame.filtered ? int(frame.rows.size()) : frame.snapshot.isValid() ? int(frame.snapshot.rowCount()) : 0;
    if (sameColumns && oldRows == newRows) {
        // Same shape: a repaint, not a reset, so the view keeps its scroll position and current row.
        m_frame = std::move(frame);
        m_rows = std::move(kept);
        m_requested.clear();
        m_windowsWanted.clear();
        if (newRows > 0)
            Q_EMIT dataChanged(index(0, 0), index(newRows - 1, columnCount() - 1));
        return;
    }
    beginResetModel();
    m_frame = std::move(frame);
    m_rows = std::move(kept);
    m_requested.clear();
    m_windowsWanted.clear();
    endResetModel();
}

bool StateModel::isKafka() const
{
    if (!m_frame.state || m_frame.table < 0)
        return false;
    return m_frame.state->tables().at(m_frame.table).kind == SourceKind::Kafka;
}

int StateModel::fixedColumns() const
{
    return isKafka() ? int(KafkaColumns.size()) : int(m_frame.columns.size());
}

int StateModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid() || !m_frame.snapshot.isValid())
        return 0;
    return m_frame.filtered ? int(m_frame.rows.size()) : int(m_frame.snapshot.rowCount());
}

int StateModel::columnCount(const QModelIndex &parent) const
{
    if (parent.isValid() || !m_frame.snapshot.isValid())
        return 0;
    return fixedColumns() + int(TrailingColumns.size());
}

quint32 StateModel::keyIdAt(int row) const
{
    return m_frame.filtered ? m_frame.rows.at(row) : m_frame.snapshot.keyAt(row);
}

int StateModel::rowOfKey(quint32 keyId) const
{
    if (!m_frame.snapshot.isValid())
        return -1;
    if (m_frame.filtered) {
        // rows are in key order, and key ids are ranks in key order
        const auto it = std::lower_bound(m_frame.rows.cbegin(), m_frame.rows.cend(), keyId);
        return it != m_frame.rows.cend() && *it == keyId ? int(it - m_frame.rows.cbegin()) : -1;
    }
    return int(m_frame.snapshot.rowOf(keyId));
}

const LogStateRow *StateModel::loadedRow(int row) const
{
    if (row < 0 || row >= rowCount())
        return nullptr;
    const auto it = m_rows.constFind(keyIdAt(row));
    return it != m_rows.cend() ? &*it : nullptr;
}

QString StateModel::cellText(const LogStateRow &row, const QString &column)
{
    for (const Column &c : row.row) {
        if (c.name == column) {
            if (c.unchangedToast)
                return u"(unchanged TOAST)"_s;
            return c.value ? QString::fromUtf8(*c.value) : QString();
        }
    }
    return {};
}

QString StateModel::columnText(const LogStateRow &row, int column) const
{
    // One cell, without building the others (data() is called per cell).
    const int fixed = fixedColumns();
    if (column < fixed) {
        if (!isKafka())
            return cellText(row, m_frame.columns.at(column));
        if (column == 0)
            return row.keyValues.join(QString());
        if (column == 1)
            return row.value ? QString::fromUtf8(*row.value) : QString();
        return QString::number(row.partition);
    }
    if (column == fixed)
        return toString(row.operation);
    if (column == fixed + 1)
        return QString::number(row.seq);
    if (row.timestampUs < 0)
        return {};
    return bound::formatTime(row.timestampUs / 1000, m_utc ? bound::Zone::Utc : bound::Zone::Local);
}

QStringList StateModel::cellTexts(const LogStateRow &row) const
{
    return cellTexts(row, isKafka(), m_frame.columns, m_utc);
}

QStringList StateModel::cellTexts(const LogStateRow &row, bool kafka, const QStringList &columns, bool utc)
{
    QStringList out;
    if (kafka) {
        out << QStringList(row.keyValues).join(QString()) << (row.value ? QString::fromUtf8(*row.value) : QString())
            << QString::number(row.partition);
    } else {
        for (const QString &c : columns)
            out << cellText(row, c);
    }
    out << toString(row.operation) << QString::number(row.seq);
    out << (row.timestampUs >= 0 ? bound::formatTime(row.timestampUs / 1000, utc ? bound::Zone::Utc : bound::Zone::Local)
                                 : QString());
    return out;
}

QVariant StateModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= columnCount())
        return {};
    const quint32 keyId = keyIdAt(index.row());
    switch (role) {
    case KeyIdRole: return keyId;
    case SeqRole: return m_frame.snapshot.lastSeq(keyId);
    case ChangedRole: return m_frame.changed.contains(keyId);
    case LoadedRole: return m_rows.contains(keyId);
    case Qt::DisplayRole:
    case Qt::ToolTipRole: {
        const auto it = m_rows.constFind(keyId);
        if (it == m_rows.cend()) {
            request(index.row());
            return role == Qt::DisplayRole ? QVariant(u"…"_s) : QVariant();
        }
        QString text = columnText(*it, index.column());
        if (role == Qt::ToolTipRole)
            return text.size() > 2000 ? text.left(2000) + u"…"_s : text;
        // One line per cell: the view has uniform row heights.
        if (text.size() > 300)
            text = text.left(300) + u"…"_s;
        text.replace(QLatin1Char('\n'), u"⏎"_s);
        return text;
    }
    case Qt::TextAlignmentRole:
        return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    default:
        return {};
    }
}

QVariant StateModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= columnCount())
        return QAbstractTableModel::headerData(section, orientation, role);
    const int fixed = fixedColumns();
    const bool isKey = !isKafka() && section < fixed
        && m_frame.state->tables().at(m_frame.table).keyColumns.contains(m_frame.columns.at(section));
    switch (role) {
    case Qt::DisplayRole:
        if (section >= fixed)
            return TrailingColumns.at(section - fixed);
        return isKafka() ? KafkaColumns.at(section) : m_frame.columns.at(section);
    case KeyColumnRole:
        return isKey || (isKafka() && section == 0);
    case Qt::ToolTipRole:
        if (isKey || (isKafka() && section == 0))
            return u"Key"_s;
        if (section == fixed)
            return u"The key's last operation before the point"_s;
        if (section == fixed + 1)
            return u"The key's last event (sequence number in the tape)"_s;
        return {};
    default:
        return {};
    }
}

void StateModel::request(int row) const
{
    m_windowsWanted.insert(row / WindowRows);
    if (!m_fetchScheduled) {
        auto *self = const_cast<StateModel *>(this);
        self->m_fetchScheduled = true;
        // Coalesce the cells of one paint into one read.
        QTimer::singleShot(0, self, &StateModel::fetchRequested);
    }
}

void StateModel::fetchRequested()
{
    m_fetchScheduled = false;
    QSet<int> windows = m_windowsWanted;
    windows.unite(m_requested);
    m_windowsWanted.clear();
    if (windows == m_requested || !m_frame.snapshot.isValid())
        return;
    m_requested = windows;
    QList<quint32> keys;
    QList<int> list(windows.cbegin(), windows.cend());
    std::sort(list.begin(), list.end());
    for (int w : std::as_const(list)) {
        const int from = w * WindowRows;
        const int to = std::min(rowCount(), from + WindowRows);
        for (int r = from; r < to; ++r) {
            const quint32 k = keyIdAt(r);
            if (!m_rows.contains(k))
                keys.append(k);
        }
    }
    const auto state = m_frame.state;
    const LogStateSnapshot snapshot = m_frame.snapshot;
    m_jobs->start(
        [state, snapshot, keys, list](const std::function<bool()> &) {
            LoadedWindows out;
            out.windows = list;
            if (!state->rows(snapshot, keys, &out.rows, &out.error))
                out.rows.clear();
            return out;
        },
        [this](LoadedWindows result) {
            m_requested.clear();
            if (!result.error.isEmpty()) {
                Q_EMIT loadError(result.error);
                return;
            }
            for (LogStateRow &r : result.rows)
                m_rows.insert(r.keyId, std::move(r));
            if (rowCount() > 0) {
                for (int w : std::as_const(result.windows)) {
                    const int from = w * WindowRows;
                    const int to = std::min(rowCount(), from + WindowRows) - 1;
                    if (from <= to)
                        Q_EMIT dataChanged(index(from, 0), index(to, columnCount() - 1));
                }
            }
            Q_EMIT rowsLoaded();
            if (!m_windowsWanted.isEmpty())
                fetchRequested();
        });
}

} // namespace tapedeck
