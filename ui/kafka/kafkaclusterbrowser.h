#pragma once

#include "core/base/jobtracker.h"
#include "core/kafka/kafkatypes.h"

#include <QWidget>

#include <memory>
#include <optional>

class QLabel;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace tapedeck {

class KafkaService;

// The brokers, topics (partitions, replication factor, the configs that
// matter for reading and compaction) and partitions (low and high
// watermarks) of a Kafka cluster. KafkaService::describe() runs in a worker
// thread; every refresh is a numbered job and the result of an older one is
// dropped. Errors (an unreachable broker...) show inline. Thread: GUI thread.
class KafkaClusterBrowser : public QWidget
{
    Q_OBJECT
public:
    enum Column { NameColumn, DetailColumn, LowColumn, HighColumn, RecordsColumn, ColumnCount };

    explicit KafkaClusterBrowser(QWidget *parent = nullptr);
    // Waits for describe workers still running (at most the connection's timeout).
    ~KafkaClusterBrowser() override;

    void setService(KafkaService *service) { m_service = service; }
    // Shows `connection` and refreshes. `note`: an extra line for the header
    // (the demo cluster's kcat hint).
    void setConnection(const KafkaConnection &connection, const KafkaDescribeOptions &options = {},
                       const QString &note = {});
    bool hasConnection() const { return m_hasConnection; }
    KafkaConnection connection() const { return m_connection; }
    KafkaDescribeOptions describeOptions() const { return m_options; }

    void refresh();
    bool isLoading() const { return m_loading; }
    QString errorText() const { return m_error; }
    QString headerText() const;
    // The last successful describe of the current connection.
    std::optional<KafkaClusterInfo> clusterInfo() const { return m_info; }
    // Topics selected in the tree (a topic, or any of its partitions or configs).
    QStringList selectedTopics() const;

    QTreeWidget *tree() const { return m_tree; }
    QPushButton *refreshButton() const { return m_refresh; }
    QPushButton *recordButton() const { return m_record; }

Q_SIGNALS:
    // A describe finished (check errorText()).
    void loaded();
    void recordRequested(const QStringList &topics);

private:
    void showInfo(const KafkaClusterInfo &info);
    void updateHeader();

    KafkaService *m_service = nullptr;
    KafkaConnection m_connection;
    KafkaDescribeOptions m_options;
    QString m_note;
    bool m_hasConnection = false;
    bool m_loading = false;
    QString m_error;
    QString m_refreshedAt;
    std::optional<KafkaClusterInfo> m_info;
    std::unique_ptr<JobTracker> m_describeJobs;

    QLabel *m_header = nullptr;
    QLabel *m_errorLabel = nullptr;
    QTreeWidget *m_tree = nullptr;
    QPushButton *m_refresh = nullptr;
    QPushButton *m_record = nullptr;
};

} // namespace tapedeck
