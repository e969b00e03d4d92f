#include "ui/transform/transformeditor.h"
#include "ui/common/palette.h"
#include "ui/common/valueformat.h"

#include "core/base/jobtracker.h"
#include "ui/common/qsci.h"
#include "core/tape/tape.h"
#include "ui/transform/transformpreviewmodel.h"

#include <QStyledItemDelegate>
#include <QAction>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QTableView>
#include <QThreadPool>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

// The palette's colour for a style of QsciLexerJavaScript (QsciLexerCPP's styles) in the dark set.
Palette::Role codeRole(int style)
{
    switch (style % 64) { // 64 and up: the same styles, inactive
    case QsciLexerCPP::Comment:
    case QsciLexerCPP::CommentLine:
    case QsciLexerCPP::CommentDoc:
    case QsciLexerCPP::CommentLineDoc:
    case QsciLexerCPP::CommentDocKeyword:
    case QsciLexerCPP::CommentDocKeywordError:
        return Palette::Role::EditorComment;
    case QsciLexerCPP::Number:
        return Palette::Role::EditorNumber;
    case QsciLexerCPP::Keyword:
    case QsciLexerCPP::KeywordSet2:
        return Palette::Role::EditorKeyword;
    case QsciLexerCPP::DoubleQuotedString:
    case QsciLexerCPP::SingleQuotedString:
    case QsciLexerCPP::UnclosedString:
    case QsciLexerCPP::Regex:
    case QsciLexerCPP::RawString:
    case QsciLexerCPP::VerbatimString:
        return Palette::Role::EditorString;
    default:
        return Palette::Role::EditorText;
    }
}

QString indented(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Indented)).trimmed();
}

} // namespace

TransformEditor::~TransformEditor()
{
    m_jobs.reset(); // waits for a running preview before the pool goes
}

QStringList TransformEditor::templateNames()
{
    return QDir(u":/transforms"_s).entryList({u"*.js"_s}, QDir::Files, QDir::Name);
}

bool TransformEditor::loadTemplate(const QString &name)
{
    QFile f(u":/transforms/"_s + name);
    if (!f.open(QIODevice::ReadOnly))
        return false;
    m_path.clear();
    setScript(QString::fromUtf8(f.readAll()), name);
    return true;
}

void TransformEditor::setTape(std::shared_ptr<const Tape> tape)
{
    cancelTest();
    m_tape = std::move(tape);
    m_previewSeqs.clear();
    m_testSelection = {};
    m_testDescription.clear();
    refreshPreview();
}

void TransformEditor::setPreviewEvents(const QList<qint64> &seqs, const QString &description)
{
    QList<qint64> capped = seqs.mid(0, MaxPreviewEvents);
    if (capped == m_previewSeqs && description == m_previewDescription)
        return;
    m_previewSeqs = std::move(capped);
    m_previewDescription = description;
    m_previewPending = true;
    m_debounce->start();
}

void TransformEditor::setTestSelection(const EventSelection &selection, const QString &description)
{
    m_testSelection = selection;
    m_testDescription = description;
}

QString TransformEditor::script() const
{
    return m_editor->text();
}

void TransformEditor::setScript(const QString &source, const QString &name)
{
    if (!name.isEmpty())
        m_name = name;
    // Replacing the selection keeps it undoable (setText() would not).
    m_editor->selectAll();
    m_editor->replaceSelectedText(source);
    m_editor->setCursorPosition(0, 0);
    updateTitle();
}

QString TransformEditor::scriptName() const
{
    return m_name;
}

bool TransformEditor::isModified() const
{
    return m_editor->isModified();
}

bool TransformEditor::openFile(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = u"%1: %2"_s.arg(path, f.errorString());
        return false;
    }
    setScript(QString::fromUtf8(f.readAll()), QFileInfo(path).fileName());
    m_path = QFileInfo(path).absoluteFilePath();
    m_editor->setModified(false);
    updateTitle();
    return true;
}

bool TransformEditor::saveFile(const QString &path, QString *error)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(script().toUtf8()) < 0 || !f.commit()) {
        *error = u"%1: %2"_s.arg(path, f.errorString());
        return false;
    }
    m_path = QFileInfo(path).absoluteFilePath();
    m_name = QFileInfo(path).fileName();
    m_editor->setModified(false);
    updateTitle();
    return true;
}

void TransformEditor::openDialog()
{
    const QString path = QFileDialog::getOpenFileName(this, u"Open transform"_s,
                                                      m_path.isEmpty() ? QDir::homePath() : QFileInfo(m_path).absolutePath(),
                                                      u"JavaScript (*.js);;All files (*)"_s);
    QString error;
    if (!path.isEmpty() && !openFile(path, &error))
        m_status->setText(error);
}

void TransformEditor::saveDialog(bool askName)
{
    QString path = m_path;
    if (askName || path.isEmpty()) {
        path = QFileDialog::getSaveFileName(this, u"Save transform"_s,
                                            m_path.isEmpty() ? QDir::home().filePath(m_name) : m_path,
                                            u"JavaScript (*.js)"_s);
        if (path.isEmpty())
            return;
    }
    QString error;
    if (!saveFile(path, &error))
        m_status->setText(error);
}

void TransformEditor::updateTitle()
{
    Q_EMIT titleChanged(u"Transform — %1%2"_s.arg(m_name, m_editor->isModified() ? u"*"_s : QString()));
}

bool TransformEditor::isPreviewPending() const
{
    return m_previewPending || m_debounce->isActive() || m_jobs->isRunning();
}

void TransformEditor::refreshPreview()
{
    m_debounce->stop();
    m_previewPending = true;
    if (!m_tape) {
        m_jobs->cancel();
        applyPreview({});
        return;
    }
    PreviewRequest request;
    request.source = script();
    request.fileName = m_name;
    request.context = Transform::Context{u"preview"_s, QString(), true};
    request.seqs = m_previewSeqs;
    const std::shared_ptr<const Tape> tape = m_tape;
    m_jobs->start(
        [tape, request](const std::function<bool()> &cancelled) { return runTransformPreview(*tape, request, cancelled); },
        [this](TransformPreview preview) { applyPreview(preview); });
}

void TransformEditor::applyPreview(const TransformPreview &preview)
{
    const qint64 current = m_model->data(m_model->index(m_view->currentIndex().row(), 0), TransformPreviewModel::SeqRole).toLongLong();
    m_model->setPreview(preview);
    m_compileErrorLine = preview.compileError.isEmpty() ? 0 : std::max(1, preview.compileErrorLine);
    markErrors(preview);

    // Console: one line per console call, prefixed with the event number.
    QString html;
    for (const PreviewConsoleLine &line : preview.console) {
        const QString where = line.seq < 0 ? u"[load]"_s : u"[#%1]"_s.arg(line.seq);
        const QString colour = line.level == Transform::ConsoleLevel::Error ? Palette::css(Palette::Role::Failure)
                               : line.level == Transform::ConsoleLevel::Warn ? Palette::css(Palette::Role::ConsoleWarn)
                                                                              : Palette::css(Palette::Role::ConsoleLog);
        html += u"<div style=\"white-space:pre; color:%1\"><span style=\"color:%2\">%3</span> %4</div>"_s
                    .arg(colour, Palette::css(Palette::Role::ConsoleTime), where, line.text.toHtmlEscaped());
    }
    m_console->clear();
    if (!html.isEmpty())
        m_console->appendHtml(html);
    if (preview.consoleDropped > 0)
        m_console->appendPlainText(u"… %1 more lines not shown"_s.arg(preview.consoleDropped));

    const QLocale locale;
    const int errors = preview.count(PreviewEvent::Status::Threw) + preview.count(PreviewEvent::Status::Timeout)
                       + preview.count(PreviewEvent::Status::Invalid);
    qint64 outputs = 0;
    for (const PreviewEvent &e : preview.events)
        outputs += e.outputs.size();
    if (!m_tape) {
        m_previewLabel->setText(u"No tape open"_s);
    } else if (preview.events.isEmpty()) {
        m_previewLabel->setText(u"Select events in the table or brush a range on the timeline to preview them"_s);
    } else {
        QString text = u"%1: %2 outputs · %3 dropped · %4 errors"_s.arg(m_previewDescription)
                           .arg(locale.toString(outputs))
                           .arg(preview.count(PreviewEvent::Status::Dropped))
                           .arg(errors);
        if (!preview.note.isEmpty())
            text += u" · "_s + preview.note;
        m_previewLabel->setText(text);
    }
    if (!preview.compileError.isEmpty())
        m_status->setText(u"<span style=\"color:%1\">%2</span>"_s.arg(Palette::css(Palette::Role::Failure), preview.compileError.toHtmlEscaped()));
    else if (errors > 0)
        m_status->setText(u"<span style=\"color:%1\">%2 of %3 previewed events failed</span>"_s.arg(Palette::css(Palette::Role::Failure)).arg(errors).arg(preview.events.size()));
    else
        m_status->setText(u"<span style=\"color:%1\">OK</span>"_s.arg(Palette::css(Palette::Role::Success)));

    // Keep the same event selected across recomputations.
    int row = 0;
    for (int i = 0; i < preview.events.size(); ++i) {
        if (preview.events[i].seq == current) {
            row = i;
            break;
        }
    }
    if (!preview.events.isEmpty())
        m_view->selectRow(row);
    showDetail();
    m_previewPending = false;
    Q_EMIT previewUpdated();
}

void TransformEditor::applyColours()
{
    m_editor->setMarginsForegroundColor(Palette::color(Palette::Role::EditorMargin));
    m_editor->setMarkerBackgroundColor(Palette::color(Palette::Role::EditorErrorMarker), MarkerError);
    m_editor->setMarkerForegroundColor(Palette::color(Palette::Role::EditorErrorMarkerText), MarkerError);
    m_editor->setCaretLineBackgroundColor(Palette::color(Palette::Role::EditorCaretLine));
    // The lexer's own colours in light; in dark its styles on the dark base.
    QsciLexer *lexer = m_editor->lexer();
    const bool dark = Palette::isDark();
    for (int style = 0; style < 128; ++style) {
        lexer->setColor(dark ? Palette::color(codeRole(style)) : lexer->defaultColor(style), style);
        lexer->setPaper(dark ? Palette::color(Palette::Role::EditorPaper) : lexer->defaultPaper(style), style);
    }
    // Light keeps QScintilla's own margin and caret (so a switch back to light keeps them dark until a restart).
    if (dark) {
        m_editor->setMarginsBackgroundColor(Palette::color(Palette::Role::EditorGutter));
        m_editor->setCaretForegroundColor(Palette::color(Palette::Role::EditorText));
    }
}

void TransformEditor::markErrors(const TransformPreview &preview)
{
    m_editor->markerDeleteAll(MarkerError);
    m_editor->clearAnnotations();
    // One style per set: each QsciStyle(-1) takes a new style number.
    static const QsciStyle lightError(-1, u"error"_s, Palette::color(Palette::Role::EditorErrorAnnotation, false),
                                      Palette::color(Palette::Role::EditorErrorAnnotationBackground, false),
                                      QFontDatabase::systemFont(QFontDatabase::GeneralFont));
    static const QsciStyle darkError(-1, u"error"_s, Palette::color(Palette::Role::EditorErrorAnnotation, true),
                                     Palette::color(Palette::Role::EditorErrorAnnotationBackground, true),
                                     QFontDatabase::systemFont(QFontDatabase::GeneralFont));
    const QsciStyle &errorStyle = Palette::isDark() ? darkError : lightError;
    // Line -> (first message, how many events).
    QMap<int, std::pair<QString, int>> lines;
    if (!preview.compileError.isEmpty()) {
        const int line = std::max(1, preview.compileErrorLine);
        lines[line] = {preview.compileError, 1};
    }
    for (const PreviewEvent &e : preview.events) {
        if (e.errorLine <= 0)
            continue;
        auto it = lines.find(e.errorLine);
        if (it == lines.end())
            lines.insert(e.errorLine, {e.error, 1});
        else
            ++it->second;
    }
    for (auto it = lines.cbegin(); it != lines.cend(); ++it) {
        const int line = std::min(it.key() - 1, m_editor->lines() - 1);
        m_editor->markerAdd(line, MarkerError);
        QString text = it->first;
        if (it->second > 1)
            text += u" (and %1 more events)"_s.arg(it->second - 1);
        m_editor->annotate(line, text, errorStyle);
    }
}

QList<int> TransformEditor::errorLines() const
{
    QList<int> out;
    for (int line = m_editor->markerFindNext(0, 1 << MarkerError); line >= 0;
         line = m_editor->markerFindNext(line + 1, 1 << MarkerError))
        out << line;
    return out;
}

bool TransformEditor::goToErrorLine(int row)
{
    int line = m_compileErrorLine;
    if (line <= 0) {
        const PreviewEvent *e = m_model->eventAt(row < 0 ? m_view->currentIndex().row() : row);
        line = e ? e->errorLine : 0;
    }
    if (line <= 0)
        return false;
    const int l = std::min(line - 1, m_editor->lines() - 1);
    m_editor->setCursorPosition(l, 0);
    m_editor->ensureLineVisible(l);
    m_editor->setFocus();
    return true;
}

bool TransformEditor::goToNextError()
{
    const QList<int> lines = errorLines();
    if (lines.isEmpty())
        return false;
    int line = 0, index = 0;
    m_editor->getCursorPosition(&line, &index);
    auto next = std::upper_bound(lines.cbegin(), lines.cend(), line);
    const int target = next == lines.cend() ? lines.constFirst() : *next;
    m_editor->setCursorPosition(target, 0);
    m_editor->ensureLineVisible(target);
    m_editor->setFocus();
    return true;
}

QString TransformEditor::annotation(int line) const
{
    return m_editor->annotation(line);
}

void TransformEditor::showDetail()
{
    const PreviewEvent *e = m_model->eventAt(m_view->currentIndex().row());
    if (!e) {
        m_before->clear();
        m_after->clear();
        return;
    }
    m_before->setPlainText(u"// event #%1\n"_s.arg(e->seq) + indented(eventToJson(e->event)));
    QString after;
    switch (e->status) {
    case PreviewEvent::Status::Outputs: {
        after = u"// %1 output%2\n"_s.arg(e->outputs.size()).arg(e->outputs.size() == 1 ? QString() : u"s"_s);
        QStringList parts;
        for (const SinkOutput &out : e->outputs)
            parts << indented(outputToJson(out));
        after += parts.join(u",\n"_s);
        break;
    }
    case PreviewEvent::Status::Dropped: after = u"// dropped: the transform returned nothing"_s; break;
    case PreviewEvent::Status::NotRun:
        after = e->error.isEmpty() ? u"// not run"_s : u"// "_s + e->error;
        break;
    default: after = u"// %1\n%2"_s.arg(TransformPreviewModel::statusName(e->status), e->error); break;
    }
    const TransformPreview &p = m_model->preview();
    QStringList logged;
    for (const PreviewConsoleLine &line : p.console) {
        if (line.seq == e->seq)
            logged << u"// console: "_s + line.text;
    }
    if (!logged.isEmpty())
        after += u"\n\n"_s + logged.join(u'\n');
    m_after->setPlainText(after);
}

QString TransformEditor::detailBefore() const
{
    return m_before->toPlainText();
}

QString TransformEditor::detailAfter() const
{
    return m_after->toPlainText();
}

QString TransformEditor::consoleText() const
{
    return m_console->toPlainText();
}

QString TransformEditor::statusText() const
{
    return m_status->text();
}

QString TransformEditor::testReportText() const
{
    return m_testReport->toPlainText();
}

bool TransformEditor::isTestRunning() const
{
    return m_runner->isRunning();
}

void TransformEditor::startTest()
{
    if (!m_tape || m_runner->isRunning())
        return;
    ReplayOptions o;
    o.replayId = u"test"_s;
    o.transformSource = script();
    o.transformFile = m_name;
    o.dryRun = true;
    o.onError = ReplayOptions::OnError::Skip; // report every failing event, not just the first
    o.selection = m_testSelection;
    o.batchEvents = 2000;
    m_testProgress->setValue(0);
    m_testProgress->setFormat(u"starting…"_s);
    m_testReport->setPlainText(u"Dry run over %1…"_s.arg(m_testDescription.isEmpty() ? u"the whole tape"_s : m_testDescription));
    if (m_runner->start(m_tape, o, ReplayTarget{}, {})) {
        m_test->setEnabled(false);
        m_cancelTest->setEnabled(true);
    }
}

void TransformEditor::cancelTest()
{
    if (m_runner && m_runner->isRunning())
        m_runner->cancel();
}

void TransformEditor::showTestReport(const ReplayReport &r, bool finished)
{
    const QLocale locale;
    const ReplayStats &s = r.stats;
    const double fraction = s.totalEvents > 0 ? double(s.events) / double(s.totalEvents) : 1.0;
    m_testProgress->setValue(int(fraction * 1000));
    m_testProgress->setFormat(u"%1 / %2 events"_s.arg(locale.toString(s.events), locale.toString(s.totalEvents)));
    if (finished) {
        m_test->setEnabled(true);
        m_cancelTest->setEnabled(false);
    }
    QStringList lines;
    const QString range = m_testDescription.isEmpty() ? u"the whole tape"_s : m_testDescription;
    QString head = finished ? (r.ok ? u"Dry run over %1: "_s.arg(range)
                               : r.cancelled ? u"Cancelled dry run over %1: "_s.arg(range)
                                             : u"Dry run over %1 stopped: "_s.arg(range))
                            : u"Running over %1: "_s.arg(range);
    using ValueFormat::count;
    head += u"%1 in range · %2 · %3 dropped · %4 · %5 s"_s.arg(count(s.inRange, u"event"_s, u"events"_s),
                                                          count(s.outputs, u"output"_s, u"outputs"_s),
                                                          locale.toString(r.drops), count(s.skipped, u"error"_s, u"errors"_s))
                .arg(s.seconds, 0, 'f', 2);
    lines << head;
    if (finished && !r.ok && !r.cancelled)
        lines << r.error;
    for (auto it = r.perTarget.cbegin(); it != r.perTarget.cend(); ++it)
        lines << u"  %1: %2"_s.arg(it.key(), ValueFormat::count(it.value(), u"output"_s, u"outputs"_s));
    if (!r.errors.isEmpty()) {
        const qint64 total = std::max<qint64>(s.skipped, r.errors.size());
        lines << (total > 20 ? u"Errors (the first 20 of %1):"_s.arg(QLocale().toString(total)) : u"Errors:"_s);
        for (const QString &e : r.errors.mid(0, 20))
            lines << u"  "_s + e;
    }
    m_testReport->setPlainText(lines.join(u'\n'));
}

} // namespace tapedeck
