#include "ui/postgres/pgrecorddialog.h"
#include "ui/common/palette.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <limits>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

const QString s_slotPlugin; // plugin combo data: empty = the slot's own plugin

QString modeHelp(PgReadMode mode)
{
    switch (mode) {
    case PgReadMode::Copy:
        return u"Reads a temporary copy of the slot up to the current end of the WAL. The slot itself is not "
               "touched and may stay in use by its consumer."_s;
    case PgReadMode::Peek:
        return u"Peeks at the slot's pending changes without confirming them. The slot must be inactive; "
               "its confirmed_flush_lsn does not move."_s;
    case PgReadMode::Temporary:
        return u"Creates a temporary slot and records the changes made from now on, until you stop or the "
               "limit is reached. No existing slot is involved."_s;
    case PgReadMode::Consume:
        return u"Reads the slot itself and CONFIRMS what was recorded: the slot advances, and its consumer "
               "will not receive these changes again."_s;
    }
    return {};
}

} // namespace

PgRecordDialog::PgRecordDialog(const PgServerInfo &server, const QList<PgSlotInfo> &slots,
                               const QList<PgPublicationInfo> &publications, QWidget *parent)
    : QDialog(parent)
    , m_server(server)
    , m_publicationInfo(publications)
{
    setWindowTitle(u"Record from PostgreSQL"_s);
    setWindowModality(Qt::WindowModal);
    // Only logical slots of the connected database carry its change events.
    for (const PgSlotInfo &s : slots) {
        if (s.slotType == u"logical"_s && s.database == server.database)
            m_slots.append(s);
    }

    createWidgets();
    layOut();
    connectWidgets();
    if (m_slots.isEmpty())
        setMode(PgReadMode::Temporary);
    refreshSnapshotTables();
    validate();
}

// One widget per choice, filled from the server's slots and publications.
void PgRecordDialog::createWidgets()
{
    m_slot = new QComboBox(this);
    for (const PgSlotInfo &s : std::as_const(m_slots))
        m_slot->addItem(u"%1 (%2%3)"_s.arg(s.name, s.plugin, s.active ? u", active"_s : QString()), s.name);
    m_mode = new QComboBox(this);
    m_mode->addItem(u"copy: read a copy, the slot is untouched"_s, int(PgReadMode::Copy));
    m_mode->addItem(u"peek: look without confirming"_s, int(PgReadMode::Peek));
    m_mode->addItem(u"temporary: new changes from now on"_s, int(PgReadMode::Temporary));
    m_mode->addItem(u"consume: read and advance the slot"_s, int(PgReadMode::Consume));
    m_modeHelp = new QLabel(this);
    m_modeHelp->setWordWrap(true);
    m_plugin = new QComboBox(this);
    m_plugin->addItem(u"the slot's plugin"_s, s_slotPlugin);
    for (const QString &p : {u"pgoutput"_s, u"wal2json"_s, u"test_decoding"_s})
        m_plugin->addItem(p, p);
    m_publications = new QListWidget(this);
    for (const PgPublicationInfo &p : m_publicationInfo) {
        auto *item = new QListWidgetItem(
            u"%1 (%2)"_s.arg(p.name, p.allTables ? u"all tables"_s : p.tables.join(u", "_s)), m_publications);
        item->setData(Qt::UserRole, p.name);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
        item->setCheckState(m_publicationInfo.size() == 1 ? Qt::Checked : Qt::Unchecked);
    }
    m_publications->setMaximumHeight(fontMetrics().height() * 6);
    m_limit = new QSpinBox(this);
    m_limit->setRange(0, std::numeric_limits<int>::max());
    m_limit->setSpecialValueText(u"no limit"_s);
    m_limit->setSuffix(u" changes"_s);
    m_limit->setToolTip(u"Stop after the transaction that reaches this many row changes"_s);
    m_follow = new QCheckBox(u"Keep following new changes after catching up"_s, this);
    m_snapshot = new QListWidget(this);
    m_snapshot->setMaximumHeight(fontMetrics().height() * 6);
    m_snapshot->setToolTip(u"Checked tables are read in one snapshot, consistent with the changes that follow, and stored "
                           "as read events at the start of the tape: the state of the table is complete even when the "
                           "slot was created after the table was filled (pgoutput only)."_s);

    m_problem = new QLabel(this);
    m_problem->setWordWrap(true);
    Palette::setStyleSheet(m_problem, u"QLabel { color: %1; }"_s, {Palette::Role::Error});
}

void PgRecordDialog::layOut()
{
    auto *form = new QFormLayout;
    form->addRow(u"Server:"_s, new QLabel(u"%1 (PostgreSQL %2)"_s.arg(m_server.connection, m_server.version), this));
    form->addRow(u"&Slot:"_s, m_slot);
    form->addRow(u"&Mode:"_s, m_mode);
    form->addRow(QString(), m_modeHelp);
    form->addRow(u"P&lugin:"_s, m_plugin);
    form->addRow(u"P&ublications:"_s, m_publications);
    form->addRow(u"Starting &image:"_s, m_snapshot);
    form->addRow(u"&Limit:"_s, m_limit);
    form->addRow(QString(), m_follow);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    recordButton()->setText(u"Record"_s);
    recordButton()->setIcon(QIcon::fromTheme(u"media-record"_s));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &PgRecordDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(m_buttons);
}

void PgRecordDialog::connectWidgets()
{
    connect(m_slot, &QComboBox::currentIndexChanged, this, &PgRecordDialog::validate);
    connect(m_mode, &QComboBox::currentIndexChanged, this, [this] {
        m_consumeConfirmed = false;
        validate();
    });
    connect(m_plugin, &QComboBox::currentIndexChanged, this, &PgRecordDialog::validate);
    connect(m_publications, &QListWidget::itemChanged, this, [this] {
        refreshSnapshotTables();
        validate();
    });
    connect(m_follow, &QCheckBox::toggled, this, &PgRecordDialog::validate);
}

void PgRecordDialog::refreshSnapshotTables()
{
    QStringList checked;
    for (int i = 0; i < m_snapshot->count(); ++i) {
        if (m_snapshot->item(i)->checkState() == Qt::Checked)
            checked.append(m_snapshot->item(i)->text());
    }
    QStringList tables;
    for (int i = 0; i < m_publications->count(); ++i) {
        if (m_publications->item(i)->checkState() != Qt::Checked)
            continue;
        for (const PgPublicationInfo &p : std::as_const(m_publicationInfo)) {
            if (p.name == m_publications->item(i)->data(Qt::UserRole).toString()) {
                for (const QString &t : p.tables) {
                    if (!tables.contains(t))
                        tables.append(t);
                }
            }
        }
    }
    tables.sort();
    m_snapshot->clear();
    for (const QString &t : std::as_const(tables)) {
        auto *item = new QListWidgetItem(t, m_snapshot);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
        item->setCheckState(checked.contains(t) ? Qt::Checked : Qt::Unchecked);
    }
}

void PgRecordDialog::setSnapshotTables(const QStringList &tables)
{
    for (int i = 0; i < m_snapshot->count(); ++i)
        m_snapshot->item(i)->setCheckState(tables.contains(m_snapshot->item(i)->text()) ? Qt::Checked : Qt::Unchecked);
}

QPushButton *PgRecordDialog::recordButton() const
{
    return m_buttons->button(QDialogButtonBox::Ok);
}

void PgRecordDialog::setSlot(const QString &slot)
{
    const int i = m_slot->findData(slot);
    if (i >= 0)
        m_slot->setCurrentIndex(i);
}

void PgRecordDialog::setMode(PgReadMode mode)
{
    m_mode->setCurrentIndex(m_mode->findData(int(mode)));
}

void PgRecordDialog::setPlugin(const QString &plugin)
{
    m_plugin->setCurrentIndex(std::max(0, m_plugin->findData(plugin)));
}

void PgRecordDialog::setPublications(const QStringList &names)
{
    for (int i = 0; i < m_publications->count(); ++i) {
        QListWidgetItem *item = m_publications->item(i);
        item->setCheckState(names.contains(item->data(Qt::UserRole).toString()) ? Qt::Checked : Qt::Unchecked);
    }
}

std::optional<PgSlotInfo> PgRecordDialog::slotInfo(const QString &name) const
{
    for (const PgSlotInfo &s : m_slots) {
        if (s.name == name)
            return s;
    }
    return std::nullopt;
}

QString PgRecordDialog::effectivePlugin() const
{
    const QString chosen = m_plugin->currentData().toString();
    if (!chosen.isEmpty())
        return chosen;
    if (PgReadMode(m_mode->currentData().toInt()) == PgReadMode::Temporary)
        return u"pgoutput"_s;
    const auto slot = slotInfo(m_slot->currentData().toString());
    return slot ? slot->plugin : QString();
}

PgRecordOptions PgRecordDialog::options() const
{
    PgRecordOptions o;
    o.mode = PgReadMode(m_mode->currentData().toInt());
    if (o.mode != PgReadMode::Temporary)
        o.slot = m_slot->currentData().toString();
    o.plugin = m_plugin->currentData().toString();
    if (effectivePlugin() == u"pgoutput"_s) {
        for (int i = 0; i < m_publications->count(); ++i) {
            const QListWidgetItem *item = m_publications->item(i);
            if (item->checkState() == Qt::Checked)
                o.publications.append(item->data(Qt::UserRole).toString());
        }
    }
    if (effectivePlugin() == u"pgoutput"_s) {
        for (int i = 0; i < m_snapshot->count(); ++i) {
            if (m_snapshot->item(i)->checkState() == Qt::Checked)
                o.snapshotTables.append(m_snapshot->item(i)->text());
        }
    }
    o.limit = m_limit->value() > 0 ? m_limit->value() : -1;
    o.follow = o.mode == PgReadMode::Temporary || (o.mode == PgReadMode::Consume && m_follow->isChecked());
    return o;
}

void PgRecordDialog::validate()
{
    const PgRecordOptions o = options();
    m_modeHelp->setText(modeHelp(o.mode));
    Palette::setStyleSheet(m_modeHelp, o.mode == PgReadMode::Consume ? u"QLabel { color: %1; font-weight: bold; }"_s : QString(), {Palette::Role::Warning});
    const bool needsSlot = o.mode != PgReadMode::Temporary;
    m_slot->setEnabled(needsSlot);
    m_follow->setEnabled(o.mode == PgReadMode::Consume);
    if (o.mode == PgReadMode::Temporary)
        m_follow->setChecked(true);
    else if (o.mode != PgReadMode::Consume)
        m_follow->setChecked(false);
    const QString plugin = effectivePlugin();
    m_publications->setEnabled(plugin == u"pgoutput"_s);
    m_snapshot->setEnabled(plugin == u"pgoutput"_s);

    QString problem;
    const auto slot = slotInfo(o.slot);
    if (const QString p = m_server.logicalDecodingProblem(); !p.isEmpty())
        problem = u"Logical decoding is not possible on this server: "_s + p;
    else if (needsSlot && !slot)
        problem = m_slots.isEmpty() ? u"There is no logical slot in the database “%1”: create one in the slot browser, "
                                      "or choose the temporary mode."_s.arg(m_server.database)
                                    : u"Choose a slot."_s;
    else if (needsSlot && slot->active && (o.mode == PgReadMode::Peek || o.mode == PgReadMode::Consume))
        problem = u"The slot “%1” is in use by the process %2: %3 needs an inactive slot. Copy reads it without "
                  "disturbing its consumer."_s.arg(slot->name).arg(slot->activePid).arg(toString(o.mode));
    else if (needsSlot && slot->walStatus == u"lost"_s)
        problem = u"The slot “%1” has lost WAL it needs: it cannot be read."_s.arg(slot->name);
    else if (needsSlot && plugin != slot->plugin && o.mode != PgReadMode::Copy)
        problem = u"The slot uses %1: only copy mode can decode it with another plugin."_s.arg(slot->plugin);
    else if (const QString p = m_server.pluginProblem(plugin); !p.isEmpty())
        problem = p;
    else if (plugin == u"pgoutput"_s && o.publications.isEmpty())
        problem = m_publications->count() == 0
            ? u"pgoutput sends the tables of publications, and there is none: create one in the slot browser."_s
            : u"Check at least one publication: pgoutput sends the tables of the publications it is given."_s;
    m_problemText = problem;
    m_problem->setText(problem);
    m_problem->setVisible(!problem.isEmpty());
    recordButton()->setEnabled(problem.isEmpty());
}

void PgRecordDialog::accept()
{
    validate();
    if (!m_problemText.isEmpty())
        return;
    const PgRecordOptions o = options();
    if (o.mode != PgReadMode::Consume || m_consumeConfirmed) {
        QDialog::accept();
        return;
    }
    if (m_confirmation)
        return;
    auto *box = new QMessageBox(QMessageBox::Warning, u"Consume the Slot?"_s,
                                u"Consuming advances the slot “%1” on %2.\n\nThe changes recorded are confirmed to the "
                                "server: the slot's consumer will not receive them again, and the server may discard "
                                "their WAL. Copy mode records the same changes without touching the slot."_s
                                    .arg(o.slot, m_server.connection),
                                QMessageBox::Ok | QMessageBox::Cancel, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::WindowModal);
    box->button(QMessageBox::Ok)->setText(u"Consume and Advance"_s);
    box->setDefaultButton(QMessageBox::Cancel);
    m_confirmation = box;
    connect(box, &QMessageBox::finished, this, [this, box] {
        m_confirmation = nullptr;
        if (box->standardButton(box->clickedButton()) != QMessageBox::Ok)
            return;
        m_consumeConfirmed = true;
        QDialog::accept();
    });
    box->open();
}

} // namespace tapedeck
