#pragma once

#include <QDialog>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace tapedeck {

class Settings;

// Where to connect: a libpq connection string or postgresql:// URI, named
// profiles kept in Settings (without passwords), and a password field that
// is asked for each time and never stored. Empty fields fall back to libpq's
// own sources (~/.pgpass, PGHOST, PGPASSWORD...). Validated as you type.
// Thread: GUI thread.
class PgConnectionDialog : public QDialog
{
    Q_OBJECT
public:
    explicit PgConnectionDialog(Settings *settings, QWidget *parent = nullptr);

    // The connection string to use, with the typed password (memory only).
    QString dsn() const;
    // What the profile stores and the window shows.
    QString dsnWithoutPassword() const;
    void setDsn(const QString &dsn);
    QString problem() const { return m_problemText; }

    QComboBox *profileBox() const { return m_profile; }
    QLineEdit *dsnEdit() const { return m_dsn; }
    QLineEdit *passwordEdit() const { return m_password; }
    QPushButton *saveProfileButton() const { return m_save; }
    QPushButton *deleteProfileButton() const { return m_delete; }
    QPushButton *connectButton() const;

    void accept() override;

private:
    void loadProfile(const QString &name);
    void saveProfile();
    void validate();
    void reloadProfiles();

    Settings *m_settings;
    QComboBox *m_profile = nullptr;
    QLineEdit *m_dsn = nullptr;
    QLineEdit *m_password = nullptr;
    QPushButton *m_save = nullptr;
    QPushButton *m_delete = nullptr;
    QLabel *m_note = nullptr;
    QLabel *m_problem = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QString m_problemText;
};

} // namespace tapedeck
