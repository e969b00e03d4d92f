// `tape slots`, `tape record postgres`.
#include "app/tape/commands.h"

#include "app/tape/cli.h"

#include "app/tape/progress.h"

#include "connectors/postgres/pgadmin.h"
#include "core/event/bound.h"
#include "connectors/postgres/record/pgrecorder.h"
#include "core/tape/tapewriter.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>

#include <atomic>
#include <csignal>
#include <cstdio>

using namespace tapedeck;

namespace {

using cli::error;
using cli::parseArgs;
using cli::usage;

QString bytes(qint64 n)
{
    if (n < 0)
        return QStringLiteral("?");
    if (n < 10 << 20)
        return QStringLiteral("%1 KiB").arg(n >> 10);
    return QStringLiteral("%1 MiB").arg(n >> 20);
}

} // namespace

namespace commands {

int slots(const QStringList &args)
{
    QCommandLineParser parser;
    QCommandLineOption dsn(QStringLiteral("dsn"), QString(), QStringLiteral("DSN"));
    QCommandLineOption json(QStringLiteral("json"));
    parser.addOptions({dsn, json});
    QString why;
    if (!parseArgs(parser, QStringLiteral("slots"), args, &why))
        return usage(why);
    if (!parser.positionalArguments().isEmpty())
        return usage(QStringLiteral("slots takes no arguments besides --dsn"));
    // Without --dsn libpq uses the PG* environment, as psql does.
    const PgAdmin admin(parser.value(dsn));
    const auto server = admin.serverInfo(&why);
    if (!server)
        return error(why);
    const auto slotList = admin.slots(&why);
    if (!slotList)
        return error(why);
    const auto pubs = admin.publications(&why);
    if (!pubs)
        return error(why);
    const QString problem = server->logicalDecodingProblem();
    QByteArray out;
    if (parser.isSet(json)) {
        QJsonArray s;
        for (const PgSlotInfo &i : *slotList)
            s.append(QJsonObject{{QStringLiteral("name"), i.name}, {QStringLiteral("plugin"), i.plugin},
                                 {QStringLiteral("type"), i.slotType}, {QStringLiteral("database"), i.database},
                                 {QStringLiteral("temporary"), i.temporary}, {QStringLiteral("active"), i.active},
                                 {QStringLiteral("activePid"), i.activePid},
                                 {QStringLiteral("restartLsn"), bound::formatLsn(i.restartLsn)},
                                 {QStringLiteral("confirmedFlushLsn"), bound::formatLsn(i.confirmedFlushLsn)},
                                 {QStringLiteral("retainedBytes"), i.retainedBytes}, {QStringLiteral("walStatus"), i.walStatus}});
        QJsonArray p;
        for (const PgPublicationInfo &i : *pubs)
            p.append(QJsonObject{{QStringLiteral("name"), i.name}, {QStringLiteral("allTables"), i.allTables},
                                 {QStringLiteral("tables"), QJsonArray::fromStringList(i.tables)}});
        const QJsonObject settings{{QStringLiteral("serverVersion"), server->version}, {QStringLiteral("walLevel"), server->walLevel},
                                   {QStringLiteral("maxReplicationSlots"), server->maxReplicationSlots},
                                   {QStringLiteral("maxSlotWalKeepSize"), server->maxSlotWalKeepSize},
                                   {QStringLiteral("outputPluginLibraries"), server->outputPluginLibraries},
                                   {QStringLiteral("currentLsn"), bound::formatLsn(server->currentLsn)},
                                   {QStringLiteral("logicalDecodingProblem"), problem}};
        out = QJsonDocument(QJsonObject{{QStringLiteral("server"), settings}, {QStringLiteral("slots"), s},
                                        {QStringLiteral("publications"), p}}).toJson();
    } else {
        QString text = QStringLiteral("PostgreSQL %1, database %2, wal_level=%3, max_replication_slots=%4, max_slot_wal_keep_size=%5%6\n")
                           .arg(server->version, server->database, server->walLevel).arg(server->maxReplicationSlots)
                           .arg(server->maxSlotWalKeepSize,
                                server->outputPluginLibraries.isEmpty() ? QString()
                                    : QStringLiteral(", output_plugin_libraries='%1'").arg(server->outputPluginLibraries));
        if (!problem.isEmpty())
            text += QStringLiteral("logical decoding is not possible: %1\n").arg(problem);
        if (slotList->isEmpty())
            text += QStringLiteral("no replication slots\n");
        for (const PgSlotInfo &s : *slotList) {
            text += QStringLiteral("slot \"%1\": %2 %3, database %4, %5, restart_lsn %6, confirmed_flush_lsn %7, WAL retained %8%9%10\n")
                        .arg(s.name, s.slotType, s.plugin, s.database.isEmpty() ? QStringLiteral("-") : s.database,
                             s.active ? QStringLiteral("active (PID %1)").arg(s.activePid) : QStringLiteral("inactive"),
                             bound::formatLsn(s.restartLsn), bound::formatLsn(s.confirmedFlushLsn), bytes(s.retainedBytes))
                        .arg(s.temporary ? QStringLiteral(", temporary") : QString(),
                             s.retainsALot() ? QStringLiteral("  WARNING: retains a lot of WAL") : QString());
        }
        for (const PgPublicationInfo &p : *pubs)
            text += QStringLiteral("publication \"%1\": %2\n")
                        .arg(p.name, p.allTables ? QStringLiteral("all tables") : p.tables.join(QStringLiteral(", ")));
        out = text.toUtf8();
    }
    std::fwrite(out.constData(), 1, size_t(out.size()), stdout);
    return 0;
}

int recordPostgres(const QStringList &args)
{
    QCommandLineParser parser;
    QCommandLineOption dsn(QStringLiteral("dsn"), QString(), QStringLiteral("DSN"));
    QCommandLineOption slot(QStringLiteral("slot"), QString(), QStringLiteral("NAME"));
    QCommandLineOption plugin(QStringLiteral("plugin"), QString(), QStringLiteral("PLUGIN"));
    QCommandLineOption publication(QStringLiteral("publication"), QString(), QStringLiteral("P"));
    QCommandLineOption mode(QStringLiteral("mode"), QString(), QStringLiteral("MODE"), QStringLiteral("copy"));
    QCommandLineOption limit(QStringLiteral("limit"), QString(), QStringLiteral("N"));
    QCommandLineOption follow(QStringLiteral("follow"));
    QCommandLineOption snapshot(QStringLiteral("snapshot"), QString(), QStringLiteral("TABLE[,TABLE...]"));
    QCommandLineOption out({QStringLiteral("o"), QStringLiteral("output")}, QString(), QStringLiteral("OUT.tape"));
    parser.addOptions({dsn, slot, plugin, publication, mode, limit, follow, snapshot, out});
    QString why;
    if (!parseArgs(parser, QStringLiteral("record"), args, &why))
        return usage(why);
    if (parser.positionalArguments() != QStringList{QStringLiteral("postgres")})
        return usage(QStringLiteral("record takes one source: tape record postgres ..."));
    PgRecordOptions options;
    options.dsn = parser.value(dsn);
    options.slot = parser.value(slot);
    options.plugin = parser.value(plugin);
    for (const QString &p : parser.values(publication))
        options.publications += p.split(QLatin1Char(','), Qt::SkipEmptyParts);
    const auto m = pgReadModeFromString(parser.value(mode));
    if (!m)
        return usage(QStringLiteral("--mode is copy, peek, temporary or consume"));
    options.mode = *m;
    if (!options.plugin.isEmpty() && !PgDecoder::plugins().contains(options.plugin))
        return usage(QStringLiteral("--plugin is pgoutput, wal2json or test_decoding"));
    if (options.slot.isEmpty() && options.mode != PgReadMode::Temporary)
        return usage(QStringLiteral("record postgres needs --slot NAME (or --mode temporary)"));
    if (parser.isSet(limit)) {
        bool ok = false;
        options.limit = parser.value(limit).toLongLong(&ok);
        if (!ok || options.limit < 0)
            return usage(QStringLiteral("--limit takes a number of changes"));
    }
    options.follow = parser.isSet(follow);
    for (const QString &t : parser.values(snapshot))
        options.snapshotTables += t.split(QLatin1Char(','), Qt::SkipEmptyParts);
    if (parser.isSet(snapshot) && options.snapshotTables.isEmpty())
        return usage(QStringLiteral("--snapshot takes table names: --snapshot public.orders,public.customers"));
    if (!parser.isSet(out))
        return usage(QStringLiteral("record postgres needs -o OUT.tape"));

    PgRecorder recorder(options);
    const int rc = cli::recordToTape(recorder, parser.value(out), QStringLiteral("events"), QStringLiteral("changes"),
                                     [&recorder](const RecordingSource::Progress &) { return recorder.changes() + recorder.snapshotRows(); });
    if (recorder.snapshotLsn() >= 0)
        std::fprintf(stderr, "starting image: %lld rows read in the snapshot at %s\n", static_cast<long long>(recorder.snapshotRows()),
                     qPrintable(bound::formatLsn(recorder.snapshotLsn())));
    return rc;
}

} // namespace commands
