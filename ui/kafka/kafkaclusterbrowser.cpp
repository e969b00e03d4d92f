#include "ui/kafka/kafkaclusterbrowser.h"

#include "core/kafka/kafkaservice.h"
#include "ui/common/palette.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QTime>
#include <QTreeWidget>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

constexpr int TopicRole = Qt::UserRole + 1;
// Expanding every topic is helpful for a handful and noise for hundreds.
constexpr int ExpandTopicsUpTo = 20;

QString idList(const QList<int> &ids)
{
    QStringList parts;
    for (int id : ids)
        parts.append(QString::number(id));
    return parts.join(u',');
}

QTreeWidgetItem *addItem(QTreeWidgetItem *parent, const QString &name, const QString &detail, const QString &topic = {})
{
    auto *item = new QTreeWidgetItem(parent, {name, detail});
    item->setToolTip(KafkaClusterBrowser::DetailColumn, detail);
    if (!topic.isEmpty())
        item->setData(KafkaClusterBrowser::NameColumn, TopicRole, topic);
    return item;
}

void setNumber(QTreeWidgetItem *item, int column, qint64 value)
{
    if (value < 0)
        return;
    item->setText(column, QLocale().toString(value));
    item->setTextAlignment(column, Qt::AlignRight | Qt::AlignVCenter);
}

} // namespace

KafkaClusterBrowser::KafkaClusterBrowser(QWidget *parent)
    : QWidget(parent), m_describeJobs(std::make_unique<JobTracker>(this, JobTracker::blockingPool()))
{
    m_header = new QLabel(this);
    m_header->setTextFormat(Qt::RichText);
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_errorLabel = new QLabel(this);
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    Palette::setStyleSheet(m_errorLabel, u"QLabel { color: %1; background: %2; padding: 4px; }"_s, {Palette::Role::Error, Palette::Role::ErrorBackground});
    m_errorLabel->hide();

    m_refresh = new QPushButton(QIcon::fromTheme(u"view-refresh"_s), u"Refresh"_s, this);
    m_record = new QPushButton(QIcon::fromTheme(u"media-record"_s), u"Record…"_s, this);
    m_record->setToolTip(u"Record the selected topics (or choose them in the dialog)"_s);
    connect(m_refresh, &QPushButton::clicked, this, &KafkaClusterBrowser::refresh);
    connect(m_record, &QPushButton::clicked, this, [this] { Q_EMIT recordRequested(selectedTopics()); });

    m_tree = new QTreeWidget(this);
    m_tree->setColumnCount(ColumnCount);
    m_tree->setHeaderLabels({u"Name"_s, u"Details"_s, u"Low"_s, u"High"_s, u"Records"_s});
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(NameColumn, QHeaderView::Interactive);
    m_tree->header()->setSectionResizeMode(DetailColumn, QHeaderView::Stretch);
    const QFontMetrics fm = fontMetrics();
    m_tree->setColumnWidth(NameColumn, fm.horizontalAdvance(u"min.compaction.lag.ms"_s) + 3 * m_tree->indentation());
    for (int c : {LowColumn, HighColumn, RecordsColumn})
        m_tree->setColumnWidth(c, fm.horizontalAdvance(u"0,000,000"_s) + 10);
    connect(m_tree, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem *item) {
        if (!item->data(NameColumn, TopicRole).toString().isEmpty() && item->childCount() == 0)
            Q_EMIT recordRequested(selectedTopics());
    });

    auto *buttons = new QHBoxLayout;
    buttons->setContentsMargins(0, 0, 0, 0);
    buttons->addWidget(m_refresh);
    buttons->addWidget(m_record);
    buttons->addStretch(1);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_header);
    layout->addWidget(m_errorLabel);
    layout->addLayout(buttons);
    layout->addWidget(m_tree, 1);
    updateHeader();
}

// m_describeJobs waits for a describe under way (at most its timeout).
KafkaClusterBrowser::~KafkaClusterBrowser() = default;

void KafkaClusterBrowser::setConnection(const KafkaConnection &connection, const KafkaDescribeOptions &options,
                                        const QString &note)
{
    m_connection = connection;
    m_options = options;
    m_note = note;
    m_hasConnection = true;
    m_info.reset();
    m_error.clear();
    m_refreshedAt.clear();
    m_tree->clear();
    refresh();
}

void KafkaClusterBrowser::refresh()
{
    if (!m_hasConnection || !m_service)
        return;
    m_loading = true;
    struct Result
    {
        std::optional<KafkaClusterInfo> info;
        QString error;
    };
    KafkaService *service = m_service;
    // A newer refresh (or another connection) supersedes this one: its answer is dropped.
    m_describeJobs->start(
        [service, connection = m_connection, options = m_options](const std::function<bool()> &) {
            Result r;
            r.info = service->describe(connection, options, &r.error);
            return r;
        },
        [this](Result result) {
            m_loading = false;
            m_refreshedAt = QTime::currentTime().toString(u"HH:mm:ss"_s);
            if (result.info) {
                m_error.clear();
                m_info = result.info;
                showInfo(*m_info);
            } else {
                m_error = result.error.isEmpty() ? u"the cluster did not answer"_s : result.error;
                m_info.reset();
                m_tree->clear();
            }
            updateHeader();
            Q_EMIT loaded();
        });
    updateHeader();
}

QString KafkaClusterBrowser::headerText() const
{
    return m_header->text();
}

void KafkaClusterBrowser::updateHeader()
{
    QString text;
    if (!m_hasConnection) {
        text = u"Not connected · <b>Kafka › Connect…</b> or <b>Kafka › Start Demo Cluster</b>"_s;
    } else {
        text = u"<b>%1</b>"_s.arg(m_connection.describe().toHtmlEscaped());
        if (m_loading)
            text += u" · loading…"_s;
        else if (m_info)
            text += u" · %1 brokers, %2 topics · refreshed %3"_s.arg(m_info->brokers.size()).arg(m_info->topics.size())
                        .arg(m_refreshedAt);
        else if (!m_error.isEmpty())
            text += u" · failed at %1"_s.arg(m_refreshedAt);
        if (!m_note.isEmpty())
            text += u"<br>"_s + m_note;
    }
    m_header->setText(text);
    m_errorLabel->setText(m_error.isEmpty() ? QString() : u"Cannot describe the cluster: "_s + m_error);
    m_errorLabel->setVisible(!m_error.isEmpty());
    m_refresh->setEnabled(m_hasConnection && m_service);
    m_record->setEnabled(m_info.has_value());
}

void KafkaClusterBrowser::showInfo(const KafkaClusterInfo &info)
{
    const QStringList wasSelected = selectedTopics();
    m_tree->clear();
    auto *brokers = new QTreeWidgetItem(m_tree, {u"Brokers"_s, u"%1"_s.arg(info.brokers.size())});
    for (const KafkaBrokerInfo &b : info.brokers) {
        QString detail = u"%1:%2"_s.arg(b.host).arg(b.port);
        if (b.id == info.originatingBroker)
            detail += u" · answered this request"_s;
        addItem(brokers, u"broker %1"_s.arg(b.id), detail);
    }
    brokers->setExpanded(true);

    auto *topics = new QTreeWidgetItem(m_tree, {u"Topics"_s, u"%1"_s.arg(info.topics.size())});
    const QStringList relevant = compactionRelevantConfigs();
    for (const KafkaTopicInfo &t : info.topics) {
        QString detail;
        if (!t.error.isEmpty()) {
            detail = u"error: "_s + t.error;
        } else {
            detail = (t.partitions.size() == 1 ? u"1 partition"_s : u"%1 partitions"_s.arg(t.partitions.size()))
                + u" · replication %1"_s.arg(t.replicationFactor());
            if (t.configs.contains(u"cleanup.policy"_s))
                detail += u" · cleanup.policy=%1"_s.arg(t.configs.value(u"cleanup.policy"_s));
        }
        QTreeWidgetItem *topic = addItem(topics, t.name, detail, t.name);
        if (!t.error.isEmpty())
            topic->setForeground(DetailColumn, Palette::color(Palette::Role::Error));
        qint64 records = 0;
        bool known = !t.partitions.isEmpty();
        for (const KafkaPartitionInfo &p : t.partitions) {
            QString pd = u"leader %1 · replicas %2 · isr %3"_s.arg(p.leader).arg(idList(p.replicas), idList(p.isrs));
            if (!p.error.isEmpty())
                pd += u" · error: "_s + p.error;
            QTreeWidgetItem *partition = addItem(topic, u"partition %1"_s.arg(p.id), pd, t.name);
            partition->setData(NameColumn, Qt::UserRole + 2, p.id);
            setNumber(partition, LowColumn, p.low);
            setNumber(partition, HighColumn, p.high);
            if (p.low >= 0 && p.high >= 0) {
                setNumber(partition, RecordsColumn, p.high - p.low);
                records += p.high - p.low;
            } else {
                known = false;
            }
        }
        if (known)
            setNumber(topic, RecordsColumn, records);
        QTreeWidgetItem *configs = addItem(topic, u"configs"_s, QString(), t.name);
        if (!t.configs.isEmpty()) {
            for (const QString &name : relevant) {
                if (t.configs.contains(name))
                    addItem(configs, name, t.configs.value(name), t.name);
            }
            configs->setText(DetailColumn, u"%1 that matter for reading and compaction"_s.arg(configs->childCount()));
        } else if (!info.configsError.isEmpty()) {
            configs->setText(DetailColumn, u"not available: "_s + info.configsError);
        } else if (!m_options.configs) {
            configs->setText(DetailColumn, u"not read (no DescribeConfigs on this cluster)"_s);
        }
        configs->setForeground(DetailColumn, palette().color(QPalette::PlaceholderText));
        topic->setExpanded(info.topics.size() <= ExpandTopicsUpTo);
        topic->setSelected(wasSelected.contains(t.name));
    }
    topics->setExpanded(true);
}

QStringList KafkaClusterBrowser::selectedTopics() const
{
    QStringList topics;
    const QList<QTreeWidgetItem *> items = m_tree->selectedItems();
    for (const QTreeWidgetItem *item : items) {
        const QString topic = item->data(NameColumn, TopicRole).toString();
        if (!topic.isEmpty() && !topics.contains(topic))
            topics.append(topic);
    }
    return topics;
}

} // namespace tapedeck
