#include "ui/state/stateview.h"

#include "core/base/jobtracker.h"
#include "core/event/bound.h"
#include "core/tape/tape.h"
#include "ui/common/roledelegate.h"
#include "ui/common/roleheaderview.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSlider>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

constexpr qint64 MaxChangedKeys = 100000;
constexpr int SearchBatch = 4096;

struct BuildResult
{
    std::shared_ptr<const LogState> state;
    QString error;
};

struct FrameRequest
{
    std::shared_ptr<const LogState> state;
    std::shared_ptr<const Tape> tape;
    int table = -1;
    qint64 end = 0;
    qint64 previousEnd = -1;
    LogStateSnapshot near;
    QString search;
    QStringList columns;
    int topRow = 0;
    int visibleRows = StateModel::WindowRows; // rows read before the frame is shown; the model loads the rest
    QHash<quint32, qint64> cached; // key id -> seq of rows already loaded
};

struct FrameResult
{
    StateFrame frame;
    qint64 timeUs = -1; // of the event before the point
};

bool containsFolded(QByteArrayView haystack, const QByteArray &needleLower)
{
    if (needleLower.isEmpty())
        return true;
    return haystack.toByteArray().toLower().contains(needleLower);
}

// The search of a frame: f.rows becomes the keys whose key or values contain
// r.search. false when cancelled or a read failed (f.error says which).
bool searchFrame(const FrameRequest &r, StateFrame &f, qint64 live, const std::function<bool()> &cancelled)
{
    // Keys first (cheap: the index holds them), then the values of the rest, a batch of rows at a time.
    f.filtered = true;
    const QByteArray needle = r.search.toUtf8().toLower();
    QList<quint32> pending;
    QSet<quint32> matched;
    auto flush = [&]() -> bool {
        QList<LogStateRow> rows;
        if (!r.state->rows(f.snapshot, pending, &rows, &f.error))
            return false;
        for (const LogStateRow &row : std::as_const(rows)) {
            bool hit = row.value && containsFolded(*row.value, needle);
            for (qsizetype c = 0; !hit && c < row.row.size(); ++c)
                hit = row.row[c].value && containsFolded(*row.row[c].value, needle);
            if (hit)
                matched.insert(row.keyId);
        }
        pending.clear();
        return true;
    };
    for (qint64 i = 0; i < live; ++i) {
        if ((i & 1023) == 0 && cancelled())
            return false;
        const quint32 key = f.snapshot.keyAt(i);
        if (containsFolded(r.state->keyText(r.table, key), needle)) {
            matched.insert(key);
        } else {
            pending.append(key);
            if (pending.size() >= SearchBatch && !flush())
                return false;
        }
    }
    if (!pending.isEmpty() && !flush())
        return false;
    f.rows.reserve(matched.size());
    for (quint32 k : std::as_const(matched))
        f.rows.append(k);
    std::sort(f.rows.begin(), f.rows.end()); // key ids are ranks in key order
    return true;
}

FrameResult computeFrame(const FrameRequest &r, const std::function<bool()> &cancelled)
{
    FrameResult out;
    StateFrame &f = out.frame;
    f.state = r.state;
    f.table = r.table;
    f.snapshot = r.near.isValid() ? r.state->snapshot(r.table, r.end, r.near) : r.state->snapshot(r.table, r.end);
    f.previousEnd = r.previousEnd;
    if (r.previousEnd >= 0 && r.previousEnd != r.end) {
        const QList<quint32> changed = r.state->keysChanged(r.table, std::min(r.previousEnd, r.end), std::max(r.previousEnd, r.end),
                                                            MaxChangedKeys + 1);
        f.changedTruncated = changed.size() > MaxChangedKeys;
        f.changed = QSet<quint32>(changed.cbegin(), changed.cbegin() + std::min<qsizetype>(changed.size(), MaxChangedKeys));
    }
    const qint64 live = f.snapshot.rowCount();
    if (!r.search.isEmpty() && !searchFrame(r, f, live, cancelled))
        return out;
    if (cancelled())
        return out;
    // Read the rows the view shows (and learn the columns from them) before
    // the frame is shown: what a scrubbing step waits for. The model reads
    // the rest of the window afterwards, as the view asks for it.
    const qint64 shown = f.filtered ? f.rows.size() : live;
    const qint64 from = std::clamp<qint64>(r.topRow, 0, std::max<qint64>(0, shown - 1));
    QList<quint32> keys;
    for (qint64 i = from; i < std::min<qint64>(shown, from + std::clamp(r.visibleRows, 1, StateModel::WindowRows)); ++i) {
        const quint32 k = f.filtered ? f.rows[i] : f.snapshot.keyAt(i);
        const auto it = r.cached.constFind(k);
        if (it == r.cached.cend() || *it != f.snapshot.lastSeq(k) || r.columns.isEmpty())
            keys.append(k);
    }
    if (!keys.isEmpty() && !r.state->rows(f.snapshot, keys, &f.readAhead, &f.error))
        return out;
    for (auto it = r.cached.cbegin(); it != r.cached.cend(); ++it) {
        if (f.snapshot.isLive(it.key()) && f.snapshot.lastSeq(it.key()) == *it)
            f.keep.append(it.key());
    }
    f.columns = r.columns;
    if (f.columns.isEmpty() && r.state->tables().at(r.table).kind != SourceKind::Kafka) {
        for (const LogStateRow &row : std::as_const(f.readAhead)) {
            for (const Column &c : row.row) {
                if (!f.columns.contains(c.name))
                    f.columns.append(c.name);
            }
        }
    }
    if (r.end > 0 && r.tape) {
        Event e;
        QString error;
        if (r.tape->event(r.end - 1, &e, &error))
            out.timeUs = e.timestampUs;
    }
    return out;
}

QByteArray csvField(const QString &text)
{
    QByteArray s = text.toUtf8();
    if (s.contains(',') || s.contains('"') || s.contains('\n') || s.contains('\r')) {
        s.replace("\"", "\"\"");
        return '"' + s + '"';
    }
    return s;
}

// One exported row: a JSON line, or a CSV record with its CRLF.
QByteArray exportLine(const LogStateRow &row, bool jsonLines, bool kafka, const QStringList &columns, bool utc)
{
    if (!jsonLines) {
        QByteArrayList fields;
        for (const QString &cell : StateModel::cellTexts(row, kafka, columns, utc))
            fields.append(csvField(cell));
        return fields.join(',') + "\r\n";
    }
    if (kafka) {
        QJsonObject o;
        o.insert(u"key"_s, row.keyValues.join(QString()));
        const QJsonDocument doc = row.value ? QJsonDocument::fromJson(*row.value) : QJsonDocument();
        o.insert(u"value"_s, !row.value ? QJsonValue() : doc.isNull() ? QJsonValue(QString::fromUtf8(*row.value))
                                        : doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array()));
        o.insert(u"partition"_s, row.partition);
        return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
    }
    // The event's own JSON (numbers and booleans typed) when it holds the column;
    // written by hand to keep the table's column order.
    const QJsonObject value = row.value ? QJsonDocument::fromJson(*row.value).object() : QJsonObject();
    QByteArray line("{");
    for (const Column &c : row.row) {
        const QJsonValue v = value.contains(c.name) ? value.value(c.name)
            : c.value ? QJsonValue(QString::fromUtf8(*c.value)) : QJsonValue();
        if (line.size() > 1)
            line += ',';
        auto json = [](const QJsonValue &x) { return QJsonDocument(QJsonArray{x}).toJson(QJsonDocument::Compact).sliced(1).chopped(1); };
        line += json(c.name) + ':' + json(v);
    }
    return line + "}\n";
}

} // namespace

StateView::StateView(QWidget *parent)
    : QWidget(parent)
    , m_buildJobs(std::make_unique<JobTracker>(this))
    , m_frameJobs(std::make_unique<JobTracker>(this))
    , m_exportJobs(std::make_unique<JobTracker>(this))
{
    m_model = new StateModel(this);
    // Created in this order: the tests find widgets by order as well as name.
    createControls();
    createTableView();
    m_status = new QLabel(this);
    m_progress = new QProgressBar(this);
    m_progress->setMaximumWidth(160);
    m_progress->setRange(0, 1000);
    m_progress->hide();

    layOut();
    wireSignals();
    setTape(nullptr);
}

void StateView::createControls()
{
    m_table = new QComboBox(this);
    m_table->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_table->setToolTip(u"The table (change tapes) or topic (Kafka) whose state is shown"_s);
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setToolTip(u"Scrub: the state after this many events. Releasing it makes the event current "
                         "(the event table and the timeline follow)."_s);
    m_point = new QLabel(this);
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(u"Search keys and values…"_s);
    m_search->setClearButtonEnabled(true);
    m_showEvents = new QPushButton(u"Show Events of This Key"_s, this);
    m_showEvents->setToolTip(u"Filter the event table to this key's events and mark them on the timeline"_s);
    m_export = new QPushButton(u"Export…"_s, this);
    m_export->setToolTip(u"Save the rows shown (search applied) as CSV or JSON lines"_s);
    m_compare = new QPushButton(u"Compare with Table…"_s, this);
    m_compare->setToolTip(u"Diff this table's state against a live table in SQLite or PostgreSQL"_s);
}

void StateView::createTableView()
{
    m_view = new QTableView(this);
    m_view->setModel(m_model);
    // Rows changed since the previous step get a warm background, key columns a bold header.
    auto *delegate = new RoleDelegate(m_view);
    delegate->addRule({StateModel::ChangedRole, Palette::Role::ChangedRow, true});
    m_view->setItemDelegate(delegate);
    m_view->setHorizontalHeader(new RoleHeaderView(Qt::Horizontal, StateModel::KeyColumnRole, m_view));
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setWordWrap(false);
    m_view->setShowGrid(false);
    m_view->setAlternatingRowColors(true);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->verticalHeader()->hide();
}

void StateView::layOut()
{
    auto *top = new QHBoxLayout;
    top->addWidget(new QLabel(u"Table:"_s, this));
    top->addWidget(m_table);
    top->addWidget(m_slider, 1);
    top->addWidget(m_point);
    auto *second = new QHBoxLayout;
    second->addWidget(m_search, 1);
    second->addWidget(m_showEvents);
    second->addWidget(m_export);
    second->addWidget(m_compare);
    auto *bottom = new QHBoxLayout;
    bottom->addWidget(m_status, 1);
    bottom->addWidget(m_progress);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addLayout(second);
    layout->addWidget(m_view, 1);
    layout->addLayout(bottom);
}

void StateView::wireSignals()
{
    // Scrubbing and typing compute at most one frame at a time; the latest request wins.
    m_frameTimer = new QTimer(this);
    m_frameTimer->setSingleShot(true);
    m_frameTimer->setInterval(0);
    connect(m_frameTimer, &QTimer::timeout, this, &StateView::startFrame);
    connect(m_table, &QComboBox::currentIndexChanged, this, &StateView::scheduleFrame);
    connect(m_slider, &QSlider::valueChanged, this, [this](int value) {
        m_end = value;
        scheduleFrame();
    });
    connect(m_slider, &QSlider::sliderReleased, this, [this] { Q_EMIT currentSeqRequested(m_slider->value() - 1); });
    auto *searchTimer = new QTimer(this);
    searchTimer->setSingleShot(true);
    searchTimer->setInterval(200);
    connect(m_search, &QLineEdit::textChanged, searchTimer, qOverload<>(&QTimer::start));
    connect(searchTimer, &QTimer::timeout, this, &StateView::scheduleFrame);
    connect(m_showEvents, &QPushButton::clicked, this, &StateView::showEventsOfCurrentKey);
    connect(m_export, &QPushButton::clicked, this, &StateView::exportDialog);
    connect(m_compare, &QPushButton::clicked, this, &StateView::compareRequested);
    connect(m_view, &QTableView::doubleClicked, this, &StateView::showEventsOfCurrentKey);
    connect(m_model, &StateModel::loadError, this, [this](const QString &e) {
        m_error = e;
        updateStatus();
    });
    connect(m_model, &QAbstractItemModel::modelReset, this, &StateView::updateStatus);
    connect(this, &StateView::exportFinished, this, [this](qint64 rows, const QString &error) {
        m_status->setText(error.isEmpty() ? u"Exported %1 rows."_s.arg(QLocale().toString(rows)) : u"Export failed: "_s + error);
    });
}

StateView::~StateView() = default;

bool StateView::isBusy() const
{
    return m_building || m_frameRunning || m_frameTimer->isActive() || m_model->isLoading();
}

void StateView::setUtc(bool utc)
{
    m_utc = utc;
    m_model->setUtc(utc);
}

void StateView::setTape(std::shared_ptr<const Tape> tape)
{
    m_tape = std::move(tape);
    m_state.reset();
    m_buildJobs->cancel();
    m_frameJobs->cancel();
    m_frameRunning = false;
    m_model->clear();
    m_shownEnd = -1;
    m_shownTable = -1;
    m_error.clear();
    {
        const QSignalBlocker block(m_table);
        m_table->clear();
    }
    m_slider->setEnabled(false);
    const bool has = bool(m_tape);
    m_search->setEnabled(has);
    m_showEvents->setEnabled(false);
    m_export->setEnabled(false);
    if (!m_tape) {
        m_building = false;
        m_progress->hide();
        updateStatus();
        return;
    }
    // The index is built once per tape, in one pass, on a worker.
    m_building = true;
    m_progress->setValue(0);
    m_progress->show();
    QPointer<QProgressBar> progress = m_progress;
    const auto tapeCopy = m_tape;
    m_buildJobs->start(
        [tapeCopy, progress](const std::function<bool()> &cancelled) {
            BuildResult out;
            out.state = LogState::build(tapeCopy, &out.error, [&](qint64 done, qint64 total) {
                if (progress && total > 0)
                    QMetaObject::invokeMethod(progress, "setValue", Qt::QueuedConnection, Q_ARG(int, int(done * 1000 / total)));
                return !cancelled();
            });
            return out;
        },
        [this](BuildResult result) {
            m_building = false;
            m_progress->hide();
            m_state = result.state;
            m_error = result.error;
            tablesChanged();
            Q_EMIT stateReady();
        });
    updateStatus();
}

void StateView::tablesChanged()
{
    const QSignalBlocker block(m_table);
    m_table->clear();
    if (!m_state) {
        updateStatus();
        return;
    }
    for (const LogStateTable &t : m_state->tables()) {
        m_table->addItem(u"%1 (%2 keys)"_s.arg(t.name, QLocale().toString(t.keys)), t.name);
        if (t.keyColumns.isEmpty() && t.kind != SourceKind::Kafka)
            m_table->setItemData(m_table->count() - 1, u"No primary key: its events cannot be placed"_s, Qt::ToolTipRole);
    }
    // Change tables first: they are what the story is about, and topics follow.
    m_slider->setRange(0, int(std::min<qint64>(m_state->eventCount(), std::numeric_limits<int>::max())));
    {
        const QSignalBlocker blockSlider(m_slider);
        m_slider->setValue(m_end < 0 ? m_slider->maximum() : int(std::min<qint64>(m_end, m_slider->maximum())));
    }
    m_slider->setEnabled(m_state->eventCount() > 0);
    m_export->setEnabled(m_table->count() > 0);
    m_showEvents->setEnabled(m_table->count() > 0);
    scheduleFrame();
}

bool StateView::setTable(const QString &name)
{
    const int i = m_table->findData(name);
    if (i < 0)
        return false;
    m_table->setCurrentIndex(i);
    return true;
}

QString StateView::tableName() const
{
    return m_table->currentData().toString();
}

void StateView::setSearch(const QString &text)
{
    m_search->setText(text);
    scheduleFrame();
}

void StateView::setEnd(qint64 end)
{
    m_end = end;
    if (m_state) {
        const QSignalBlocker block(m_slider);
        m_slider->setValue(int(std::clamp<qint64>(end < 0 ? m_state->eventCount() : end, 0, m_slider->maximum())));
    }
    scheduleFrame();
}

void StateView::setCurrentSeq(qint64 seq)
{
    setEnd(seq < 0 ? -1 : seq + 1);
}

void StateView::scheduleFrame()
{
    if (m_state)
        m_frameTimer->start();
}

void StateView::startFrame()
{
    if (!m_state || m_table->currentIndex() < 0)
        return;
    FrameRequest r;
    r.state = m_state;
    r.tape = m_tape;
    r.table = m_state->tableIndex(tableName());
    r.end = m_end < 0 ? m_state->eventCount() : std::min(m_end, m_state->eventCount());
    r.search = m_search->text().trimmed();
    r.visibleRows = m_view->viewport()->height() / std::max(1, m_view->verticalHeader()->defaultSectionSize()) + 2;
    const StateFrame &shown = m_model->frame();
    if (shown.state == m_state && shown.table == r.table && shown.snapshot.isValid()) {
        r.near = shown.snapshot;
        r.previousEnd = shown.snapshot.end();
        r.columns = shown.columns;
        if (r.search == m_shownSearch)
            r.topRow = std::max(0, m_view->rowAt(0));
        for (int row = r.topRow; row < std::min(m_model->rowCount(), r.topRow + StateModel::WindowRows); ++row) {
            if (const LogStateRow *loaded = m_model->loadedRow(row))
                r.cached.insert(loaded->keyId, loaded->seq);
        }
        if (r.previousEnd == r.end && r.search == m_shownSearch)
            return; // nothing to do
    }
    m_frameRunning = true;
    updateStatus();
    const QString search = r.search;
    m_frameJobs->start([r](const std::function<bool()> &cancelled) { return computeFrame(r, cancelled); },
                       [this, search](FrameResult result) {
                           m_frameRunning = false;
                           m_error = result.frame.error;
                           const quint32 currentKey = m_view->currentIndex().isValid()
                               ? m_model->keyIdAt(m_view->currentIndex().row()) : quint32(-1);
                           m_shownEnd = result.frame.snapshot.end();
                           m_shownTable = result.frame.table;
                           m_shownSearch = search;
                           const qint64 end = m_shownEnd;
                           const bool newTable = m_model->frame().table != result.frame.table || m_model->frame().state != result.frame.state;
                           m_model->setFrame(std::move(result.frame));
                           m_model->prefetch(std::max(0, m_view->rowAt(0)));
                           if (newTable) {
                               m_view->resizeColumnsToContents(); // measures the visible rows only
                               // Room for values that grow while scrubbing ("paid" -> "cancelled").
                               for (int c = 0; c < m_model->columnCount(); ++c)
                                   m_view->setColumnWidth(c, std::min(360, std::max(m_view->columnWidth(c) + 32, 64)));
                           }
                           if (currentKey != quint32(-1)) {
                               const int row = m_model->rowOfKey(currentKey);
                               if (row >= 0)
                                   m_view->setCurrentIndex(m_model->index(row, 0));
                           }
                           m_point->setText(u"after event %1 of %2%3"_s.arg(QLocale().toString(end), QLocale().toString(m_state->eventCount()),
                                                                            result.timeUs >= 0
                                                                                ? u" · "_s + bound::formatTime(result.timeUs / 1000, m_utc ? bound::Zone::Utc : bound::Zone::Local)
                                                                                : QString()));
                           updateStatus();
                           Q_EMIT frameReady();
                       });
}

void StateView::updateStatus()
{
    if (!m_error.isEmpty()) {
        m_status->setText(m_error);
        return;
    }
    if (!m_tape) {
        m_status->setText(u"No tape."_s);
        return;
    }
    if (m_building) {
        m_status->setText(u"Indexing the tape's keys…"_s);
        return;
    }
    if (!m_state || m_table->count() == 0) {
        m_status->setText(u"No keyed events in this tape."_s);
        return;
    }
    const StateFrame &f = m_model->frame();
    if (!f.snapshot.isValid()) {
        m_status->setText(u"Computing…"_s);
        return;
    }
    const LogStateTable &t = m_state->tables().at(f.table);
    QString text = u"%1 rows"_s.arg(QLocale().toString(f.snapshot.rowCount()));
    if (f.filtered)
        text = u"%1 of %2 rows match"_s.arg(QLocale().toString(qint64(f.rows.size())), QLocale().toString(f.snapshot.rowCount()));
    if (f.previousEnd >= 0 && f.previousEnd != f.snapshot.end())
        text += u" · %1%2 keys changed since the previous step"_s.arg(QLocale().toString(qint64(f.changed.size())),
                                                                    f.changedTruncated ? u"+"_s : QString());
    if (t.unkeyedEvents > 0)
        text += u" · %1 events without a key not shown"_s.arg(QLocale().toString(t.unkeyedEvents));
    if (m_frameRunning)
        text += u" · computing…"_s;
    m_status->setText(text);
}

QList<qint64> StateView::eventsOfRow(int row) const
{
    if (!m_state || row < 0 || row >= m_model->rowCount())
        return {};
    return m_state->keyEvents(m_model->frame().table, m_model->keyIdAt(row));
}

QString StateView::filterForRow(int row) const
{
    if (!m_state || row < 0 || row >= m_model->rowCount())
        return {};
    const LogStateTable &t = m_state->tables().at(m_model->frame().table);
    auto js = [](const QString &s) {
        return QString::fromUtf8(QJsonDocument(QJsonObject{{u"s"_s, s}}).toJson(QJsonDocument::Compact)).mid(5).chopped(1);
    };
    const quint32 key = m_model->keyIdAt(row);
    if (t.kind == SourceKind::Kafka)
        return u"e.topic == %1 && e.key == %2"_s.arg(js(t.name), js(QString::fromUtf8(m_state->keyText(m_model->frame().table, key))));
    // Change events: compare the primary-key columns of the parsed key (types as the events wrote them).
    const QStringList values = m_state->keyValues(m_model->frame().table, key);
    QString out = u"e.topic == %1"_s.arg(js(t.name));
    for (int i = 0; i < t.keyColumns.size() && i < values.size(); ++i)
        out += u" && String(JSON.parse(e.key)[%1]) == %2"_s.arg(js(t.keyColumns[i]), js(values[i]));
    return out;
}

void StateView::showEventsOfCurrentKey()
{
    const int row = m_view->currentIndex().isValid() ? m_view->currentIndex().row() : -1;
    if (row < 0) {
        m_status->setText(u"Select a row first."_s);
        return;
    }
    Q_EMIT showKeyEvents(filterForRow(row), eventsOfRow(row));
}

void StateView::exportDialog()
{
    QString filter;
    const QString path = QFileDialog::getSaveFileName(this, u"Export State"_s, tableName() + u".csv"_s,
                                                      u"CSV (*.csv);;JSON lines (*.jsonl)"_s, &filter);
    if (path.isEmpty())
        return;
    exportRows(path, filter.startsWith(u"JSON"_s) || path.endsWith(u".jsonl"_s) || path.endsWith(u".json"_s));
}

void StateView::exportRows(const QString &path, bool jsonLines)
{
    const StateFrame &f = m_model->frame();
    if (!f.snapshot.isValid()) {
        Q_EMIT exportFinished(0, u"no state is shown"_s);
        return;
    }
    QStringList header;
    for (int c = 0; c < m_model->columnCount(); ++c)
        header.append(m_model->headerData(c, Qt::Horizontal).toString());
    const bool kafka = m_model->isKafka();
    const QStringList columns = f.columns;
    const bool utc = m_utc;
    auto keys = std::make_shared<QList<quint32>>();
    if (f.filtered) {
        *keys = QList<quint32>(f.rows.cbegin(), f.rows.cend());
    } else {
        keys->reserve(f.snapshot.rowCount());
        for (qint64 i = 0; i < f.snapshot.rowCount(); ++i)
            keys->append(f.snapshot.keyAt(i));
    }
    const auto state = f.state;
    const LogStateSnapshot snapshot = f.snapshot;
    m_status->setText(u"Exporting %1 rows…"_s.arg(QLocale().toString(qint64(keys->size()))));
    m_exportJobs->start(
        [=](const std::function<bool()> &cancelled) {
            std::pair<qint64, QString> out{0, QString()};
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly)) {
                out.second = u"%1: %2"_s.arg(path, file.errorString());
                return out;
            }
            if (!jsonLines) {
                QByteArrayList fields;
                for (const QString &h : header)
                    fields.append(csvField(h));
                file.write(fields.join(',') + "\r\n");
            }
            for (qsizetype from = 0; from < keys->size(); from += SearchBatch) {
                if (cancelled()) {
                    out.second = u"cancelled"_s;
                    return out;
                }
                QList<LogStateRow> rows;
                if (!state->rows(snapshot, keys->mid(from, SearchBatch), &rows, &out.second))
                    return out;
                for (const LogStateRow &row : std::as_const(rows)) {
                    file.write(exportLine(row, jsonLines, kafka, columns, utc));
                    ++out.first;
                }
            }
            if (!file.commit())
                out.second = u"%1: %2"_s.arg(path, file.errorString());
            return out;
        },
        [this](std::pair<qint64, QString> result) { Q_EMIT exportFinished(result.first, result.second); });
}

} // namespace tapedeck
