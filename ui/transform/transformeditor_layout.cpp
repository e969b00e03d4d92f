// The transform editor's widgets and how they are laid out and wired;
// transformeditor.cpp has what they do.
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

QLabel *heading(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    return label;
}

QPlainTextEdit *textPane(QWidget *parent, const QString &placeholder)
{
    auto *edit = new QPlainTextEdit(parent);
    edit->setReadOnly(true);
    edit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    edit->setLineWrapMode(QPlainTextEdit::NoWrap);
    edit->setPlaceholderText(placeholder);
    return edit;
}

QWidget *titled(const QString &title, QWidget *content, QWidget *parent, QWidget *extra = nullptr)
{
    auto *box = new QWidget(parent);
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 2, 0, 0);
    layout->setSpacing(2);
    auto *row = new QHBoxLayout;
    row->addWidget(heading(title, box));
    row->addStretch(1);
    if (extra)
        row->addWidget(extra);
    layout->addLayout(row);
    layout->addWidget(content, 1);
    return box;
}

QString firstCommentLine(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QString line = QString::fromUtf8(f.readLine()).trimmed();
    return line.startsWith(u"//"_s) ? line.mid(2).trimmed() : QString();
}

} // namespace

TransformEditor::TransformEditor(QWidget *parent)
    : QWidget(parent)
    , m_pool(new QThreadPool(this))
{
    // One preview at a time: a new edit supersedes the running preview, which
    // stops at its next event (a runaway call is cut by the watchdog first).
    m_pool->setMaxThreadCount(1);
    m_jobs = std::make_unique<JobTracker>(this, m_pool);

    // Created in this order: the tests find widgets by order as well as name.
    createEditor();
    QHBoxLayout *tools = createToolRow();
    QSplitter *left = createCodePane();
    createPreviewView();
    QSplitter *sideBySide = createSideBySide();
    QWidget *testBox = createTestBox();
    QWidget *previewBox = createPreviewBox();
    layOutPanes(tools, left, previewBox, sideBySide, testBox);
    wireEditingAndTests();

    loadTemplate(u"identity.js"_s);
    m_editor->setModified(false);
    updateTitle();
}

void TransformEditor::createEditor()
{
    // The code view.
    m_editor = new QsciScintilla(this);
    auto *lexer = new QsciLexerJavaScript(m_editor);
    const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    lexer->setDefaultFont(mono);
    lexer->setFont(mono, -1);
    m_editor->setLexer(lexer);
    m_editor->setUtf8(true);
    m_editor->setMarginType(0, QsciScintilla::NumberMargin);
    m_editor->setMarginWidth(0, u"0000"_s);
    m_editor->setMarginLineNumbers(0, true);
    m_editor->setMarginType(1, QsciScintilla::SymbolMargin);
    m_editor->setMarginWidth(1, 14);
    m_editor->setMarginMarkerMask(1, 1 << MarkerError);
    m_editor->markerDefine(QsciScintilla::Circle, MarkerError);
    m_editor->setAnnotationDisplay(QsciScintilla::AnnotationBoxed);
    m_editor->setIndentationsUseTabs(false);
    m_editor->setIndentationWidth(4);
    m_editor->setTabWidth(4);
    m_editor->setAutoIndent(true);
    m_editor->setBraceMatching(QsciScintilla::SloppyBraceMatch);
    m_editor->setCaretLineVisible(true);
    m_editor->setFolding(QsciScintilla::NoFoldStyle);
    applyColours();
    connect(Palette::instance(), &Palette::changed, this, [this] {
        applyColours();
        markErrors(m_model->preview());
    });

    m_console = textPane(this, u"console.log(…) output of the preview appears here"_s);
    m_console->setMaximumBlockCount(5000);
}

QHBoxLayout *TransformEditor::createToolRow()
{
    // Tool row: templates, open/save, test.
    m_templates = new QToolButton(this);
    m_templates->setText(u"Templates"_s);
    m_templates->setPopupMode(QToolButton::InstantPopup);
    auto *templateMenu = new QMenu(m_templates);
    for (const QString &name : templateNames()) {
        const QString about = firstCommentLine(u":/transforms/"_s + name);
        QAction *a = templateMenu->addAction(about.isEmpty() ? name : u"%1 — %2"_s.arg(name, about.left(60)));
        connect(a, &QAction::triggered, this, [this, name] { loadTemplate(name); });
    }
    m_templates->setMenu(templateMenu);
    auto *open = new QToolButton(this);
    open->setText(u"Open…"_s);
    open->setToolTip(u"Open a .js transform"_s);
    connect(open, &QToolButton::clicked, this, &TransformEditor::openDialog);
    auto *save = new QToolButton(this);
    save->setText(u"Save"_s);
    save->setShortcut(QKeySequence::Save);
    connect(save, &QToolButton::clicked, this, [this] { saveDialog(false); });
    auto *saveAs = new QToolButton(this);
    saveAs->setText(u"Save As…"_s);
    connect(saveAs, &QToolButton::clicked, this, [this] { saveDialog(true); });
    auto *replay = new QToolButton(this);
    replay->setText(u"Replay…"_s);
    replay->setToolTip(u"Replay the selection through this transform"_s);
    connect(replay, &QToolButton::clicked, this, &TransformEditor::replayRequested);
    m_status = new QLabel(this);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *tools = new QHBoxLayout;
    tools->setContentsMargins(0, 0, 0, 0);
    tools->addWidget(m_templates);
    tools->addWidget(open);
    tools->addWidget(save);
    tools->addWidget(saveAs);
    tools->addWidget(m_status, 1);
    tools->addWidget(replay);

    return tools;
}

QSplitter *TransformEditor::createCodePane()
{
    auto *left = new QSplitter(Qt::Vertical, this);
    left->addWidget(m_editor);
    left->addWidget(titled(u"Console"_s, m_console, left));
    left->setStretchFactor(0, 3);
    left->setStretchFactor(1, 1);
    left->setChildrenCollapsible(false);
    return left;
}

void TransformEditor::createPreviewView()
{
    // The preview: events before and after, side by side.
    m_model = new TransformPreviewModel(this);
    m_view = new QTableView(this);
    m_view->setModel(m_model);
    m_view->setItemDelegate(TransformPreviewModel::createDelegate(m_view));
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setWordWrap(false);
    m_view->setShowGrid(false);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_view->setColumnWidth(TransformPreviewModel::SeqColumn, m_view->fontMetrics().horizontalAdvance(u"000000"_s) + 12);
    m_view->setColumnWidth(TransformPreviewModel::EventColumn, m_view->fontMetrics().horizontalAdvance(u"x"_s) * 48);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &TransformEditor::showDetail);
    // Double-click (or Enter) on a failing event: to its line in the script.
    connect(m_view, &QAbstractItemView::activated, this, [this](const QModelIndex &index) { goToErrorLine(index.row()); });
    connect(m_view, &QAbstractItemView::doubleClicked, this, [this](const QModelIndex &index) { goToErrorLine(index.row()); });
    auto *nextError = new QAction(u"Go to Next Error"_s, this);
    nextError->setShortcut(QKeySequence(Qt::Key_F8));
    nextError->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(nextError, &QAction::triggered, this, &TransformEditor::goToNextError);
    addAction(nextError);
    auto *rowError = new QAction(u"Go to the Error Line of the Selected Event"_s, this);
    rowError->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    rowError->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(rowError, &QAction::triggered, this, [this] { goToErrorLine(); });
    addAction(rowError);
    m_view->setToolTip(u"Double-click a failing event (or Ctrl+E) to go to its line; F8: the next error"_s);
    m_previewLabel = new QLabel(u"Select events in the table or on the timeline to preview them"_s, this);
    m_previewLabel->setWordWrap(true);
}

QSplitter *TransformEditor::createSideBySide()
{
    m_before = textPane(this, u"the selected event"_s);
    m_after = textPane(this, u"what the transform returns for it"_s);
    auto *sideBySide = new QSplitter(Qt::Horizontal, this);
    sideBySide->addWidget(titled(u"Before: the event"_s, m_before, sideBySide));
    sideBySide->addWidget(titled(u"After: outputs"_s, m_after, sideBySide));
    sideBySide->setChildrenCollapsible(false);
    return sideBySide;
}

QWidget *TransformEditor::createTestBox()
{
    // Test on selection.
    m_test = new QPushButton(u"Test on Selection"_s, this);
    m_test->setToolTip(u"Dry-run the transform over the whole selected range (nothing is written)"_s);
    connect(m_test, &QPushButton::clicked, this, &TransformEditor::startTest);
    m_cancelTest = new QPushButton(u"Cancel"_s, this);
    m_cancelTest->setEnabled(false);
    connect(m_cancelTest, &QPushButton::clicked, this, &TransformEditor::cancelTest);
    m_testProgress = new QProgressBar(this);
    m_testProgress->setRange(0, 1000);
    m_testProgress->setValue(0);
    m_testProgress->setTextVisible(true);
    m_testProgress->setFormat(QString());
    m_testReport = textPane(this, u"Test on Selection: a dry run over the whole selected range, with counts per table or topic, drops and errors"_s);
    auto *testBox = new QWidget(this);
    auto *testLayout = new QVBoxLayout(testBox);
    testLayout->setContentsMargins(0, 2, 0, 0);
    testLayout->setSpacing(2);
    auto *testRow = new QHBoxLayout;
    testRow->addWidget(m_test);
    testRow->addWidget(m_testProgress, 1);
    testRow->addWidget(m_cancelTest);
    testLayout->addLayout(testRow);
    testLayout->addWidget(m_testReport, 1);
    return testBox;
}

QWidget *TransformEditor::createPreviewBox()
{
    auto *previewBox = new QWidget(this);
    auto *previewLayout = new QVBoxLayout(previewBox);
    previewLayout->setContentsMargins(0, 2, 0, 0);
    previewLayout->setSpacing(2);
    previewLayout->addWidget(heading(u"Preview"_s, previewBox));
    previewLayout->addWidget(m_previewLabel);
    previewLayout->addWidget(m_view, 1);
    return previewBox;
}

void TransformEditor::layOutPanes(QHBoxLayout *tools, QSplitter *left, QWidget *previewBox, QSplitter *sideBySide, QWidget *testBox)
{
    auto *right = new QSplitter(Qt::Vertical, this);
    right->addWidget(previewBox);
    right->addWidget(sideBySide);
    right->addWidget(testBox);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 2);
    right->setStretchFactor(2, 1);
    right->setChildrenCollapsible(false);

    auto *split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setSizes({560, 840}); // scaled to the real width: the code gets room for its lines
    split->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    layout->addLayout(tools);
    layout->addWidget(split, 1);
}

void TransformEditor::wireEditingAndTests()
{
    m_debounce = new QTimer(this);
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(250);
    connect(m_debounce, &QTimer::timeout, this, &TransformEditor::refreshPreview);
    connect(m_editor, &QsciScintilla::textChanged, this, [this] {
        m_previewPending = true;
        m_debounce->start();
    });
    connect(m_editor, &QsciScintilla::modificationChanged, this, &TransformEditor::updateTitle);

    m_runner = new ReplayRunner(this);
    connect(m_runner, &ReplayRunner::progress, this, [this](const ReplayReport &r) { showTestReport(r, false); });
    connect(m_runner, &ReplayRunner::finished, this, [this](const ReplayReport &r) {
        showTestReport(r, true);
        Q_EMIT testFinished(r);
    });
}

} // namespace tapedeck
