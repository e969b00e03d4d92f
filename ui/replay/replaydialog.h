#pragma once

#include "core/event/eventselection.h"
#include "ui/common/replayrunner.h"

#include <QDialog>
#include <QPointer>

#include <functional>
#include <optional>
#include <memory>

class QCheckBox;
class QSpinBox;
class QComboBox;
class QFormLayout;
class QGroupBox;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace tapedeck {

struct ReplayRequest;
class Settings;
class Tape;
class TargetPicker;
class TransformEditor;

// The replay panel: a range of the open tape (the timeline selection, typed
// positions or times, or everything), through the identity mapping or the
// transform editor's script, into an SQLite file, a PostgreSQL connection
// profile or a Kafka profile and topic, under a replay id. "Replay…" asks an
// explicit confirmation naming the target, then runs the ReplayEngine on a
// worker thread with a progress bar, rate and ETA; Cancel stops it (the batch
// being written is not committed); a summary follows. Sinks come from the
// injected SinkFactory (ui never links libpq or librdkafka). Passwords and
// secret Kafka properties are typed here and never stored. Thread: GUI thread.
class ReplayDialog : public QDialog
{
    Q_OBJECT
public:
    enum class Range { Whole, Selection, Positions, Times };
    enum class TransformChoice { Identity, Editor, File };
    // What to do when the identity would meet Kafka records on the way into SQL.
    enum class MixedChoice { ChangeLanesOnly, Skip, Cancel };

    ReplayDialog(Settings *settings, QWidget *parent = nullptr);
    ~ReplayDialog() override;

    void setTape(std::shared_ptr<const Tape> tape);
    void setSinkFactory(SinkFactory factory) { m_factory = std::move(factory); validate(); }
    void setTransformEditor(TransformEditor *editor);
    // The timeline's brushed range and how many events it holds (-1 unknown).
    void setSelection(const EventSelection &selection, qint64 events, const QString &description);

    // Asked before writing; returns true to go on. Default: a message box.
    // Tests replace it (and read the question).
    void setConfirmHandler(std::function<bool(const QString &question)> handler) { m_confirm = std::move(handler); }
    QString lastQuestion() const { return m_lastQuestion; }
    // Asked (during a run) before a missing SQL table is created, naming it
    // and the CREATE TABLE statement. Default: a message box.
    void setCreateTableHandler(std::function<bool(const QString &question)> handler) { m_confirmCreate = std::move(handler); }
    QStringList createTableQuestions() const { return m_createQuestions; }
    // Asked before an identity run into SQL whose range holds Kafka records
    // (the identity stops at the first one). Default: a message box.
    void setMixedTapeHandler(std::function<MixedChoice(const QString &warning)> handler) { m_mixed = std::move(handler); }
    QString lastWarning() const { return m_lastWarning; }
    // Asked when PostgreSQL refuses the connection for want of a password
    // (none typed); the answer is used for this run and never stored; the
    // replay then starts again. nullopt: give up. Default: an input dialog.
    void setPasswordPrompt(std::function<std::optional<QString>(const QString &prompt)> prompt)
    {
        m_passwordPrompt = std::move(prompt);
    }
    // Kafka (and kcat) records the options' range may hold: exact for the
    // whole tape or whole lanes, else an upper bound (*exact false).
    qint64 recordsInRange(const ReplayOptions &options, bool *exact) const;

    // Builds what the form says, or false + *problem ("From: not a position").
    bool buildOptions(ReplayOptions *options, ReplayTarget *target, QString *problem) const;
    bool buildRequest(ReplayRequest *request, QString *problem) const;
    bool narrowToChangeLanes(ReplayOptions *options, QString *problem) const;
    bool buildTarget(ReplayTarget *target, QString *problem) const;
    QString confirmationQuestion(const ReplayOptions &options, const ReplayTarget &target) const;

    void startDryRun();
    void startReplay();
    void cancel();
    bool isRunning() const;
    ReplayRunner *runner() const { return m_runner; }

    QComboBox *rangeBox() const { return m_range; }
    QLineEdit *fromEdit() const { return m_from; }
    QLineEdit *toEdit() const { return m_to; }
    QCheckBox *changeLanesOnlyBox() const { return m_changeLanesOnly; }
    QComboBox *transformBox() const { return m_transform; }
    QLineEdit *transformFileEdit() const { return m_transformFile; }
    QComboBox *targetBox() const;
    QLineEdit *sqlitePathEdit() const;
    QComboBox *pgProfileBox() const;
    QLineEdit *pgDsnEdit() const;
    QLineEdit *pgPasswordEdit() const;
    QComboBox *kafkaProfileBox() const { return m_kafkaProfile; }
    QLineEdit *kafkaBootstrapEdit() const { return m_kafkaBootstrap; }
    QLineEdit *kafkaTopicEdit() const { return m_kafkaTopic; }
    QCheckBox *createTablesBox() const { return m_createTables; }
    QSpinBox *enginesBox() const { return m_engines; }
    QSpinBox *connectionsBox() const { return m_connections; }
    QLineEdit *replayIdEdit() const { return m_replayId; }
    QComboBox *onErrorBox() const { return m_onError; }
    QLineEdit *deadLetterEdit() const { return m_deadLetter; }
    QPushButton *dryRunButton() const { return m_dryRun; }
    QPushButton *replayButton() const { return m_replay; }
    QPushButton *cancelButton() const { return m_cancel; }
    QProgressBar *progressBar() const { return m_progress; }
    QString rateText() const;
    QString summaryText() const;
    QString problemText() const;

    static QString formatDuration(double seconds);

protected:
    void closeEvent(QCloseEvent *event) override;
    void reject() override;

private:
    // The constructor's parts, called in this order (widget creation order).
    QGroupBox *createSourceGroup();
    QHBoxLayout *createTransformRow();
    void createKafkaTarget();
    QHBoxLayout *createRunOptions();
    QGroupBox *createTargetGroup(QHBoxLayout *jsRow, QHBoxLayout *parallel);
    QHBoxLayout *createButtons();
    void createProgressArea();
    void createRunner();
    void loadKafkaProfiles();
    void wireSignals();

    void validate();
    void updateRangeFields();
    void loadKafkaProfile();
    void run(bool dryRun, bool confirmed = false);
    void showProgress(const ReplayReport &report);
    void showSummary(const ReplayReport &report);
    void setRunning(bool running);

    Settings *m_settings;
    std::shared_ptr<const Tape> m_tape;
    SinkFactory m_factory;
    QPointer<TransformEditor> m_editor;
    EventSelection m_selection;
    qint64 m_selectionEvents = -1;
    QString m_selectionDescription;
    std::function<bool(const QString &)> m_confirm;
    QString m_lastQuestion;
    std::function<bool(const QString &)> m_confirmCreate;
    QStringList m_createQuestions;
    std::function<MixedChoice(const QString &)> m_mixed;
    std::function<std::optional<QString>(const QString &)> m_passwordPrompt;
    bool m_passwordAsked = false;
    ReplayTarget::Kind m_lastKind = ReplayTarget::Kind::Sqlite;
    QString m_lastWarning;
    bool m_lastRunDry = false;
    QString m_lastTarget;

    QLabel *m_tapeLabel = nullptr;
    QComboBox *m_range = nullptr;
    QLineEdit *m_from = nullptr;
    QLineEdit *m_to = nullptr;
    QCheckBox *m_changeLanesOnly = nullptr;
    QComboBox *m_transform = nullptr;
    QLineEdit *m_transformFile = nullptr;
    TargetPicker *m_targetPicker = nullptr;
    QComboBox *m_kafkaProfile = nullptr;
    QLineEdit *m_kafkaBootstrap = nullptr;
    QLineEdit *m_kafkaTopic = nullptr;
    QFormLayout *m_kafkaForm = nullptr;
    QList<std::pair<QString, QLineEdit *>> m_kafkaSecrets;
    QList<std::pair<QString, QString>> m_kafkaProperties;
    QCheckBox *m_createTables = nullptr;
    QSpinBox *m_engines = nullptr;
    QSpinBox *m_connections = nullptr;
    QLineEdit *m_replayId = nullptr;
    QComboBox *m_onError = nullptr;
    QLineEdit *m_deadLetter = nullptr;
    QLabel *m_problem = nullptr;
    QPushButton *m_dryRun = nullptr;
    QPushButton *m_replay = nullptr;
    QPushButton *m_cancel = nullptr;
    QPushButton *m_close = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_rate = nullptr;
    QPlainTextEdit *m_summary = nullptr;
    QList<QWidget *> m_form; // disabled while running
    ReplayRunner *m_runner = nullptr;
};

} // namespace tapedeck
