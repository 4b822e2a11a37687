# Shared set-up steps for scripts/demo and scripts/test; sourced, not run.

python_311() {
    for py in "${PYTHON:-}" python3.11 python3; do
        [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
        if "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$py"; return 0
        fi
    done
    echo "error: Python 3.11 is needed (set PYTHON=/path/to/python3.11)" >&2
    return 1
}

# Create .venv and install a requirements file; skipped when nothing changed since last time.
venv() {
    local req=$1 stamp=.venv/.installed-$(basename "$1")
    # Python 3.11's own pip is recent enough for these wheels; upgrading it first cost seconds on every fresh clone.
    [ -x .venv/bin/python ] || "$(python_311)" -m venv .venv
    local want; want=$(cat requirements*.txt | sha256sum | cut -c1-16)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "installing $req into .venv ..."
        # --no-compile: pip byte-compiles every file of every wheel (pandas' own tests too); a fresh install took
        # 85 s with that and 62 s without. Python compiles the modules it imports on first use instead.
        .venv/bin/python -m pip install -q --disable-pip-version-check --no-compile -r "$req"
        echo "$want" > "$stamp"
    fi
}

apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "error: $* must be installed (sudo apt-get install $*)" >&2
        return 1
    fi
    echo "installing $* from Debian's packages ..."
    [ -n "${APT_UPDATED:-}" ] || { apt-get update -qq; APT_UPDATED=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_chromium() {
    command -v chromium >/dev/null 2>&1 || apt_install chromium chromium-driver
}

# Redis for the cache tests: the machine's on 6379 when it answers, else one started here on 6390.
ensure_redis() {
    if [ -n "${TEST_REDIS_URL:-}" ]; then return 0; fi
    if redis_answers 6379; then export TEST_REDIS_URL=redis://127.0.0.1:6379/15; return 0; fi
    command -v redis-server >/dev/null 2>&1 || apt_install redis-server
    if ! redis_answers 6390; then
        mkdir -p .data/redis
        redis-server --daemonize yes --bind 127.0.0.1 --port 6390 --save "" --appendonly no \
            --dir "$PWD/.data/redis" --logfile "$PWD/.data/redis/redis.log"
        for _ in 1 2 3 4 5 6 7 8 9 10; do redis_answers 6390 && break; sleep 0.3; done
    fi
    export TEST_REDIS_URL=redis://127.0.0.1:6390/15
}

redis_answers() {
    .venv/bin/python - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"PING\r\n")
sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
PY
}

# Mosquitto for the feed tests: the machine's on 1883 when it answers, else one started here on 18830.
ensure_mosquitto() {
    if [ -n "${TEST_MQTT_URL:-}" ]; then return 0; fi
    if mqtt_answers 1883; then export TEST_MQTT_URL=mqtt://127.0.0.1:1883; return 0; fi
    local bin; bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    [ -x "$bin" ] || { apt_install mosquitto; bin=$(command -v mosquitto || echo /usr/sbin/mosquitto); }
    if ! mqtt_answers 18830; then
        mkdir -p .data/mosquitto
        printf 'listener 18830 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nlog_dest none\n' \
            > .data/mosquitto/mosquitto.conf
        "$bin" -d -c "$PWD/.data/mosquitto/mosquitto.conf"
        for _ in 1 2 3 4 5 6 7 8 9 10; do mqtt_answers 18830 && break; sleep 0.3; done
    fi
    export TEST_MQTT_URL=mqtt://127.0.0.1:18830
}

# An MQTT CONNECT that gets a CONNACK back: a broker, not just something on the port.
mqtt_answers() {
    .venv/bin/python - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01t")
sys.exit(0 if s.recv(4)[:1] == b"\x20" else 1)
PY
}

# HAProxy and PgBouncer for the multi-host and pooling tests (tests/test_cluster.py, tests/test_pgbouncer.py);
# without root those tests say why they are skipped instead.
ensure_cluster_tools() {
    [ "$(id -u)" = 0 ] || return 0
    local missing=()
    command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
    command -v pgbouncer >/dev/null 2>&1 || missing+=(pgbouncer)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}
