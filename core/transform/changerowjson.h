#pragma once

#include "core/event/event.h"

#include <QByteArray>
#include <QStringList>

namespace tapedeck {

// A change event's row as a JSON object, as tapes store change events' keys
// and values: numbers stay numbers (their exact text), booleans become
// true/false, everything else a string; unchanged TOASTed columns are left
// out (their value was not sent), never written as null. With `onlyColumns`,
// just those (a key). pgchange::rowJson() is this.
QByteArray changeRowJson(const Row &row, const QStringList &onlyColumns = {});

} // namespace tapedeck
