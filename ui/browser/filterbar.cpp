#include "ui/browser/filterbar.h"

#include "core/filter/eventfilter.h"

#include "ui/common/palette.h"

#include <QApplication>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QTimer>
#include <QToolButton>

using namespace Qt::StringLiterals;

namespace tapedeck {

FilterBar::FilterBar(QWidget *parent)
    : QWidget(parent)
{
    m_edit = new QLineEdit(this);
    m_edit->setPlaceholderText(u"Filter (JavaScript), e.g. e.json.status == \"FAILED\" && e.partition == 3"_s);
    m_edit->setClearButtonEnabled(true);
    m_edit->installEventFilter(this);
    m_edit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));

    m_apply = new QToolButton(this);
    m_apply->setText(u"Apply"_s);
    m_apply->setToolTip(u"Apply the filter (Enter)"_s);

    m_progress = new QProgressBar(this);
    m_progress->setMaximumWidth(160);
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(true);
    m_progress->hide();

    m_cancel = new QToolButton(this);
    m_cancel->setText(u"Cancel"_s);
    m_cancel->hide();

    m_message = new QLabel(this);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setMinimumWidth(0);
    m_message->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    // The field's colours are set per state: again in the other set.
    connect(Palette::instance(), &Palette::changed, this, [this] { setState(m_state, m_message->text()); });

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    layout->addWidget(m_edit, 3);
    layout->addWidget(m_apply);
    layout->addWidget(m_progress);
    layout->addWidget(m_cancel);
    layout->addWidget(m_message, 2);

    m_checkTimer = new QTimer(this);
    m_checkTimer->setSingleShot(true);
    m_checkTimer->setInterval(CheckDelayMs);
    connect(m_checkTimer, &QTimer::timeout, this, &FilterBar::checkNow);
    connect(m_edit, &QLineEdit::textChanged, this, [this](const QString &text) {
        if (m_job->isRunning())
            cancel(); // the user changed their mind; the table keeps the last applied result
        if (text.isEmpty()) {
            m_checkTimer->stop();
            checkNow(); // the clear button: drop the filter at once
            if (!m_applied.isEmpty())
                clearFilter();
            return;
        }
        m_checkTimer->start();
    });
    connect(m_edit, &QLineEdit::returnPressed, this, &FilterBar::apply);
    connect(m_apply, &QToolButton::clicked, this, &FilterBar::apply);
    connect(m_cancel, &QToolButton::clicked, this, &FilterBar::cancel);

    m_job = new FilterJob(this);
    connect(m_job, &FilterJob::progress, this, &FilterBar::onProgress);
    connect(m_job, &FilterJob::finished, this, &FilterBar::onFinished);
    setState(State::Empty);
}

void FilterBar::setTape(std::shared_ptr<const Tape> tape)
{
    m_job->cancel();
    m_tape = std::move(tape);
    m_applied.clear();
    m_progress->hide();
    m_cancel->hide();
    checkNow();
}

QString FilterBar::message() const
{
    return m_message->text();
}

QString FilterBar::text() const
{
    return m_edit->text();
}

void FilterBar::setText(const QString &text)
{
    m_edit->setText(text);
    m_checkTimer->stop();
    checkNow();
}

void FilterBar::checkNow()
{
    const EventFilter::Check check = EventFilter::check(m_edit->text());
    switch (check.state) {
    case EventFilter::State::Empty:
        setState(State::Empty);
        break;
    case EventFilter::State::Valid:
        setState(State::Valid);
        break;
    case EventFilter::State::Invalid:
        setState(State::Invalid, check.column >= 0 ? u"Column %1: %2"_s.arg(check.column + 1).arg(check.message)
                                                   : check.message);
        if (check.column >= 0)
            m_edit->setToolTip(m_edit->text() + u'\n' + QString(check.column, u' ') + u'^');
        break;
    }
}

void FilterBar::setState(State state, const QString &message)
{
    // Wireshark's colours: light green valid, light red invalid, light yellow busy.
    QPalette palette = QApplication::palette(m_edit);
    switch (state) {
    case State::Empty:
        break;
    case State::Busy:
        palette.setColor(QPalette::Base, Palette::color(Palette::Role::FilterBusy));
        break;
    case State::Invalid:
        palette.setColor(QPalette::Base, Palette::color(Palette::Role::FilterInvalid));
        break;
    case State::Valid:
        palette.setColor(QPalette::Base, Palette::color(Palette::Role::FilterValid));
        break;
    }
    palette.setColor(QPalette::Text, Palette::color(Palette::Role::FilterText));
    if (state == State::Empty)
        palette = QApplication::palette(m_edit);
    m_edit->setPalette(palette);
    if (state != State::Invalid)
        m_edit->setToolTip({});
    m_message->setText(message);
    Palette::setStyleSheet(m_message, state == State::Invalid ? u"color: %1;"_s : QString(), {Palette::Role::FilterError});
    m_apply->setEnabled(state == State::Valid || (state == State::Empty && !m_applied.isEmpty()));
    if (state != m_state) {
        m_state = state;
        Q_EMIT stateChanged(state);
    }
}

void FilterBar::apply()
{
    m_checkTimer->stop();
    checkNow();
    if (m_state == State::Empty) {
        clearFilter();
        return;
    }
    if (m_state != State::Valid || !m_tape)
        return;
    setState(State::Busy, u"Filtering…"_s);
    m_progress->setValue(0);
    m_progress->show();
    m_cancel->show();
    m_apply->hide();
    m_job->start(m_tape, m_edit->text());
}

void FilterBar::cancel()
{
    m_job->cancel();
}

void FilterBar::clearFilter()
{
    m_job->cancel();
    m_checkTimer->stop();
    const bool hadFilter = !m_applied.isEmpty() || m_job->isRunning();
    m_applied.clear();
    if (!m_edit->text().isEmpty()) {
        const QSignalBlocker blocker(m_edit);
        m_edit->clear();
    }
    m_progress->hide();
    m_cancel->hide();
    m_apply->show();
    setState(State::Empty);
    if (hadFilter)
        Q_EMIT filterCleared();
}

void FilterBar::onProgress(qint64 done, qint64 total)
{
    m_progress->setValue(total > 0 ? int(done * 1000 / total) : 0);
    m_progress->setFormat(total > 0 ? u"%1%"_s.arg(done * 100 / total) : QString());
}

void FilterBar::onFinished(const FilterResult &result)
{
    m_progress->hide();
    m_cancel->hide();
    m_apply->show();
    if (result.cancelled) {
        checkNow();
        m_message->setText(u"Filtering cancelled"_s);
        return;
    }
    if (result.failed) {
        setState(State::Invalid, result.firstError);
        return;
    }
    m_applied = result.expression;
    QString message = u"%1 of %2 events match · %3 ms"_s.arg(QLocale().toString(result.matched))
                          .arg(QLocale().toString(result.scanned))
                          .arg(result.elapsedMs);
    if (result.errorCount > 0)
        message += u" · %1 errors, first: %2"_s.arg(result.errorCount).arg(result.firstError);
    setState(State::Valid, message);
    Q_EMIT filterApplied(result);
}

bool FilterBar::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_edit && event->type() == QEvent::KeyPress) {
        auto *key = static_cast<QKeyEvent *>(event);
        if (key->key() == Qt::Key_Escape) {
            if (m_job->isRunning())
                cancel();
            else
                clearFilter();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace tapedeck
