#include "ui/common/palette.h"

#include <QMetaEnum>
#include <QApplication>
#include <QEvent>
#include <QPalette>
#include <QPointer>
#include <QStyle>
#include <QStyleFactory>
#include <QVariant>
#include <QWidget>

#include <array>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

using Role = Palette::Role;
using Kind = Palette::Kind;

// What a role is drawn on: another role, or (Role::Count) the set's base.
struct Entry
{
    Role role;
    Kind kind;
    QRgb light;
    QRgb dark;
    Role on = Role::Count;
};

constexpr QRgb rgb(int r, int g, int b, int a = 255) { return qRgba(r, g, b, a); }
constexpr QRgb hex(unsigned v, int a = 255) { return qRgba(int(v >> 16) & 0xff, int(v >> 8) & 0xff, int(v) & 0xff, a); }

// The light set is what the GUI drew before the palette existed, value for
// value, except Size0 (viridis' yellow was 1.2:1 on the timeline's white; now
// a darker gold, 2:1); the dark set keeps each hue and is lighter where light
// was dark. tst_palette checks every role's contrast in both sets.
// clang-format off
constexpr std::array<Entry, size_t(Role::Count)> kEntries = {{
    {Role::Error,                           Kind::Text, hex(0xa01010), hex(0xff7b72)},
    {Role::ErrorBackground,                 Kind::Fill, hex(0xfbeaea), hex(0x4a2326)},
    {Role::Warning,                         Kind::Text, hex(0xa05000), hex(0xe8a25a)},
    {Role::Notice,                          Kind::Text, hex(0x7a5a00), hex(0xd9b44a)},
    {Role::NoticeText,                      Kind::Text, hex(0x7a4000), hex(0xf0c27a), Role::NoticeBackground},
    {Role::NoticeBackground,                Kind::Fill, hex(0xfff4dc), hex(0x3d3220)},
    {Role::Failure,                         Kind::Text, hex(0xb02020), hex(0xff7b72)},
    {Role::Success,                         Kind::Text, hex(0x207020), hex(0x6fcf6f)},
    {Role::Tombstone,                       Kind::Text, hex(0x808080), hex(0x9a9da3)},
    {Role::Aborted,                         Kind::Text, hex(0xb03030), hex(0xff8a80)},
    {Role::FilterBusy,                      Kind::Fill, hex(0xfff6c8), hex(0x4a4220)},
    {Role::FilterInvalid,                   Kind::Fill, hex(0xffcccc), hex(0x5a2a2a)},
    {Role::FilterValid,                     Kind::Fill, hex(0xafffaf), hex(0x1f4a25)},
    {Role::FilterText,                      Kind::Text, hex(0x000000), hex(0xf0f0f0), Role::FilterInvalid},
    {Role::FilterError,                     Kind::Text, hex(0xa00000), hex(0xff6b6b)},
    {Role::JsonKey,                         Kind::Text, hex(0x881c8c), hex(0xd68fe0)},
    {Role::JsonString,                      Kind::Text, hex(0x1a7f37), hex(0x7ee787)},
    {Role::JsonNumber,                      Kind::Text, hex(0x0b5cad), hex(0x79c0ff)},
    {Role::JsonLiteral,                     Kind::Text, hex(0xb35c00), hex(0xffa657)},
    {Role::CompactionInvalid,               Kind::Text, hex(0xc0392b), hex(0xff7b72), Role::CompactionInvalidBackground},
    {Role::CompactionInvalidBackground,     Kind::Fill, hex(0xfdecea), hex(0x4a2326)},
    {Role::CompactionKept,                  Kind::Text, hex(0x1e8449), hex(0x5fd38d)},
    {Role::CompactionRemoved,               Kind::Text, hex(0x909090), hex(0x8c8f94)},
    {Role::ChangedRow,                      Kind::Fill, hex(0xffe8a0), hex(0x5a4a1a)},
    {Role::DiffMissing,                     Kind::Text, hex(0xb02020), hex(0xff7b72)},
    {Role::DiffExtra,                       Kind::Text, hex(0x2050b0), hex(0x79a8ff)},
    {Role::DiffDiffers,                     Kind::Text, hex(0xa06000), hex(0xe0a040)},
    {Role::PreviewNoOutput,                 Kind::Text, hex(0x808080), hex(0x9a9da3)},
    {Role::PreviewFailed,                   Kind::Text, hex(0xb02020), hex(0xff7b72)},
    {Role::ConsoleLog,                      Kind::Text, hex(0x303030), hex(0xd0d0d0)},
    {Role::ConsoleWarn,                     Kind::Text, hex(0xa06000), hex(0xe0a040)},
    {Role::ConsoleTime,                     Kind::Text, hex(0x808080), hex(0x8c8f94)},
    {Role::EditorMargin,                    Kind::Text, hex(0x808080), hex(0x8c8f94)},
    {Role::EditorPaper,                     Kind::Fill, hex(0xffffff), hex(0x1e1f22)},
    {Role::EditorGutter,                    Kind::Fill, hex(0xefefef), hex(0x2b2d30)},
    {Role::EditorText,                      Kind::Text, hex(0x000000), hex(0xdfe1e5), Role::EditorPaper},
    {Role::EditorKeyword,                   Kind::Text, hex(0x00007f), hex(0x79a8ff), Role::EditorPaper},
    {Role::EditorComment,                   Kind::Text, hex(0x007f00), hex(0x7fb87f), Role::EditorPaper},
    {Role::EditorString,                    Kind::Text, hex(0x7f007f), hex(0xd68fe0), Role::EditorPaper},
    {Role::EditorNumber,                    Kind::Text, hex(0x007f7f), hex(0x56c8c8), Role::EditorPaper},
    {Role::EditorCaretLine,                 Kind::Fill, hex(0xf4f4f8), hex(0x2a2c31)},
    {Role::EditorErrorMarker,               Kind::Mark, hex(0xd03030), hex(0xe05050)},
    {Role::EditorErrorMarkerText,           Kind::Line, hex(0x901010), hex(0xffb0b0)},
    {Role::EditorErrorAnnotation,           Kind::Text, hex(0x901010), hex(0xffb0b0), Role::EditorErrorAnnotationBackground},
    {Role::EditorErrorAnnotationBackground, Kind::Fill, hex(0xffe8e8), hex(0x4a2326)},
    {Role::TimelineBackground,              Kind::Fill, hex(0xfcfcfd), hex(0x1e1f22)},
    {Role::TimelineGroup,                   Kind::Fill, hex(0xeef2f7), hex(0x2b3038)},
    {Role::TimelineAlternate,               Kind::Fill, hex(0xf5f6f8), hex(0x24262a)},
    {Role::TimelineGrid,                    Kind::Line, hex(0xe3e6ea), hex(0x3a3d42)},
    {Role::TimelineText,                    Kind::Text, hex(0x222222), hex(0xdfe1e5), Role::TimelineGroup},
    {Role::TimelineDim,                     Kind::Text, hex(0x707680), hex(0x9aa0aa), Role::TimelineRuler},
    {Role::TimelineRuler,                   Kind::Fill, hex(0xf0f1f3), hex(0x2b2d30)},
    {Role::TimelineSelection,               Kind::Line, rgb(60, 120, 220, 48), rgb(90, 150, 255, 60)},
    {Role::TimelineSelectionEdge,           Kind::Mark, rgb(40, 90, 190), hex(0x6fa0ff), Role::TimelineBackground},
    {Role::TimelineCurrent,                 Kind::Mark, hex(0xe67e22), hex(0xf39c42), Role::TimelineBackground},
    {Role::TimelineHover,                   Kind::Line, rgb(0, 0, 0, 90), rgb(255, 255, 255, 110)},
    {Role::TimelineDensity,                 Kind::Mark, hex(0x3b6eb4), hex(0x5b8ed4), Role::TimelineBackground},
    {Role::TimelineSpecial,                 Kind::Mark, hex(0xc0392b), hex(0xff6b5b), Role::TimelineBackground},
    {Role::TimelineHeatLow,                 Kind::Line, hex(0xe8f0fa), hex(0x1f2a3a)},
    {Role::TimelineHeatHigh,                Kind::Mark, hex(0x08306b), hex(0x9cc8ff), Role::TimelineBackground},
    {Role::TimelineBracket,                 Kind::Mark, hex(0x444c58), hex(0xa8b0bc), Role::TimelineBackground},
    {Role::TimelineCompacted,               Kind::Line, hex(0xfcfcfd, 200), hex(0x1e1f22, 200)},
    {Role::TimelineSurvives,                Kind::Mark, hex(0x1e8449), hex(0x5fd38d), Role::TimelineBackground},
    {Role::TimelineOverviewBar,             Kind::Mark, hex(0x8a93a0), hex(0x7d8693), Role::TimelineRuler},
    {Role::TimelineOutside,                 Kind::Line, rgb(255, 255, 255, 140), rgb(0, 0, 0, 120)},
    {Role::TimelineNullKey,                 Kind::Mark, hex(0x9aa0a6), hex(0x8a9096), Role::TimelineBackground},
    {Role::OperationRecord,                 Kind::Mark, hex(0x3b6eb4), hex(0x5b8ed4), Role::TimelineBackground},
    {Role::OperationInsert,                 Kind::Mark, hex(0x2e9d57), hex(0x4cc47a), Role::TimelineBackground},
    {Role::OperationUpdate,                 Kind::Mark, hex(0xe09b2d), hex(0xf0b04a), Role::TimelineBackground},
    {Role::OperationDelete,                 Kind::Mark, hex(0xc0392b), hex(0xff6b5b), Role::TimelineBackground},
    {Role::OperationTruncate,               Kind::Mark, hex(0x7f1d1d), hex(0xd05050), Role::TimelineBackground},
    {Role::OperationTransaction,            Kind::Mark, hex(0x555b66), hex(0x9aa0aa), Role::TimelineBackground},
    {Role::OperationMessage,                Kind::Mark, hex(0x8e44ad), hex(0xb77bd6), Role::TimelineBackground},
    {Role::OperationRead,                   Kind::Mark, hex(0x16a085), hex(0x2ed0b0), Role::TimelineBackground},
    {Role::OperationUnknown,                Kind::Mark, hex(0xa0a0a4), hex(0x8a8a8e), Role::TimelineBackground},
    {Role::Size0,                           Kind::Mark, hex(0xc8b400), hex(0xf0e442), Role::TimelineBackground},
    {Role::Size1,                           Kind::Mark, hex(0x5ec962), hex(0x7ad67c), Role::TimelineBackground},
    {Role::Size2,                           Kind::Mark, hex(0x21918c), hex(0x35b7ae), Role::TimelineBackground},
    {Role::Size3,                           Kind::Mark, hex(0x3b528b), hex(0x6f8fd8), Role::TimelineBackground},
    {Role::Size4,                           Kind::Mark, hex(0x440154), hex(0xb57be8), Role::TimelineBackground},
}};
// clang-format on

constexpr bool inOrder()
{
    for (size_t i = 0; i < kEntries.size(); ++i) {
        if (size_t(kEntries[i].role) != i)
            return false;
    }
    return true;
}
static_assert(inOrder(), "kEntries lists every role once, in the enum's order");

// The base a role without `on` is drawn on: a view's base in light; in dark
// the base of darkPalette(), and text on a window is checked there too.
constexpr QRgb kLightBase = hex(0xffffff);
constexpr QRgb kDarkBase = hex(0x1e1f22);
constexpr QRgb kDarkWindow = hex(0x2b2d30);
constexpr QRgb kDarkText = hex(0xdfe1e5);

QPalette darkPalette()
{
    const QColor window(kDarkWindow), base(kDarkBase), text(kDarkText);
    QPalette p(text, QColor(hex(0x3a3d41)), QColor(hex(0x55585d)), QColor(hex(0x18191b)), QColor(hex(0x2f3134)), text,
               QColor(Qt::white), base, window);
    p.setColor(QPalette::AlternateBase, QColor(hex(0x26282b)));
    p.setColor(QPalette::ToolTipBase, QColor(hex(0x3a3d41)));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(hex(0x8c8f94)));
    p.setColor(QPalette::Highlight, QColor(hex(0x2f65ca)));
    p.setColor(QPalette::HighlightedText, QColor(Qt::white));
    p.setColor(QPalette::Link, QColor(hex(0x79a8ff)));
    p.setColor(QPalette::LinkVisited, QColor(hex(0xb77bd6)));
    const QColor disabled(hex(0x74777c));
    for (QPalette::ColorRole r : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, r, disabled);
    return p;
}

QPointer<Palette> s_instance;
bool s_dark = false;

bool applicationIsDark()
{
    return qobject_cast<QGuiApplication *>(QCoreApplication::instance())
           && QGuiApplication::palette().color(QPalette::Window).lightness() < 128;
}

const char *const TemplateProperty = "tapedeckPaletteTemplate";
const char *const RolesProperty = "tapedeckPaletteRoles";

void applyStyleSheet(QWidget *widget)
{
    QString text = widget->property(TemplateProperty).toString();
    if (!text.isEmpty()) {
        const QVariantList roles = widget->property(RolesProperty).toList();
        for (const QVariant &r : roles)
            text = text.arg(Palette::css(Role(r.toInt())));
    }
    widget->setStyleSheet(text);
}

} // namespace

Palette::Palette(QObject *parent)
    : QObject(parent)
{
    s_dark = applicationIsDark();
    parent->installEventFilter(this);
}

Palette *Palette::instance()
{
    if (!s_instance && qobject_cast<QGuiApplication *>(QCoreApplication::instance()))
        s_instance = new Palette(QCoreApplication::instance());
    return s_instance;
}

QColor Palette::color(Role role)
{
    instance();
    return color(role, s_dark);
}

QColor Palette::color(Role role, bool dark)
{
    const Entry &e = kEntries.at(size_t(role));
    return QColor::fromRgba(dark ? e.dark : e.light);
}

bool Palette::isDark()
{
    instance();
    return s_dark;
}

Palette::Kind Palette::kind(Role role)
{
    return kEntries.at(size_t(role)).kind;
}

QColor Palette::background(Role role, bool dark)
{
    const Role on = kEntries.at(size_t(role)).on;
    if (on != Role::Count)
        return color(on, dark);
    return QColor::fromRgba(dark ? kDarkBase : kLightBase);
}

QString Palette::name(Role role)
{
    return QString::fromLatin1(QMetaEnum::fromType<Role>().valueToKey(int(role)));
}

void Palette::setTheme(Theme theme)
{
    auto *app = qobject_cast<QApplication *>(QCoreApplication::instance());
    if (!app)
        return;
    if (theme == Theme::Auto) {
        QApplication::setPalette(QApplication::style()->standardPalette());
        return;
    }
    // Fusion draws with the palette; some platform styles ignore it.
    if (QStyle *fusion = QStyleFactory::create(u"Fusion"_s))
        QApplication::setStyle(fusion);
    QApplication::setPalette(theme == Theme::Dark ? darkPalette() : QApplication::style()->standardPalette());
}

std::optional<Palette::Theme> Palette::parseTheme(QStringView text)
{
    if (text == u"auto")
        return Theme::Auto;
    if (text == u"light")
        return Theme::Light;
    if (text == u"dark")
        return Theme::Dark;
    return std::nullopt;
}

void Palette::setStyleSheet(QWidget *widget, const QString &templ, const QList<Role> &roles)
{
    QVariantList ids;
    for (Role r : roles)
        ids.append(int(r));
    widget->setProperty(TemplateProperty, templ);
    widget->setProperty(RolesProperty, ids);
    applyStyleSheet(widget);
}

bool Palette::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == parent() && event->type() == QEvent::ApplicationPaletteChange)
        update();
    return QObject::eventFilter(watched, event);
}

void Palette::update()
{
    s_dark = applicationIsDark();
    for (QWidget *w : QApplication::allWidgets()) {
        if (w->property(TemplateProperty).isValid())
            applyStyleSheet(w);
    }
    Q_EMIT changed();
}

} // namespace tapedeck
