#include "ui/common/targetpicker.h"

#include "core/postgres/pgtypes.h"
#include "ui/common/settings.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>

using namespace Qt::StringLiterals;

namespace tapedeck {

TargetPicker::TargetPicker(Purpose purpose, Settings *settings, QWidget *parent)
    : QStackedWidget(parent)
    , m_settings(settings)
{
    // Made after the stack and before its pages: the tab order is box, then page.
    m_kind = new QComboBox(parent);

    auto *sqlitePage = new QWidget(this);
    m_sqlitePath = new QLineEdit(sqlitePage);
    auto *browse = new QPushButton(u"Browse…"_s, sqlitePage);
    auto *sqliteRow = new QHBoxLayout;
    sqliteRow->addWidget(m_sqlitePath, 1);
    sqliteRow->addWidget(browse);
    if (purpose == Purpose::Write) {
        m_sqlitePath->setPlaceholderText(u"replay.sqlite (created if missing)"_s);
        auto *form = new QFormLayout(sqlitePage);
        form->setContentsMargins(0, 0, 0, 0);
        form->addRow(u"File:"_s, sqliteRow);
    } else {
        m_sqlitePath->setPlaceholderText(u"/path/to/database.sqlite"_s);
        sqliteRow->setContentsMargins(0, 0, 0, 0);
        sqlitePage->setLayout(sqliteRow);
    }
    connect(browse, &QPushButton::clicked, this, [this, purpose] {
        const QString path = purpose == Purpose::Write
            ? QFileDialog::getSaveFileName(this, u"SQLite database"_s, m_sqlitePath->text(), u"SQLite (*.sqlite *.db);;All files (*)"_s,
                                           nullptr, QFileDialog::DontConfirmOverwrite)
            : QFileDialog::getOpenFileName(this, u"SQLite Database"_s, m_sqlitePath->text(),
                                           u"SQLite (*.sqlite *.sqlite3 *.db);;All files (*)"_s);
        if (!path.isEmpty())
            m_sqlitePath->setText(path);
    });
    addTarget(u"SQLite file"_s, ReplayTarget::Kind::Sqlite, sqlitePage);

    auto *pgPage = new QWidget(this);
    auto *pgForm = new QFormLayout(pgPage);
    pgForm->setContentsMargins(0, 0, 0, 0);
    m_pgProfile = new QComboBox(pgPage);
    m_pgDsn = new QLineEdit(pgPage);
    m_pgDsn->setPlaceholderText(u"postgresql://user@host:5432/db"_s);
    m_pgPassword = new QLineEdit(pgPage);
    m_pgPassword->setEchoMode(QLineEdit::Password);
    m_pgPassword->setPlaceholderText(u"asked each time, never stored (empty: ~/.pgpass, PGPASSWORD)"_s);
    pgForm->addRow(u"Profile:"_s, m_pgProfile);
    pgForm->addRow(u"Connection:"_s, m_pgDsn);
    pgForm->addRow(u"Password:"_s, m_pgPassword);
    addTarget(u"PostgreSQL"_s, ReplayTarget::Kind::Postgres, pgPage);

    if (m_settings) {
        for (const QString &name : m_settings->pgProfileNames())
            m_pgProfile->addItem(name);
    }
    m_pgProfile->insertItem(0, u"(none: type a connection)"_s, QString());
    m_pgProfile->setCurrentIndex(m_settings ? qMax(0, m_pgProfile->findText(m_settings->lastPgProfile())) : 0);
    loadPgProfile();

    showTarget(0);
    connect(m_pgProfile, &QComboBox::currentIndexChanged, this, &TargetPicker::loadPgProfile);
    connect(m_kind, &QComboBox::currentIndexChanged, this, [this](int i) {
        showTarget(i);
        Q_EMIT changed();
    });
    for (QLineEdit *edit : {m_sqlitePath, m_pgDsn})
        connect(edit, &QLineEdit::textChanged, this, &TargetPicker::changed);
}

void TargetPicker::addTarget(const QString &text, ReplayTarget::Kind kind, QWidget *page)
{
    m_kind->addItem(text, int(kind));
    addWidget(page);
    // A page added after the first is not shown yet: it must not make the stack taller.
    if (indexOf(page) != currentIndex())
        page->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Ignored);
}

ReplayTarget::Kind TargetPicker::kind() const
{
    return ReplayTarget::Kind(m_kind->currentData().toInt());
}

void TargetPicker::showTarget(int index)
{
    for (int p = 0; p < count(); ++p)
        widget(p)->setSizePolicy(QSizePolicy::Preferred, p == index ? QSizePolicy::Preferred : QSizePolicy::Ignored);
    setCurrentIndex(index);
    adjustSize();
}

void TargetPicker::loadPgProfile()
{
    const QString name = m_pgProfile->currentIndex() > 0 ? m_pgProfile->currentText() : QString();
    if (!name.isEmpty() && m_settings) {
        if (const auto dsn = m_settings->pgProfile(name))
            m_pgDsn->setText(*dsn);
    }
    m_pgPassword->clear();
}

bool TargetPicker::pgConnection(QString *dsn, QString *problem, const QString &ifEmpty) const
{
    const QString typed = m_pgDsn->text().trimmed();
    if (typed.isEmpty()) {
        *problem = ifEmpty;
        return false;
    }
    if (const QString why = pgDsnProblem(typed); !why.isEmpty()) {
        *problem = u"Connection: "_s + why;
        return false;
    }
    *dsn = m_pgPassword->text().isEmpty() ? typed : pgDsnWithPassword(typed, m_pgPassword->text());
    return true;
}

} // namespace tapedeck
