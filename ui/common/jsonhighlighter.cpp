#include "ui/common/jsonhighlighter.h"

using namespace Qt::StringLiterals;

namespace tapedeck {

JsonHighlighter::JsonHighlighter(QTextDocument *document)
    : QSyntaxHighlighter(document)
    // One pass over alternatives, so a number inside a string is never coloured.
    , m_tokens(u"(\"(?:[^\"\\\\]|\\\\.)*\")(\\s*:)?|(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)|\\b(true|false|null)\\b"_s)
{
    m_key.setForeground(QColor(0x88, 0x1c, 0x8c));
    m_key.setFontWeight(QFont::DemiBold);
    m_string.setForeground(QColor(0x1a, 0x7f, 0x37));
    m_number.setForeground(QColor(0x0b, 0x5c, 0xad));
    m_literal.setForeground(QColor(0xb3, 0x5c, 0x00));
    m_literal.setFontWeight(QFont::DemiBold);
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
