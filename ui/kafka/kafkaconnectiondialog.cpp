#include "ui/kafka/kafkaconnectiondialog.h"

#include "ui/common/settings.h"
#include "ui/common/palette.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace tapedeck {

KafkaConnectionDialog::KafkaConnectionDialog(Settings *settings, QWidget *parent)
    : QDialog(parent)
    , m_settings(settings)
{
    setWindowTitle(u"Connect to Kafka"_s);

    m_profiles = new QComboBox(this);
    m_delete = new QPushButton(u"Delete"_s, this);
    m_delete->setToolTip(u"Delete this saved profile"_s);
    auto *profileRow = new QHBoxLayout;
    profileRow->addWidget(m_profiles, 1);
    profileRow->addWidget(m_delete);

    m_name = new QLineEdit(this);
    m_name->setPlaceholderText(u"e.g. staging"_s);
    m_bootstrap = new QLineEdit(this);
    m_bootstrap->setPlaceholderText(u"host1:9092,host2:9092"_s);
    m_properties = new QPlainTextEdit(this);
    m_properties->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_properties->setPlaceholderText(u"librdkafka properties, one name=value a line, e.g.\n"
                                     "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=alice\n"
                                     "socket.connection.setup.timeout.ms=5000"_s);
    m_properties->setTabChangesFocus(true);
    auto *load = new QPushButton(u"Load Properties File…"_s, this);
    load->setToolTip(u"A properties file as kcat -F reads it: name=value lines, # comments"_s);

    m_secretBox = new QGroupBox(u"Secrets (asked each time, never saved)"_s, this);
    m_secretForm = new QFormLayout(m_secretBox);
    m_secretBox->hide();

    m_save = new QCheckBox(u"Save as a profile (without secrets)"_s, this);
    m_save->setChecked(true);
    m_message = new QLabel(this);
    m_message->setWordWrap(true);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_connect = buttons->addButton(u"Connect"_s, QDialogButtonBox::AcceptRole);
    m_connect->setDefault(true);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *form = new QFormLayout;
    form->addRow(u"Profile:"_s, profileRow);
    form->addRow(u"Name:"_s, m_name);
    form->addRow(u"Bootstrap servers:"_s, m_bootstrap);
    form->addRow(u"Properties:"_s, m_properties);
    form->addRow(QString(), load);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_secretBox);
    layout->addWidget(m_save);
    layout->addWidget(m_message);
    layout->addWidget(buttons);
    resize(560, 460);

    fillProfiles();
    connect(m_profiles, &QComboBox::activated, this, [this](int index) { selectProfile(m_profiles->itemData(index).toString()); });
    connect(m_delete, &QPushButton::clicked, this, [this] {
        m_settings->removeKafkaProfile(m_profiles->currentData().toString());
        fillProfiles();
        selectProfile(QString());
    });
    connect(load, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, u"Load Kafka properties"_s, QString(),
                                                          u"Properties (*.properties *.conf *.config);;All files (*)"_s);
        QString error;
        if (!path.isEmpty() && !loadPropertiesFile(path, &error))
            m_message->setText(u"<span style='color:%1'>%2</span>"_s.arg(Palette::css(Palette::Role::Error), error.toHtmlEscaped()));
    });
    connect(m_name, &QLineEdit::textChanged, this, &KafkaConnectionDialog::validate);
    connect(m_bootstrap, &QLineEdit::textChanged, this, &KafkaConnectionDialog::validate);
    connect(m_properties, &QPlainTextEdit::textChanged, this, &KafkaConnectionDialog::validate);
    connect(m_save, &QCheckBox::toggled, this, &KafkaConnectionDialog::validate);

    const QString last = m_settings->lastKafkaProfile();
    selectProfile(m_settings->kafkaProfileNames().contains(last) ? last : QString());
}

void KafkaConnectionDialog::fillProfiles()
{
    m_profiles->clear();
    m_profiles->addItem(u"New connection"_s, QString());
    const QStringList names = m_settings->kafkaProfileNames();
    for (const QString &name : names)
        m_profiles->addItem(name, name);
}

void KafkaConnectionDialog::selectProfile(const QString &name)
{
    QStringList secretNames;
    const std::optional<KafkaConnection> profile = name.isEmpty() ? std::nullopt : m_settings->kafkaProfile(name, &secretNames);
    const int index = m_profiles->findData(profile ? name : QString());
    m_profiles->setCurrentIndex(std::max(index, 0));
    m_delete->setEnabled(profile.has_value());
    m_name->setText(profile ? name : QString());
    m_bootstrap->setText(profile ? profile->bootstrap : QString());
    QString text;
    if (profile) {
        for (const auto &[property, value] : profile->properties)
            text += property + u'=' + value + u'\n';
    }
    m_properties->setPlainText(text);
    setSecretNames(secretNames);
    validate();
    if (!m_secrets.isEmpty())
        m_secrets.first()->setFocus();
}

bool KafkaConnectionDialog::loadPropertiesFile(const QString &path, QString *error)
{
    KafkaConnection loaded;
    if (!loaded.loadPropertiesFile(path, error))
        return false;
    QString text = m_properties->toPlainText();
    if (!text.isEmpty() && !text.endsWith(u'\n'))
        text += u'\n';
    for (const auto &[property, value] : loaded.properties)
        text += property + u'=' + value + u'\n';
    m_properties->setPlainText(text);
    return true;
}

void KafkaConnectionDialog::setSecretNames(const QStringList &names)
{
    while (m_secretForm->rowCount() > 0)
        m_secretForm->removeRow(0);
    m_secrets.clear();
    for (const QString &name : names) {
        auto *edit = new QLineEdit(m_secretBox);
        edit->setEchoMode(QLineEdit::Password);
        edit->setObjectName(name);
        connect(edit, &QLineEdit::textChanged, this, &KafkaConnectionDialog::validate);
        m_secretForm->addRow(name + u':', edit);
        m_secrets.insert(name, edit);
    }
    m_secretBox->setVisible(!names.isEmpty());
}

bool KafkaConnectionDialog::parseProperties(QList<std::pair<QString, QString>> *out, QString *why) const
{
    const QStringList lines = m_properties->toPlainText().split(u'\n');
    for (int i = 0; i < lines.size(); ++i) {
        const QString line = lines[i].trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        const qsizetype eq = line.indexOf(u'=');
        if (eq <= 0) {
            if (why)
                *why = u"Properties, line %1: expected name=value, got \"%2\""_s.arg(i + 1).arg(line);
            return false;
        }
        out->append({line.left(eq).trimmed(), line.mid(eq + 1).trimmed()});
    }
    return true;
}

KafkaConnection KafkaConnectionDialog::connection() const
{
    KafkaConnection c;
    c.bootstrap = m_bootstrap->text().trimmed();
    QList<std::pair<QString, QString>> properties;
    parseProperties(&properties, nullptr);
    for (const auto &p : std::as_const(properties)) {
        if (!m_secrets.contains(p.first))
            c.properties.append(p);
    }
    for (auto it = m_secrets.cbegin(); it != m_secrets.cend(); ++it)
        c.properties.append({it.key(), it.value()->text()});
    return c;
}

QString KafkaConnectionDialog::profileName() const
{
    return m_save->isChecked() ? m_name->text().trimmed() : QString();
}

bool KafkaConnectionDialog::isValid(QString *why) const
{
    QList<std::pair<QString, QString>> properties;
    QString error;
    if (!parseProperties(&properties, &error)) {
        if (why)
            *why = error;
        return false;
    }
    if (connection().bootstrapServers().isEmpty()) {
        if (why)
            *why = u"Enter the bootstrap servers (host:port, comma-separated), or bootstrap.servers as a property."_s;
        return false;
    }
    for (auto it = m_secrets.cbegin(); it != m_secrets.cend(); ++it) {
        if (it.value()->text().isEmpty()) {
            if (why)
                *why = u"Enter %1: secrets are not saved with the profile."_s.arg(it.key());
            return false;
        }
    }
    if (m_save->isChecked() && m_name->text().trimmed().isEmpty()) {
        if (why)
            *why = u"Name the profile, or untick “Save as a profile”."_s;
        return false;
    }
    return true;
}

void KafkaConnectionDialog::validate()
{
    QString why;
    const bool valid = isValid(&why);
    m_connect->setEnabled(valid);
    if (!valid) {
        m_message->setText(u"<span style='color:%1'>%2</span>"_s.arg(Palette::css(Palette::Role::Error), why.toHtmlEscaped()));
        return;
    }
    QStringList typedSecrets;
    QList<std::pair<QString, QString>> properties;
    parseProperties(&properties, nullptr);
    for (const auto &p : std::as_const(properties)) {
        if (KafkaConnection::isSecret(p.first))
            typedSecrets.append(p.first);
    }
    m_message->setText(typedSecrets.isEmpty() || !m_save->isChecked()
                           ? QString()
                           : u"Not saved with the profile (asked for each time): %1"_s.arg(typedSecrets.join(u", "_s))
                                 .toHtmlEscaped());
}

void KafkaConnectionDialog::accept()
{
    if (!isValid())
        return;
    const QString name = profileName();
    if (!name.isEmpty()) {
        m_settings->setKafkaProfile(name, connection());
        m_settings->setLastKafkaProfile(name);
    }
    QDialog::accept();
}

} // namespace tapedeck
