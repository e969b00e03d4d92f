#include "ui/kafka/kafkarecorddialog.h"
#include "ui/common/palette.h"

#include "core/event/bound.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QPushButton>
#include <QTimeZone>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

QString errorHtml(const QString &text)
{
    return u"<span style='color:%1'>%2</span>"_s.arg(Palette::css(Palette::Role::Error), text.toHtmlEscaped());
}

} // namespace

KafkaRecordDialog::KafkaRecordDialog(const KafkaConnection &connection, const KafkaClusterInfo &cluster, QWidget *parent)
    : QDialog(parent)
    , m_connection(connection)
    , m_cluster(cluster)
{
    setWindowTitle(u"Record from %1"_s.arg(connection.describe()));

    m_topics = new QListWidget(this);
    for (const KafkaTopicInfo &t : cluster.topics) {
        auto *item = new QListWidgetItem(u"%1  (%2 partitions)"_s.arg(t.name).arg(t.partitions.size()), m_topics);
        item->setData(Qt::UserRole, t.name);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsSelectable);
        item->setCheckState(Qt::Unchecked);
    }
    m_topics->setMinimumHeight(120);
    m_partitions = new QLineEdit(this);
    m_partitions->setPlaceholderText(u"all (or e.g. 0,2)"_s);

    m_start = new QComboBox(this);
    m_start->addItems({u"Beginning"_s, u"End (new records only)"_s, u"Offset"_s, u"Time"_s});
    m_startValue = new QLineEdit(this);
    m_stop = new QComboBox(this);
    m_stop->addItems({u"End as it is now"_s, u"Offset (inclusive)"_s, u"Time (inclusive)"_s, u"Number of records"_s,
                      u"Follow live (until stopped)"_s});
    m_stopValue = new QLineEdit(this);
    auto *startRow = new QHBoxLayout;
    startRow->addWidget(m_start);
    startRow->addWidget(m_startValue, 1);
    auto *stopRow = new QHBoxLayout;
    stopRow->addWidget(m_stop);
    stopRow->addWidget(m_stopValue, 1);

    m_isolation = new QComboBox(this);
    m_isolation->addItem(u"read_committed"_s, true);
    m_isolation->addItem(u"read_uncommitted"_s, false);
    m_showAborted = new QCheckBox(u"Show aborted transactions (marked, read twice to tell them apart)"_s, this);

    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_message = new QLabel(this);
    m_message->setWordWrap(true);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_record = buttons->addButton(u"Record"_s, QDialogButtonBox::AcceptRole);
    m_record->setIcon(QIcon::fromTheme(u"media-record"_s));
    m_record->setDefault(true);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        if (isValid())
            accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *form = new QFormLayout;
    form->addRow(u"Topics:"_s, m_topics);
    form->addRow(u"Partitions:"_s, m_partitions);
    form->addRow(u"Start at:"_s, startRow);
    form->addRow(u"Stop at:"_s, stopRow);
    form->addRow(u"Isolation:"_s, m_isolation);
    form->addRow(QString(), m_showAborted);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_summary);
    layout->addWidget(m_message);
    layout->addWidget(buttons);
    resize(540, 480);

    connect(m_topics, &QListWidget::itemChanged, this, &KafkaRecordDialog::validate);
    connect(m_partitions, &QLineEdit::textChanged, this, &KafkaRecordDialog::validate);
    connect(m_start, &QComboBox::currentIndexChanged, this, &KafkaRecordDialog::updateFields);
    connect(m_stop, &QComboBox::currentIndexChanged, this, &KafkaRecordDialog::updateFields);
    connect(m_startValue, &QLineEdit::textChanged, this, &KafkaRecordDialog::validate);
    connect(m_stopValue, &QLineEdit::textChanged, this, &KafkaRecordDialog::validate);
    connect(m_showAborted, &QCheckBox::toggled, this, &KafkaRecordDialog::updateFields);
    updateFields();
}

void KafkaRecordDialog::setSelectedTopics(const QStringList &topics)
{
    for (int i = 0; i < m_topics->count(); ++i) {
        QListWidgetItem *item = m_topics->item(i);
        item->setCheckState(topics.contains(item->data(Qt::UserRole).toString()) ? Qt::Checked : Qt::Unchecked);
    }
    validate();
}

void KafkaRecordDialog::updateFields()
{
    const auto start = Start(m_start->currentIndex());
    const auto stop = Stop(m_stop->currentIndex());
    m_startValue->setEnabled(start == StartOffset || start == StartTime);
    m_startValue->setPlaceholderText(start == StartOffset ? u"offset, e.g. 1000"_s
                                     : start == StartTime ? u"2026-01-01 10:00:00 (UTC), +01:00 for a zone, or @ms"_s
                                                          : QString());
    m_stopValue->setEnabled(stop == StopOffset || stop == StopTime || stop == StopCount);
    m_stopValue->setPlaceholderText(stop == StopOffset ? u"last offset to record"_s
                                    : stop == StopTime ? u"2026-01-01 11:00:00 (UTC), +01:00 for a zone, or @ms"_s
                                    : stop == StopCount ? u"records in all (waits for new ones)"_s
                                                        : QString());
    // Marking aborted records reads the range twice, so it needs a bounded range.
    const bool unbounded = stop == StopFollow || stop == StopCount;
    m_showAborted->setEnabled(!unbounded);
    if (unbounded)
        m_showAborted->setChecked(false);
    // Aborted records are only seen when reading uncommitted.
    if (m_showAborted->isChecked())
        m_isolation->setCurrentIndex(1);
    m_isolation->setEnabled(!m_showAborted->isChecked());
    validate();
}

std::optional<QList<int>> KafkaRecordDialog::partitions(QString *why) const
{
    QList<int> out;
    const QString text = m_partitions->text().trimmed();
    if (text.isEmpty() || text == u"all"_s)
        return out;
    int most = 0;
    for (int i = 0; i < m_topics->count(); ++i) {
        if (m_topics->item(i)->checkState() == Qt::Checked)
            most = std::max(most, int(m_cluster.topics.value(i).partitions.size()));
    }
    const QStringList parts = text.split(u',', Qt::SkipEmptyParts);
    for (const QString &part : parts) {
        bool ok = false;
        const int n = part.trimmed().toInt(&ok);
        if (!ok || n < 0) {
            *why = u"Partitions: \"%1\" is not a partition number"_s.arg(part.trimmed());
            return std::nullopt;
        }
        if (most > 0 && n >= most) {
            *why = u"Partitions: no selected topic has a partition %1"_s.arg(n);
            return std::nullopt;
        }
        if (!out.contains(n))
            out.append(n);
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool KafkaRecordDialog::isValid(QString *why) const
{
    QString error;
    auto fail = [&](const QString &message) {
        if (why)
            *why = message;
        return false;
    };
    bool anyTopic = false;
    for (int i = 0; i < m_topics->count(); ++i)
        anyTopic = anyTopic || m_topics->item(i)->checkState() == Qt::Checked;
    if (!anyTopic)
        return fail(u"Tick the topics to record."_s);
    if (!partitions(&error))
        return fail(error);
    bool ok = false;
    switch (Start(m_start->currentIndex())) {
    case StartOffset:
        if (m_startValue->text().trimmed().toLongLong(&ok) < 0 || !ok)
            return fail(u"Start at: enter an offset (a number from 0)."_s);
        break;
    case StartTime:
        if (!bound::parseTime(m_startValue->text()))
            return fail(u"Start at: enter a time: %1."_s.arg(bound::timeSyntax()));
        break;
    default:
        break;
    }
    switch (Stop(m_stop->currentIndex())) {
    case StopOffset:
        if (m_stopValue->text().trimmed().toLongLong(&ok) < 0 || !ok)
            return fail(u"Stop at: enter the last offset to record (a number from 0)."_s);
        break;
    case StopTime:
        if (!bound::parseTime(m_stopValue->text()))
            return fail(u"Stop at: enter a time: %1."_s.arg(bound::timeSyntax()));
        break;
    case StopCount:
        if (m_stopValue->text().trimmed().toLongLong(&ok) <= 0 || !ok)
            return fail(u"Stop at: enter a number of records (at least 1)."_s);
        break;
    default:
        break;
    }
    return true;
}

void KafkaRecordDialog::validate()
{
    QString why;
    const bool valid = isValid(&why);
    m_record->setEnabled(valid);
    m_message->setText(valid ? QString() : errorHtml(why));
    if (!valid) {
        m_summary->clear();
        return;
    }
    // What is there now, from the watermarks the browser read.
    const KafkaRecordOptions o = options();
    qint64 records = 0;
    int partitionCount = 0;
    for (const KafkaTopicInfo &t : std::as_const(m_cluster.topics)) {
        if (!o.topics.contains(t.name))
            continue;
        for (const KafkaPartitionInfo &p : t.partitions) {
            if (!o.partitions.isEmpty() && !o.partitions.contains(p.id))
                continue;
            ++partitionCount;
            if (p.high >= 0 && p.low >= 0)
                records += p.high - p.low;
        }
    }
    const QString stopText = o.follow ? (o.maxCount > 0 ? u"until %1 records"_s.arg(QLocale().toString(o.maxCount))
                                                        : u"following live until you stop it"_s)
                                      : u"then stop"_s;
    m_summary->setText(u"%1 partitions holding %2 records now; recording into a temporary tape (File › Save As keeps "
                       "it), %3."_s.arg(partitionCount).arg(QLocale().toString(records), stopText));
}

KafkaRecordOptions KafkaRecordDialog::options() const
{
    KafkaRecordOptions o;
    o.connection = m_connection;
    for (int i = 0; i < m_topics->count(); ++i) {
        if (m_topics->item(i)->checkState() == Qt::Checked)
            o.topics.append(m_topics->item(i)->data(Qt::UserRole).toString());
    }
    QString ignored;
    o.partitions = partitions(&ignored).value_or(QList<int>());
    switch (Start(m_start->currentIndex())) {
    case StartBeginning: o.from = {KafkaPosition::Beginning, 0}; break;
    case StartEnd: o.from = {KafkaPosition::End, 0}; break;
    case StartOffset: o.from = {KafkaPosition::Offset, m_startValue->text().trimmed().toLongLong()}; break;
    case StartTime: o.from = {KafkaPosition::Timestamp, bound::parseTime(m_startValue->text()).value_or(0)}; break;
    }
    switch (Stop(m_stop->currentIndex())) {
    case StopEndNow: o.to = {KafkaPosition::End, 0}; break;
    case StopOffset: o.to = {KafkaPosition::Offset, m_stopValue->text().trimmed().toLongLong()}; break;
    case StopTime: o.to = {KafkaPosition::Timestamp, bound::parseTime(m_stopValue->text()).value_or(0)}; break;
    case StopCount:
        o.follow = true;
        o.maxCount = m_stopValue->text().trimmed().toLongLong();
        break;
    case StopFollow: o.follow = true; break;
    }
    o.markAborted = m_showAborted->isChecked();
    o.readCommitted = !o.markAborted && m_isolation->currentData().toBool();
    o.readConfigs = m_readConfigs;
    return o;
}

} // namespace tapedeck
