#include "ui/postgres/pgconnectiondialog.h"

#include "core/postgres/pgtypes.h"
#include "ui/common/settings.h"
#include "ui/common/palette.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace tapedeck {

PgConnectionDialog::PgConnectionDialog(Settings *settings, QWidget *parent)
    : QDialog(parent)
    , m_settings(settings)
{
    setWindowTitle(u"Connect to PostgreSQL"_s);
    setWindowModality(Qt::WindowModal);

    m_profile = new QComboBox(this);
    m_profile->setEditable(true);
    m_profile->setInsertPolicy(QComboBox::NoInsert);
    m_profile->lineEdit()->setPlaceholderText(u"profile name (optional)"_s);
    m_save = new QPushButton(u"Save"_s, this);
    m_save->setToolTip(u"Save the connection string under this name (never the password)"_s);
    m_delete = new QPushButton(u"Delete"_s, this);
    auto *profileRow = new QHBoxLayout;
    profileRow->addWidget(m_profile, 1);
    profileRow->addWidget(m_save);
    profileRow->addWidget(m_delete);

    m_dsn = new QLineEdit(this);
    m_dsn->setPlaceholderText(u"postgresql://user@host:5432/db   or   host=… port=… dbname=… user=…"_s);
    m_dsn->setMinimumWidth(fontMetrics().horizontalAdvance(u"postgresql://replicator@db.example.com:5432/inventory"_s) + 40);
    m_password = new QLineEdit(this);
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setPlaceholderText(u"asked each time, never stored"_s);

    m_note = new QLabel(u"Empty fields fall back to libpq: the PG* environment (PGHOST, PGUSER, PGPASSWORD…) "
                        "and ~/.pgpass, as for psql."_s, this);
    m_note->setWordWrap(true);
    m_note->setStyleSheet(u"QLabel { color: palette(placeholder-text); }"_s);
    m_problem = new QLabel(this);
    m_problem->setWordWrap(true);
    Palette::setStyleSheet(m_problem, u"QLabel { color: %1; }"_s, {Palette::Role::Error});
    m_problem->hide();

    auto *form = new QFormLayout;
    form->addRow(u"&Profile:"_s, profileRow);
    form->addRow(u"&Connection:"_s, m_dsn);
    form->addRow(u"Pass&word:"_s, m_password);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(u"Connect"_s);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_note);
    layout->addWidget(m_problem);
    layout->addStretch(1);
    layout->addWidget(m_buttons);

    reloadProfiles();
    connect(m_profile, &QComboBox::textActivated, this, &PgConnectionDialog::loadProfile);
    connect(m_profile, &QComboBox::editTextChanged, this, &PgConnectionDialog::validate);
    connect(m_save, &QPushButton::clicked, this, &PgConnectionDialog::saveProfile);
    connect(m_delete, &QPushButton::clicked, this, [this] {
        m_settings->removePgProfile(m_profile->currentText());
        reloadProfiles();
    });
    connect(m_dsn, &QLineEdit::textChanged, this, &PgConnectionDialog::validate);

    const QString last = m_settings->lastPgProfile();
    if (m_settings->pgProfile(last))
        loadProfile(last);
    else
        m_profile->setEditText({});
    validate();
}

QPushButton *PgConnectionDialog::connectButton() const
{
    return m_buttons->button(QDialogButtonBox::Ok);
}

void PgConnectionDialog::reloadProfiles()
{
    const QString current = m_profile->currentText();
    const QSignalBlocker blocker(m_profile);
    m_profile->clear();
    m_profile->addItems(m_settings->pgProfileNames());
    m_profile->setEditText(current);
    validate();
}

void PgConnectionDialog::loadProfile(const QString &name)
{
    const std::optional<QString> dsn = m_settings->pgProfile(name);
    if (!dsn)
        return;
    m_profile->setEditText(name);
    m_dsn->setText(*dsn);
    m_password->clear();
    m_password->setFocus();
}

void PgConnectionDialog::saveProfile()
{
    const QString name = m_profile->currentText().trimmed();
    if (name.isEmpty() || !m_problemText.isEmpty())
        return;
    m_settings->setPgProfile(name, dsnWithoutPassword());
    m_settings->setLastPgProfile(name);
    reloadProfiles();
}

QString PgConnectionDialog::dsn() const
{
    // A password typed into the string itself is used as it is.
    return pgDsnWithPassword(m_dsn->text(), m_password->text());
}

QString PgConnectionDialog::dsnWithoutPassword() const
{
    return pgDsnWithoutPassword(m_dsn->text());
}

void PgConnectionDialog::setDsn(const QString &dsn)
{
    m_dsn->setText(dsn);
}

void PgConnectionDialog::validate()
{
    m_problemText = pgDsnProblem(m_dsn->text());
    bool hadPassword = false;
    pgDsnWithoutPassword(m_dsn->text(), &hadPassword);
    QString shown = m_problemText;
    if (shown.isEmpty() && hadPassword)
        shown = u"The password in the connection string is used for this connection only: profiles never store it."_s;
    m_problem->setText(shown);
    Palette::setStyleSheet(m_problem, u"QLabel { color: %1; }"_s, {m_problemText.isEmpty() ? Palette::Role::Notice : Palette::Role::Error});
    m_problem->setVisible(!shown.isEmpty());
    Palette::setStyleSheet(m_dsn, m_problemText.isEmpty() ? QString() : u"QLineEdit { background: %1; }"_s, {Palette::Role::ErrorBackground});
    const QString name = m_profile->currentText().trimmed();
    m_save->setEnabled(!name.isEmpty() && m_problemText.isEmpty());
    m_delete->setEnabled(m_settings->pgProfile(name).has_value());
    connectButton()->setEnabled(m_problemText.isEmpty());
}

void PgConnectionDialog::accept()
{
    if (!m_problemText.isEmpty())
        return;
    const QString name = m_profile->currentText().trimmed();
    if (m_settings->pgProfile(name))
        m_settings->setLastPgProfile(name);
    QDialog::accept();
}

} // namespace tapedeck
