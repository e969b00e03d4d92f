#pragma once

#include "filterjob.h"

#include <QMainWindow>

#include <memory>

class QLabel;
class QMenu;
class QSplitter;
class QTableView;

namespace tapedeck {

class EventDetailPane;
class EventTableModel;
class FilterBar;
class Settings;
class Tape;

// The browser window: filter bar, packet list and detail pane. The only
// place that shows errors in dialogs. Thread: GUI thread.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Opens a tape; on failure shows the error in a message box (unless
    // error dialogs are off, for tests) and returns false.
    bool openFile(const QString &path);
    // Copies the built-in demo tape to the cache directory and opens it.
    bool openDemo();
    void closeFile();

    void setErrorDialogsEnabled(bool enabled) { m_errorDialogs = enabled; }
    QString lastError() const { return m_lastError; }

    std::shared_ptr<const Tape> tape() const { return m_tape; }
    QTableView *tableView() const { return m_table; }
    EventTableModel *model() const { return m_model; }
    EventDetailPane *detailPane() const { return m_detail; }
    FilterBar *filterBar() const { return m_filterBar; }
    Settings *settings() const { return m_settings; }
    QString statusText() const;

    static QString demoResourcePath();

protected:
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void createMenus();
    void updateRecentMenu();
    void updateStatus();
    void updateTitle();
    void showCurrentEvent();
    void saveAs();
    void showError(const QString &title, const QString &message);
    void applyDefaultColumnWidths();

    Settings *m_settings = nullptr;
    std::shared_ptr<const Tape> m_tape;
    EventTableModel *m_model = nullptr;
    QTableView *m_table = nullptr;
    EventDetailPane *m_detail = nullptr;
    FilterBar *m_filterBar = nullptr;
    QSplitter *m_splitter = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_warnings = nullptr;
    QMenu *m_recentMenu = nullptr;
    QAction *m_saveAsAction = nullptr;
    QAction *m_closeAction = nullptr;
    bool m_errorDialogs = true;
    QString m_lastError;
};

} // namespace tapedeck
