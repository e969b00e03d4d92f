#include "ui/replay/replaydialog.h"

#include "core/event/bound.h"
#include "core/kafka/kafkaconnection.h"
#include "core/replay/replayrequest.h"
#include "ui/common/settings.h"
#include "core/tape/tape.h"
#include "ui/common/targetpicker.h"
#include "ui/transform/transformeditor.h"
#include "ui/common/valueformat.h"
#include "ui/common/palette.h"

#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace tapedeck {


ReplayDialog::ReplayDialog(Settings *settings, QWidget *parent) : QDialog(parent), m_settings(settings)
{
    setWindowTitle(u"Replay"_s);
    setModal(false);
    setMinimumWidth(620);

    // Created in this order: the tests find widgets by order as well as name.
    QGroupBox *sourceBox = createSourceGroup();
    QHBoxLayout *jsRow = createTransformRow();
    createKafkaTarget();
    QHBoxLayout *parallel = createRunOptions();
    QGroupBox *targetBox = createTargetGroup(jsRow, parallel);
    QHBoxLayout *buttons = createButtons();
    createProgressArea();

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(sourceBox);
    layout->addWidget(targetBox);
    layout->addWidget(m_problem);
    layout->addLayout(buttons);
    layout->addWidget(m_progress);
    layout->addWidget(m_rate);
    layout->addWidget(m_summary, 1);

    m_form = {sourceBox, targetBox, m_dryRun, m_replay};

    createRunner();
    loadKafkaProfiles();
    wireSignals();

    setTape(nullptr);
    updateRangeFields();
}

QGroupBox *ReplayDialog::createSourceGroup()
{
    m_tapeLabel = new QLabel(this);
    m_tapeLabel->setWordWrap(true);

    // Source range.
    m_range = new QComboBox(this);
    m_range->addItem(u"The whole tape"_s, int(Range::Whole));
    m_range->addItem(u"The timeline selection"_s, int(Range::Selection));
    m_range->addItem(u"Positions (offsets or LSNs)"_s, int(Range::Positions));
    m_range->addItem(u"Times (ISO 8601 or ms since the epoch)"_s, int(Range::Times));
    m_from = new QLineEdit(this);
    m_to = new QLineEdit(this);
    auto *fromTo = new QHBoxLayout;
    fromTo->addWidget(new QLabel(u"From"_s, this));
    fromTo->addWidget(m_from, 1);
    fromTo->addWidget(new QLabel(u"to"_s, this));
    fromTo->addWidget(m_to, 1);
    auto *sourceBox = new QGroupBox(u"Source"_s, this);
    auto *sourceForm = new QFormLayout(sourceBox);
    sourceForm->addRow(u"Tape:"_s, m_tapeLabel);
    sourceForm->addRow(u"Events:"_s, m_range);
    sourceForm->addRow(QString(), fromTo);
    m_changeLanesOnly = new QCheckBox(u"Only the change-event lanes (leave the Kafka records out)"_s, this);
    m_changeLanesOnly->setToolTip(u"The identity writes change events to SQL; Kafka records need a transform"_s);
    sourceForm->addRow(QString(), m_changeLanesOnly);
    return sourceBox;
}

QHBoxLayout *ReplayDialog::createTransformRow()
{
    // Transform.
    m_transform = new QComboBox(this);
    m_transform->addItem(u"Identity (change events: same table, same operation)"_s, int(TransformChoice::Identity));
    m_transform->addItem(u"The transform editor's script"_s, int(TransformChoice::Editor));
    m_transform->addItem(u"A .js file"_s, int(TransformChoice::File));
    m_transformFile = new QLineEdit(this);
    m_transformFile->setPlaceholderText(u"path/to/transform.js"_s);
    auto *browseJs = new QPushButton(u"Browse…"_s, this);
    connect(browseJs, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, u"Transform"_s, QDir::homePath(), u"JavaScript (*.js)"_s);
        if (!path.isEmpty())
            m_transformFile->setText(path);
    });
    auto *jsRow = new QHBoxLayout;
    jsRow->addWidget(m_transformFile, 1);
    jsRow->addWidget(browseJs);
    return jsRow;
}

void ReplayDialog::createKafkaTarget()
{
    // Target.
    m_targetPicker = new TargetPicker(TargetPicker::Purpose::Write, m_settings, this);

    auto *kafkaPage = new QWidget(m_targetPicker);
    m_kafkaForm = new QFormLayout(kafkaPage);
    m_kafkaForm->setContentsMargins(0, 0, 0, 0);
    m_kafkaProfile = new QComboBox(kafkaPage);
    m_kafkaBootstrap = new QLineEdit(kafkaPage);
    m_kafkaBootstrap->setPlaceholderText(u"host:9092"_s);
    m_kafkaTopic = new QLineEdit(kafkaPage);
    m_kafkaTopic->setPlaceholderText(u"target topic (identity; a transform names its own topics)"_s);
    m_kafkaForm->addRow(u"Profile:"_s, m_kafkaProfile);
    m_kafkaForm->addRow(u"Bootstrap:"_s, m_kafkaBootstrap);
    m_kafkaForm->addRow(u"Topic:"_s, m_kafkaTopic);
    m_targetPicker->addTarget(u"Kafka topic"_s, ReplayTarget::Kind::Kafka, kafkaPage);
}

QHBoxLayout *ReplayDialog::createRunOptions()
{
    m_createTables = new QCheckBox(u"Offer to create missing tables from the outputs' shape (asks first)"_s, this);
    m_createTables->setChecked(true);
    m_createTables->setToolTip(u"When the target lacks a table, the replay shows the CREATE TABLE it would run and asks"_s);
    m_engines = new QSpinBox(this);
    m_engines->setRange(1, 16);
    m_engines->setSuffix(u" transform engine(s)"_s);
    m_engines->setToolTip(u"JavaScript engines on worker threads; events are shared out by key, so each key keeps its order"_s);
    m_connections = new QSpinBox(this);
    m_connections->setRange(1, 16);
    m_connections->setSuffix(u" connection(s)"_s);
    m_connections->setToolTip(u"PostgreSQL connections writing at once, keys shared out among them (tables with foreign keys, "
                              "triggers or other unique indexes keep to one); a replay id keeps the number of its first run"_s);
    auto *parallel = new QHBoxLayout;
    parallel->addWidget(m_engines);
    parallel->addWidget(m_connections);
    parallel->addStretch(1);
    m_replayId = new QLineEdit(this);
    m_replayId->setToolTip(u"Progress is kept per replay id: rerunning with the same id continues after the last committed batch"_s);
    m_onError = new QComboBox(this);
    m_onError->addItem(u"Stop at the first failing event"_s, u"stop"_s);
    m_onError->addItem(u"Skip failing events (dead-letter file)"_s, u"skip"_s);
    m_deadLetter = new QLineEdit(this);
    m_deadLetter->setPlaceholderText(u"dead-letter file (JSON lines), optional"_s);
    return parallel;
}

QGroupBox *ReplayDialog::createTargetGroup(QHBoxLayout *jsRow, QHBoxLayout *parallel)
{
    auto *targetBox = new QGroupBox(u"Transform and target"_s, this);
    auto *targetForm = new QFormLayout(targetBox);
    targetForm->addRow(u"Transform:"_s, m_transform);
    targetForm->addRow(QString(), jsRow);
    targetForm->addRow(u"Into:"_s, m_targetPicker->kindBox());
    targetForm->addRow(QString(), m_targetPicker);
    targetForm->addRow(QString(), m_createTables);
    targetForm->addRow(u"In parallel:"_s, parallel);
    targetForm->addRow(u"Replay id:"_s, m_replayId);
    targetForm->addRow(u"On error:"_s, m_onError);
    targetForm->addRow(QString(), m_deadLetter);
    return targetBox;
}

QHBoxLayout *ReplayDialog::createButtons()
{
    m_problem = new QLabel(this);
    Palette::setStyleSheet(m_problem, u"color: %1;"_s, {Palette::Role::Failure});
    m_problem->setWordWrap(true);

    m_dryRun = new QPushButton(u"Dry Run"_s, this);
    m_dryRun->setToolTip(u"Transform the range and count the outputs; write nothing"_s);
    m_replay = new QPushButton(u"Replay…"_s, this);
    m_replay->setDefault(true);
    m_cancel = new QPushButton(u"Cancel"_s, this);
    m_cancel->setToolTip(u"Stop; the batch being written is rolled back"_s);
    m_cancel->setEnabled(false);
    m_close = new QPushButton(u"Close"_s, this);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_dryRun);
    buttons->addStretch(1);
    buttons->addWidget(m_replay);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_close);
    return buttons;
}

void ReplayDialog::createProgressArea()
{
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setFormat(QString());
    m_rate = new QLabel(this);
    m_summary = new QPlainTextEdit(this);
    m_summary->setReadOnly(true);
    m_summary->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_summary->setPlaceholderText(u"The summary of the run appears here"_s);
    m_summary->setMinimumHeight(110);
}

void ReplayDialog::createRunner()
{
    m_runner = new ReplayRunner(this);
    connect(m_runner, &ReplayRunner::progress, this, &ReplayDialog::showProgress);
    connect(m_runner, &ReplayRunner::finished, this, [this](const ReplayReport &r) {
        showProgress(r);
        showSummary(r);
        setRunning(false);
        // The server wants a password nobody typed: ask for it, then run again
        // (the replay was confirmed already; nothing was written).
        const bool authFailed = r.error.contains(u"no password supplied"_s) || r.error.contains(u"password authentication failed"_s);
        if (!r.ok && !r.cancelled && !r.dryRun && authFailed && m_lastKind == ReplayTarget::Kind::Postgres && !m_passwordAsked) {
            m_passwordAsked = true;
            const QString prompt = u"Password for %1:"_s.arg(m_lastTarget);
            std::optional<QString> password;
            if (m_passwordPrompt) {
                password = m_passwordPrompt(prompt);
            } else {
                bool ok = false;
                const QString typed = QInputDialog::getText(this, u"Replay"_s, prompt, QLineEdit::Password, QString(), &ok);
                if (ok)
                    password = typed;
            }
            if (password && !password->isEmpty()) {
                m_targetPicker->pgPasswordEdit()->setText(*password);
                run(false, true);
            }
        }
    });
    m_runner->setCreateTableHandler([this](const QString &table, const QString &statement) {
        QString sql = statement;
        sql.replace(u"; "_s, u";\n"_s); // CREATE SCHEMA IF NOT EXISTS …; CREATE TABLE …
        const QString question = u"%1 has no table %2. Create it from the outputs' shape with:\n\n%3;"_s.arg(m_lastTarget, table, sql);
        m_createQuestions.append(question);
        if (m_confirmCreate)
            return m_confirmCreate(question);
        return QMessageBox::question(this, u"Create Table"_s, question, QMessageBox::Yes | QMessageBox::No, QMessageBox::No)
            == QMessageBox::Yes;
    });
}

void ReplayDialog::loadKafkaProfiles()
{
    for (const QString &name : m_settings->kafkaProfileNames())
        m_kafkaProfile->addItem(name);
    m_kafkaProfile->insertItem(0, u"(none: type the bootstrap servers)"_s, QString());
    m_kafkaProfile->setCurrentIndex(qMax(0, m_kafkaProfile->findText(m_settings->lastKafkaProfile())));
    loadKafkaProfile();
}

void ReplayDialog::wireSignals()
{
    connect(m_range, &QComboBox::currentIndexChanged, this, &ReplayDialog::updateRangeFields);
    connect(m_kafkaProfile, &QComboBox::currentIndexChanged, this, &ReplayDialog::loadKafkaProfile);
    connect(m_targetPicker, &TargetPicker::changed, this, &ReplayDialog::validate);
    for (QLineEdit *edit : {m_from, m_to, m_transformFile, m_kafkaBootstrap, m_kafkaTopic, m_replayId, m_deadLetter})
        connect(edit, &QLineEdit::textChanged, this, &ReplayDialog::validate);
    connect(m_transform, &QComboBox::currentIndexChanged, this, &ReplayDialog::validate);
    connect(m_onError, &QComboBox::currentIndexChanged, this, &ReplayDialog::validate);
    connect(m_changeLanesOnly, &QCheckBox::toggled, this, &ReplayDialog::validate);
    connect(m_dryRun, &QPushButton::clicked, this, &ReplayDialog::startDryRun);
    connect(m_replay, &QPushButton::clicked, this, &ReplayDialog::startReplay);
    connect(m_cancel, &QPushButton::clicked, this, &ReplayDialog::cancel);
    connect(m_close, &QPushButton::clicked, this, &QDialog::close);
}

ReplayDialog::~ReplayDialog() = default;

QComboBox *ReplayDialog::targetBox() const
{
    return m_targetPicker->kindBox();
}

QLineEdit *ReplayDialog::sqlitePathEdit() const
{
    return m_targetPicker->sqlitePathEdit();
}

QComboBox *ReplayDialog::pgProfileBox() const
{
    return m_targetPicker->pgProfileBox();
}

QLineEdit *ReplayDialog::pgDsnEdit() const
{
    return m_targetPicker->pgDsnEdit();
}

QLineEdit *ReplayDialog::pgPasswordEdit() const
{
    return m_targetPicker->pgPasswordEdit();
}

void ReplayDialog::setTape(std::shared_ptr<const Tape> tape)
{
    const bool same = tape && m_tape && tape->path() == m_tape->path();
    m_tape = std::move(tape);
    if (!m_tape) {
        m_tapeLabel->setText(u"No tape open"_s);
    } else {
        const QFileInfo info(m_tape->path());
        bool changes = false, records = false;
        for (const StreamStats &s : m_tape->streams())
            (s.key.kind == SourceKind::Postgres ? changes : records) = true;
        m_changeLanesOnly->setEnabled(changes && records);
        if (!same)
            m_changeLanesOnly->setChecked(false);
        m_tapeLabel->setText(u"%1 · %2 events"_s.arg(info.fileName(), QLocale().toString(m_tape->eventCount())));
        if (!same) {
            m_replayId->setText(info.fileName());
            if (sqlitePathEdit()->text().isEmpty())
                sqlitePathEdit()->setText(info.absolutePath() + u'/' + info.completeBaseName() + u"-replay.sqlite"_s);
        }
    }
    validate();
}

void ReplayDialog::setTransformEditor(TransformEditor *editor)
{
    m_editor = editor;
    if (editor)
        m_transform->setItemText(1, u"The transform editor's script (%1)"_s.arg(editor->scriptName()));
    validate();
}

void ReplayDialog::setSelection(const EventSelection &selection, qint64 events, const QString &description)
{
    m_selection = selection;
    m_selectionEvents = events;
    m_selectionDescription = description;
    const bool has = !selection.isEmpty();
    m_range->setItemText(1, has ? u"The timeline selection: %1"_s.arg(description) : u"The timeline selection (none)"_s);
    if (has)
        m_range->setCurrentIndex(1);
    else if (m_range->currentIndex() == 1)
        m_range->setCurrentIndex(0);
    validate();
}

void ReplayDialog::updateRangeFields()
{
    const auto range = Range(m_range->currentData().toInt());
    const bool typed = range == Range::Positions || range == Range::Times;
    m_from->setEnabled(typed);
    m_to->setEnabled(typed);
    m_from->setPlaceholderText(range == Range::Times ? u"2026-03-01T12:00:00Z (empty: the start)"_s
                                                     : u"offset or LSN 16/B374D848 (empty: the start)"_s);
    m_to->setPlaceholderText(range == Range::Times ? u"inclusive (empty: the end)"_s : u"inclusive (empty: the end)"_s);
    validate();
}

void ReplayDialog::loadKafkaProfile()
{
    for (auto &[name, edit] : m_kafkaSecrets)
        m_kafkaForm->removeRow(edit);
    m_kafkaSecrets.clear();
    m_kafkaProperties.clear();
    const QString name = m_kafkaProfile->currentIndex() > 0 ? m_kafkaProfile->currentText() : QString();
    if (name.isEmpty())
        return;
    QStringList secrets;
    const auto connection = m_settings->kafkaProfile(name, &secrets);
    if (!connection)
        return;
    m_kafkaBootstrap->setText(connection->bootstrapServers());
    m_kafkaProperties = connection->properties;
    for (const QString &secret : std::as_const(secrets)) {
        auto *edit = new QLineEdit(this);
        edit->setEchoMode(QLineEdit::Password);
        edit->setPlaceholderText(u"asked each time, never stored"_s);
        m_kafkaForm->addRow(secret + u':', edit);
        m_kafkaSecrets.append({secret, edit});
    }
}

bool ReplayDialog::buildOptions(ReplayOptions *o, ReplayTarget *t, QString *problem) const
{
    if (!m_tape) {
        *problem = u"Open a tape first"_s;
        return false;
    }
    // The form's texts and choices go through the rules the CLI uses too.
    ReplayRequest request;
    if (!buildRequest(&request, problem) || !toOptions(request, o, problem))
        return false;
    if (Range(m_range->currentData().toInt()) == Range::Selection) {
        if (m_selection.isEmpty()) {
            *problem = u"Brush a range on the timeline first, or type positions or times"_s;
            return false;
        }
        o->selection = m_selection;
    }
    if (m_changeLanesOnly->isChecked() && m_changeLanesOnly->isEnabled() && !narrowToChangeLanes(o, problem))
        return false;
    if (!buildTarget(t, problem))
        return false;
    if (t->kind == ReplayTarget::Kind::Kafka)
        o->kafkaTopic = t->kafkaTopic;
    o->target = t->contextName();
    return true;
}

// The range, transform and error handling as the CLI's words for them.
bool ReplayDialog::buildRequest(ReplayRequest *request, QString *problem) const
{
    const auto range = Range(m_range->currentData().toInt());
    if (range == Range::Positions || range == Range::Times) {
        request->unit = range == Range::Times ? ReplayRequest::Unit::Times : ReplayRequest::Unit::Positions;
        request->from = m_from->text();
        request->to = m_to->text();
    }
    const auto transform = TransformChoice(m_transform->currentData().toInt());
    if (transform == TransformChoice::Editor) {
        if (!m_editor) {
            *problem = u"Open the transform editor first (Replay › Transform Editor)"_s;
            return false;
        }
        request->transformSource = m_editor->script();
        request->transformName = m_editor->scriptName();
    } else if (transform == TransformChoice::File) {
        request->transformPath = m_transformFile->text().trimmed();
        if (request->transformPath.isEmpty()) {
            *problem = u"Choose a .js file"_s;
            return false;
        }
    }
    request->replayId = m_replayId->text();
    request->skipErrors = m_onError->currentData().toString() == u"skip";
    if (request->skipErrors)
        request->deadLetterPath = m_deadLetter->text();
    request->threads = m_engines->value();
    return true;
}

// "Change-event lanes only": the selection keeps just its PostgreSQL lanes.
bool ReplayDialog::narrowToChangeLanes(ReplayOptions *o, QString *problem) const
{
    QList<quint32> lanes;
    for (const StreamStats &s : m_tape->streams()) {
        if (s.key.kind == SourceKind::Postgres && o->selection.includesStream(s.id))
            lanes.append(s.id);
    }
    if (lanes.isEmpty()) {
        *problem = u"The selection has no change-event lanes"_s;
        return false;
    }
    std::sort(lanes.begin(), lanes.end());
    if (o->selection.isEmpty()) {
        o->selection.axis = AxisKind::Position;
        o->selection.range = AxisRange{0, m_tape->eventCount()};
    }
    o->selection.streams = lanes;
    return true;
}

bool ReplayDialog::buildTarget(ReplayTarget *t, QString *problem) const
{
    t->kind = m_targetPicker->kind();
    t->createTables = m_createTables->isChecked();
    t->connections = t->kind == ReplayTarget::Kind::Postgres ? m_connections->value() : 1;
    switch (t->kind) {
    case ReplayTarget::Kind::Sqlite:
        t->sqlitePath = sqlitePathEdit()->text().trimmed();
        if (t->sqlitePath.isEmpty()) {
            *problem = u"Choose the SQLite file to write"_s;
            return false;
        }
        break;
    case ReplayTarget::Kind::Postgres:
        if (!m_targetPicker->pgConnection(&t->pgDsn, problem, u"Choose a PostgreSQL profile or type a connection"_s))
            return false;
        break;
    case ReplayTarget::Kind::Kafka:
        t->kafka.bootstrap = m_kafkaBootstrap->text().trimmed();
        t->kafka.properties = m_kafkaProperties;
        for (const auto &[name, edit] : m_kafkaSecrets)
            t->kafka.properties.append({name, edit->text()});
        t->kafkaTopic = m_kafkaTopic->text().trimmed();
        if (t->kafka.bootstrapServers().isEmpty() || t->kafkaTopic.isEmpty()) {
            *problem = u"Choose a Kafka profile (or bootstrap servers) and a topic"_s;
            return false;
        }
        break;
    }
    return true;
}

QString ReplayDialog::confirmationQuestion(const ReplayOptions &o, const ReplayTarget &t) const
{
    const QLocale locale;
    QString what;
    const auto range = Range(m_range->currentData().toInt());
    if (range == Range::Whole)
        what = u"all %1 events"_s.arg(locale.toString(m_tape->eventCount()));
    else if (range == Range::Selection)
        what = m_selectionEvents >= 0 ? u"%1 events (%2)"_s.arg(locale.toString(m_selectionEvents), m_selectionDescription)
                                      : u"the events of %1"_s.arg(m_selectionDescription);
    else
        what = u"the events %1 %2 to %3"_s.arg(range == Range::Times ? u"from"_s : u"at positions"_s,
                                               m_from->text().trimmed().isEmpty() ? u"the start"_s : m_from->text().trimmed(),
                                               m_to->text().trimmed().isEmpty() ? u"the end"_s : m_to->text().trimmed());
    return u"Write %1 of %2 into %3 as replay id “%4”?\n\nTransform: %5. Events already committed under this replay id are skipped (the replay resumes after them)."_s
        .arg(what, QFileInfo(m_tape->path()).fileName(), t.describe(), o.replayId,
             o.transformSource.isEmpty() ? u"identity"_s : o.transformFile);
}

qint64 ReplayDialog::recordsInRange(const ReplayOptions &o, bool *exact) const
{
    *exact = true;
    if (!m_tape)
        return 0;
    const EventSelection &sel = o.selection;
    const bool wholeSeqs = sel.isEmpty()
        || (sel.axis == AxisKind::Position && sel.range.from <= 0 && sel.range.to >= m_tape->eventCount());
    qint64 n = 0;
    for (const StreamStats &s : m_tape->streams()) {
        if (s.key.kind == SourceKind::Postgres || s.count == 0 || !sel.includesStream(s.id))
            continue;
        const qint64 minMs = s.minTimestampUs / 1000, maxMs = s.maxTimestampUs / 1000;
        const bool timeSel = !sel.isEmpty() && sel.axis == AxisKind::Time;
        // A lane that cannot meet the bounds holds none; one that meets them
        // only in part is counted whole, as an upper bound.
        if (s.maxPosition < o.fromPosition || s.minPosition > o.toPosition || maxMs < o.fromTimeMs || minMs > o.toTimeMs
            || (timeSel && !sel.range.overlaps(s.minTimestampUs, s.maxTimestampUs)))
            continue;
        const bool covered = s.minPosition >= o.fromPosition && s.maxPosition <= o.toPosition && minMs >= o.fromTimeMs
            && maxMs <= o.toTimeMs
            && (wholeSeqs || (timeSel && s.minTimestampUs >= sel.range.from && s.maxTimestampUs < sel.range.to));
        if (!covered)
            *exact = false;
        n += s.count;
    }
    return n;
}

void ReplayDialog::validate()
{
    if (m_runner && m_runner->isRunning())
        return;
    ReplayOptions o;
    ReplayTarget t;
    QString problem;
    const bool ok = buildOptions(&o, &t, &problem);
    m_problem->setText(ok ? (m_factory ? QString() : u"This build cannot write replays (no sink factory)"_s) : problem);
    m_replay->setEnabled(ok && m_factory);
    m_dryRun->setEnabled(ok);
    m_deadLetter->setEnabled(m_onError->currentData().toString() == u"skip");
    m_transformFile->setEnabled(TransformChoice(m_transform->currentData().toInt()) == TransformChoice::File);
    m_createTables->setEnabled(t.kind != ReplayTarget::Kind::Kafka);
    m_engines->setEnabled(TransformChoice(m_transform->currentData().toInt()) != TransformChoice::Identity);
    m_connections->setEnabled(m_targetPicker->kind() == ReplayTarget::Kind::Postgres);
}

QString ReplayDialog::problemText() const
{
    return m_problem->text();
}

void ReplayDialog::startDryRun()
{
    run(true);
}

void ReplayDialog::startReplay()
{
    m_passwordAsked = false;
    run(false);
}

void ReplayDialog::run(bool dryRun, bool confirmed)
{
    if (isRunning())
        return;
    ReplayOptions o;
    ReplayTarget t;
    QString problem;
    if (!buildOptions(&o, &t, &problem)) {
        m_problem->setText(problem);
        return;
    }
    o.dryRun = dryRun;
    if (o.transformSource.isEmpty() && t.kind != ReplayTarget::Kind::Kafka && o.onError == ReplayOptions::OnError::Stop) {
        bool exact = true;
        if (const qint64 records = recordsInRange(o, &exact); records > 0) {
            const QLocale locale;
            m_lastWarning = u"The range has %1 %2 the identity cannot write to SQL: it would stop at the first one.\n\n"
                            "Replay only the change-event lanes, pick a transform, or skip the records "
                            "(On error: skip, to the dead-letter file)."_s
                                .arg(exact ? locale.toString(records) : u"up to "_s + locale.toString(records),
                                     records == 1 ? u"Kafka record"_s : u"Kafka records"_s);
            MixedChoice choice = MixedChoice::Cancel;
            if (m_mixed) {
                choice = m_mixed(m_lastWarning);
            } else {
                QMessageBox box(QMessageBox::Warning, u"Replay"_s, m_lastWarning, QMessageBox::Cancel, this);
                QPushButton *lanes = box.addButton(u"Only Change-Event Lanes"_s, QMessageBox::AcceptRole);
                QPushButton *skip = box.addButton(u"Skip the Records"_s, QMessageBox::DestructiveRole);
                box.setDefaultButton(lanes);
                box.exec();
                choice = box.clickedButton() == lanes ? MixedChoice::ChangeLanesOnly
                    : box.clickedButton() == skip     ? MixedChoice::Skip
                                                      : MixedChoice::Cancel;
            }
            if (choice == MixedChoice::Cancel)
                return;
            if (choice == MixedChoice::ChangeLanesOnly)
                m_changeLanesOnly->setChecked(true);
            else
                m_onError->setCurrentIndex(m_onError->findData(u"skip"_s));
            o = ReplayOptions();
            t = ReplayTarget();
            if (!buildOptions(&o, &t, &problem)) {
                m_problem->setText(problem);
                return;
            }
            o.dryRun = dryRun;
        }
    }
    if (!dryRun && !confirmed) {
        if (!m_factory)
            return;
        m_lastQuestion = confirmationQuestion(o, t);
        const bool yes = m_confirm ? m_confirm(m_lastQuestion)
                                   : QMessageBox::question(this, u"Replay"_s, m_lastQuestion,
                                                           QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel)
                                         == QMessageBox::Yes;
        if (!yes)
            return;
    }
    if (!dryRun && !m_factory)
        return;
    m_lastRunDry = dryRun;
    m_lastTarget = t.describe();
    m_lastKind = t.kind;
    m_summary->clear();
    m_progress->setValue(0);
    m_progress->setFormat(u"starting…"_s);
    m_rate->clear();
    if (m_runner->start(m_tape, o, t, dryRun ? SinkFactory() : m_factory))
        setRunning(true);
}

void ReplayDialog::cancel()
{
    m_runner->cancel();
    m_cancel->setEnabled(false);
    m_progress->setFormat(u"cancelling…"_s);
}

bool ReplayDialog::isRunning() const
{
    return m_runner->isRunning();
}

void ReplayDialog::setRunning(bool running)
{
    for (QWidget *w : std::as_const(m_form))
        w->setEnabled(!running);
    m_cancel->setEnabled(running);
    if (!running)
        validate();
}

QString ReplayDialog::formatDuration(double seconds)
{
    if (seconds < 0 || !std::isfinite(seconds))
        return u"?"_s;
    if (seconds < 10)
        return u"%1 s"_s.arg(seconds, 0, 'f', 2);
    const qint64 s = qint64(seconds + 0.5);
    if (s < 60)
        return u"%1 s"_s.arg(s);
    if (s < 3600)
        return u"%1 min %2 s"_s.arg(s / 60).arg(s % 60);
    return u"%1 h %2 min"_s.arg(s / 3600).arg((s % 3600) / 60);
}

void ReplayDialog::showProgress(const ReplayReport &r)
{
    const QLocale locale;
    const ReplayStats &s = r.stats;
    const double fraction = s.totalEvents > 0 ? double(s.events) / double(s.totalEvents) : 1.0;
    m_progress->setValue(int(fraction * 1000));
    m_progress->setFormat(u"%1 / %2 events (%p%)"_s.arg(locale.toString(s.events), locale.toString(s.totalEvents)));
    const double rate = s.seconds > 0 ? double(s.events) / s.seconds : 0;
    QString text = u"%1 events/s · %2 %3"_s.arg(locale.toString(qint64(rate)))
                       .arg(locale.toString(m_lastRunDry ? s.outputs : s.written))
                       .arg(m_lastRunDry ? u"outputs"_s : u"written"_s);
    if (!r.finished && rate > 0)
        text += u" · ETA %1"_s.arg(formatDuration(double(s.totalEvents - s.events) / rate));
    else
        text += u" · %1"_s.arg(formatDuration(s.seconds));
    m_rate->setText(text);
}

void ReplayDialog::showSummary(const ReplayReport &r)
{
    const QLocale locale;
    const ReplayStats &s = r.stats;
    QStringList lines;
    const QString where = r.dryRun ? u"dry run"_s : r.target;
    if (r.ok)
        lines << u"Done: %1"_s.arg(where);
    else if (r.cancelled)
        lines << u"Cancelled: %1 (the batch in progress was rolled back; rerun with the same replay id to continue)"_s.arg(where);
    else
        lines << u"Stopped: %1"_s.arg(r.error);
    if (s.resumedAfterSeq >= 0)
        lines << u"Resumed after event #%1 (committed earlier under this replay id)"_s.arg(s.resumedAfterSeq);
    using ValueFormat::count;
    lines << u"%1 read, %2 in range, %3, %4 %5, %6 dropped, %7, %8, %9"_s
                 .arg(count(s.events, u"event"_s, u"events"_s), locale.toString(s.inRange),
                      count(s.outputs, u"output"_s, u"outputs"_s), locale.toString(r.dryRun ? s.outputs : s.written),
                      r.dryRun ? u"would be written"_s : u"written"_s, locale.toString(r.drops),
                      count(s.skipped, u"error"_s, u"errors"_s), count(s.batches, u"batch"_s, u"batches"_s),
                      formatDuration(s.seconds));
    for (auto it = r.perTarget.cbegin(); it != r.perTarget.cend(); ++it)
        lines << u"  %1: %2"_s.arg(it.key(), r.dryRun ? count(it.value(), u"output"_s, u"outputs"_s)
                                                  : count(it.value(), u"row written"_s, u"rows written"_s));
    if (!r.errors.isEmpty()) {
        const qint64 total = std::max<qint64>(s.skipped, r.errors.size());
        lines << (total > 20 ? u"Errors (the first 20 of %1):"_s.arg(QLocale().toString(total)) : u"Errors:"_s);
        for (const QString &e : r.errors.mid(0, 20))
            lines << u"  "_s + e;
    }
    m_summary->setPlainText(lines.join(u'\n'));
}

QString ReplayDialog::rateText() const
{
    return m_rate->text();
}

QString ReplayDialog::summaryText() const
{
    return m_summary->toPlainText();
}

void ReplayDialog::closeEvent(QCloseEvent *event)
{
    if (isRunning()) {
        // Closing would hide a running replay: cancel first.
        event->ignore();
        return;
    }
    QDialog::closeEvent(event);
}

void ReplayDialog::reject()
{
    if (!isRunning())
        QDialog::reject();
}

} // namespace tapedeck
