#!/usr/bin/env bash
# A local single-node Kafka broker (KRaft: broker and controller in one JVM) for development, the examples
# and CI, run from the jars the outbox-kafka-test-broker module copies out of Maven Central: no Docker and no
# Kafka installation needed.
#
#   scripts/kafka.sh start    build the jars if missing, format the storage once, start, wait for the port
#   scripts/kafka.sh stop     stop it (SIGTERM, then SIGKILL after 30 s) and wait until it is gone
#   scripts/kafka.sh status   say whether it runs; exit 0 if it does, 3 if not
#   scripts/kafka.sh restart  stop, then start (keeps topics and offsets)
#   scripts/kafka.sh reset    stop, then delete its data and log (the next start formats a fresh cluster)
#
# Settings (environment):
#   KAFKA_PORT             client port on 127.0.0.1 (default 9092); the bootstrap address is 127.0.0.1:$KAFKA_PORT
#   KAFKA_CONTROLLER_PORT  KRaft controller port on 127.0.0.1 (default 9093)
#   KAFKA_HOME_DIR         where config, data, log and pid file live (default ${TMPDIR:-/tmp}/outbox4j-kafka-$KAFKA_PORT)
#   KAFKA_HEAP_OPTS        JVM heap options (default -Xms128m -Xmx512m)
#   KAFKA_JVM_PERFORMANCE_OPTS  GC and JIT options (default -XX:+UseSerialGC -XX:TieredStopAtLevel=1: starts fast and
#                          takes little CPU beside a build; a benchmark wants -XX:+UseG1GC, see docs/performance.md)
#   KAFKA_BROKER_PROPERTIES  broker settings added to server.properties, as key=value separated by spaces or newlines
#                          (e.g. group.coordinator.append.linger.ms=0, see docs/kafka.md); a later one wins
#   OUTBOX_KAFKA_LIBS      directory of the broker's jars (default outbox-kafka-test-broker/target/kafka-libs)
#   JAVA_HOME              the JDK to run it with (default: java on the PATH)
#
# Idempotent: start when it runs, or stop when it does not, says so and exits 0.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
HOME_DIR=${KAFKA_HOME_DIR:-${TMPDIR:-/tmp}/outbox4j-kafka-$PORT}
LIBS=${OUTBOX_KAFKA_LIBS:-$ROOT/outbox-kafka-test-broker/target/kafka-libs}
HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
PERFORMANCE_OPTS=${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
PID_FILE=$HOME_DIR/kafka.pid
LOG_FILE=$HOME_DIR/kafka.log
DATA_DIR=$HOME_DIR/data
START_TIMEOUT=60

say() { printf '[kafka] %s\n' "$*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  local pid
  [[ -f $PID_FILE ]] || return 1
  pid=$(<"$PID_FILE")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  # a recycled pid is not our broker
  grep -q 'kafka\.Kafka' "/proc/$pid/cmdline" 2>/dev/null || [[ ! -d /proc ]] || return 1
  echo "$pid"
}

ensure_libs() {
  if compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null; then
    return
  fi
  if [[ -n ${OUTBOX_KAFKA_LIBS:-} ]]; then
    say "OUTBOX_KAFKA_LIBS=$LIBS holds no kafka_2.13-*.jar"
    exit 1
  fi
  say "building the broker's jars: ./mvnw -q -B -pl outbox-kafka-test-broker package"
  (cd "$ROOT" && ./mvnw -q -B -ntp -pl outbox-kafka-test-broker package)
  if ! compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null; then
    say "the build left no kafka_2.13-*.jar in $LIBS"
    exit 1
  fi
}

write_config() {
  mkdir -p "$HOME_DIR"
  cat >"$HOME_DIR/server.properties" <<PROPERTIES
# written by scripts/kafka.sh: a single-node KRaft cluster on loopback, for development and tests only
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPERTIES
  local property properties=()
  read -r -d '' -a properties <<<"${KAFKA_BROKER_PROPERTIES:-}" || true
  for property in "${properties[@]}"; do
    if [[ $property != ?*=* ]]; then
      say "KAFKA_BROKER_PROPERTIES: '$property' is not key=value"
      exit 1
    fi
    echo "$property" >>"$HOME_DIR/server.properties"
  done
  cat >"$HOME_DIR/log4j2.properties" <<'PROPERTIES'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
PROPERTIES
}

java_opts() {
  # shellcheck disable=SC2206 # KAFKA_HEAP_OPTS and KAFKA_JVM_PERFORMANCE_OPTS are lists of options
  JAVA_OPTS=($HEAP_OPTS $PERFORMANCE_OPTS -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=file:$HOME_DIR/log4j2.properties" -cp "$LIBS/*")
}

format_storage() {
  if [[ -f $DATA_DIR/meta.properties ]]; then
    return
  fi
  local cluster_id
  # a Kafka cluster id: 16 random bytes in URL-safe base64 without padding, not starting with '-'
  cluster_id="A$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | cut -c2-22)"
  say "formatting the storage in $DATA_DIR (cluster id $cluster_id)"
  "$JAVA" "${JAVA_OPTS[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$HOME_DIR/server.properties" \
    --standalone >>"$LOG_FILE" 2>&1 || {
    say "formatting failed; the end of $LOG_FILE:"
    tail -n 30 "$LOG_FILE" >&2
    exit 1
  }
}

start() {
  local pid deadline
  if pid=$(running_pid); then
    say "already running (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  if port_open "$PORT"; then
    say "port $PORT is in use by a process this script did not start; not starting a second broker"
    say "(if it is a Kafka broker, use it: bootstrap servers 127.0.0.1:$PORT)"
    exit 1
  fi
  ensure_libs
  write_config
  java_opts
  format_storage
  say "starting on 127.0.0.1:$PORT (log: $LOG_FILE)"
  # setsid + no inherited descriptors: the broker outlives this shell and holds no pipe of its caller open.
  # The broker's own shell writes the pid file before it becomes the JVM: setsid forks when it is a process
  # group leader (as under job control), so $! would not be the broker's pid.
  rm -f "$PID_FILE"
  nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" "$JAVA" "${JAVA_OPTS[@]}" kafka.Kafka \
    "$HOME_DIR/server.properties" </dev/null >>"$LOG_FILE" 2>&1 &
  deadline=$((SECONDS + 10))
  until [[ -s $PID_FILE ]]; do
    if ((SECONDS > deadline)); then
      say "the broker's shell wrote no pid file within 10 s"
      exit 1
    fi
    sleep 0.1
  done
  deadline=$((SECONDS + START_TIMEOUT))
  until port_open "$PORT"; do
    if ! running_pid >/dev/null; then
      say "the broker exited during startup; the end of $LOG_FILE:"
      tail -n 30 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      exit 1
    fi
    if ((SECONDS > deadline)); then
      say "the broker did not open port $PORT within $START_TIMEOUT s; the end of $LOG_FILE:"
      tail -n 30 "$LOG_FILE" >&2
      exit 1
    fi
    sleep 0.5
  done
  say "running (pid $(<"$PID_FILE")): bootstrap servers 127.0.0.1:$PORT"
  echo "127.0.0.1:$PORT"
}

stop() {
  local pid deadline
  if ! pid=$(running_pid); then
    say "not running"
    rm -f "$PID_FILE"
    return 0
  fi
  say "stopping (pid $pid)"
  kill -TERM "$pid"
  deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    if ((deadline > 0 && SECONDS > deadline)); then
      say "still running after 30 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=0
    fi
    sleep 0.5
  done
  rm -f "$PID_FILE"
  say "stopped"
}

status() {
  local pid
  if pid=$(running_pid); then
    if port_open "$PORT"; then
      say "running (pid $pid): bootstrap servers 127.0.0.1:$PORT"
    else
      say "starting (pid $pid): port $PORT not open yet"
    fi
    return 0
  fi
  say "not running (port $PORT $(port_open "$PORT" && echo "in use by another process" || echo free))"
  return 3
}

reset() {
  stop
  say "deleting $HOME_DIR"
  rm -rf "$HOME_DIR"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop && start ;;
  reset) reset ;;
  *)
    echo "usage: $0 start|stop|status|restart|reset" >&2
    exit 2
    ;;
esac
