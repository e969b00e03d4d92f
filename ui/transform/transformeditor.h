#pragma once

#include "core/event/eventselection.h"
#include "ui/common/replayrunner.h"
#include "core/transform/transformpreview.h"

#include <QWidget>

#include <memory>

class QHBoxLayout;
class QLabel;
class QMenu;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSplitter;
class QTableView;
class QThreadPool;
class QTimer;
class QToolButton;
class QsciScintilla;

namespace tapedeck {

class JobTracker;
class Tape;
class TransformPreviewModel;

// The transform editor: a JavaScript code view (QScintilla: lexer, line
// numbers, errors marked at their line), the script's console output, and a
// live preview of the selected events before and after the transform,
// recomputed on a worker thread shortly after each edit. "Test on Selection"
// dry-runs the whole selected range through the replay engine on a worker
// thread, with progress and cancel. Thread: GUI thread.
class TransformEditor : public QWidget
{
    Q_OBJECT
public:
    static constexpr int MaxPreviewEvents = 200;
    static constexpr int MarkerError = 0;

    explicit TransformEditor(QWidget *parent = nullptr);
    ~TransformEditor() override;

    void setTape(std::shared_ptr<const Tape> tape);
    // The events to preview (the first MaxPreviewEvents are used) and what
    // they are, e.g. "3 events selected in the table".
    void setPreviewEvents(const QList<qint64> &seqs, const QString &description);
    // What "Test on Selection" runs over (empty: the whole tape).
    void setTestSelection(const EventSelection &selection, const QString &description);

    QString script() const;
    // Replaces the text (undoable); `name` labels errors and the title.
    void setScript(const QString &source, const QString &name = {});
    QString fileName() const { return m_path; }
    QString scriptName() const;
    bool isModified() const;
    bool openFile(const QString &path, QString *error);
    bool saveFile(const QString &path, QString *error);
    // Names of the bundled templates (resources/transforms), e.g. "identity.js".
    static QStringList templateNames();
    bool loadTemplate(const QString &name);

    // Recomputes the preview now (normally 250 ms after the last edit).
    void refreshPreview();
    bool isPreviewPending() const;
    void startTest();
    void cancelTest();
    bool isTestRunning() const;

    QsciScintilla *editor() const { return m_editor; }
    TransformPreviewModel *previewModel() const { return m_model; }
    QTableView *previewView() const { return m_view; }
    QString consoleText() const;
    QString statusText() const;
    QString testReportText() const;
    QPushButton *testButton() const { return m_test; }
    // Lines (0-based) with an error marker, and the annotation on a line.
    QList<int> errorLines() const;
    QString annotation(int line) const;
    // Puts the cursor on the error line of a preview row (-1: the current
    // row; a compile error wins), or on the next marked line after the cursor
    // (F8, wrapping). false when there is nowhere to go.
    bool goToErrorLine(int row = -1);
    bool goToNextError();
    // The detail texts of the current preview row (left: event, right: outputs).
    QString detailBefore() const;
    QString detailAfter() const;

Q_SIGNALS:
    void previewUpdated();
    void testFinished(const tapedeck::ReplayReport &report);
    void titleChanged(const QString &title);
    // The user asked to replay with this script.
    void replayRequested();

private:
    // The constructor's parts, called in this order (widget creation order).
    void createEditor();
    QHBoxLayout *createToolRow();
    QSplitter *createCodePane();
    void createPreviewView();
    QSplitter *createSideBySide();
    QWidget *createTestBox();
    QWidget *createPreviewBox();
    void layOutPanes(QHBoxLayout *tools, QSplitter *left, QWidget *previewBox, QSplitter *sideBySide, QWidget *testBox);
    void wireEditingAndTests();

    void applyPreview(const TransformPreview &preview);
    void markErrors(const TransformPreview &preview);
    // The editor's colours from the palette, again when it changes.
    void applyColours();
    void showDetail();
    void updateTitle();
    void openDialog();
    void saveDialog(bool askName);
    void showTestReport(const ReplayReport &report, bool finished);

    std::shared_ptr<const Tape> m_tape;
    QString m_path;
    QString m_name = QStringLiteral("transform.js");
    QList<qint64> m_previewSeqs;
    QString m_previewDescription;
    EventSelection m_testSelection;
    QString m_testDescription;

    QsciScintilla *m_editor = nullptr;
    QPlainTextEdit *m_console = nullptr;
    QLabel *m_previewLabel = nullptr;
    QLabel *m_status = nullptr;
    QTableView *m_view = nullptr;
    TransformPreviewModel *m_model = nullptr;
    QPlainTextEdit *m_before = nullptr;
    QPlainTextEdit *m_after = nullptr;
    QToolButton *m_templates = nullptr;
    QPushButton *m_test = nullptr;
    QPushButton *m_cancelTest = nullptr;
    QProgressBar *m_testProgress = nullptr;
    QPlainTextEdit *m_testReport = nullptr;
    QTimer *m_debounce = nullptr;
    QThreadPool *m_pool = nullptr;
    std::unique_ptr<JobTracker> m_jobs;
    bool m_previewPending = false;
    int m_compileErrorLine = 0; // 1-based, 0 none
    ReplayRunner *m_runner = nullptr;
};

} // namespace tapedeck
