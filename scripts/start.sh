#!/usr/bin/env bash
# `npm start`: prepare the machine, then run every service and one local agent in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}" PGDATABASE="${PGDATABASE:-tangerine}"
export LOG_FORMAT="${LOG_FORMAT:-pretty}" HOST_ID="${HOST_ID:-local}"
exec node services/combined/dist/main.js
