#include "ui/state/diffdialog.h"

#include "core/base/jobtracker.h"
#include "core/state/logstate.h"
#include "ui/common/settings.h"
#include "ui/common/targetpicker.h"
#include "ui/common/palette.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

constexpr int MaxEntries = 10000; // listed; the counts stay exact
constexpr int EntryRole = Qt::UserRole + 1;

struct DiffRun
{
    DiffResult result;
    qint64 repaired = -1; // rows written by a repair (-1: no repair)
    QString error;
};

QString cell(const std::optional<QByteArray> &v)
{
    if (!v)
        return u"NULL"_s;
    QString s = QString::fromUtf8(*v);
    s.replace(QLatin1Char('\n'), u"⏎"_s);
    return s.size() > 200 ? s.left(200) + u"…"_s : s;
}

QString keyText(const DiffEntry &e)
{
    QStringList parts;
    for (const auto &k : e.key)
        parts.append(cell(k));
    return parts.join(u", "_s);
}

bool runDiff(const LogState &state, const TableReaderFactory &readers, const ReplayTarget &target, const QString &table,
             const DiffOptions &options, const std::shared_ptr<std::atomic<qint64>> &rows, const std::function<bool()> &cancelled,
             DiffResult *result, QString *error)
{
    std::unique_ptr<TableReader> reader = readers(target, error);
    if (!reader)
        return false;
    return TableDiff::run(state, *reader, table, options, result, error, [&](qint64 n) {
        rows->store(n);
        return !cancelled();
    });
}

} // namespace

DiffDialog::DiffDialog(Settings *settings, QWidget *parent)
    : QDialog(parent)
    , m_settings(settings)
    , m_jobs(std::make_unique<JobTracker>(this))
    , m_rowsRead(std::make_shared<std::atomic<qint64>>(0))
{
    setWindowTitle(u"Compare with Table"_s);
    // Created in this order: the tests find widgets by order as well as name.
    QFormLayout *form = createForm();
    QHBoxLayout *buttons = createButtons();
    createResultView();

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addLayout(buttons);
    layout->addWidget(m_summary);
    layout->addWidget(m_tree, 1);
    resize(900, 640);

    wireSignals();
    setRunning(false);
}

QFormLayout *DiffDialog::createForm()
{
    m_stateTable = new QComboBox(this);
    m_stateTable->setToolTip(u"The tape's table (change events) or topic (Kafka) whose state is compared"_s);
    m_atPoint = new QCheckBox(u"At the State view's point (otherwise the end of the tape)"_s, this);
    m_targetPicker = new TargetPicker(TargetPicker::Purpose::Read, m_settings, this);
    m_table = new QLineEdit(this);
    m_table->setPlaceholderText(u"orders, or public.orders"_s);
    m_key = new QLineEdit(this);
    m_key->setPlaceholderText(u"the table's primary key (or COL,COL)"_s);
    m_map = new QLineEdit(this);
    m_map->setPlaceholderText(u"the same column names (or COL=SOURCE,…: SOURCE is a column, key, key.F, value, value.F.G)"_s);
    m_problem = new QLabel(this);
    m_problem->setWordWrap(true);
    Palette::setStyleSheet(m_problem, u"QLabel { color: %1; }"_s, {Palette::Role::Error});

    auto *form = new QFormLayout;
    form->addRow(u"&Log table:"_s, m_stateTable);
    form->addRow(QString(), m_atPoint);
    form->addRow(u"&Compare with:"_s, m_targetPicker->kindBox());
    form->addRow(QString(), m_targetPicker);
    form->addRow(u"&Table:"_s, m_table);
    form->addRow(u"&Key columns:"_s, m_key);
    form->addRow(u"&Mapping:"_s, m_map);
    return form;
}

QHBoxLayout *DiffDialog::createButtons()
{
    m_compareButton = new QPushButton(u"Compare"_s, this);
    m_compareButton->setDefault(true);
    m_cancelButton = new QPushButton(u"Cancel"_s, this);
    m_repairSql = new QPushButton(u"Write Repair SQL…"_s, this);
    m_repairReplay = new QPushButton(u"Repair by Replay…"_s, this);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 0);
    m_progress->setFormat(u"%v rows"_s);
    m_progress->hide();
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_compareButton);
    buttons->addWidget(m_cancelButton);
    buttons->addWidget(m_progress, 1);
    buttons->addStretch();
    buttons->addWidget(m_repairSql);
    buttons->addWidget(m_repairReplay);
    return buttons;
}

void DiffDialog::createResultView()
{
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_tree = new QTreeWidget(this);
    m_tree->setHeaderLabels({u"Key"_s, u"Difference"_s, u"In the log"_s, u"In the table"_s, u"Last events"_s});
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->setRootIsDecorated(true);
    m_tree->header()->setStretchLastSection(true);
    m_tree->setToolTip(u"Double-click (or Enter) to jump to the key's events"_s);
}

void DiffDialog::wireSignals()
{
    m_progressTimer = new QTimer(this);
    m_progressTimer->setInterval(100);
    connect(m_progressTimer, &QTimer::timeout, this, [this] { m_progress->setValue(int(std::min<qint64>(m_rowsRead->load(), INT_MAX))); });
    connect(m_targetPicker, &TargetPicker::changed, this, &DiffDialog::validate);
    for (QLineEdit *edit : {m_table, m_key, m_map})
        connect(edit, &QLineEdit::textChanged, this, &DiffDialog::validate);
    connect(m_stateTable, &QComboBox::currentIndexChanged, this, &DiffDialog::validate);
    connect(m_compareButton, &QPushButton::clicked, this, &DiffDialog::compare);
    connect(m_cancelButton, &QPushButton::clicked, this, [this] {
        if (m_running)
            cancel();
        else
            reject();
    });
    connect(m_repairSql, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, u"Write Repair SQL"_s, m_result.table + u"-repair.sql"_s,
                                                          u"SQL (*.sql);;All files (*)"_s);
        QString error;
        if (!path.isEmpty() && !writeRepairSql(path, &error))
            showError(error);
    });
    connect(m_repairReplay, &QPushButton::clicked, this, &DiffDialog::repairByReplay);
    connect(m_tree, &QTreeWidget::itemActivated, this, &DiffDialog::entryActivated);
}

DiffDialog::~DiffDialog() = default;

QComboBox *DiffDialog::targetBox() const
{
    return m_targetPicker->kindBox();
}

QLineEdit *DiffDialog::sqlitePathEdit() const
{
    return m_targetPicker->sqlitePathEdit();
}

void DiffDialog::setFactories(TableReaderFactory readers, SinkFactory sinks)
{
    m_readers = std::move(readers);
    m_sinks = std::move(sinks);
    validate();
}

void DiffDialog::setState(std::shared_ptr<const LogState> state, const QString &tapeName)
{
    m_state = std::move(state);
    m_tapeName = tapeName;
    const QString current = m_stateTable->currentData().toString();
    m_stateTable->clear();
    if (m_state) {
        for (const LogStateTable &t : m_state->tables())
            m_stateTable->addItem(u"%1 (%2)"_s.arg(t.name, t.kind == SourceKind::Kafka ? u"topic"_s : u"table"_s), t.name);
    }
    setStateTable(current);
    validate();
}

void DiffDialog::setPoint(qint64 end)
{
    m_point = end;
    m_atPoint->setEnabled(end >= 0);
    m_atPoint->setText(end >= 0 ? u"At the State view's point (after %1 events; otherwise the end of the tape)"_s.arg(QLocale().toString(end))
                                : u"At the State view's point (otherwise the end of the tape)"_s);
    if (end < 0)
        m_atPoint->setChecked(false);
}

void DiffDialog::setStateTable(const QString &name)
{
    const int i = m_stateTable->findData(name);
    if (i >= 0)
        m_stateTable->setCurrentIndex(i);
}

void DiffDialog::setSqliteTarget(const QString &path, const QString &table)
{
    m_targetPicker->kindBox()->setCurrentIndex(0);
    m_targetPicker->sqlitePathEdit()->setText(path);
    m_table->setText(table);
}

bool DiffDialog::buildRequest(ReplayTarget *target, QString *table, DiffOptions *options, QString *problem) const
{
    if (!m_state) {
        *problem = u"The tape's keys are still being indexed."_s;
        return false;
    }
    if (m_stateTable->currentIndex() < 0) {
        *problem = u"This tape has no keyed events to compare."_s;
        return false;
    }
    options->stateTable = m_stateTable->currentData().toString();
    options->end = m_atPoint->isChecked() && m_point >= 0 ? m_point : m_state->eventCount();
    options->maxEntries = MaxEntries;
    target->kind = m_targetPicker->kind();
    if (target->kind == ReplayTarget::Kind::Sqlite) {
        target->sqlitePath = m_targetPicker->sqlitePathEdit()->text().trimmed();
        if (target->sqlitePath.isEmpty()) {
            *problem = u"Choose the SQLite file."_s;
            return false;
        }
        if (!QFileInfo::exists(target->sqlitePath)) {
            *problem = u"%1 does not exist."_s.arg(target->sqlitePath);
            return false;
        }
    } else if (!m_targetPicker->pgConnection(&target->pgDsn, problem, u"Type a connection or choose a profile."_s)) {
        return false;
    }
    *table = m_table->text().trimmed();
    if (table->isEmpty()) {
        *problem = u"Type the table's name."_s;
        return false;
    }
    for (const QString &k : m_key->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
        options->keyColumns.append(k.trimmed());
    for (const QString &m : m_map->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const qsizetype eq = m.indexOf(QLatin1Char('='));
        if (eq <= 0 || eq == m.size() - 1) {
            *problem = u"Mapping: “%1” is not COLUMN=SOURCE."_s.arg(m.trimmed());
            return false;
        }
        options->map.append(ColumnMapping{m.left(eq).trimmed(), m.mid(eq + 1).trimmed()});
    }
    return true;
}

void DiffDialog::validate()
{
    ReplayTarget t;
    QString table, problem;
    DiffOptions o;
    const bool ok = buildRequest(&t, &table, &o, &problem);
    m_problem->setText(ok || !m_state ? (m_state ? QString() : problem) : problem);
    m_problem->setVisible(!m_problem->text().isEmpty());
    m_compareButton->setEnabled(ok && !m_running && m_readers);
}

void DiffDialog::setRunning(bool running)
{
    m_running = running;
    m_progress->setVisible(running);
    m_cancelButton->setText(running ? u"Stop"_s : u"Close"_s);
    running ? m_progressTimer->start() : m_progressTimer->stop();
    const bool differs = m_hasResult && !m_result.equal();
    m_repairSql->setEnabled(!running && differs);
    m_repairReplay->setEnabled(!running && differs && bool(m_sinks));
    validate();
}

void DiffDialog::compare()
{
    ReplayTarget target;
    QString table, problem;
    DiffOptions options;
    if (!buildRequest(&target, &table, &options, &problem) || !m_readers) {
        showError(problem);
        return;
    }
    m_rowsRead->store(0);
    m_error.clear();
    m_summary->setText(u"Comparing %1 with %2 table %3…"_s.arg(options.stateTable, target.describe(), table));
    setRunning(true);
    const auto state = m_state;
    const auto readers = m_readers;
    const auto rows = m_rowsRead;
    m_jobs->start(
        [=](const std::function<bool()> &cancelled) {
            DiffRun run;
            if (!runDiff(*state, readers, target, table, options, rows, cancelled, &run.result, &run.error) && run.error.isEmpty())
                run.error = u"the comparison failed"_s;
            return run;
        },
        [this, target](DiffRun run) {
            if (!run.error.isEmpty()) {
                setRunning(false);
                showError(run.error);
                Q_EMIT finished(false);
                return;
            }
            showResult(std::move(run.result), target);
            Q_EMIT finished(true);
        });
}

void DiffDialog::cancel()
{
    m_jobs->cancel(); // the diff's progress callback stops it; its result is dropped
    setRunning(false);
    m_summary->setText(u"Stopped."_s);
}

void DiffDialog::showError(const QString &error)
{
    m_error = error;
    m_summary->setText(u"<span style='color:%1'>%2</span>"_s.arg(Palette::css(Palette::Role::Error), error.toHtmlEscaped()));
}

void DiffDialog::showResult(DiffResult result, const ReplayTarget &target)
{
    m_result = std::move(result);
    m_resultTarget = target;
    m_hasResult = true;
    setRunning(false);
    showResult();
}

void DiffDialog::showResult()
{
    const DiffResult &r = m_result;
    const QLocale l;
    const QString where = r.end < (m_state ? m_state->eventCount() : 0) ? u"after %1 events"_s.arg(l.toString(r.end)) : u"at the end of the tape"_s;
    QString text = r.equal() ? u"<b>Equal</b>: the table %1 holds exactly the %2 rows of %3 %4."_s.arg(r.table.toHtmlEscaped(), l.toString(r.stateRows),
                                                                                                      r.stateTable.toHtmlEscaped(), where)
                             : u"<b>%1 differences</b> between %2 %3 and the table %4: %5 missing in the table, %6 extra, %7 differing "
                               "(%8 equal; %9 rows in the log, %10 in the table)."_s
                                   .arg(l.toString(r.missing + r.extra + r.differing), r.stateTable.toHtmlEscaped(), where, r.table.toHtmlEscaped(),
                                        l.toString(r.missing), l.toString(r.extra), l.toString(r.differing), l.toString(r.equalRows),
                                        l.toString(r.stateRows), l.toString(r.tableRows));
    text += u" Key: %1 · %2 s"_s.arg(r.keyColumns.join(u", "_s).toHtmlEscaped(), l.toString(r.seconds, 'f', 2));
    if (r.unmappable > 0)
        text += u" · %1 log rows whose key could not be mapped were not compared"_s.arg(l.toString(r.unmappable));
    if (r.keyCollisions > 0)
        text += u" · %1 log keys map to the same table key (the later event wins)"_s.arg(l.toString(r.keyCollisions));
    if (r.entries.size() < r.missing + r.extra + r.differing)
        text += u" · the first %1 are listed"_s.arg(l.toString(qint64(r.entries.size())));
    m_summary->setText(text);

    m_tree->clear();
    QList<QTreeWidgetItem *> items;
    const QColor missing = Palette::color(Palette::Role::DiffMissing), extra = Palette::color(Palette::Role::DiffExtra),
                 differs = Palette::color(Palette::Role::DiffDiffers);
    for (qsizetype i = 0; i < r.entries.size(); ++i) {
        const DiffEntry &e = r.entries[i];
        auto *item = new QTreeWidgetItem;
        item->setData(0, EntryRole, qint64(i));
        item->setText(0, keyText(e));
        QStringList events;
        for (qint64 s : e.lastEvents)
            events.append(u"#"_s + QString::number(s));
        item->setText(4, events.join(u", "_s));
        QStringList logCells;
        for (const auto &v : e.stateRow)
            logCells.append(cell(v));
        switch (e.kind) {
        case DiffEntry::Kind::Missing:
            item->setText(1, u"missing in the table"_s);
            item->setText(2, logCells.join(u" | "_s));
            item->setForeground(1, missing);
            break;
        case DiffEntry::Kind::Extra:
            item->setText(1, u"extra in the table (not in the log)"_s);
            item->setForeground(1, extra);
            break;
        case DiffEntry::Kind::Differs: {
            QStringList columns;
            for (const ColumnDifference &d : e.differences) {
                columns.append(d.column);
                if (e.differences.size() == 1)
                    break; // shown on the key's own line
                auto *child = new QTreeWidgetItem(item);
                child->setData(0, EntryRole, qint64(i));
                child->setText(1, d.column);
                child->setText(2, cell(d.state));
                child->setText(3, cell(d.table));
                child->setForeground(1, differs);
            }
            item->setText(1, u"differs: "_s + columns.join(u", "_s));
            item->setForeground(1, differs);
            if (e.differences.size() == 1) {
                item->setText(2, cell(e.differences.first().state));
                item->setText(3, cell(e.differences.first().table));
            }
            break;
        }
        }
        items.append(item);
    }
    m_tree->addTopLevelItems(items);
    m_tree->expandAll();
    for (int c = 0; c < 4; ++c)
        m_tree->resizeColumnToContents(c);
}

QString DiffDialog::filterFor(const DiffEntry &entry) const
{
    if (!m_state)
        return {};
    const int t = m_state->tableIndex(m_result.stateTable);
    if (t < 0 || m_state->tables().at(t).kind == SourceKind::Kafka)
        return {};
    const QStringList stateKeys = m_state->tables().at(t).keyColumns;
    auto js = [](const QString &s) {
        return QString::fromUtf8(QJsonDocument(QJsonObject{{u"s"_s, s}}).toJson(QJsonDocument::Compact)).mid(5).chopped(1);
    };
    QString out = u"e.topic == %1"_s.arg(js(m_result.stateTable));
    for (int i = 0; i < m_result.keyColumns.size() && i < entry.key.size(); ++i) {
        // The key column's source in the log (a change table maps columns by name by default).
        QString source = m_result.keyColumns[i];
        for (const ColumnMapping &m : m_result.mapping) {
            if (m.column == m_result.keyColumns[i])
                source = m.source;
        }
        if (!stateKeys.contains(source) || !entry.key[i])
            return {};
        out += u" && String(JSON.parse(e.key)[%1]) == %2"_s.arg(js(source), js(QString::fromUtf8(*entry.key[i])));
    }
    return out;
}

void DiffDialog::entryActivated(QTreeWidgetItem *item)
{
    const qint64 i = item ? item->data(0, EntryRole).toLongLong() : -1;
    if (i < 0 || i >= m_result.entries.size())
        return;
    const DiffEntry &e = m_result.entries[i];
    if (e.lastEvents.isEmpty()) {
        m_summary->setText(u"The key %1 has no events in the tape."_s.arg(keyText(e).toHtmlEscaped()));
        return;
    }
    Q_EMIT jumpToEvents(filterFor(e), e.lastEvents);
}

bool DiffDialog::writeRepairSql(const QString &path, QString *error)
{
    if (!m_hasResult) {
        *error = u"compare first"_s;
        return false;
    }
    QSaveFile file(path);
    const QByteArray script = TableDiff::repairSql(m_result, u"Tapedeck repair of %1 from %2 (%3)"_s.arg(m_result.table, m_tapeName, m_result.stateTable));
    if (!file.open(QIODevice::WriteOnly) || file.write(script) != script.size() || !file.commit()) {
        *error = u"%1: %2"_s.arg(path, file.errorString());
        return false;
    }
    m_summary->setText(u"Wrote the repair script %1 (%2 changes). Run it against %3, then compare again."_s.arg(
        path.toHtmlEscaped(), QLocale().toString(m_result.missing + m_result.extra + m_result.differing), m_resultTarget.describe().toHtmlEscaped()));
    return true;
}

void DiffDialog::repairByReplay()
{
    if (!m_hasResult || m_result.equal() || !m_sinks || m_running)
        return;
    const DiffResult before = m_result;
    const ReplayTarget target = m_resultTarget;
    const QLocale l;
    m_lastQuestion = u"Repair the table %1 in %2?\n\nThis writes %3 changes so that it equals %4: %5 inserts of missing rows, %6 updates "
                     "of differing rows, %7 deletes of extra rows, in transactions through the replay engine's sink."_s
                         .arg(before.table, target.describe(), l.toString(before.missing + before.extra + before.differing), before.stateTable,
                              l.toString(before.missing), l.toString(before.differing), l.toString(before.extra));
    const bool yes = m_confirm ? m_confirm(m_lastQuestion)
                               : QMessageBox::question(this, u"Repair by Replay"_s, m_lastQuestion, QMessageBox::Yes | QMessageBox::Cancel,
                                                       QMessageBox::Cancel) == QMessageBox::Yes;
    if (!yes)
        return;
    ReplayTarget t2;
    QString table, problem;
    DiffOptions options;
    if (!buildRequest(&t2, &table, &options, &problem)) {
        showError(problem);
        return;
    }
    options.stateTable = before.stateTable;
    options.end = before.end;
    const QString replayId = u"repair-%1-%2"_s.arg(m_tapeName, before.table);
    m_summary->setText(u"Repairing %1…"_s.arg(target.describe().toHtmlEscaped()));
    m_rowsRead->store(0);
    setRunning(true);
    const auto state = m_state;
    const auto readers = m_readers;
    const auto sinks = m_sinks;
    const auto rows = m_rowsRead;
    m_jobs->start(
        [=](const std::function<bool()> &cancelled) {
            DiffRun run;
            std::unique_ptr<Sink> sink = sinks(target, &run.error);
            if (!sink)
                return run;
            if (!sink->open(replayId, &run.error))
                return run;
            qint64 written = 0;
            const bool ok = TableDiff::repair(*sink, before, replayId, &written, &run.error);
            sink->close();
            if (!ok)
                return run;
            run.repaired = written;
            // Compare again: the result the user sees is the table after the repair.
            if (!runDiff(*state, readers, target, table, options, rows, cancelled, &run.result, &run.error) && run.error.isEmpty())
                run.error = u"the comparison after the repair failed"_s;
            return run;
        },
        [this, target, replayId](DiffRun run) {
            setRunning(false);
            if (!run.error.isEmpty()) {
                showError(u"Repair: "_s + run.error);
                Q_EMIT finished(false);
                return;
            }
            showResult(std::move(run.result), target);
            m_summary->setText(u"Repaired: %1 rows written (replay id %2). "_s.arg(QLocale().toString(run.repaired), replayId.toHtmlEscaped())
                               + m_summary->text());
            Q_EMIT finished(true);
        });
}

} // namespace tapedeck
