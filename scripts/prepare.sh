#!/usr/bin/env bash
# Brings a fresh Debian machine (or an existing set-up) to the point where Tangerine runs and its tests pass:
# npm packages, the build, and NATS (JetStream), PostgreSQL and a Docker engine, each installed from Debian and
# started only when not already installed and reachable. Servers named by NATS_URL / DATABASE_URL / PG* / DOCKER_HOST
# are used as they are. Idempotent: run it as often as you like.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE_DIR="${TANGERINE_STATE_DIR:-/var/tmp/tangerine}"
mkdir -p "$STATE_DIR"
log() { printf '\033[1;33m[prepare]\033[0m %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

apt_install() {
  [ "$(id -u)" = 0 ] || { log "need root to apt-get install $*; install them or point the env variables at running servers"; exit 1; }
  if [ ! -f "$STATE_DIR/.apt-updated" ]; then apt-get update -qq && touch "$STATE_DIR/.apt-updated"; fi
  log "installing $* from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- npm packages and the build ------------------------------------------------------------------------------
if [ ! -d node_modules/.bin ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm install --no-audit --no-fund --loglevel=error
fi
log "building"
npx turbo run build --output-logs=errors-only >/dev/null || npx turbo run build --output-logs=errors-only

# --- NATS with JetStream -------------------------------------------------------------------------------------
NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
nats_hostport="${NATS_URL#nats://}"; nats_hostport="${nats_hostport%%,*}"; nats_hostport="${nats_hostport##*@}"
nats_host="${nats_hostport%%:*}"; nats_port="${nats_hostport##*:}"
have nats-server || apt_install nats-server
# Tangerine's NATS identities (one nkey user per service, the local agent, submitter, operator, admin): made once,
# kept in the state directory; the server started here checks them (TANGERINE_NATS_AUTH=off starts it open).
IDENTITIES="${TANGERINE_IDENTITIES:-$STATE_DIR/nats-identities}"
auth_before=$(cksum <"$IDENTITIES/auth.conf" 2>/dev/null || true)
node libs/bus/dist/identities-cli.js init "$IDENTITIES" --host "${HOST_ID:-local}" >/dev/null
# Local autoscaling (AUTOSCALER_PROVIDER=local): the pool of host ids its agents take, each agent's identity made
# here with the others, since the autoscaler never writes nats-server's configuration (services/autoscaler README).
if [ "${AUTOSCALER_PROVIDER:-}" = local ]; then
  for i in $(seq 1 "${LOCAL_SCALE_LIMIT:-4}"); do
    node libs/bus/dist/identities-cli.js agent "$IDENTITIES" "${LOCAL_HOST_PREFIX:-auto}-$i" >/dev/null
  done
fi
# A newer Tangerine grants its identities more (a new stream, a new subject): the server this script started earlier
# is told to read its configuration again, or it would refuse what the new code does.
nats_pid=$(cat "$STATE_DIR/nats.pid" 2>/dev/null || true)
if [ -n "$nats_pid" ] && kill -0 "$nats_pid" 2>/dev/null && [ "$auth_before" != "$(cksum <"$IDENTITIES/auth.conf")" ]; then
  log "the identities' permissions changed: nats-server (pid $nats_pid) reloads its configuration"
  kill -HUP "$nats_pid"
fi
# JetStream is declared in the file, not by -js: a reload (new identities) applies the file alone, and nats-server
# 2.9 shuts JetStream down when the file does not enable it.
printf 'jetstream { store_dir: "%s" }\ninclude "auth.conf"\n' "$STATE_DIR/nats" >"$IDENTITIES/server.conf"
# The key that seals secret env values in the ledger (SECRETS_KEY_FILE for npm start's intake and placer).
if [ ! -s "$STATE_DIR/secrets.key" ]; then
  (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$STATE_DIR/secrets.key")
fi
# The HTTP API's token list (API_TOKENS_FILE for npm start's api): one write token, made once, readable by its owner.
if [ ! -s "$STATE_DIR/api-tokens" ]; then
  (umask 077 && printf '# <token> <read|write> [<name>], one a line (README: HTTP API)\n%s write local\n' \
    "$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')" >"$STATE_DIR/api-tokens")
fi
if [ "${TANGERINE_SKIP_NATS:-}" != 1 ] && ! port_open "$nats_host" "$nats_port"; then
  auth=(-c "$IDENTITIES/server.conf" -P "$STATE_DIR/nats.pid")
  [ "${TANGERINE_NATS_AUTH:-on}" = off ] && auth=(-js -sd "$STATE_DIR/nats")
  log "starting nats-server -js on $nats_host:$nats_port (store in $STATE_DIR/nats, identities ${TANGERINE_NATS_AUTH:-on})"
  mkdir -p "$STATE_DIR/nats"
  setsid nohup nats-server "${auth[@]}" -a "$nats_host" -p "$nats_port" >"$STATE_DIR/nats.log" 2>&1 &
  for _ in $(seq 50); do port_open "$nats_host" "$nats_port" && break; sleep 0.1; done
fi

# --- PostgreSQL ----------------------------------------------------------------------------------------------
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$PGBIN" ] || ! have psql; then apt_install postgresql postgresql-contrib; PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); fi
if [ -z "${DATABASE_URL:-}" ]; then
  pg_host="${PGHOST:-127.0.0.1}"; pg_port="${PGPORT:-5432}"
  if ! port_open "$pg_host" "$pg_port"; then
    data="$STATE_DIR/pg"
    if [ ! -f "$data/PG_VERSION" ]; then
      log "creating a PostgreSQL cluster in $data"
      mkdir -p "$data" && chown postgres:postgres "$data" && chmod 700 "$data"
      chmod o+x "$STATE_DIR"
      su postgres -s /bin/sh -c "$PGBIN/initdb -D '$data' -U postgres --auth=trust -E UTF8 >/dev/null"
      cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$data'
max_connections = 300
shared_buffers = 256MB
fsync = on
synchronous_commit = off
shared_preload_libraries = 'pg_stat_statements'
autovacuum_naptime = 5s
CONF
    fi
    log "starting PostgreSQL on $pg_host:$pg_port"
    su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D '$data' -l '$data/server.log' -w start >/dev/null"
    # A burst of tasks changes the ledger's tables within seconds; the default 60 s leaves the planner with the
    # statistics of empty tables for the whole burst (see libs/ledger/migrations/005_statistics.sql).
    psql -h "$pg_host" -p "$pg_port" -U postgres -d postgres -qAt \
      -c "ALTER SYSTEM SET autovacuum_naptime = '5s'" -c "SELECT pg_reload_conf()" >/dev/null
  fi
  export PGHOST="$pg_host" PGPORT="$pg_port" PGUSER="${PGUSER:-postgres}"
  db="${PGDATABASE:-tangerine}"
  if ! psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    psql -d postgres -qc "CREATE DATABASE \"$db\"" >/dev/null
  fi
fi

# --- Docker engine -------------------------------------------------------------------------------------------
if [ "${TANGERINE_SKIP_DOCKER:-}" != 1 ]; then
  # A docker CLI alone is no engine: without DOCKER_HOST, install Debian's engine when dockerd is missing.
  if [ -z "${DOCKER_HOST:-}" ]; then have dockerd || apt_install docker.io; else have docker || apt_install docker.io; fi
  if ! docker info >/dev/null 2>&1; then
    if [ -z "${DOCKER_HOST:-}" ] && have dockerd; then
      log "starting dockerd"
      setsid nohup dockerd >"$STATE_DIR/dockerd.log" 2>&1 &
      for _ in $(seq 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
    fi
  fi
  docker info >/dev/null 2>&1 || { log "no Docker engine answers (see $STATE_DIR/dockerd.log)"; exit 1; }
  # No registry is reachable here: tests and examples use a busybox image made from Debian's busybox-static.
  if ! docker image inspect tangerine-test/busybox:latest >/dev/null 2>&1; then
    have busybox || [ -x /bin/busybox ] || apt_install busybox-static
    bin=$(command -v busybox || echo /bin/busybox)
    root=$(mktemp -d)
    mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/data"
    cp "$bin" "$root/bin/busybox"
    for applet in $("$root/bin/busybox" --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
    chmod 1777 "$root/tmp"
    tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' - tangerine-test/busybox:latest >/dev/null
    rm -rf "$root"
    log "built image tangerine-test/busybox:latest"
  fi
fi
# --- A browser for the status page's tests (test/src/e2e/status-page.test.ts drives it headless) ----------------
# Debian's chromium: no browser download is possible where the tests run. TANGERINE_SKIP_BROWSER=1 leaves it out.
if [ "${TANGERINE_SKIP_BROWSER:-}" != 1 ]; then
  have chromium || apt_install chromium
fi
log "ready"
