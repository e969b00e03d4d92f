// `bench_diff [N]` (default 1 M rows; needs TAPEDECK_PG_URI): tape diff's core
// (TableDiff with PgTableReader) against an N-row PostgreSQL table whose
// rows are the state of an N-event change tape (0.1 % of them altered), as
// rows/s and as a ratio to the reference in the same run: the same
//   COPY (SELECT cols FROM t ORDER BY id) TO STDOUT
// read to the end with libpq and thrown away. Goal: ratio >= 0.5.
#include "core/state/logstate.h"
#include "connectors/postgres/decode/pgchange.h"
#include "connectors/postgres/pgconnection.h"
#include "connectors/postgres/sink/pgtablereader.h"
#include "core/diff/tablediff.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>

#include <libpq-fe.h>

#include <cstdio>

#include <sys/resource.h>

using namespace tapedeck;

namespace {

// CPU seconds of this process so far (every thread).
double cpuSeconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void die(const QString &what)
{
    std::fprintf(stderr, "bench_diff: %s\n", what.toLocal8Bit().constData());
    std::exit(1);
}

Row makeRow(qint64 id)
{
    auto col = [](const char *name, const char *type, QByteArray v) {
        return Column{QLatin1String(name), QLatin1String(type), std::move(v), false};
    };
    return Row{col("id", "bigint", QByteArray::number(id)),
               col("name", "text", "customer-" + QByteArray::number(id * 7919 % 1000003)),
               col("amount", "numeric", QByteArray::number(id % 100000) + ".25"),
               col("big", "bigint", QByteArray::number(Q_INT64_C(9007199254740993) + id)),
               col("note", "text", "a note of moderate length for row " + QByteArray::number(id)),
               col("ts", "timestamp with time zone", "2024-03-01 12:34:56.123456+00"),
               col("flag", "boolean", id % 2 ? "t" : "f")};
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const qint64 n = argc > 1 ? QByteArray(argv[1]).toLongLong() : 1000000;
    const QString uri = qEnvironmentVariable("TAPEDECK_PG_URI");
    if (uri.isEmpty())
        die(QStringLiteral("TAPEDECK_PG_URI is not set: start the services (eval \"$(scripts/services/all.sh env)\")"));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("diff.tape"));
    PgCatalog catalog;
    catalog.database = QStringLiteral("bench");
    catalog.primaryKeys.insert(QStringLiteral("public.bench_diff"), {QStringLiteral("id")});
    PgConnection conn;
    QString error;
    if (!conn.open(uri, PgConnection::Kind::Sql, &error))
        die(error);
    if (!conn.command("DROP TABLE IF EXISTS public.bench_diff; CREATE TABLE public.bench_diff (id bigint PRIMARY KEY, "
                      "name text, amount numeric(14,2), big bigint, note text, ts timestamptz, flag boolean)",
                      &error))
        die(error);
    qint64 altered = 0;
    {
        TapeWriter w;
        if (!w.create(path, TapeMetadata{}))
            die(w.errorString());
        pg::ResultPtr r(PQexec(conn.handle(), "COPY public.bench_diff FROM STDIN"));
        if (PQresultStatus(r.get()) != PGRES_COPY_IN)
            die(conn.lastError());
        QByteArray data;
        for (qint64 id = 1; id <= n; ++id) {
            const Row row = makeRow(id);
            pgchange::TxnInfo txn{id, 0x1000 + id * 0x100, 1709290000000000 + id};
            if (!w.append(pgchange::change(catalog, Operation::Insert, txn.commitLsn - 8, txn, QStringLiteral("public"),
                                           QStringLiteral("bench_diff"), {}, row, {})))
                die(w.errorString());
            for (qsizetype i = 0; i < row.size(); ++i) {
                if (i)
                    data += '\t';
                data += (i == 1 && id % 1000 == 0) ? QByteArray("altered") : *row[i].value;
            }
            altered += id % 1000 == 0;
            data += '\n';
            if (data.size() > (1 << 20)) {
                PQputCopyData(conn.handle(), data.constData(), int(data.size()));
                data.clear();
            }
        }
        PQputCopyData(conn.handle(), data.constData(), int(data.size()));
        PQputCopyEnd(conn.handle(), nullptr);
        pg::ResultPtr e(PQgetResult(conn.handle()));
        if (PQresultStatus(e.get()) != PGRES_COMMAND_OK)
            die(conn.lastError());
        while (pg::ResultPtr more{PQgetResult(conn.handle())}) {
        }
        if (!w.close())
            die(w.errorString());
        conn.command("VACUUM ANALYZE public.bench_diff", &error);
    }
    const auto tape = Tape::open(path, &error);
    if (!tape)
        die(error);
    QElapsedTimer t;
    t.start();
    const auto state = LogState::build(tape, &error);
    if (!state)
        die(error);
    const double buildS = double(t.nsecsElapsed()) / 1e9;

    const QStringList columns{QStringLiteral("id"), QStringLiteral("name"), QStringLiteral("amount"), QStringLiteral("big"),
                              QStringLiteral("note"), QStringLiteral("ts"), QStringLiteral("flag")};
    auto reference = [&] {
        QElapsedTimer c;
        c.start();
        const QByteArray sql = PgTableReader::copyStatement("\"public\".\"bench_diff\"", columns, {QStringLiteral("id")});
        pg::ResultPtr r(PQexec(conn.handle(), sql.constData()));
        if (PQresultStatus(r.get()) != PGRES_COPY_OUT)
            die(conn.lastError());
        qint64 rows = 0;
        char *buffer = nullptr;
        int len;
        while ((len = PQgetCopyData(conn.handle(), &buffer, 0)) > 0) {
            ++rows;
            PQfreemem(buffer);
        }
        while (pg::ResultPtr more{PQgetResult(conn.handle())}) {
        }
        if (rows != n)
            die(QStringLiteral("COPY read %1 rows").arg(rows));
        return double(c.nsecsElapsed()) / 1e9;
    };
    double diffCpu = 1e9;
    auto diff = [&](DiffResult *result) {
        QElapsedTimer c;
        c.start();
        const double cpu0 = cpuSeconds();
        PgTableReader reader(uri);
        DiffOptions options;
        options.stateTable = QStringLiteral("public.bench_diff");
        if (!TableDiff::run(*state, reader, QStringLiteral("public.bench_diff"), options, result, &error))
            die(error);
        diffCpu = std::min(diffCpu, cpuSeconds() - cpu0);
        return double(c.nsecsElapsed()) / 1e9;
    };
    // Warm the server's cache, then alternate, best of three each.
    reference();
    double copyS = 1e9, diffS = 1e9;
    DiffResult result;
    for (int i = 0; i < 3; ++i) {
        copyS = std::min(copyS, reference());
        diffS = std::min(diffS, diff(&result));
    }
    if (result.differing != altered || result.missing || result.extra)
        die(QStringLiteral("the diff found %1 differing, %2 missing, %3 extra; expected %4 differing")
                .arg(result.differing).arg(result.missing).arg(result.extra).arg(altered));
    std::printf("table: %lld rows, %lld altered; state built in %.2f s\n", static_cast<long long>(n),
                static_cast<long long>(altered), buildS);
    std::printf("reference COPY (SELECT ... ORDER BY id) TO STDOUT: %.2f s, %.0f rows/s\n", copyS, double(n) / copyS);
    std::printf("diff: %.2f s (state side %.2f s; %.2f s of CPU in this process), %.0f rows/s, %lld differences found\n",
                diffS, result.stateSeconds, diffCpu, double(n) / diffS, static_cast<long long>(result.differing));
    const double ratio = copyS / diffS;
    std::printf("ratio diff / COPY: %.2f (goal >= 0.5: %s)\n", ratio, ratio >= 0.5 ? "met" : "NOT met");
    conn.command("DROP TABLE public.bench_diff", &error);
    return 0;
}
