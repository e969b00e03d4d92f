#include "ui/postgres/pgslotbrowser.h"

#include "core/base/jobtracker.h"
#include "core/event/bound.h"
#include "core/postgres/postgresservice.h"
#include "ui/common/palette.h"

#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>
#include <QSplitter>
#include <QStyle>
#include <QTime>
#include <QTreeWidget>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

// PostgreSQL's own rules for an unquoted name keep us from quoting surprises.
QString identifierProblem(const QString &what, const QString &name)
{
    static const QRegularExpression valid(u"^[a-z_][a-z0-9_]{0,62}$"_s);
    if (name.isEmpty())
        return u"the %1 needs a name"_s.arg(what);
    if (!valid.match(name).hasMatch())
        return u"“%1” is not a valid %2 name: lower-case letters, digits and _, starting with a letter or _, at most 63"_s
            .arg(name, what);
    return {};
}

QString bytesText(qint64 n)
{
    if (n < 0)
        return u"–"_s;
    return QLocale().formattedDataSize(n, 1, QLocale::DataSizeTraditionalFormat);
}

QTreeWidget *makeTree(QWidget *parent, const QStringList &headers)
{
    auto *tree = new QTreeWidget(parent);
    tree->setHeaderLabels(headers);
    tree->setUniformRowHeights(true);
    tree->setAlternatingRowColors(true);
    tree->setRootIsDecorated(false);
    return tree;
}

QWidget *titled(const QString &title, QWidget *content, QWidget *parent)
{
    auto *box = new QWidget(parent);
    auto *label = new QLabel(u"<b>%1</b>"_s.arg(title), box);
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 2, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(label);
    layout->addWidget(content, 1);
    return box;
}

} // namespace

struct PgSlotBrowser::Snapshot
{
    std::optional<PgServerInfo> server;
    QList<PgSlotInfo> slots;
    QList<PgPublicationInfo> publications;
    QString error;
};

PgSlotBrowser::PgSlotBrowser(QWidget *parent)
    : QWidget(parent)
    , m_loadJobs(std::make_unique<JobTracker>(this))
    , m_actionJobs(std::make_unique<JobTracker>(this))
{
    m_header = new QLabel(this);
    m_header->setTextFormat(Qt::RichText);
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_problem = new QLabel(this);
    m_problem->setWordWrap(true);
    m_problem->setTextInteractionFlags(Qt::TextSelectableByMouse);
    Palette::setStyleSheet(m_problem, u"QLabel { color: %1; background: %2; padding: 4px; }"_s, {Palette::Role::NoticeText, Palette::Role::NoticeBackground});
    m_problem->hide();
    m_errorLabel = new QLabel(this);
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    Palette::setStyleSheet(m_errorLabel, u"QLabel { color: %1; background: %2; padding: 4px; }"_s, {Palette::Role::Error, Palette::Role::ErrorBackground});
    m_errorLabel->hide();

    m_refresh = new QPushButton(QIcon::fromTheme(u"view-refresh"_s), u"Refresh"_s, this);
    m_newSlot = new QPushButton(u"New Slot…"_s, this);
    m_dropSlot = new QPushButton(u"Drop Slot…"_s, this);
    m_newPublication = new QPushButton(u"New Publication…"_s, this);
    m_dropPublication = new QPushButton(u"Drop Publication…"_s, this);
    m_record = new QPushButton(QIcon::fromTheme(u"media-record"_s), u"Record…"_s, this);
    m_record->setToolTip(u"Record the selected slot into a temporary tape"_s);
    connect(m_refresh, &QPushButton::clicked, this, &PgSlotBrowser::refresh);
    connect(m_newSlot, &QPushButton::clicked, this, &PgSlotBrowser::newSlotDialog);
    connect(m_dropSlot, &QPushButton::clicked, this, [this] { requestDropSlot(selectedSlot()); });
    connect(m_newPublication, &QPushButton::clicked, this, &PgSlotBrowser::newPublicationDialog);
    connect(m_dropPublication, &QPushButton::clicked, this, [this] { requestDropPublication(selectedPublication()); });
    connect(m_record, &QPushButton::clicked, this, [this] { Q_EMIT recordRequested(selectedSlot()); });

    m_settingsTree = makeTree(this, {u"Setting"_s, u"Value"_s, u"What it means here"_s});
    m_settingsTree->setSelectionMode(QAbstractItemView::NoSelection);
    m_slotTree = makeTree(this, {u"Slot"_s, u"Plugin"_s, u"Database"_s, u"Status"_s, u"restart_lsn"_s,
                                 u"confirmed_flush_lsn"_s, u"WAL retained"_s});
    m_publicationTree = makeTree(this, {u"Publication"_s, u"Tables"_s});
    m_publicationTree->setRootIsDecorated(true);
    const QFontMetrics fm = fontMetrics();
    m_settingsTree->setColumnWidth(SettingName, fm.horizontalAdvance(u"max_slot_wal_keep_size"_s) + 16);
    m_settingsTree->setColumnWidth(SettingValue, fm.horizontalAdvance(u"logical_decoding"_s) + 16);
    m_slotTree->setColumnWidth(SlotName, fm.horizontalAdvance(u"debezium_inventory"_s) + 16);
    m_slotTree->setColumnWidth(SlotPlugin, fm.horizontalAdvance(u"test_decoding"_s) + 16);
    m_slotTree->setColumnWidth(SlotDatabase, fm.horizontalAdvance(u"inventory"_s) + 16);
    m_slotTree->setColumnWidth(SlotStatus, fm.horizontalAdvance(u"active (PID 123456)"_s) + 16);
    for (int c : {SlotRestartLsn, SlotConfirmedLsn})
        m_slotTree->setColumnWidth(c, fm.horizontalAdvance(u"confirmed_flush_lsn"_s) + 16);
    m_publicationTree->setColumnWidth(0, fm.horizontalAdvance(u"public.orders_history"_s) + 40);
    connect(m_slotTree, &QTreeWidget::itemSelectionChanged, this, &PgSlotBrowser::updateButtons);
    connect(m_publicationTree, &QTreeWidget::itemSelectionChanged, this, &PgSlotBrowser::updateButtons);
    connect(m_slotTree, &QTreeWidget::itemDoubleClicked, this, [this] { Q_EMIT recordRequested(selectedSlot()); });

    auto *buttons = new QHBoxLayout;
    buttons->setContentsMargins(0, 0, 0, 0);
    for (QPushButton *b : {m_refresh, m_newSlot, m_dropSlot, m_newPublication, m_dropPublication, m_record})
        buttons->addWidget(b);
    buttons->addStretch(1);

    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(titled(u"Replication slots"_s, m_slotTree, splitter));
    splitter->addWidget(titled(u"Publications"_s, m_publicationTree, splitter));
    splitter->addWidget(titled(u"Server settings"_s, m_settingsTree, splitter));
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setStretchFactor(2, 2);
    splitter->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_header);
    layout->addWidget(m_problem);
    layout->addWidget(m_errorLabel);
    layout->addLayout(buttons);
    layout->addWidget(splitter, 1);
    updateHeader();
    updateButtons();
}

PgSlotBrowser::~PgSlotBrowser()
{
    if (m_confirmation)
        delete m_confirmation.data();
}

void PgSlotBrowser::setDsn(const QString &dsn)
{
    m_dsn = dsn;
    m_hasConnection = true;
    m_server.reset();
    m_slots.clear();
    m_publications.clear();
    m_slotTree->clear();
    m_publicationTree->clear();
    m_settingsTree->clear();
    m_problem->hide();
    setError({});
    refresh();
}

bool PgSlotBrowser::isBusy() const
{
    return m_loading || m_actionsRunning > 0;
}

QString PgSlotBrowser::serverName() const
{
    return m_server && !m_server->connection.isEmpty() ? m_server->connection : u"the server"_s;
}

void PgSlotBrowser::refresh()
{
    if (!m_hasConnection || !m_service)
        return;
    m_loading = true;
    updateHeader();
    updateButtons();
    PostgresService *service = m_service;
    m_loadJobs->start(
        [service, dsn = m_dsn](const std::function<bool()> &cancelled) {
            Snapshot s;
            s.server = service->settings(dsn, &s.error);
            if (!s.server || cancelled())
                return s;
            // Slots and publications need no logical decoding: shown even when it is off.
            if (auto slots = service->listSlots(dsn, &s.error))
                s.slots = *slots;
            else
                return s;
            if (auto pubs = service->publications(dsn, &s.error))
                s.publications = *pubs;
            return s;
        },
        [this](const Snapshot &s) { show(s); });
}

void PgSlotBrowser::show(const Snapshot &s)
{
    m_loading = false;
    m_refreshedAt = QTime::currentTime().toString(u"HH:mm:ss"_s);
    if (s.server) {
        m_server = s.server;
        showSettings();
    }
    setError(s.error);
    if (s.error.isEmpty()) {
        const QString slot = selectedSlot();
        const QString publication = selectedPublication();
        m_slots = s.slots;
        m_publications = s.publications;
        m_slotTree->clear();
        for (const PgSlotInfo &info : std::as_const(m_slots)) {
            auto *item = new QTreeWidgetItem(m_slotTree);
            item->setText(SlotName, info.name);
            item->setText(SlotPlugin, info.slotType == u"logical"_s ? info.plugin : u"(physical)"_s);
            item->setText(SlotDatabase, info.database.isEmpty() ? u"–"_s : info.database);
            QString status = info.active ? u"active (PID %1)"_s.arg(info.activePid) : u"inactive"_s;
            if (info.temporary)
                status += u", temporary"_s;
            item->setText(SlotStatus, status);
            item->setText(SlotRestartLsn, bound::formatLsn(info.restartLsn));
            item->setText(SlotConfirmedLsn, bound::formatLsn(info.confirmedFlushLsn));
            item->setText(SlotRetained, bytesText(info.retainedBytes));
            item->setTextAlignment(SlotRetained, Qt::AlignRight | Qt::AlignVCenter);
            QString tip = u"WAL the server keeps for this slot: %1 (wal_status %2)"_s.arg(
                bytesText(info.retainedBytes), info.walStatus.isEmpty() ? u"–"_s : info.walStatus);
            if (info.retainsALot() || info.walStatus == u"lost"_s || info.walStatus == u"unreserved"_s) {
                item->setIcon(SlotRetained, style()->standardIcon(QStyle::SP_MessageBoxWarning));
                item->setForeground(SlotRetained, info.walStatus == u"lost"_s ? Palette::color(Palette::Role::Error) : Palette::color(Palette::Role::Warning));
                tip += u"\nThis slot retains a lot of WAL: if nobody reads it, drop it before the disk fills up."_s;
                if (info.walStatus == u"lost"_s)
                    tip = u"This slot has lost WAL it needs: it cannot be read any more. Drop it."_s;
            }
            item->setToolTip(SlotRetained, tip);
            if (info.active)
                item->setToolTip(SlotStatus, u"In use by the process %1: copy mode reads it without disturbing it"_s.arg(info.activePid));
            if (info.name == slot)
                item->setSelected(true);
        }
        for (int c : {SlotName, SlotPlugin, SlotDatabase, SlotStatus})
            m_slotTree->resizeColumnToContents(c);
        m_publicationTree->clear();
        for (const PgPublicationInfo &p : std::as_const(m_publications)) {
            auto *item = new QTreeWidgetItem(m_publicationTree);
            item->setText(0, p.name);
            item->setText(1, p.allTables ? u"FOR ALL TABLES"_s
                                         : p.tables.size() == 1 ? u"1 table"_s : u"%1 tables"_s.arg(p.tables.size()));
            for (const QString &t : p.tables) {
                auto *table = new QTreeWidgetItem(item, {t});
                table->setFirstColumnSpanned(true); // long schema.table names stay readable
            }
            item->setExpanded(p.tables.size() <= 10);
            if (p.name == publication)
                item->setSelected(true);
        }
    }
    updateHeader();
    updateButtons();
    Q_EMIT loaded();
}

void PgSlotBrowser::showSettings()
{
    m_settingsTree->clear();
    const PgServerInfo &s = *m_server;
    auto add = [this](const QString &name, const QString &value, const QString &meaning, bool problem) {
        auto *item = new QTreeWidgetItem(m_settingsTree, {name, value, meaning});
        item->setToolTip(SettingMeaning, meaning);
        if (problem) {
            item->setIcon(SettingValue, style()->standardIcon(QStyle::SP_MessageBoxWarning));
            item->setForeground(SettingValue, Palette::color(Palette::Role::Error));
        }
    };
    const bool logical = s.walLevel == u"logical"_s;
    add(u"wal_level"_s, s.walLevel,
        logical ? u"logical decoding is possible"_s
                : u"must be logical for slots: set it in postgresql.conf (or ALTER SYSTEM) and restart"_s,
        !logical);
    qsizetype used = 0;
    for (const PgSlotInfo &slot : std::as_const(m_slots))
        used += slot.temporary ? 0 : 1;
    add(u"max_replication_slots"_s, QString::number(s.maxReplicationSlots),
        s.maxReplicationSlots <= 0 ? u"0: no slot can be created; raise it and restart"_s
                                   : u"at most this many slots (copy and temporary recordings use one each while running)"_s,
        s.maxReplicationSlots <= 0);
    const bool unlimited = s.maxSlotWalKeepSize == u"-1"_s;
    add(u"max_slot_wal_keep_size"_s, s.maxSlotWalKeepSize,
        unlimited ? u"unlimited: a forgotten slot keeps WAL until the disk is full"_s
                  : u"a slot further behind than this loses its WAL and cannot be read"_s,
        false);
    if (!s.outputPluginLibraries.isEmpty())
        add(u"output_plugin_libraries"_s, s.outputPluginLibraries, u"output plugins besides pgoutput that the server allows"_s, false);
    add(u"role"_s, s.superuser ? u"superuser"_s : s.replicationRole ? u"replication"_s : u"neither"_s,
        s.superuser || s.replicationRole ? u"may create and read slots"_s
                                         : u"needs SUPERUSER or REPLICATION to use slots"_s,
        !s.superuser && !s.replicationRole);
    const QString problem = s.logicalDecodingProblem();
    m_problem->setText(u"Logical decoding is not possible on this server: "_s + problem);
    m_problem->setVisible(!problem.isEmpty());
    m_settingsTree->resizeColumnToContents(SettingValue);
}

void PgSlotBrowser::setError(const QString &error)
{
    m_error = error;
    m_errorLabel->setText(error);
    m_errorLabel->setVisible(!error.isEmpty());
}

QString PgSlotBrowser::headerText() const
{
    return m_header->text();
}

void PgSlotBrowser::updateHeader()
{
    QString text;
    if (!m_hasConnection) {
        text = u"Not connected · PostgreSQL › Connect…"_s;
    } else if (!m_server) {
        text = m_loading ? u"Connecting…"_s : u"No answer from the server"_s;
    } else {
        text = u"<b>%1</b> · PostgreSQL %2 · current WAL %3"_s.arg(m_server->connection.toHtmlEscaped(),
                                                                 m_server->version.toHtmlEscaped(),
                                                                 bound::formatLsn(m_server->currentLsn));
        text += m_loading ? u" · refreshing…"_s : u" · as of %1"_s.arg(m_refreshedAt);
    }
    m_header->setText(text);
}

QString PgSlotBrowser::selectedSlot() const
{
    const QList<QTreeWidgetItem *> items = m_slotTree->selectedItems();
    return items.isEmpty() ? QString() : items.constFirst()->text(SlotName);
}

QString PgSlotBrowser::selectedPublication() const
{
    const QList<QTreeWidgetItem *> items = m_publicationTree->selectedItems();
    if (items.isEmpty())
        return {};
    const QTreeWidgetItem *item = items.constFirst();
    return item->parent() ? item->parent()->text(0) : item->text(0);
}

void PgSlotBrowser::updateButtons()
{
    const bool ready = m_hasConnection && m_server.has_value() && m_actionsRunning == 0 && !m_confirmation;
    m_refresh->setEnabled(m_hasConnection);
    m_newSlot->setEnabled(ready);
    m_dropSlot->setEnabled(ready && !selectedSlot().isEmpty());
    m_newPublication->setEnabled(ready);
    m_dropPublication->setEnabled(ready && !selectedPublication().isEmpty());
    m_record->setEnabled(m_hasConnection && m_server.has_value());
}

void PgSlotBrowser::confirm(const QString &title, const QString &text, const QString &button, bool destructive,
                            std::function<bool(PostgresService *, const QString &, QString *)> action, const QString &what)
{
    if (m_confirmation)
        delete m_confirmation.data();
    auto *box = new QMessageBox(destructive ? QMessageBox::Warning : QMessageBox::Question, title, text,
                                QMessageBox::Ok | QMessageBox::Cancel, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::WindowModal);
    box->button(QMessageBox::Ok)->setText(button);
    box->setDefaultButton(QMessageBox::Cancel);
    m_confirmation = box;
    connect(box, &QMessageBox::finished, this, [this, box, action = std::move(action), what] {
        const bool yes = box->standardButton(box->clickedButton()) == QMessageBox::Ok;
        m_confirmation = nullptr;
        updateButtons();
        if (!yes)
            return;
        ++m_actionsRunning;
        updateButtons();
        PostgresService *service = m_service;
        m_actionJobs->start(
            [service, dsn = m_dsn, action](const std::function<bool()> &) {
                QString error;
                if (!action(service, dsn, &error) && error.isEmpty())
                    error = u"failed"_s;
                return error;
            },
            [this, what](const QString &error) {
                --m_actionsRunning;
                setError(error.isEmpty() ? QString() : u"Cannot %1: %2"_s.arg(what, error));
                updateButtons();
                Q_EMIT actionFinished(what, error);
                refresh();
            });
    });
    updateButtons();
    box->open();
}

bool PgSlotBrowser::requestCreateSlot(const QString &name, const QString &plugin)
{
    if (const QString problem = identifierProblem(u"slot"_s, name); !problem.isEmpty()) {
        setError(problem);
        return false;
    }
    if (!m_server || !m_service) {
        setError(u"not connected"_s);
        return false;
    }
    if (const QString problem = m_server->pluginProblem(plugin); !problem.isEmpty()) {
        setError(problem);
        return false;
    }
    confirm(u"Create Replication Slot"_s,
            u"Create the logical replication slot “%1” with the plugin %2 in the database “%3” on %4?\n\n"
            "From now on the server keeps the WAL this slot has not consumed, until the slot is read or dropped."_s
                .arg(name, plugin, m_server->database, serverName()),
            u"Create Slot"_s, false,
            [name, plugin](PostgresService *s, const QString &dsn, QString *e) { return s->createSlot(dsn, name, plugin, e); },
            u"create the slot “%1”"_s.arg(name));
    return true;
}

bool PgSlotBrowser::requestDropSlot(const QString &name)
{
    if (name.isEmpty()) {
        setError(u"select a slot to drop"_s);
        return false;
    }
    if (!m_service) {
        setError(u"not connected"_s);
        return false;
    }
    QString extra;
    for (const PgSlotInfo &s : std::as_const(m_slots)) {
        if (s.name == name && s.active)
            extra = u"\n\nThe slot is in use by the process %1: dropping it will fail while it is."_s.arg(s.activePid);
    }
    confirm(u"Drop Replication Slot"_s,
            u"Drop the replication slot “%1” on %2?\n\nIts consumer loses its position and the changes not yet read; "
            "this cannot be undone."_s.arg(name, serverName()) + extra,
            u"Drop Slot"_s, true,
            [name](PostgresService *s, const QString &dsn, QString *e) { return s->dropSlot(dsn, name, e); },
            u"drop the slot “%1”"_s.arg(name));
    return true;
}

bool PgSlotBrowser::requestCreatePublication(const QString &name, const QStringList &tables)
{
    if (const QString problem = identifierProblem(u"publication"_s, name); !problem.isEmpty()) {
        setError(problem);
        return false;
    }
    if (!m_service) {
        setError(u"not connected"_s);
        return false;
    }
    confirm(u"Create Publication"_s,
            u"Create the publication “%1” %2 on %3?"_s.arg(
                name, tables.isEmpty() ? u"FOR ALL TABLES"_s : u"for %1"_s.arg(tables.join(u", "_s)), serverName()),
            u"Create Publication"_s, false,
            [name, tables](PostgresService *s, const QString &dsn, QString *e) {
                return s->createPublication(dsn, name, tables, e);
            },
            u"create the publication “%1”"_s.arg(name));
    return true;
}

bool PgSlotBrowser::requestDropPublication(const QString &name)
{
    if (name.isEmpty()) {
        setError(u"select a publication to drop"_s);
        return false;
    }
    if (!m_service) {
        setError(u"not connected"_s);
        return false;
    }
    confirm(u"Drop Publication"_s,
            u"Drop the publication “%1” on %2?\n\nSubscribers and slots reading it with pgoutput will fail."_s.arg(
                name, serverName()),
            u"Drop Publication"_s, true,
            [name](PostgresService *s, const QString &dsn, QString *e) { return s->dropPublication(dsn, name, e); },
            u"drop the publication “%1”"_s.arg(name));
    return true;
}

void PgSlotBrowser::newSlotDialog()
{
    auto *dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(u"New Replication Slot"_s);
    auto *name = new QLineEdit(dialog);
    name->setPlaceholderText(u"tapedeck_slot"_s);
    auto *plugin = new QComboBox(dialog);
    plugin->addItems({u"pgoutput"_s, u"wal2json"_s, u"test_decoding"_s});
    auto *problem = new QLabel(dialog);
    Palette::setStyleSheet(problem, u"QLabel { color: %1; }"_s, {Palette::Role::Error});
    problem->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, dialog);
    auto *form = new QFormLayout(dialog);
    form->addRow(u"&Name:"_s, name);
    form->addRow(u"&Plugin:"_s, plugin);
    form->addRow(problem);
    form->addRow(buttons);
    auto validate = [=, this] {
        QString p = identifierProblem(u"slot"_s, name->text());
        if (p.isEmpty() && m_server)
            p = m_server->pluginProblem(plugin->currentText());
        problem->setText(p);
        buttons->button(QDialogButtonBox::Ok)->setEnabled(p.isEmpty());
    };
    connect(name, &QLineEdit::textChanged, dialog, validate);
    connect(plugin, &QComboBox::currentTextChanged, dialog, validate);
    validate();
    connect(buttons, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    connect(dialog, &QDialog::accepted, this, [=, this] { requestCreateSlot(name->text(), plugin->currentText()); });
    dialog->open();
}

void PgSlotBrowser::newPublicationDialog()
{
    auto *dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(u"New Publication"_s);
    auto *name = new QLineEdit(dialog);
    name->setPlaceholderText(u"tapedeck_pub"_s);
    auto *tables = new QLineEdit(dialog);
    tables->setPlaceholderText(u"empty: FOR ALL TABLES; or public.orders, public.items"_s);
    auto *problem = new QLabel(dialog);
    Palette::setStyleSheet(problem, u"QLabel { color: %1; }"_s, {Palette::Role::Error});
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, dialog);
    auto *form = new QFormLayout(dialog);
    form->addRow(u"&Name:"_s, name);
    form->addRow(u"&Tables:"_s, tables);
    form->addRow(problem);
    form->addRow(buttons);
    auto validate = [=] {
        const QString p = identifierProblem(u"publication"_s, name->text());
        problem->setText(p);
        buttons->button(QDialogButtonBox::Ok)->setEnabled(p.isEmpty());
    };
    connect(name, &QLineEdit::textChanged, dialog, validate);
    validate();
    connect(buttons, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    connect(dialog, &QDialog::accepted, this, [=, this] {
        QStringList list;
        for (const QString &t : tables->text().split(u',', Qt::SkipEmptyParts))
            list.append(t.trimmed());
        requestCreatePublication(name->text(), list);
    });
    dialog->open();
}

} // namespace tapedeck
