#pragma once

#include "core/postgres/pgtypes.h"

#include <QDialog>
#include <QMessageBox>
#include <QPointer>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QListWidget;

class QPushButton;
class QSpinBox;

namespace tapedeck {

// What to record from a PostgreSQL server: the slot, the output plugin, the
// publications (pgoutput), how to read (copy, peek, temporary, consume), a
// change limit and whether to follow. Validated as you type against the
// slot browser's data. Consume asks for an extra confirmation that it
// advances the slot. options() carries no connection string: the session
// adds it. Thread: GUI thread.
class PgRecordDialog : public QDialog
{
    Q_OBJECT
public:
    PgRecordDialog(const PgServerInfo &server, const QList<PgSlotInfo> &slots,
                   const QList<PgPublicationInfo> &publications, QWidget *parent = nullptr);

    void setSlot(const QString &slot);
    void setMode(PgReadMode mode);
    void setPlugin(const QString &plugin); // empty: the slot's own
    void setPublications(const QStringList &names);
    PgRecordOptions options() const;
    QString problem() const { return m_problemText; }

    QComboBox *slotBox() const { return m_slot; }
    QComboBox *modeBox() const { return m_mode; }
    QComboBox *pluginBox() const { return m_plugin; }
    QListWidget *publicationList() const { return m_publications; }
    QSpinBox *limitBox() const { return m_limit; }
    QCheckBox *followBox() const { return m_follow; }
    // "Starting image": the tables of the checked publications; the checked
    // ones are read in a snapshot at the start of the tape (read events).
    QListWidget *snapshotList() const { return m_snapshot; }
    void setSnapshotTables(const QStringList &tables);
    QPushButton *recordButton() const;
    // The "consume advances the slot" question, while it is open.
    QMessageBox *consumeConfirmation() const { return m_confirmation; }

    void accept() override;

private:
    void createWidgets();
    void layOut();
    void connectWidgets();
    void validate();
    std::optional<PgSlotInfo> slotInfo(const QString &name) const;
    QString effectivePlugin() const;
    void refreshSnapshotTables();

    PgServerInfo m_server;
    QList<PgSlotInfo> m_slots;
    QComboBox *m_slot = nullptr;
    QComboBox *m_mode = nullptr;
    QLabel *m_modeHelp = nullptr;
    QComboBox *m_plugin = nullptr;
    QListWidget *m_publications = nullptr;
    QSpinBox *m_limit = nullptr;
    QListWidget *m_snapshot = nullptr;
    QList<PgPublicationInfo> m_publicationInfo;
    QCheckBox *m_follow = nullptr;
    QLabel *m_problem = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QString m_problemText;
    QPointer<QMessageBox> m_confirmation;
    bool m_consumeConfirmed = false;
};

} // namespace tapedeck
