#pragma once

#include <QColor>
#include <QList>
#include <QObject>
#include <QString>

#include <optional>

class QWidget;

namespace tapedeck {

// Every colour the GUI draws with, named by what it means, in a light and a
// dark set. The set follows the application palette: dark when its window
// colour is dark (the system's dark theme, or setTheme(Theme::Dark)). Views
// ask for colours when they paint, so a palette change repaints them in the
// other set; widgets that keep colours (highlighters, style sheets, tree
// items) listen to changed(). The values are in palette.cpp, nowhere else.
// Thread: GUI thread.
class Palette : public QObject
{
    Q_OBJECT
public:
    enum class Role {
        // Messages on a dialog's or dock's window colour.
        Error,             // error text: dialogs, sessions, browsers
        ErrorBackground,   // behind an error label or an invalid field
        Warning,           // warnings: the main window's, a consuming read, a retained slot
        Notice,            // a hint that is not a problem yet (the connection dialog)
        NoticeText,        // the slot browser's problem banner …
        NoticeBackground,  // … and its background
        Failure,           // a replay problem, a transform error, a failed preview row
        Success,           // "OK" of the transform editor
        // The event table (EventTableModel's roles).
        Tombstone,         // a record with a null value
        Aborted,           // a record of an aborted transaction
        // The filter bar: field backgrounds by state, their text, the message.
        FilterBusy,
        FilterInvalid,
        FilterValid,
        FilterText,
        FilterError,
        // JSON in the detail pane.
        JsonKey,
        JsonString,
        JsonNumber,
        JsonLiteral,
        // The compaction preview.
        CompactionInvalid,           // an invalid config value: border, and the status text
        CompactionInvalidBackground, // its field
        CompactionKept,              // a version the cleaner keeps
        CompactionRemoved,           // a version it removes
        // The state view and the diff.
        ChangedRow,        // background of a row changed since the previous step
        DiffMissing,
        DiffExtra,
        DiffDiffers,
        // The transform editor and its preview.
        PreviewNoOutput,   // dropped or passed through: no outputs
        PreviewFailed,
        ConsoleLog,
        ConsoleWarn,
        ConsoleTime,
        EditorMargin,
        // Code in dark (light keeps QsciLexerJavaScript's own colours; the light values are those).
        EditorPaper,
        EditorGutter,
        EditorText,
        EditorKeyword,
        EditorComment,
        EditorString,
        EditorNumber,
        EditorCaretLine,
        EditorErrorMarker,
        EditorErrorMarkerText,
        EditorErrorAnnotation,
        EditorErrorAnnotationBackground,
        // The timeline.
        TimelineBackground,
        TimelineGroup,        // a group's lane
        TimelineAlternate,    // every other lane
        TimelineGrid,
        TimelineText,
        TimelineDim,          // ticks, scales, the corner's context
        TimelineRuler,        // corner, axis and overview strip
        TimelineSelection,    // translucent over the lanes
        TimelineSelectionEdge,
        TimelineCurrent,
        TimelineHover,
        TimelineDensity,      // density bars
        TimelineSpecial,      // deletes, tombstones and aborted brackets in the density and marks
        TimelineHeatLow,      // the heat strip runs from low …
        TimelineHeatHigh,     // … to high
        TimelineBracket,      // transaction brackets and markers
        TimelineCompacted,    // washes out an event compaction removes
        TimelineSurvives,     // frames an event compaction keeps
        TimelineOverviewBar,
        TimelineOutside,      // dims the overview outside the visible window
        TimelineNullKey,      // no key (colour by key) or no value (colour by size)
        // Marks coloured by operation (tapedeck::Operation).
        OperationRecord,
        OperationInsert,
        OperationUpdate,
        OperationDelete,
        OperationTruncate,
        OperationTransaction, // begin and commit
        OperationMessage,
        OperationRead,
        OperationUnknown,
        // Marks coloured by value size, small to large (viridis).
        Size0,
        Size1,
        Size2,
        Size3,
        Size4,
        Count
    };
    Q_ENUM(Role)

    // What a role is drawn as, for the readability test: text and marks must
    // stand out from what they are drawn on; fills carry text drawn on them;
    // lines only separate.
    enum class Kind { Text, Mark, Fill, Line };

    enum class Theme { Auto, Light, Dark };

    // The current set's colour (light before there is a QGuiApplication).
    static QColor color(Role role);
    static QColor color(Role role, bool dark);
    // "#rrggbb", for style sheets and rich text.
    static QString css(Role role) { return color(role).name(); }
    static bool isDark();
    static Kind kind(Role role);
    // What the role is drawn on in a set: another role, or the set's base (window) colour.
    static QColor background(Role role, bool dark);
    static QString name(Role role);

    // Dark and Light install an application palette of that lightness (the
    // Fusion style, which follows the palette), so that widgets and these
    // colours agree; Auto restores the style's own.
    static void setTheme(Theme theme);
    static std::optional<Theme> parseTheme(QStringView text);

    // Sets `templ` with %1, %2 … replaced by the roles' colours as the
    // widget's style sheet, and again whenever the set changes; an empty
    // template clears it.
    static void setStyleSheet(QWidget *widget, const QString &templ, const QList<Role> &roles = {});

    // Emits changed() when the application palette changes.
    static Palette *instance();

Q_SIGNALS:
    void changed();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    explicit Palette(QObject *parent);
    void update();
};

} // namespace tapedeck
