#include "ui/compaction/compactionpanel.h"

#include "core/base/jobtracker.h"
#include "core/tape/tape.h"
#include "core/tape/tapeinfo.h"
#include "ui/common/palette.h"

#include <QComboBox>
#include <QDateTimeEdit>
#include <QGridLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QTimeZone>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

enum SummaryColumn {
    ColPartition, ColRecords, ColRecordsNext, ColRecordsFull, ColBytes, ColBytesNext, ColBytesFull, ColRatio, ColDecision,
    ColSegments, ColumnCount
};

QString ratioText(double ratio)
{
    return QString::number(ratio, 'f', 3);
}

QString configValue(const CompactionConfig &c, const QString &name)
{
    const QJsonValue v = c.toJson().value(name);
    return v.isString() ? v.toString() : QString::number(v.toDouble());
}

QString timeText(qint64 ms)
{
    return ms < 0 ? u"-"_s : formatTimestampUs(ms * 1000);
}

} // namespace

QStringList CompactionPanel::editableConfigs()
{
    return {u"segment.ms"_s, u"segment.bytes"_s, u"min.cleanable.dirty.ratio"_s, u"min.compaction.lag.ms"_s,
            u"max.compaction.lag.ms"_s, u"delete.retention.ms"_s};
}

CompactionPanel::CompactionPanel(QWidget *parent)
    : QWidget(parent), m_jobs(std::make_unique<JobTracker>(this))
{
    m_coalesce = new QTimer(this);
    m_coalesce->setSingleShot(true);
    m_coalesce->setInterval(CoalesceMs);
    connect(m_coalesce, &QTimer::timeout, this, &CompactionPanel::start);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    m_title = new QLabel(u"No tape"_s, this);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    layout->addWidget(m_title);
    layout->addWidget(m_status);

    auto *top = new QHBoxLayout;
    top->addWidget(createWhatIfGroup(), 3);
    top->addWidget(createNowGroup(), 2);
    layout->addLayout(top);
    wireNowControls();

    auto *splitter = new QSplitter(Qt::Vertical, this);
    createSummaryTree(splitter);
    createPassBox(splitter);
    createHistoryBox(splitter);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 1);
    splitter->setStretchFactor(2, 3);
    layout->addWidget(splitter, 1);
    showPasses();
}

QGroupBox *CompactionPanel::createWhatIfGroup()
{
    auto *whatIf = new QGroupBox(u"What if (topic configs)"_s, this);
    auto *grid = new QGridLayout(whatIf);
    const QStringList names = editableConfigs();
    for (int i = 0; i < names.size(); ++i) {
        const QString &name = names[i];
        auto *edit = new QLineEdit(whatIf);
        edit->setObjectName(name);
        edit->setClearButtonEnabled(true);
        edit->setToolTip(u"Empty: the tape's value (shown greyed)"_s);
        m_edits.insert(name, edit);
        grid->addWidget(new QLabel(name, whatIf), i / 2, (i % 2) * 2);
        grid->addWidget(edit, i / 2, (i % 2) * 2 + 1);
        connect(edit, &QLineEdit::textChanged, this, [this, name] {
            validateEdit(name);
            schedule(false);
        });
    }
    return whatIf;
}

QGroupBox *CompactionPanel::createNowGroup()
{
    auto *nowBox = new QGroupBox(u"Now (when the cleaner runs)"_s, this);
    auto *nowLayout = new QGridLayout(nowBox);
    m_nowEdit = new QDateTimeEdit(nowBox);
    m_nowEdit->setTimeSpec(Qt::UTC);
    m_nowEdit->setDisplayFormat(u"yyyy-MM-dd HH:mm:ss.zzz 'UTC'"_s);
    m_nowSlider = new QSlider(Qt::Horizontal, nowBox);
    m_nowSlider->setRange(0, 1000);
    auto *latest = new QPushButton(u"Last Record"_s, nowBox);
    latest->setToolTip(u"Now = the latest record's timestamp"_s);
    m_timelineCombo = new QComboBox(nowBox);
    m_timelineCombo->addItems({u"Timeline: after the next pass"_s, u"Timeline: fully compacted"_s, u"Timeline: no dimming"_s});
    nowLayout->addWidget(m_nowEdit, 0, 0);
    nowLayout->addWidget(latest, 0, 1);
    nowLayout->addWidget(m_nowSlider, 1, 0, 1, 2);
    nowLayout->addWidget(m_timelineCombo, 2, 0, 1, 2);
    connect(latest, &QPushButton::clicked, this, [this] { setNowMs(-1); });
    return nowBox;
}

void CompactionPanel::wireNowControls()
{
    connect(m_nowEdit, &QDateTimeEdit::dateTimeChanged, this, [this](const QDateTime &t) {
        if (!m_nowEdit->signalsBlocked())
            setNowMs(t.toMSecsSinceEpoch());
    });
    connect(m_nowSlider, &QSlider::valueChanged, this, [this](int v) {
        if (!m_nowSlider->signalsBlocked() && m_sliderTo > m_sliderFrom)
            setNowMs(m_sliderFrom + qint64(double(m_sliderTo - m_sliderFrom) * v / 1000.0));
    });
    connect(m_timelineCombo, &QComboBox::currentIndexChanged, this, [this](int i) { setTimelineMode(TimelineMode(i)); });
}

void CompactionPanel::createSummaryTree(QSplitter *splitter)
{
    m_summary = new QTreeWidget(splitter);
    m_summary->setRootIsDecorated(false);
    m_summary->setUniformRowHeights(true);
    m_summary->setHeaderLabels({u"Partition"_s, u"Records"_s, u"Next pass"_s, u"Compacted"_s, u"Bytes"_s, u"Next pass"_s,
                                u"Compacted"_s, u"Dirty ratio / min"_s, u"Next pass decision"_s, u"Segments now → next → compacted"_s});
    m_summary->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
}

void CompactionPanel::createPassBox(QSplitter *splitter)
{
    auto *passBox = new QWidget(splitter);
    auto *passLayout = new QVBoxLayout(passBox);
    passLayout->setContentsMargins(0, 0, 0, 0);
    auto *passButtons = new QHBoxLayout;
    auto *add = new QPushButton(u"Add Pass at Now"_s, passBox);
    add->setToolTip(u"Step through passes: each pass runs at the time \"now\" has when you add it"_s);
    m_undoPass = new QPushButton(u"Remove Last Pass"_s, passBox);
    m_clearPasses = new QPushButton(u"One Pass at Now"_s, passBox);
    passButtons->addWidget(new QLabel(u"Passes:"_s, passBox));
    passButtons->addWidget(add);
    passButtons->addWidget(m_undoPass);
    passButtons->addWidget(m_clearPasses);
    passButtons->addStretch(1);
    passLayout->addLayout(passButtons);
    m_passes = new QTreeWidget(passBox);
    m_passes->setRootIsDecorated(false);
    m_passes->setHeaderLabels({u"Pass"_s, u"At"_s, u"Partitions cleaned"_s, u"Records after"_s, u"Bytes after"_s});
    m_passes->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    passLayout->addWidget(m_passes);
    connect(add, &QPushButton::clicked, this, &CompactionPanel::addPass);
    connect(m_undoPass, &QPushButton::clicked, this, &CompactionPanel::removeLastPass);
    connect(m_clearPasses, &QPushButton::clicked, this, &CompactionPanel::clearPasses);
}

void CompactionPanel::createHistoryBox(QSplitter *splitter)
{
    auto *historyBox = new QWidget(splitter);
    auto *historyLayout = new QVBoxLayout(historyBox);
    historyLayout->setContentsMargins(0, 0, 0, 0);
    m_historyTitle = new QLabel(u"Select an event to see its key's history."_s, historyBox);
    m_historyTitle->setWordWrap(true);
    m_history = new QTreeWidget(historyBox);
    m_history->setRootIsDecorated(false);
    m_history->setUniformRowHeights(true);
    m_history->setHeaderLabels({u"Offset"_s, u"Time"_s, u"Value"_s, u"Next pass"_s, u"Fully compacted"_s});
    m_history->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    historyLayout->addWidget(m_historyTitle);
    historyLayout->addWidget(m_history);
}

CompactionPanel::~CompactionPanel() = default;

void CompactionPanel::setTape(std::shared_ptr<const Tape> tape)
{
    m_tape = std::move(tape);
    m_currentSeq = -1;
    m_passTimes.clear();
    m_nowMs = -1;
    m_result = {};
    m_title->setText(m_tape ? u"Compaction preview: %1"_s.arg(m_tape->path()) : u"No tape"_s);
    for (QLineEdit *e : std::as_const(m_edits)) {
        const QSignalBlocker block(e);
        e->clear();
        e->setPlaceholderText(QString());
    }
    schedule(true);
}

void CompactionPanel::setSelection(const EventSelection &selection)
{
    if (selection == m_selection)
        return;
    m_selection = selection;
    schedule(true);
}

void CompactionPanel::setCurrentSeq(qint64 seq)
{
    m_currentSeq = seq;
    showHistory();
}

void CompactionPanel::setNowMs(qint64 nowMs)
{
    if (nowMs == m_nowMs)
        return;
    m_nowMs = nowMs;
    schedule(false);
}

void CompactionPanel::setConfigValue(const QString &name, const QString &value)
{
    if (QLineEdit *e = m_edits.value(name))
        e->setText(value);
}

void CompactionPanel::addPass()
{
    const qint64 now = m_nowMs >= 0 ? m_nowMs : (m_result.preview ? m_result.preview->nowMs : -1);
    if (now < 0)
        return;
    m_passTimes.append(now);
    schedule(false);
}

void CompactionPanel::removeLastPass()
{
    if (m_passTimes.isEmpty())
        return;
    m_passTimes.removeLast();
    schedule(false);
}

void CompactionPanel::clearPasses()
{
    m_passTimes.clear();
    schedule(false);
}

void CompactionPanel::setTimelineMode(TimelineMode mode)
{
    m_timelineMode = mode;
    {
        const QSignalBlocker block(m_timelineCombo);
        m_timelineCombo->setCurrentIndex(int(mode));
    }
    Q_EMIT timelineDimmedChanged(timelineDimmed());
}

QBitArray CompactionPanel::timelineDimmed() const
{
    if (!m_result.ok)
        return {};
    switch (m_timelineMode) {
    case TimelineMode::NextPass: return m_result.removedNext;
    case TimelineMode::FullyCompacted: return m_result.removedFull;
    case TimelineMode::Off: return {};
    }
    return {};
}

bool CompactionPanel::isBusy() const
{
    return m_coalesce->isActive() || m_running;
}

void CompactionPanel::schedule(bool rebuildLogs)
{
    m_rebuildLogs = m_rebuildLogs || rebuildLogs;
    if (!m_tape) {
        m_jobs->cancel();
        m_running = false;
        m_coalesce->stop();
        m_result = {};
        showSummary();
        showPasses();
        showHistory();
        Q_EMIT timelineDimmedChanged({});
        return;
    }
    m_status->setText(u"Computing…"_s);
    m_coalesce->start(); // coalesces bursts of edits and slider moves into one job
}

QList<QPair<QString, QString>> CompactionPanel::overrides() const
{
    QList<QPair<QString, QString>> out;
    for (auto it = m_edits.cbegin(); it != m_edits.cend(); ++it) {
        const QString text = it.value()->text().trimmed();
        CompactionConfig probe;
        QString error;
        if (!text.isEmpty() && probe.set(it.key(), text, &error))
            out.append({it.key(), text});
    }
    return out;
}

void CompactionPanel::validateEdit(const QString &name)
{
    QLineEdit *e = m_edits.value(name);
    const QString text = e->text().trimmed();
    CompactionConfig probe;
    QString error;
    const bool ok = text.isEmpty() || probe.set(name, text, &error);
    Palette::setStyleSheet(e, ok ? QString() : u"QLineEdit { border: 1px solid %1; background: %2; }"_s,
                           {Palette::Role::CompactionInvalid, Palette::Role::CompactionInvalidBackground});
    e->setToolTip(ok ? u"Empty: the tape's value (shown greyed)"_s : error);
}

void CompactionPanel::start()
{
    CompactionJobInput in;
    in.tape = m_tape;
    in.selection = m_selection;
    in.logs = m_rebuildLogs ? nullptr : m_logs;
    in.overrides = overrides();
    in.nowMs = m_nowMs;
    in.passTimes = m_passTimes;
    m_running = true;
    m_jobs->start([in](const std::function<bool()> &cancelled) { return runCompactionJob(in, cancelled); },
                  [this](CompactionJobResult result) { onResult(std::move(result)); });
}

void CompactionPanel::onResult(CompactionJobResult result)
{
    m_running = false;
    m_result = std::move(result);
    if (m_result.ok) {
        m_logs = m_result.preview;
        m_rebuildLogs = false;
        QStringList status;
        status << u"%1 partition(s)%2"_s.arg(m_result.preview->partitions.size())
                      .arg(m_selection.isEmpty() ? u" (whole tape)"_s : u" (the timeline's selection)"_s);
        if (!m_result.preview->partitions.isEmpty())
            status << u"configs: "_s + m_result.preview->partitions.constFirst().configSource;
        status << u"sizes are estimates of the Kafka v2 record format"_s;
        status << m_result.preview->warnings;
        m_status->setText(status.join(u"; "_s));
        Palette::setStyleSheet(m_status, QString());
        fillConfigEdits();
    } else {
        m_status->setText(u"Cannot compute the preview: "_s + m_result.error);
        Palette::setStyleSheet(m_status, u"color: %1;"_s, {Palette::Role::CompactionInvalid});
    }
    showNow();
    showSummary();
    showPasses();
    showHistory();
    Q_EMIT timelineDimmedChanged(timelineDimmed());
    Q_EMIT resultReady();
}

void CompactionPanel::fillConfigEdits()
{
    if (m_result.preview->partitions.isEmpty())
        return;
    const CompactionConfig &base = m_result.preview->partitions.constFirst().baseConfig;
    for (auto it = m_edits.cbegin(); it != m_edits.cend(); ++it)
        it.value()->setPlaceholderText(configValue(base, it.key()));
}

void CompactionPanel::showNow()
{
    if (!m_result.preview)
        return;
    const CompactionPreview &p = *m_result.preview;
    qint64 earliest = std::numeric_limits<qint64>::max();
    for (const auto &part : p.partitions) {
        for (qint64 ts : part.log->timestampsMs) {
            if (ts >= 0) {
                earliest = std::min(earliest, ts);
                break;
            }
        }
    }
    const qint64 latest = std::max<qint64>(0, p.latestTimestampMs());
    const qint64 retention = p.partitions.isEmpty() ? 0 : p.partitions.constFirst().config.deleteRetentionMs;
    m_sliderFrom = earliest == std::numeric_limits<qint64>::max() ? latest : earliest;
    m_sliderTo = latest + std::clamp<qint64>(2 * retention, 60000, 7 * 86400000LL);
    const QSignalBlocker b1(m_nowEdit), b2(m_nowSlider);
    m_nowEdit->setDateTime(QDateTime::fromMSecsSinceEpoch(p.nowMs, QTimeZone::utc()));
    m_nowSlider->setValue(m_sliderTo > m_sliderFrom ? int(std::clamp<double>(1000.0 * double(p.nowMs - m_sliderFrom) / double(m_sliderTo - m_sliderFrom), 0, 1000)) : 0);
}

void CompactionPanel::showSummary()
{
    m_summary->clear();
    if (!m_result.ok)
        return;
    qint64 records = 0, recordsNext = 0, recordsFull = 0, bytes = 0, bytesNext = 0, bytesFull = 0, clean = 0, dirty = 0;
    int cleaned = 0;
    QList<QTreeWidgetItem *> items;
    for (const CompactionPreview::Partition &p : m_result.preview->partitions) {
        const CompactionPassResult &first = p.passes.constFirst();
        const CompactionPassResult &next = p.next;
        const bool estimated = p.nextPass.segmentsEstimated();
        auto *item = new QTreeWidgetItem;
        item->setText(ColPartition, u"%1/%2"_s.arg(p.log->stream.topic).arg(p.log->stream.partition));
        item->setText(ColRecords, QString::number(first.recordsBefore));
        item->setText(ColRecordsNext, QString::number(next.recordsAfter));
        item->setText(ColRecordsFull, QString::number(p.full.recordsAfter));
        item->setText(ColBytes, QString::number(first.bytesBefore));
        item->setText(ColBytesNext, QString::number(next.bytesAfter));
        item->setText(ColBytesFull, QString::number(p.full.bytesAfter));
        item->setText(ColRatio, u"%1 / %2"_s.arg(ratioText(next.dirtyRatio)).arg(p.config.minCleanableDirtyRatio));
        item->setText(ColDecision, next.why());
        item->setText(ColSegments, u"%1 %2 → %3 → %4"_s.arg(first.segmentsBefore)
                                      .arg(estimated ? u"(estimated)"_s : u"(known)"_s)
                                      .arg(next.segmentsAfter)
                                      .arg(p.full.segmentsAfter));
        item->setToolTip(ColDecision, next.why());
        items.append(item);
        records += first.recordsBefore;
        recordsNext += next.recordsAfter;
        recordsFull += p.full.recordsAfter;
        bytes += first.bytesBefore;
        bytesNext += next.bytesAfter;
        bytesFull += p.full.bytesAfter;
        clean += first.cleanBytes;
        dirty += first.dirtyBytes;
        cleaned += next.decision == CompactionPassResult::Decision::Cleaned ? 1 : 0;
    }
    auto *total = new QTreeWidgetItem;
    total->setText(ColPartition, u"Total"_s);
    total->setText(ColRecords, QString::number(records));
    total->setText(ColRecordsNext, QString::number(recordsNext));
    total->setText(ColRecordsFull, QString::number(recordsFull));
    total->setText(ColBytes, QString::number(bytes));
    total->setText(ColBytesNext, QString::number(bytesNext));
    total->setText(ColBytesFull, QString::number(bytesFull));
    total->setText(ColRatio, clean + dirty > 0 ? ratioText(double(dirty) / double(clean + dirty)) : u"-"_s);
    total->setText(ColDecision, u"%1 of %2 cleaned"_s.arg(cleaned).arg(m_result.preview->partitions.size()));
    QFont bold = total->font(0);
    bold.setBold(true);
    for (int c = 0; c < ColumnCount; ++c)
        total->setFont(c, bold);
    items.append(total);
    for (int c = ColRecords; c <= ColBytesFull; ++c) {
        for (QTreeWidgetItem *i : std::as_const(items))
            i->setTextAlignment(c, Qt::AlignRight | Qt::AlignVCenter);
    }
    m_summary->addTopLevelItems(items);
}

void CompactionPanel::showPasses()
{
    m_passes->clear();
    m_undoPass->setEnabled(!m_passTimes.isEmpty());
    m_clearPasses->setEnabled(!m_passTimes.isEmpty());
    if (!m_result.ok)
        return;
    const CompactionPreview &p = *m_result.preview;
    const int count = p.partitions.isEmpty() ? 0 : int(p.partitions.constFirst().passes.size());
    for (int k = 0; k < count; ++k) {
        int cleaned = 0;
        qint64 records = 0, bytes = 0, at = -1;
        for (const CompactionPreview::Partition &part : p.partitions) {
            const CompactionPassResult &r = part.passes[k];
            cleaned += r.decision == CompactionPassResult::Decision::Cleaned ? 1 : 0;
            records += r.recordsAfter;
            bytes += r.bytesAfter;
            at = r.nowMs;
        }
        auto *item = new QTreeWidgetItem(m_passes);
        item->setText(0, m_passTimes.isEmpty() ? u"next"_s : QString::number(k + 1));
        item->setText(1, timeText(at));
        item->setText(2, u"%1 of %2"_s.arg(cleaned).arg(p.partitions.size()));
        item->setText(3, QString::number(records));
        item->setText(4, QString::number(bytes));
    }
}

void CompactionPanel::showHistory()
{
    m_history->clear();
    if (!m_result.ok || m_currentSeq < 0 || !m_tape) {
        m_historyTitle->setText(u"Select an event to see its key's history."_s);
        return;
    }
    const CompactionPreview &p = *m_result.preview;
    const CompactionPreview::Partition *part = nullptr;
    int index = -1;
    for (const CompactionPreview::Partition &candidate : p.partitions) {
        const auto it = std::lower_bound(candidate.sequence.cbegin(), candidate.sequence.cend(), m_currentSeq);
        if (it != candidate.sequence.cend() && *it == m_currentSeq) {
            part = &candidate;
            index = int(it - candidate.sequence.cbegin());
            break;
        }
    }
    if (!part) {
        m_historyTitle->setText(u"Event #%1 is not in the preview (outside the selection)."_s.arg(m_currentSeq));
        return;
    }
    const CompactionLog &log = *part->log;
    const QString where = u"%1/%2"_s.arg(log.stream.topic).arg(log.stream.partition);
    const quint32 key = log.keyIds[index];
    QList<int> versions;
    if (key == CompactionLog::NoKey) {
        versions.append(index);
    } else {
        for (int i = 0; i < log.count(); ++i) {
            if (log.keyIds[i] == key)
                versions.append(i);
        }
    }
    Event event;
    QString error;
    QString keyText = u"(no key)"_s;
    if (key != CompactionLog::NoKey && m_tape->event(m_currentSeq, &event, &error) && event.key)
        keyText = u"\"%1\""_s.arg(QString::fromUtf8(*event.key).left(80));
    QStringList nextKept, fullKept;
    for (int i : std::as_const(versions)) {
        const CompactionExplanation next = part->nextPass.explain(i);
        const CompactionExplanation full = part->converged.explain(i);
        auto *item = new QTreeWidgetItem(m_history);
        item->setText(0, QString::number(log.offsets[i]));
        item->setText(1, timeText(log.timestampsMs[i]));
        item->setText(2, (log.flags[i] & CompactionLog::Control) ? u"transaction marker"_s
                         : log.isTombstone(i)                    ? u"tombstone"_s
                                                                 : u"value"_s);
        item->setText(3, next.text());
        item->setText(4, full.text());
        for (int c : {3, 4}) {
            const bool kept = c == 3 ? next.kept() : full.kept();
            item->setForeground(c, Palette::color(kept ? Palette::Role::CompactionKept : Palette::Role::CompactionRemoved));
        }
        if (i == index) {
            QFont bold = item->font(0);
            bold.setBold(true);
            for (int c = 0; c < 5; ++c)
                item->setFont(c, bold);
        }
        if (next.kept())
            nextKept.append(QString::number(log.offsets[i]));
        if (full.kept())
            fullKept.append(QString::number(log.offsets[i]));
    }
    auto listText = [](const QStringList &offsets) {
        return offsets.isEmpty() ? u"none remains"_s
                                 : (offsets.size() == 1 ? u"offset %1 remains"_s : u"offsets %1 remain"_s).arg(offsets.join(u", "_s));
    };
    m_historyTitle->setText(u"Key %1 in %2: %3 version(s); after the next pass %4; fully compacted %5."_s
                                .arg(keyText, where)
                                .arg(versions.size())
                                .arg(listText(nextKept), listText(fullKept)));
}

} // namespace tapedeck
