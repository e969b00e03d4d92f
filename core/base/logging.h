#pragma once

#include <QLoggingCategory>

// One logging category per component (STYLE.md, practice 12).
Q_DECLARE_LOGGING_CATEGORY(lcTape)
Q_DECLARE_LOGGING_CATEGORY(lcFilter)
