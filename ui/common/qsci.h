#pragma once

// QScintilla's headers use the `signals` and `slots` keywords, which
// QT_NO_KEYWORDS (set for the whole project) removes; include them only
// through this header, and only from .cpp files.
#define signals Q_SIGNALS
#define slots Q_SLOTS
#include <Qsci/qscilexerjavascript.h>
#include <Qsci/qsciscintilla.h>
#include <Qsci/qscistyle.h>
#undef signals
#undef slots
