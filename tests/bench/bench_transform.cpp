// `bench_transform TAPE [N] [CASE [outputs|rows]]`: the transform's own cost per event, without a
// target: N change events of TAPE (default 200 000) decoded once, then run
// through Transform::runMany as the replay runs them (change fields from
// their stored bytes) with scripts of growing work, against the
// identity mapping in C++ (identityOutputs) in the same process.
//   drop      returns null: building the event objects
//   const     returns one constant output: + reading outputs back
//   small     the small transform of bench_replay (case C)
//   built     its work without returning the output
//   varied    an output whose column differs from event to event
#include "core/tape/chunkencoder.h"
#include "core/replay/replay.h"
#include "core/tape/tape.h"
#include "core/transform/transform.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <cstdio>
#include <cstdlib>

using namespace tapedeck;

namespace {

double cpuNow()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_transform TAPE [N]\n");
        return 2;
    }
    QString error;
    const auto tape = Tape::open(QString::fromLocal8Bit(argv[1]), &error);
    if (!tape) {
        std::fprintf(stderr, "bench_transform: %s\n", qPrintable(error));
        return 1;
    }
    const qint64 n = std::min(tape->eventCount(), argc > 2 ? QByteArray(argv[2]).toLongLong() : 200000);
    std::vector<Event> events(static_cast<size_t>(n));
    std::vector<qint64> seqs(static_cast<size_t>(n));
    for (qint64 i = 0; i < n; ++i) {
        if (!tape->event(i, &events[size_t(i)], &error)) {
            std::fprintf(stderr, "bench_transform: %s\n", qPrintable(error));
            return 1;
        }
        seqs[size_t(i)] = i;
    }
    // As the replay gives them: events without their change fields, which
    // the transform reads from the stored bytes (Chunk::fill(..., change = false)).
    std::vector<Event> light(events);
    std::vector<QByteArray> stored;
    std::vector<QByteArrayView> extensions;
    for (size_t i = 0; i < light.size(); ++i) {
        stored.push_back(ChunkEncoder::encodeExtension(events[i]));
        Event &e = light[i];
        e.oldRow.clear();
        e.newRow.clear();
        e.primaryKey.clear();
        e.transactionId = e.commitLsn = e.commitTimeUs = -1;
    }
    for (const QByteArray &b : stored)
        extensions.push_back(b);
    std::vector<const Event *> ptrs;
    for (const Event &e : light)
        ptrs.push_back(&e);

    // Each figure is the best of `Rounds` passes: this machine's CPU time per
    // event varies by a third from one pass to the next.
    const int Rounds = 3;
    double identityUs = 1e9;
    qint64 outputs = 0;
    for (int round = 0; round < Rounds; ++round) {
        const double t0 = cpuNow();
        outputs = 0;
        for (qint64 i = 0; i < n; ++i) {
            QList<SinkOutput> out;
            identityOutputs(events[size_t(i)], i, {}, &out, &error);
            outputs += out.size();
        }
        identityUs = std::min(identityUs, (cpuNow() - t0) * 1e6 / double(n));
    }
    std::printf("bench_transform: %lld events; C++ identity mapping %.2f us/event (%lld outputs)\n", n, identityUs, outputs);

    const struct
    {
        const char *name;
        const char *js;
    } cases[] = {
        {"drop", "function transform(e, ctx) { return null; }\n"},
        {"const", "function transform(e, ctx) { return {table: 't', key: {id: '1'}, row: {id: '1', a: 'x'}}; }\n"},
        {"small", "function transform(e, ctx) {\n"
                  "  if (e.op !== 'insert' && e.op !== 'update') return null;\n"
                  "  const r = e.new;\n"
                  "  return {table: e.table, key: {id: r.id}, row: {id: r.id, name: r.name.toUpperCase(), amount: r.amount, big: r.big,\n"
                  "          note: r.note, ts: r.ts, flag: r.flag}};\n"
                  "}\n"},
        // The small transform's work, but its output dropped: what reading outputs back costs is small - this.
        {"built", "function transform(e, ctx) {\n"
                  "  if (e.op !== 'insert' && e.op !== 'update') return null;\n"
                  "  const r = e.new;\n"
                  "  const out = {table: e.table, key: {id: r.id}, row: {id: r.id, name: r.name.toUpperCase(), amount: r.amount, big: r.big,\n"
                  "          note: r.note, ts: r.ts, flag: r.flag}};\n"
                  "  return out.table === '' ? out : null;\n"
                  "}\n"},
        // Outputs whose key sets differ from event to event (JSON with ever other keys).
        {"varied", "function transform(e) { return {table: 't', op: 'insert', row: {['c' + e.position]: e.position}}; }\n"},
    };
    const int batch = 20000;
    const QByteArray only = argc > 3 ? QByteArray(argv[3]) : QByteArray();
    for (const auto &c : cases) {
        if (!only.isEmpty() && only != c.name)
            continue;
        Transform t;
        if (!t.compile(QString::fromLatin1(c.js), QStringLiteral("bench.js"), {}, &error)) {
            std::fprintf(stderr, "bench_transform: %s\n", qPrintable(error));
            return 1;
        }
        std::vector<Transform::Outcome> outcomes(static_cast<size_t>(batch));
        std::vector<Transform::Outcome *> optrs;
        for (auto &o : outcomes)
            optrs.push_back(&o);
        // As SinkOutputs, then as rows (the replay's way into PostgreSQL).
        for (const bool asRows : {false, true}) {
            if (argc > 4 && QByteArray(argv[4]) != (asRows ? "rows" : "outputs"))
                continue;
            Transform::Rows rows;
            qint64 outs = 0, errors = 0;
            double us = 1e9;
            for (int round = 0; round < Rounds; ++round) {
                outs = errors = 0;
                const double t0 = cpuNow();
                for (qint64 from = 0; from < n; from += batch) {
                    const size_t m = size_t(std::min<qint64>(batch, n - from));
                    t.runMany({ptrs.data() + from, m}, {seqs.data() + from, m}, {optrs.data(), m}, asRows ? &rows : nullptr,
                              {extensions.data() + from, m});
                    for (size_t i = 0; i < m; ++i) {
                        outs += outcomes[i].outputs.size() + outcomes[i].rowCount;
                        errors += outcomes[i].result != Transform::Result::Ok;
                    }
                }
                us = std::min(us, (cpuNow() - t0) * 1e6 / double(n));
            }
            std::printf("%-6s %-5s %6.2f us/event  %5.1fx the identity mapping  (%lld outputs, %lld errors)\n", c.name,
                        asRows ? "rows" : "", us, us / identityUs, outs, errors);
        }
    }
    return 0;
}
