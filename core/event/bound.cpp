#include "core/event/bound.h"

#include <QDateTime>
#include <QTimeZone>

using namespace Qt::StringLiterals;

namespace tapedeck::bound {

namespace {

template<typename View>
std::optional<qint64> lsnOf(View text, qsizetype slash)
{
    if (slash <= 0 || slash == text.size() - 1 || slash > 8 || text.size() - slash - 1 > 8)
        return std::nullopt;
    bool okHi = false, okLo = false;
    const quint64 hi = text.first(slash).toULongLong(&okHi, 16);
    const quint64 lo = text.sliced(slash + 1).toULongLong(&okLo, 16);
    if (!okHi || !okLo || hi > 0x7fffffffULL)
        return std::nullopt;
    return qint64((hi << 32) | lo);
}

// A plain decimal number that is not negative ("+5" and " 5" are not).
std::optional<qint64> decimal(QStringView text)
{
    if (text.isEmpty() || !text.front().isDigit())
        return std::nullopt;
    bool ok = false;
    const qint64 v = text.toLongLong(&ok);
    return ok ? std::optional(v) : std::nullopt;
}

} // namespace

std::optional<qint64> parseLsn(QByteArrayView text)
{
    return lsnOf(text, text.indexOf('/'));
}

std::optional<qint64> parseLsn(QStringView text)
{
    return lsnOf(text, text.indexOf(u'/'));
}

QString formatLsn(qint64 lsn)
{
    if (lsn < 0)
        return u"?"_s;
    return QString::number(quint64(lsn) >> 32, 16).toUpper() + u'/'
        + QString::number(quint64(lsn) & 0xffffffffULL, 16).toUpper();
}

std::optional<qint64> parsePosition(QStringView text, QString *why)
{
    const QStringView t = text.trimmed();
    if (const auto offset = decimal(t))
        return offset;
    if (const auto lsn = parseLsn(t))
        return lsn;
    if (why)
        *why = u"\"%1\" is not a position: give an offset (a number from 0) or an LSN such as 16/B374D848"_s.arg(
            text.toString());
    return std::nullopt;
}

QString timeSyntax()
{
    return u"ms since the epoch or ISO 8601 such as 2026-12-07T10:15:00Z; a time without a zone is UTC"_s;
}

std::optional<qint64> parseTime(QStringView text, QString *why)
{
    QStringView t = text.trimmed();
    if (t.startsWith(u'@'))
        t = t.sliced(1);
    if (const auto ms = decimal(t))
        return ms;
    // "2026-12-07 10:15" is as common as the 'T' form in logs and psql output.
    QString iso = t.toString();
    if (iso.size() > 10 && iso.at(10) == u' ')
        iso[10] = u'T';
    QDateTime dt = QDateTime::fromString(iso, Qt::ISODateWithMs);
    if (!dt.isValid() && iso.size() == 10)
        dt = QDateTime(QDate::fromString(iso, Qt::ISODate), QTime(0, 0));
    if (dt.isValid()) {
        if (dt.timeSpec() == Qt::LocalTime)
            dt.setTimeZone(QTimeZone::utc()); // keeps the fields: the text is read as UTC
        return dt.toMSecsSinceEpoch();
    }
    if (why)
        *why = u"\"%1\" is not a time: give %2"_s.arg(text.toString(), timeSyntax());
    return std::nullopt;
}

QString formatTime(qint64 ms, Zone zone)
{
    const QDateTime t = zone == Zone::Utc ? QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::utc())
                                          : QDateTime::fromMSecsSinceEpoch(ms);
    return t.toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s);
}

QString formatIsoTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs); // Qt::UTC writes "Z"
}

} // namespace tapedeck::bound
