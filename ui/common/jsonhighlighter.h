#pragma once

#include <QRegularExpression>
#include <QSyntaxHighlighter>
#include <QTextCharFormat>

namespace tapedeck {

// Colours pretty-printed JSON: keys, strings, numbers and true/false/null.
// Works line by line, which is exact for the one-token-per-line layout of
// ValueFormat::prettyJson(). Thread: GUI thread.
class JsonHighlighter : public QSyntaxHighlighter
{
    Q_OBJECT
public:
    explicit JsonHighlighter(QTextDocument *document);

    void setEnabled(bool enabled);
    bool isEnabled() const { return m_enabled; }

    QTextCharFormat keyFormat() const { return m_key; }
    QTextCharFormat stringFormat() const { return m_string; }
    QTextCharFormat numberFormat() const { return m_number; }
    QTextCharFormat literalFormat() const { return m_literal; }

private Q_SLOTS:
    void applyColours();

protected:
    void highlightBlock(const QString &text) override;

private:
    bool m_enabled = true;
    QTextCharFormat m_key, m_string, m_number, m_literal;
    QRegularExpression m_tokens;
};

} // namespace tapedeck
