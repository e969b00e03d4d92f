#pragma once

#include <QByteArrayView>
#include <QString>
#include <QStringView>

#include <optional>

namespace tapedeck {

// One vocabulary for "where in a log", shared by the CLI and the GUI: an
// offset, a PostgreSQL LSN ("16/B374D848") or a time. Every parser of
// positions and times goes through here, so a text means the same in
// `tape replay --from`, the replay dialog, `tape state --at` and the
// Kafka record dialog.
//
// The one rule for times: milliseconds since the epoch, or ISO 8601 with
// "T" or a space between date and time, seconds and milliseconds optional,
// or a date alone (midnight). **A time without a zone is UTC** (tapes store
// UTC, and the same command must mean the same on every machine); write
// "Z", "+01:00" or "-05:00" for another zone. Error texts say so.
namespace bound {

// "16/B374D848": hex, at most 8 digits either side, high part below 2^31.
std::optional<qint64> parseLsn(QByteArrayView text);
std::optional<qint64> parseLsn(QStringView text);
// "16/B374D848"; "?" for a negative (unknown) LSN.
QString formatLsn(qint64 lsn);

// An offset (decimal, not negative) or an LSN.
std::optional<qint64> parsePosition(QStringView text, QString *why = nullptr);

// Milliseconds since the epoch (not negative) or ISO 8601 as above. A
// leading '@' (the CLI's and the Kafka dialog's marker of a time) is
// accepted and ignored.
std::optional<qint64> parseTime(QStringView text, QString *why = nullptr);

// What parseTime accepts, for help texts and error messages.
QString timeSyntax();

enum class Zone { Utc, Local };
// "2026-12-07 10:15:00.123" in the given zone, for tables and reports.
QString formatTime(qint64 ms, Zone zone);
// "2026-12-07T10:15:00.123Z": ISO 8601 in UTC, which parseTime reads back.
QString formatIsoTime(qint64 ms);

} // namespace bound
} // namespace tapedeck
