#!/usr/bin/env bash
# `npm start`: prepare the machine, then run every service and one local agent in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}" PGDATABASE="${PGDATABASE:-tangerine}"
export LOG_FORMAT="${LOG_FORMAT:-pretty}" HOST_ID="${HOST_ID:-local}"
# The README's examples mount from /tmp and the state directory, and run local processes (as AGENT_PROCESS_USER).
STATE_DIR="${TANGERINE_STATE_DIR:-/var/tmp/tangerine}"
export VOLUMES_ALLOWED="${VOLUMES_ALLOWED-$STATE_DIR,/tmp}" AGENT_VOLUMES="${AGENT_VOLUMES-$STATE_DIR,/tmp}"
export AGENT_EXECUTORS="${AGENT_EXECUTORS:-docker,process}"
exec node services/combined/dist/main.js
