#pragma once

#include "core/filter/filterjob.h"

#include <QWidget>

#include <memory>

class QLabel;
class QLineEdit;
class QProgressBar;
class QTimer;
class QToolButton;

namespace tapedeck {

class Tape;

// The display-filter line (as Wireshark's SyntaxLineEdit): the expression is
// syntax-checked as the user types (debounced), the state shows as the
// background colour plus a message with the column of the error; Enter runs
// it over the tape in a FilterJob with progress and Cancel; Escape or the
// clear button removes the filter. Thread: GUI thread.
class FilterBar : public QWidget
{
    Q_OBJECT
public:
    enum class State { Empty, Busy, Invalid, Valid };
    Q_ENUM(State)

    static constexpr int CheckDelayMs = 150;

    explicit FilterBar(QWidget *parent = nullptr);

    void setTape(std::shared_ptr<const Tape> tape);

    State state() const { return m_state; }
    QString message() const;
    QString text() const;
    void setText(const QString &text);
    QLineEdit *lineEdit() const { return m_edit; }
    FilterJob *job() const { return m_job; }
    // The expression whose result is shown, empty when no filter is applied.
    QString appliedExpression() const { return m_applied; }

public Q_SLOTS:
    void apply();
    void clearFilter();
    void cancel();

Q_SIGNALS:
    void stateChanged(tapedeck::FilterBar::State state);
    void filterApplied(const tapedeck::FilterResult &result);
    void filterCleared();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void checkNow();
    void setState(State state, const QString &message = {});
    void onFinished(const FilterResult &result);
    void onProgress(qint64 done, qint64 total);

    std::shared_ptr<const Tape> m_tape;
    QLineEdit *m_edit = nullptr;
    QLabel *m_message = nullptr;
    QProgressBar *m_progress = nullptr;
    QToolButton *m_apply = nullptr;
    QToolButton *m_cancel = nullptr;
    QTimer *m_checkTimer = nullptr;
    FilterJob *m_job = nullptr;
    State m_state = State::Empty;
    QString m_applied;
};

} // namespace tapedeck
