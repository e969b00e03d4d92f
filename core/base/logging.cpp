#include "core/base/logging.h"

Q_LOGGING_CATEGORY(lcTape, "tapedeck.tape")
Q_LOGGING_CATEGORY(lcFilter, "tapedeck.filter")
