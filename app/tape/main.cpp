// `tape`: the command-line twin of the Tapedeck GUI.
#include "app/tape/commands.h"

#include <QCoreApplication>

#include <csignal>
#include <cstdio>

namespace {

const char Help[] =
    "Usage: tape COMMAND [OPTIONS]\n"
    "Record, inspect and replay event logs (Kafka records, Postgres change events).\n"
    "\n"
    "Commands:\n"
    "  import FILE.jsonl|- -o OUT.tape [--cluster NAME] [--skip-bad]\n"
    "                      import kcat -J envelope lines into a tape\n"
    "  export IN.tape [-o FILE]\n"
    "                      write the tape as kcat -J envelope lines, in log order\n"
    "  info IN.tape [--json]\n"
    "                      events, streams (topic/partition or table), positions, time range, source\n"
    "  verify IN.tape      read every chunk and check its checksum\n"
    "  make-demo -o OUT.tape [--sqlite ORDERS.sqlite]\n"
    "                      write the bundled demo tape (and the SQLite copy of its orders that lost\n"
    "                      and garbled some writes: the dual-write story for tape diff)\n"
    "  compact IN.tape [--json] [--now MS] [--full] [--set NAME=VALUE]... [-o OUT.tape]\n"
    "                      what Kafka's log cleaner would keep: the next pass at --now and the\n"
    "                      fully compacted log, per partition (-o writes the survivors; --full: of the latter)\n"
    "  topics --brokers B [-t TOPIC]... [-X prop=val]... [-F FILE] [--json]\n"
    "                      list brokers, topics, partitions, watermarks and cleanup.policy\n"
    "  record kafka --brokers B --topic T [--partition P]... [--from beginning|end|OFFSET|@TIME]\n"
    "               [--to end|OFFSET|@TIME] [--follow] [--count N] [--isolation read_committed|read_uncommitted]\n"
    "               [--show-aborted] [--no-configs] [-X prop=val]... [-F FILE] -o OUT.tape\n"
    "                      record topics into a tape, without committing offsets or joining a group;\n"
    "                      --to bounds are inclusive; --follow records until Ctrl-C\n"
    "  slots [--dsn DSN] [--json]\n"
    "                      PostgreSQL replication slots (plugin, active, LSNs, WAL retained), publications\n"
    "                      and the settings logical decoding needs; DSN: conninfo or URI, PG* variables apply\n"
    "  record postgres [--dsn DSN] --slot NAME [--plugin pgoutput|wal2json|test_decoding] [--publication P]...\n"
    "               [--mode copy|peek|temporary|consume] [--limit N] [--follow] [--snapshot TABLE[,TABLE...]] -o OUT.tape\n"
    "                      record a logical replication slot's changes; copy (default), peek and temporary\n"
    "                      never move the slot, consume confirms what was recorded; --snapshot starts the tape\n"
    "                      with the tables' rows (read events) in a snapshot consistent with the changes\n"
    "  replay IN.tape --into postgresql://...|sqlite:PATH|kafka://BROKERS/TOPIC [--transform FILE.js]\n"
    "               [--from POS|@TIME] [--to POS|@TIME] [--replay-id ID] [--dry-run] [--on-error stop|skip]\n"
    "               [--dead-letter FILE] [--create-tables] [--batch N] [--threads N] [--timeout-ms MS]\n"
    "               [--connections N] [--heap-mb MB] [-X prop=val]...\n"
    "                      write events through a JavaScript transform (default: change events to the same\n"
    "                      tables) in batches, exactly once; rerunning with the same --replay-id (default:\n"
    "                      the tape's file name) continues after the last committed batch; --dry-run prints\n"
    "                      the outputs as JSON lines instead; --threads: transform engines; --connections:\n"
    "                      PostgreSQL connections writing keys in parallel (fixed by a replay id's first run);\n"
    "                      --timeout-ms, --heap-mb: per event, the time and JavaScript heap a transform may use\n"
    "  state IN.tape [--at N|LSN|@TIME] [--topic T|--table T] [--limit N] [--json]\n"
    "                      the table the log implies after event #N (default: the end), per topic\n"
    "                      (Kafka: key -> latest value, tombstones delete) or table (by primary key)\n"
    "  diff IN.tape --against postgresql://...|sqlite:PATH --table T [--topic T] [--key COL[,COL]]\n"
    "               [--map COL=SRC[,COL=SRC]] [--at N|LSN|@TIME] [--json] [--limit N]\n"
    "               [--repair-sql FILE] [--repair-replay [--replay-id ID]]\n"
    "                      the state against a live table: missing, extra and differing keys with their\n"
    "                      last events; exit 0 when equal, 3 when they differ; --repair-sql writes a\n"
    "                      script that fixes the table, --repair-replay writes the state's rows into it\n"
    "  demo-cluster --seed TAPE [--seconds N]\n"
    "                      run the built-in mock Kafka cluster seeded with a tape's records\n"
    "\n"
    "Positions and times (the same everywhere, GUI included):\n"
    "  POS                 an offset (0, 1, ...) or a PostgreSQL LSN such as 16/B374D848\n"
    "  @TIME               ms since the epoch, or ISO 8601 such as @2026-12-07T10:15:00Z or\n"
    "                      @'2026-12-07 10:15:00.250+01:00'; a time without a zone is UTC\n"
    "\n"
    "Options:\n"
    "  -h, --help          show this help\n"
    "  -v, --version       show the version\n"
    "\n"
    "Exit status: 0 on success, 1 on an error (one line on stderr), 2 on a usage error\n"
    "(tape diff: 3 when differences were found).\n";

} // namespace

int main(int argc, char **argv)
{
    // Past a file size limit a write fails with EFBIG, which the command
    // reports with the file's name and removes its partial output, instead
    // of the process dying of SIGXFSZ and leaving it.
    std::signal(SIGXFSZ, SIG_IGN);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("tape"));
    QCoreApplication::setApplicationVersion(QStringLiteral(TAPEDECK_VERSION));
    QStringList args = QCoreApplication::arguments().mid(1);
    if (args.isEmpty()) {
        std::fputs(Help, stderr);
        return 2;
    }
    const QString command = args.takeFirst();
    if (command == QLatin1String("-h") || command == QLatin1String("--help") || command == QLatin1String("help")) {
        std::fputs(Help, stdout);
        return 0;
    }
    if (command == QLatin1String("-v") || command == QLatin1String("--version")) {
        std::printf("tape %s\n", TAPEDECK_VERSION);
        return 0;
    }
    if (args.contains(QLatin1String("--help")) || args.contains(QLatin1String("-h"))) {
        std::fputs(Help, stdout);
        return 0;
    }
    if (command == QLatin1String("import"))
        return commands::importJson(args);
    if (command == QLatin1String("export"))
        return commands::exportJson(args);
    if (command == QLatin1String("info"))
        return commands::info(args);
    if (command == QLatin1String("verify"))
        return commands::verify(args);
    if (command == QLatin1String("make-demo"))
        return commands::makeDemo(args);
    if (command == QLatin1String("compact"))
        return commands::compact(args);
    if (command == QLatin1String("topics"))
        return commands::topics(args);
    if (command == QLatin1String("record") && args.value(0) == QLatin1String("postgres"))
        return commands::recordPostgres(args);
    if (command == QLatin1String("record"))
        return commands::recordKafka(args);
    if (command == QLatin1String("slots"))
        return commands::slots(args);
    if (command == QLatin1String("replay"))
        return commands::replay(args);
    if (command == QLatin1String("state"))
        return commands::state(args);
    if (command == QLatin1String("diff"))
        return commands::diff(args);
    if (command == QLatin1String("demo-cluster"))
        return commands::demoCluster(args);
    std::fprintf(stderr, "tape: unknown command '%s' (see 'tape --help')\n", command.toLocal8Bit().constData());
    return 2;
}
