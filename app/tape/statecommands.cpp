// `tape state` and `tape diff`: the table a log implies at a point
// (core/state/logstate.md), and that state against a live table (core/diff/tablediff.md).
#include "app/tape/commands.h"

#include "app/tape/cli.h"

#include "connectors/sinks/sinkfactory.h"
#include "core/base/printable.h"
#include "core/diff/tablediff.h"
#include "core/event/bound.h"
#include "core/state/logstate.h"
#include "core/tape/tape.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

using cli::error;
using cli::usage;

void out(const QByteArray &text)
{
    std::fwrite(text.constData(), 1, size_t(text.size()), stdout);
}

// --at N (after event #N), --at LSN (16/B374D848), --at @MS or @ISO-8601.
bool parseAt(const QString &text, const LogState &state, qint64 *end, QString *why)
{
    if (text.startsWith(u'@')) {
        const auto ms = bound::parseTime(text, why);
        if (!ms) {
            *why = u"--at: "_s + *why;
            return false;
        }
        *end = state.endAtTimeMs(*ms, why);
        return *end >= 0;
    }
    if (text.contains(u'/')) {
        const auto lsn = bound::parseLsn(QStringView(text).trimmed());
        if (!lsn) {
            *why = u"--at %1: not an LSN (such as 16/B374D848)"_s.arg(text);
            return false;
        }
        *end = state.endAtPosition(*lsn, why);
        return *end >= 0;
    }
    bool ok = false;
    const qint64 seq = text.toLongLong(&ok);
    if (!ok || seq < 0) {
        *why = u"--at takes N (after event #N), an LSN or @TIME (%1)"_s.arg(bound::timeSyntax());
        return false;
    }
    if (seq >= state.eventCount()) {
        *why = u"--at %1: the tape has %2 events (#0 to #%3)"_s.arg(seq).arg(state.eventCount()).arg(state.eventCount() - 1);
        return false;
    }
    *end = state.endAfterSeq(seq);
    return true;
}

QString pointText(qint64 end)
{
    return end == 0 ? u"before the first event"_s : u"after event #%1"_s.arg(end - 1);
}

QString kindName(SourceKind kind)
{
    return kind == SourceKind::Postgres ? u"postgres"_s : u"kafka"_s;
}

// Tab-separated cells: NULL for SQL NULL; backslash escapes for tab,
// newline, backslash and every other control character (core/base/printable.h).
QByteArray cell(const std::optional<QByteArray> &v)
{
    return v ? printable(*v) : QByteArrayLiteral("NULL");
}

// A name from the log (table, topic, column) for a terminal line.
QByteArray name(const QString &text)
{
    return printable(QStringView(text)).toUtf8();
}

QJsonValue jsonText(const std::optional<QByteArray> &v)
{
    return v ? QJsonValue(QString::fromUtf8(*v)) : QJsonValue();
}

std::shared_ptr<const LogState> buildState(const QString &path, QString *why)
{
    const auto tape = Tape::open(path, why);
    if (!tape)
        return nullptr;
    return LogState::build(tape, why);
}

// `tape state`: the line above a table's rows.
QByteArray tableHeading(const LogStateTable &info, const LogStateSnapshot &snapshot, qint64 end, qint64 events)
{
    QStringList parts;
    for (qint32 p : info.partitions)
        parts.append(QString::number(p));
    QByteArray head = "# " + name(info.name) + " (" + kindName(info.kind).toUtf8();
    head += info.kind == SourceKind::Postgres ? ", key " + name(info.keyColumns.join(u", "))
                                              : u", partitions %1"_s.arg(parts.join(u',')).toUtf8();
    head += u"): %1 rows %2 (%3 events)"_s.arg(snapshot.rowCount()).arg(pointText(end)).arg(events).toUtf8();
    if (info.multiPartitionKeys)
        head += u"; %1 keys seen in several partitions (the last record wins)"_s.arg(info.multiPartitionKeys).toUtf8();
    if (info.unkeyedEvents)
        head += u"; %1 events without key left out"_s.arg(info.unkeyedEvents).toUtf8();
    return head + '\n';
}

QJsonObject rowJson(const LogStateRow &r, bool change)
{
    QJsonObject o{{u"seq"_s, r.seq}};
    QJsonArray key;
    for (const QString &k : r.keyValues)
        key.append(k);
    o.insert(u"key"_s, key);
    if (change) {
        QJsonObject row;
        for (const Column &c : r.row)
            row.insert(c.name, c.unchangedToast ? QJsonValue(u"(unchanged toast)"_s) : jsonText(c.value));
        o.insert(u"row"_s, row);
    } else {
        o.insert(u"partition"_s, r.partition);
        o.insert(u"value"_s, jsonText(r.value));
    }
    return o;
}

// One tab-separated line; change rows in the order of `columns`.
QByteArray rowText(const LogStateRow &r, bool change, const QStringList &columns)
{
    QByteArray line;
    if (change) {
        for (const QString &c : columns) {
            std::optional<QByteArray> v = QByteArrayLiteral("(absent)");
            for (const Column &x : r.row) {
                if (x.name == c)
                    v = x.unchangedToast ? std::optional<QByteArray>("(unchanged toast)") : x.value;
            }
            line += cell(v) + '\t';
        }
    } else {
        line += cell(r.keyValues.first().toUtf8()) + '\t' + cell(r.value) + '\t';
    }
    line += '#' + QByteArray::number(r.seq);
    if (!change)
        line += '\t' + QByteArray::number(r.partition);
    return line + '\n';
}

QJsonObject tableJson(const LogStateTable &info, const LogStateSnapshot &snapshot, const QJsonArray &data)
{
    QJsonArray keyColumns, partitions;
    for (const QString &k : info.keyColumns)
        keyColumns.append(k);
    for (qint32 p : info.partitions)
        partitions.append(p);
    return QJsonObject{{u"name"_s, info.name},
                       {u"kind"_s, kindName(info.kind)},
                       {u"keyColumns"_s, keyColumns},
                       {u"partitions"_s, partitions},
                       {u"rows"_s, snapshot.rowCount()},
                       {u"keys"_s, info.keys},
                       {u"multiPartitionKeys"_s, info.multiPartitionKeys},
                       {u"unkeyedEvents"_s, info.unkeyedEvents},
                       {u"data"_s, data}};
}

// Prints (text) or collects (json) the first `shown` rows of one table, in
// windows so that a large state is never held as rows all at once.
bool printRows(const LogState &state, const LogStateSnapshot &snapshot, bool change, qint64 shown, bool json,
               QJsonArray *data, QString *why)
{
    constexpr int Window = 20000;
    QStringList columns; // change tables: from the first row
    bool headerDone = false;
    for (qint64 first = 0; first < shown; first += Window) {
        const QList<quint32> keys = snapshot.keys(first, int(std::min<qint64>(Window, shown - first)));
        QList<LogStateRow> rows;
        if (!state.rows(snapshot, keys, &rows, why))
            return false;
        QByteArray text;
        for (const LogStateRow &r : std::as_const(rows)) {
            if (change && columns.isEmpty()) {
                for (const Column &c : r.row)
                    columns.append(c.name);
            }
            if (json) {
                data->append(rowJson(r, change));
                continue;
            }
            if (!headerDone) {
                QByteArrayList names;
                for (const QString &c : std::as_const(columns))
                    names.append(name(c));
                text += (change ? names.join('\t') : QByteArray("key\tvalue")) + "\tseq"
                    + (change ? "" : "\tpartition") + '\n';
                headerDone = true;
            }
            text += rowText(r, change, columns);
        }
        out(text);
    }
    return true;
}

// `tape diff`'s --key, --map and --limit.
bool readDiffOptions(const QCommandLineParser &parser, bool repairing, DiffOptions *options, QString *why)
{
    if (parser.isSet(u"key"_s))
        options->keyColumns = parser.value(u"key"_s).split(u',', Qt::SkipEmptyParts);
    for (const QString &spec : parser.values(u"map"_s)) {
        for (const QString &m : spec.split(u',', Qt::SkipEmptyParts)) {
            const qsizetype eq = m.indexOf(u'=');
            if (eq <= 0 || eq == m.size() - 1) {
                *why = u"--map takes COL=SOURCE[,COL=SOURCE] (SOURCE: a column, key, key.FIELD, value, value.FIELD)"_s;
                return false;
            }
            options->map.append({m.left(eq).trimmed(), m.mid(eq + 1).trimmed()});
        }
    }
    if (parser.isSet(u"limit"_s)) {
        bool ok = false;
        options->maxEntries = parser.value(u"limit"_s).toInt(&ok);
        if (!ok || options->maxEntries < 0) {
            *why = u"--limit takes a number"_s;
            return false;
        }
        if (repairing) {
            *why = u"--limit cannot be combined with a repair (it would repair only part)"_s;
            return false;
        }
    }
    return true;
}

// The tape's table or topic to compare: `wanted` exactly, a change table
// "schema.wanted", or (unless --topic was given) the only one there is.
bool pickStateTable(const LogState &state, const QString &wanted, bool topicGiven, QString *name, QString *why)
{
    QStringList candidates;
    if (state.tableIndex(wanted) >= 0)
        candidates.append(wanted);
    for (const LogStateTable &t : state.tables()) {
        if (candidates.isEmpty() && t.kind == SourceKind::Postgres && t.name.endsWith(u'.' + wanted))
            candidates.append(t.name);
    }
    if (candidates.isEmpty() && !topicGiven && state.tables().size() == 1)
        candidates.append(state.tables().first().name);
    if (candidates.size() == 1) {
        *name = candidates.first();
        return true;
    }
    QStringList names;
    for (const LogStateTable &t : state.tables())
        names.append(t.name);
    *why = u"say which of the tape's tables or topics to compare with --topic (%1)"_s.arg(names.join(u", "));
    return false;
}

const char *const DiffKinds[] = {"missing", "extra", "differs"};

QJsonObject diffEntryJson(const DiffResult &result, const DiffEntry &d)
{
    QJsonObject e{{u"kind"_s, QString::fromLatin1(DiffKinds[int(d.kind)])}};
    QJsonObject k;
    for (int c = 0; c < result.keyColumns.size(); ++c)
        k.insert(result.keyColumns[c], jsonText(d.key[c]));
    e.insert(u"key"_s, k);
    if (d.kind != DiffEntry::Kind::Extra) {
        QJsonObject s;
        for (int c = 0; c < result.columns.size(); ++c)
            s.insert(result.columns[c].name, jsonText(d.stateRow[c]));
        e.insert(u"state"_s, s);
    }
    if (d.kind == DiffEntry::Kind::Differs) {
        QJsonArray diffs;
        for (const ColumnDifference &x : d.differences)
            diffs.append(QJsonObject{{u"column"_s, x.column}, {u"state"_s, jsonText(x.state)}, {u"table"_s, jsonText(x.table)}});
        e.insert(u"differences"_s, diffs);
    }
    QJsonArray events;
    for (qint64 s : d.lastEvents)
        events.append(s);
    e.insert(u"lastEvents"_s, events);
    return e;
}

QByteArray diffJson(const DiffResult &result, const QString &tapePath, const QString &against)
{
    QJsonArray columns, keyColumns, entries;
    for (int c = 0; c < result.columns.size(); ++c)
        columns.append(QJsonObject{{u"name"_s, result.columns[c].name},
                                   {u"type"_s, result.columns[c].type},
                                   {u"source"_s, result.mapping[c].source}});
    for (const QString &k : result.keyColumns)
        keyColumns.append(k);
    for (const DiffEntry &d : std::as_const(result.entries))
        entries.append(diffEntryJson(result, d));
    const QJsonObject doc{{u"tape"_s, tapePath},           {u"stateTable"_s, result.stateTable},
                          {u"table"_s, result.table},      {u"against"_s, against},
                          {u"at"_s, result.end},           {u"keyColumns"_s, keyColumns},
                          {u"columns"_s, columns},         {u"stateRows"_s, result.stateRows},
                          {u"tableRows"_s, result.tableRows}, {u"equalRows"_s, result.equalRows},
                          {u"missing"_s, result.missing},  {u"extra"_s, result.extra},
                          {u"differing"_s, result.differing}, {u"keyCollisions"_s, result.keyCollisions},
                          {u"unmappable"_s, result.unmappable}, {u"equal"_s, result.equal()},
                          {u"entries"_s, entries}};
    return QJsonDocument(doc).toJson(QJsonDocument::Compact) + '\n';
}

QByteArray diffEntryText(const DiffResult &result, const DiffEntry &d)
{
    QByteArray line = QByteArray(DiffKinds[int(d.kind)]).leftJustified(9);
    for (int c = 0; c < result.keyColumns.size(); ++c)
        line += (c ? " " : "") + name(result.keyColumns[c]) + '=' + cell(d.key[c]);
    if (d.kind == DiffEntry::Kind::Differs) {
        for (const ColumnDifference &x : d.differences)
            line += "  " + name(x.column) + ": state " + cell(x.state) + ", table " + cell(x.table);
    }
    QByteArray events;
    for (qint64 e : d.lastEvents)
        events += (events.isEmpty() ? "" : " ") + ('#' + QByteArray::number(e));
    return line + "  (last events: " + (events.isEmpty() ? QByteArrayLiteral("none") : events) + ")\n";
}

QByteArray diffText(const DiffResult &result, const QString &against, bool limited)
{
    QByteArray text = u"diff %1 in %2 against the tape's %3 %4: %5 rows in the state, %6 in the table\n"_s
                          .arg(printable(result.table), printable(against), printable(result.stateTable), pointText(result.end))
                          .arg(result.stateRows).arg(result.tableRows).toUtf8();
    for (const DiffEntry &d : std::as_const(result.entries))
        text += diffEntryText(result, d);
    const qint64 differences = result.missing + result.extra + result.differing;
    text += (result.equal() ? u"equal: %1 rows"_s.arg(result.equalRows)
                            : u"%1 differences: %2 missing, %3 extra, %4 differing; %5 rows equal"_s.arg(differences)
                                  .arg(result.missing).arg(result.extra).arg(result.differing).arg(result.equalRows))
                .toUtf8();
    if (result.keyCollisions)
        text += u"; %1 state keys map to a table key another one has (the later event wins)"_s.arg(result.keyCollisions).toUtf8();
    if (result.unmappable)
        text += u"; %1 state rows without key values left out"_s.arg(result.unmappable).toUtf8();
    text += u" (%1 s)\n"_s.arg(result.seconds, 0, 'f', 2).toUtf8();
    if (limited && result.entries.size() < differences)
        text += "(--limit: not every difference is listed)\n";
    return text;
}

// --repair-sql FILE: one transaction that makes the table the state, via FILE.partial.
bool writeRepairSql(const QString &path, const DiffResult &result, const QString &against, const QString &tapePath,
                    QString *why)
{
    const QString partial = cli::partialPath(path);
    QFile file(partial);
    const QString header = u"Tapedeck repair of %1 (%2) to the state of %3 (%4) %5: %6 missing, %7 extra, %8 differing"_s
                               .arg(result.table, against, QFileInfo(tapePath).fileName(), result.stateTable,
                                    pointText(result.end))
                               .arg(result.missing).arg(result.extra).arg(result.differing);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(TableDiff::repairSql(result, header)) < 0
        || !file.flush()) {
        file.remove();
        *why = u"%1: %2"_s.arg(path, file.errorString());
        return false;
    }
    file.close();
    if (!cli::commitPartial(partial, path, why))
        return false;
    std::fprintf(stderr, "wrote %s: %lld statements in one transaction\n", qPrintable(path),
                 static_cast<long long>(result.entries.size()));
    return true;
}

} // namespace

namespace commands {

int state(const QStringList &args)
{
    QCommandLineParser parser;
    const QCommandLineOption at(u"at"_s, QString(), u"POS"_s);
    const QCommandLineOption topic(u"topic"_s, QString(), u"T"_s);
    const QCommandLineOption table(u"table"_s, QString(), u"T"_s);
    const QCommandLineOption json(u"json"_s);
    const QCommandLineOption limit(u"limit"_s, QString(), u"N"_s);
    parser.addOptions({at, topic, table, json, limit});
    QString why;
    if (!cli::parseArgs(parser, u"state"_s, args, 1, &why))
        return usage(why);
    if (parser.isSet(topic) && parser.isSet(table))
        return usage(u"state takes --topic or --table, not both"_s);
    qint64 maxRows = -1;
    if (parser.isSet(limit)) {
        bool ok = false;
        maxRows = parser.value(limit).toLongLong(&ok);
        if (!ok || maxRows < 0)
            return usage(u"--limit takes a number"_s);
    }
    const auto state = buildState(parser.positionalArguments().first(), &why);
    if (!state)
        return error(why);
    qint64 end = state->eventCount();
    if (parser.isSet(at) && !parseAt(parser.value(at), *state, &end, &why))
        return why.startsWith(u"--at") ? usage(why) : error(why);
    QList<int> tables;
    const QString wanted = parser.isSet(topic) ? parser.value(topic) : parser.value(table);
    for (int i = 0; i < state->tables().size(); ++i) {
        const QString &name = state->tables()[i].name;
        if (wanted.isEmpty() || name == wanted || name.endsWith(u'.' + wanted))
            tables.append(i);
    }
    if (!wanted.isEmpty() && tables.isEmpty())
        return error(u"%1 has no table or topic \"%2\""_s.arg(parser.positionalArguments().first(), wanted));

    QJsonArray jsonTables;
    for (int t : std::as_const(tables)) {
        const LogStateTable &info = state->tables()[t];
        const LogStateSnapshot snapshot = state->snapshot(t, end);
        const qint64 shown = maxRows < 0 ? snapshot.rowCount() : std::min(maxRows, snapshot.rowCount());
        if (!parser.isSet(json))
            out(tableHeading(info, snapshot, end, state->eventCount()));
        QJsonArray data;
        if (!printRows(*state, snapshot, info.kind == SourceKind::Postgres, shown, parser.isSet(json), &data, &why))
            return error(why);
        if (parser.isSet(json))
            jsonTables.append(tableJson(info, snapshot, data));
        else if (shown < snapshot.rowCount())
            out(u"# ... %1 more rows (--limit)\n"_s.arg(snapshot.rowCount() - shown).toUtf8());
    }
    if (parser.isSet(json)) {
        const QJsonObject doc{{u"tape"_s, parser.positionalArguments().first()},
                              {u"events"_s, state->eventCount()},
                              {u"at"_s, end},
                              {u"tables"_s, jsonTables}};
        out(QJsonDocument(doc).toJson(QJsonDocument::Compact) + '\n');
    }
    return 0;
}

int diff(const QStringList &args)
{
    QCommandLineParser parser;
    const QCommandLineOption against(u"against"_s, QString(), u"DSN"_s);
    const QCommandLineOption table(u"table"_s, QString(), u"T"_s);
    const QCommandLineOption topic(u"topic"_s, QString(), u"T"_s);
    const QCommandLineOption key(u"key"_s, QString(), u"COLS"_s);
    const QCommandLineOption map(u"map"_s, QString(), u"COL=SRC"_s);
    const QCommandLineOption at(u"at"_s, QString(), u"POS"_s);
    const QCommandLineOption json(u"json"_s);
    const QCommandLineOption repairSql(u"repair-sql"_s, QString(), u"FILE"_s);
    const QCommandLineOption repairReplay(u"repair-replay"_s);
    const QCommandLineOption replayId(u"replay-id"_s, QString(), u"ID"_s);
    const QCommandLineOption limit(u"limit"_s, QString(), u"N"_s);
    parser.addOptions({against, table, topic, key, map, at, json, repairSql, repairReplay, replayId, limit});
    QString why;
    if (!cli::parseArgs(parser, u"diff"_s, args, 1, &why))
        return usage(why);
    if (!parser.isSet(against) || !parser.isSet(table))
        return usage(u"diff needs --against postgresql://...|sqlite:PATH and --table T"_s);
    const auto target = ReplayTarget::fromUrl(parser.value(against), &why);
    if (!target || target->kind == ReplayTarget::Kind::Kafka)
        return usage(u"--against takes postgresql://... or sqlite:PATH"_s);
    DiffOptions options;
    if (!readDiffOptions(parser, parser.isSet(repairSql) || parser.isSet(repairReplay), &options, &why))
        return usage(why);
    const QString tapePath = parser.positionalArguments().first();
    const auto state = buildState(tapePath, &why);
    if (!state)
        return error(why);
    qint64 end = state->eventCount();
    if (parser.isSet(at) && !parseAt(parser.value(at), *state, &end, &why))
        return why.startsWith(u"--at") ? usage(why) : error(why);
    options.end = end;
    const QString tableName = parser.value(table);
    if (!pickStateTable(*state, parser.isSet(topic) ? parser.value(topic) : tableName, parser.isSet(topic),
                        &options.stateTable, &why))
        return usage(why);

    auto reader = createTableReader(*target, &why);
    if (!reader)
        return error(why);
    DiffResult result;
    if (!TableDiff::run(*state, *reader, tableName, options, &result, &why))
        return error(why);
    const QString against_ = reader->describe();
    reader.reset();

    out(parser.isSet(json) ? diffJson(result, tapePath, against_) : diffText(result, against_, options.maxEntries >= 0));
    std::fflush(stdout);
    if (parser.isSet(repairSql) && !writeRepairSql(parser.value(repairSql), result, against_, tapePath, &why))
        return error(why);
    if (parser.isSet(repairReplay) && !result.equal()) {
        const auto sink = createSink(*target, &why);
        if (!sink)
            return error(why);
        const QString id = parser.isSet(replayId) ? parser.value(replayId)
                                                  : u"repair-"_s + QFileInfo(tapePath).fileName() + u'-' + result.table;
        qint64 written = 0;
        if (!TableDiff::repair(*sink, result, id, &written, &why))
            return error(u"repair: "_s + why);
        // Check the repair with a second diff.
        const auto again = createTableReader(*target, &why);
        if (!again)
            return error(why);
        DiffResult after;
        if (!TableDiff::run(*state, *again, tableName, options, &after, &why))
            return error(why);
        std::fprintf(stderr, "repaired %s: %lld rows written (replay id %s); the table %s\n", qPrintable(result.table),
                     static_cast<long long>(written), qPrintable(id),
                     after.equal() ? "now equals the state" : "still differs (was it written to meanwhile?)");
        return after.equal() ? 0 : 3;
    }
    return result.equal() ? 0 : 3;
}

} // namespace commands
