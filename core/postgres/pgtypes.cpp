#include "core/postgres/pgtypes.h"

#include <QRegularExpression>
#include <QUrl>

#include <algorithm>

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

namespace {

enum class Modifier { None, Length, Precision, NumericScale };

struct TypeName
{
    const char *spelling; // lower case, single spaces
    Modifier modifier;
};

// PostgreSQL's built-in types as format_type() prints them, with their
// common aliases. Modifiers: a length (n), a precision (p) or numeric's (p, s).
constexpr TypeName KnownTypes[] = {
    {"bigint", Modifier::None}, {"int8", Modifier::None}, {"bigserial", Modifier::None},
    {"integer", Modifier::None}, {"int", Modifier::None}, {"int4", Modifier::None}, {"serial", Modifier::None},
    {"smallint", Modifier::None}, {"int2", Modifier::None}, {"smallserial", Modifier::None},
    {"boolean", Modifier::None}, {"bool", Modifier::None},
    {"real", Modifier::None}, {"float4", Modifier::None}, {"double precision", Modifier::None}, {"float8", Modifier::None},
    {"float", Modifier::Precision},
    {"numeric", Modifier::NumericScale}, {"decimal", Modifier::NumericScale}, {"money", Modifier::None},
    {"text", Modifier::None}, {"name", Modifier::None}, {"\"char\"", Modifier::None}, {"citext", Modifier::None},
    {"character varying", Modifier::Length}, {"varchar", Modifier::Length},
    {"character", Modifier::Length}, {"char", Modifier::Length}, {"bpchar", Modifier::Length},
    {"bit", Modifier::Length}, {"bit varying", Modifier::Length}, {"varbit", Modifier::Length},
    {"bytea", Modifier::None}, {"uuid", Modifier::None}, {"json", Modifier::None}, {"jsonb", Modifier::None},
    {"xml", Modifier::None}, {"inet", Modifier::None}, {"cidr", Modifier::None}, {"macaddr", Modifier::None},
    {"macaddr8", Modifier::None}, {"oid", Modifier::None}, {"pg_lsn", Modifier::None},
    {"tsvector", Modifier::None}, {"tsquery", Modifier::None},
    {"point", Modifier::None}, {"line", Modifier::None}, {"lseg", Modifier::None}, {"box", Modifier::None},
    {"path", Modifier::None}, {"polygon", Modifier::None}, {"circle", Modifier::None},
    {"int4range", Modifier::None}, {"int8range", Modifier::None}, {"numrange", Modifier::None},
    {"tsrange", Modifier::None}, {"tstzrange", Modifier::None}, {"daterange", Modifier::None},
    {"date", Modifier::None}, {"interval", Modifier::Precision},
    {"time", Modifier::Precision}, {"timetz", Modifier::Precision},
    {"timestamp", Modifier::Precision}, {"timestamptz", Modifier::Precision},
};

} // namespace

std::optional<QString> pgTypeForCreate(const QString &type)
{
    // Words, a parenthesised list of numbers, and "[]"/"[n]" pairs; nothing else.
    QString text = type.trimmed().toLower();
    int dims = 0;
    while (text.endsWith(u']')) {
        const qsizetype open = text.lastIndexOf(u'[');
        if (open < 0)
            return std::nullopt;
        const QStringView inside = QStringView(text).mid(open + 1, text.size() - open - 2);
        if (!std::all_of(inside.begin(), inside.end(), [](QChar c) { return c >= u'0' && c <= u'9'; }))
            return std::nullopt;
        text = text.left(open).trimmed();
        if (++dims > 6)
            return std::nullopt;
    }
    QList<int> numbers;
    QString words = text;
    if (const qsizetype open = text.indexOf(u'('); open >= 0) {
        const qsizetype close = text.indexOf(u')', open);
        if (close < 0 || text.indexOf(u'(', open + 1) >= 0 || text.indexOf(u')', close + 1) >= 0)
            return std::nullopt;
        for (const QString &part : text.mid(open + 1, close - open - 1).split(u',')) {
            const QString digits = part.trimmed();
            bool ok = !digits.isEmpty() && digits.size() <= 5
                      && std::all_of(digits.begin(), digits.end(), [](QChar c) { return c >= u'0' && c <= u'9'; });
            if (!ok)
                return std::nullopt;
            numbers.append(digits.toInt());
        }
        words = text.left(open) + u' ' + text.mid(close + 1);
    }
    words = words.simplified();
    // "timestamp(3) with time zone": the zone words follow the modifier.
    QString zone;
    for (const QString &suffix : {u" with time zone"_s, u" without time zone"_s}) {
        if (words.endsWith(suffix) && (words.startsWith(u"time ") || words.startsWith(u"timestamp "))) {
            zone = suffix;
            words.chop(suffix.size());
        }
    }
    const auto known = std::find_if(std::begin(KnownTypes), std::end(KnownTypes),
                                    [&](const TypeName &t) { return words == QLatin1StringView(t.spelling); });
    if (known == std::end(KnownTypes))
        return std::nullopt;
    const qsizetype allowed = known->modifier == Modifier::None ? 0 : known->modifier == Modifier::NumericScale ? 2 : 1;
    if (numbers.size() > allowed)
        return std::nullopt;
    QString out = words;
    if (!numbers.isEmpty()) {
        out += u'(';
        for (qsizetype i = 0; i < numbers.size(); ++i)
            out += (i ? u","_s : QString()) + QString::number(numbers[i]);
        out += u')';
    }
    out += zone;
    for (int d = 0; d < dims; ++d)
        out += u"[]";
    return out;
}

} // namespace tapedeck
