#include "ui/browser/eventdetailpane.h"

#include "ui/browser/eventtablemodel.h"
#include "ui/common/jsonhighlighter.h"
#include "ui/common/valueformat.h"

#include <QFontDatabase>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

constexpr int MaxShownBytes = 4 << 20; // larger values are cut, the dump says how much

QString bytesText(const std::optional<QByteArray> &bytes)
{
    if (!bytes)
        return u"null"_s;
    if (ValueFormat::isText(*bytes))
        return QString::fromUtf8(*bytes);
    return ValueFormat::escaped(*bytes, 4096);
}

QString flagsText(quint8 flags)
{
    QStringList names;
    if (flags & Transactional)
        names << u"transactional"_s;
    if (flags & Aborted)
        names << u"aborted"_s;
    if (flags & ControlRecord)
        names << u"control record"_s;
    return names.join(u", "_s);
}

QPlainTextEdit *makeTextView(QWidget *parent)
{
    auto *view = new QPlainTextEdit(parent);
    view->setReadOnly(true);
    view->setLineWrapMode(QPlainTextEdit::NoWrap);
    view->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    view->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    return view;
}

} // namespace

EventDetailPane::EventDetailPane(QWidget *parent)
    : QWidget(parent)
{
    m_title = new QLabel(this);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_title->setContentsMargins(4, 2, 4, 2);

    m_fields = new QTreeWidget(this);
    m_fields->setColumnCount(2);
    m_fields->setHeaderLabels({u"Field"_s, u"Value"_s});
    m_fields->setRootIsDecorated(true);
    m_fields->setUniformRowHeights(true);
    m_fields->setAlternatingRowColors(true);
    m_fields->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_fields->header()->setStretchLastSection(true);

    m_value = makeTextView(this);
    m_highlighter = new JsonHighlighter(m_value->document());
    m_hex = makeTextView(this);
    m_rows = new QTableWidget(this);
    m_rows->setColumnCount(4);
    m_rows->setHorizontalHeaderLabels({u"Column"_s, u"Type"_s, u"Old"_s, u"New"_s});
    m_rows->horizontalHeader()->setStretchLastSection(true);
    m_rows->verticalHeader()->hide();
    m_rows->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_rows->setWordWrap(false);

    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    m_tabs->insertTab(ValueTab, m_value, u"Value"_s);
    m_tabs->insertTab(HexTab, m_hex, u"Hex"_s);
    m_tabs->insertTab(RowTab, m_rows, u"Row change"_s);

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(m_fields);
    splitter->addWidget(m_tabs);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    splitter->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_title);
    layout->addWidget(splitter, 1);
    clear();
}

void EventDetailPane::clear()
{
    m_title->setText(u"No event selected"_s);
    m_fields->clear();
    m_value->clear();
    m_hex->clear();
    m_rows->setRowCount(0);
    m_tabs->setTabEnabled(RowTab, false);
    m_tabs->setCurrentIndex(ValueTab);
    m_json = false;
}

void EventDetailPane::setUtc(bool utc)
{
    m_utc = utc;
}

void EventDetailPane::addField(const QString &name, const QString &value)
{
    auto *item = new QTreeWidgetItem(m_fields, {name, value});
    item->setToolTip(1, value.left(2000));
}

void EventDetailPane::setEvent(const Event &event, qint64 seq)
{
    clear();
    m_title->setText(u"<b>Event #%1</b> &nbsp; %2 %3"_s.arg(seq)
                         .arg(event.topic.toHtmlEscaped())
                         .arg(event.partition >= 0 ? u"[%1]"_s.arg(event.partition) : QString()));

    showFields(event);
    const QByteArray value = showValue(event);
    showRowTab(event);
    selectTab(event, value);
}

// The Fields tree: the event's metadata, then its headers.
void EventDetailPane::showFields(const Event &event)
{
    const bool postgres = event.kind == SourceKind::Postgres;
    addField(u"Topic"_s, event.topic);
    if (event.partition >= 0)
        addField(u"Partition"_s, QString::number(event.partition));
    addField(postgres ? u"LSN"_s : u"Offset"_s,
             postgres ? u"%1/%2"_s.arg(quint32(quint64(event.position) >> 32), 0, 16)
                            .arg(quint32(event.position), 0, 16).toUpper()
                      : QString::number(event.position));
    addField(u"Time"_s, event.timestampUs >= 0
                            ? EventTableModel::formatTime(event.timestampUs, m_utc) + (m_utc ? u" UTC"_s : QString())
                            : u"(none)"_s);
    addField(u"Timestamp type"_s, toString(event.timestampType));
    addField(u"Operation"_s, toString(event.operation));
    addField(u"Key"_s, bytesText(event.key));
    const qint64 size = (event.key ? event.key->size() : 0) + (event.value ? event.value->size() : 0);
    addField(u"Size"_s, u"%1 bytes (key %2, value %3)"_s.arg(size)
                            .arg(event.key ? QString::number(event.key->size()) : u"null"_s)
                            .arg(event.value ? QString::number(event.value->size()) : u"null"_s));
    if (!event.cluster.isEmpty())
        addField(postgres ? u"Database"_s : u"Cluster"_s, event.cluster);
    if (event.broker >= 0)
        addField(u"Broker"_s, QString::number(event.broker));
    if (event.leaderEpoch >= 0)
        addField(u"Leader epoch"_s, QString::number(event.leaderEpoch));
    if (event.flags != NoFlags)
        addField(u"Flags"_s, flagsText(event.flags));
    if (event.transactionId >= 0)
        addField(u"Transaction"_s, QString::number(event.transactionId));

    auto *headers = new QTreeWidgetItem(m_fields, {u"Headers"_s, event.headers.isEmpty()
                                                                      ? u"none"_s
                                                                      : QString::number(event.headers.size())});
    for (const Header &h : event.headers)
        new QTreeWidgetItem(headers, {bytesText(h.name), bytesText(h.value)});
    headers->setExpanded(true);
}

// The Value and Hex tabs; returns the value's shown prefix.
QByteArray EventDetailPane::showValue(const Event &event)
{
    // Value: pretty JSON, else text, else escaped bytes with the hex dump in front.
    const QByteArray value = event.value ? event.value->left(MaxShownBytes) : QByteArray();
    if (!event.value) {
        m_value->setPlainText(event.isChange() ? QString() : u"(tombstone: null value)"_s);
        m_highlighter->setEnabled(false);
    } else if (const QString pretty = ValueFormat::prettyJson(value); !pretty.isNull()) {
        m_json = true;
        m_highlighter->setEnabled(true);
        m_value->setPlainText(pretty);
    } else if (ValueFormat::isText(value)) {
        m_highlighter->setEnabled(false);
        m_value->setPlainText(QString::fromUtf8(value));
    } else {
        m_highlighter->setEnabled(false);
        m_value->setPlainText(ValueFormat::escaped(value, 64 * 1024));
    }
    m_hex->setPlainText(event.value ? ValueFormat::hexDump(*event.value, MaxShownBytes) : QString());
    return value;
}

// The Row tab of a change event: old and new column values side by side.
void EventDetailPane::showRowTab(const Event &event)
{
    if (event.isChange() && (!event.oldRow.isEmpty() || !event.newRow.isEmpty())) {
        QStringList names;
        for (const Row *row : {&event.oldRow, &event.newRow}) {
            for (const Column &c : *row) {
                if (!names.contains(c.name))
                    names << c.name;
            }
        }
        m_rows->setRowCount(int(names.size()));
        auto cellText = [](const Row &row, const QString &name, QString *type) -> QString {
            for (const Column &c : row) {
                if (c.name == name) {
                    if (!c.type.isEmpty())
                        *type = c.type;
                    if (c.unchangedToast)
                        return u"(unchanged TOAST)"_s;
                    return c.value ? bytesText(c.value) : u"NULL"_s;
                }
            }
            return {};
        };
        for (int r = 0; r < names.size(); ++r) {
            QString type;
            const QString oldText = cellText(event.oldRow, names[r], &type);
            const QString newText = cellText(event.newRow, names[r], &type);
            QString label = names[r];
            if (event.primaryKey.contains(names[r]))
                label += u" 🔑"_s;
            m_rows->setItem(r, 0, new QTableWidgetItem(label));
            m_rows->setItem(r, 1, new QTableWidgetItem(type));
            m_rows->setItem(r, 2, new QTableWidgetItem(oldText));
            auto *newItem = new QTableWidgetItem(newText);
            if (!event.oldRow.isEmpty() && !event.newRow.isEmpty() && oldText != newText) {
                QFont bold = newItem->font();
                bold.setBold(true);
                newItem->setFont(bold);
            }
            m_rows->setItem(r, 3, newItem);
        }
        m_rows->resizeColumnsToContents();
        m_tabs->setTabEnabled(RowTab, true);
    }
}

void EventDetailPane::selectTab(const Event &event, const QByteArray &value)
{
    if (event.isChange() && !event.value && m_tabs->isTabEnabled(RowTab))
        m_tabs->setCurrentIndex(RowTab);
    else if (event.value && !m_json && !ValueFormat::isText(value))
        m_tabs->setCurrentIndex(HexTab);
    else
        m_tabs->setCurrentIndex(ValueTab);
}

QString EventDetailPane::valueText() const
{
    return m_value->toPlainText();
}

QString EventDetailPane::hexText() const
{
    return m_hex->toPlainText();
}

EventDetailPane::Tab EventDetailPane::currentTab() const
{
    return Tab(m_tabs->currentIndex());
}

QString EventDetailPane::field(const QString &name) const
{
    for (int i = 0; i < m_fields->topLevelItemCount(); ++i) {
        if (m_fields->topLevelItem(i)->text(0) == name)
            return m_fields->topLevelItem(i)->text(1);
    }
    return {};
}

} // namespace tapedeck
