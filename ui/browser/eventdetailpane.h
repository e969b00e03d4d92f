#pragma once

#include "core/event/event.h"

#include <QWidget>

class QPlainTextEdit;
class QTabWidget;
class QTableWidget;
class QTreeWidget;
class QLabel;

namespace tapedeck {

class JsonHighlighter;

// Shows one event in full: a field tree (metadata, key, headers) on the left,
// the value on the right as pretty-printed, highlighted JSON or text, an
// xxd-style hex dump (chosen automatically for binary values) and, for
// change events, the old and new rows side by side. Thread: GUI thread.
class EventDetailPane : public QWidget
{
    Q_OBJECT
public:
    enum Tab { ValueTab, HexTab, RowTab };

    explicit EventDetailPane(QWidget *parent = nullptr);

    void setEvent(const Event &event, qint64 seq);
    void clear();
    void setUtc(bool utc);

    // What is shown, for tests and copy actions.
    QString valueText() const;
    QString hexText() const;
    Tab currentTab() const;
    // The value column of the top-level field row `name` ("Topic", "Key", ...), or a null string.
    QString field(const QString &name) const;
    bool isJson() const { return m_json; }

private:
    void addField(const QString &name, const QString &value);
    // setEvent's parts, one per tab.
    void showFields(const Event &event);
    QByteArray showValue(const Event &event);
    void showRowTab(const Event &event);
    void selectTab(const Event &event, const QByteArray &value);

    QLabel *m_title = nullptr;
    QTreeWidget *m_fields = nullptr;
    QTabWidget *m_tabs = nullptr;
    QPlainTextEdit *m_value = nullptr;
    QPlainTextEdit *m_hex = nullptr;
    QTableWidget *m_rows = nullptr;
    JsonHighlighter *m_highlighter = nullptr;
    bool m_json = false;
    bool m_utc = false;
};

} // namespace tapedeck
