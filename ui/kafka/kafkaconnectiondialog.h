#pragma once

#include "core/kafka/kafkaconnection.h"

#include <QDialog>
#include <QMap>

class QCheckBox;
class QComboBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace tapedeck {

class Settings;

// Where to connect: bootstrap servers plus any librdkafka property (SASL,
// SSL, timeouts), typed as name=value lines or loaded from a properties file
// as `kcat -F` reads it; saved as a named profile. Secret properties
// (KafkaConnection::isSecret) are never saved: a profile keeps their names
// and the dialog asks for their values each time. Validates as you type.
// Thread: GUI thread.
class KafkaConnectionDialog : public QDialog
{
    Q_OBJECT
public:
    explicit KafkaConnectionDialog(Settings *settings, QWidget *parent = nullptr);

    // Fills the dialog from a saved profile ("" for a new connection).
    void selectProfile(const QString &name);
    bool loadPropertiesFile(const QString &path, QString *error);

    // What to connect to, secrets included (valid when isValid()).
    KafkaConnection connection() const;
    QString profileName() const;
    bool isValid(QString *why = nullptr) const;

    QComboBox *profileCombo() const { return m_profiles; }
    QLineEdit *nameEdit() const { return m_name; }
    QLineEdit *bootstrapEdit() const { return m_bootstrap; }
    QPlainTextEdit *propertiesEdit() const { return m_properties; }
    QCheckBox *saveCheckBox() const { return m_save; }
    // The password field asked for a secret property, or nullptr.
    QLineEdit *secretEdit(const QString &property) const { return m_secrets.value(property); }
    QLabel *messageLabel() const { return m_message; }
    QPushButton *connectButton() const { return m_connect; }

    // Saves the profile (without secrets) when asked to, then closes.
    void accept() override;

private:
    // The properties typed in the editor, with the line of each error.
    bool parseProperties(QList<std::pair<QString, QString>> *out, QString *why) const;
    void setSecretNames(const QStringList &names);
    void validate();
    void fillProfiles();

    Settings *m_settings;
    QComboBox *m_profiles = nullptr;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_bootstrap = nullptr;
    QPlainTextEdit *m_properties = nullptr;
    QGroupBox *m_secretBox = nullptr;
    QFormLayout *m_secretForm = nullptr;
    QMap<QString, QLineEdit *> m_secrets;
    QCheckBox *m_save = nullptr;
    QPushButton *m_delete = nullptr;
    QLabel *m_message = nullptr;
    QPushButton *m_connect = nullptr;
};

} // namespace tapedeck
