#include "ui/browser/eventtablemodel.h"

#include "core/event/bound.h"
#include "core/tape/chunk.h"
#include "core/tape/tape.h"
#include "ui/common/roledelegate.h"
#include "ui/common/valueformat.h"


using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

constexpr int HeaderPreviewChars = 60;

QString rowPreview(const Row &row)
{
    QString out;
    for (const Column &c : row) {
        if (!out.isEmpty())
            out += u", "_s;
        out += c.name + u'=';
        if (c.unchangedToast)
            out += u"(unchanged)"_s;
        else if (!c.value)
            out += u"NULL"_s;
        else
            out += ValueFormat::preview(*c.value, EventTableModel::PreviewChars);
        if (out.size() > EventTableModel::PreviewChars)
            break;
    }
    if (out.size() > EventTableModel::PreviewChars) {
        out.truncate(EventTableModel::PreviewChars);
        out += u'…';
    }
    return out;
}

QString lsnText(qint64 lsn)
{
    return u"%1/%2"_s.arg(quint32(quint64(lsn) >> 32), 0, 16).arg(quint32(lsn), 0, 16).toUpper();
}

} // namespace

EventTableModel::EventTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

EventTableModel::~EventTableModel() = default;

void EventTableModel::setTape(std::shared_ptr<const Tape> tape)
{
    beginResetModel();
    m_tape = std::move(tape);
    m_visible.clear();
    m_filtered = false;
    m_chunkCache = {};
    endResetModel();
}

qint64 EventTableModel::appendSnapshot(std::shared_ptr<const Tape> tape)
{
    if (!m_tape || !tape || tape->path() != m_tape->path() || tape->eventCount() < m_tape->eventCount()) {
        setTape(std::move(tape));
        return m_tape ? m_tape->eventCount() : 0;
    }
    const qint64 added = tape->eventCount() - m_tape->eventCount();
    const int oldRows = rowCount();
    // Chunks never change once written, so the cached chunk indices stay valid.
    if (added == 0 || m_filtered) {
        m_tape = std::move(tape);
        return added;
    }
    const int newRows = int(std::min<qint64>(tape->eventCount(), std::numeric_limits<int>::max()));
    if (newRows == oldRows) {
        m_tape = std::move(tape);
        return added;
    }
    beginInsertRows({}, oldRows, newRows - 1);
    m_tape = std::move(tape);
    endInsertRows();
    return added;
}

void EventTableModel::setVisibleRows(const QVector<quint32> &rows)
{
    beginResetModel();
    m_visible = rows;
    m_filtered = true;
    endResetModel();
}

void EventTableModel::clearFilter()
{
    if (!m_filtered)
        return;
    beginResetModel();
    m_visible.clear();
    m_filtered = false;
    endResetModel();
}

qint64 EventTableModel::seqForRow(int row) const
{
    if (row < 0 || row >= rowCount())
        return -1;
    return m_filtered ? qint64(m_visible[row]) : qint64(row);
}

int EventTableModel::rowForSeq(qint64 seq) const
{
    if (!m_tape || seq < 0)
        return -1;
    if (!m_filtered)
        return seq < rowCount() ? int(seq) : -1;
    const auto it = std::lower_bound(m_visible.cbegin(), m_visible.cend(), quint32(seq));
    if (it == m_visible.cend() || *it != quint32(seq))
        return -1;
    return int(it - m_visible.cbegin());
}

void EventTableModel::setUtc(bool utc)
{
    if (utc == m_utc)
        return;
    m_utc = utc;
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, TimeColumn), index(rowCount() - 1, TimeColumn), {Qt::DisplayRole});
    Q_EMIT headerDataChanged(Qt::Horizontal, TimeColumn, TimeColumn);
}

int EventTableModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid() || !m_tape)
        return 0;
    if (m_filtered)
        return int(m_visible.size());
    return int(std::min<qint64>(m_tape->eventCount(), std::numeric_limits<int>::max()));
}

int EventTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString EventTableModel::formatTime(qint64 timestampUs, bool utc)
{
    if (timestampUs < 0)
        return {};
    return bound::formatTime(timestampUs / 1000, utc ? bound::Zone::Utc : bound::Zone::Local);
}

std::shared_ptr<const Chunk> EventTableModel::chunkFor(qint64 seq, int *index) const
{
    const int c = m_tape->chunkIndexOf(seq);
    if (c < 0)
        return nullptr;
    *index = int(seq - m_tape->chunkInfo(c).firstSeq);
    for (const CachedChunk &cached : m_chunkCache) {
        if (cached.index == c)
            return cached.chunk;
    }
    QString error;
    std::shared_ptr<const Chunk> chunk = m_tape->chunk(c, &error);
    if (!chunk)
        return nullptr;
    m_chunkCache[m_nextCacheSlot] = {c, chunk};
    m_nextCacheSlot = (m_nextCacheSlot + 1) % int(m_chunkCache.size());
    return chunk;
}

QString EventTableModel::displayText(const Chunk &chunk, int i, int column) const
{
    const StreamKey &stream = m_tape->streamKey(chunk.streamId(i));
    switch (column) {
    case TimeColumn:
        return formatTime(chunk.timestampUs(i), m_utc);
    case TopicColumn:
        return stream.topic;
    case PartitionColumn:
        return stream.partition >= 0 ? QString::number(stream.partition) : QString();
    case PositionColumn:
        if (chunk.position(i) < 0)
            return {};
        return stream.kind == SourceKind::Postgres ? lsnText(chunk.position(i)) : QString::number(chunk.position(i));
    case KeyColumn:
        return chunk.hasKey(i) ? ValueFormat::preview(chunk.key(i), PreviewChars) : QString();
    case ValueColumn: {
        const Operation op = chunk.operation(i);
        if (chunk.hasValue(i))
            return ValueFormat::preview(chunk.value(i), PreviewChars);
        if (op == Operation::Record)
            return u"(tombstone)"_s;
        Event event;
        chunk.fill(i, &event);
        const QString prefix = toString(op).toUpper() + u' ';
        if (!event.newRow.isEmpty())
            return prefix + rowPreview(event.newRow);
        if (!event.oldRow.isEmpty())
            return prefix + rowPreview(event.oldRow);
        return toString(op).toUpper();
    }
    case SizeColumn:
        return QString::number((chunk.hasKey(i) ? chunk.keySize(i) : 0) + (chunk.hasValue(i) ? chunk.valueSize(i) : 0));
    case HeadersColumn: {
        const int n = chunk.headerCount(i);
        if (n == 0)
            return {};
        QString out;
        const QList<Header> headers = chunk.headers(i);
        for (const Header &h : headers) {
            if (!out.isEmpty())
                out += u", "_s;
            out += ValueFormat::preview(h.name, 40) + u'='
                   + (h.value ? ValueFormat::preview(*h.value, 40) : u"null"_s);
            if (out.size() > HeaderPreviewChars)
                return n == 1 ? u"1 header"_s : u"%1 headers"_s.arg(n);
        }
        return out;
    }
    }
    return {};
}

QVariant EventTableModel::data(const QModelIndex &index, int role) const
{
    if (!m_tape || !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const qint64 seq = seqForRow(index.row());
    if (role == SeqRole)
        return seq;
    if (role == Qt::TextAlignmentRole) {
        switch (index.column()) {
        case PartitionColumn:
        case PositionColumn:
        case SizeColumn:
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
        }
    }
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole && role != TombstoneRole && role != OperationRole
        && role != RawKeyRole && role != RawValueRole && role != AbortedRole)
        return {};

    int i = 0;
    const std::shared_ptr<const Chunk> chunk = chunkFor(seq, &i);
    if (!chunk)
        return role == Qt::DisplayRole && index.column() == ValueColumn ? QVariant(u"(unreadable chunk)"_s) : QVariant();
    const bool tombstone = !chunk->hasValue(i) && chunk->operation(i) == Operation::Record;

    switch (role) {
    case Qt::DisplayRole:
        return displayText(*chunk, i, index.column());
    case Qt::ToolTipRole:
        if (index.column() == KeyColumn || index.column() == ValueColumn || index.column() == HeadersColumn)
            return displayText(*chunk, i, index.column());
        return {};
    case TombstoneRole:
        return tombstone;
    case OperationRole:
        return int(chunk->operation(i));
    case RawKeyRole:
        return chunk->hasKey(i) ? chunk->key(i).toByteArray() : QByteArray();
    case RawValueRole:
        return chunk->hasValue(i) ? chunk->value(i).toByteArray() : QByteArray();
    case AbortedRole:
        return bool(chunk->flags(i) & Aborted);
    }
    return {};
}

QStyledItemDelegate *EventTableModel::createDelegate(QObject *parent)
{
    auto *delegate = new RoleDelegate(parent);
    delegate->addRule({TombstoneRole, Palette::Role::Tombstone, false, RoleDelegate::Font::Italic});
    delegate->addRule({AbortedRole, Palette::Role::Aborted});
    return delegate;
}

QVariant EventTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case TimeColumn: return m_utc ? u"Time (UTC)"_s : u"Time"_s;
    case TopicColumn: return u"Topic/Table"_s;
    case PartitionColumn: return u"Partition"_s;
    case PositionColumn: return u"Position"_s;
    case KeyColumn: return u"Key"_s;
    case ValueColumn: return u"Value"_s;
    case SizeColumn: return u"Size"_s;
    case HeadersColumn: return u"Headers"_s;
    }
    return {};
}

} // namespace tapedeck
