#include "core/postgres/pgtypes.h"

#include <QRegularExpression>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace tapedeck {

QString PgServerInfo::logicalDecodingProblem() const
{
    if (walLevel != QLatin1String("logical"))
        return QStringLiteral("wal_level is '%1': logical decoding needs wal_level = logical in postgresql.conf "
                              "(or ALTER SYSTEM SET wal_level = logical) and a server restart").arg(walLevel);
    if (maxReplicationSlots <= 0)
        return QStringLiteral("max_replication_slots is 0: set it above 0 and restart the server");
    if (!superuser && !replicationRole)
        return QStringLiteral("the user has neither SUPERUSER nor REPLICATION: replication slots need one of them");
    return {};
}

QString PgServerInfo::pluginProblem(const QString &plugin) const
{
    if (outputPluginLibraries.isEmpty() || plugin == QLatin1String("pgoutput"))
        return {};
    const QStringList allowed = outputPluginLibraries.split(QLatin1Char(','), Qt::SkipEmptyParts);
    for (const QString &a : allowed) {
        if (a.trimmed() == plugin)
            return {};
    }
    return QStringLiteral("the server refuses %1 as an output plugin: add it to the setting output_plugin_libraries "
                          "(now '%2'; superuser, reload)").arg(plugin, outputPluginLibraries);
}

QString toString(PgReadMode mode)
{
    switch (mode) {
    case PgReadMode::Copy: return QStringLiteral("copy");
    case PgReadMode::Peek: return QStringLiteral("peek");
    case PgReadMode::Temporary: return QStringLiteral("temporary");
    case PgReadMode::Consume: return QStringLiteral("consume");
    }
    return {};
}

std::optional<PgReadMode> pgReadModeFromString(const QString &text)
{
    for (const PgReadMode m : {PgReadMode::Copy, PgReadMode::Peek, PgReadMode::Temporary, PgReadMode::Consume}) {
        if (toString(m) == text)
            return m;
    }
    return std::nullopt;
}

QString formatPgLsn(qint64 lsn)
{
    if (lsn < 0)
        return QStringLiteral("?");
    return QString::number(quint64(lsn) >> 32, 16).toUpper() + QLatin1Char('/')
        + QString::number(quint64(lsn) & 0xffffffffULL, 16).toUpper();
}

namespace {

bool isUri(const QString &dsn)
{
    return dsn.startsWith(u"postgresql://"_s) || dsn.startsWith(u"postgres://"_s);
}

} // namespace

QString pgDsnWithoutPassword(const QString &dsn, bool *hadPassword)
{
    bool had = false;
    QString out = dsn.trimmed();
    if (isUri(out)) {
        // userinfo "user:password@" ends at the last '@' before the path or the query.
        const qsizetype start = out.indexOf(u"://"_s) + 3;
        qsizetype end = out.indexOf(QRegularExpression(u"[/?]"_s), start);
        if (end < 0)
            end = out.size();
        const qsizetype at = out.lastIndexOf(u'@', end - 1);
        if (at >= start) {
            const qsizetype colon = out.indexOf(u':', start);
            if (colon >= 0 && colon < at) {
                out.remove(colon, at - colon);
                had = true;
            }
        }
        static const QRegularExpression param(u"([?&])password=[^&]*&?"_s);
        for (auto m = param.match(out); m.hasMatch(); m = param.match(out)) {
            out.replace(m.capturedStart(), m.capturedLength(), m.captured(1));
            had = true;
        }
        if (out.endsWith(u'?') || out.endsWith(u'&'))
            out.chop(1);
    } else {
        static const QRegularExpression keyword(uR"((^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S*))"_s);
        for (auto m = keyword.match(out); m.hasMatch(); m = keyword.match(out)) {
            out.remove(m.capturedStart(), m.capturedLength());
            had = true;
        }
        out = out.simplified();
    }
    if (hadPassword)
        *hadPassword = had;
    return out;
}

QString pgDsnWithPassword(const QString &dsn, const QString &password)
{
    const QString base = dsn.trimmed();
    if (password.isEmpty())
        return base;
    if (isUri(base)) {
        const QString encoded = QString::fromLatin1(QUrl::toPercentEncoding(password));
        return base + (base.contains(u'?') ? u"&password="_s : u"?password="_s) + encoded;
    }
    QString quoted = password;
    quoted.replace(u"\\"_s, u"\\\\"_s).replace(u"'"_s, u"\\'"_s);
    return (base.isEmpty() ? QString() : base + u' ') + u"password='"_s + quoted + u'\'';
}

QString pgDsnProblem(const QString &dsn)
{
    const QString s = dsn.trimmed();
    if (s.isEmpty() || isUri(s)) {
        if (s.contains(QRegularExpression(u"\\s"_s)))
            return u"a URI cannot contain spaces (percent-encode them as %20)"_s;
        return {};
    }
    if (s.contains(u"://"_s))
        return u"a URI starts with postgresql:// or postgres://"_s;
    // keyword = value pairs, values bare or in single quotes with \' and \\ escapes.
    qsizetype i = 0;
    while (i < s.size()) {
        while (i < s.size() && s.at(i).isSpace())
            ++i;
        if (i == s.size())
            break;
        const qsizetype keyStart = i;
        while (i < s.size() && (s.at(i).isLetterOrNumber() || s.at(i) == u'_'))
            ++i;
        if (i == keyStart)
            return u"expected a keyword at character %1 (host=… dbname=… or a postgresql:// URI)"_s.arg(keyStart + 1);
        const QString key = s.mid(keyStart, i - keyStart);
        while (i < s.size() && s.at(i).isSpace())
            ++i;
        if (i == s.size() || s.at(i) != u'=')
            return u"\"%1\" at character %2 needs a value: %1=…"_s.arg(key).arg(keyStart + 1);
        ++i;
        while (i < s.size() && s.at(i).isSpace())
            ++i;
        if (i < s.size() && s.at(i) == u'\'') {
            ++i;
            bool closed = false;
            while (i < s.size()) {
                if (s.at(i) == u'\\') {
                    i += 2;
                    continue;
                }
                if (s.at(i++) == u'\'') {
                    closed = true;
                    break;
                }
            }
            if (!closed)
                return u"the quoted value of \"%1\" is not closed with '"_s.arg(key);
        } else {
            while (i < s.size() && !s.at(i).isSpace())
                ++i;
        }
    }
    return {};
}

} // namespace tapedeck
