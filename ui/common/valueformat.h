#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace tapedeck {

// Text forms of raw keys and values, shared by the table and the detail pane.
// Pure functions: no state, no widgets, tested through the model and pane tests.
namespace ValueFormat {

// True when `bytes` is valid UTF-8 without control characters other than tab, CR, LF.
bool isText(QByteArrayView bytes);

// One line of at most `maxChars` characters (plus "…" when cut). Text is
// decoded as UTF-8 with line breaks and tabs shown as spaces; anything else
// is escaped like a Python bytes literal: printable ASCII kept, other bytes
// as \xNN.
QString preview(QByteArrayView bytes, int maxChars = 200);

// Bytes escaped as in preview(), without a length limit.
QString escaped(QByteArrayView bytes, int maxChars = -1);

// xxd-style dump: "00000000: 7b22 6122 3a31 7d0a  {"a":1}." 16 bytes a line.
// Stops after `maxBytes` bytes with a note.
QString hexDump(QByteArrayView bytes, int maxBytes = 1 << 20);

// Re-indents JSON (4 spaces, `"key": value`, as QJsonDocument::Indented)
// keeping the original key order and number spelling. Returns a null
// QString when `bytes` is not a JSON object or array.
QString prettyJson(QByteArrayView bytes);

// "1.2 kB" style sizes (SI units, as file managers show them).
QString humanSize(qint64 bytes);

// "1 batch", "2 batches", "1,234 errors": the number in the locale, the noun agreeing.
QString count(qint64 n, const QString &one, const QString &many);

} // namespace ValueFormat

} // namespace tapedeck
