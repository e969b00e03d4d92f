// `bench_pg_decode [N]` (default 1,000,000 row changes; needs TAPEDECK_PG_URI):
// Tapedeck recording a pgoutput slot (copy mode: replication stream, decode,
// tape write) next to pg_recvlogical writing the same changes to /dev/null.
#include "connectors/postgres/pgadmin.h"
#include "connectors/postgres/pgconnection.h"
#include "connectors/postgres/record/pgrecorder.h"
#include "core/tape/tapewriter.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>

#include <cstdio>

using namespace tapedeck;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const qint64 n = argc > 1 ? QByteArray(argv[1]).toLongLong() : 1000000;
    const QString dsn = qEnvironmentVariable("TAPEDECK_PG_URI");
    if (dsn.isEmpty() || n <= 0) {
        std::fprintf(stderr, "bench_pg_decode: set TAPEDECK_PG_URI (scripts/services/postgres.sh env)\n");
        return 1;
    }
    PgConnection c;
    QString error;
    if (!c.open(dsn, PgConnection::Kind::Sql, &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    const QByteArray setup[] = {
        "DROP TABLE IF EXISTS bench_pg", "DROP PUBLICATION IF EXISTS bench_pg_pub",
        "CREATE TABLE bench_pg (id bigint PRIMARY KEY, v text, n numeric, ts timestamptz)",
        "CREATE PUBLICATION bench_pg_pub FOR TABLE bench_pg",
        "SELECT pg_create_logical_replication_slot('bench_pg_tapedeck', 'pgoutput')",
        "SELECT pg_create_logical_replication_slot('bench_pg_recvlogical', 'pgoutput')"};
    for (const QByteArray &sql : setup) {
        if (!c.command(sql, &error) && !sql.startsWith("DROP")) {
            std::fprintf(stderr, "%s: %s\n", sql.constData(), qPrintable(error));
            return 1;
        }
    }
    auto cleanup = [&] {
        QString e;
        c.command("SELECT pg_drop_replication_slot('bench_pg_tapedeck')", &e);
        c.command("SELECT pg_drop_replication_slot('bench_pg_recvlogical')", &e);
        c.command("DROP PUBLICATION bench_pg_pub", &e);
        c.command("DROP TABLE bench_pg", &e);
    };
    // 80% inserts, 20% updates, in transactions of 10,000 changes.
    const qint64 inserts = n * 4 / 5;
    QElapsedTimer t;
    t.start();
    for (qint64 from = 1; from <= inserts; from += 10000) {
        const qint64 to = std::min(inserts, from + 9999);
        c.command(QStringLiteral("INSERT INTO bench_pg SELECT g, md5(g::text), g * 1.25, now() FROM generate_series(%1, %2) g")
                      .arg(from).arg(to).toUtf8(), &error);
    }
    for (qint64 from = 1; from <= n - inserts; from += 10000)
        c.command(QStringLiteral("UPDATE bench_pg SET v = 'updated' WHERE id BETWEEN %1 AND %2")
                      .arg(from).arg(std::min(n - inserts, from + 9999)).toUtf8(), &error);
    const auto lsn = c.command("SELECT pg_current_wal_lsn()::text", &error);
    const QByteArray endLsn = PgConnection::value(lsn, 0, 0);
    std::printf("workload: %lld row changes written in %.1f s (WAL end %s)\n", static_cast<long long>(n), t.elapsed() / 1000.0,
                endLsn.constData());

    QTemporaryDir dir;
    PgRecordOptions options;
    options.dsn = dsn;
    options.slot = QStringLiteral("bench_pg_tapedeck");
    options.publications = {QStringLiteral("bench_pg_pub")};
    options.mode = PgReadMode::Copy;
    PgRecorder recorder(options);
    TapeWriter writer;
    t.restart();
    if (!recorder.prepare(&error) || !writer.create(dir.filePath(QStringLiteral("bench.tape")), TapeMetadata{})) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        cleanup();
        return 1;
    }
    const bool ok = recorder.record(writer, nullptr, {}, &error);
    const qint64 changes = recorder.changes();
    writer.close();
    const double tapedeckS = t.elapsed() / 1000.0;
    if (!ok || changes != n) {
        std::fprintf(stderr, "tapedeck: %s (%lld changes)\n", qPrintable(error), static_cast<long long>(changes));
        cleanup();
        return 1;
    }
    std::printf("tapedeck copy+decode+tape: %lld changes in %.2f s = %.0f changes/s (%lld events, tape %.1f MiB)\n",
                static_cast<long long>(changes), tapedeckS, changes / tapedeckS, static_cast<long long>(writer.eventCount()),
                writer.bytesWritten() / 1048576.0);

    t.restart();
    QProcess recv;
    recv.start(QStringLiteral("/usr/lib/postgresql/15/bin/pg_recvlogical"),
               {QStringLiteral("-d"), dsn, QStringLiteral("-S"), QStringLiteral("bench_pg_recvlogical"), QStringLiteral("--start"),
                QStringLiteral("-o"), QStringLiteral("proto_version=1"), QStringLiteral("-o"), QStringLiteral("publication_names=bench_pg_pub"),
                QStringLiteral("-f"), QStringLiteral("/dev/null"), QStringLiteral("-E"), QString::fromLatin1(endLsn), QStringLiteral("--no-loop")});
    recv.waitForFinished(-1);
    const double recvS = t.elapsed() / 1000.0;
    std::printf("pg_recvlogical to /dev/null: %lld changes in %.2f s = %.0f changes/s (exit %d)\n", static_cast<long long>(n), recvS,
                n / recvS, recv.exitCode());
    std::printf("ratio tapedeck/pg_recvlogical throughput: %.2f\n", recvS / tapedeckS);
    cleanup();
    return 0;
}
