#!/usr/bin/env bash
# Real single-node Apache Kafka 4.x broker (KRaft, combined broker+controller)
# for Tapedeck's tests, run from Maven Central jars (see kafka/pom.xml).
#   scripts/services/kafka.sh start|stop|status|env
# State (data, logs, pid): ${TAPEDECK_SERVICES_DIR:-/tmp/tapedeck-services}/kafka
# Ports: ${TAPEDECK_KAFKA_PORT:-39092} (clients), ${TAPEDECK_KAFKA_CONTROLLER_PORT:-39093}
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POM=$HERE/kafka/pom.xml
BASE=${TAPEDECK_SERVICES_DIR:-/tmp/tapedeck-services}
STATE=$BASE/kafka
PORT=${TAPEDECK_KAFKA_PORT:-39092}
CPORT=${TAPEDECK_KAFKA_CONTROLLER_PORT:-39093}
TIMEOUT=${TAPEDECK_KAFKA_START_TIMEOUT:-90}
HEAP=${TAPEDECK_KAFKA_HEAP:-512m}
PIDFILE=$STATE/kafka.pid
LOGDIR=$STATE/logs
SERVER_LOG=$LOGDIR/server.log     # log4j2: WARN and above + startup lines
STDOUT_LOG=$LOGDIR/stdout.log     # JVM stdout/stderr
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/tapedeck
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=ports.sh
. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

show_log_tail() {
  local f
  for f in "$STDOUT_LOG" "$SERVER_LOG"; do
    if [ -s "$f" ]; then
      log "--- last lines of $f ---"
      tail -n 40 "$f" >&2 || true
    fi
  done
}

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (run scripts/install-deps.sh --test)"
  local v
  v=$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
  [ "${v%%.*}" -ge 17 ] 2>/dev/null || die "Kafka 4.x needs Java 17+, $JAVA is $v"
}

# Classpath of kafka/pom.xml, cached per pom content; mvn runs only when the
# cache is missing or names a jar that is gone from ~/.m2.
classpath_file() {
  local sum cpf
  sum=$(sha256sum "$POM" | cut -c1-16)
  cpf=$CACHE/kafka-classpath-$sum.txt
  if [ -s "$cpf" ] && tr ':' '\n' < "$cpf" | while read -r j; do [ -f "$j" ] || exit 1; done; then
    echo "$cpf"; return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (run scripts/install-deps.sh --test)"
  mkdir -p "$CACHE"
  log "resolving Kafka jars with Maven (first run downloads ~40 MB into ~/.m2)"
  local mlog=$CACHE/mvn-$sum.log
  if ! mvn -B -q -f "$POM" "$DEP_PLUGIN:build-classpath" -Dmdep.outputFile="$cpf.tmp" >"$mlog" 2>&1 &&
     ! mvn -B -q -o -f "$POM" "$DEP_PLUGIN:build-classpath" -Dmdep.outputFile="$cpf.tmp" >>"$mlog" 2>&1; then
    tail -n 40 "$mlog" >&2
    die "mvn dependency:build-classpath failed (log: $mlog)"
  fi
  mv "$cpf.tmp" "$cpf"
  echo "$cpf"
}

pid_alive() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # guard against a recycled pid
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
}

is_ready() {
  if command -v kcat >/dev/null 2>&1; then
    kcat -L -b "127.0.0.1:$PORT" -m 3 2>/dev/null | grep -q '1 brokers:'
  else
    grep -q 'Kafka Server started' "$SERVER_LOG" 2>/dev/null
  fi
}

write_config() {
  mkdir -p "$STATE/data" "$LOGDIR"
  cat > "$STATE/server.properties" <<PROPS
# written by scripts/services/kafka.sh
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$STATE/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=${TAPEDECK_KAFKA_AUTO_CREATE_TOPICS:-false}
# log cleaner: fast enough for compaction tests, small dedupe buffer (on heap)
log.cleaner.backoff.ms=200
log.cleaner.dedupe.buffer.size=16777216
PROPS
  cat > "$STATE/log4j2.properties" <<L4J
status = warn
name = tapedeck-kafka
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $SERVER_LOG
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
# "Kafka Server started" and the startup/shutdown lines
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
L4J
}

cmd_start() {
  if pid_alive; then
    refuse_foreign_port "$PORT" "$(cat "$PIDFILE")"
    local deadline=$((SECONDS + TIMEOUT))
    until is_ready; do
      [ $SECONDS -lt $deadline ] || { show_log_tail; die "running (pid $(cat "$PIDFILE")) but not ready"; }
      sleep 1
    done
    log "already running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
    return 0
  fi
  refuse_foreign_port "$PORT"
  refuse_foreign_port "$CPORT"
  check_java
  local cpf cp
  cpf=$(classpath_file)
  cp=$(cat "$cpf")
  # A broker that is not running leaves nothing worth keeping: start fresh.
  rm -rf "$STATE"
  mkdir -p "$STATE"
  cp "$cpf" "$STATE/classpath.txt"
  write_config

  local jvm=(-Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -Djava.awt.headless=true
             -Dlog4j2.configurationFile="$STATE/log4j2.properties"
             -Dkafka.logs.dir="$LOGDIR")
  # Kafka's Uuid: 16 random bytes, URL-safe base64 without padding; like
  # Uuid.randomUuid() avoid a leading '-' (would parse as an option).
  local cluster_id
  while :; do
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
    [ "${cluster_id:0:1}" != - ] && break
  done
  if ! "$JAVA" "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format \
         -t "$cluster_id" -c "$STATE/server.properties" >"$LOGDIR/format.log" 2>&1; then
    cat "$LOGDIR/format.log" >&2
    die "formatting storage failed"
  fi

  log "starting Kafka on 127.0.0.1:$PORT (controller $CPORT, logs: $LOGDIR)"
  nohup "$JAVA" "${jvm[@]}" -cp "$cp" kafka.Kafka "$STATE/server.properties" \
    >"$STDOUT_LOG" 2>&1 </dev/null &
  echo $! > "$PIDFILE"

  local deadline=$((SECONDS + TIMEOUT)) t0=$SECONDS
  until is_ready; do
    if ! pid_alive; then
      show_log_tail
      die "broker exited during startup"
    fi
    if [ $SECONDS -ge $deadline ]; then
      show_log_tail
      die "not ready after ${TIMEOUT}s (pid $(cat "$PIDFILE") left running; run '$0 stop')"
    fi
    sleep 0.5
  done
  refuse_foreign_port "$PORT" "$(cat "$PIDFILE")"
  log "ready after $((SECONDS - t0))s (pid $(cat "$PIDFILE"))"
}

cmd_stop() {
  if pid_alive; then
    local pid i
    pid=$(cat "$PIDFILE")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid still alive after 30s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  rm -rf "$STATE"
  log "stopped (removed $STATE)"
}

cmd_status() {
  if pid_alive && is_ready; then
    echo "kafka: running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), state $STATE)"
  else
    echo "kafka: not running"
    return 1
  fi
}

cmd_env() {
  cat <<ENV
export TAPEDECK_KAFKA_BOOTSTRAP=127.0.0.1:$PORT
export TAPEDECK_KAFKA_LOG_DIRS=$STATE/data
export TAPEDECK_KAFKA_CLASSPATH_FILE=$STATE/classpath.txt
ENV
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
