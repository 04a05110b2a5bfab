#!/usr/bin/env bash
# infra/cassandra/local.sh — a single-node Apache Cassandra 5.0 on 127.0.0.1
# for Feedline development and CI, without Docker.
#
#   local.sh start         fetch jars (once), render config, start, wait for CQL
#   local.sh stop          SIGTERM (Cassandra drains), then SIGKILL after a timeout
#   local.sh status        prints running/stopped; exit 0 if running, 3 if not
#   local.sh cqlsh-check   one readiness probe against the native port (exit 0/1)
#   local.sh reset         wipe the data folder (node must be stopped)
#
# Cassandra is taken from Maven Central (org.apache.cassandra:cassandra-all and
# its runtime dependencies) with Maven, using the versioned infra/cassandra/pom.xml,
# and copied once into a cache folder; later runs never call Maven again.
# See infra/cassandra/README.md for the environment variables.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ---------------------------------------------------------------- settings --
CASS_VERSION=${FEEDLINE_CASSANDRA_VERSION:-5.0.9}
CACHE_HOME=${FEEDLINE_CASSANDRA_HOME:-${HOME:?HOME is not set}/.cache/feedline/cassandra}
DATA=${FEEDLINE_CASSANDRA_DATA:-${HOME:?HOME is not set}/.cache/feedline/cassandra-data}
NATIVE_PORT=${FEEDLINE_CASSANDRA_PORT:-9042}
# Internode (storage) and JMX ports are moved off Cassandra's usual 7000/7001/7199
# so a developer's own Cassandra, or anything else on those ports, is not hit.
STORAGE_PORT=${FEEDLINE_CASSANDRA_STORAGE_PORT:-17000}
SSL_STORAGE_PORT=${FEEDLINE_CASSANDRA_SSL_STORAGE_PORT:-17001}
JMX_PORT=${FEEDLINE_CASSANDRA_JMX_PORT:-17199}        # 0 or empty: no JMX at all
START_TIMEOUT=${FEEDLINE_CASSANDRA_START_TIMEOUT:-180} # seconds
STOP_TIMEOUT=${FEEDLINE_CASSANDRA_STOP_TIMEOUT:-60}    # seconds before SIGKILL
RESET=${FEEDLINE_CASSANDRA_RESET:-0}
EXTRA_JVM_OPTS=${FEEDLINE_CASSANDRA_JVM_OPTS:-}        # appended last, so it wins (e.g. -Xmx2g)
EXTRA_MVN_ARGS=${FEEDLINE_CASSANDRA_MVN_ARGS:-}        # e.g. "-s settings.xml" for a mirror
PY=${PYTHON:-python3}
MVN=${MVN:-mvn}
if [[ -n ${JAVA:-} ]]; then
    JAVA_BIN=$JAVA
elif [[ -n ${JAVA_HOME:-} && -x ${JAVA_HOME}/bin/java ]]; then
    JAVA_BIN=$JAVA_HOME/bin/java
else
    JAVA_BIN=java
fi

LIB_DIR=$CACHE_HOME/$CASS_VERSION/lib
MAIN_CLASS=org.apache.cassandra.service.CassandraDaemon
# Marks a folder as created by this script, so `reset` never wipes anything else.
DATA_MARKER_NAME=.feedline-cassandra-data

# ----------------------------------------------------------------- helpers --
log() { printf 'cassandra-local: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# DATA ends up in cassandra.yaml and a file:// URL, so it must be absolute.
resolve_data_dir() {
    mkdir -p "$DATA"
    DATA=$(cd "$DATA" && pwd)
    PIDFILE=$DATA/cassandra.pid
    LOG_DIR=$DATA/logs
    CONF_DIR=$DATA/conf
}

# True if $1 is a live process running CassandraDaemon.  Checking the command
# line (not just `kill -0`) avoids acting on a recycled pid, and a dead child
# that is still a zombie has an empty command line, so it counts as dead.
is_cassandra_pid() {
    local pid=$1 args
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r /proc/$pid/cmdline ]]; then
        args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    else
        args=$(ps -p "$pid" -o args= 2>/dev/null || true)
    fi
    [[ $args == *"$MAIN_CLASS"* ]]
}

# Prints the pid of our running node, or returns 1.
running_pid() {
    local pid
    [[ -f $PIDFILE ]] || return 1
    pid=$(<"$PIDFILE")
    is_cassandra_pid "$pid" || return 1
    printf '%s\n' "$pid"
}

port_open() {
    # bash's /dev/tcp: no nc/ss needed.  Subshell so the fd is closed again.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

have_driver() {
    command -v "$PY" >/dev/null 2>&1 && "$PY" -c 'import cassandra.cluster' >/dev/null 2>&1
}

# One readiness probe.  With the Python driver we run a real CQL query (the
# native port opens last during startup, but a query proves the node serves
# reads); without it we only check that the port accepts connections.
# Prints what it found on success.
cql_probe() {
    if have_driver; then
        "$PY" - "$NATIVE_PORT" <<'PYEOF' 2>/dev/null
import logging, sys, warnings
warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)  # the driver logs every refused connection
from cassandra.cluster import Cluster
cluster = Cluster(["127.0.0.1"], port=int(sys.argv[1]),
                  connect_timeout=5, control_connection_timeout=5)
try:
    session = cluster.connect()
    row = session.execute("SELECT release_version FROM system.local", timeout=5).one()
    print("CQL ok, release_version=%s" % row.release_version)
finally:
    cluster.shutdown()
PYEOF
    else
        port_open "$NATIVE_PORT" && echo "native port $NATIVE_PORT open (no cassandra-driver for $PY; port check only)"
    fi
}

# system.log is appended to across runs; LOG_START_BYTE (set by cmd_start just
# before launching) makes the tail show only what this start wrote.
LOG_START_BYTE=0
show_log_tail() {
    if [[ -s $LOG_DIR/system.log ]]; then
        log "---- last 60 lines of $LOG_DIR/system.log (this start) ----"
        tail -c +"$((LOG_START_BYTE + 1))" "$LOG_DIR/system.log" | tail -n 60 >&2
    fi
    if [[ -s $LOG_DIR/stdout.log ]]; then
        log "---- last 60 lines of $LOG_DIR/stdout.log ----"
        tail -n 60 "$LOG_DIR/stdout.log" >&2
    fi
}

# ---------------------------------------------------------------- fetching --
# Fetch cassandra-all + runtime deps into $LIB_DIR exactly once.  The copy is
# made in a temp folder and moved into place only when Maven succeeded, so an
# interrupted fetch is retried instead of leaving a half-filled cache.
fetch_jars() {
    # Absolute, so the classpath and -javaagent do not depend on the cwd.
    mkdir -p "$CACHE_HOME"
    CACHE_HOME=$(cd "$CACHE_HOME" && pwd)
    LIB_DIR=$CACHE_HOME/$CASS_VERSION/lib
    if [[ -f $LIB_DIR/.complete ]]; then
        return 0
    fi
    command -v "$MVN" >/dev/null 2>&1 || die "Maven ('$MVN') is needed for the first fetch of Cassandra $CASS_VERSION"
    mkdir -p "$CACHE_HOME/$CASS_VERSION"
    local tmp t0=$SECONDS
    tmp=$(mktemp -d "$CACHE_HOME/$CASS_VERSION/fetch.XXXXXX")
    log "fetching cassandra-all $CASS_VERSION and dependencies from Maven Central (first run only)..."
    # shellcheck disable=SC2086  # EXTRA_MVN_ARGS is intentionally word-split
    if ! "$MVN" -B -q -f "$SCRIPT_DIR/pom.xml" $EXTRA_MVN_ARGS \
            -Dcassandra.version="$CASS_VERSION" \
            dependency:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$tmp/lib" >"$tmp/maven.log" 2>&1; then
        # Maven's own output is kept out of the way unless it failed.
        tail -n 40 "$tmp/maven.log" >&2
        rm -rf "$tmp"
        die "Maven could not fetch cassandra-all $CASS_VERSION"
    fi
    [[ -f $tmp/lib/cassandra-all-$CASS_VERSION.jar ]] || { rm -rf "$tmp"; die "cassandra-all-$CASS_VERSION.jar missing after fetch"; }
    touch "$tmp/lib/.complete"
    rm -rf "$LIB_DIR"
    mv "$tmp/lib" "$LIB_DIR"
    rm -rf "$tmp"
    log "fetched $(find "$LIB_DIR" -name '*.jar' | wc -l | tr -d ' ') jars into $LIB_DIR in $((SECONDS - t0)) s"
}

# ----------------------------------------------------------------- config ---
sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

render_config() {
    mkdir -p "$CONF_DIR" "$LOG_DIR"
    sed -e "s|@@DATA_DIR@@|$(sed_escape "$DATA")|g" \
        -e "s|@@NATIVE_PORT@@|$NATIVE_PORT|g" \
        -e "s|@@STORAGE_PORT@@|$STORAGE_PORT|g" \
        -e "s|@@SSL_STORAGE_PORT@@|$SSL_STORAGE_PORT|g" \
        "$SCRIPT_DIR/cassandra.yaml" >"$CONF_DIR/cassandra.yaml"
    if grep -v '^[[:space:]]*#' "$CONF_DIR/cassandra.yaml" | grep -q '@@[A-Z_]*@@'; then
        die "unsubstituted placeholder left in $CONF_DIR/cassandra.yaml"
    fi
    # Copied next to the yaml so the running node does not depend on the checkout.
    cp "$SCRIPT_DIR/logback.xml" "$CONF_DIR/logback.xml"
}

java_major() {
    # `java -version` prints e.g.: openjdk version "17.0.15" 2025-04-15
    "$JAVA_BIN" -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n 1
}

# JVM flags: the Java 17 set from Cassandra's conf/jvm-server.options and
# conf/jvm17-server.options, plus what bin/cassandra and cassandra-env.sh add,
# shrunk for a small dev box.
build_jvm_opts() {
    local jamm
    jamm=$(find "$LIB_DIR" -maxdepth 1 -name 'jamm-*.jar' | head -n 1)
    JVM_OPTS=(
        # Heap: small, fixed-ish; override with FEEDLINE_CASSANDRA_JVM_OPTS=-Xmx2g.
        -Xms512m -Xmx1g -Xss512k
        -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1
        -XX:MaxGCPauseMillis=300 -XX:InitiatingHeapOccupancyPercent=70
        -XX:+UseThreadPriorities -XX:+PerfDisableSharedMem
        -XX:+ExitOnOutOfMemoryError
        -ea -da:net.openhft...
        -Djava.net.preferIPv4Stack=true
        # JPMS: Cassandra 5 reaches into JDK internals (jvm17-server.options).
        -Djdk.attach.allowAttachSelf=true
        --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
        --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
        --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
        --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
        --add-exports java.sql/java.sql=ALL-UNNAMED
        --add-exports java.base/java.lang.ref=ALL-UNNAMED
        --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
        --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
        --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
        --add-opens java.base/java.lang.module=ALL-UNNAMED
        --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
        --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
        --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
        --add-opens java.base/jdk.internal.math=ALL-UNNAMED
        --add-opens java.base/jdk.internal.module=ALL-UNNAMED
        --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
        --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
        --add-opens java.base/sun.nio.ch=ALL-UNNAMED
        --add-opens java.base/java.io=ALL-UNNAMED
        --add-opens java.base/java.lang.reflect=ALL-UNNAMED
        --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
        --add-opens java.base/java.lang=ALL-UNNAMED
        --add-opens java.base/java.util=ALL-UNNAMED
        # Netty on Java 9+ (jvm17-server.options).
        -Dio.netty.tryReflectionSetAccessible=true
        -Dio.netty.allocator.useCacheForAllThreads=true
        -Dio.netty.allocator.maxOrder=11
        # Any value keeps stdout/stderr open (CassandraDaemon closes them only
        # when the property is absent), so early JVM/config errors that happen
        # before logging is up still land in logs/stdout.log.
        -Dcassandra-foreground=no
        -Dcassandra.config="file://$CONF_DIR/cassandra.yaml"
        -Dlogback.configurationFile="$CONF_DIR/logback.xml"
        -Dcassandra.logdir="$LOG_DIR"
        -Dcassandra.storagedir="$DATA"
        # Single node: nobody to gossip with, do not wait for gossip to settle.
        -Dcassandra.skip_wait_for_gossip_to_settle=0
    )
    if [[ -n $jamm ]]; then
        # jamm measures object sizes (memtable accounting) as a Java agent,
        # exactly as cassandra-env.sh loads it.
        JVM_OPTS+=("-javaagent:$jamm")
    fi
    if [[ -n $JMX_PORT && $JMX_PORT != 0 ]]; then
        # Local-only JMX (bound to localhost, no auth) so nodetool-style tools work.
        JVM_OPTS+=(-Dcassandra.jmx.local.port="$JMX_PORT")
    fi
    if [[ -n $EXTRA_JVM_OPTS ]]; then
        local extra
        read -r -a extra <<<"$EXTRA_JVM_OPTS"
        JVM_OPTS+=("${extra[@]}")
    fi
}

# --------------------------------------------------------------- commands ---
wipe_data() {
    case $DATA in
        "" | / | "${HOME:-}" | "${HOME:-}/") die "refusing to wipe '$DATA'" ;;
    esac
    # Only wipe a folder this script created (marker) or an empty one.
    if [[ -n $(ls -A "$DATA" 2>/dev/null) && ! -f $DATA/$DATA_MARKER_NAME ]]; then
        die "$DATA was not created by local.sh (no $DATA_MARKER_NAME); not wiping it"
    fi
    log "wiping data folder $DATA"
    rm -rf "${DATA:?}"
    resolve_data_dir
}

cmd_start() {
    local pid
    resolve_data_dir
    if pid=$(running_pid); then
        if [[ $RESET == 1 ]]; then
            log "FEEDLINE_CASSANDRA_RESET=1: stopping the running node (pid $pid) to wipe its data"
            cmd_stop
        else
            log "already running (pid $pid)"
            return 0
        fi
    fi
    rm -f "$PIDFILE" # stale
    if [[ $RESET == 1 ]]; then
        wipe_data
    fi

    command -v "$JAVA_BIN" >/dev/null 2>&1 || die "java not found (set JAVA or JAVA_HOME)"
    local major
    major=$(java_major)
    case $major in
        11 | 17) ;;
        *) log "warning: Cassandra 5.0 supports Java 11 and 17; '$JAVA_BIN' is Java ${major:-unknown}" ;;
    esac

    if port_open "$NATIVE_PORT"; then
        die "127.0.0.1:$NATIVE_PORT is already in use by another process (set FEEDLINE_CASSANDRA_PORT)"
    fi

    fetch_jars
    touch "$DATA/$DATA_MARKER_NAME"
    render_config
    build_jvm_opts

    log "starting Cassandra $CASS_VERSION: CQL 127.0.0.1:$NATIVE_PORT, data $DATA"
    local t0=$SECONDS
    if [[ -f $LOG_DIR/system.log ]]; then
        LOG_START_BYTE=$(wc -c <"$LOG_DIR/system.log")
    fi
    # nohup + background: the node outlives this script and ignores SIGHUP
    # (and, as an async command of a non-interactive shell, terminal SIGINT).
    # "$LIB_DIR/*" is Java's classpath wildcard: every jar in the folder.
    nohup "$JAVA_BIN" "${JVM_OPTS[@]}" -cp "$LIB_DIR/*" "$MAIN_CLASS" \
        >"$LOG_DIR/stdout.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PIDFILE"

    local deadline=$((SECONDS + START_TIMEOUT)) out
    have_driver || log "note: '$PY' cannot import cassandra-driver; waiting for the port only"
    while :; do
        if ! is_cassandra_pid "$pid"; then
            rm -f "$PIDFILE"
            show_log_tail
            die "Cassandra (pid $pid) exited during startup"
        fi
        if out=$(cql_probe); then
            log "$out"
            log "Cassandra up (pid $pid) on 127.0.0.1:$NATIVE_PORT after $((SECONDS - t0)) s"
            return 0
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail
            log "not answering after ${START_TIMEOUT}s; stopping it"
            cmd_stop || true
            die "Cassandra did not come up within ${START_TIMEOUT}s (FEEDLINE_CASSANDRA_START_TIMEOUT)"
        fi
        sleep 2
    done
}

cmd_stop() {
    local pid
    resolve_data_dir
    if ! pid=$(running_pid); then
        rm -f "$PIDFILE"
        log "not running"
        return 0
    fi
    log "stopping Cassandra (pid $pid)"
    # SIGTERM runs Cassandra's shutdown hook, which drains (flushes memtables),
    # so the next start has little commitlog to replay.
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while is_cassandra_pid "$pid" && ((SECONDS < deadline)); do
        sleep 1
    done
    if is_cassandra_pid "$pid"; then
        log "still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while is_cassandra_pid "$pid"; do sleep 1; done
    fi
    rm -f "$PIDFILE"
    log "stopped"
}

cmd_status() {
    local pid
    resolve_data_dir
    if pid=$(running_pid); then
        if port_open "$NATIVE_PORT"; then
            echo "running (pid $pid, CQL on 127.0.0.1:$NATIVE_PORT)"
        else
            echo "running (pid $pid, CQL port $NATIVE_PORT not open yet)"
        fi
        return 0
    fi
    echo "stopped"
    return 3
}

cmd_cqlsh_check() {
    local out
    if out=$(cql_probe); then
        echo "$out"
        return 0
    fi
    echo "CQL not answering on 127.0.0.1:$NATIVE_PORT" >&2
    return 1
}

cmd_reset() {
    local pid
    resolve_data_dir
    if pid=$(running_pid); then
        die "Cassandra is running (pid $pid); run '$0 stop' first"
    fi
    wipe_data
}

usage() {
    sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    cqlsh-check) cmd_cqlsh_check ;;
    reset) cmd_reset ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
esac
