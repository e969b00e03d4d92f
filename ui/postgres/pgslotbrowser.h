#pragma once

#include "core/postgres/pgtypes.h"

#include <QMessageBox>
#include <QPointer>
#include <QWidget>

#include <memory>
#include <optional>

class QLabel;

class QPushButton;
class QTreeWidget;

namespace tapedeck {

class JobTracker;
class PostgresService;

// The logical replication state of one PostgreSQL server: the settings that
// decide whether logical decoding works (explained when it does not), the
// replication slots (plugin, database, active PID, restart_lsn,
// confirmed_flush_lsn, WAL retained, with a warning when large) and the
// publications with their tables. Creating and dropping slots and
// publications asks for confirmation first, naming the object and the
// server. Every call to PostgresService is a numbered job in a worker; a
// newer refresh drops older results. Errors show inline.
// Thread: GUI thread.
class PgSlotBrowser : public QWidget
{
    Q_OBJECT
public:
    enum SlotColumn { SlotName, SlotPlugin, SlotDatabase, SlotStatus, SlotRestartLsn, SlotConfirmedLsn, SlotRetained, SlotColumnCount };
    enum SettingColumn { SettingName, SettingValue, SettingMeaning };

    explicit PgSlotBrowser(QWidget *parent = nullptr);
    // Waits for running jobs (each at most a connection timeout).
    ~PgSlotBrowser() override;

    void setService(PostgresService *service) { m_service = service; }
    // The connection string (with its password, in memory only) and refresh.
    void setDsn(const QString &dsn);
    QString dsn() const { return m_dsn; }
    bool hasConnection() const { return m_hasConnection; }

    void refresh();
    bool isBusy() const;
    QString errorText() const { return m_error; }
    QString headerText() const;
    // The server as shown to the user: postgresql://user@host:port/db (no password).
    QString serverName() const;

    std::optional<PgServerInfo> serverInfo() const { return m_server; }
    QList<PgSlotInfo> slotList() const { return m_slots; }
    QList<PgPublicationInfo> publicationList() const { return m_publications; }
    QString selectedSlot() const;
    QString selectedPublication() const;

    // Ask for confirmation (window-modal, not blocking), then act in a worker
    // and refresh. False when the input is invalid (errorText() says why).
    bool requestCreateSlot(const QString &name, const QString &plugin);
    bool requestDropSlot(const QString &name);
    bool requestCreatePublication(const QString &name, const QStringList &tables);
    bool requestDropPublication(const QString &name);
    // The confirmation on screen, if any (tests click its buttons).
    QMessageBox *confirmation() const { return m_confirmation; }

    QTreeWidget *settingsTree() const { return m_settingsTree; }
    QTreeWidget *slotTree() const { return m_slotTree; }
    QTreeWidget *publicationTree() const { return m_publicationTree; }
    QLabel *problemLabel() const { return m_problem; }
    QPushButton *recordButton() const { return m_record; }

Q_SIGNALS:
    // A refresh finished (check errorText()).
    void loaded();
    // A create or drop finished: empty error on success.
    void actionFinished(const QString &what, const QString &error);
    void recordRequested(const QString &slot);

private:
    struct Snapshot;
    void show(const Snapshot &snapshot);
    void showSettings();
    void updateHeader();
    void updateButtons();
    void setError(const QString &error);
    void confirm(const QString &title, const QString &text, const QString &button, bool destructive,
                 std::function<bool(PostgresService *, const QString &, QString *)> action, const QString &what);
    void newSlotDialog();
    void newPublicationDialog();

    PostgresService *m_service = nullptr;
    QString m_dsn;
    bool m_hasConnection = false;
    bool m_loading = false;
    int m_actionsRunning = 0;
    QString m_error;
    QString m_refreshedAt;
    std::optional<PgServerInfo> m_server;
    QList<PgSlotInfo> m_slots;
    QList<PgPublicationInfo> m_publications;
    std::unique_ptr<JobTracker> m_loadJobs;
    std::unique_ptr<JobTracker> m_actionJobs;
    QPointer<QMessageBox> m_confirmation;

    QLabel *m_header = nullptr;
    QLabel *m_problem = nullptr;
    QLabel *m_errorLabel = nullptr;
    QTreeWidget *m_settingsTree = nullptr;
    QTreeWidget *m_slotTree = nullptr;
    QTreeWidget *m_publicationTree = nullptr;
    QPushButton *m_refresh = nullptr;
    QPushButton *m_newSlot = nullptr;
    QPushButton *m_dropSlot = nullptr;
    QPushButton *m_newPublication = nullptr;
    QPushButton *m_dropPublication = nullptr;
    QPushButton *m_record = nullptr;
};

} // namespace tapedeck
