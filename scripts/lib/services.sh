# Private PostgreSQL and Mosquitto instances for tests and the demo. Source this file, then:
#   services_start DIR      # starts both under DIR; sets PG_PORT PG_DSN MQTT_PORT MQTT_URL
#   services_stop           # stops what services_start started (by recorded PID only)
# PostgreSQL refuses to run as root, so as root it runs as the `postgres` system user.

pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$(( 20000 + RANDOM % 30000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

listens() {  # PORT PID: PID holds the socket listening on 127.0.0.1:PORT
    local inode
    inode=$(awk -v a="0100007F:$(printf '%04X' "$1")" '$2 == a && $4 == "0A" {print $10; exit}' /proc/net/tcp)
    [ -n "$inode" ] || return 1
    local fd  # no pipe into grep -q: under pipefail its early exit could fail the test
    for fd in "/proc/$2/fd/"*; do
        [ "$(readlink "$fd" 2>/dev/null)" = "socket:[$inode]" ] && return 0
    done
    return 1
}

pg_start() {  # DIR [PORT]
    local dir=$1 bin
    bin=$(pg_bindir)
    [ -n "$bin" ] || { echo "PostgreSQL server binaries not found" >&2; return 1; }
    PG_DIR="$dir/pg"
    mkdir -p "$PG_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PG_DIR"
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
        as_pg "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    fi
    PG_PORT=${2:-$(free_port)}
    as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-on}" start >/dev/null ||
        { tail -n 5 "$PG_DIR/postgres.log" >&2; return 1; }  # e.g. the port was taken meanwhile
    PG_DSN="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
    export PG_PORT PG_DSN PG_DIR
}

pg_stop() {
    [ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
    as_pg "$(pg_bindir)/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

mqtt_start() {  # DIR [PORT]
    local dir=$1
    MQTT_DIR="$dir/mosquitto"
    mkdir -p "$MQTT_DIR"
    MQTT_PORT=${2:-$(free_port)}
    cat >"$MQTT_DIR/mosquitto.conf" <<CONF
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
log_dest stdout
CONF
    mosquitto -c "$MQTT_DIR/mosquitto.conf" >"$MQTT_DIR/mosquitto.log" 2>&1 &
    MQTT_PID=$!
    echo "$MQTT_PID" >"$MQTT_DIR/mosquitto.pid"
    # Wait (bounded, 20 s) until the listening socket on the port is ours: someone else may
    # have taken the port between free_port and the bind, and then ours exits.
    local i
    for ((i = 0; i < 400; i++)); do
        listens "$MQTT_PORT" "$MQTT_PID" && break
        kill -0 "$MQTT_PID" 2>/dev/null || break
        sleep 0.05
    done
    listens "$MQTT_PORT" "$MQTT_PID" || { cat "$MQTT_DIR/mosquitto.log" >&2; return 1; }
    MQTT_URL="mqtt://127.0.0.1:$MQTT_PORT"
    export MQTT_PORT MQTT_URL MQTT_PID MQTT_DIR
}

mqtt_stop() {
    if [ -n "${MQTT_PID:-}" ] && kill -0 "$MQTT_PID" 2>/dev/null; then
        kill "$MQTT_PID" 2>/dev/null || true
        wait "$MQTT_PID" 2>/dev/null || true
    fi
}

services_start() {
    pg_start "$1" "${2:-}" && mqtt_start "$1" "${3:-}"
}

services_stop() {
    mqtt_stop
    pg_stop
}
