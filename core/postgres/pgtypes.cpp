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

namespace {

// The keywords that hold a secret, in conninfo and as URI parameters.
bool isSecretKeyword(const QString &name)
{
    return name == u"password" || name == u"sslpassword";
}

// A URI's parts: "scheme://[user[:password]@]hosts[/db][?params]".
struct UriParts
{
    qsizetype userStart = 0; // after "://"
    qsizetype at = -1;       // the '@' that ends the user info, -1 none
    qsizetype colon = -1;    // the ':' before the password, -1 none
    qsizetype query = -1;    // the '?', -1 none
};

UriParts uriParts(const QString &uri)
{
    UriParts u;
    u.userStart = uri.indexOf(u"://"_s) + 3;
    u.query = uri.indexOf(u'?', u.userStart);
    qsizetype end = uri.indexOf(QRegularExpression(u"[/?]"_s), u.userStart);
    if (end < 0)
        end = uri.size();
    // userinfo "user:password@" ends at the last '@' before the path or the query.
    u.at = uri.lastIndexOf(u'@', end - 1);
    if (u.at < u.userStart)
        u.at = -1;
    if (u.at >= 0) {
        u.colon = uri.indexOf(u':', u.userStart);
        if (u.colon >= u.at)
            u.colon = -1;
    }
    return u;
}

// "name=value" pairs of a URI query, names percent-decoded (libpq decodes
// them too, so "pass%77ord" is a password).
QList<std::pair<QString, QString>> uriParams(const QString &uri, const UriParts &u)
{
    QList<std::pair<QString, QString>> out;
    if (u.query < 0)
        return out;
    for (const QString &part : uri.mid(u.query + 1).split(u'&')) {
        const qsizetype eq = part.indexOf(u'=');
        const QString name = QUrl::fromPercentEncoding(part.left(eq < 0 ? part.size() : eq).toUtf8());
        out.append({name, eq < 0 ? QString() : part.mid(eq + 1)});
    }
    return out;
}

// conninfo "keyword = value" pairs with their spans, values unquoted.
struct ConninfoPair
{
    QString keyword, value;
    qsizetype start = 0, end = 0;
};

QList<ConninfoPair> conninfoPairs(const QString &s)
{
    static const QRegularExpression pair(uR"(([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('((?:[^'\\]|\\.)*)'|\S*))"_s);
    QList<ConninfoPair> out;
    for (auto it = pair.globalMatch(s); it.hasNext();) {
        const auto m = it.next();
        QString value = m.captured(3).isNull() ? m.captured(2) : m.captured(3);
        if (!m.captured(3).isNull())
            value.replace(QRegularExpression(uR"(\\(.))"_s), u"\\1"_s);
        out.append({m.captured(1), value, m.capturedStart(), m.capturedEnd()});
    }
    return out;
}

} // namespace

QString pgDsnWithoutPassword(const QString &dsn, bool *hadPassword)
{
    bool had = false;
    QString out = dsn.trimmed();
    if (isUri(out)) {
        const UriParts u = uriParts(out);
        QString query;
        for (const auto &[name, value] : uriParams(out, u)) {
            if (isSecretKeyword(name)) {
                had = true;
                continue;
            }
            query += (query.isEmpty() ? u"?"_s : u"&"_s) + QString::fromLatin1(QUrl::toPercentEncoding(name)) + u'='
                + value;
        }
        QString head = u.query < 0 ? out : out.left(u.query);
        if (u.colon >= 0) {
            head.remove(u.colon, u.at - u.colon);
            had = true;
        }
        out = head + query;
    } else {
        // Until nothing is left: in a malformed string a removal can join
        // "password" and "= 'x'" into a new pair (found by fuzz_text).
        for (bool removed = true; removed;) {
            removed = false;
            const auto pairs = conninfoPairs(out);
            for (auto it = pairs.crbegin(); it != pairs.crend(); ++it) {
                if (isSecretKeyword(it->keyword)) {
                    out.remove(it->start, it->end - it->start);
                    removed = had = true;
                }
            }
            // Only after a removal, and checked again: simplifying also
            // changes what a backslash before a newline escapes (fuzz_text).
            if (removed)
                out = out.simplified();
        }
    }
    if (hadPassword)
        *hadPassword = had;
    return out;
}

QStringList pgDsnSecrets(const QString &dsn)
{
    QStringList secrets;
    auto add = [&](const QString &raw) {
        const QString decoded = QUrl::fromPercentEncoding(raw.toUtf8());
        for (const QString &s : {raw, decoded}) {
            if (!s.isEmpty() && !secrets.contains(s))
                secrets.append(s);
        }
    };
    const QString s = dsn.trimmed();
    if (isUri(s)) {
        const UriParts u = uriParts(s);
        if (u.colon >= 0)
            add(s.mid(u.colon + 1, u.at - u.colon - 1));
        for (const auto &[name, value] : uriParams(s, u)) {
            if (isSecretKeyword(name))
                add(value);
        }
    } else {
        for (const ConninfoPair &p : conninfoPairs(s)) {
            if (isSecretKeyword(p.keyword)) {
                if (!p.value.isEmpty() && !secrets.contains(p.value))
                    secrets.append(p.value);
            }
        }
    }
    const QString env = qEnvironmentVariable("PGPASSWORD");
    if (!env.isEmpty() && !secrets.contains(env))
        secrets.append(env);
    return secrets;
}

QString scrubSecrets(QString text, const QStringList &secrets)
{
    for (const QString &secret : secrets) {
        if (!secret.isEmpty())
            text.replace(secret, u"***"_s);
    }
    return text;
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
