// `bench_replay [N] [batch] [ABCR]` (default 1 M change events, batch 20 000, all
// scenarios; needs
// TAPEDECK_PG_URI): replay into PostgreSQL against a plain COPY of the same
// rows into the same kind of table in the same run, as ratios:
//   A  identity rebuild into an empty table (COPY fast path)
//   B  identity upserts into the populated table (every row as it is there,
//      so the upsert leaves every row alone), and B2 the same when every
//      row differs (every row updates), with 1 and with 2 connections (PgSink lanes;
//      BENCH_LANES=N for another number)
//   C  a small JavaScript transform, 1 and 2 engines, into an empty table
//      (BENCH_C_THREADS=N runs only the N-engine case)
//   R  identity rebuild from a log of updates (N events over N/10 keys) into
//      an empty table
// and a last "summary:" line (BENCH_TAPE=PATH keeps the tape for later runs) with the ratios and the load average.
#include "connectors/postgres/decode/pgchange.h"
#include "connectors/postgres/pgconnection.h"
#include "connectors/postgres/sink/pgsink.h"
#include "core/replay/replay.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QUuid>

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

using namespace tapedeck;

namespace {

const char Ddl[] = "(id bigint PRIMARY KEY, name text, amount numeric(14,2), big bigint, note text, ts timestamptz, flag boolean)";

Row makeRow(qint64 id, QRandomGenerator &rng)
{
    auto col = [](const char *name, const char *type, QByteArray v) {
        return Column{QLatin1String(name), QLatin1String(type), std::move(v), false};
    };
    return Row{col("id", "bigint", QByteArray::number(id)),
               col("name", "text", "customer-" + QByteArray::number(rng.bounded(1000000))),
               col("amount", "numeric", QByteArray::number(rng.bounded(100000)) + ".25"),
               col("big", "bigint", QByteArray::number(Q_INT64_C(9007199254740993) + rng.bounded(1000000))),
               col("note", "text", "a note of moderate length for row " + QByteArray::number(id)),
               col("ts", "timestamp with time zone", "2024-03-01 12:34:56.123456+00"),
               col("flag", "boolean", rng.bounded(2) ? "t" : "f")};
}

// CPU time of this process (all threads), seconds: the client's share of a
// run, which the load of other processes on the machine affects far less
// than wall time.
double cpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}
double g_cpuUsPerRow = 0; // of the last rawCopy()/replay()

bool die(const QString &what)
{
    std::fprintf(stderr, "bench_replay: %s\n", what.toLocal8Bit().constData());
    std::exit(1);
    return false;
}

// N change events on public.TABLE over `keys` keys: each key inserted, then
// updated (keys == n: inserts of distinct keys).
void writeBenchTape(const QString &path, const QString &table, qint64 n, qint64 keys, quint32 seed)
{
    TapeWriter w;
    w.create(path, TapeMetadata{}) || die(w.errorString());
    PgCatalog catalog;
    catalog.database = QStringLiteral("bench");
    catalog.primaryKeys.insert(QStringLiteral("public.") + table, {QStringLiteral("id")});
    QRandomGenerator rng(seed);
    for (qint64 i = 0; i < n; ++i) {
        pgchange::TxnInfo txn{i, 0x1000 + i * 0x100 + 0x80, 1709290000000000LL + i};
        w.append(pgchange::change(catalog, i < keys ? Operation::Insert : Operation::Update, 0x1000 + i * 0x100, txn,
                                  QStringLiteral("public"), table, {}, makeRow(i % keys + 1, rng), {}))
            || die(w.errorString());
    }
    w.close() || die(w.errorString());
}

double rawCopy(PgConnection &c, const QByteArray &table, qint64 n, int batch)
{
    QString error;
    QRandomGenerator rng(1);
    const double cpu0 = cpuSeconds();
    QElapsedTimer t;
    t.start();
    for (qint64 done = 0; done < n;) {
        c.command("BEGIN", &error) || die(error);
        pg::ResultPtr r(PQexec(c.handle(), QByteArray("COPY " + table + " FROM STDIN").constData()));
        PQresultStatus(r.get()) == PGRES_COPY_IN || die(c.lastError());
        QByteArray data;
        const qint64 end = std::min(n, done + batch);
        for (; done < end; ++done) {
            const Row row = makeRow(done + 1, rng);
            for (qsizetype i = 0; i < row.size(); ++i) {
                if (i)
                    data += '\t';
                data += *row[i].value;
            }
            data += '\n';
            if (data.size() > (1 << 20)) {
                PQputCopyData(c.handle(), data.constData(), int(data.size()));
                data.clear();
            }
        }
        PQputCopyData(c.handle(), data.constData(), int(data.size()));
        PQputCopyEnd(c.handle(), nullptr);
        pg::ResultPtr e(PQgetResult(c.handle()));
        PQresultStatus(e.get()) == PGRES_COMMAND_OK || die(c.lastError());
        while (pg::ResultPtr more{PQgetResult(c.handle())}) {
        }
        // Same per-batch bookkeeping as a replay: one progress row.
        c.exec("INSERT INTO public.tapedeck_replay_progress VALUES ('bench-copy', 's', $1, $1, now()) ON CONFLICT (replay_id, stream) DO UPDATE SET seq = EXCLUDED.seq",
               {QByteArray::number(done)}, &error) || die(error);
        c.command("COMMIT", &error) || die(error);
    }
    g_cpuUsPerRow = (cpuSeconds() - cpu0) * 1e6 / double(n);
    return double(n) / (double(t.nsecsElapsed()) / 1e9);
}

double replay(const std::shared_ptr<Tape> &tape, const QString &dsn, const QString &id, int batch, const QString &js, int threads,
              PgSink::Options options = {false, true})
{
    ReplayOptions o;
    o.replayId = id;
    o.batchEvents = batch;
    o.transformSource = js;
    o.transformFile = QStringLiteral("bench.js");
    o.threads = threads;
    o.target = QStringLiteral("postgresql");
    ReplayEngine engine(tape, o);
    PgSink sink(dsn, options);
    QString error;
    const double cpu0 = cpuSeconds();
    QElapsedTimer t;
    t.start();
    engine.run(&sink, &error) || die(error);
    const double rate = double(tape->eventCount()) / (double(t.nsecsElapsed()) / 1e9);
    g_cpuUsPerRow = (cpuSeconds() - cpu0) * 1e6 / double(tape->eventCount());
    std::printf("    (%lld rows by COPY, %lld by statements, %lld left out as overwritten later; client CPU %.2f us/event)\n",
                sink.copiedRows(), sink.statementRows(), sink.supersededRows(), g_cpuUsPerRow);
    return rate;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const qint64 n = argc > 1 ? QByteArray(argv[1]).toLongLong() : 1000000;
    const int batch = argc > 2 ? QByteArray(argv[2]).toInt() : 20000;
    const QByteArray which = argc > 3 ? QByteArray(argv[3]) : QByteArray("ABCR");
    const QString dsn = qEnvironmentVariable("TAPEDECK_PG_URI");
    if (dsn.isEmpty())
        die(QStringLiteral("TAPEDECK_PG_URI is not set"));
    QTemporaryDir dir;
    // BENCH_TAPE=PATH keeps the tape there and reuses it in later runs of the same N
    // (writing it takes longer than the benchmark).
    const QString kept = qEnvironmentVariable("BENCH_TAPE");
    const QString path = kept.isEmpty() ? dir.filePath(QStringLiteral("bench.tape")) : kept;
    const QString suffix = kept.isEmpty() ? QUuid::createUuid().toString(QUuid::Id128).left(8) : QStringLiteral("kept%1").arg(n);
    const QString table = QStringLiteral("bench_replay_") + suffix;
    if (kept.isEmpty() || !QFile::exists(path))
        writeBenchTape(path, table, n, n, 1);
    QString error;
    const auto tape = Tape::open(path, &error);
    tape || die(error);
    PgConnection c;
    c.open(dsn, PgConnection::Kind::Sql, &error) || die(error);
    const QByteArray t = table.toUtf8();
    c.command("CREATE TABLE IF NOT EXISTS public.tapedeck_replay_progress (replay_id text NOT NULL, stream text NOT NULL, "
              "position bigint NOT NULL, seq bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (replay_id, stream))",
              &error);
    c.command("DROP TABLE IF EXISTS " + t + "_copy, " + t + "; DELETE FROM public.tapedeck_replay_progress WHERE replay_id LIKE 'bench-%"
                  + suffix.toUtf8() + "'; CREATE TABLE " + t + "_copy " + Ddl + "; CREATE TABLE " + t + ' ' + Ddl,
              &error)
        || die(error);
    std::printf("bench_replay: %lld change events (inserts of distinct keys, ~120-byte rows), batch %d, PostgreSQL %d\n", n, batch,
                c.serverVersion());
    // The reference is taken twice, first and last, and the faster counts:
    // the first run on a fresh server also pays for creating WAL segments.
    double copy = rawCopy(c, t + "_copy", n, batch);
    std::printf("raw COPY (one transaction per batch)            %9.0f rows/s  (client CPU %.2f us/row)\n", copy, g_cpuUsPerRow);
    double a = 0, b = 0, b2 = 0, b2lanes = 0;
    if (which.contains('A') || which.contains('B')) {
        a = replay(tape, dsn, QStringLiteral("bench-a-") + suffix, batch, {}, 1);
        std::printf("A identity into an empty table                  %9.0f events/s  %.2fx the first COPY\n", a, a / copy);
    }
    if (which.contains('B')) {
        b = replay(tape, dsn, QStringLiteral("bench-b-") + suffix, batch, {}, 1);
        std::printf("B identity upserts into the populated table     %9.0f events/s  %.2fx the first COPY\n", b, b / copy);
        // The same, when every row differs from the table's (so none is skipped as unchanged).
        (c.command("UPDATE " + t + " SET note = note || '*'", &error) && c.command("VACUUM " + t, &error)) || die(error);
        b2 = replay(tape, dsn, QStringLiteral("bench-b2-") + suffix, batch, {}, 1);
        std::printf("B2 ... when every row changes                   %9.0f events/s  %.2fx the first COPY\n", b2, b2 / copy);
        // The same with two connections (PgSink lanes).
        (c.command("UPDATE " + t + " SET note = note || '*'", &error) && c.command("VACUUM " + t, &error)) || die(error);
        const int lanes = qEnvironmentVariableIsSet("BENCH_LANES") ? qEnvironmentVariableIntValue("BENCH_LANES") : 2;
        b2lanes = replay(tape, dsn, QStringLiteral("bench-b2l-") + suffix, batch, {}, 1, PgSink::Options{false, true, {}, lanes});
        std::printf("B2 ... with %d connections                       %9.0f events/s  %.2fx the first COPY\n", lanes, b2lanes, b2lanes / copy);
    }
    c.command("TRUNCATE " + t, &error) || die(error);
    const QString js = QStringLiteral(
        "function transform(e, ctx) {\n"
        "  if (e.op !== 'insert' && e.op !== 'update') return null;\n"
        "  const r = e.new;\n"
        "  return {table: e.table, key: {id: r.id}, row: {id: r.id, name: r.name.toUpperCase(), amount: r.amount, big: r.big,\n"
        "          note: r.note, ts: r.ts, flag: r.flag}};\n"
        "}\n");
    double c1 = 0, c2 = 0;
    for (const int threads : {1, 2}) {
        if (qEnvironmentVariableIsSet("BENCH_C_THREADS") && threads != qEnvironmentVariableIntValue("BENCH_C_THREADS"))
            continue;
        if (!which.contains('C'))
            break;
        c.command("TRUNCATE " + t, &error) || die(error);
        const double cj = replay(tape, dsn, QStringLiteral("bench-c%1-").arg(threads) + suffix, batch, js, threads);
        std::printf("C small JS transform, %d engine(s), empty table  %9.0f events/s  %.2fx the first COPY\n", threads, cj, cj / copy);
        (threads == 1 ? c1 : c2) = cj;
    }
    double r = 0;
    if (which.contains('R')) {
        // A rebuild from a log of updates: N events over N/10 keys (each key
        // inserted, then updated 9 times), into an empty table: only the last
        // version of each key needs writing (replay.md, "Rebuilds").
        const QString rpath = kept.isEmpty() ? dir.filePath(QStringLiteral("updates.tape")) : kept + QStringLiteral(".updates");
        const QString rtable = table + QStringLiteral("_u");
        const qint64 keys = std::max<qint64>(1, n / 10);
        if (kept.isEmpty() || !QFile::exists(rpath))
            writeBenchTape(rpath, rtable, n, keys, 2);
        const auto rtape = Tape::open(rpath, &error);
        rtape || die(error);
        const QByteArray rt = rtable.toUtf8();
        c.command("DROP TABLE IF EXISTS " + rt + "; CREATE TABLE " + rt + ' ' + Ddl, &error) || die(error);
        r = replay(rtape, dsn, QStringLiteral("bench-r-") + suffix, batch, {}, 1);
        std::printf("R rebuild from %lld updates of %lld keys           %9.0f events/s  %.2fx the first COPY\n", n, keys, r, r / copy);
        c.command("DROP TABLE " + rt, &error);
    }
    (c.command("DROP TABLE " + t + "_copy; CREATE TABLE " + t + "_copy " + Ddl, &error)
     && c.command("DELETE FROM public.tapedeck_replay_progress WHERE replay_id = 'bench-copy'", &error))
        || die(error);
    const double copyAgain = rawCopy(c, t + "_copy", n, batch);
    std::printf("raw COPY again, at the end                      %9.0f rows/s  (client CPU %.2f us/row); ratios are to the faster\n",
                copyAgain, g_cpuUsPerRow);
    copy = std::max(copy, copyAgain);
    // One line for closing notes: ratios to the faster raw COPY of this run (goals: A >= 0.8, B >= 0.45, C >= 0.35).
    auto ratio = [&](double r) { return r > 0 ? QByteArray::number(r / copy, 'f', 2) + 'x' : QByteArray("-"); };
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    std::printf("summary: n=%lld batch=%d copy=%.0f/s A=%s B=%s B2=%s B2x2=%s C1=%s C2=%s R=%s load=%.2f\n", n, batch, copy,
                ratio(a).constData(), ratio(b).constData(), ratio(b2).constData(), ratio(b2lanes).constData(), ratio(c1).constData(), ratio(c2).constData(), ratio(r).constData(), load[0]);
    c.command("DROP TABLE " + t + "_copy; DROP TABLE " + t + "; DELETE FROM public.tapedeck_replay_progress WHERE replay_id LIKE 'bench-%'", &error);
    return 0;
}
