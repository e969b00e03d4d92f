// `tape state` and `tape diff`: the table a log implies at a point
// (core/state/logstate.md), and that state against a live table (core/diff/tablediff.md).
#include "app/tape/commands.h"

#include "app/tape/cli.h"

#include "connectors/sinks/sinkfactory.h"
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

// Tab-separated cells: NULL for SQL NULL, backslash escapes for tab, newline and backslash.
QByteArray cell(const std::optional<QByteArray> &v)
{
    if (!v)
        return QByteArrayLiteral("NULL");
    QByteArray s = *v;
    s.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n").replace('\r', "\\r");
    return s;
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
        const bool change = info.kind == SourceKind::Postgres;
        const qint64 shown = maxRows < 0 ? snapshot.rowCount() : std::min(maxRows, snapshot.rowCount());
        QJsonArray data;
        QStringList columns; // change tables: from the first row
        if (!parser.isSet(json)) {
            QStringList parts;
            for (qint32 p : info.partitions)
                parts.append(QString::number(p));
            QByteArray head = u"# %1 (%2"_s.arg(info.name, kindName(info.kind)).toUtf8();
            head += change ? u", key %1"_s.arg(info.keyColumns.join(u", ")).toUtf8()
                           : u", partitions %1"_s.arg(parts.join(u',')).toUtf8();
            head += u"): %1 rows %2 (%3 events)"_s.arg(snapshot.rowCount()).arg(pointText(end)).arg(state->eventCount()).toUtf8();
            if (info.multiPartitionKeys)
                head += u"; %1 keys seen in several partitions (the last record wins)"_s.arg(info.multiPartitionKeys).toUtf8();
            if (info.unkeyedEvents)
                head += u"; %1 events without key left out"_s.arg(info.unkeyedEvents).toUtf8();
            out(head + '\n');
        }
        constexpr int Window = 20000;
        bool headerDone = false;
        for (qint64 first = 0; first < shown; first += Window) {
            const QList<quint32> keys = snapshot.keys(first, int(std::min<qint64>(Window, shown - first)));
            QList<LogStateRow> rows;
            if (!state->rows(snapshot, keys, &rows, &why))
                return error(why);
            QByteArray text;
            for (const LogStateRow &r : std::as_const(rows)) {
                if (change && columns.isEmpty()) {
                    for (const Column &c : r.row)
                        columns.append(c.name);
                }
                if (parser.isSet(json)) {
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
                    data.append(o);
                    continue;
                }
                if (!headerDone) {
                    text += (change ? columns.join(u'\t').toUtf8() : QByteArray("key\tvalue")) + "\tseq"
                        + (change ? "" : "\tpartition") + '\n';
                    headerDone = true;
                }
                QByteArray line;
                if (change) {
                    for (const QString &c : std::as_const(columns)) {
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
                text += line + '\n';
            }
            out(text);
        }
        if (parser.isSet(json)) {
            QJsonArray keyColumns, partitions;
            for (const QString &k : info.keyColumns)
                keyColumns.append(k);
            for (qint32 p : info.partitions)
                partitions.append(p);
            jsonTables.append(QJsonObject{{u"name"_s, info.name},
                                          {u"kind"_s, kindName(info.kind)},
                                          {u"keyColumns"_s, keyColumns},
                                          {u"partitions"_s, partitions},
                                          {u"rows"_s, snapshot.rowCount()},
                                          {u"keys"_s, info.keys},
                                          {u"multiPartitionKeys"_s, info.multiPartitionKeys},
                                          {u"unkeyedEvents"_s, info.unkeyedEvents},
                                          {u"data"_s, data}});
        } else if (shown < snapshot.rowCount()) {
            out(u"# ... %1 more rows (--limit)\n"_s.arg(snapshot.rowCount() - shown).toUtf8());
        }
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
    if (parser.isSet(key))
        options.keyColumns = parser.value(key).split(u',', Qt::SkipEmptyParts);
    for (const QString &spec : parser.values(map)) {
        for (const QString &m : spec.split(u',', Qt::SkipEmptyParts)) {
            const qsizetype eq = m.indexOf(u'=');
            if (eq <= 0 || eq == m.size() - 1)
                return usage(u"--map takes COL=SOURCE[,COL=SOURCE] (SOURCE: a column, key, key.FIELD, value, value.FIELD)"_s);
            options.map.append({m.left(eq).trimmed(), m.mid(eq + 1).trimmed()});
        }
    }
    if (parser.isSet(limit)) {
        bool ok = false;
        options.maxEntries = parser.value(limit).toInt(&ok);
        if (!ok || options.maxEntries < 0)
            return usage(u"--limit takes a number"_s);
        if (parser.isSet(repairSql) || parser.isSet(repairReplay))
            return usage(u"--limit cannot be combined with a repair (it would repair only part)"_s);
    }
    const QString tapePath = parser.positionalArguments().first();
    const auto state = buildState(tapePath, &why);
    if (!state)
        return error(why);
    qint64 end = state->eventCount();
    if (parser.isSet(at) && !parseAt(parser.value(at), *state, &end, &why))
        return why.startsWith(u"--at") ? usage(why) : error(why);
    options.end = end;
    const QString tableName = parser.value(table);
    const QString wanted = parser.isSet(topic) ? parser.value(topic) : tableName;
    QStringList candidates;
    if (state->tableIndex(wanted) >= 0)
        candidates.append(wanted);
    for (const LogStateTable &t : state->tables()) {
        if (candidates.isEmpty() && t.kind == SourceKind::Postgres && t.name.endsWith(u'.' + wanted))
            candidates.append(t.name);
    }
    if (candidates.isEmpty() && !parser.isSet(topic) && state->tables().size() == 1)
        candidates.append(state->tables().first().name);
    if (candidates.size() != 1) {
        QStringList names;
        for (const LogStateTable &t : state->tables())
            names.append(t.name);
        return usage(u"say which of the tape's tables or topics to compare with --topic (%1)"_s.arg(names.join(u", ")));
    }
    options.stateTable = candidates.first();

    auto reader = createTableReader(*target, &why);
    if (!reader)
        return error(why);
    DiffResult result;
    if (!TableDiff::run(*state, *reader, tableName, options, &result, &why))
        return error(why);
    const QString against_ = reader->describe();
    reader.reset();

    auto keyText = [&](const DiffEntry &d) {
        QByteArray s;
        for (int c = 0; c < result.keyColumns.size(); ++c)
            s += (c ? " " : "") + result.keyColumns[c].toUtf8() + '=' + cell(d.key[c]);
        return s;
    };
    auto eventsText = [](const QList<qint64> &events) {
        QByteArray s;
        for (qint64 e : events)
            s += (s.isEmpty() ? "" : " ") + ('#' + QByteArray::number(e));
        return s.isEmpty() ? QByteArrayLiteral("none") : s;
    };
    const char *kinds[] = {"missing", "extra", "differs"};
    if (parser.isSet(json)) {
        QJsonArray columns, keyColumns, entries;
        for (int c = 0; c < result.columns.size(); ++c)
            columns.append(QJsonObject{{u"name"_s, result.columns[c].name},
                                       {u"type"_s, result.columns[c].type},
                                       {u"source"_s, result.mapping[c].source}});
        for (const QString &k : result.keyColumns)
            keyColumns.append(k);
        for (const DiffEntry &d : std::as_const(result.entries)) {
            QJsonObject e{{u"kind"_s, QString::fromLatin1(kinds[int(d.kind)])}};
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
            entries.append(e);
        }
        const QJsonObject doc{{u"tape"_s, tapePath},           {u"stateTable"_s, result.stateTable},
                              {u"table"_s, result.table},      {u"against"_s, against_},
                              {u"at"_s, result.end},           {u"keyColumns"_s, keyColumns},
                              {u"columns"_s, columns},         {u"stateRows"_s, result.stateRows},
                              {u"tableRows"_s, result.tableRows}, {u"equalRows"_s, result.equalRows},
                              {u"missing"_s, result.missing},  {u"extra"_s, result.extra},
                              {u"differing"_s, result.differing}, {u"keyCollisions"_s, result.keyCollisions},
                              {u"unmappable"_s, result.unmappable}, {u"equal"_s, result.equal()},
                              {u"entries"_s, entries}};
        out(QJsonDocument(doc).toJson(QJsonDocument::Compact) + '\n');
    } else {
        QByteArray text = u"diff %1 in %2 against the tape's %3 %4: %5 rows in the state, %6 in the table\n"_s
                              .arg(result.table, against_, result.stateTable, pointText(result.end))
                              .arg(result.stateRows).arg(result.tableRows).toUtf8();
        for (const DiffEntry &d : std::as_const(result.entries)) {
            QByteArray line = QByteArray(kinds[int(d.kind)]).leftJustified(9) + keyText(d);
            if (d.kind == DiffEntry::Kind::Differs) {
                for (const ColumnDifference &x : d.differences)
                    line += "  " + x.column.toUtf8() + ": state " + cell(x.state) + ", table " + cell(x.table);
            }
            line += "  (last events: " + eventsText(d.lastEvents) + ")";
            text += line + '\n';
        }
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
        if (options.maxEntries >= 0 && result.entries.size() < result.missing + result.extra + result.differing)
            text += "(--limit: not every difference is listed)\n";
        out(text);
    }
    std::fflush(stdout);

    if (parser.isSet(repairSql)) {
        const QString path = parser.value(repairSql);
        const QString partial = cli::partialPath(path);
        QFile file(partial);
        const QString header = u"Tapedeck repair of %1 (%2) to the state of %3 (%4) %5: %6 missing, %7 extra, %8 differing"_s
                                   .arg(result.table, against_, QFileInfo(tapePath).fileName(), result.stateTable,
                                        pointText(result.end))
                                   .arg(result.missing).arg(result.extra).arg(result.differing);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(TableDiff::repairSql(result, header)) < 0
            || !file.flush()) {
            file.remove();
            return error(u"%1: %2"_s.arg(path, file.errorString()));
        }
        file.close();
        if (!cli::commitPartial(partial, path, &why))
            return error(why);
        std::fprintf(stderr, "wrote %s: %lld statements in one transaction\n", qPrintable(path),
                     static_cast<long long>(result.entries.size()));
    }
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
