#include "ui/common/jsonhighlighter.h"

#include "ui/common/palette.h"

using namespace Qt::StringLiterals;

namespace tapedeck {

JsonHighlighter::JsonHighlighter(QTextDocument *document)
    : QSyntaxHighlighter(document)
    // One pass over alternatives, so a number inside a string is never coloured.
    , m_tokens(u"(\"(?:[^\"\\\\]|\\\\.)*\")(\\s*:)?|(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)|\\b(true|false|null)\\b"_s)
{
    m_key.setFontWeight(QFont::DemiBold);
    m_literal.setFontWeight(QFont::DemiBold);
    applyColours();
    connect(Palette::instance(), &Palette::changed, this, [this] {
        applyColours();
        rehighlight();
    });
}

void JsonHighlighter::applyColours()
{
    m_key.setForeground(Palette::color(Palette::Role::JsonKey));
    m_string.setForeground(Palette::color(Palette::Role::JsonString));
    m_number.setForeground(Palette::color(Palette::Role::JsonNumber));
    m_literal.setForeground(Palette::color(Palette::Role::JsonLiteral));
}

void JsonHighlighter::setEnabled(bool enabled)
{
    if (enabled == m_enabled)
        return;
    m_enabled = enabled;
    rehighlight();
}

void JsonHighlighter::highlightBlock(const QString &text)
{
    if (!m_enabled)
        return;
    auto it = m_tokens.globalMatch(text);
    while (it.hasNext()) {
        const QRegularExpressionMatch m = it.next();
        if (m.capturedLength(1) > 0)
            setFormat(int(m.capturedStart(1)), int(m.capturedLength(1)), m.capturedLength(2) > 0 ? m_key : m_string);
        else if (m.capturedLength(3) > 0)
            setFormat(int(m.capturedStart(3)), int(m.capturedLength(3)), m_number);
        else if (m.capturedLength(4) > 0)
            setFormat(int(m.capturedStart(4)), int(m.capturedLength(4)), m_literal);
    }
}

} // namespace tapedeck
