#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringView>

namespace tapedeck {

// Text from a log, made safe to print on a terminal or in a tab-separated
// line: a backslash becomes \\, tab, newline and carriage return become
// \t \n \r, and every other control character (C0, DEL, and the C1 range
// U+0080..U+009F, which some terminals obey as CSI/OSC) becomes \xHH or
// \u00HH, so an ESC sequence or a BEL in a record never reaches the
// terminal. Everything else, invalid UTF-8 included, stays byte for byte.
QByteArray printable(QByteArrayView utf8);
QString printable(QStringView text);

} // namespace tapedeck
