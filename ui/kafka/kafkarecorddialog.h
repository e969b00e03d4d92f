#pragma once

#include "core/kafka/kafkatypes.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;

namespace tapedeck {

// What to record from a Kafka cluster: topics and partitions, where to start
// (beginning, end, an offset, a time via offsets-for-times) and stop (the end
// as it is now, an offset, a time, a number of records, or follow live),
// the isolation level and "show aborted". Validates as you type.
// Thread: GUI thread.
class KafkaRecordDialog : public QDialog
{
    Q_OBJECT
public:
    enum Start { StartBeginning, StartEnd, StartOffset, StartTime };
    enum Stop { StopEndNow, StopOffset, StopTime, StopCount, StopFollow };

    KafkaRecordDialog(const KafkaConnection &connection, const KafkaClusterInfo &cluster, QWidget *parent = nullptr);

    void setSelectedTopics(const QStringList &topics);
    // False for clusters that do not answer DescribeConfigs (the demo cluster).
    void setReadConfigs(bool read) { m_readConfigs = read; }

    KafkaRecordOptions options() const; // valid when isValid()
    bool isValid(QString *why = nullptr) const;

    QListWidget *topicList() const { return m_topics; }
    QLineEdit *partitionsEdit() const { return m_partitions; }
    QComboBox *startCombo() const { return m_start; }
    QLineEdit *startEdit() const { return m_startValue; }
    QComboBox *stopCombo() const { return m_stop; }
    QLineEdit *stopEdit() const { return m_stopValue; }
    QComboBox *isolationCombo() const { return m_isolation; }
    QCheckBox *showAbortedCheckBox() const { return m_showAborted; }
    QLabel *messageLabel() const { return m_message; }
    QPushButton *recordButton() const { return m_record; }


private:
    void validate();
    void updateFields();
    std::optional<QList<int>> partitions(QString *why) const;

    KafkaConnection m_connection;
    KafkaClusterInfo m_cluster;
    bool m_readConfigs = true;
    QListWidget *m_topics = nullptr;
    QLineEdit *m_partitions = nullptr;
    QComboBox *m_start = nullptr;
    QLineEdit *m_startValue = nullptr;
    QComboBox *m_stop = nullptr;
    QLineEdit *m_stopValue = nullptr;
    QComboBox *m_isolation = nullptr;
    QCheckBox *m_showAborted = nullptr;
    QLabel *m_summary = nullptr;
    QLabel *m_message = nullptr;
    QPushButton *m_record = nullptr;
};

} // namespace tapedeck
